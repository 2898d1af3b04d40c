//! The use cases both front ends run (`refboard::ops`), on real SQLite files
//! in temp dirs and, for sync, a real relay process on 127.0.0.1.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::relay::{RelayProcess, Storage};
use common::seed;
use refboard::export::{BulkOptions, OneOptions};
use refboard::model::{ChannelKind, ExportItem, Kind, NewLink};
use refboard::ops;
use refboard::ops::export::Selection;
use refboard::ops::link::{LinkTarget, save_link};
use refboard::store::Store;
use refboard::sync::SyncConfig;
use std::path::PathBuf;

/// A store with Jasper's Market, one campaign and one channel: (store, page, campaign, channel).
fn seeded(dir: &tempfile::TempDir) -> (Store, i64, i64, i64) {
    let mut store = Store::open(&dir.path().join("local.db")).unwrap();
    let page = seed::jaspers_market(&mut store).id;
    let campaign = seed::campaign(&mut store, page, "Spring Sale").id;
    let channel = seed::channel(&mut store, page, "Newsletter", ChannelKind::Email);
    (store, page, campaign, channel)
}

fn new_link(ref_code: &str) -> NewLink {
    NewLink::parse(ref_code, Some("Get a coupon"), None, None)
        .unwrap()
        .0
}

#[test]
fn renaming_a_link_warns_first_and_a_save_without_rename_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, page, campaign, channel) = seeded(&dir);
    let created = save_link(
        &mut store,
        LinkTarget::New { page },
        campaign,
        channel,
        &new_link("spring"),
    )
    .unwrap();
    assert!(created.warnings.is_empty(), "{:?}", created.warnings);
    let id = created.row.link.id;

    let same = save_link(
        &mut store,
        LinkTarget::Existing(id),
        campaign,
        channel,
        &new_link("spring"),
    )
    .unwrap();
    assert!(same.warnings.is_empty(), "{:?}", same.warnings);

    let renamed = save_link(
        &mut store,
        LinkTarget::Existing(id),
        campaign,
        channel,
        &new_link("spring2"),
    )
    .unwrap();
    assert_eq!(renamed.row.link.ref_code, "spring2");
    assert_eq!(renamed.warnings.len(), 1, "{:?}", renamed.warnings);
    assert_eq!(renamed.warnings[0].field, "ref");
    assert!(
        renamed.warnings[0].message.contains("\"spring\""),
        "names the old ref: {}",
        renamed.warnings[0].message
    );
}

#[test]
fn a_refused_rename_changes_nothing_and_warns_of_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, page, campaign, channel) = seeded(&dir);
    let target = LinkTarget::New { page };
    save_link(&mut store, target, campaign, channel, &new_link("a")).unwrap();
    let b = save_link(&mut store, target, campaign, channel, &new_link("b")).unwrap();
    let id = b.row.link.id;
    save_link(
        &mut store,
        LinkTarget::Existing(id),
        campaign,
        channel,
        &new_link("a"),
    )
    .expect_err("two links of a page cannot share a ref");
    assert_eq!(store.link(id).unwrap().link.ref_code, "b");
}

#[test]
fn export_items_follow_the_selection_and_bulk_writes_every_code() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, page, campaign, channel) = seeded(&dir);
    let other = seed::campaign(&mut store, page, "Autumn").id;
    let a = seed::link(&mut store, page, campaign, channel, "spring-a", None);
    seed::link(&mut store, page, campaign, channel, "spring-b", None);
    seed::link(&mut store, page, other, channel, "autumn", None);
    store.set_link_archived(a, true).unwrap();
    let mut selection = Selection {
        page,
        campaign: Some(campaign),
        include_archived: false,
    };
    let refs = |items: Vec<ExportItem>| -> Vec<String> {
        let mut r: Vec<String> = items.into_iter().map(|i| i.ref_code).collect();
        r.sort();
        r
    };
    assert_eq!(
        refs(ops::export::items(&store, &selection).unwrap()),
        ["spring-b"]
    );
    selection.include_archived = true;
    assert_eq!(
        refs(ops::export::items(&store, &selection).unwrap()),
        ["spring-a", "spring-b"]
    );
    selection.campaign = None;
    let items = ops::export::items(&store, &selection).unwrap();
    assert_eq!(refs(items.clone()), ["autumn", "spring-a", "spring-b"]);

    let out = dir.path().join("codes");
    let mut calls = 0;
    let report = ops::export::bulk(&out, &items, &BulkOptions::default(), &mut |_, _| {
        calls += 1;
        true
    })
    .unwrap();
    assert_eq!(report.links, 3);
    assert_eq!(calls, 3, "progress after each link");
    let pngs: Vec<&PathBuf> = report
        .files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
        .collect();
    assert_eq!(pngs.len(), 3, "{:?}", report.files);
    let mut decoded: Vec<String> = pngs.iter().map(|p| common::decode_one(p)).collect();
    decoded.sort();
    let mut urls: Vec<String> = items.iter().map(|i| i.url.clone()).collect();
    urls.sort();
    assert_eq!(decoded, urls);
}

#[test]
fn one_code_is_written_proved_and_a_broken_link_counts_as_in_the_way() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.png");
    assert!(!ops::export::in_the_way(&path));
    let item = ExportItem {
        url: "https://m.me/JaspersMarket?ref=spring".into(),
        cta: "Get a coupon".into(),
        ..ExportItem::default()
    };
    let style = refboard::codes::QrStyle::default();
    let warnings = ops::export::one_code(&path, &item, &style, &OneOptions::default()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(common::decode_one(&path), item.url);
    assert!(ops::export::in_the_way(&path));
    // Without `replace` the file is left alone.
    let before = std::fs::read(&path).unwrap();
    let other = ExportItem {
        url: "https://m.me/JaspersMarket?ref=other".into(),
        ..item.clone()
    };
    ops::export::one_code(&path, &other, &style, &OneOptions::default())
        .expect_err("a file is in the way");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    #[cfg(unix)]
    {
        let dangling = dir.path().join("dangling.png");
        std::os::unix::fs::symlink(dir.path().join("nowhere.png"), &dangling).unwrap();
        assert!(ops::export::in_the_way(&dangling));
    }
}

#[test]
fn a_missing_logo_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut style = refboard::codes::QrStyle::default();
    let missing = dir.path().join("no-logo.png");
    let e = ops::export::load_logo(&mut style, Some(&missing), 0.1, false).unwrap_err();
    assert_eq!(e.field, "logo");
    assert!(style.logo.is_none());
    ops::export::load_logo(&mut style, None, 0.1, false).unwrap();
    assert!(style.logo.is_none());
}

/// Webhook bodies, one per line, for `n` referrals with distinct senders.
fn bodies(n: usize, first_ts: i64) -> String {
    (0..n)
        .map(|i| {
            let body =
                common::relay::referral_body("spring", &format!("p{i}"), first_ts + i as i64);
            String::from_utf8(body).unwrap() + "\n"
        })
        .collect()
}

#[test]
fn import_goes_on_past_unreadable_files_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ..) = seeded(&dir);
    let now = chrono::Utc::now().timestamp_millis() - 60_000;
    let good1 = dir.path().join("one.ndjson");
    let good2 = dir.path().join("two.ndjson");
    std::fs::write(&good1, bodies(3, now)).unwrap();
    std::fs::write(&good2, bodies(2, now + 10)).unwrap();
    let missing = dir.path().join("missing.ndjson");
    let folder = dir.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    let paths = vec![good1, missing.clone(), folder.clone(), good2];
    let mut seen = Vec::new();
    let done = ops::import::import_files(
        &mut store,
        &paths,
        &mut |i, path, outcome| seen.push((i, path.to_path_buf(), outcome.is_ok())),
        &mut || true,
    )
    .unwrap();
    assert_eq!(done.files_done, 4);
    assert!(!done.cancelled);
    assert_eq!(done.total.referrals, 5, "both good files counted");
    let failed: Vec<&PathBuf> = done.failed.iter().map(|(p, _)| p).collect();
    assert_eq!(failed, [&missing, &folder]);
    assert!(matches!(done.failed[0].1, ops::import::FileError::Open(_)));
    assert_eq!(
        seen.iter().map(|s| s.2).collect::<Vec<_>>(),
        [true, false, false, true]
    );
    assert_eq!(store.event_count().unwrap(), 5);
    // Again: nothing counts twice.
    let again =
        ops::import::import_files(&mut store, &paths, &mut |_, _, _| {}, &mut || true).unwrap();
    assert_eq!(again.total.new, 0);
    assert_eq!(store.event_count().unwrap(), 5);
}

#[test]
fn import_stops_between_files_when_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ..) = seeded(&dir);
    let now = chrono::Utc::now().timestamp_millis() - 60_000;
    let paths: Vec<PathBuf> = (0..3)
        .map(|i| {
            let p = dir.path().join(format!("{i}.ndjson"));
            std::fs::write(&p, bodies(2, now + i * 10)).unwrap();
            p
        })
        .collect();
    let mut asked = 0;
    let done = ops::import::import_files(&mut store, &paths, &mut |_, _, _| {}, &mut || {
        asked += 1;
        // Yes before the first file (two bodies are one batch, so it is not
        // asked inside); no before the second.
        asked <= 1
    })
    .unwrap();
    assert!(done.cancelled);
    assert_eq!(done.files_done, 1);
    assert_eq!(done.total.new, 2);
    assert_eq!(store.event_count().unwrap(), 2);
}

/// A relay process holding `n` referral events.
fn relay_with_events(dir: &tempfile::TempDir, n: usize, token: &str) -> RelayProcess {
    let data = dir.path().join("relay.db");
    let now = chrono::Utc::now().timestamp_millis() - 60_000;
    let events: Vec<_> = (0..n)
        .map(|i| {
            seed::referral(
                format!("{i:032x}"),
                now + i as i64,
                Kind::New,
                "spring",
                &format!("{:032x}", i * 7919),
            )
        })
        .collect();
    refboard::relay::import_events(&data, &events, &[]).unwrap();
    RelayProcess::start(Storage::Data(&data), "verify", token)
}

#[test]
fn sync_keeps_the_backend_url_it_was_told_to_once_pages_committed() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_with_events(&dir, 25, "token-ops");
    let (mut store, ..) = seeded(&dir);
    let mut config = SyncConfig::new(&relay.url, "token-ops");
    config.page_size = 10;
    let mut pages = 0;
    let keep = ops::sync::Keep {
        url: true,
        token: None,
    };
    let synced = ops::sync::sync(&mut store, &config, keep, &mut |_| {
        pages += 1;
        true
    })
    .unwrap();
    assert_eq!(synced.progress.events, 25);
    assert_eq!(synced.progress.new_events, 25);
    assert_eq!(synced.progress.pages, 3);
    assert_eq!(pages, 3);
    assert_eq!(synced.events_pulled, 25);
    assert!(synced.token_place.is_none(), "no token was to be kept");
    assert_eq!(
        store.backend_url().unwrap().as_deref(),
        Some(relay.url.as_str())
    );
    assert_eq!(store.event_count().unwrap(), 25);
}

#[test]
fn a_sync_refused_before_any_page_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_with_events(&dir, 3, "right-token");
    let (mut store, ..) = seeded(&dir);
    let config = SyncConfig::new(&relay.url, "wrong-token");
    let keep = ops::sync::Keep {
        url: true,
        token: None,
    };
    let failed = ops::sync::sync(&mut store, &config, keep, &mut |_| true).unwrap_err();
    match *failed {
        ops::sync::SyncFailed::Sync { error, kept } => {
            assert!(
                matches!(error, refboard::sync::SyncError::Config(_)),
                "{error:?}"
            );
            assert!(matches!(kept, Ok(None)), "{kept:?}");
        }
        other => panic!("the sync itself failed: {other:?}"),
    }
    assert_eq!(store.backend_url().unwrap(), None, "nothing kept");
    assert_eq!(store.event_count().unwrap(), 0);
}
