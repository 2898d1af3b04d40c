//! The Setup screen (issue #20) driven by kittest from red to green against
//! the Graph API stand-in and a stand-in relay: the token is typed and
//! saved, each Fix button shows the exact call and asks first, and the
//! checks end all green. The dashboard itself makes no call: its worker does.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::graph::{GraphStandIn, GraphState, PAGE_ID, TOKEN, USERNAME, health, healthy_relay};
use common::ui::{harness, run_until, settle, wait_for};
use egui_kittest::kittest::Queryable;
use refboard::model::NewPage;
use refboard::store::Store;
use refboard::ui::UiState;

fn reds(h: &egui_kittest::Harness<'static, refboard::ui::App>) -> usize {
    h.query_all_by_label("red").count()
}

#[test]
fn the_setup_screen_goes_from_red_to_green_asking_before_each_fix() {
    let graph = GraphStandIn::start(GraphState::bare());
    let relay = health(healthy_relay());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("setup.db");
    {
        let mut store = Store::open(&db).unwrap();
        store
            .add_page(&NewPage::parse(USERNAME, Some("Jasper's Market"), Some(PAGE_ID)).unwrap())
            .unwrap();
        store.set_graph_base_url(&graph.url).unwrap();
        store.set_backend_url(&relay.url).unwrap();
    }
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "first load", |a| a.loaded && a.snap.page.is_some());
    h.get_by_label("Setup").click();
    settle(&mut h);
    // Type only once the field holds the focus (as tests/ui.rs does: a
    // frame in which a worker event arrives can drop a focus request).
    wait_for(&mut h, "the token field to take the focus", |h| {
        let node = h.get_by_label("Page access token");
        let focused = node.is_focused();
        if !focused {
            node.focus();
        }
        focused
    });
    h.get_by_label("Page access token").type_text(TOKEN);
    settle(&mut h);
    h.get_by_label("Save token and check").click();
    wait_for(&mut h, "the first run", |h| reds(h) == 2);
    assert!(graph.posts().is_empty(), "checking sends nothing");
    h.get_by_label_contains("no app is subscribed");

    h.get_by_label("Fix Webhook fields").click();
    settle(&mut h);
    h.get_by_label_contains(&format!("POST /v26.0/{PAGE_ID}/subscribed_apps"));
    assert!(graph.posts().is_empty(), "the fix waits for a yes");
    h.get_by_label("Send").click();
    wait_for(&mut h, "the subscription fix", |h| reds(h) == 1);
    assert_eq!(graph.posts().len(), 1);

    h.get_by_label("Fix Get Started button").click();
    settle(&mut h);
    h.get_by_label_contains(
        r#"POST /v26.0/me/messenger_profile {"get_started":{"payload":"GET_STARTED"}}"#,
    );
    // The payload is the user's to change, and the call shown follows it.
    wait_for(&mut h, "the payload field to take the focus", |h| {
        let node = h.get_by_label("Get Started payload");
        let focused = node.is_focused();
        if !focused {
            node.focus();
        }
        focused
    });
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    settle(&mut h);
    h.get_by_label("Get Started payload").type_text("FROM_QR");
    settle(&mut h);
    h.get_by_label_contains(
        r#"POST /v26.0/me/messenger_profile {"get_started":{"payload":"FROM_QR"}}"#,
    );
    h.get_by_label("Send").click();
    wait_for(&mut h, "all green", |h| {
        h.query_by_label("All green: referrals of this page can arrive and be counted.")
            .is_some()
    });
    assert_eq!(reds(&h), 0);
    assert_eq!(graph.posts().len(), 2);
    let sent: serde_json::Value = serde_json::from_str(&graph.posts()[1].body).unwrap();
    assert_eq!(sent["get_started"]["payload"], "FROM_QR");
    let store = Store::open(&db).unwrap();
    let page = store.pages().unwrap().remove(0);
    assert_eq!(
        store.page_token(&page.id.to_string()).unwrap().as_deref(),
        Some(TOKEN)
    );
    assert_eq!(
        store.get_started_payload().unwrap(),
        "FROM_QR",
        "the chosen payload is the default next time"
    );
    assert!(
        h.query_by_label_contains(TOKEN).is_none(),
        "the token is never drawn"
    );
    // The Links screen's checklist ticks "Check Meta's settings" once the
    // doctor found nothing red (it was open while the checks were red).
    assert!(store.doctor_passed(page.id).unwrap());
    run_until(&mut h, "the checklist's doctor step", |a| {
        a.snap.doctor_passed
    });
}
