//! Typo rescue (aliases), words people use, and the shareable report, on a
//! real store in a temp dir: stats, the built CLI, real PDF text (poppler's
//! `pdftotext`) and parsed HTML.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use refboard::model::{ChannelKind, Kind, NewLink, ReferralEvent};
use refboard::report::{self, Card};
use refboard::stats::{Change, GroupBy, Report, StatsQuery, query};
use refboard::store::Store;
use std::path::{Path, PathBuf};

mod common;
use common::cli::Env;
use common::seed::{campaign, channel, jaspers_market, link, ms, referral};

fn event(i: usize, day: &str, kind: Kind, ref_code: &str, sender: &str) -> ReferralEvent {
    referral(
        format!("e{i}"),
        ms(&format!("{day}T12:00:00Z")),
        kind,
        ref_code,
        sender,
    )
}

/// A page with two links: `freeshipping` (Flyer, campaign Spring) and
/// `newsletter` (Newsletter, campaign Autumn), and referrals in
/// 1–10 Oct 2026 (the previous period) and 11–20 Oct 2026, one of them
/// through the typo `freeshiping`.
fn seeded(dir: &Path) -> PathBuf {
    let path = dir.join("typos.db");
    let mut store = Store::open(&path).unwrap();
    let page = jaspers_market(&mut store).id;
    let flyer = channel(&mut store, page, "Flyer", ChannelKind::Flyer);
    let news = channel(&mut store, page, "Newsletter", ChannelKind::Email);
    let spring = campaign(&mut store, page, "Spring").id;
    let autumn = campaign(&mut store, page, "Autumn").id;
    link(&mut store, page, spring, flyer, "freeshipping", None);
    link(&mut store, page, autumn, news, "newsletter", None);
    use Kind::{New, Returning};
    let events = vec![
        // Previous period: 4 referrals, 3 people, 3 new, 1 returning.
        event(1, "2026-10-02", New, "freeshipping", "p1"),
        event(2, "2026-10-03", New, "freeshipping", "p2"),
        event(3, "2026-10-05", Returning, "newsletter", "p2"),
        event(4, "2026-10-09", New, "newsletter", "p3"),
        // The range: 6 referrals, 4 people, 3 new, 3 returning.
        event(5, "2026-10-12", Returning, "freeshipping", "p1"),
        event(6, "2026-10-13", New, "freeshiping", "p4"),
        event(7, "2026-10-14", New, "newsletter", "p5"),
        event(8, "2026-10-15", Returning, "newsletter", "p5"),
        event(9, "2026-10-19", New, "freeshipping", "p6"),
        event(10, "2026-10-20", Returning, "newsletter", "p1"),
    ];
    store.ingest(&events, None).unwrap();
    path
}

fn range_query(by: GroupBy) -> StatsQuery {
    let mut q = StatsQuery::new(by, chrono_tz::UTC);
    q.from = Some("2026-10-11".parse().unwrap());
    q.to = Some("2026-10-20".parse().unwrap());
    q
}

fn group(r: &Report, key: &str) -> (u64, u64) {
    r.groups
        .iter()
        .find(|g| g.key == key)
        .map_or((0, 0), |g| (g.referrals, g.unique_people))
}

fn link_id(store: &Store, ref_code: &str) -> i64 {
    let page = store.resolve_page(None).unwrap();
    store.link_by_ref(page.id, ref_code).unwrap().link.id
}

#[test]
fn an_alias_counts_for_its_link_in_every_grouping_past_and_future() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&seeded(dir.path())).unwrap();
    let before = query(&store, &range_query(GroupBy::Link)).unwrap();
    assert_eq!(group(&before, "freeshipping"), (2, 2));
    assert_eq!(before.untracked_total, 1);
    assert_eq!(before.untracked_refs[0].ref_code, "freeshiping");

    let id = link_id(&store, "freeshipping");
    let (row, warnings) = store.add_alias(id, "freeshiping").unwrap();
    assert!(warnings.is_empty());
    assert_eq!(row.link_ref, "freeshipping");

    // Past referrals count for the link: by link, channel and campaign, and in unique people.
    let by_link = query(&store, &range_query(GroupBy::Link)).unwrap();
    assert_eq!(group(&by_link, "freeshipping"), (3, 3));
    assert_eq!(
        by_link.untracked_total, 0,
        "an aliased ref is not untracked"
    );
    assert!(by_link.untracked_refs.is_empty());
    let by_channel = query(&store, &range_query(GroupBy::Channel)).unwrap();
    assert_eq!(group(&by_channel, "Flyer"), (3, 3));
    assert_eq!(group(&by_channel, "(untracked)"), (0, 0));
    let by_campaign = query(&store, &range_query(GroupBy::Campaign)).unwrap();
    assert_eq!(group(&by_campaign, "Spring"), (3, 3));
    // "By ref" still shows every ref as it arrived.
    let by_ref = query(&store, &range_query(GroupBy::Ref)).unwrap();
    assert_eq!(group(&by_ref, "freeshiping"), (1, 1));

    // Future referrals too.
    store
        .ingest(
            &[event(11, "2026-10-16", Kind::New, "freeshiping", "p7")],
            None,
        )
        .unwrap();
    let later = query(&store, &range_query(GroupBy::Channel)).unwrap();
    assert_eq!(group(&later, "Flyer"), (4, 4));

    // Removing the alias gives the ref back to the untracked list.
    store.remove_alias(row.alias.page, "freeshiping").unwrap();
    let after = query(&store, &range_query(GroupBy::Link)).unwrap();
    assert_eq!(group(&after, "freeshipping"), (2, 2));
    assert_eq!(after.untracked_total, 1);
    assert_eq!(after.untracked_refs[0].referrals, 2);
}

#[test]
fn alias_rules_hold_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&seeded(dir.path())).unwrap();
    let id = link_id(&store, "freeshipping");
    let e = store.add_alias(id, "newsletter").unwrap_err().to_string();
    assert!(e.contains("already has this ref"), "{e}");
    store.add_alias(id, "freeshiping").unwrap();
    let e = store.add_alias(id, "freeshiping").unwrap_err().to_string();
    assert!(e.contains("already has this alias"), "{e}");
    let e = store
        .add_alias(id, "free shipping")
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid alias"), "{e}");
    // A new link cannot take a ref that already counts for another link.
    let page = store.resolve_page(None).unwrap();
    let cm = store.resolve_campaign(page.id, "Spring").unwrap();
    let ch = store.resolve_channel(page.id, "Flyer").unwrap();
    let (dup, _) = NewLink::parse("freeshiping", None, None, None).unwrap();
    let e = store
        .add_link(page.id, cm.id, ch.id, &dup)
        .unwrap_err()
        .to_string();
    assert!(e.contains("is an alias of link \"freeshipping\""), "{e}");
    // Removing the link removes its aliases.
    store.remove_link(id).unwrap();
    assert!(store.aliases(None, None).unwrap().is_empty());
    // A missing alias is named.
    let e = store.remove_alias(page.id, "nope").unwrap_err();
    assert!(e.is_user_error());
}

#[test]
fn a_version_4_database_gains_aliases_and_keeps_its_links() {
    let dir = tempfile::tempdir().unwrap();
    let path = seeded(dir.path());
    // Undo migrations 5 (aliases), 6 (person index, rollups with platform
    // and ad) and 7 (event person numbers) by hand: what a refboard before
    // them wrote. Migration 6 rebuilds the rollups from the events, so they
    // are left empty here.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE link_aliases; DROP TABLE persons; DROP TABLE people_index;
         DROP TABLE referral_rollup;
         CREATE TABLE referral_rollup (
             period INTEGER NOT NULL, page_id TEXT NOT NULL, has_ref INTEGER NOT NULL,
             ref TEXT NOT NULL, source TEXT NOT NULL, slots BLOB NOT NULL,
             PRIMARY KEY (period, page_id, has_ref, ref, source)
         ) WITHOUT ROWID;
         ALTER TABLE referral_events DROP COLUMN person;
         DROP TABLE conversion_events; DROP TABLE credit_people; DROP TABLE credit_names; DROP TABLE credit_keys; DROP TABLE credit_days; PRAGMA user_version = 4;",
    )
    .unwrap();
    drop(conn);
    let mut store = Store::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        refboard::store::SCHEMA_VERSION
    );
    let id = link_id(&store, "freeshipping");
    store.add_alias(id, "freeshiping").unwrap();
    let r = query(&store, &range_query(GroupBy::Link)).unwrap();
    assert_eq!(group(&r, "freeshipping"), (3, 3));
    assert_eq!(group(&r, "newsletter"), (3, 2));
}

#[test]
fn a_campaign_filter_keeps_its_links_and_their_aliases_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&seeded(dir.path())).unwrap();
    let id = link_id(&store, "freeshipping");
    store.add_alias(id, "freeshiping").unwrap();
    let mut q = range_query(GroupBy::Link);
    q.campaign = Some("spring".into());
    let r = query(&store, &q).unwrap();
    assert_eq!(r.totals.referrals, 3);
    assert_eq!(r.totals.unique_people, 3);
    assert_eq!((r.totals.new, r.totals.returning), (2, 1));
    assert_eq!(r.groups.len(), 1);
    assert_eq!(group(&r, "freeshipping"), (3, 3));
}

fn few(previous: u64, current: u64) -> Change {
    Change::Few { previous, current }
}

#[test]
fn report_cards_equal_hand_computed_values() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&seeded(dir.path())).unwrap();
    let data = report::build(&store, &range_query(GroupBy::Link), "Jasper's Market").unwrap();
    let shown: Vec<(&str, u64, Option<u64>, Change)> = data
        .cards
        .iter()
        .map(|c: &Card| (c.name, c.value, c.previous, c.change))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("Referrals", 6, Some(4), few(4, 6)),
            ("Unique people", 4, Some(3), few(3, 4)),
            ("New", 3, Some(3), few(3, 3)),
            ("Returning", 3, Some(1), few(1, 3)),
        ]
    );
    // Below 20 in the previous period: the count, not a percentage.
    assert_eq!(data.cards[0].change_text, "up from 4 in 1–10 Oct");
    assert_eq!(data.cards[2].change_text, "same as in 1–10 Oct (3)");
    assert_eq!(data.range_text, "11–20 Oct 2026 (UTC)");
    // The first ten days have nothing before them: no infinite percentage.
    let mut q = range_query(GroupBy::Link);
    q.from = Some("2026-10-01".parse().unwrap());
    q.to = Some("2026-10-10".parse().unwrap());
    let first = report::build(&store, &q, "").unwrap();
    assert_eq!(first.cards[0].value, 4);
    assert_eq!(first.cards[0].change, Change::NoPrevious);
    assert_eq!(first.cards[0].change_text, "no data in the previous period");
}

#[test]
fn previous_period_and_change_rules() {
    use refboard::stats::previous_range;
    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    // A whole month against the whole month before; other ranges against
    // the same number of days just before.
    assert_eq!(
        previous_range(d("2026-11-01"), d("2026-11-30")),
        Some((d("2026-10-01"), d("2026-10-31")))
    );
    assert_eq!(
        previous_range(d("2026-10-11"), d("2026-10-20")),
        Some((d("2026-10-01"), d("2026-10-10")))
    );
    assert_eq!(
        previous_range(d("2026-03-01"), d("2026-03-01")),
        Some((d("2026-02-28"), d("2026-02-28")))
    );
    assert_eq!(previous_range(d("2004-01-01"), d("2004-01-10")), None);
    assert_eq!(Change::between(5, 0), few(0, 5));
    assert_eq!(Change::between(0, 0), few(0, 0));
    assert_eq!(Change::between(0, 40), Change::Down(100));
    assert_eq!(Change::between(u64::MAX, 20), Change::Up(u64::MAX));
    assert_eq!(Change::between(30, 20), Change::Up(50));
}

// ---- The CLI ----

/// The seeded store of this file in a temp dir, for the CLI tests.
fn seeded_env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    Env::at(dir, db)
}

/// `stats --json` over the seeded days, grouped `by`.
fn stats_json(env: &Env, by: &str) -> serde_json::Value {
    let out = env.ok(&[
        "stats",
        "--from",
        "2026-10-11",
        "--to",
        "2026-10-20",
        "--tz",
        "UTC",
        "--by",
        by,
        "--json",
    ]);
    serde_json::from_str(&out).unwrap()
}

fn referrals_of(v: &serde_json::Value, key: &str) -> u64 {
    v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .map_or(0, |g| g["referrals"].as_u64().unwrap())
}

#[test]
fn cli_link_alias_add_list_remove() {
    let env = seeded_env();
    let out = env.ok(&[
        "link",
        "alias",
        "add",
        "freeshiping",
        "--link",
        "freeshipping",
    ]);
    assert!(
        out.contains("freeshiping now count for link freeshipping"),
        "{out}"
    );
    let list = env.ok(&["link", "alias", "list"]);
    assert!(
        list.contains("freeshiping") && list.contains("freeshipping"),
        "{list}"
    );
    let json: serde_json::Value = serde_json::from_str(&env.ok(&[
        "link",
        "alias",
        "list",
        "--link",
        "freeshipping",
        "--json",
    ]))
    .unwrap();
    assert_eq!(json[0]["alias"], "freeshiping");
    assert_eq!(json[0]["link_ref"], "freeshipping");
    let none: serde_json::Value =
        serde_json::from_str(&env.ok(&["link", "alias", "list", "--link", "newsletter", "--json"]))
            .unwrap();
    assert_eq!(none, serde_json::json!([]));
    let stats = stats_json(&env, "link");
    assert_eq!(referrals_of(&stats, "freeshipping"), 3);
    assert_eq!(stats["untracked_total"], 0);
    // By id works too.
    let store = Store::open(&env.db).unwrap();
    let id = link_id(&store, "newsletter").to_string();
    drop(store);
    env.ok(&["link", "alias", "add", "Newsletter", "--link", &id]);
    env.ok(&["link", "alias", "remove", "freeshiping"]);
    let stats = stats_json(&env, "link");
    assert_eq!(referrals_of(&stats, "freeshipping"), 2);
    assert_eq!(stats["untracked_total"], 1);
}

#[test]
fn cli_alias_bad_input_exits_2_naming_field_value_and_rule() {
    let env = seeded_env();
    env.refused(
        2,
        &[
            "link",
            "alias",
            "add",
            "free shipping",
            "--link",
            "freeshipping",
        ],
        &["invalid alias", "\"free shipping\"", "' ' at position 5"],
    );
    env.refused(
        2,
        &[
            "link",
            "alias",
            "add",
            "newsletter",
            "--link",
            "freeshipping",
        ],
        &["invalid alias", "\"newsletter\"", "already has this ref"],
    );
    env.refused(
        2,
        &[
            "link",
            "alias",
            "add",
            "freeshiping",
            "--link",
            "nosuchlink",
        ],
        &["no link matches \"nosuchlink\""],
    );
    env.refused(
        2,
        &["link", "alias", "remove", "nothere"],
        &["no alias matches \"nothere\""],
    );
    env.ok(&[
        "link",
        "alias",
        "add",
        "freeshiping",
        "--link",
        "freeshipping",
    ]);
    env.refused(
        2,
        &[
            "link",
            "alias",
            "add",
            "freeshiping",
            "--link",
            "newsletter",
        ],
        &["already has this alias"],
    );
}

#[test]
fn cli_stats_uses_words_people_use_and_json_keeps_raw_values() {
    let env = seeded_env();
    let table = env.ok(&[
        "stats",
        "--from",
        "2026-10-11",
        "--to",
        "2026-10-20",
        "--tz",
        "UTC",
        "--by",
        "source",
    ]);
    assert!(table.contains("Source"), "{table}");
    assert!(table.contains("m.me link"), "{table}");
    assert!(!table.contains("SHORTLINK"), "{table}");
    let kinds = env.ok(&[
        "stats",
        "--from",
        "2026-10-11",
        "--to",
        "2026-10-20",
        "--tz",
        "UTC",
        "--by",
        "kind",
    ]);
    assert!(
        kinds.contains("New or returning") && kinds.contains("Returning"),
        "{kinds}"
    );
    let links = env.ok(&[
        "stats",
        "--from",
        "2026-10-11",
        "--to",
        "2026-10-20",
        "--tz",
        "UTC",
    ]);
    assert!(
        links.lines().any(|l| l.trim_start().starts_with("Link")),
        "{links}"
    );
    let json = stats_json(&env, "source");
    assert_eq!(json["groups"][0]["key"], "SHORTLINK");
}

fn report_args(out: &str) -> Vec<&str> {
    vec![
        "report",
        "--from",
        "2026-10-11",
        "--to",
        "2026-10-20",
        "--tz",
        "UTC",
        "-o",
        out,
    ]
}

/// Stores one new referral from person `p9` with a stranger's `ref_code`.
fn ingest_stranger_ref(env: &Env, i: usize, day: &str, ref_code: &str) {
    let mut store = Store::open(&env.db).unwrap();
    let e = event(i, day, Kind::New, ref_code, "p9");
    store.ingest(&[e], None).unwrap();
}

#[test]
fn cli_report_html_names_the_range_shows_the_cards_and_escapes_refs() {
    let env = seeded_env();
    // A stranger's ref carrying markup.
    ingest_stranger_ref(&env, 20, "2026-10-18", "<img src=x onerror=alert(1)>");
    let out = env.dir.path().join("report.html");
    let path = out.to_str().unwrap();
    let mut args = report_args(path);
    args.extend(["--by", "ref"]);
    env.ok(&args);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("11–20 Oct 2026 (UTC)"), "names the range");
    assert!(!html.contains("<img"), "no markup from a ref");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // The cards, read back out of the HTML.
    let cards = card_texts(&html);
    assert_eq!(
        cards,
        vec![
            (
                "Referrals".to_string(),
                "7".to_string(),
                "up from 4 in 1–10 Oct".to_string()
            ),
            (
                "Unique people".into(),
                "5".into(),
                "up from 3 in 1–10 Oct".into()
            ),
            ("New".into(), "4".into(), "up from 3 in 1–10 Oct".into()),
            (
                "Returning".into(),
                "3".into(),
                "up from 1 in 1–10 Oct".into()
            ),
        ]
    );
    assert!(html.contains("<svg"), "the chart");
    assert!(html.contains("<th>Ref</th>"), "the table names its column");
    // Existing files are kept unless --force.
    env.refused(
        2,
        &report_args(path),
        &["invalid output", "the file exists"],
    );
    let mut forced = report_args(path);
    forced.push("--force");
    env.ok(&forced);
}

/// (name, value, change) of each card div, in order.
fn card_texts(html: &str) -> Vec<(String, String, String)> {
    let inner = |s: &str, class: &str| -> String {
        let open = format!("<div class=\"{class}\">");
        let start = s.find(&open).unwrap() + open.len();
        s[start..start + s[start..].find("</div>").unwrap()].to_string()
    };
    html.split("<div class=\"card\">")
        .skip(1)
        .map(|c| (inner(c, "name"), inner(c, "value"), inner(c, "change")))
        .collect()
}

#[test]
fn cli_report_pdf_is_one_page_naming_the_range_and_the_figures() {
    let env = seeded_env();
    let out = env.dir.path().join("report.pdf");
    let mut args = report_args(out.to_str().unwrap());
    args.extend(["--campaign", "Spring"]);
    env.ok(&args);
    let text = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&out)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed; .ci/run installs it");
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("11–20 Oct 2026 (UTC)"), "{text}");
    assert!(text.contains("campaign Spring"), "{text}");
    assert!(text.contains("Unique people"), "{text}");
    assert!(text.contains("freeshipping"), "{text}");
    assert!(
        !text.contains("newsletter"),
        "only the campaign's links: {text}"
    );
    assert_eq!(text.matches('\u{c}').count(), 1, "one page");
}

#[test]
fn cli_report_bad_input_exits_2() {
    let env = seeded_env();
    env.refused(
        2,
        &report_args("report.docx"),
        &["invalid output", "report.docx", ".pdf or .html"],
    );
    env.refused(
        2,
        &[
            "report",
            "--from",
            "2026-10-32",
            "--to",
            "2026-10-20",
            "-o",
            "r.html",
        ],
        &["invalid from", "YYYY-MM-DD"],
    );
    env.refused(
        2,
        &[
            "report",
            "--from",
            "2026-10-20",
            "--to",
            "2026-10-11",
            "-o",
            "r.html",
        ],
        &["invalid to", "ends before it starts"],
    );
    let mut args = report_args("r.pdf");
    args.extend(["--campaign", "Nope"]);
    env.refused(2, &args, &["no campaign matches"]);
    assert!(!env.dir.path().join("r.pdf").exists());
    assert!(!env.dir.path().join("r.html").exists());
}

#[test]
fn cli_report_pdf_shows_a_hostile_ref_as_visible_escapes() {
    let env = seeded_env();
    ingest_stranger_ref(&env, 21, "2026-10-17", "invoice\u{202E}fdp.exe");
    let out = env.dir.path().join("refs.pdf");
    let mut args = report_args(out.to_str().unwrap());
    args.extend(["--by", "ref"]);
    env.ok(&args);
    let text = std::process::Command::new("pdftotext")
        .arg(&out)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed; .ci/run installs it");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("invoice\\u{202E}fdp.exe"), "{text}");
    assert!(
        !text.contains('\u{202E}'),
        "the override never reaches the PDF"
    );
    assert!(
        text.contains("freeshiping"),
        "untracked refs are groups by ref"
    );
}

#[test]
fn an_alias_counts_in_the_right_hour_across_a_clock_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&seeded(dir.path())).unwrap();
    let at = |i: usize, utc: &str, r: &str| {
        let mut e = event(i, "2026-10-25", Kind::New, r, &format!("q{i}"));
        e.timestamp_ms = chrono::DateTime::parse_from_rfc3339(utc)
            .unwrap()
            .timestamp_millis();
        e
    };
    // Berlin repeats 02:00–03:00 on 25 Oct 2026: 00:30Z is 02:30+02:00, 01:30Z is 02:30+01:00.
    store
        .ingest(
            &[
                at(30, "2026-10-25T00:30:00Z", "freeshiping"),
                at(31, "2026-10-25T01:30:00Z", "freeshiping"),
                at(32, "2026-10-25T01:40:00Z", "freeshipping"),
            ],
            None,
        )
        .unwrap();
    let id = link_id(&store, "freeshipping");
    store.add_alias(id, "freeshiping").unwrap();
    let mut q = StatsQuery::new(
        GroupBy::Link,
        refboard::stats::parse_tz("Europe/Berlin").unwrap(),
    );
    q.from = Some("2026-10-25".parse().unwrap());
    q.to = Some("2026-10-25".parse().unwrap());
    q.every = Some(refboard::stats::Every::Hour);
    let r = query(&store, &q).unwrap();
    let g = r.groups.iter().find(|g| g.key == "freeshipping").unwrap();
    assert_eq!((g.referrals, g.unique_people), (3, 3));
    let hour = |label: &str| {
        g.series
            .iter()
            .find(|p| p.bucket == label)
            .map(|p| p.referrals)
    };
    assert_eq!(hour("2026-10-25T02:00+02:00"), Some(1));
    assert_eq!(hour("2026-10-25T02:00+01:00"), Some(2));
    assert_eq!(g.series.len(), 25, "the day has 25 hours");
    assert_eq!(r.untracked_total, 0);
}
