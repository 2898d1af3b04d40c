//! Issue 19, delivery 1 ("Guided first run"): an empty database driven to
//! a first exported QR code by the setup checklist and the link form alone,
//! clicks counted; the code is read back by a real decoder.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::seed::{campaign, channel, jaspers_market, link, referral};
use common::ui::{harness, run_until, settle, wait_for};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use refboard::model::{ChannelKind, Kind};
use refboard::store::Store;
use refboard::ui::{App, Tab, UiState};
use refboard::worker::ShortCommand;
use std::time::{Duration, Instant};

/// Clicks a control named `label` and counts the click.
fn click(h: &mut Harness<'static, App>, clicks: &mut u32, label: &str) {
    common::ui::wait_still(h, label);
    h.get_by_label(label).click();
    *clicks += 1;
    settle(h);
}

/// Types into a field once it holds the focus (asked again each poll).
fn type_into(h: &mut Harness<'static, App>, label: &str, text: &str) {
    wait_for(h, &format!("{label} to take the focus"), |h| {
        let node = h.get_by_label(label);
        let focused = node.is_focused();
        if !focused {
            node.focus();
        }
        focused
    });
    h.get_by_label(label).type_text(text);
    settle(h);
}

fn shown(h: &Harness<'static, App>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

/// Defect 1: the first link's form had an empty Campaign list, red errors
/// before anything was typed, and no way to add a campaign from it.
#[test]
fn an_empty_database_reaches_a_decoded_qr_code_through_the_checklist() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("first.db");
    // An empty database, made as the dashboard makes it before its worker starts.
    drop(Store::open(&db).unwrap());
    let state = UiState {
        export_folder: dir.path().display().to_string(),
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    run_until(&mut h, "first load", |a| a.loaded);
    let mut clicks = 0;
    h.get_by_label("Get started: 0 of 8 done");

    click(&mut h, &mut clicks, "Add your page");
    type_into(&mut h, "Page username or link", "JaspersMarket");
    type_into(&mut h, "Display name", "Jasper's Market");
    click(&mut h, &mut clicks, "Save page");
    run_until(&mut h, "the page", |a| a.snap.pages.len() == 1);
    wait_for(&mut h, "the checklist to tick the page", |h| {
        shown(h, "Get started: 1 of 8 done")
    });

    click(&mut h, &mut clicks, "Create your first link");
    // An untouched form says nothing is wrong yet.
    assert!(
        !shown(&h, "Choose a campaign"),
        "no error before the first edit"
    );
    assert!(
        !shown(&h, "invalid ref"),
        "no ref error before the first edit"
    );
    // The Campaign list is no dead end: a campaign is made in the form.
    click(&mut h, &mut clicks, "New campaign…");
    type_into(&mut h, "Campaign name", "Spring Sale");
    h.key_press(egui::Key::Enter);
    run_until(&mut h, "the campaign", |a| a.snap.campaigns.len() == 1);
    click(&mut h, &mut clicks, "New channel…");
    type_into(&mut h, "Channel name", "Flyer");
    click(&mut h, &mut clicks, "Create channel");
    run_until(&mut h, "the channel", |a| a.snap.channels.len() == 1);
    // Both are chosen in the form, and the ref follows them.
    wait_for(&mut h, "the suggested ref", |h| {
        h.get_by_label("Ref code").value().as_deref() == Some("spring_sale-flyer")
    });
    type_into(&mut h, "Call to action", "Get 10% off in Messenger");
    click(&mut h, &mut clicks, "Save link");
    run_until(&mut h, "the link", |a| a.snap.links.len() == 1);
    run_until(&mut h, "the link to be selected", |a| a.selected.is_some());

    let out = dir.path().join("spring_sale-flyer.png");
    click(&mut h, &mut clicks, "Export QR");
    let start = Instant::now();
    while !out.exists() {
        settle(&mut h);
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "export timed out"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        common::decode_one(&out),
        "https://m.me/JaspersMarket?ref=spring_sale-flyer"
    );
    wait_for(&mut h, "the checklist to tick the export", |h| {
        shown(h, "Get started: 5 of 8 done")
    });
    println!("first run: empty database to a decoded QR code in {clicks} clicks");
    assert!(clicks <= 8, "{clicks} clicks");
}

/// Each open step of the checklist opens the place where it is done.
#[test]
fn each_checklist_step_opens_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("steps.db");
    {
        let mut store = Store::open(&db).unwrap();
        jaspers_market(&mut store);
    }
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "first load", |a| a.loaded && a.snap.page.is_some());
    h.get_by_label("Campaigns & channels");
    h.get_by_label("Add a campaign").click();
    wait_for(&mut h, "the new-campaign field to take the focus", |h| {
        h.get_by_label("New campaign").is_focused()
    });
    // Enter in a side-panel field submits it.
    h.get_by_label("New campaign").type_text("Spring Sale");
    settle(&mut h);
    h.key_press(egui::Key::Enter);
    run_until(&mut h, "the campaign", |a| a.snap.campaigns.len() == 1);
    h.get_by_label("Add a channel").click();
    wait_for(&mut h, "the new-channel field to take the focus", |h| {
        h.get_by_label("New channel").is_focused()
    });
    h.get_by_label("New channel").type_text("Newsletter");
    settle(&mut h);
    h.key_press(egui::Key::Enter);
    run_until(&mut h, "the channel", |a| a.snap.channels.len() == 1);
    // With no link yet, "Export its QR code" opens the form that makes one.
    h.get_by_label("Export its QR code").click();
    settle(&mut h);
    h.get_by_label("Save link");
    h.key_press(egui::Key::Escape);
    settle(&mut h);
    h.get_by_label("Connect the backend").click();
    run_until(&mut h, "the Backend tab", |a| a.tab == Tab::Backend);
    h.get_by_label("Links").click();
    settle(&mut h);
    h.get_by_label("Check Meta's settings").click();
    run_until(&mut h, "the Setup tab", |a| a.tab == Tab::Setup);
}

/// The checklist reads the snapshot: a database with a link counts four
/// steps done, and one that has done every step shows no checklist.
#[test]
fn the_checklist_follows_the_database_and_leaves_when_done() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("later.db");
    let page = {
        let mut store = Store::open(&db).unwrap();
        let page = jaspers_market(&mut store).id;
        let ch = channel(&mut store, page, "Newsletter", ChannelKind::Email);
        let cm = campaign(&mut store, page, "Spring Sale").id;
        link(&mut store, page, cm, ch, "spring", Some("Get 10% off"));
        page
    };
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "first load", |a| {
        a.loaded && !a.snap.links.is_empty()
    });
    h.get_by_label("Get started: 4 of 8 done");
    {
        let mut store = Store::open(&db).unwrap();
        store.mark_exported().unwrap();
        store.set_backend_url("http://127.0.0.1:9").unwrap();
        store.mark_doctor_passed(page).unwrap();
        let at_ms = chrono::Utc::now().timestamp_millis();
        store
            .ingest(
                &[referral("e1".into(), at_ms, Kind::New, "spring", "a")],
                None,
            )
            .unwrap();
    }
    h.state_mut().send(ShortCommand::Load { page: None }.into());
    run_until(&mut h, "the reload", |a| a.snap.events_total == 1);
    settle(&mut h);
    assert!(
        !shown(&h, "Get started"),
        "a finished checklist leaves the screen"
    );
}

/// Defect 1: campaigns and channels could not be renamed or archived in the
/// window, and campaign dates were edited under Analytics. The side panel
/// now does all three, Enter saving.
#[test]
fn the_side_panel_renames_dates_and_archives_campaigns_and_channels() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.db");
    {
        let mut store = Store::open(&db).unwrap();
        let page = jaspers_market(&mut store).id;
        channel(&mut store, page, "Website", ChannelKind::Website);
        campaign(&mut store, page, "Sprng Sale");
    }
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "first load", |a| {
        a.loaded && !a.snap.campaigns.is_empty()
    });
    // A channel named after its kind reads once.
    assert!(!shown(&h, "Website · Website"));
    h.get_by_label("Edit Sprng Sale").click();
    settle(&mut h);
    common::ui::replace_in(&mut h, "Rename", "Spring Sale");
    common::ui::replace_in(&mut h, "Starts", "2026-03-01");
    common::ui::replace_in(&mut h, "Ends", "2026-02-01");
    h.get_by_label_contains("cannot end before it starts");
    common::ui::replace_in(&mut h, "Ends", "2026-03-31");
    h.key_press(egui::Key::Enter);
    run_until(&mut h, "the renamed campaign", |a| {
        a.snap.campaigns[0].name == "Spring Sale"
            && a.snap.campaigns[0]
                .ends_on
                .map(|d| d.to_string())
                .as_deref()
                == Some("2026-03-31")
    });
    h.get_by_label("Edit Website").click();
    settle(&mut h);
    h.get_by_label("Archive").click();
    run_until(&mut h, "the archived channel", |a| {
        a.snap.channels[0].archived
    });
    let stored = Store::open(&db).unwrap();
    assert_eq!(
        stored.campaigns(1, true).unwrap()[0]
            .starts_on
            .map(|d| d.to_string())
            .as_deref(),
        Some("2026-03-01")
    );
    assert!(stored.channels(1, true).unwrap()[0].archived);
}
