//! Issue 19, "Health on every screen", on the real App under egui_kittest:
//! the top bar's webhook badge filled in at start from a database synced
//! before the window opened (the demo's, with its real relay), a click that
//! opens the Backend tab, and a stale webhook said in red, readably, with
//! Meta's one-hour rule.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::backend::serve;
use common::ui::{harness, run_until, settle, wait_for};
use egui_kittest::kittest::Queryable as _;
use refboard::store::Store;
use refboard::ui::{Tab, UiState};

#[test]
fn the_demo_fills_in_the_badge_and_a_click_opens_the_backend_tab() {
    // Defect 8: the demo had synced at start, yet the Backend tab said
    // "Test the connection or sync to read…", and no other screen said
    // anything.
    let dir = tempfile::tempdir().unwrap();
    let demo = refboard::demo::prepare(dir.path(), 60).unwrap();
    let state = UiState {
        tab: Tab::Links,
        ..UiState::default()
    };
    let mut h = harness(&dir.path().join("demo.db"), state);
    wait_for(&mut h, "the badge with the last event", |h| {
        h.query_by_label_contains("Webhook: last event").is_some()
    });
    h.get_by_label_contains("Webhook: last event").click();
    run_until(&mut h, "the Backend tab", |app| app.tab == Tab::Backend);
    settle(&mut h);
    assert!(
        h.query_by_label_contains("Last webhook event received:")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("Test the connection or sync")
            .is_none()
    );
    drop(demo);
}

#[test]
fn a_webhook_quiet_for_two_hours_is_red_and_the_warning_is_readable() {
    let two_hours_ago = chrono::Utc::now().timestamp_millis() - 2 * 3_600_000;
    let app = axum::Router::new().route(
        "/healthz",
        axum::routing::get(move || async move {
            axum::Json(serde_json::json!({
                "events": 12,
                "last_event_at_ms": two_hours_ago,
                "bad_signatures_last_hour": 0
            }))
        }),
    );
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("quiet.db");
    let mut store = Store::open(&db).unwrap();
    store.set_backend_url(&server.url).unwrap();
    refboard::secrets::save_token_to_file(store.path(), "tok-quiet-0123456789abcdef").unwrap();
    drop(store);
    let mut h = harness(
        &db,
        UiState {
            tab: Tab::Backend,
            ..UiState::default()
        },
    );
    wait_for(&mut h, "the badge", |h| {
        h.query_by_label_contains("Webhook: last event 2 h ago")
            .is_some()
    });
    let warning = "Meta disables a webhook after about an hour of failed deliveries";
    wait_for(&mut h, "the warning", |h| {
        h.query_by_label_contains(warning).is_some()
    });
    // Readable: at least 12-point text, so a line is at least 14 points tall.
    let rect = h.get_by_label_contains(warning).rect();
    assert!(rect.height() >= 14.0, "the warning's line is {rect:?}");
}
