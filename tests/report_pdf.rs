//! Issue 19, defect 7, on the real report writer: a PDF of the last 7 days
//! marks today as running ("so far"), draws the previous period with its
//! days in the legend, and fills its page (the lower 45% was blank). Read
//! back with poppler's pdftotext and rasterised with pdftoppm.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::seed::{campaign, channel, jaspers_market, link, referral};
use refboard::model::{ChannelKind, Kind, ReferralEvent};
use refboard::report::{ReportRequest, write_report};
use refboard::stats::{GroupBy, StatsQuery};
use refboard::store::Store;
use std::path::Path;
use std::process::Command;

/// Two links with referrals on each of the last 14 days, today's before now.
fn seeded(dir: &Path) -> Store {
    let mut store = Store::open(&dir.join("report.db")).unwrap();
    let page = jaspers_market(&mut store).id;
    let news = channel(&mut store, page, "Newsletter", ChannelKind::Email);
    let spring = campaign(&mut store, page, "Spring Sale").id;
    for r in ["freeshipping", "newsletter"] {
        link(&mut store, page, spring, news, r, None);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let today = chrono::Utc::now().date_naive();
    let mut events: Vec<ReferralEvent> = Vec::new();
    for back in 0..14i64 {
        let day = today - chrono::Duration::days(back);
        let start = day
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        for (k, r) in ["freeshipping", "newsletter"].iter().enumerate() {
            for n in 0..(10 + back % 4 + k as i64 * 6) {
                let at = (start + n * 60_000).min(now - 1000 - n);
                let who = format!("{:032x}", back * 1000 + k as i64 * 100 + n);
                events.push(referral(format!("e{back}-{k}-{n}"), at, Kind::New, r, &who));
            }
        }
    }
    store.ingest(&events, None).unwrap();
    store
}

/// The PGM (P5) at `path`: width, height and grey bytes.
fn read_pgm(path: &Path) -> (usize, usize, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).to_string());
    }
    assert_eq!(fields[0], "P5");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, bytes[i + 1..].to_vec())
}

#[test]
fn the_report_marks_today_draws_the_previous_period_and_fills_its_page() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path());
    let today = chrono::Utc::now().date_naive();
    let mut query = StatsQuery::new(GroupBy::Link, chrono_tz::UTC);
    query.from = Some(today - chrono::Duration::days(6));
    query.to = Some(today);
    let path = dir.path().join("week.pdf");
    write_report(
        &store,
        &ReportRequest {
            path: path.clone(),
            query,
            title: "Jasper's Market".into(),
        },
    )
    .unwrap();
    let text = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils)");
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    let (pf, pt) =
        refboard::stats::previous_range(today - chrono::Duration::days(6), today).unwrap();
    let words = refboard::stats::period_label(pf, pt);
    assert!(
        text.contains(&format!("Previous period ({words})")),
        "{text}"
    );
    assert!(
        text.contains("so far"),
        "today is marked as running: {text}"
    );
    assert_eq!(text.matches('\u{c}').count(), 1, "one page");
    // Rasterised at 30 dpi, grey.
    let prefix = dir.path().join("page");
    if let Ok(keep) = std::env::var("REPORT_PDF_KEEP") {
        std::fs::copy(&path, keep).unwrap();
    }
    let out = Command::new("pdftoppm")
        .args(["-r", "30", "-gray", "-singlefile"])
        .arg(&path)
        .arg(&prefix)
        .output()
        .expect("pdftoppm (Debian poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (w, h, grey) = read_pgm(&prefix.with_extension("pgm"));
    // The content (chart, legend, table) reaches the last fifth of the page:
    // the old page ended at 56% with a fixed 170-point chart.
    let last_ink = (0..h)
        .rev()
        .find(|y| grey[y * w..(y + 1) * w].iter().any(|&v| v < 200))
        .unwrap();
    assert!(
        last_ink * 100 >= h * 80,
        "the page is filled: the last ink is at row {last_ink} of {h}"
    );
}

/// The colour the HTML report's legend gives `name`.
fn legend_color(html: &str, name: &str) -> String {
    let legend = &html[html.find("<div class=\"legend\">").unwrap()..];
    let at = legend.find(&format!("</span> {name}</span>")).unwrap();
    let start = legend[..at].rfind("color:").unwrap() + "color:".len();
    legend[start..start + 7].to_string()
}

#[test]
fn a_group_keeps_its_report_colour_whatever_its_rank() {
    // Defect 5 on paper: colours followed the rank, so a ref changed colour
    // between two reports.
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let now = chrono::Utc::now().timestamp_millis();
    let extra: Vec<ReferralEvent> = (0..80)
        .map(|n| {
            referral(
                format!("x{n}"),
                now - 5000 - n,
                Kind::New,
                "freeshipping",
                &format!("{:032x}", 777_000 + n),
            )
        })
        .collect();
    store.ingest(&extra, None).unwrap();
    let today = chrono::Utc::now().date_naive();
    let html = |from: chrono::NaiveDate, to: chrono::NaiveDate, file: &str| {
        let mut query = StatsQuery::new(GroupBy::Link, chrono_tz::UTC);
        query.from = Some(from);
        query.to = Some(to);
        let path = dir.path().join(file);
        write_report(
            &store,
            &ReportRequest {
                path: path.clone(),
                query,
                title: String::new(),
            },
        )
        .unwrap();
        std::fs::read_to_string(path).unwrap()
    };
    let week = html(
        today - chrono::Duration::days(7),
        today - chrono::Duration::days(1),
        "week.html",
    );
    let day = html(today, today, "today.html");
    let first = |html: &str| {
        let legend = &html[html.find("<div class=\"legend\">").unwrap()..];
        ["freeshipping", "newsletter"]
            .into_iter()
            .min_by_key(|n| legend.find(&format!("</span> {n}</span>")).unwrap())
            .unwrap()
    };
    assert_eq!(first(&week), "newsletter");
    assert_eq!(first(&day), "freeshipping", "the ranking flipped");
    for name in ["freeshipping", "newsletter"] {
        assert_eq!(
            legend_color(&week, name),
            legend_color(&day, name),
            "{name}"
        );
    }
    assert_ne!(
        legend_color(&day, "freeshipping"),
        legend_color(&day, "newsletter")
    );
}
