//! `refboard stats` with conversions (issue #21 item 4): the JSON, the
//! table, the conversions CSV and the attribution options, on a real
//! database made through the store and read by the built binary.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::cli::Env;
use common::conversions::{TestConversion, insert_conversions};
use refboard::model::{ChannelKind, Kind, NewCampaign, NewLink, NewPage, Platform, ReferralEvent};
use refboard::store::Store;

const PAGE_ID: &str = "104729178032417";
/// 2026-11-02T00:00:00Z.
const DAY0_MS: i64 = 1_793_577_600_000;
const HOUR: i64 = 3_600_000;

fn referral(i: usize, person: u32, r: &str, ts_ms: i64) -> ReferralEvent {
    ReferralEvent {
        event_id: format!("e{i}"),
        platform: Platform::Messenger,
        page_id: PAGE_ID.into(),
        sender: format!("{person:032x}"),
        timestamp_ms: ts_ms,
        kind: Kind::New,
        ref_code: Some(r.into()),
        source: Some("SHORTLINK".into()),
        ref_type: None,
        ad_id: None,
        ad_title: None,
        referer_uri: None,
        received_at_ms: ts_ms,
    }
}

fn conv(
    i: usize,
    person: u32,
    ts_ms: i64,
    goal: Option<&str>,
    value: Option<(i64, &str)>,
) -> TestConversion {
    TestConversion {
        event_id: format!("c{i}"),
        platform: "messenger",
        page_id: PAGE_ID.into(),
        sender_hash: format!("{person:032x}"),
        ts_ms,
        goal: goal.map(str::to_string),
        value: value.map(|(m, c)| (m, c.to_string())),
    }
}

/// Links flyer (channel Print) and news (channel Newsletter); 4 people
/// referred by flyer, 2 by news; orders in EUR and USD, one order 9 days
/// after its referral (outside the default window) and one by a stranger.
fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("refboard.db");
    let mut store = Store::open(&db).unwrap();
    let page = store
        .add_page(&NewPage::parse("JaspersMarket", None, Some(PAGE_ID)).unwrap())
        .unwrap();
    let print = store
        .add_channel(page.id, "Print", ChannelKind::Print)
        .unwrap();
    let news = store
        .add_channel(page.id, "Newsletter", ChannelKind::Email)
        .unwrap();
    let c = store
        .add_campaign(
            page.id,
            &NewCampaign::parse("Spring", None, None, None).unwrap(),
        )
        .unwrap();
    for (r, ch) in [("flyer", print.id), ("news", news.id)] {
        let (l, _) = NewLink::parse(r, None, None, None).unwrap();
        store.add_link(page.id, c.id, ch, &l).unwrap();
    }
    let mut refs = Vec::new();
    for p in 0..4 {
        refs.push(referral(
            refs.len(),
            p,
            "flyer",
            DAY0_MS + i64::from(p) * HOUR,
        ));
    }
    for p in 4..6 {
        refs.push(referral(
            refs.len(),
            p,
            "news",
            DAY0_MS + i64::from(p) * HOUR,
        ));
    }
    store.ingest(&refs, None).unwrap();
    insert_conversions(
        &store,
        &[
            conv(0, 0, DAY0_MS + 2 * HOUR, None, None),
            conv(
                1,
                0,
                DAY0_MS + 3 * HOUR,
                Some("order"),
                Some((12_500_000, "EUR")),
            ),
            conv(
                2,
                1,
                DAY0_MS + 5 * HOUR,
                Some("order"),
                Some((3_000_000, "USD")),
            ),
            conv(
                3,
                4,
                DAY0_MS + 24 * HOUR,
                Some("order"),
                Some((7_250_000, "EUR")),
            ),
            // Nine days after person 5's referral: outside 7 days, inside 10.
            conv(
                4,
                5,
                DAY0_MS + 5 * HOUR + 9 * 24 * HOUR,
                Some("order"),
                Some((1_000_000, "EUR")),
            ),
            conv(5, 99, DAY0_MS + 6 * HOUR, Some("signup"), None),
        ],
    );
    drop(store);
    Env::at(dir, db)
}

const RANGE: [&str; 6] = ["--tz", "UTC", "--from", "2026-11-02", "--to", "2026-11-12"];

fn json(env: &Env, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["stats", "--json"];
    args.extend(RANGE);
    args.extend(extra);
    serde_json::from_str(&env.ok(&args)).unwrap()
}

#[test]
fn stats_json_credits_conversions_to_links_with_exact_money_per_currency() {
    let env = env();
    let j = json(&env, &[]);
    let c = &j["conversions"];
    assert_eq!(c["attribution"]["window_days"], 7);
    assert_eq!(c["goals"], serde_json::json!(["order", "signup"]));
    let group = |key: &str| {
        c["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == key)
            .unwrap()
            .clone()
    };
    let flyer = group("flyer");
    assert_eq!(flyer["conversions"], 2);
    assert_eq!(flyer["converted_people"], 2);
    assert_eq!(flyer["conversations"], 1);
    assert_eq!(flyer["referred_people"], 4);
    assert_eq!(flyer["rate"], 0.5);
    assert_eq!(
        flyer["value"],
        serde_json::json!([{"currency": "EUR", "micros": 12_500_000}, {"currency": "USD", "micros": 3_000_000}])
    );
    let news = group("news");
    assert_eq!(news["conversions"], 1, "the late order is outside 7 days");
    assert_eq!(news["median_ms_to_convert"], 20 * HOUR);
    assert_eq!(c["no_referral"]["conversions"], 2);
    assert_eq!(c["totals"]["conversions"], 5);
    // A 10-day window for this run credits the late order to news.
    let wide = json(&env, &["--window", "10"]);
    assert_eq!(wide["conversions"]["no_referral"]["conversions"], 1);
}

#[test]
fn stats_table_and_csv_show_conversions_by_channel_and_the_rest() {
    let env = env();
    let mut args = vec!["stats", "--by", "channel"];
    args.extend(RANGE);
    let table = env.ok(&args);
    for want in [
        "Conversions (7 days' window, last referral in the window",
        "Converted people",
        "Value EUR",
        "Value USD",
        "(no referral in window)",
        "Goal: order",
        "12.50",
        "50.0%",
    ] {
        assert!(table.contains(want), "{want} in\n{table}");
    }
    args.push("--conversions-csv");
    let csv = env.ok(&args);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with(
        "Channel,Referrals,Referred people,Conversations,Conversions,Converted people,Rate,Value EUR,Value USD,Median time to convert,Goal: order,Goal: signup,From,To,Time zone"
    ));
    assert!(csv.contains("Print,4,4,1,2,2,50.0%,12.50,3.00,"), "{csv}");
    assert!(
        csv.contains("(no referral in window),–,–,0,2,2,–,1.00,0.00,–,1,1,"),
        "{csv}"
    );
}

#[test]
fn bad_attribution_options_exit_2_naming_field_value_and_rule() {
    let env = env();
    env.refused(
        2,
        &["stats", "--window", "0"],
        &["attribution window", "0", "from 1 to 90"],
    );
    env.refused(
        2,
        &["stats", "--window", "91"],
        &["attribution window", "91"],
    );
    env.refused(
        2,
        &["stats", "--model", "linear"],
        &["attribution model", "linear", "last or first"],
    );
}

#[test]
fn the_report_has_a_conversions_page_and_section() {
    let env = env();
    let args = |out: &str| {
        vec![
            "report",
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-12",
            "--tz",
            "UTC",
            "--by",
            "channel",
            "-o",
            out,
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let pdf = args("r.pdf");
    env.ok(&pdf.iter().map(String::as_str).collect::<Vec<_>>());
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-f", "2", "-l", "2", "r.pdf", "-"])
        .current_dir(env.dir.path())
        .output()
        .expect("pdftotext (poppler-utils) must be installed");
    let page2 = String::from_utf8(out.stdout).unwrap();
    for want in [
        "Conversions",
        "Rate",
        "50.0%",
        "Value EUR",
        "(no referral in window)",
        "Print",
        "ties go to the referral stored first",
    ] {
        assert!(page2.contains(want), "{want} on page 2:\n{page2}");
    }
    let html = args("r.html");
    env.ok(&html.iter().map(String::as_str).collect::<Vec<_>>());
    let html = std::fs::read_to_string(env.dir.path().join("r.html")).unwrap();
    assert!(html.contains("<h2>Conversions</h2>"));
    assert!(html.contains("<th>Value USD</th>"));
    assert!(
        html.contains("<td class=\"n\">12.50</td>"),
        "exact EUR value of Print"
    );
}
