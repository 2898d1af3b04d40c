//! Print and file-safety tests of `refboard qr` and `refboard export`: the
//! built binary on a real database in a temp dir, every written code decoded
//! with a real decoder (rqrr), PDFs rasterised by poppler's `pdftoppm`.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use predicates::prelude::*;
use std::path::{Path, PathBuf};

use common::cli::{Env, files};

/// Jasper's Market with the README's Spring Sale links.
fn seeded() -> Env {
    let env = Env::new();
    env.ok(&[
        "page",
        "add",
        "https://www.facebook.com/JaspersMarket/",
        "--name",
        "Jasper's Market",
    ]);
    env.ok(&["channel", "add", "Newsletter", "--kind", "email"]);
    env.ok(&["channel", "add", "FB ad", "--kind", "facebook_ad"]);
    env.ok(&["campaign", "add", "Spring Sale"]);
    for (channel, ref_code, cta) in [
        (
            "Newsletter",
            "jaspersmarketnewsletter",
            "Get our weekly deals in Messenger",
        ),
        ("FB ad", "jaspersmarketFBad", ""),
        ("Newsletter", "freeshipping", "Get free shipping"),
    ] {
        let mut args = vec![
            "link",
            "add",
            "--campaign",
            "Spring Sale",
            "--channel",
            channel,
            "--ref",
            ref_code,
        ];
        if !cta.is_empty() {
            args.extend(["--cta", cta]);
        }
        env.ok(&args);
    }
    env
}

const FREESHIPPING: &str = "https://m.me/JaspersMarket?ref=freeshipping";

#[test]
fn qr_never_replaces_an_existing_file_without_force() {
    let env = seeded();
    env.ok(&["qr", "freeshipping", "-o", "code.png", "--size", "300"]);
    let first = std::fs::read(env.path("code.png")).unwrap();
    env.refused(
        2,
        &["qr", "freeshipping", "-o", "code.png", "--size", "400"],
        &["output", "code.png", "exists", "--force"],
    );
    assert_eq!(std::fs::read(env.path("code.png")).unwrap(), first);
    env.ok(&[
        "qr",
        "freeshipping",
        "-o",
        "code.png",
        "--size",
        "400",
        "--force",
    ]);
    assert_ne!(std::fs::read(env.path("code.png")).unwrap(), first);
    assert_eq!(common::decode_one(&env.path("code.png")), FREESHIPPING);
}

#[test]
fn qr_refuses_a_contrast_below_the_floor_unless_forced() {
    let env = seeded();
    env.refused(
        2,
        &["qr", "freeshipping", "-o", "pale.png", "--fg", "#c0c0c0"],
        &["colours", "#c0c0c0", "contrast", "--force"],
    );
    assert!(!env.path("pale.png").exists());
    env.cmd()
        .args([
            "qr",
            "freeshipping",
            "-o",
            "pale.png",
            "--fg",
            "#c0c0c0",
            "--force",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("contrast"));
    assert_eq!(common::decode_one(&env.path("pale.png")), FREESHIPPING);
}

// ---------------------------------------------------------------- PDF ----

use refboard::codes::QrStyle;
use refboard::export::{BulkOptions, Format, export_bulk};
use refboard::model::ExportItem;
use refboard::print::{LabelPreset, Paper, PrintLayout, PrintOptions, render_pdf};

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

/// Every code rqrr can read in a PNG.
fn decode_lenient(png: &[u8]) -> Vec<String> {
    let img = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
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

/// Every code on every page of a PDF, decoded, sorted.
fn decode_pdf(pdf: &Path, dpi: u32) -> (usize, Vec<String>) {
    let pages = pdf_pages(pdf, dpi);
    // A false grid (text or cut marks that look like a finder) may fail to
    // decode; every real code must be among the decoded ones.
    let mut all: Vec<String> = pages.iter().flat_map(|p| decode_lenient(p)).collect();
    all.sort();
    (pages.len(), all)
}

/// Words of a PDF with their boxes in points, from poppler's `pdftotext -bbox`:
/// (page from 0, text, x_min, y_min, x_max, y_max).
fn pdf_words(pdf: &Path) -> Vec<(usize, String, [f64; 4])> {
    let out = std::process::Command::new("pdftotext")
        .args(["-bbox"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed");
    assert!(out.status.success());
    let html = String::from_utf8_lossy(&out.stdout).to_string();
    let attr = |line: &str, name: &str| -> f64 {
        let at = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        line[at..at + line[at..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    let mut page = None::<usize>;
    let mut words = Vec::new();
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page") {
            page = Some(page.map_or(0, |p| p + 1));
        } else if line.starts_with("<word") {
            let text = &line[line.find('>').unwrap() + 1..line.rfind("</word>").unwrap()];
            let text = text
                .replace("&apos;", "'")
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            words.push((
                page.unwrap(),
                text,
                [
                    attr(line, "xMin"),
                    attr(line, "yMin"),
                    attr(line, "xMax"),
                    attr(line, "yMax"),
                ],
            ));
        }
    }
    words
}

fn link(i: usize) -> ExportItem {
    let ref_code = format!("spring_sale-{i:02}");
    ExportItem {
        page_name: "Jasper's Market".into(),
        campaign: "Spring Sale".into(),
        channel: "Flyer".into(),
        url: format!("https://m.me/JaspersMarket?ref={ref_code}"),
        ref_code,
        cta: "Get 10% off your first order in Messenger".into(),
    }
}

fn pdf_options(layout: PrintLayout, paper: Paper, label: LabelPreset) -> BulkOptions {
    BulkOptions {
        formats: vec![],
        pdf: Some(PrintOptions {
            layout,
            paper,
            label,
            cut_marks: true,
            ..PrintOptions::default()
        }),
        ..BulkOptions::default()
    }
}

#[test]
fn every_layout_on_both_papers_decodes_every_code_from_pdftoppm() {
    let mut cases = Vec::new();
    for paper in [Paper::A4, Paper::Letter] {
        cases.push((PrintLayout::Grid, paper, LabelPreset::L7160, 23));
        cases.push((PrintLayout::Flyer, paper, LabelPreset::L7160, 3));
    }
    for label in LabelPreset::ALL {
        // Two pages' worth: a full sheet and part of the next.
        let per_sheet = (label.spec().columns * label.spec().rows) as usize;
        cases.push((
            PrintLayout::Labels,
            label.spec().paper,
            label,
            per_sheet + 2,
        ));
    }
    for (layout, paper, label, n) in cases {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<ExportItem> = (0..n).map(link).collect();
        let report = export_bulk(
            &dir.path().join("out"),
            &items,
            &pdf_options(layout, paper, label),
            &mut |_, _| true,
        )
        .unwrap();
        let pdf = dir.path().join("out/sheet.pdf");
        assert!(report.files.contains(&pdf));
        let bytes = std::fs::read(&pdf).unwrap();
        assert!(
            bytes.windows(9).any(|w| w == b"FontFile2"),
            "the font is embedded"
        );
        assert!(
            !bytes.windows(13).any(|w| w == b"/Subtype /Ima")
                && !bytes.windows(13).any(|w| w == b"/Subtype/Imag"),
            "codes are vector paths, not images"
        );
        // The same layout from the library gives where each code is; the
        // file on disk must be exactly that PDF.
        let placed = render_pdf(
            &items,
            pdf_options(layout, paper, label).pdf.as_ref().unwrap(),
            &QrStyle::default(),
        )
        .unwrap();
        assert_eq!(placed.bytes, bytes, "the layout is deterministic");
        let decoded = decode_each_code(&pdf, &placed, 200);
        let want: Vec<String> = items.iter().map(|i| i.url.clone()).collect();
        assert_eq!(decoded, want, "{layout:?} on {paper:?} ({label:?})");
        assert!(
            placed.pages >= 2,
            "{layout:?} {paper:?}: {} page(s)",
            placed.pages
        );
    }
}

/// A printer offset moves every code, text and cell on the labels by
/// exactly the offset (the title stays in the top margin), and the moved
/// sheet still scans from pdftoppm.
#[test]
fn a_printer_offset_moves_everything_on_a_label_sheet_by_exactly_that() {
    const PT_PER_MM: f64 = 72.0 / 25.4;
    let items: Vec<ExportItem> = (0..5).map(link).collect();
    let options = |dx: f64, dy: f64| PrintOptions {
        layout: PrintLayout::Labels,
        paper: Paper::Letter,
        label: LabelPreset::Avery22806,
        cut_marks: true,
        offset_x_mm: dx,
        offset_y_mm: dy,
        ..PrintOptions::default()
    };
    let style = QrStyle::default();
    let plain = render_pdf(&items, &options(0.0, 0.0), &style).unwrap();
    let (dx, dy) = (1.5, -2.0);
    let moved = render_pdf(&items, &options(dx, dy), &style).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
    let (dx_pt, dy_pt) = (dx * PT_PER_MM, dy * PT_PER_MM);
    assert_eq!(plain.codes.len(), moved.codes.len());
    for (a, b) in plain.codes.iter().zip(&moved.codes) {
        assert_eq!(a.rects.len(), b.rects.len());
        for (ra, rb) in a.rects.iter().zip(&b.rects) {
            assert!(
                close(ra[0] + dx_pt, rb[0]) && close(ra[1] + dy_pt, rb[1]),
                "{ra:?} -> {rb:?}"
            );
            assert!(close(ra[2], rb[2]) && close(ra[3], rb[3]));
        }
    }
    assert_eq!(plain.texts.len(), moved.texts.len());
    let mut titles = 0;
    for (a, b) in plain.texts.iter().zip(&moved.texts) {
        assert_eq!(a.lines, b.lines);
        if a.cell[1] < 10.0 {
            // The title line, in the sheet's top margin, stays where it is.
            assert_eq!((a.cell, a.bbox), (b.cell, b.bbox), "{:?}", a.lines);
            titles += 1;
            continue;
        }
        assert!(close(a.cell[0] + dx_pt, b.cell[0]) && close(a.cell[1] + dy_pt, b.cell[1]));
        assert!(close(a.bbox[0] + dx_pt, b.bbox[0]) && close(a.bbox[1] + dy_pt, b.bbox[1]));
    }
    assert_eq!(titles, moved.pages, "one title line a page");
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("sheet.pdf");
    std::fs::write(&pdf, &moved.bytes).unwrap();
    let want: Vec<String> = items.iter().map(|i| i.url.clone()).collect();
    assert_eq!(decode_each_code(&pdf, &moved, dpi_for(&moved, 6.0)), want);
}

/// Offsets out of range, off the paper or on a layout they cannot move are
/// refused by name, with exit 2 and no file written.
#[test]
fn bad_printer_offsets_are_refused_and_write_nothing() {
    let env = seeded();
    // `refboard export --dir out` with `args`, refused with exit 2 and `words`.
    let refused = |args: &[&str], words: &[&str]| {
        let mut all = vec!["export", "--dir", "out"];
        all.extend_from_slice(args);
        env.refused(2, &all, words);
    };
    const LABELS: [&str; 8] = [
        "--sheet", "pdf", "--layout", "labels", "--label", "5160", "--paper", "letter",
    ];
    let labels = |offset: [&'static str; 2]| [&LABELS[..], &offset[..]].concat();
    refused(
        &labels(["--offset-x-mm", "6"]),
        &["offset-x-mm", "6", "-5 and 5 mm"],
    );
    refused(
        &labels(["--offset-y-mm", "NaN"]),
        &["offset-y-mm", "NaN", "-5 and 5 mm"],
    );
    refused(
        &labels(["--offset-y-mm", "-5.5"]),
        &["offset-y-mm", "-5.5", "-5 and 5 mm"],
    );
    // 5160's side margins are 3/16 in (4.76 mm): 4.8 mm either way is off the paper.
    refused(
        &labels(["--offset-x-mm", "-4.8"]),
        &[
            "offset-x-mm",
            "-4.8",
            "5160",
            "4.76 mm from the paper's left edge",
        ],
    );
    refused(
        &labels(["--offset-x-mm", "4.8"]),
        &["offset-x-mm", "4.8", "4.76 mm from the paper's right edge"],
    );
    refused(
        &["--sheet", "pdf", "--layout", "grid", "--offset-y-mm", "1"],
        &["offset-y-mm", "1", "label sheets only"],
    );
    refused(
        &["--format", "png", "--offset-x-mm", "2"],
        &["offset-x-mm", "2", "--sheet pdf --layout labels"],
    );
    assert!(!env.path("out").exists());
    let mut ok = vec!["export", "--dir", "out"];
    ok.extend(labels(["--offset-x-mm", "-1.5"]));
    ok.extend(["--offset-y-mm", "0.8"]);
    env.ok(&ok);
    assert!(env.path("out/sheet.pdf").exists());
}

#[test]
fn long_cta_and_300_char_ref_stay_inside_their_cells() {
    let long_ref = "r".repeat(300);
    let mut long = link(0);
    long.ref_code = long_ref.clone();
    long.url = format!("https://m.me/JaspersMarket?ref={long_ref}");
    long.cta = "Tap to get your members-only spring coupon, our weekly recipes and early access to every sale in Messenger — no app to install, no email needed".into();
    let items = vec![long, link(1)];
    for (layout, paper, label) in [
        (PrintLayout::Grid, Paper::A4, LabelPreset::L7160),
        (PrintLayout::Grid, Paper::Letter, LabelPreset::L7160),
        (PrintLayout::Labels, Paper::A4, LabelPreset::L7160),
        (PrintLayout::Labels, Paper::Letter, LabelPreset::Avery22806),
        (PrintLayout::Flyer, Paper::Letter, LabelPreset::L7160),
    ] {
        let options = PrintOptions {
            layout,
            paper,
            label,
            show_ref: true,
            ..PrintOptions::default()
        };
        let out = render_pdf(&items, &options, &QrStyle::default()).unwrap();
        for t in &out.texts {
            let [x, y, w, h] = t.bbox;
            let [cx, cy, cw, ch] = t.cell;
            assert!(
                x >= cx - 0.01
                    && y >= cy - 0.01
                    && x + w <= cx + cw + 0.01
                    && y + h <= cy + ch + 0.01,
                "{layout:?}: {:?} at {:?} leaves its cell {:?}",
                t.lines,
                t.bbox,
                t.cell
            );
        }
        // The real check: every word poppler finds in the written file lies
        // inside one of the cells on its page.
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("sheet.pdf");
        std::fs::write(&pdf, &out.bytes).unwrap();
        let words = pdf_words(&pdf);
        assert!(!words.is_empty());
        for (page, word, [x0, y0, x1, y1]) in words {
            let inside = out.texts.iter().filter(|t| t.page == page).any(|t| {
                let [cx, cy, cw, ch] = t.cell;
                x0 >= cx - 1.0 && x1 <= cx + cw + 1.0 && y0 >= cy - 2.0 && y1 <= cy + ch + 2.0
            });
            assert!(
                inside,
                "{layout:?}: word {word:?} at {x0},{y0}-{x1},{y1} is outside every cell: {:?}",
                out.texts
                    .iter()
                    .filter(|t| t.page == page)
                    .map(|t| (&t.lines, t.cell, t.bbox))
                    .collect::<Vec<_>>()
            );
        }
        assert!(
            out.notes
                .iter()
                .any(|n| n.contains(&long_ref[..20]) && n.contains("shortened") && n.len() < 200)
                || out
                    .texts
                    .iter()
                    .all(|t| t.lines.iter().all(|l| !l.ends_with('…'))),
            "a shortened text is reported: {:?}",
            out.notes
        );
        // The 300-character ref makes a dense code (version 13): render it
        // with 6 px a module, as the export's own proof does. rqrr (not the
        // code) misses it at some phases near 5 px a module: the 22806
        // sheet at 300 dpi (5.3 px) was one, 310 to 600 dpi all read.
        let decoded = decode_each_code(&pdf, &out, dpi_for(&out, 6.0));
        let want: Vec<String> = items.iter().map(|i| i.url.clone()).collect();
        assert_eq!(decoded, want, "{layout:?}: both codes decode");
    }
}

#[test]
fn the_ref_is_internal_and_the_flyer_speaks_to_customers() {
    let env = seeded();
    env.ok(&["qr", "freeshipping", "-o", "flyer.pdf", "--paper", "letter"]);
    let pdf = env.path("flyer.pdf");
    let (pages, decoded) = decode_pdf(&pdf, 150);
    assert_eq!((pages, decoded), (1, vec![FREESHIPPING.to_string()]));
    let text: Vec<String> = pdf_words(&pdf).into_iter().map(|w| w.1).collect();
    let text = text.join(" ");
    for want in [
        "Jasper's Market",
        "Get free shipping",
        "Scan to chat with Jasper's Market on Messenger",
        "m.me/JaspersMarket",
    ] {
        assert!(text.contains(want), "{want:?} in {text:?}");
    }
    assert!(!text.contains("freeshipping"), "no internal ref: {text}");
    env.ok(&["qr", "freeshipping", "-o", "ref.pdf", "--show-ref"]);
    let text: Vec<String> = pdf_words(&env.path("ref.pdf"))
        .into_iter()
        .map(|w| w.1)
        .collect();
    assert!(
        text.join(" ").contains("freeshipping"),
        "asked for: the ref in the footer"
    );
}

#[test]
fn layouts_that_break_a_rule_are_refused_and_write_nothing() {
    let env = seeded();
    env.refused(
        2,
        &[
            "export", "--dir", "out", "--sheet", "pdf", "--layout", "labels", "--label", "5160",
        ],
        &["paper", "a4", "5160", "--paper letter"],
    );
    env.refused(
        2,
        &[
            "export",
            "--dir",
            "out",
            "--sheet",
            "pdf",
            "--layout",
            "grid",
            "--columns",
            "9",
        ],
        &["columns", "9", "1 to 6"],
    );
    env.refused(
        2,
        &[
            "export", "--dir", "out", "--sheet", "pdf", "--layout", "labels", "--label", "l9999",
        ],
        &["l9999", "l7160"],
    );
    // A long ref makes a code too dense for a 1-inch label: the module limit is named.
    env.ok(&[
        "link",
        "add",
        "--campaign",
        "Spring Sale",
        "--channel",
        "Newsletter",
        "--ref",
        &"x".repeat(300),
    ]);
    env.refused(
        2,
        &[
            "export", "--dir", "out", "--sheet", "pdf", "--layout", "labels", "--label", "5160",
            "--paper", "letter",
        ],
        &["layout", "0.4 mm"],
    );
    assert!(!env.path("out").exists());
}

#[test]
fn cli_pdf_sheet_export_is_verified_and_listed() {
    let env = seeded();
    let out = env.ok(&[
        "export", "--dir", "out", "--sheet", "pdf", "--layout", "labels", "--format", "png",
        "--size", "400",
    ]);
    assert!(out.contains("scan-verified"), "{out}");
    let mut csv = csv::Reader::from_path(env.path("out/links.csv")).unwrap();
    assert_eq!(
        csv.headers().unwrap(),
        vec![
            "campaign", "channel", "ref", "url", "cta", "files", "verified"
        ]
    );
    for row in csv.records() {
        let row = row.unwrap();
        assert_eq!(&row[6], "yes");
        assert_eq!(common::decode_one(&env.path("out").join(&row[5])), &row[3]);
    }
    let (_, decoded) = decode_pdf(&env.path("out/sheet.pdf"), 200);
    assert_eq!(decoded.len(), 3);
    // The PNGs are indexed (palette) files, not 24-bit RGB.
    let png = std::fs::read(env.path("out/freeshipping.png")).unwrap();
    assert_eq!(png[25], 3, "PNG colour type 3 (indexed)");
    let _ = Format::Png;
}

// --------------------------------------------------------------- logos ----

/// A PNG logo: a dark disc with a white bar, on a transparent ground.
fn png_logo(path: &Path, side: u32) {
    let c = f64::from(side) / 2.0;
    let img = image::RgbaImage::from_fn(side, side, |x, y| {
        let (dx, dy) = (f64::from(x) - c, f64::from(y) - c);
        let r = (dx * dx + dy * dy).sqrt();
        if r > c {
            image::Rgba([0, 0, 0, 0])
        } else if dy.abs() < c / 5.0 && dx.abs() < c / 2.0 {
            image::Rgba([255, 255, 255, 255])
        } else {
            image::Rgba([0x1a, 0x30, 0x90, 255])
        }
    });
    img.save(path).unwrap();
}

/// An SVG logo: a dark rounded square with a light chat bubble.
const SVG_LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 80" width="100" height="80">
<rect width="100" height="80" rx="16" fill="#0a1f44"/>
<ellipse cx="50" cy="38" rx="30" ry="22" fill="#ffffff"/>
<path d="M30 52 L24 70 L44 58 Z" fill="#ffffff"/>
</svg>"##;

#[test]
fn codes_with_a_logo_decode_at_every_ecc_level_and_use_h() {
    let env = seeded();
    png_logo(&env.path("logo.png"), 256);
    std::fs::write(env.path("logo.svg"), SVG_LOGO).unwrap();
    for logo in ["logo.png", "logo.svg"] {
        for ecc in ["L", "M", "Q", "H"] {
            let out = format!("{logo}-{ecc}.png");
            let assert = env
                .cmd()
                .args([
                    "qr",
                    "freeshipping",
                    "-o",
                    &out,
                    "--ecc",
                    ecc,
                    "--logo",
                    logo,
                    "--size",
                    "600",
                ])
                .assert()
                .success();
            let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
            assert_eq!(
                stderr.contains("error correction H instead of"),
                ecc != "H",
                "{logo} {ecc}: {stderr}"
            );
            assert_eq!(common::decode_one(&env.path(&out)), FREESHIPPING, "{out}");
            // The logo is really there: its dark blue is in the centre of
            // the code (the caption's text is grey, never blue).
            let img = image::open(env.path(&out)).unwrap().to_rgb8();
            let blue = (250..350)
                .flat_map(|y| (250..350).map(move |x| (x, y)))
                .filter(|&(x, y)| {
                    let [r, _, b] = img.get_pixel(x, y).0;
                    u16::from(b) > u16::from(r) + 40
                })
                .count();
            assert!(blue > 500, "{out}: {blue} logo pixels in the centre");
            // The PDF flyer at this level: rendered by poppler, decoded.
            let pdf = format!("{logo}-{ecc}.pdf");
            env.ok(&[
                "qr",
                "freeshipping",
                "-o",
                &pdf,
                "--ecc",
                ecc,
                "--logo",
                logo,
            ]);
            let (pages, decoded) = decode_pdf(&env.path(&pdf), 150);
            assert_eq!(
                (pages, decoded),
                (1, vec![FREESHIPPING.to_string()]),
                "{pdf}"
            );
        }
        // SVG output keeps the logo file itself, and its proof still passes.
        let svg = format!("{logo}.svg");
        env.ok(&["qr", "freeshipping", "-o", &svg, "--logo", logo]);
        let text = std::fs::read_to_string(env.path(&svg)).unwrap();
        let mime = if logo.ends_with("png") {
            "data:image/png;base64,"
        } else {
            "data:image/svg+xml;base64,"
        };
        assert!(text.contains(mime), "{svg} embeds the logo");
        // PDF flyer: rasterised by poppler and decoded.
        let pdf = format!("{logo}.pdf");
        env.ok(&["qr", "freeshipping", "-o", &pdf, "--logo", logo]);
        let (pages, decoded) = decode_pdf(&env.path(&pdf), 150);
        assert_eq!(
            (pages, decoded),
            (1, vec![FREESHIPPING.to_string()]),
            "{pdf}"
        );
        let bytes = std::fs::read(env.path(&pdf)).unwrap();
        assert!(
            bytes.windows(12).any(|w| w == b"/Subtype /Im")
                || bytes.windows(11).any(|w| w == b"/Subtype/Im"),
            "{pdf}: the logo is an image in the PDF"
        );
    }
}

#[test]
fn every_layout_with_a_logo_decodes_from_pdftoppm() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("logo.svg"), SVG_LOGO).unwrap();
    let logo = refboard::codes::logo::Logo::load(&dir.path().join("logo.svg"), 0.1, false).unwrap();
    let style = QrStyle {
        ecc: refboard::codes::Ecc::H,
        logo: Some(std::sync::Arc::new(logo)),
        ..QrStyle::default()
    };
    // Link 0 has a long ref: version 8 at H, whose centre is an alignment
    // pattern, so it is moved up to a version with a free centre.
    let mut items: Vec<ExportItem> = (0..4).map(link).collect();
    items[0].ref_code = "spring_sale-newsletter-march-2026-long".into();
    items[0].url = format!("https://m.me/JaspersMarket?ref={}", items[0].ref_code);
    for layout in [PrintLayout::Grid, PrintLayout::Flyer, PrintLayout::Labels] {
        let options = BulkOptions {
            style: style.clone(),
            ..pdf_options(layout, Paper::A4, LabelPreset::L7160)
        };
        let out = dir.path().join(format!("{layout:?}"));
        export_bulk(&out, &items, &options, &mut |_, _| true).unwrap();
        let pdf = out.join("sheet.pdf");
        let placed = render_pdf(&items, options.pdf.as_ref().unwrap(), &style).unwrap();
        assert!(placed.codes.iter().all(|c| c.logo.is_some()));
        let decoded = decode_each_code(&pdf, &placed, 300);
        let want: Vec<String> = items.iter().map(|i| i.url.clone()).collect();
        assert_eq!(decoded, want, "{layout:?}");
    }
}

/// CRC-32 (ISO-HDLC), as PNG chunks use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn bad_logos_are_refused_with_field_value_and_rule() {
    let env = seeded();
    std::fs::write(env.path("logo.gif"), b"GIF89a\x01\x00\x01\x00").unwrap();
    std::fs::write(env.path("broken.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    png_logo(&env.path("logo.png"), 64);
    // A PNG header that claims 20,000 × 20,000 pixels: refused before decoding.
    let huge = image::RgbaImage::new(1, 1);
    let mut bytes = Vec::new();
    huge.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    bytes[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(env.path("huge.png"), &bytes).unwrap();
    for (args, expect) in [
        (
            vec!["qr", "freeshipping", "-o", "a.png", "--logo", "missing.png"],
            vec!["logo", "missing.png", "cannot read"],
        ),
        (
            vec!["qr", "freeshipping", "-o", "a.png", "--logo", "logo.gif"],
            vec!["logo", "logo.gif", "PNG nor an SVG"],
        ),
        (
            vec!["qr", "freeshipping", "-o", "a.pdf", "--logo", "broken.png"],
            vec!["logo", "broken.png", "readable PNG"],
        ),
        (
            vec!["qr", "freeshipping", "-o", "a.png", "--logo", "huge.png"],
            vec!["logo", "huge.png", "4096"],
        ),
        (
            vec![
                "qr",
                "freeshipping",
                "-o",
                "a.png",
                "--logo",
                "logo.png",
                "--logo-share",
                "25",
            ],
            vec!["logo-share", "25", "at most 10 percent", "--force"],
        ),
        (
            vec![
                "export",
                "--dir",
                "out",
                "--logo",
                "logo.png",
                "--logo-share",
                "60",
                "--force",
            ],
            vec!["logo-share", "60", "1 to"],
        ),
    ] {
        env.refused(2, &args, &expect);
        assert!(!env.path("a.png").exists() && !env.path("out").exists());
    }
}

#[test]
fn a_logo_too_large_behind_force_fails_the_proof_and_leaves_the_folder_as_it_was() {
    let env = seeded();
    // A solid dark logo on a pad of 40 % of the code: more than H can rebuild.
    image::RgbaImage::from_pixel(64, 64, image::Rgba([0, 0, 0, 255]))
        .save(env.path("block.png"))
        .unwrap();
    env.ok(&["export", "--dir", "out", "--size", "400"]);
    let before = files(env.dir.path());
    let assert = env
        .cmd()
        .args([
            "export",
            "--dir",
            "out",
            "--size",
            "400",
            "--logo",
            "block.png",
            "--logo-share",
            "40",
            "--force",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("does not scan") && stderr.contains("nothing was written"),
        "{stderr}"
    );
    assert_eq!(files(env.dir.path()), before, "the folder is as it was");
    // The same logo on a PDF sheet only: the page rendered from the written
    // PDF does not scan either, and the sheet is not written.
    let assert = env
        .cmd()
        .args([
            "export",
            "--dir",
            "out",
            "--format",
            "",
            "--sheet",
            "pdf",
            "--logo",
            "block.png",
            "--logo-share",
            "40",
            "--force",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("sheet.pdf (page 1) does not scan"),
        "{stderr}"
    );
    assert_eq!(files(env.dir.path()), before, "the folder is as it was");
}
