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
