//! QR rendering tests: every PNG is decoded with a real QR decoder.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::decode_png;
use refboard::codes::{Caption, Color, Ecc, QrStyle, render_png, render_svg};
use refboard::export::{BulkOptions, Format, export_bulk, export_one};
use refboard::model::ExportItem;

const URL: &str = "https://m.me/JaspersMarket?ref=jaspersmarketnewsletter";
const LONG_URL: &str = "https://m.me/JaspersMarket?ref=spring_sale-newsletter&text=Hi%21%20I%20would%20like%20my%20free%20coupon%20please";

fn caption() -> Caption<'static> {
    Caption {
        cta: "Get free coupon in Messenger",
        url: URL,
    }
}

#[test]
fn every_ecc_level_decodes_with_and_without_caption() {
    for ecc in Ecc::ALL {
        for with_caption in [false, true] {
            for url in [URL, LONG_URL] {
                let style = QrStyle {
                    size_px: 512,
                    ecc,
                    caption: with_caption,
                    ..QrStyle::default()
                };
                let png = render_png(url, Some(caption()), &style).unwrap();
                assert_eq!(
                    decode_png(&png),
                    vec![url.to_string()],
                    "ecc {ecc}, caption {with_caption}"
                );
                let img = image::load_from_memory(&png).unwrap();
                assert_eq!(img.width(), 512);
                assert_eq!(img.height() > 512, with_caption, "a caption adds height");
            }
        }
    }
}

#[test]
fn custom_colours_decode_and_are_used() {
    let style = QrStyle {
        size_px: 400,
        fg: Color::parse("fg", "#1a237e").unwrap(),
        bg: Color::parse("bg", "#fff8e1").unwrap(),
        ..QrStyle::default()
    };
    assert!(style.check().unwrap().is_empty());
    let png = render_png(URL, Some(caption()), &style).unwrap();
    assert_eq!(decode_png(&png), vec![URL.to_string()]);
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    let pixels: std::collections::HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    assert!(pixels.contains(&[0x1a, 0x23, 0x7e]));
    assert!(pixels.contains(&[0xff, 0xf8, 0xe1]));
    assert!(!pixels.contains(&[0, 0, 0]), "no default black left");
}

#[test]
fn sizes_at_both_ends_of_the_range_decode() {
    for size_px in [256, 4096] {
        let style = QrStyle {
            size_px,
            caption: false,
            ..QrStyle::default()
        };
        let png = render_png(URL, None, &style).unwrap();
        assert_eq!(decode_png(&png), vec![URL.to_string()], "size {size_px}");
    }
}

#[test]
fn svg_has_the_code_and_real_caption_text() {
    let svg = render_svg(URL, Some(caption()), &QrStyle::default()).unwrap();
    assert!(svg.starts_with("<?xml"));
    assert!(svg.contains("<text") && svg.contains(">Get free coupon in Messenger</text>"));
    assert!(svg.contains(&format!(">{URL}</text>")));
    assert!(svg.contains(r##"<path fill="#000000" d="M"##));
    let no_caption = render_svg(
        URL,
        Some(caption()),
        &QrStyle {
            caption: false,
            ..QrStyle::default()
        },
    )
    .unwrap();
    assert!(!no_caption.contains("<text"));
}

#[test]
fn single_export_writes_atomically_and_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("code.png");
    let svg = dir.path().join("code.svg");
    let style = QrStyle {
        size_px: 300,
        ..QrStyle::default()
    };
    export_one(&png, URL, Some(caption()), &style).unwrap();
    export_one(&svg, URL, Some(caption()), &style).unwrap();
    assert_eq!(
        decode_png(&std::fs::read(&png).unwrap()),
        vec![URL.to_string()]
    );
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    // A bad style fails before anything is written; no temp files are left.
    let bad = QrStyle {
        size_px: 10,
        ..style
    };
    assert!(export_one(&dir.path().join("bad.png"), URL, None, &bad).is_err());
    assert!(
        export_one(
            &dir.path().join("missing/x.png"),
            URL,
            None,
            &QrStyle::default()
        )
        .is_err()
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["code.png", "code.svg"]);
}

fn items() -> Vec<ExportItem> {
    [
        "jaspersmarketnewsletter",
        "jaspersmarketFBad",
        "freeshipping",
        "exclusiveinvite",
        "a/b",
    ]
    .iter()
    .map(|r| ExportItem {
        page_name: "Jasper's Market".into(),
        campaign: "Spring Sale".into(),
        channel: "Newsletter".into(),
        ref_code: r.to_string(),
        url: refboard::model::link_url(
            &refboard::model::PageTarget::Username("JaspersMarket".into()),
            r,
            None,
        ),
        cta: format!("Get {r} in Messenger"),
    })
    .collect()
}

#[test]
fn bulk_export_writes_one_decodable_code_per_link_and_a_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let options = BulkOptions {
        formats: vec![Format::Png, Format::Svg],
        style: QrStyle {
            size_px: 300,
            ..QrStyle::default()
        },
        sheet: true,
        ..BulkOptions::default()
    };
    let mut calls = Vec::new();
    let report = export_bulk(&out, &items(), &options, &mut |done, total| {
        calls.push((done, total));
        true
    })
    .unwrap();
    assert_eq!(calls.last(), Some(&(5, 5)));
    assert_eq!(report.links, 5);
    assert_eq!(report.files.len(), 5 * 2 + 2);
    let mut csv = csv::Reader::from_path(out.join("links.csv")).unwrap();
    assert_eq!(
        csv.headers().unwrap(),
        vec![
            "campaign", "channel", "ref", "url", "cta", "files", "verified"
        ]
    );
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    for (row, item) in rows.iter().zip(items()) {
        assert_eq!(&row[2], item.ref_code);
        assert_eq!(&row[3], item.url);
        assert_eq!(&row[6], "yes", "scan verified");
        let files: Vec<&str> = row[5].split(';').collect();
        assert_eq!(files.len(), 2);
        assert!(files[0].ends_with(".png") && files[1].ends_with(".svg"));
        let png = std::fs::read(out.join(files[0])).unwrap();
        assert_eq!(decode_png(&png), vec![item.url.clone()], "{}", files[0]);
    }
    let sheet = std::fs::read_to_string(out.join("sheet.svg")).unwrap();
    assert_eq!(sheet.matches("<path").count(), 5);
    assert!(sheet.contains("Get freeshipping in Messenger"));
    // No staging folder or temp file is left behind.
    assert!(
        std::fs::read_dir(&out).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.'))
    );
}

#[test]
fn bulk_export_that_fails_or_is_cancelled_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let options = BulkOptions {
        formats: vec![Format::Png],
        style: QrStyle {
            size_px: 256,
            ecc: Ecc::H,
            ..QrStyle::default()
        },
        sheet: false,
        ..BulkOptions::default()
    };
    let mut list = items();
    // The last link is far too long for a code at level H: the export fails as a whole.
    list.push(ExportItem {
        ref_code: "x".repeat(2000),
        url: format!("https://m.me/JaspersMarket?ref={}", "x".repeat(2000)),
        ..list[0].clone()
    });
    let e = export_bulk(&out, &list, &options, &mut |_, _| true).unwrap_err();
    assert!(e.is_user_error(), "{e}");
    assert!(!out.exists(), "nothing written on failure");
    let e = export_bulk(&out, &items(), &options, &mut |done, _| done < 3).unwrap_err();
    assert!(e.to_string().contains("cancelled"));
    assert!(!out.exists(), "nothing written on cancel");
}

#[test]
fn many_links_make_several_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<ExportItem> = (0..13)
        .map(|i| ExportItem {
            ref_code: format!("r{i}"),
            url: format!("https://m.me/JaspersMarket?ref=r{i}"),
            ..items()[0].clone()
        })
        .collect();
    let options = BulkOptions {
        formats: vec![],
        style: QrStyle::default(),
        sheet: true,
        ..BulkOptions::default()
    };
    let report = export_bulk(dir.path(), &many, &options, &mut |_, _| true).unwrap();
    let names: Vec<String> = report
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["links.csv", "sheet-1.svg", "sheet-2.svg"]);
}

/// Every file and folder under `dir` with its bytes (folders: empty), sorted.
fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p.clone());
                out.push((format!("{name}/"), Vec::new()));
            } else {
                out.push((name, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn bulk_export_where_links_csv_is_a_folder_leaves_the_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let options = BulkOptions {
        formats: vec![Format::Png, Format::Svg],
        style: QrStyle {
            size_px: 256,
            ..QrStyle::default()
        },
        ..BulkOptions::default()
    };
    // An earlier export of the same links, whose files this one would replace...
    export_bulk(&out, &items(), &options, &mut |_, _| true).unwrap();
    std::fs::remove_file(out.join("links.csv")).unwrap();
    // ...and a folder where links.csv goes.
    std::fs::create_dir(out.join("links.csv")).unwrap();
    std::fs::write(out.join("links.csv/keep.txt"), b"mine").unwrap();
    std::fs::write(out.join("freeshipping.png"), b"an older file").unwrap();
    let before = snapshot(&out);
    let restyled = BulkOptions {
        style: QrStyle {
            size_px: 300,
            ..QrStyle::default()
        },
        ..options
    };
    let e = export_bulk(&out, &items(), &restyled, &mut |_, _| true).unwrap_err();
    assert!(e.to_string().contains("links.csv"), "{e}");
    assert_eq!(snapshot(&out), before, "the folder is exactly as it was");
}

#[test]
fn export_whose_proof_fails_reports_the_link_and_leaves_the_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("freeshipping.png"), b"an older file").unwrap();
    let before = snapshot(&out);
    // Same colour for code and background: forced past the contrast floor,
    // the proof of scan must catch it.
    let options = BulkOptions {
        formats: vec![Format::Png],
        style: QrStyle {
            size_px: 256,
            fg: Color::parse("fg", "#808080").unwrap(),
            bg: Color::parse("bg", "#808080").unwrap(),
            ..QrStyle::default()
        },
        force: true,
        ..BulkOptions::default()
    };
    let e = export_bulk(&out, &items(), &options, &mut |_, _| true).unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains("does not scan") && items().iter().any(|i| message.contains(&i.ref_code)),
        "{message}"
    );
    assert_eq!(snapshot(&out), before);
    // Without --force the same colours are refused before anything is rendered.
    let e = export_bulk(
        &out,
        &items(),
        &BulkOptions {
            force: false,
            ..options
        },
        &mut |_, _| true,
    )
    .unwrap_err();
    assert!(
        e.is_user_error() && refboard::ops::hint(&e) == Some(&refboard::model::Hint::ForceContrast),
        "{e}"
    );
}
