//! Issue 19, defect 9: label text wraps before it is cut, two different
//! links never print the same visible text, no call to action is made up,
//! and "copies per link" fills a sheet. Sheets are rasterised by poppler's
//! `pdftoppm` and every code decoded (rqrr); words read by `pdftotext`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use refboard::codes::QrStyle;
use refboard::model::ExportItem;
use refboard::print::{LabelPreset, Paper, PrintLayout, PrintOptions, render_pdf};
use std::path::{Path, PathBuf};

/// Rasterises every page of a PDF with poppler's `pdftoppm` (grey, `dpi`)
/// and returns the pages' PNG bytes in page order.
fn pdf_pages(pdf: &Path, dpi: u32) -> Vec<Vec<u8>> {
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-gray", "-png"])
        .arg(pdf)
        .arg(out.path().join("page"))
        .status()
        .expect("pdftoppm (Debian poppler-utils) must be installed; .ci/run installs it");
    assert!(status.success(), "pdftoppm failed on {}", pdf.display());
    let mut pages: Vec<PathBuf> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // page-1.png … page-10.png: sort by the number, not the text.
    pages.sort_by_key(|p| {
        p.file_stem()
            .unwrap()
            .to_string_lossy()
            .rsplit('-')
            .next()
            .unwrap()
            .parse::<u32>()
            .unwrap()
    });
    pages.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Rasterises a PDF with pdftoppm and decodes each placed code from its own
/// box on its page (quiet zone included): rqrr mixes up finder patterns of
/// neighbouring codes when it is given a whole page of them.
fn decode_each_code(pdf: &Path, placed: &refboard::print::PdfOutput, dpi: u32) -> Vec<String> {
    let pages: Vec<image::GrayImage> = pdf_pages(pdf, dpi)
        .iter()
        .map(|p| image::load_from_memory(p).unwrap().to_luma8())
        .collect();
    assert_eq!(pages.len(), placed.pages, "page count");
    let px = f64::from(dpi) / 72.0;
    placed
        .codes
        .iter()
        .map(|code| {
            let page = &pages[code.page];
            let quiet = 4.0 * code.module;
            let x0 = code.rects.iter().map(|r| r[0]).fold(f64::MAX, f64::min) - quiet;
            let y0 = code.rects.iter().map(|r| r[1]).fold(f64::MAX, f64::min) - quiet;
            let x1 = code.rects.iter().map(|r| r[0] + r[2]).fold(0.0, f64::max) + quiet;
            let y1 = code.rects.iter().map(|r| r[1] + r[3]).fold(0.0, f64::max) + quiet;
            let (cx, cy) = ((x0 * px).max(0.0) as u32, (y0 * px).max(0.0) as u32);
            let cw = ((x1 * px) as u32).min(page.width()) - cx;
            let ch = ((y1 * px) as u32).min(page.height()) - cy;
            let crop = image::imageops::crop_imm(page, cx, cy, cw, ch).to_image();
            let mut prepared = rqrr::PreparedImage::prepare(crop);
            let grids = prepared.detect_grids();
            if grids.len() != 1 {
                let _ = image::imageops::crop_imm(page, cx, cy, cw, ch)
                    .to_image()
                    .save("/tmp/failed-crop.png");
            }
            assert_eq!(grids.len(), 1, "one code in the box of {}", code.ref_code);
            grids[0]
                .decode()
                .unwrap_or_else(|e| panic!("{} does not decode: {e:?}", code.ref_code))
                .1
        })
        .collect()
}

/// The resolution that gives the sheet's smallest module `module_px`
/// pixels, and at least 300 dpi.
fn dpi_for(placed: &refboard::print::PdfOutput, module_px: f64) -> u32 {
    let smallest_pt = placed
        .codes
        .iter()
        .map(|c| c.module)
        .fold(f64::MAX, f64::min);
    ((module_px * 72.0 / smallest_pt).ceil() as u32).max(300)
}

fn item(ref_code: &str, channel: &str, cta: &str) -> ExportItem {
    ExportItem {
        page_name: "Jasper's Market".into(),
        campaign: "Spring Sale".into(),
        channel: channel.into(),
        ref_code: ref_code.into(),
        url: format!("https://m.me/JaspersMarket?ref={ref_code}"),
        cta: cta.into(),
    }
}

/// The walk's sheet: three links of Spring Sale, two of them on the
/// Newsletter, one with no call to action.
fn walk_items() -> Vec<ExportItem> {
    vec![
        item(
            "spring_sale-newsletter",
            "Newsletter",
            "Get 10% off in Messenger",
        ),
        item("spring_sale_vip", "Newsletter", ""),
        item(
            "spring_sale-shop_counter",
            "Shop counter",
            "Scan for 10% off",
        ),
    ]
}

fn l7160(copies: u32) -> PrintOptions {
    PrintOptions {
        layout: PrintLayout::Labels,
        paper: Paper::A4,
        label: LabelPreset::L7160,
        copies,
        ..PrintOptions::default()
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
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

/// The text printed in each label, in the order of the codes: each text
/// block goes to the nearest code on its left whose rows it shares (the
/// text sits beside the code on an L7160 label).
fn label_texts(out: &refboard::print::PdfOutput) -> Vec<String> {
    let boxes: Vec<(usize, f64, f64, f64)> = out
        .codes
        .iter()
        .map(|c| {
            let x = c.rects.iter().map(|r| r[0]).fold(f64::MAX, f64::min);
            let y0 = c.rects.iter().map(|r| r[1]).fold(f64::MAX, f64::min);
            let y1 = c.rects.iter().map(|r| r[1] + r[3]).fold(0.0, f64::max);
            (c.page, x, y0 - 8.0 * c.module, y1 + 8.0 * c.module)
        })
        .collect();
    let mut texts = vec![Vec::new(); boxes.len()];
    for t in &out.texts {
        let (tx, ty) = (t.bbox[0], t.bbox[1] + t.bbox[3] / 2.0);
        let owner = boxes
            .iter()
            .enumerate()
            .filter(|(_, b)| b.0 == t.page && b.1 <= tx && b.2 <= ty && ty <= b.3)
            .min_by(|a, b| (tx - a.1.1).total_cmp(&(tx - b.1.1)));
        if let Some((i, _)) = owner {
            texts[i].extend(t.lines.clone());
        }
    }
    texts.into_iter().map(|l| l.join(" ")).collect()
}

#[test]
fn label_footers_wrap_instead_of_being_cut_and_two_links_read_differently() {
    let dir = tempfile::tempdir().unwrap();
    // A fourth link that says what the first says, on the same channel.
    let mut items = walk_items();
    items.push(item(
        "spring_sale-newsletter_b",
        "Newsletter",
        "Get 10% off in Messenger",
    ));
    let out = render_pdf(&items, &l7160(1), &QrStyle::default()).unwrap();
    let pdf = write(dir.path(), "sheet.pdf", &out.bytes);
    let text = pdf_text(&pdf);
    assert!(!text.contains('…'), "nothing cut: {text}");
    assert!(out.notes.is_empty(), "{:?}", out.notes);
    assert!(
        !text.contains("Scan to chat on Messenger"),
        "no made-up call to action: {text}"
    );
    let texts = label_texts(&out);
    assert_eq!(texts.len(), 4);
    for (i, t) in texts.iter().enumerate() {
        assert!(t.contains("Spring Sale · "), "{t}");
        for u in &texts[i + 1..] {
            assert_ne!(t, u, "two links, two texts");
        }
    }
    assert!(texts[2].contains("Shop counter"), "{}", texts[2]);
    // The twins name their refs; the others need not.
    // (A ref wider than the label wraps at its '-' or '_'.)
    let joined = |t: &str| t.replace(' ', "");
    assert!(
        joined(&texts[0]).contains("spring_sale-newsletter"),
        "{}",
        texts[0]
    );
    assert!(
        joined(&texts[3]).contains("spring_sale-newsletter_b"),
        "{}",
        texts[3]
    );
    assert!(!texts[1].contains("spring_sale_vip"), "{}", texts[1]);
    let mut decoded = decode_each_code(&pdf, &out, dpi_for(&out, 4.0));
    decoded.sort();
    let mut want: Vec<String> = items.into_iter().map(|i| i.url).collect();
    want.sort();
    assert_eq!(decoded, want);
}

#[test]
fn copies_per_link_fill_a_sheet_and_every_copy_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let out = render_pdf(&walk_items(), &l7160(7), &QrStyle::default()).unwrap();
    assert_eq!(out.pages, 1, "3 links × 7 copies = one full L7160 sheet");
    assert_eq!(out.codes.len(), 21);
    let pdf = write(dir.path(), "copies.pdf", &out.bytes);
    let decoded = decode_each_code(&pdf, &out, dpi_for(&out, 4.0));
    for i in walk_items() {
        assert_eq!(
            decoded.iter().filter(|d| **d == i.url).count(),
            7,
            "{}",
            i.ref_code
        );
    }
    // One more copy spills onto a second sheet; zero copies is refused.
    let out = render_pdf(&walk_items(), &l7160(8), &QrStyle::default()).unwrap();
    assert_eq!((out.pages, out.codes.len()), (2, 24));
    let err = render_pdf(&walk_items(), &l7160(0), &QrStyle::default()).unwrap_err();
    assert!(err.to_string().contains("copies"), "{err}");
}
