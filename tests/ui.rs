//! The real dashboard App driven headless by egui_kittest, by labels and
//! roles, on temp-file databases; no display or GPU.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::seed::{campaign, channel, jaspers_market, link, referral};
use common::ui::{harness, harness_sized, run_until, settle};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use refboard::model::{ChannelKind, NewPage};
use refboard::store::{LinkFilter, Store};
use refboard::ui::{App, Tab, UiState};
use std::path::Path;
use std::time::{Duration, Instant};

fn seeded(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("ui.db");
    let mut store = Store::open(&path).unwrap();
    let page = jaspers_market(&mut store).id;
    channel(&mut store, page, "Newsletter", ChannelKind::Email);
    campaign(&mut store, page, "Spring Sale");
    path
}

fn type_into(h: &mut Harness<'static, App>, label: &str, text: &str) {
    // Type only once the field holds the focus: a frame in which a worker
    // event changes the window can drop a focus request, and text typed then
    // goes nowhere (seen under CI's load). Each poll asks again until it lands.
    common::ui::wait_for(h, &format!("{label} to take the focus"), |h| {
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
fn the_page_dialog_sets_the_instagram_account_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "first load", |a| a.loaded && a.snap.page.is_some());
    h.get_by_label("Edit page").click();
    settle(&mut h);
    type_into(&mut h, "Instagram account ID", "17841x");
    // The model's rule is shown and the dialog cannot be saved.
    h.get_by_label_contains("an Instagram account ID is 5 to 20 digits");
    replace_in(&mut h, "Instagram account ID", "17841400008460056");
    h.get_by_label("Save page").click();
    run_until(&mut h, "the Instagram account id", |a| {
        a.snap.pages.first().and_then(|p| p.ig_id.as_deref()) == Some("17841400008460056")
    });
    let stored = Store::open(&db).unwrap().pages().unwrap();
    assert_eq!(stored[0].ig_id.as_deref(), Some("17841400008460056"));
    assert_eq!(stored[0].page_id.as_deref(), Some("104729178032417"));
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

/// #18 item 4: the library's contrast error carries a hint, and the
/// dashboard words it with its own controls, never the CLI's flag.
#[test]
fn a_faint_code_colour_is_refused_in_the_dashboards_words() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    {
        let mut store = Store::open(&db).unwrap();
        let (l, _) =
            refboard::model::NewLink::parse("jaspersmarketnewsletter", None, None, None).unwrap();
        store.add_link(1, 1, 1, &l).unwrap();
    }
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "links", |a| a.snap.links.len() == 1);
    h.get_by_label("jaspersmarketnewsletter").click();
    settle(&mut h);
    replace_in(&mut h, "Code colour", "#cccccc");
    let node = h.get_by_label_contains("below the floor of");
    let refusal = node.accesskit_node().value().unwrap_or_default();
    assert!(
        refusal.contains("; choose a darker Code colour or a lighter Background colour"),
        "{refusal}"
    );
    assert!(!refusal.contains("--"), "{refusal}");
    // The GUI's controls named by the hint are there to be used.
    h.get_by_label("Code colour");
    h.get_by_label("Background colour");
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
    // Unique people are counted after the totals arrive ("… (counting)"
    // until then); the summary line is read only once they are in.
    run_until(&mut h, "the people count", |a| {
        a.report.as_ref().is_some_and(|r| r.unique_people_counted)
    });
    settle(&mut h);
    // The chart follows the page picker: of the 11 fixture referrals, 8 reached
    // this page (the others went to a second page and to Instagram).
    let report = h.state().report.clone().unwrap();
    assert_eq!((report.totals.new, report.totals.returning), (4, 4));
    h.get_by_label_contains("8 referrals from 7 people, 4 new and 4 returning");
    // The totals table rows read as words: "Returning", never Meta's raw "returning".
    assert!(
        h.query_all_by_label("Returning").count() >= 2,
        "header and row"
    );
    assert!(h.query_by_label("returning").is_none());
    relay.stop().unwrap();
}

// ---- Dashboard core (issue 7): drain, dead worker, lanes, export path,
// layout, chart zoom, tables, status. ----

use refboard::model::Warning;
use refboard::worker::{Event, Job, detached};

/// Frames until `done` holds, failing after `limit`.
fn run_within(
    h: &mut Harness<'static, App>,
    limit: Duration,
    what: &str,
    done: impl Fn(&Harness<'static, App>) -> bool,
) {
    let start = Instant::now();
    loop {
        settle(h);
        if done(h) {
            return;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A seeded database with links (ref, cta) on page 1, campaign 1, channel 1.
fn with_links(dir: &Path, refs: &[&str]) -> std::path::PathBuf {
    let db = seeded(dir);
    let mut store = Store::open(&db).unwrap();
    for r in refs {
        let (l, _) = refboard::model::NewLink::parse(r, Some("Get our deals"), None, None).unwrap();
        store.add_link(1, 1, 1, &l).unwrap();
    }
    db
}

#[test]
fn drain_applies_every_one_of_10000_queued_events_over_several_frames() {
    let (worker, peer) = detached();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |_| App::with_worker(worker, UiState::default()));
    h.state_mut().job = Some((Job::Sync, 0, 0));
    // Heavy enough events that 10,000 cannot all be applied in one 4 ms budget.
    let warnings: Vec<Warning> = (0..20)
        .map(|i| Warning::new("ref", format!("warning number {i} of a flood")))
        .collect();
    for _ in 0..10_000 {
        peer.events.send(Event::Warnings(warnings.clone())).unwrap();
    }
    peer.events
        .send(Event::JobDone(Job::Sync, Ok("Synced 10000 events".into())))
        .unwrap();
    let mut frames = 0;
    let start = Instant::now();
    while h.state().events_applied < 10_001 {
        h.step();
        frames += 1;
        if h.state().events_applied < 10_001 {
            // Stopping early must ask for the next frame, or the rest would wait for input.
            assert!(
                h.ctx.has_requested_repaint(),
                "no repaint requested with events still queued"
            );
        }
        assert!(start.elapsed() < Duration::from_secs(20), "drain stalled");
    }
    assert_eq!(h.state().events_applied, 10_001, "every event applied once");
    assert!(frames > 1, "the budget split the flood over frames");
    assert_eq!(
        h.state().job,
        None,
        "the JobDone after the flood stopped the spinner"
    );
    assert_eq!(
        h.state().message.as_ref().map(|m| m.text.as_str()),
        Some("Synced 10000 events")
    );
}

#[test]
fn a_worker_that_cannot_open_the_database_shows_a_banner_and_clicks_say_why() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where the database file should be: neither lane can open it.
    let mut h = harness(dir.path(), UiState::default());
    run_within(&mut h, Duration::from_secs(10), "the banner", |h| {
        h.query_by_label_contains("Nothing you do will be saved")
            .is_some()
    });
    assert!(
        h.query_all_by_label_contains("cannot open the database")
            .count()
            >= 1
    );
    h.get_by_label("Add page").click();
    settle(&mut h);
    type_into(&mut h, "Page username or link", "JaspersMarket");
    h.get_by_label("Save page").click();
    settle(&mut h);
    let said = h.state().message.clone().unwrap();
    assert!(said.is_error);
    assert!(
        said.text
            .contains("Nothing was done: the background worker stopped"),
        "{}",
        said.text
    );
}

/// A backend that accepts connections and never answers, until dropped.
struct SilentBackend {
    url: String,
    got_request: std::sync::mpsc::Receiver<()>,
    _listener: std::thread::JoinHandle<()>,
}

fn silent_backend() -> SilentBackend {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, got_request) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let _ = tx.send(());
            // Keep the socket open and silent: the sync waits for its timeout.
            held.push(stream);
            if held.len() > 16 {
                break;
            }
        }
    });
    SilentBackend {
        url,
        got_request,
        _listener: thread,
    }
}

#[test]
fn a_link_saved_during_a_slow_sync_appears_within_one_second() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let backend = silent_backend();
    {
        let mut store = Store::open(&db).unwrap();
        store.set_backend_url(&backend.url).unwrap();
        store.set_backend_token("slow-token").unwrap();
    }
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "first load", |a| {
        a.loaded && !a.snap.backend_url.is_empty()
    });
    h.get_by_label("Sync now").click();
    settle(&mut h);
    backend
        .got_request
        .recv_timeout(Duration::from_secs(10))
        .expect("the sync reached the backend");
    assert!(matches!(h.state().job, Some((Job::Sync, _, _))));
    h.get_by_label("Create your first link").click();
    settle(&mut h);
    replace_in(&mut h, "Ref code", "duringsync");
    h.get_by_label("Save link").click();
    run_within(
        &mut h,
        Duration::from_secs(1),
        "the link saved beside the sync",
        |h| {
            h.state()
                .snap
                .links
                .iter()
                .any(|l| l.link.ref_code == "duringsync")
        },
    );
    assert!(
        matches!(h.state().job, Some((Job::Sync, _, _))),
        "the sync is still waiting on the backend"
    );
}

fn save_to(h: &Harness<'static, App>) -> String {
    h.get_by_label("Save to").value().unwrap_or_default()
}

#[test]
fn each_link_exports_to_its_own_file_and_an_existing_file_needs_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &["flyer_a", "flyer_b"]);
    let out = dir.path().join("codes");
    std::fs::create_dir(&out).unwrap();
    let state = UiState {
        export_folder: out.display().to_string(),
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    run_until(&mut h, "links", |a| a.snap.links.len() == 2);
    let a_png = out.join("flyer_a.png");
    let b_png = out.join("flyer_b.png");
    h.get_by_label("flyer_a").click();
    settle(&mut h);
    assert_eq!(save_to(&h), a_png.display().to_string());
    h.get_by_label("flyer_b").click();
    settle(&mut h);
    assert_eq!(
        save_to(&h),
        b_png.display().to_string(),
        "the path follows the link"
    );
    h.get_by_label("Export QR").click();
    run_within(&mut h, Duration::from_secs(15), "flyer_b.png", |_| {
        b_png.exists()
    });
    assert_eq!(
        common::decode_one(&b_png),
        "https://m.me/JaspersMarket?ref=flyer_b"
    );
    assert!(!a_png.exists(), "B's export did not touch A's file");

    // A file already at A's path is kept until the user confirms.
    std::fs::write(&a_png, b"not a code").unwrap();
    h.get_by_label("flyer_a").click();
    settle(&mut h);
    h.get_by_label("Export QR").click();
    run_within(
        &mut h,
        Duration::from_secs(15),
        "the overwrite question",
        |h| h.query_by_label_contains("already exists").is_some(),
    );
    h.get_by_label_contains(&format!("{} already exists", a_png.display()));
    h.get_by_label("Keep existing file").click();
    settle(&mut h);
    assert_eq!(std::fs::read(&a_png).unwrap(), b"not a code");
    h.get_by_label("Export QR").click();
    run_within(
        &mut h,
        Duration::from_secs(15),
        "the overwrite question",
        |h| h.query_by_label("Replace file").is_some(),
    );
    h.get_by_label("Replace file").click();
    run_within(&mut h, Duration::from_secs(15), "the replaced file", |_| {
        std::fs::read(&a_png).is_ok_and(|b| b != b"not a code")
    });
    assert_eq!(
        common::decode_one(&a_png),
        "https://m.me/JaspersMarket?ref=flyer_a"
    );
}

fn overlap(a: egui::Rect, b: egui::Rect) -> f32 {
    let i = a.intersect(b);
    if i.is_positive() { i.area() } else { 0.0 }
}

fn assert_no_overlap(h: &Harness<'static, App>, size: egui::Vec2) {
    let rects = h.state().panel_rects().to_vec();
    assert!(rects.len() >= 4, "{rects:?}");
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
    for (i, (na, a)) in rects.iter().enumerate() {
        assert!(
            window.expand(1.0).contains_rect(*a),
            "{na} {a:?} leaves the {size:?} window"
        );
        for (nb, b) in &rects[i + 1..] {
            assert!(
                overlap(a.shrink(1.0), b.shrink(1.0)) == 0.0,
                "{na} {a:?} overlaps {nb} {b:?} at {size:?}"
            );
        }
    }
    let table = rects.iter().find(|(n, _)| *n == "links table").unwrap().1;
    assert!(
        table.width() >= 0.3 * size.x,
        "the links table keeps room: {table:?} at {size:?}"
    );
}

#[test]
fn panels_do_not_overlap_from_640x480_to_2560x1440() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &["newsletter_with_a_long_ref_code"]);
    for (w, ht) in [(640.0, 480.0), (1280.0, 800.0), (2560.0, 1440.0)] {
        let mut h = harness_sized(&db, UiState::default(), w, ht);
        run_until(&mut h, "links", |a| a.snap.links.len() == 1);
        h.get_by_label("newsletter_with_a_long_ref_code").click();
        settle(&mut h);
        assert!(h.state().selected.is_some());
        settle(&mut h);
        assert_no_overlap(&h, egui::vec2(w, ht));
        // The side panel folds away and comes back.
        h.get_by_label("Hide").click();
        settle(&mut h);
        assert!(
            h.state()
                .panel_rects()
                .iter()
                .all(|(n, _)| *n != "side panel")
        );
        h.get_by_label("Show campaigns & channels").click();
        settle(&mut h);
        assert!(
            h.state()
                .panel_rects()
                .iter()
                .any(|(n, _)| *n == "side panel")
        );
    }
}

#[test]
fn dialogs_are_modal_enter_submits_and_esc_cancels() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &["first"]);
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "links", |a| a.snap.links.len() == 1);
    h.get_by_label("New link").click();
    settle(&mut h);
    h.get_by_label("Save link");
    h.key_press(egui::Key::Escape);
    settle(&mut h);
    assert!(
        h.query_by_label("Save link").is_none(),
        "Esc closed the form"
    );
    h.get_by_label("New link").click();
    settle(&mut h);
    replace_in(&mut h, "Ref code", "by_enter");
    h.key_press(egui::Key::Enter);
    run_until(&mut h, "the link saved by Enter", |a| {
        a.snap.links.iter().any(|l| l.link.ref_code == "by_enter")
    });
    // The dialog is centred in the 1400-wide window, not at its corner.
    h.get_by_label("New link").click();
    settle(&mut h);
    let r = h.get_by_label("Ref code").rect();
    assert!(r.left() > 300.0 && r.right() < 1100.0, "{r:?}");
}

#[test]
fn one_dialog_at_a_time_and_ctrl_n_over_a_form_keeps_what_was_typed() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &["first"]);
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "links", |a| a.snap.links.len() == 1);
    h.get_by_label("New link").click();
    settle(&mut h);
    replace_in(&mut h, "Ref code", "half_typed");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::N);
    settle(&mut h);
    assert_eq!(h.query_all_by_label("Save link").count(), 1, "one form");
    assert_eq!(
        h.get_by_label("Ref code").value().as_deref(),
        Some("half_typed"),
        "the open form keeps the ref typed in it"
    );
}

#[test]
fn status_says_what_the_last_action_did() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("status.db");
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "first load", |a| a.loaded);
    h.get_by_label("Add your page").click();
    settle(&mut h);
    type_into(&mut h, "Page username or link", "JaspersMarket");
    h.get_by_label("Save page").click();
    run_until(&mut h, "the page", |a| a.snap.pages.len() == 1);
    let said = h.state().message.clone();
    assert!(
        said.as_ref().is_some_and(|m| m.text.contains("Added page")),
        "{said:?}"
    );
    type_into(&mut h, "New campaign", "Summer");
    // The click must land on an enabled button where it is drawn now: a
    // snapshot arriving late can still move the side panel.
    common::ui::wait_for(&mut h, "the campaign name in its field", |h| {
        h.get_by_label("New campaign").value().as_deref() == Some("Summer")
    });
    common::ui::wait_still(&mut h, "Add campaign");
    h.get_by_label("Add campaign").click();
    run_until(&mut h, "the campaign", |a| a.snap.campaigns.len() == 1);
    settle(&mut h);
    h.get_by_label_contains("Added campaign Summer");
    assert!(h.query_by_label_contains("Added page").is_none());
}

#[test]
fn sync_message_and_top_bar_agree_on_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let relay = refboard::relay::start(
        refboard::relay::RelayConfig {
            data: dir.path().join("relay.db"),
            app_secret: common::FIXTURE_APP_SECRET.into(),
            verify_token: "v".into(),
            api_token: "t".into(),
            forward: None,
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let client = reqwest::blocking::Client::new();
    for (_, body) in common::fixture_bodies() {
        let sig = refboard::messenger::sign(common::FIXTURE_APP_SECRET.as_bytes(), &body);
        client
            .post(format!("{}/webhook", relay.url()))
            .header(refboard::messenger::SIGNATURE_HEADER, sig)
            .body(body)
            .send()
            .unwrap();
    }
    {
        let mut store = Store::open(&db).unwrap();
        store.set_backend_url(&relay.url()).unwrap();
        store.set_backend_token("t").unwrap();
    }
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "first load", |a| a.loaded);
    for _ in 0..2 {
        h.key_press(egui::Key::F5);
        settle(&mut h);
        run_until(&mut h, "the sync", |a| {
            a.job.is_none()
                && a.message
                    .as_ref()
                    .is_some_and(|m| m.text.starts_with("Synced"))
        });
        run_until(&mut h, "the reload", |a| a.snap.events_pulled == 11);
        settle(&mut h);
        let said = h.state().message.clone().unwrap().text;
        assert!(said.contains("11 events pulled in all"), "{said}");
        // The status strip and the top bar say the same total.
        let top = format!("{} events pulled in all", h.state().snap.events_pulled);
        assert_eq!(h.query_all_by_label_contains(&top).count(), 2);
    }
    relay.stop().unwrap();
}

#[test]
fn chart_zoomed_to_extremes_keeps_drawing() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    {
        let mut store = Store::open(&db).unwrap();
        for (_, body) in common::fixture_bodies() {
            let text = String::from_utf8(body).unwrap().replace('\n', " ");
            refboard::import::import_text(&mut store, &text).unwrap();
        }
    }
    let state = UiState {
        tab: Tab::Analytics,
        range: refboard::ui::Range::All,
        by: refboard::stats::GroupBy::Source,
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    run_until(&mut h, "the report", |a| {
        a.report.as_ref().is_some_and(|r| !r.groups.is_empty())
    });
    settle(&mut h);
    let plot = h
        .state()
        .panel_rects()
        .iter()
        .find(|(n, _)| *n == "analytics")
        .unwrap()
        .1;
    // The chart sits under the controls and the summary line.
    let at = egui::pos2(plot.center().x, plot.top() + 200.0);
    for zoom in [1e-6_f32, 1e6] {
        for _ in 0..40 {
            h.hover_at(at);
            h.event(egui::Event::Zoom(zoom));
            h.step();
        }
        settle(&mut h);
    }
    // Still alive and drawing the screen.
    h.get_by_label("Group by");
}

#[test]
fn table_headers_sort_with_an_arrow() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &["b_second", "a_first", "c_third"]);
    let mut h = harness_sized(&db, UiState::default(), 800.0, 600.0);
    run_until(&mut h, "links", |a| a.snap.links.len() == 3);
    h.get_by_label("Ref, sorted ascending");
    let y = |h: &Harness<'static, App>, r: &str| h.get_by_label(r).rect().top();
    assert!(y(&h, "a_first") < y(&h, "b_second") && y(&h, "b_second") < y(&h, "c_third"));
    h.get_by_label("Ref, sorted ascending").click();
    settle(&mut h);
    h.get_by_label("Ref, sorted descending");
    assert!(y(&h, "c_third") < y(&h, "b_second") && y(&h, "b_second") < y(&h, "a_first"));
    // The full header text is there, not clipped to "Referra".
    h.get_by_label("Referrals (7 days)");
}

/// A report of 20 groups plus `other` summed ones, and the untracked refs
/// page at `offset` of `total` (the first ref carries a right-to-left override).
fn big_report(other: u64, total: usize, offset: usize) -> refboard::stats::Report {
    use refboard::stats::{GroupStats, OtherGroups, Report, Totals, UntrackedRef};
    let per_page = refboard::ui::UNTRACKED_PER_PAGE;
    Report {
        from: Some("2026-11-01".parse().unwrap()),
        to: Some("2026-11-30".parse().unwrap()),
        tz: "UTC".into(),
        every: refboard::stats::Every::Day,
        by: refboard::stats::GroupBy::Link,
        totals: Totals::default(),
        groups: (0..20)
            .map(|i| GroupStats {
                key: format!("group_{i:04}"),
                missing_ref: false,
                referrals: 100 - i as u64,
                unique_people: 1,
                new: 1,
                returning: 0,
                series: Vec::new(),
            })
            .collect(),
        other: Some(OtherGroups {
            groups: other,
            referrals: other,
            unique_people: other,
            new: other,
            returning: 0,
            series: Vec::new(),
        }),
        untracked_total: total,
        untracked_offset: offset,
        untracked_refs: (offset..total.min(offset + per_page))
            .map(|i| UntrackedRef {
                ref_code: if i == 0 {
                    "invoice\u{202E}fdp.exe".into()
                } else {
                    format!("stray_{i:03}")
                },
                page_id: "104729178032417".into(),
                referrals: (total - i) as u64,
            })
            .collect(),
        unique_people_counted: true,
    }
}

#[test]
fn analytics_shows_other_row_and_pages_untracked_refs_shown_safely() {
    let (worker, peer) = detached();
    let state = UiState {
        tab: Tab::Analytics,
        ..UiState::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |_| App::with_worker(worker, state));
    peer.events.send(Event::Loaded(Box::default())).unwrap();
    settle(&mut h);
    let asked = |peer: &refboard::worker::WorkerPeer| {
        peer.commands.try_iter().find_map(|c| match c {
            refboard::worker::Command::Short(refboard::worker::ShortCommand::Stats(q)) => Some(q),
            _ => None,
        })
    };
    let q = asked(&peer).expect("a stats query");
    assert_eq!(
        q.top,
        refboard::ui::TOP_GROUPS,
        "the query bounds the groups"
    );
    assert_eq!((q.untracked_offset, q.untracked_limit), (0, 20));
    peer.events
        .send(Event::Stats(Box::new(big_report(5000, 45, 0))))
        .unwrap();
    settle(&mut h);
    h.get_by_label_contains("Other (5000 links): ");
    h.get_by_label("Page 1 of 3 (45 untracked refs)");
    // The override shows as an escape, never as itself.
    h.get_by_label("invoice\\u{202E}fdp.exe");
    assert!(h.query_by_label_contains("\u{202E}").is_none());
    // Every screen scrolls: the pager is below the fold at 1280x800.
    h.get_by_label("Next").scroll_to_me();
    settle(&mut h);
    h.get_by_label("Next").click();
    settle(&mut h);
    let q = asked(&peer).expect("a query for the next page");
    assert_eq!((q.untracked_offset, q.untracked_limit), (20, 20));
    peer.events
        .send(Event::Stats(Box::new(big_report(5000, 45, 20))))
        .unwrap();
    settle(&mut h);
    h.get_by_label("Page 2 of 3 (45 untracked refs)");
    h.get_by_label("stray_020");
    assert!(h.query_by_label("stray_019").is_none(), "20 refs a page");
}

/// The chart never waits for unique people: a report without them is drawn
/// at once with "…" in their place, and the counted one fills them in.
#[test]
fn unique_people_fill_in_after_the_chart() {
    let (worker, peer) = detached();
    let state = UiState {
        tab: Tab::Analytics,
        ..UiState::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |_| App::with_worker(worker, state));
    peer.events.send(Event::Loaded(Box::default())).unwrap();
    settle(&mut h);
    let mut first = big_report(3, 0, 0);
    first.unique_people_counted = false;
    first.totals.referrals = 1234;
    first.totals.unique_people = 0;
    peer.events.send(Event::Stats(Box::new(first))).unwrap();
    settle(&mut h);
    h.get_by_label_contains("1234 referrals from … (counting) people");
    h.get_by_label("group_0000");
    // One per group row drawn (the table draws only the rows in view). The
    // table's cells are labelled with the bare key; the legend's toggles
    // carry a line mark before it.
    let rows: usize = (0..20)
        .map(|i| h.query_all_by_label(&format!("group_{i:04}")).count())
        .sum();
    assert!(rows > 0);
    assert_eq!(h.query_all_by_label("…").count(), rows);
    let mut second = big_report(3, 0, 0);
    second.totals.referrals = 1234;
    second.totals.unique_people = 987;
    peer.events.send(Event::Stats(Box::new(second))).unwrap();
    settle(&mut h);
    h.get_by_label_contains("1234 referrals from 987 people");
    assert_eq!(h.query_all_by_label("…").count(), 0);
}

#[test]
fn every_grouping_and_bucket_size_is_in_the_menus() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let state = UiState {
        tab: Tab::Analytics,
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    run_until(&mut h, "first load", |a| a.loaded);
    // A label counts as in the menu when opening the menu adds one.
    let count = |h: &Harness<'static, App>, l: &str| h.query_all_by_label(l).count();
    let closed: Vec<usize> = refboard::stats::GroupBy::ALL
        .iter()
        .map(|b| count(&h, b.label()))
        .collect();
    h.get_by_label("Group by").click();
    settle(&mut h);
    for (by, before) in refboard::stats::GroupBy::ALL.iter().zip(closed) {
        assert!(
            count(&h, by.label()) > before,
            "{by:?} is missing from the Group by menu"
        );
    }
    h.key_press(egui::Key::Escape);
    settle(&mut h);
    let closed: Vec<usize> = refboard::stats::Every::ALL
        .iter()
        .map(|e| count(&h, e.label()))
        .collect();
    h.get_by_label("Granularity").click();
    settle(&mut h);
    for (every, before) in refboard::stats::Every::ALL.iter().zip(closed) {
        assert!(
            count(&h, every.label()) > before,
            "{every:?} is missing from the Granularity menu"
        );
    }
}

#[test]
fn renaming_a_ref_warns_that_printed_links_become_untracked() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_links(dir.path(), &["printed_flyer"]);
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "links", |a| a.snap.links.len() == 1);
    h.get_by_label("printed_flyer").click();
    settle(&mut h);
    h.get_by_label("Edit link").click();
    settle(&mut h);
    assert!(
        h.query_by_label_contains("will count as untracked")
            .is_none()
    );
    replace_in(&mut h, "Ref code", "renamed_flyer");
    h.get_by_label_contains(
        "links already printed with ref \"printed_flyer\" will count as untracked",
    );
}

#[test]
fn the_backend_form_uses_the_model_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let state = UiState {
        tab: Tab::Backend,
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    run_until(&mut h, "first load", |a| a.loaded);
    type_into(&mut h, "Backend URL", "ftp://bot.example.com");
    h.get_by_label_contains("invalid backend \"ftp://bot.example.com\"");
    type_into(&mut h, "API token", "has space");
    h.get_by_label_contains("an API token has no spaces");
    assert!(h.get_by_label("Save").accesskit_node().is_disabled());
}

/// Runs frames until a label containing `text` is shown (or not, with `shown` false).
fn run_until_label(h: &mut Harness<'static, App>, text: &str, shown: bool) {
    let start = Instant::now();
    loop {
        settle(h);
        if h.query_by_label_contains(text).is_some() == shown {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {text:?} shown={shown}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_backend_tab_shows_webhook_health_from_a_real_relay() {
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
    let (_, body) = common::fixture_bodies().remove(0);
    // A forged delivery: refused, and counted as a bad signature.
    let forged = client
        .post(format!("{}/webhook", relay.url()))
        .header(
            refboard::messenger::SIGNATURE_HEADER,
            format!("sha256={}", "0".repeat(64)),
        )
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    let state = UiState {
        tab: Tab::Backend,
        webhook_quiet_mins: 45,
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    run_until(&mut h, "first load", |a| a.loaded);
    // The chosen quiet period is remembered with the UI state.
    assert_eq!(h.state().ui_state().webhook_quiet_mins, 45);
    type_into(&mut h, "Backend URL", &relay.url());
    type_into(&mut h, "API token", "ui-test-token");
    h.get_by_label("Test connection").click();
    // No event yet: the warning, with Meta's one-hour rule next to it.
    run_until_label(&mut h, "No webhook event has arrived yet", true);
    h.get_by_label_contains("Meta disables a webhook after about an hour");
    h.get_by_label_contains("Bad signatures in the last hour: 1");
    h.get_by_label("Warn after minutes without events");
    // A signed event arrives; the next test shows its time and no warning.
    let sig = refboard::messenger::sign(common::FIXTURE_APP_SECRET.as_bytes(), &body);
    let ok = client
        .post(format!("{}/webhook", relay.url()))
        .header(refboard::messenger::SIGNATURE_HEADER, sig)
        .body(body)
        .send()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    h.get_by_label("Test connection").click();
    run_until_label(&mut h, "Last webhook event received", true);
    run_until_label(&mut h, "No webhook event", false);
    let health = h.state().snap.webhook_health.clone().unwrap().unwrap();
    assert!(health.last_event_at_ms.is_some());
    // A sync reads the health again, and a reload keeps it.
    let forged = client
        .post(format!("{}/webhook", relay.url()))
        .header(
            refboard::messenger::SIGNATURE_HEADER,
            format!("sha256={}", "1".repeat(64)),
        )
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    h.get_by_label("Save and sync now").click();
    run_until(&mut h, "the sync", |a| {
        a.snap.events_total > 0 && a.job.is_none()
    });
    run_until_label(&mut h, "Bad signatures in the last hour: 2", true);
    h.get_by_label_contains("Last webhook event received");
    relay.stop().unwrap();
}

#[test]
fn the_chart_of_a_page_counts_its_instagram_events_by_the_instagram_account_id() {
    use refboard::model::{Kind, Platform, ReferralEvent};
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let mut store = Store::open(&db).unwrap();
    let page = store.pages().unwrap().remove(0);
    let new = NewPage::parse(&page.target, Some(&page.name), page.page_id.as_deref())
        .unwrap()
        .with_ig_id(Some("17841400000000001"))
        .unwrap();
    store.update_page(page.id, &new).unwrap();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let event = |i: usize, platform: Platform, page_id: &str| ReferralEvent {
        event_id: format!("e{i}"),
        platform,
        page_id: page_id.into(),
        sender: format!("p{i}"),
        timestamp_ms: now_ms,
        kind: Kind::New,
        ref_code: Some("igbio".into()),
        source: Some("SHORTLINK".into()),
        ref_type: None,
        ad_id: None,
        ad_title: None,
        referer_uri: None,
        received_at_ms: now_ms,
    };
    let events = [
        event(1, Platform::Messenger, "104729178032417"),
        event(2, Platform::Instagram, "17841400000000001"),
        // Another Instagram account: not this page.
        event(3, Platform::Instagram, "17841499999999999"),
    ];
    assert_eq!(store.ingest(&events, None).unwrap(), 3);
    drop(store);
    let state = UiState {
        tab: Tab::Analytics,
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    run_until(&mut h, "first load", |a| a.loaded && a.snap.page.is_some());
    h.get_by_label("All time").click();
    run_until(&mut h, "the page's report", |a| {
        a.report.as_ref().is_some_and(|r| r.totals.referrals > 0)
    });
    assert_eq!(h.state().report.as_ref().unwrap().totals.referrals, 2);
}

/// A page with `freeshipping` (campaign Spring, channel Flyer) and
/// `newsletter` (Autumn, Newsletter), 4 referrals of `freeshipping`, and 2
/// of the typo `freeshiping` that no link defines.
fn typo_store(dir: &Path) -> std::path::PathBuf {
    use refboard::model::Kind;
    let path = dir.join("typo.db");
    let mut store = Store::open(&path).unwrap();
    let page = jaspers_market(&mut store).id;
    let news = channel(&mut store, page, "Newsletter", ChannelKind::Email);
    let flyer = channel(&mut store, page, "Flyer", ChannelKind::Flyer);
    let autumn = campaign(&mut store, page, "Autumn").id;
    let spring = campaign(&mut store, page, "Spring").id;
    link(&mut store, page, spring, flyer, "freeshipping", None);
    link(&mut store, page, autumn, news, "newsletter", None);
    let refs = [
        "freeshipping",
        "freeshipping",
        "freeshipping",
        "freeshipping",
        "freeshiping",
        "freeshiping",
    ];
    let base = 1_790_000_000_000i64;
    let events: Vec<_> = refs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at_ms = base + i as i64 * 3_600_000;
            refboard::model::ReferralEvent {
                received_at_ms: base,
                ..referral(format!("t{i}"), at_ms, Kind::New, r, &format!("{i:032x}"))
            }
        })
        .collect();
    store.ingest(&events, None).unwrap();
    path
}

/// Runs frames until the widget labelled `label` is drawn at the same place twice.
fn wait_still(h: &mut Harness<'static, App>, label: &str) {
    let start = Instant::now();
    let mut last = None;
    loop {
        settle(h);
        let rect = h.get_by_label(label).rect();
        if last == Some(rect) {
            return;
        }
        last = Some(rect);
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{label} keeps moving"
        );
    }
}

fn link_referrals(a: &App, key: &str) -> Option<u64> {
    a.report
        .as_ref()
        .and_then(|r| r.groups.iter().find(|g| g.key == key).map(|g| g.referrals))
}

#[test]
fn typo_rescue_counts_a_typo_for_its_link_and_undo_restores_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = typo_store(dir.path());
    let state = UiState {
        tab: Tab::Analytics,
        range: refboard::ui::Range::All,
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    run_until(&mut h, "the report with the untracked typo", |a| {
        a.report.as_ref().is_some_and(|r| r.untracked_total == 1)
    });
    assert_eq!(link_referrals(h.state(), "freeshipping"), Some(4));
    h.get_by_label("looks like a typo of freeshipping");
    h.get_by_label("Count as freeshipping").scroll_to_me();
    settle(&mut h);
    h.get_by_label("Count as freeshipping").click();
    run_until(&mut h, "the typo counted for its link", |a| {
        link_referrals(a, "freeshipping") == Some(6)
            && a.report.as_ref().is_some_and(|r| r.untracked_total == 0)
    });
    let aliases = Store::open(&db).unwrap().aliases(None, None).unwrap();
    assert_eq!(aliases.len(), 1);
    assert_eq!(
        (
            aliases[0].alias.ref_code.as_str(),
            aliases[0].link_ref.as_str()
        ),
        ("freeshiping", "freeshipping")
    );
    assert!(
        h.query_by_label("looks like a typo of freeshipping")
            .is_none()
    );
    settle(&mut h);
    h.get_by_label("Undo").scroll_to_me();
    settle(&mut h);
    h.get_by_label("Undo").click();
    run_until(&mut h, "the typo untracked again", |a| {
        link_referrals(a, "freeshipping") == Some(4)
            && a.report.as_ref().is_some_and(|r| r.untracked_total == 1)
    });
    assert!(
        Store::open(&db)
            .unwrap()
            .aliases(None, None)
            .unwrap()
            .is_empty()
    );
    settle(&mut h);
    h.get_by_label("looks like a typo of freeshipping");
    assert!(h.query_by_label("Undo").is_none(), "nothing left to undo");

    // "Create link" pre-selects the closest link's campaign and channel
    // (the first ones would be Autumn and Newsletter).
    h.get_by_label("Create link").scroll_to_me();
    settle(&mut h);
    h.get_by_label("Create link").click();
    settle(&mut h);
    assert_eq!(
        h.get_by_label("Ref code").value().as_deref(),
        Some("freeshiping")
    );
    // A modal is sized over its first frames: click once it stays put.
    wait_still(&mut h, "Save link");
    h.get_by_label("Save link").click();
    run_until(&mut h, "the new link", |a| a.snap.links.len() == 3);
    let store = Store::open(&db).unwrap();
    let page = store.resolve_page(None).unwrap();
    let made = store.link_by_ref(page.id, "freeshiping").unwrap();
    assert_eq!(
        (made.campaign_name.as_str(), made.channel_name.as_str()),
        ("Spring", "Flyer")
    );
}

#[test]
fn save_report_writes_the_range_shown() {
    let dir = tempfile::tempdir().unwrap();
    let db = typo_store(dir.path());
    let state = UiState {
        tab: Tab::Analytics,
        range: refboard::ui::Range::All,
        ..UiState::default()
    };
    let mut h = harness(&db, state);
    run_until(&mut h, "the report", |a| a.report.is_some());
    let out = dir.path().join("shared.html");
    h.get_by_label("Report file").scroll_to_me();
    settle(&mut h);
    type_into(&mut h, "Report file", out.to_str().unwrap());
    h.get_by_label("Save report…").scroll_to_me();
    settle(&mut h);
    h.get_by_label("Save report…").click();
    let start = Instant::now();
    while !out.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no report written"
        );
        settle(&mut h);
        std::thread::sleep(Duration::from_millis(20));
    }
    let html = std::fs::read_to_string(&out).unwrap();
    let range = h
        .state()
        .report
        .as_ref()
        .map(|r| (r.from.unwrap(), r.to.unwrap()))
        .unwrap();
    let (from, to) = range;
    assert!(
        html.contains(&refboard::report::range_words(from, to)),
        "names the range"
    );
    assert!(
        html.contains("Jasper&#39;s Market"),
        "the page's name, escaped"
    );
    run_until_label(&mut h, &format!("Wrote the report {}", out.display()), true);
}

#[test]
fn analytics_names_sources_in_words_and_the_column_by_its_grouping() {
    use refboard::stats::{GroupBy, GroupStats, Report, Totals};
    let (worker, peer) = detached();
    let state = UiState {
        tab: Tab::Analytics,
        by: GroupBy::Source,
        ..UiState::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |_| App::with_worker(worker, state));
    peer.events.send(Event::Loaded(Box::default())).unwrap();
    settle(&mut h);
    let group = |key: &str, n: u64| GroupStats {
        key: key.into(),
        missing_ref: false,
        referrals: n,
        unique_people: n,
        new: n,
        returning: 0,
        series: Vec::new(),
    };
    let report = Report {
        from: Some("2026-11-01".parse().unwrap()),
        to: Some("2026-11-30".parse().unwrap()),
        tz: "UTC".into(),
        every: refboard::stats::Every::Day,
        by: GroupBy::Source,
        totals: Totals::default(),
        groups: vec![
            group("SHORTLINK", 4),
            group("ADS", 3),
            group("CUSTOMER_CHAT_PLUGIN", 2),
            group("NEW_SURFACE\u{202E}", 1),
        ],
        other: None,
        untracked_total: 0,
        untracked_offset: 0,
        untracked_refs: Vec::new(),
        unique_people_counted: true,
    };
    peer.events.send(Event::Stats(Box::new(report))).unwrap();
    settle(&mut h);
    h.get_by_label("m.me link");
    h.get_by_label("Ad");
    h.get_by_label("Chat plugin (retired by Meta in May 2024)");
    // A source Meta adds later is shown as sent, escaped.
    h.get_by_label("NEW_SURFACE\\u{202E}");
    assert!(h.query_by_label("SHORTLINK").is_none());
    // The first column is named by what it groups, never "key".
    h.get_by_label("Source");
    assert!(h.query_by_label("key").is_none());
}

#[test]
fn the_link_detail_lists_its_aliases_and_removes_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = typo_store(dir.path());
    {
        let mut store = Store::open(&db).unwrap();
        let page = store.resolve_page(None).unwrap();
        let link = store.link_by_ref(page.id, "freeshipping").unwrap();
        store.add_alias(link.link.id, "freeshiping").unwrap();
    }
    let mut h = harness(&db, UiState::default());
    run_until(&mut h, "links and aliases", |a| {
        a.snap.links.len() == 2 && a.snap.aliases.len() == 1
    });
    h.get_by_label("freeshipping").click();
    settle(&mut h);
    h.get_by_label("Also counts");
    h.get_by_label("freeshiping");
    h.get_by_label("Remove alias").scroll_to_me();
    settle(&mut h);
    h.get_by_label("Remove alias").click();
    run_until(&mut h, "the alias removed", |a| a.snap.aliases.is_empty());
    assert!(
        Store::open(&db)
            .unwrap()
            .aliases(None, None)
            .unwrap()
            .is_empty()
    );
    settle(&mut h);
    assert!(h.query_by_label("Also counts").is_none());
}

/// "Sync now" during an import is not silently dropped by the window: it
/// goes to the worker, which queues it behind the import (or refuses a
/// second sync with its own message). The walk of 2026-12-06 clicked it
/// during an import and saw nothing happen.
#[test]
fn sync_now_during_an_import_reaches_the_worker() {
    let (worker, peer) = detached();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |_| App::with_worker(worker, UiState::default()));
    let snap = refboard::worker::Snapshot {
        backend_url: "http://127.0.0.1:9".into(),
        backend_token: "t0ken-for-the-test".into(),
        ..Default::default()
    };
    peer.events.send(Event::Loaded(Box::new(snap))).unwrap();
    peer.events
        .send(Event::Progress(Job::Import, 1, 10))
        .unwrap();
    settle(&mut h);
    let _ = peer.commands.try_iter().count();
    h.get_by_label("Sync now").click();
    settle(&mut h);
    let asked = peer.commands.try_iter().any(|c| {
        matches!(
            c,
            refboard::worker::Command::Long(refboard::worker::LongCommand::Sync(_))
        )
    });
    assert!(
        asked,
        "the click during an import sent no sync to the worker"
    );
    // The import's progress stays on screen until it ends.
    assert_eq!(h.state().job.map(|j| j.0), Some(Job::Import));
}
