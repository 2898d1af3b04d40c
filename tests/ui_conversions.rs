//! Conversions on the Analytics screen of the real App (issue #21 item 4),
//! driven headless by egui_kittest by labels on a temp-file database: the
//! Conversions and Rate cards (their change in the words of the stats'
//! own card rule), the funnel for all referrals and for one link, the goals
//! named, and the attribution model set from the screen.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::conversions::{TestConversion, insert_conversions};
use common::seed::{PAGE_ID, campaign, channel, jaspers_market, link, referral};
use common::ui::{harness_sized, settle, wait_for};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use refboard::model::{ChannelKind, CreditModel, Kind, ReferralEvent};
use refboard::stats::conversions::{conversion_cards, conversions};
use refboard::stats::{GroupBy, StatsQuery, query};
use refboard::store::Store;
use refboard::ui::{App, Range, Tab, UiState};
use std::path::{Path, PathBuf};

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// Noon UTC of a November 2026 day (0 = 31 Oct, -1 = 30 Oct, ...).
fn nov(day: i64) -> i64 {
    1_793_534_400_000 + (day - 1) * DAY_MS
}

fn person(n: u32) -> String {
    format!("{n:032x}")
}

fn order(i: usize, who: u32, at: i64, goal: Option<&str>) -> TestConversion {
    TestConversion {
        event_id: format!("c{i}"),
        platform: "messenger",
        page_id: PAGE_ID.into(),
        sender_hash: person(who),
        ts_ms: at,
        goal: goal.map(str::to_string),
        value: goal.map(|_| (10_000_000, "EUR".to_string())),
    }
}

/// 1–7 Nov: people 1, 2, 4 by freeshipping, 3 and 2 by winter, 8 by
/// spring; orders by 1 (after freeshipping) and 2 (after winter), a
/// conversation and a sign-up by 3 (after winter), and an order by 9, never
/// referred. 25–31 Oct: people 5, 6, 7; orders by 5 and 6.
fn seeded(dir: &Path) -> PathBuf {
    let db = dir.join("conversions.db");
    let mut store = Store::open(&db).unwrap();
    let page = jaspers_market(&mut store).id;
    let news = channel(&mut store, page, "Newsletter", ChannelKind::Email);
    let spring = campaign(&mut store, page, "Spring Sale").id;
    for r in ["freeshipping", "winter", "spring"] {
        link(&mut store, page, spring, news, r, Some("Get our deals"));
    }
    use Kind::{New, Returning};
    let events: Vec<ReferralEvent> = [
        (1, New, "freeshipping", nov(1)),
        (8, New, "spring", nov(1)),
        (2, New, "freeshipping", nov(2)),
        (1, Returning, "freeshipping", nov(3)),
        (3, New, "winter", nov(5)),
        (2, Returning, "winter", nov(6)),
        (4, New, "freeshipping", nov(7)),
        (5, New, "freeshipping", nov(-5)),
        (6, New, "freeshipping", nov(-3)),
        (5, Returning, "winter", nov(-1)),
        (7, New, "spring", nov(0)),
    ]
    .iter()
    .enumerate()
    .map(|(i, &(p, kind, r, at))| referral(format!("e{i}"), at, kind, r, &person(p)))
    .collect();
    store.ingest(&events, None).unwrap();
    insert_conversions(
        &store,
        &[
            order(0, 1, nov(3) + HOUR_MS, Some("order")),
            order(1, 2, nov(6) + 2 * HOUR_MS, Some("order")),
            order(2, 3, nov(5) + HOUR_MS, None),
            order(3, 3, nov(5) + 3 * HOUR_MS, Some("signup")),
            order(4, 9, nov(4), Some("order")),
            order(5, 5, nov(-1) + HOUR_MS, Some("order")),
            order(6, 6, nov(-3) + HOUR_MS, Some("order")),
        ],
    );
    db
}

fn state() -> UiState {
    UiState {
        tab: Tab::Analytics,
        range: Range::Custom,
        custom_from: "2026-11-01".into(),
        custom_to: "2026-11-07".into(),
        tz: "UTC".into(),
        ..UiState::default()
    }
}

fn shown(h: &Harness<'static, App>, label: &str) -> bool {
    h.query_by_label(label).is_some()
}

/// A tall window: the funnel is below the chart and the tables.
fn open(db: &Path) -> Harness<'static, App> {
    let mut h = harness_sized(db, state(), 1400.0, 4000.0);
    wait_for(
        &mut h,
        "the report, its conversions and the previous period's",
        |h| {
            let s = h.state();
            s.report.as_ref().is_some_and(|r| {
                r.unique_people_counted && s.conversions.as_ref().is_some_and(|c| c.belongs_to(r))
            }) && s.previous_conversions.is_some()
        },
    );
    settle(&mut h);
    h
}

/// The cards as the stats' own rule words them for the same data.
fn expected_cards(db: &Path) -> Vec<String> {
    let store = Store::open(db).unwrap();
    let q = |from: &str, to: &str| {
        let mut q = StatsQuery::new(GroupBy::Link, chrono_tz::UTC);
        q.from = Some(from.parse().unwrap());
        q.to = Some(to.parse().unwrap());
        q
    };
    let (qn, qp) = (q("2026-11-01", "2026-11-07"), q("2026-10-25", "2026-10-31"));
    let (rn, rp) = (query(&store, &qn).unwrap(), query(&store, &qp).unwrap());
    let (cn, cp) = (
        conversions(&store, &qn, &rn).unwrap(),
        conversions(&store, &qp, &rp).unwrap(),
    );
    let range = (rp.from.unwrap(), rp.to.unwrap());
    conversion_cards(&cn, Some((&rp, &cp, range)))
        .iter()
        .map(|c| format!("{}\n{}\n{}", c.card.name, c.shown, c.card.change_text))
        .collect()
}

#[test]
fn conversion_cards_show_the_figures_with_the_change_rule_of_every_card() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let mut h = open(&db);
    let cards = expected_cards(&db);
    // By hand: 4 conversions (the stranger's order counts), rate 3 credited
    // people of 5 referred = 60.0%; before: 2 conversions.
    assert!(cards[0].starts_with("Conversions\n4\n"), "{cards:?}");
    assert!(cards[1].starts_with("Rate\n60.0%\n"), "{cards:?}");
    // Against the week before, by the cards' rule: 2 conversions then is
    // too few for a percentage, so the count is named.
    assert!(
        cards[0].ends_with("up from 2 in 25–31 Oct"),
        "compared with the week before: {cards:?}"
    );
    for card in &cards {
        assert!(shown(&h, card), "the dashboard shows {card:?}");
    }
    assert!(shown(&h, "Goals in this range: order, signup"));
    settle(&mut h);
}

#[test]
fn funnel_for_all_referrals_then_one_link_and_after_the_model_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let mut h = open(&db);
    for step in [
        "Referred people: 5 people (100.0% of referred people)",
        "Started a conversation: 1 people (20.0% of referred people)",
        "Goal: order: 2 people (40.0% of referred people)",
        "Goal: signup: 1 people (20.0% of referred people)",
    ] {
        assert!(shown(&h, step), "{step}");
    }
    h.get_by_label("Funnel of one link").click();
    settle(&mut h);
    // The popup's entry is drawn last (the tables above name the link too).
    h.query_all_by_label("freeshipping").last().unwrap().click();
    wait_for(&mut h, "the freeshipping funnel", |h| {
        shown(h, "Referred people: 3 people (100.0% of referred people)")
    });
    assert!(shown(
        &h,
        "Goal: order: 1 people (33.3% of referred people)"
    ));
    assert!(shown(
        &h,
        "Goal: signup: 0 people (0.0% of referred people)"
    ));
    // First referral: person 2's order goes to freeshipping (2 Nov), not winter.
    h.get_by_label("Attribution model").click();
    settle(&mut h);
    h.query_all_by_label("First referral in the window")
        .last()
        .unwrap()
        .click();
    settle(&mut h);
    h.get_by_label("Apply attribution").click();
    wait_for(&mut h, "the order credited to the first referral", |h| {
        h.state().snap.attribution.model == CreditModel::First
            && shown(h, "Goal: order: 2 people (66.7% of referred people)")
    });
    assert_eq!(
        Store::open(&db).unwrap().attribution().unwrap().model,
        CreditModel::First,
        "saved"
    );
}

#[test]
fn conversions_csv_is_written_with_a_column_per_currency_and_the_no_referral_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let mut h = open(&db);
    let path = dir.path().join("conversions.csv");
    common::ui::replace_in(&mut h, "Conversions CSV file", path.to_str().unwrap());
    h.get_by_label("Export conversions CSV").click();
    wait_for(&mut h, "the CSV file", |_| path.exists());
    let csv = std::fs::read_to_string(&path).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("Link,Referrals,Referred people,Conversations,Conversions,Converted people,Rate,Value EUR,Median time to convert,Goal: order,Goal: signup,From,To,Time zone"),
        "{csv}"
    );
    // freeshipping: 4 referrals of 3 people, person 1's order of 10 EUR 1 h after.
    assert!(
        csv.contains("freeshipping,4,3,0,1,1,33.3%,10.00,1 h 0 min,1,0,2026-11-01,2026-11-07,UTC"),
        "{csv}"
    );
    assert!(
        csv.contains("(no referral in window),–,–,0,1,1,–,10.00,–,1,0,"),
        "{csv}"
    );
}
