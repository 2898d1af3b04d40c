//! Issue 19, delivery 4 ("Print choices in view"), through the real App:
//! the link panel's format and paper choices, the flyer's page name and
//! call to action, and the bulk export window's words and its end.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::ui::{harness, settle, wait_for, wait_still};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use refboard::model::{ChannelKind, NewCampaign, NewLink, NewPage};
use refboard::store::Store;
use refboard::ui::{App, UiState};
use std::path::{Path, PathBuf};

/// Jasper's Market with `links` (ref, call to action).
fn with_links(dir: &Path, links: &[(&str, &str)]) -> PathBuf {
    let path = dir.join("ui.db");
    let mut store = Store::open(&path).unwrap();
    let page = store
        .add_page(&NewPage::parse("JaspersMarket", Some("Jasper's Market"), None).unwrap())
        .unwrap();
    store
        .add_channel(page.id, "Shop counter", ChannelKind::Flyer)
        .unwrap();
    store
        .add_campaign(
            page.id,
            &NewCampaign::parse("Spring Sale", None, None, None).unwrap(),
        )
        .unwrap();
    for (r, cta) in links {
        let cta = Some(*cta).filter(|c| !c.is_empty());
        let (l, _) = NewLink::parse(r, cta, None, None).unwrap();
        store.add_link(page.id, 1, 1, &l).unwrap();
    }
    path
}

/// Picks `option` in the combo box labelled `combo`.
fn pick(h: &mut Harness<'static, App>, combo: &str, option: &str) {
    wait_still(h, combo);
    h.get_by_label(combo).click();
    settle(h);
    h.get_by_label(option).click();
    settle(h);
}

fn pdf_text(pdf: &Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// (width, height) of the first page in points, from poppler's pdfinfo.
fn pdf_page_pt(pdf: &Path) -> (f64, f64) {
    let out = std::process::Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("pdfinfo (poppler-utils) must be installed");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = text.lines().find(|l| l.starts_with("Page size:")).unwrap();
    let nums: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (nums[0], nums[1])
}

fn wait_file(h: &mut Harness<'static, App>, path: &Path) {
    wait_for(h, &path.display().to_string(), |_| path.exists());
    wait_for(h, "scan verified", |h| {
        h.query_by_label_contains("Scan verified").is_some()
    });
}

/// Defect 9: PDF was reachable only by typing `.pdf`, Size (px) stayed in
/// view, there was no paper choice, and the flyer printed the username.
#[test]
fn the_link_panel_offers_format_and_paper_and_the_flyer_names_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &[("spring", "Get 10% off in Messenger")]);
    let state = UiState {
        export_folder: dir.path().display().to_string(),
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    wait_for(&mut h, "links", |h| h.state().snap.links.len() == 1);
    h.get_by_label("spring").click();
    settle(&mut h);
    h.get_by_label("Size (px)");
    assert!(h.query_by_label("Flyer paper").is_none());
    pick(&mut h, "Format", "PDF flyer");
    // A flyer has no pixel size; it has a paper.
    assert!(h.query_by_label("Size (px)").is_none());
    pick(&mut h, "Flyer paper", "US Letter");
    let pdf = dir.path().join("spring.pdf");
    wait_still(&mut h, "Export QR");
    h.get_by_label("Export QR").click();
    wait_file(&mut h, &pdf);
    let text = pdf_text(&pdf);
    assert!(text.contains("Jasper's Market"), "{text}");
    let (w, hgt) = pdf_page_pt(&pdf);
    assert!(
        (w - 612.0).abs() < 1.0 && (hgt - 792.0).abs() < 1.0,
        "{w}×{hgt}"
    );
}

/// Defect 9: a link with no call to action silently got "Chat with us on
/// Messenger". The panel says it is missing, and the flyer invents nothing.
#[test]
fn a_flyer_without_a_call_to_action_says_so_and_invents_none() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &[("plain", "")]);
    let state = UiState {
        export_folder: dir.path().display().to_string(),
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    wait_for(&mut h, "links", |h| h.state().snap.links.len() == 1);
    h.get_by_label("plain").click();
    settle(&mut h);
    pick(&mut h, "Format", "PDF flyer");
    h.get_by_label_contains("This flyer has no call to action");
    let pdf = dir.path().join("plain.pdf");
    wait_still(&mut h, "Export QR");
    h.get_by_label("Export QR").click();
    wait_file(&mut h, &pdf);
    let text = pdf_text(&pdf);
    assert!(!text.contains("Chat with us"), "{text}");
    assert!(text.contains("Jasper's Market"), "{text}");
}

/// Defect 9: the bulk window showed raw values ("a4", "grid", "l7160") and
/// stayed with "Cancel" after a successful export, offering no folder.
#[test]
fn the_bulk_window_speaks_in_words_and_ends_with_open_folder() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &[("a", "Get A"), ("b", "Get B")]);
    let out = dir.path().join("print");
    let state = UiState {
        export_dir: out.display().to_string(),
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    wait_for(&mut h, "links", |h| h.state().snap.links.len() == 2);
    h.get_by_label("Bulk export…").click();
    settle(&mut h);
    pick(&mut h, "Layout", "Sticker sheet");
    let value = |h: &Harness<'static, App>, combo: &str| h.get_by_label(combo).value();
    assert_eq!(
        value(&h, "Label sheet").as_deref(),
        Some("Avery L7160 (21 per sheet, A4)")
    );
    assert_eq!(value(&h, "Layout").as_deref(), Some("Sticker sheet"));
    assert_eq!(value(&h, "Print sheet").as_deref(), Some("PDF"));
    for raw in [
        "a4",
        "grid",
        "labels",
        "l7160",
        "l7160 (3 × 7, a4)",
        "letter",
    ] {
        assert!(
            h.query_by_label(raw).is_none(),
            "a raw value {raw:?} is shown"
        );
    }
    pick(&mut h, "Layout", "Grid of codes");
    assert_eq!(value(&h, "Paper").as_deref(), Some("A4"));
    pick(&mut h, "Layout", "Sticker sheet");
    h.get_by_label("21 labels a sheet");
    h.get_by_label("Copies per link").set_value_accesskit(7.0);
    settle(&mut h);
    wait_still(&mut h, "Export");
    h.get_by_label("Export").click();
    wait_for(&mut h, "the export to end", |h| {
        h.query_by_label_contains("Done: Exported").is_some()
    });
    // 2 links × 7 copies: 14 labels, each with its link.
    let text = pdf_text(&out.join("sheet.pdf"));
    assert_eq!(text.matches("m.me/JaspersMarket").count(), 14, "{text}");
    assert!(
        h.query_by_label("Cancel").is_none(),
        "nothing left to cancel"
    );
    wait_still(&mut h, "Open folder");
    h.get_by_label("Open folder").click();
    // The desktop opens it (eframe's open_url); the UI only asks.
    let want = format!("file://{}", out.display());
    let mut asked = false;
    for _ in 0..5 {
        h.step();
        asked |= h
            .output()
            .platform_output
            .commands
            .iter()
            .any(|c| matches!(c, egui::OutputCommand::OpenUrl(u) if u.url == want));
    }
    assert!(asked, "Open folder asks the desktop to open {want}");
    h.get_by_label("Close").click();
    settle(&mut h);
    assert!(h.query_by_label("Open folder").is_none());
}
