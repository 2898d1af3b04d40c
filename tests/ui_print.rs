//! Print options in the dashboard, driven through the real App by labels
//! (egui_kittest, headless): the bulk export window's PDF options, its
//! first-page preview with the proof's verdict, and the link detail's PDF
//! and logo export with "Scan verified" or the reason it failed.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::ui::{harness, replace_in, settle, wait_for, wait_still};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use refboard::model::{ChannelKind, NewCampaign, NewLink, NewPage};
use refboard::print::LabelPreset;
use refboard::store::Store;
use refboard::ui::{App, UiState};
use std::path::{Path, PathBuf};

/// Jasper's Market with a campaign, a channel and `refs` as links.
fn with_links(dir: &Path, refs: &[&str]) -> PathBuf {
    let path = dir.join("ui.db");
    let mut store = Store::open(&path).unwrap();
    let page = store
        .add_page(&NewPage::parse("JaspersMarket", Some("Jasper's Market"), None).unwrap())
        .unwrap();
    store
        .add_channel(page.id, "Flyer", ChannelKind::Email)
        .unwrap();
    store
        .add_campaign(
            page.id,
            &NewCampaign::parse("Spring Sale", None, None, None).unwrap(),
        )
        .unwrap();
    for r in refs {
        let (l, _) = NewLink::parse(r, Some("Get 10% off in Messenger"), None, None).unwrap();
        store.add_link(page.id, 1, 1, &l).unwrap();
    }
    path
}

/// A small dark-blue PNG logo.
fn logo_png(path: &Path) {
    image::RgbaImage::from_fn(48, 48, |x, y| {
        if (8..40).contains(&x) && (8..40).contains(&y) {
            image::Rgba([0x10, 0x30, 0x90, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    })
    .save(path)
    .unwrap();
}

/// Picks `option` in the combo box labelled `combo`.
fn pick(h: &mut Harness<'static, App>, combo: &str, option: &str) {
    wait_still(h, combo);
    h.get_by_label(combo).click();
    settle(h);
    h.get_by_label(option).click();
    settle(h);
}

/// Asks for a first-page preview and waits until one of the current
/// options is shown, verified.
fn preview_verified(h: &mut Harness<'static, App>, what: &str) {
    wait_still(h, "Preview first page");
    h.get_by_label("Preview first page").click();
    wait_for(h, what, |h| {
        h.query_by_label_contains("The options changed").is_none()
            && h.query_by_label_contains("Scan verified").is_some()
    });
}

#[test]
fn bulk_export_window_previews_the_first_pdf_page_then_writes_the_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &["flyer_a", "flyer_b", "flyer_c"]);
    let logo = dir.path().join("logo.png");
    logo_png(&logo);
    let out = dir.path().join("print");
    let mut h = harness(&db, UiState::default());
    wait_for(&mut h, "links", |h| h.state().snap.links.len() == 3);
    h.get_by_label("Bulk export…").click();
    settle(&mut h);
    replace_in(&mut h, "Folder", out.to_str().unwrap());
    replace_in(&mut h, "Logo for all codes", logo.to_str().unwrap());
    // Every print option is a labelled control.
    for label in [
        "Print sheet",
        "Layout",
        "Paper",
        "Codes per row",
        "Title line",
        "Cut marks",
        "Ref in the footer",
        "Captions under the codes",
    ] {
        h.get_by_label(label);
    }
    h.get_by_label("Cut marks").click();
    settle(&mut h);
    h.get_by_label("Preview first page").click();
    wait_for(&mut h, "the preview", |h| {
        h.query_by_label_contains("Scan verified").is_some()
            || h.query_by_label_contains("No preview").is_some()
    });
    h.get_by_label_contains("Preview of page 1 (3 link(s) in all)");
    h.get_by_label_contains("Scan verified: every code on page 1");
    assert!(!out.exists(), "a preview writes nothing");

    // Labels: the paper follows the sheet, and the preview is made again.
    pick(&mut h, "Layout", "Sticker sheet");
    h.get_by_label("Label sheet");
    h.get_by_label_contains("The options changed");
    preview_verified(&mut h, "the labels preview");

    // A printer offset reaches the layout: one that would push 5160's labels
    // (4.76 mm side margin) off the paper is named in the preview, and a
    // small one previews, scans and exports.
    pick(
        &mut h,
        "Label sheet",
        "Avery 5160 (30 per sheet, US Letter)",
    );
    h.get_by_label("Printer offset right (mm)")
        .set_value_accesskit(-5.0);
    wait_still(&mut h, "Preview first page");
    h.get_by_label("Preview first page").click();
    wait_for(&mut h, "the refused offset", |h| {
        h.query_by_label_contains("No preview").is_some()
    });
    h.get_by_label_contains("offset-x-mm");
    h.get_by_label_contains("4.76 mm from the paper's left edge");
    h.get_by_label("Printer offset right (mm)")
        .set_value_accesskit(1.5);
    h.get_by_label("Printer offset down (mm)")
        .set_value_accesskit(-1.0);
    settle(&mut h);
    preview_verified(&mut h, "the offset preview");
    // The offset fields belong to label sheets: a grid ignores the values
    // kept in the form instead of refusing them.
    pick(&mut h, "Layout", "Grid of codes");
    assert!(h.query_by_label("Printer offset right (mm)").is_none());
    preview_verified(&mut h, "the grid preview");
    pick(&mut h, "Layout", "Sticker sheet");
    preview_verified(&mut h, "the labels preview again");

    wait_still(&mut h, "Export");
    h.get_by_label("Export").click();
    let pdf = out.join("sheet.pdf");
    wait_for(&mut h, "sheet.pdf", |_| pdf.exists());
    wait_for(&mut h, "the export to finish", |h| h.state().job.is_none());
    let csv = std::fs::read_to_string(out.join("links.csv")).unwrap();
    assert_eq!(
        csv.lines().filter(|l| l.ends_with(",yes")).count(),
        3,
        "{csv}"
    );
    // The PNGs carry the logo (RGB, not the two-colour palette) and scan.
    for r in ["flyer_a", "flyer_b", "flyer_c"] {
        let png = out.join(format!("{r}.png"));
        assert_eq!(
            common::decode_one(&png),
            format!("https://m.me/JaspersMarket?ref={r}")
        );
        assert_eq!(std::fs::read(&png).unwrap()[25], 2, "RGB with the logo");
    }
    // The offset belongs to the printer: it is saved, and the next run's
    // bulk export window starts with it.
    let saved = h.state().ui_state();
    assert_eq!(
        (
            saved.print.label,
            saved.print.offset_x_mm,
            saved.print.offset_y_mm
        ),
        (LabelPreset::Avery5160, 1.5, -1.0)
    );
    drop(h);
    let mut h = harness(&db, saved);
    wait_for(&mut h, "links after a restart", |h| {
        h.state().snap.links.len() == 3
    });
    h.get_by_label("Bulk export…").click();
    settle(&mut h);
    let right = h.get_by_label("Printer offset right (mm)");
    assert_eq!(right.accesskit_node().numeric_value(), Some(1.5));
}

/// In a 640×480 window the preview shrinks so that the whole bulk export
/// window, Export and Cancel included, stays on screen.
#[test]
fn bulk_export_window_fits_640_by_480_with_its_preview() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &["flyer_a", "flyer_b"]);
    let mut h = common::ui::harness_sized(&db, UiState::default(), 640.0, 480.0);
    wait_for(&mut h, "links", |h| h.state().snap.links.len() == 2);
    h.get_by_label("Bulk export…").click();
    settle(&mut h);
    pick(&mut h, "Layout", "Sticker sheet");
    pick(
        &mut h,
        "Label sheet",
        "Avery 22806 (12 per sheet, US Letter)",
    );
    preview_verified(&mut h, "the preview");
    for button in ["Export", "Cancel", "Preview first page"] {
        let rect = h.get_by_label(button).rect();
        assert!(
            rect.min.y >= 0.0 && rect.max.y <= 480.0,
            "{button} at {rect:?} is off a 640×480 window"
        );
    }
}

#[test]
fn bulk_export_preview_says_why_a_missing_logo_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &["flyer_a"]);
    let mut h = harness(&db, UiState::default());
    wait_for(&mut h, "links", |h| h.state().snap.links.len() == 1);
    h.get_by_label("Bulk export…").click();
    settle(&mut h);
    replace_in(&mut h, "Folder", dir.path().join("out").to_str().unwrap());
    replace_in(&mut h, "Logo for all codes", "/nonexistent/logo.png");
    h.get_by_label("Preview first page").click();
    wait_for(&mut h, "the preview's answer", |h| {
        h.query_by_label_contains("No preview").is_some()
    });
    h.get_by_label_contains("No preview: invalid logo \"/nonexistent/logo.png\"");
}

#[test]
fn link_detail_exports_a_pdf_flyer_with_a_logo_and_says_scan_verified() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &["flyer_a"]);
    let logo = dir.path().join("logo.png");
    logo_png(&logo);
    let mut h = harness(&db, UiState::default());
    wait_for(&mut h, "links", |h| h.state().snap.links.len() == 1);
    h.get_by_label("flyer_a").click();
    settle(&mut h);
    // A logo that is not there: the panel says why nothing was written.
    let missing = dir.path().join("missing.png");
    replace_in(&mut h, "Logo file", missing.to_str().unwrap());
    let pdf = dir.path().join("flyer_a.pdf");
    replace_in(&mut h, "Save to", pdf.to_str().unwrap());
    h.get_by_label("Export QR").click();
    wait_for(&mut h, "the refusal", |h| {
        h.query_by_label_contains("Not written").is_some()
    });
    h.get_by_label_contains(&format!(
        "Not written: invalid logo \"{}\"",
        missing.display()
    ));
    assert!(!pdf.exists());

    replace_in(&mut h, "Logo file", logo.to_str().unwrap());
    h.get_by_label("Export QR").click();
    wait_for(&mut h, "scan verified", |h| {
        h.query_by_label_contains("Scan verified").is_some()
    });
    assert!(pdf.exists());
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    // Rasterised by poppler and decoded.
    let png_dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("pdftoppm")
        .args(["-r", "150", "-gray", "-png", "-singlefile"])
        .arg(&pdf)
        .arg(png_dir.path().join("page"))
        .status()
        .expect("pdftoppm (poppler-utils) must be installed");
    assert!(status.success());
    let page = std::fs::read(png_dir.path().join("page.png")).unwrap();
    assert_eq!(
        common::decode_png(&page),
        vec!["https://m.me/JaspersMarket?ref=flyer_a".to_string()]
    );
}
