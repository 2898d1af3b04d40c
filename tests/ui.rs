//! The real dashboard App driven headless by egui_kittest, by labels and
//! roles, on temp-file databases; no display or GPU.

mod common;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use refboard::model::{ChannelKind, NewCampaign, NewPage};
use refboard::store::{LinkFilter, Store};
use refboard::ui::{App, Tab, UiState};
use std::path::Path;
use std::time::{Duration, Instant};

fn harness(db: &Path, state: UiState) -> Harness<'static, App> {
    let db = db.to_path_buf();
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| App::new(&cc.egui_ctx, db, state))
}

/// Runs frames until `done` holds (the worker answers asynchronously).
fn run_until(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    loop {
        settle(h);
        if done(h.state()) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn seeded(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("ui.db");
    let mut store = Store::open(&path).unwrap();
    let page = store
        .add_page(
            &NewPage::parse(
                "JaspersMarket",
                Some("Jasper's Market"),
                Some("104729178032417"),
            )
            .unwrap(),
        )
        .unwrap();
    store
        .add_channel(page.id, "Newsletter", ChannelKind::Email)
        .unwrap();
    store
        .add_campaign(
            page.id,
            &NewCampaign::parse("Spring Sale", None, None, None).unwrap(),
        )
        .unwrap();
    path
}

/// A few frames; spinners keep egui repainting, so `run` would never settle.
fn settle(h: &mut Harness<'static, App>) {
    h.run_steps(3);
}

fn type_into(h: &mut Harness<'static, App>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    settle(h);
    h.get_by_label(label).type_text(text);
    settle(h);
}

/// Replaces a field's text (select all, then type).
fn replace_in(h: &mut Harness<'static, App>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    settle(h);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    settle(h);
    h.get_by_label(label).type_text(text);
    settle(h);
}

#[test]
fn add_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "first load", |a| a.loaded);
    h.get_by_label("Add your page").click();
    settle(&mut h);
    type_into(
        &mut h,
        "Page username or link",
        "https://www.facebook.com/JaspersMarket/",
    );
    type_into(&mut h, "Page ID", "104729178032417");
    h.get_by_label("Links will open https://m.me/JaspersMarket");
    h.get_by_label("Save page").click();
    run_until(&mut h, "the page", |a| a.snap.pages.len() == 1);
    assert_eq!(h.state().snap.pages[0].target, "JaspersMarket");
    assert_eq!(
        h.state().snap.pages[0].page_id.as_deref(),
        Some("104729178032417")
    );
    let stored = Store::open(&db).unwrap().pages().unwrap();
    assert_eq!(stored.len(), 1);
    // The next empty state explains the next step.
    h.get_by_label("Create your first link");
}

#[test]
fn invalid_ref_is_shown_and_nothing_is_stored_then_a_valid_one_saves() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "first load", |a| {
        a.loaded && !a.snap.campaigns.is_empty()
    });
    h.get_by_label("Create your first link").click();
    settle(&mut h);
    // The ref is pre-filled with the suggestion.
    assert_eq!(
        h.get_by_label("Ref code").value().as_deref(),
        Some("spring_sale-newsletter")
    );
    h.get_by_label("Ref code").focus();
    settle(&mut h);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Ref code").type_text("free shipping");
    settle(&mut h);
    h.get_by_label_contains("' ' at position 5 is not allowed");
    assert!(
        h.get_by_label("Save link").accesskit_node().is_disabled(),
        "Save is disabled"
    );
    h.get_by_label("Save link").click();
    settle(&mut h);
    std::thread::sleep(Duration::from_millis(200));
    settle(&mut h);
    assert!(
        Store::open(&db)
            .unwrap()
            .links(&LinkFilter::default())
            .unwrap()
            .is_empty()
    );

    h.get_by_label("Ref code").focus();
    settle(&mut h);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Ref code").type_text("freeshipping");
    settle(&mut h);
    type_into(&mut h, "Call to action", "Get free shipping in Messenger");
    assert!(!h.get_by_label("Save link").accesskit_node().is_disabled());
    h.get_by_label("Save link").click();
    run_until(&mut h, "the link", |a| a.snap.links.len() == 1);
    assert!(
        h.query_all_by_label("https://m.me/JaspersMarket?ref=freeshipping")
            .count()
            >= 1
    );
    let links = Store::open(&db)
        .unwrap()
        .links(&LinkFilter::default())
        .unwrap();
    assert_eq!(links[0].link.ref_code, "freeshipping");
    assert_eq!(links[0].link.cta, "Get free shipping in Messenger");
}

#[test]
fn export_a_qr_by_typing_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    {
        let mut store = Store::open(&db).unwrap();
        let (l, _) = refboard::model::NewLink::parse(
            "jaspersmarketnewsletter",
            Some("Get our deals"),
            None,
            None,
        )
        .unwrap();
        store.add_link(1, 1, 1, &l).unwrap();
    }
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "links", |a| a.snap.links.len() == 1);
    h.get_by_label("jaspersmarketnewsletter").click();
    settle(&mut h);
    h.get_by_label("QR code preview");
    let out = dir.path().join("code.png");
    replace_in(&mut h, "Save to", out.to_str().unwrap());
    h.get_by_label("Export QR").click();
    let start = Instant::now();
    while !out.exists() {
        settle(&mut h);
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "export timed out"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        common::decode_one(&out),
        "https://m.me/JaspersMarket?ref=jaspersmarketnewsletter"
    );
}

#[test]
fn sync_from_a_relay_shows_exact_totals() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let relay = refboard::relay::start(
        refboard::relay::RelayConfig {
            data: dir.path().join("relay.db"),
            app_secret: common::FIXTURE_APP_SECRET.into(),
            verify_token: "v".into(),
            api_token: "ui-test-token".into(),
            forward: None,
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let client = reqwest::blocking::Client::new();
    for (_, body) in common::fixture_bodies() {
        let sig = refboard::messenger::sign(common::FIXTURE_APP_SECRET.as_bytes(), &body);
        let r = client
            .post(format!("{}/webhook", relay.url()))
            .header(refboard::messenger::SIGNATURE_HEADER, sig)
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let state = UiState {
        tab: Tab::Backend,
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    run_until(&mut h, "first load", |a| a.loaded);
    type_into(&mut h, "Backend URL", &relay.url());
    type_into(&mut h, "API token", "ui-test-token");
    h.get_by_label("Test connection").click();
    run_until(&mut h, "the connection test", |_| true);
    let start = Instant::now();
    while h.query_by_label_contains("Connected").is_none() {
        settle(&mut h);
        assert!(start.elapsed() < Duration::from_secs(15));
        std::thread::sleep(Duration::from_millis(20));
    }
    h.get_by_label("Save and sync now").click();
    run_until(&mut h, "the sync", |a| {
        a.snap.events_total == 11 && a.job.is_none()
    });
    h.get_by_label("Analytics").click();
    settle(&mut h);
    h.get_by_label("All time").click();
    settle(&mut h);
    h.get_by_label("Group by").click();
    settle(&mut h);
    h.get_by_label("New vs returning").click();
    run_until(&mut h, "the report", |a| {
        a.report
            .as_ref()
            .is_some_and(|r| r.by == refboard::stats::GroupBy::Kind && r.totals.referrals == 8)
    });
    settle(&mut h);
    // The chart follows the page picker: of the 11 fixture referrals, 8 reached
    // this page (the others went to a second page and to Instagram).
    let report = h.state().report.clone().unwrap();
    assert_eq!((report.totals.new, report.totals.returning), (4, 4));
    h.get_by_label_contains("8 referrals from 7 people, 4 new and 4 returning");
    // The totals table rows: group, referrals, people, new, returning.
    h.get_by_label("returning");
    relay.stop().unwrap();
}
