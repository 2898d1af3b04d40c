//! The Analytics screen of the real App, driven headless by egui_kittest by
//! labels, on temp-file databases with events seeded by hand: headline cards
//! and their changes, the previous period, compare, hover on lines and bars,
//! the unfinished bucket, the date and time-zone pickers, campaign dates and
//! the link detail's glance.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::seed::{campaign, channel, jaspers_market, link, referral};
use common::ui::{harness, replace_in, settle, wait_for};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use refboard::model::{ChannelKind, Kind, ReferralEvent};
use refboard::stats::GroupBy;
use refboard::store::Store;
use refboard::ui::{App, Range, Tab, UiState};
use std::path::{Path, PathBuf};

const DAY_MS: i64 = 86_400_000;

fn shown(h: &Harness<'static, App>, label: &str) -> bool {
    h.query_by_label(label).is_some()
}

fn shown_containing(h: &Harness<'static, App>, label: &str) -> bool {
    h.query_by_label_contains(label).is_some()
}

/// A page with a Page ID, one channel, one campaign and links with these refs.
fn store_with_links(dir: &Path, refs: &[&str]) -> PathBuf {
    let path = dir.join("analytics.db");
    let mut store = Store::open(&path).unwrap();
    let page = jaspers_market(&mut store).id;
    let news = channel(&mut store, page, "Newsletter", ChannelKind::Email);
    let spring = campaign(&mut store, page, "Spring Sale").id;
    for r in refs {
        link(&mut store, page, spring, news, r, Some("Get our deals"));
    }
    path
}

/// One referral: (person, kind, ref, instant in ms).
type Ev = (u32, Kind, &'static str, i64);

fn ingest(db: &Path, events: &[Ev]) {
    let mut store = Store::open(db).unwrap();
    let events: Vec<ReferralEvent> = events
        .iter()
        .enumerate()
        .map(|(i, &(person, kind, r, at))| {
            referral(format!("e{i}-{at}"), at, kind, r, &format!("{person:032x}"))
        })
        .collect();
    store.ingest(&events, None).unwrap();
}

/// Noon UTC of a November 2026 day, or of an October one for `day` <= 0
/// (0 = 31 Oct, -1 = 30 Oct, ...).
fn nov(day: i64) -> i64 {
    // 2026-11-01T12:00:00Z
    1_793_534_400_000 + (day - 1) * DAY_MS
}

/// The seeded month used by most tests: 1–7 Nov against 25–31 Oct.
fn seeded_week(dir: &Path) -> PathBuf {
    let db = store_with_links(dir, &["freeshipping", "winter", "spring"]);
    use Kind::{New, Returning};
    ingest(
        &db,
        &[
            // 1–7 Nov: 7 referrals, people 1 to 4 and 8, 5 new, 2 returning.
            (1, New, "freeshipping", nov(1)),
            (8, New, "spring", nov(1)),
            (2, New, "freeshipping", nov(2)),
            (1, Returning, "freeshipping", nov(3)),
            (3, New, "winter", nov(5)),
            (2, Returning, "winter", nov(6)),
            (4, New, "freeshipping", nov(7)),
            // 25–31 Oct: 4 referrals, people 5 to 7, 3 new, 1 returning.
            (5, New, "freeshipping", nov(-5)),
            (6, New, "freeshipping", nov(-3)),
            (5, Returning, "winter", nov(-1)),
            (7, New, "spring", nov(0)),
        ],
    );
    db
}

fn week_state() -> UiState {
    UiState {
        tab: Tab::Analytics,
        range: Range::Custom,
        custom_from: "2026-11-01".into(),
        custom_to: "2026-11-07".into(),
        tz: "UTC".into(),
        ..UiState::default()
    }
}

fn wait_for_report(h: &mut Harness<'static, App>) {
    wait_for(h, "the report and the previous period", |h| {
        h.state()
            .report
            .as_ref()
            .is_some_and(|r| !r.groups.is_empty())
            && h.state().previous.is_some()
    });
    settle(h);
}

#[test]
fn cards_show_the_seeded_figures_and_their_change_against_the_previous_week() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_week(dir.path());
    let mut h = harness(&db, week_state());
    wait_for_report(&mut h);
    // By hand: 7 vs 4 referrals, 5 vs 3 people, 5 vs 3 new, 2 vs 1
    // returning; all below 20 before, so counts, not percentages.
    for card in [
        "Referrals\n7\nup from 4 in 25–31 Oct",
        "Unique people\n5\nup from 3 in 25–31 Oct",
        "New\n5\nup from 3 in 25–31 Oct",
        "Returning\n2\nup from 1 in 25–31 Oct",
    ] {
        assert!(shown(&h, card), "card {card:?}");
    }
    // A week with nothing before it: no infinite percentage.
    replace_in(&mut h, "From", "2026-10-25");
    replace_in(&mut h, "To", "2026-10-31");
    wait_for(&mut h, "the October week", |h| {
        shown(h, "Referrals\n4\nno data in the previous period")
    });
    assert!(shown(
        &h,
        "Unique people\n3\nno data in the previous period"
    ));
    assert!(!shown_containing(&h, "inf"));
}

/// The report's cards of `from..=to` (the same store, zone and grouping as
/// the dashboard), each as the dashboard's card label reads.
fn report_cards(db: &Path, from: &str, to: &str) -> Vec<String> {
    let store = Store::open(db).unwrap();
    let mut q = refboard::stats::StatsQuery::new(GroupBy::Link, chrono_tz::UTC);
    q.from = Some(from.parse().unwrap());
    q.to = Some(to.parse().unwrap());
    let data = refboard::report::build(&store, &q, "").unwrap();
    data.cards
        .iter()
        .map(|c| format!("{}\n{}\n{}", c.name, c.value, c.change_text))
        .collect()
}

#[test]
fn the_dashboard_and_the_report_say_the_same_of_the_previous_period() {
    let dir = tempfile::tempdir().unwrap();
    let db = store_with_links(dir.path(), &["freeshipping", "winter"]);
    use Kind::{New, Returning};
    ingest(
        &db,
        &[
            // 1–7 Nov: 3 new, 1 returning.
            (1, New, "freeshipping", nov(1)),
            (2, New, "winter", nov(2)),
            (3, New, "freeshipping", nov(4)),
            (1, Returning, "winter", nov(6)),
            // 25–31 Oct: 2 new, no returning one; before it nothing at all.
            (4, New, "freeshipping", nov(-4)),
            (5, New, "winter", nov(-2)),
        ],
    );
    let mut h = harness(&db, week_state());
    wait_for_report(&mut h);
    let cards = report_cards(&db, "2026-11-01", "2026-11-07");
    // By hand: 4 vs 2 referrals, 3 vs 2 people (person 1 came twice), 3 vs
    // 2 new, and 1 returning where the week before had referrals but no
    // returning one.
    assert_eq!(
        cards,
        [
            "Referrals\n4\nup from 2 in 25–31 Oct",
            "Unique people\n3\nup from 2 in 25–31 Oct",
            "New\n3\nup from 2 in 25–31 Oct",
            "Returning\n1\nnew: none in 25–31 Oct",
        ]
    );
    for card in &cards {
        assert!(
            shown(&h, card),
            "the dashboard shows the report's card {card:?}"
        );
    }
    // The week before has no referral at all: both say so on every card.
    replace_in(&mut h, "From", "2026-10-25");
    replace_in(&mut h, "To", "2026-10-31");
    let cards = report_cards(&db, "2026-10-25", "2026-10-31");
    assert!(
        cards
            .iter()
            .all(|c| c.ends_with("\nno data in the previous period")),
        "{cards:?}"
    );
    wait_for(&mut h, "the October week's cards", |h| shown(h, &cards[0]));
    for card in &cards {
        assert!(
            shown(&h, card),
            "the dashboard shows the report's card {card:?}"
        );
    }
}

#[test]
fn the_previous_period_toggle_draws_it_dashed_and_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_week(dir.path());
    let mut h = harness(&db, week_state());
    wait_for_report(&mut h);
    assert!(!shown_containing(&h, "╌ Previous period"));
    h.get_by_label("Previous period").click();
    // One key in the legend for the lighter dashed lines, with their days.
    wait_for(&mut h, "the previous-period lines", |h| {
        shown(h, "╌ Previous period (25–31 Oct)")
    });
    assert!(
        h.state().ui_state().show_previous,
        "the toggle is remembered"
    );
    // Aligned: 28 Oct (the previous week's fourth day, 1 referral) is drawn
    // on 4 Nov, the current week's fourth day (which had none), and named
    // by its own date; the box lists every shown series of both periods.
    let x = bucket_x_of(&h, 3);
    hover_value(&mut h, x, 1.0);
    let text = "Previous period: 2026-10-28\nfreeshipping (previous period): 1\nspring (previous period): 0\nwinter (previous period): 0\n2026-11-04\nfreeshipping: 0\nspring: 0\nwinter: 0";
    assert_eq!(h.state().chart_hover(), Some(text));
    assert!(shown(&h, text));
}

/// The x of bucket `i` of the shown report.
fn bucket_x_of(h: &Harness<'static, App>, i: usize) -> f64 {
    let report = h.state().report.as_ref().unwrap();
    refboard::ui::bucket_x(&report.groups[0].series[i])
}

/// Moves the pointer onto plot value (x, y) and lets the hover box appear.
fn hover_value(h: &mut Harness<'static, App>, x: f64, y: f64) {
    let t = h.state().chart_transform().expect("a chart");
    let at = t.position_from_point(&egui_plot::PlotPoint::new(x, y));
    h.hover_at(at);
    settle(h);
}

#[test]
fn hover_names_date_series_and_count_on_a_line_and_on_a_bar() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_week(dir.path());
    let mut h = harness(&db, week_state());
    wait_for_report(&mut h);
    // freeshipping on 3 Nov: person 1 came back.
    let x = bucket_x_of(&h, 2);
    hover_value(&mut h, x, 1.0);
    // Every shown series at that date, most first (issue 19: the box named
    // one series only).
    let text = "2026-11-03\nfreeshipping: 1\nspring: 0\nwinter: 0";
    assert_eq!(h.state().chart_hover(), Some(text));
    assert!(shown(&h, text), "the hover box is shown");
    // Away from every point: no box.
    let x = bucket_x_of(&h, 2);
    hover_value(&mut h, x, 40.0);
    assert_eq!(h.state().chart_hover(), None);

    // New vs returning as stacked bars: hover inside the returning part of 6 Nov.
    h.get_by_label("Group by").click();
    settle(&mut h);
    h.get_by_label("New vs returning").click();
    wait_for(&mut h, "the kind report", |h| {
        h.state()
            .report
            .as_ref()
            .is_some_and(|r| r.by == GroupBy::Kind)
    });
    settle(&mut h);
    let x = bucket_x_of(&h, 5);
    hover_value(&mut h, x, 0.5);
    assert_eq!(
        h.state().chart_hover(),
        Some("2026-11-06\nNew: 0\nReturning: 1")
    );
    let x = bucket_x_of(&h, 4);
    hover_value(&mut h, x, 0.5);
    assert_eq!(
        h.state().chart_hover(),
        Some("2026-11-05\nNew: 1\nReturning: 0")
    );
    assert!(shown(&h, "2026-11-05\nNew: 1\nReturning: 0"));
}

#[test]
fn compare_charts_only_the_picked_links_and_puts_them_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_week(dir.path());
    let mut h = harness(&db, week_state());
    wait_for_report(&mut h);
    for l in ["━ winter", "━ freeshipping", "━ spring"] {
        assert!(shown(&h, l), "{l} in the legend");
    }
    h.get_by_label("Compare links…").click();
    settle(&mut h);
    h.get_by_label("Pick 2 to 6 links");
    let pick = |h: &Harness<'static, App>, r: &str| {
        h.get_by_role_and_label(egui::accesskit::Role::CheckBox, r)
            .click();
    };
    pick(&h, "freeshipping");
    settle(&mut h);
    // One pick is not a comparison yet.
    assert!(shown(&h, "Pick one more to compare"));
    assert!(!shown(&h, "Comparison"));
    pick(&h, "winter");
    settle(&mut h);
    h.key_press(egui::Key::Escape);
    settle(&mut h);
    h.get_by_label("Comparison");
    // Only the two are charted.
    assert!(shown(&h, "━ freeshipping"));
    assert!(shown(&h, "━ winter"));
    assert!(!shown(&h, "━ spring"), "spring is not compared");
    // Side by side, each with its change: freeshipping 4 against 2, winter 2 against 1.
    h.get_by_label("Change in referrals");
    assert!(shown(&h, "up from 2 in 25–31 Oct"));
    assert!(shown(&h, "up from 1 in 25–31 Oct"));
    h.get_by_label("Clear comparison").click();
    settle(&mut h);
    assert!(!shown(&h, "Comparison"));
    assert!(shown(&h, "━ spring"));
}

#[test]
fn the_unfinished_hour_is_drawn_apart_and_future_hours_are_not_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let db = store_with_links(dir.path(), &["freeshipping"]);
    let now = chrono::Utc::now().timestamp_millis();
    let hour_start = now - now.rem_euclid(3_600_000);
    use Kind::New;
    // Two in the hour before, one in the hour running now (if there was an
    // hour before today's first: else all in this hour).
    let before = (hour_start - 1_800_000).max(now - now.rem_euclid(DAY_MS));
    ingest(
        &db,
        &[
            (1, New, "freeshipping", before),
            (2, New, "freeshipping", before),
            (3, New, "freeshipping", (now - 1000).max(hour_start)),
        ],
    );
    let state = UiState {
        tab: Tab::Analytics,
        range: Range::Today,
        tz: "UTC".into(),
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    wait_for_report(&mut h);
    let report = h.state().report.clone().unwrap();
    let series = &report.groups[0].series;
    assert_eq!(series.len(), 24, "the whole day has buckets");
    let current = series
        .iter()
        .position(|p| p.start_ms == hour_start)
        .expect("the running hour");
    let count = series[current].referrals as f64;
    let x = refboard::ui::bucket_x(&series[current]);
    hover_value(&mut h, x, count);
    let text = h.state().chart_hover().expect("a hover box").to_string();
    assert!(text.contains("(so far)"), "{text}");
    assert!(text.ends_with(&format!("freeshipping: {count}")), "{text}");
    // The next hour has not happened: nothing is drawn there, not even a
    // zero (aimed 6 points above the axis, inside the plot).
    if let Some(next) = series.get(current + 1) {
        let t = h.state().chart_transform().unwrap();
        let at = t.position_from_point(&egui_plot::PlotPoint::new(
            refboard::ui::bucket_x(next),
            0.0,
        ));
        h.hover_at(at - egui::vec2(0.0, 6.0));
        settle(&mut h);
        assert_eq!(h.state().chart_hover(), None, "a future hour is drawn");
        // The same aim at an hour before now finds its zero or its count.
        if current > 0 {
            let before = refboard::ui::bucket_x(&series[current - 1]);
            let at = t.position_from_point(&egui_plot::PlotPoint::new(before, 0.0));
            if series[current - 1].referrals == 0 {
                h.hover_at(at - egui::vec2(0.0, 6.0));
                settle(&mut h);
                assert!(h.state().chart_hover().is_some(), "a past zero is drawn");
            }
        }
    }
    // A finished hour before it is not marked.
    if current > 0 {
        let prev = &series[current - 1];
        hover_value(&mut h, refboard::ui::bucket_x(prev), prev.referrals as f64);
        let text = h.state().chart_hover().unwrap_or_default().to_string();
        assert!(!text.contains("(so far)"), "{text}");
    }
}

#[test]
fn the_date_picker_sets_the_range_and_the_zone_picker_is_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_week(dir.path());
    let mut h = harness(&db, week_state());
    wait_for_report(&mut h);
    // The picker beside "To" shows its date; pick the 12th in its calendar.
    h.get_by_label("2026-11-07").click();
    settle(&mut h);
    h.get_by_label("12").click();
    settle(&mut h);
    h.get_by_label("Save").click();
    wait_for(&mut h, "the range to the 12th", |h| {
        h.state()
            .report
            .as_ref()
            .is_some_and(|r| r.to.map(|d| d.to_string()).as_deref() == Some("2026-11-12"))
    });
    assert_eq!(h.state().ui_state().custom_to, "2026-11-12");
    // The zone: search, pick, and it shows in the summary line.
    h.get_by_label("Time zone").click();
    settle(&mut h);
    h.get_by_label("Find a zone").focus();
    settle(&mut h);
    h.get_by_label("Find a zone").type_text("tokyo");
    settle(&mut h);
    assert!(!shown(&h, "Europe/Berlin"), "the search narrows the list");
    h.get_by_label("Asia/Tokyo").click();
    wait_for(&mut h, "the Tokyo report", |h| {
        h.state()
            .report
            .as_ref()
            .is_some_and(|r| r.tz == "Asia/Tokyo")
    });
    assert!(shown_containing(&h, "(Asia/Tokyo), per day"));
    let saved = h.state().ui_state();
    assert_eq!(saved.tz, "Asia/Tokyo");
    // Saved between runs: a new App from the saved state uses the zone.
    drop(h);
    let mut h = harness(&db, saved);
    wait_for(&mut h, "the report in the saved zone", |h| {
        h.state()
            .report
            .as_ref()
            .is_some_and(|r| r.tz == "Asia/Tokyo")
    });
}

/// Campaign dates are set in one place, the Links side panel (issue 19,
/// defect 1: they were edited under Analytics); Analytics says so and leads
/// there.
#[test]
fn analytics_leads_to_where_campaign_dates_are_set() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_week(dir.path());
    let mut h = harness(&db, week_state());
    wait_for_report(&mut h);
    assert!(
        h.query_by_label("Campaign dates").is_none(),
        "no second editor"
    );
    h.get_by_label("Edit campaign dates").click();
    wait_for(&mut h, "the Links tab", |h| {
        h.state().tab == refboard::ui::Tab::Links
    });
    h.get_by_label("Edit Spring Sale");
}

#[test]
fn the_link_detail_shows_its_last_30_days_and_totals() {
    let dir = tempfile::tempdir().unwrap();
    let db = store_with_links(dir.path(), &["freeshipping"]);
    let now = chrono::Utc::now().timestamp_millis();
    let today = now - now.rem_euclid(DAY_MS);
    use Kind::New;
    // Today 1, 3 days ago 1, 20 days ago 2, 100 days ago 3 (UTC days).
    ingest(
        &db,
        &[
            (1, New, "freeshipping", today),
            (2, New, "freeshipping", today - 3 * DAY_MS),
            (3, New, "freeshipping", today - 20 * DAY_MS),
            (4, New, "freeshipping", today - 20 * DAY_MS + 1000),
            (5, New, "freeshipping", today - 100 * DAY_MS),
            (6, New, "freeshipping", today - 100 * DAY_MS + 1000),
            (7, New, "freeshipping", today - 100 * DAY_MS + 2000),
        ],
    );
    let state = UiState {
        tz: "UTC".into(),
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    wait_for(&mut h, "the link", |h| h.state().snap.links.len() == 1);
    h.get_by_label("freeshipping").click();
    wait_for(&mut h, "the glance", |h| {
        shown(h, "Referrals: 2 in 7 days · 4 in 30 days · 7 all time")
    });
}

#[test]
fn dragging_and_scrolling_stop_at_zero_and_reset_view_restores_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_week(dir.path());
    let mut h = harness(&db, week_state());
    wait_for_report(&mut h);
    let bounds = |h: &Harness<'static, App>| *h.state().chart_transform().unwrap().bounds();
    let before = bounds(&h);
    assert_eq!(before.min()[1], 0.0, "the y axis starts at 0");
    let t = h.state().chart_transform().unwrap();
    let center = t.frame().center();
    // Drag the data up by 300 points: the view would show far below zero.
    h.hover_at(center);
    h.step();
    h.drag_at(center);
    h.step();
    for k in 1..=10 {
        h.hover_at(center - egui::vec2(0.0, 30.0 * k as f32));
        h.step();
    }
    h.drop_at(center - egui::vec2(0.0, 300.0));
    settle(&mut h);
    let dragged = bounds(&h);
    assert!(dragged.min()[1] >= 0.0, "dragged below zero: {dragged:?}");
    // Zoom out around the bottom edge: still nothing below zero.
    let bottom = egui::pos2(center.x, t.frame().bottom() - 2.0);
    for _ in 0..20 {
        h.hover_at(bottom);
        h.event(egui::Event::Zoom(0.7));
        h.step();
    }
    settle(&mut h);
    let zoomed = bounds(&h);
    assert!(zoomed.min()[1] >= 0.0, "zoomed below zero: {zoomed:?}");
    assert!(zoomed.max()[1] > before.max()[1], "the zoom happened");
    h.get_by_label("Reset view").click();
    settle(&mut h);
    let reset = bounds(&h);
    assert_eq!(reset.min()[1], 0.0);
    assert!(
        (reset.max()[1] - before.max()[1]).abs() < 1e-9,
        "{reset:?} against {before:?}"
    );
}
