//! Issue 19, "Numbers to trust", on the real App under egui_kittest: the
//! month presets and their calendar comparison, Custom pre-filled with the
//! range on screen, and the date picker's Save with the date it opened on.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use chrono::{Datelike, NaiveDate};
use common::seed::{campaign, channel, jaspers_market, link, referral};
use common::ui::{harness, replace_in, settle, wait_for};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use refboard::model::{ChannelKind, Kind, ReferralEvent};
use refboard::store::Store;
use refboard::ui::{App, Range, Tab, UiState};
use std::path::{Path, PathBuf};

/// Today in UTC (the zone of every test here).
fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Noon UTC of `day`, in ms.
fn noon(day: NaiveDate) -> i64 {
    day.and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
}

/// A page with one link and `per_day` referrals a day for the 70 days up to
/// today (enough for two months back and percentages on every card).
fn store_with_days(dir: &Path, per_day: u32) -> PathBuf {
    let path = dir.join("numbers.db");
    let mut store = Store::open(&path).unwrap();
    let page = jaspers_market(&mut store).id;
    let news = channel(&mut store, page, "Newsletter", ChannelKind::Email);
    let spring = campaign(&mut store, page, "Spring Sale").id;
    link(&mut store, page, spring, news, "freeshipping", None);
    let now = chrono::Utc::now().timestamp_millis();
    let mut events: Vec<ReferralEvent> = Vec::new();
    for back in 0..70i64 {
        let day = today() - chrono::Duration::days(back);
        for n in 0..per_day {
            // Today's referrals are in the past, so none is in the future.
            let at = (noon(day) + i64::from(n) * 60_000).min(now - 1000 - i64::from(n));
            let person = format!("{:032x}", back * 1000 + i64::from(n));
            events.push(referral(
                format!("e{back}-{n}"),
                at,
                Kind::New,
                "freeshipping",
                &person,
            ));
        }
    }
    store.ingest(&events, None).unwrap();
    path
}

fn state(range: Range) -> UiState {
    UiState {
        tab: Tab::Analytics,
        range,
        tz: "UTC".into(),
        ..UiState::default()
    }
}

/// The shown report's first and last day.
fn shown_days(h: &Harness<'static, App>) -> Option<(NaiveDate, NaiveDate)> {
    h.state().report.as_ref().and_then(|r| r.from.zip(r.to))
}

fn previous_days(h: &Harness<'static, App>) -> Option<(NaiveDate, NaiveDate)> {
    h.state().previous.as_ref().and_then(|r| r.from.zip(r.to))
}

#[test]
fn this_month_is_compared_with_the_same_days_of_last_month() {
    let dir = tempfile::tempdir().unwrap();
    let db = store_with_days(dir.path(), 1);
    let mut h = harness(&db, state(Range::Days30));
    wait_for(&mut h, "the 30 days", |h| h.state().previous.is_some());
    h.get_by_label("This month").click();
    let first = today().with_day(1).unwrap();
    let last_month = first.pred_opt().unwrap().with_day(1).unwrap();
    // The same day of last month, or its last day when it has no such day.
    let same_day = last_month
        .with_day(today().day())
        .unwrap_or_else(|| first.pred_opt().unwrap());
    wait_for(&mut h, "this month and its previous period", |h| {
        shown_days(h) == Some((first, today())) && previous_days(h).is_some()
    });
    assert_eq!(previous_days(&h), Some((last_month, same_day)));
    // The card names the days it is compared with.
    let words = refboard::stats::period_label(last_month, same_day);
    let days = u64::from(today().day());
    let card = format!("Referrals\n{days}\nsame as in {words} ({days})");
    let pct = format!("Referrals\n{days}\nno change vs {words}");
    wait_for(&mut h, "the referrals card", |h| {
        h.query_by_label(&card).is_some() || h.query_by_label(&pct).is_some()
    });
    // Last month: the whole month against the whole month before.
    h.get_by_label("Last month").click();
    let end = first.pred_opt().unwrap();
    let before_end = last_month.pred_opt().unwrap();
    wait_for(&mut h, "last month and the month before", |h| {
        shown_days(h) == Some((last_month, end))
            && previous_days(h) == Some((before_end.with_day(1).unwrap(), before_end))
    });
    let words = refboard::stats::period_label(before_end.with_day(1).unwrap(), before_end);
    assert!(
        h.query_all_by_label_contains(&format!(" {words}"))
            .next()
            .is_some(),
        "a card names {words}"
    );
    // Custom opens on the range on screen.
    h.get_by_label("Custom").click();
    settle(&mut h);
    let saved = h.state().ui_state();
    assert_eq!(saved.custom_from, last_month.to_string());
    assert_eq!(saved.custom_to, end.to_string());
    assert!(
        h.query_by_label("Enter both dates as YYYY-MM-DD, the first not after the second.")
            .is_none()
    );
}

#[test]
fn the_pickers_save_applies_the_date_it_shows_even_today() {
    // Issue 19, defect 3: Custom, clear To, open its picker (it shows
    // today), Save: the field stayed empty and the old range stayed.
    let dir = tempfile::tempdir().unwrap();
    let db = store_with_days(dir.path(), 1);
    let from = today() - chrono::Duration::days(20);
    let old_to = today() - chrono::Duration::days(10);
    let mut h = harness(
        &db,
        UiState {
            custom_from: from.to_string(),
            custom_to: old_to.to_string(),
            ..state(Range::Custom)
        },
    );
    wait_for(&mut h, "the custom range", |h| {
        shown_days(h) == Some((from, old_to))
    });
    replace_in(&mut h, "To", "");
    h.key_press(egui::Key::Backspace);
    settle(&mut h);
    assert_eq!(h.state().ui_state().custom_to, "");
    // The To picker opens on today, and Save keeps it.
    h.get_by_label(&today().to_string()).click();
    settle(&mut h);
    h.get_by_label("Save").click();
    wait_for(&mut h, "the range to end today", |h| {
        shown_days(h) == Some((from, today()))
    });
    assert_eq!(h.state().ui_state().custom_to, today().to_string());
}

/// Five links with referrals every day of the last 30, at different levels.
fn store_with_links(dir: &Path) -> PathBuf {
    let path = dir.join("layout.db");
    let mut store = Store::open(&path).unwrap();
    let page = jaspers_market(&mut store).id;
    let news = channel(&mut store, page, "Newsletter", ChannelKind::Email);
    let spring = campaign(&mut store, page, "Spring Sale").id;
    let refs = [
        "jaspersmarketnewsletter",
        "jaspersmarketFBad",
        "freeshipping",
        "exclusiveinvite",
        "website-footer",
    ];
    for r in refs {
        link(&mut store, page, spring, news, r, None);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let mut events: Vec<ReferralEvent> = Vec::new();
    for back in 0..60i64 {
        let day = today() - chrono::Duration::days(back);
        for (k, r) in refs.iter().enumerate() {
            let count = 2 + (5 - k as i64) * 3 + (back * 7 + k as i64) % 5;
            for n in 0..count {
                let at = (noon(day) + n * 60_000).min(now - 1000 - n);
                let person = format!("{:032x}", (back * 100 + k as i64) * 100 + n);
                events.push(referral(
                    format!("e{back}-{k}-{n}"),
                    at,
                    Kind::New,
                    r,
                    &person,
                ));
            }
        }
    }
    store.ingest(&events, None).unwrap();
    path
}

/// The chart at one window size: the plot's rect (axes included), the
/// legend's, the data area and the 0 line's y, and the right edge of the
/// totals table.
struct Layout {
    plot: egui::Rect,
    legend: egui::Rect,
    frame: egui::Rect,
    zero: f32,
    table_right: f32,
}

fn chart_layout(width: f32, height: f32) -> Layout {
    let dir = tempfile::tempdir().unwrap();
    let db = store_with_links(dir.path());
    let mut h = common::ui::harness_sized(&db, state(Range::Days30), width, height);
    wait_for(&mut h, "the chart", |h| {
        h.state().previous.is_some() && h.state().chart_rects().is_some()
    });
    settle(&mut h);
    let (plot, legend) = h.state().chart_rects().unwrap();
    let t = h.state().chart_transform().unwrap();
    let zero = t
        .position_from_point(&egui_plot::PlotPoint::new(t.bounds().min()[0], 0.0))
        .y;
    let table_right = h
        .get_by_role_and_label(egui::accesskit::Role::Button, "Returning")
        .rect()
        .max
        .x as f32;
    Layout {
        plot,
        legend,
        frame: *t.frame(),
        zero,
        table_right,
    }
}

/// What holds at every size: the 0 line in the data area, a strip under it
/// for the dates, the legend under the plot, overlapping nothing.
fn assert_apart(l: &Layout, size: &str) {
    assert!(
        l.zero <= l.frame.bottom() + 0.5,
        "{size}: the 0 line is in the data area"
    );
    assert!(
        l.plot.bottom() - l.frame.bottom() >= 12.0,
        "{size}: the dates have a strip of their own under the data: {:?} in {:?}",
        l.frame,
        l.plot
    );
    assert!(
        l.legend.top() >= l.plot.bottom(),
        "{size}: the legend {:?} starts under the plot {:?}",
        l.legend,
        l.plot
    );
}

#[test]
fn the_chart_follows_the_window_from_640_by_480_to_2560_by_1440() {
    // Issue 19, defect 4: at 640×480 the legend covered the 0 line and the
    // lowest series; at 1920×1080 the chart kept a fixed height and the
    // table about 700 points, leaving half the screen empty.
    let mut heights = Vec::new();
    for (w, h) in [
        (640.0, 480.0),
        (1280.0, 800.0),
        (1920.0, 1080.0),
        (2560.0, 1440.0),
    ] {
        let size = format!("{w}×{h}");
        let l = chart_layout(w, h);
        assert_apart(&l, &size);
        assert!(
            l.frame.height() >= 150.0,
            "{size}: a readable data area {:?}",
            l.frame
        );
        if h >= 1000.0 {
            assert!(
                l.plot.height() >= 0.4 * h,
                "{size}: the chart {:?} fills its share of the window",
                l.plot
            );
            assert!(
                l.table_right >= 0.9 * w,
                "{size}: the table reaches {} of {w}",
                l.table_right
            );
        }
        heights.push(l.plot.height());
    }
    assert!(
        heights.windows(2).all(|p| p[0] < p[1]),
        "the height grows with the window: {heights:?}"
    );
}

#[test]
fn a_series_keeps_its_colour_when_the_ranking_changes() {
    // Issue 19, defect 5: after "Count as freeshipping", Facebook ads went
    // from orange to green, because colours followed the rank.
    let dir = tempfile::tempdir().unwrap();
    let db = store_with_links(dir.path());
    let mut h = harness(&db, state(Range::Days30));
    wait_for(&mut h, "the chart", |h| {
        !h.state().chart_colors().is_empty()
    });
    let before: Vec<(String, egui::Color32)> = h.state().chart_colors().to_vec();
    let distinct: std::collections::BTreeSet<[u8; 4]> =
        before.iter().map(|(_, c)| c.to_array()).collect();
    assert_eq!(
        distinct.len(),
        before.len(),
        "shown series differ: {before:?}"
    );
    // website-footer, last, becomes first by far.
    let mut store = Store::open(&db).unwrap();
    let at = chrono::Utc::now().timestamp_millis() - 60_000;
    let events: Vec<ReferralEvent> = (0..3000)
        .map(|n| {
            referral(
                format!("late{n}"),
                at - n,
                Kind::New,
                "website-footer",
                &format!("{:032x}", 9_000_000 + n),
            )
        })
        .collect();
    store.ingest(&events, None).unwrap();
    drop(store);
    h.get_by_label("Refresh").click();
    wait_for(&mut h, "website-footer on top", |h| {
        h.state()
            .report
            .as_ref()
            .is_some_and(|r| r.groups.first().is_some_and(|g| g.key == "website-footer"))
            && h.state().chart_colors().first().map(|c| c.0.as_str()) == Some("website-footer")
    });
    let after = h.state().chart_colors();
    for (name, color) in &before {
        let now = after.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
        assert_eq!(now, Some(*color), "{name} keeps its colour");
    }
}

#[test]
fn the_hover_box_keeps_a_ref_whole_at_the_right_edge_of_a_small_window() {
    // Issue 19, defect 4: at 640×480 the box broke "freeshipping" into
    // "freeshippin" and "g".
    let dir = tempfile::tempdir().unwrap();
    let db = store_with_links(dir.path());
    let mut h = common::ui::harness_sized(&db, state(Range::Days30), 640.0, 480.0);
    wait_for(&mut h, "the chart", |h| {
        h.state().chart_transform().is_some() && h.state().chart_rects().is_some()
    });
    // A first box, then the previous period's lines, whose names are
    // longer: the box sized for the first text must not wrap the second.
    let report = h.state().report.clone().unwrap();
    let point_of = |h: &Harness<'static, App>, g: &refboard::stats::GroupStats, back: usize| {
        let t = h.state().chart_transform().unwrap();
        let p = &g.series[g.series.len() - back];
        t.position_from_point(&egui_plot::PlotPoint::new(
            refboard::ui::bucket_x(p),
            p.referrals as f64,
        ))
    };
    let first = point_of(&h, &report.groups[0], 3);
    h.hover_at(first);
    settle(&mut h);
    assert!(h.state().chart_hover().is_some(), "a first hover box");
    h.get_by_label("Previous period").click();
    wait_for(&mut h, "the previous period", |h| {
        h.state()
            .chart_colors()
            .iter()
            .any(|(n, _)| n.ends_with("(previous period)"))
    });
    let at = point_of(&h, &report.groups[0], 3);
    assert!(
        at.x > 560.0 && at.y < 470.0,
        "aimed near the right edge: {at:?}"
    );
    h.hover_at(at);
    settle(&mut h);
    let text = h.state().chart_hover().expect("a hover box").to_string();
    let node = h.get_by_label(&text);
    let rect = node.rect();
    let lines = text.lines().count() as f32;
    let row = rect.height() / lines;
    assert!(
        rect.max.x <= 640.0 && rect.min.x >= 0.0,
        "the box is on screen: {rect:?}"
    );
    // One row (about 15 points of body text) per line: nothing wrapped. The
    // old box, squeezed to 165 points at the edge, took 21 a line.
    assert!(row > 10.0 && row < 17.0, "{lines} lines in {rect:?}");
    assert!(text.contains("freeshipping (previous period): "), "{text}");
}
