//! Store tests on real SQLite files in a temp dir.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use refboard::model::{ChannelKind, NewCampaign, NewLink, NewPage};
use refboard::store::{LinkFilter, SCHEMA_VERSION, Store, StoreError};
use rusqlite::Connection;

mod common;
use common::seed::{campaign, channel, jaspers_market};

fn seeded(path: &std::path::Path) -> (Store, i64, i64, i64) {
    let mut store = Store::open(path).unwrap();
    let page = jaspers_market(&mut store).id;
    let ch = channel(&mut store, page, "Newsletter", ChannelKind::Email);
    let cm = campaign(&mut store, page, "Spring Sale").id;
    (store, page, cm, ch)
}

#[test]
fn migrates_once_and_reopens_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/refboard.db");
    {
        let (mut store, page, cm, ch) = seeded(&path);
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let (link, _) =
            NewLink::parse("freeshipping", Some("Get free shipping"), None, None).unwrap();
        store.add_link(page, cm, ch, &link).unwrap();
    }
    // Second open: migrations do not run again and data is intact.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let links = store.links(&LinkFilter::default()).unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].url, "https://m.me/JaspersMarket?ref=freeshipping");
    assert_eq!(links[0].campaign_name, "Spring Sale");
    let conn = Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN
             ('pages','channels','campaigns','links','referral_events','sync_sources','settings')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 7);
}

#[test]
fn newer_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    match Store::open(&path) {
        Err(StoreError::TooNew {
            found, supported, ..
        }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a newer database was opened"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_failed_migration_leaves_version_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    // A table in the way makes migration 1 fail half-way through.
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE links (x INTEGER);")
        .unwrap();
    assert!(Store::open(&path).is_err());
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 0);
    let pages: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'pages'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        pages, 0,
        "the transaction rolled back the tables created before the failure"
    );
}

#[test]
fn duplicates_are_refused_with_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, page, cm, ch) = seeded(&dir.path().join("r.db"));
    let e = store
        .add_page(&NewPage::parse("jaspers.market", Some("Other"), None).unwrap())
        .unwrap_err();
    assert!(e.is_user_error());
    assert!(e.to_string().contains("same page"), "{e}");
    let e = store
        .add_channel(page, "NEWSLETTER", ChannelKind::Other)
        .unwrap_err();
    assert!(e.to_string().contains("already has a channel"), "{e}");
    let e = store
        .add_campaign(
            page,
            &NewCampaign::parse("spring sale", None, None, None).unwrap(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("already has a campaign"), "{e}");

    let (fb, _) = NewLink::parse("jaspersmarketFBad", None, None, None).unwrap();
    let (_, w) = store.add_link(page, cm, ch, &fb).unwrap();
    assert!(w.is_empty());
    let e = store.add_link(page, cm, ch, &fb).unwrap_err();
    assert!(
        e.to_string().contains("already has a link with this ref"),
        "{e}"
    );
    let (lower, _) = NewLink::parse("jaspersmarketfbad", None, None, None).unwrap();
    let (_, w) = store.add_link(page, cm, ch, &lower).unwrap();
    assert_eq!(
        w.len(),
        1,
        "case-only difference is accepted with a warning"
    );
    assert_eq!(
        store.refs(page).unwrap(),
        ["jaspersmarketFBad", "jaspersmarketfbad"]
    );
}

#[test]
fn used_channels_and_campaigns_are_archived_not_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, page, cm, ch) = seeded(&dir.path().join("r.db"));
    let (l, _) = NewLink::parse("freeshipping", None, None, None).unwrap();
    let (row, _) = store.add_link(page, cm, ch, &l).unwrap();
    let e = store.remove_channel(ch).unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)));
    assert!(e.to_string().contains("archive it instead"), "{e}");
    assert!(store.remove_campaign(cm).is_err());
    assert!(store.remove_page(page).is_err());
    store.set_channel_archived(ch, true).unwrap();
    assert!(store.channels(page, false).unwrap().is_empty());
    assert_eq!(store.channels(page, true).unwrap().len(), 1);
    // Once the link is gone, removal works.
    store.remove_link(row.link.id).unwrap();
    store.remove_channel(ch).unwrap();
    store.remove_campaign(cm).unwrap();
    store.remove_page(page).unwrap();
    assert!(store.pages().unwrap().is_empty());
}

#[test]
fn page_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, page, _, _) = seeded(&dir.path().join("r.db"));
    assert_eq!(store.resolve_page(None).unwrap().id, page);
    for sel in [
        "jaspers.market",
        "Jasper's Market",
        "104729178032417",
        "https://m.me/JaspersMarket",
    ] {
        assert_eq!(store.resolve_page(Some(sel)).unwrap().id, page, "{sel}");
    }
    store
        .add_page(&NewPage::parse("JaspersBakery", None, None).unwrap())
        .unwrap();
    let e = store.resolve_page(None).unwrap_err();
    assert!(e.to_string().contains("several pages"), "{e}");
    assert!(
        store
            .resolve_page(Some("nobody"))
            .unwrap_err()
            .is_user_error()
    );
}

#[test]
fn edits_recheck_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, page, cm, ch) = seeded(&dir.path().join("r.db"));
    let (a, _) = NewLink::parse("freeshipping", None, None, None).unwrap();
    let (b, _) = NewLink::parse("exclusiveinvite", None, Some("Hi"), None).unwrap();
    store.add_link(page, cm, ch, &a).unwrap();
    let (row, _) = store.add_link(page, cm, ch, &b).unwrap();
    assert_eq!(
        row.url,
        "https://m.me/JaspersMarket?ref=exclusiveinvite&text=Hi"
    );
    // Renaming onto another link's ref is refused; the link is unchanged.
    assert!(store.update_link(row.link.id, cm, ch, &a).is_err());
    assert_eq!(
        store.link(row.link.id).unwrap().link.ref_code,
        "exclusiveinvite"
    );
    // Editing a link without changing its ref is not a duplicate of itself.
    let (same, _) = NewLink::parse("exclusiveinvite", Some("Join"), None, None).unwrap();
    let (row, _) = store.update_link(row.link.id, cm, ch, &same).unwrap();
    assert_eq!(row.link.cta, "Join");
    assert_eq!(row.url, "https://m.me/JaspersMarket?ref=exclusiveinvite");
    let renamed = store.update_channel(ch, Some("Weekly mail"), None).unwrap();
    assert_eq!(renamed.kind, ChannelKind::Email);
    assert_eq!(store.link(row.link.id).unwrap().channel_name, "Weekly mail");
}

#[test]
fn a_version_3_database_gains_the_instagram_account_id_and_keeps_its_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    let (store, page_id, _, _) = seeded(&path);
    drop(store);
    // Undo migrations 4 to 7 (event person numbers, person index, aliases,
    // Instagram id) by hand: what a refboard before them wrote.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE people_index; DROP TABLE persons; DROP TABLE referral_rollup;
         CREATE TABLE referral_rollup (period INTEGER NOT NULL, page_id TEXT NOT NULL,
            has_ref INTEGER NOT NULL, ref TEXT NOT NULL, source TEXT NOT NULL,
            slots BLOB NOT NULL, PRIMARY KEY (period, page_id, has_ref, ref, source)) WITHOUT ROWID;
         DROP TABLE link_aliases;
         DROP INDEX pages_ig_id; ALTER TABLE pages DROP COLUMN ig_id;
         ALTER TABLE referral_events DROP COLUMN person; DROP TABLE conversion_events; DROP TABLE credit_people; DROP TABLE credit_names; DROP TABLE credit_keys; DROP TABLE credit_days; PRAGMA user_version = 3;",
    )
    .unwrap();
    drop(conn);
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let page = store.page(page_id).unwrap();
    assert_eq!(page.ig_id, None);
    assert_eq!(page.page_id.as_deref(), Some("104729178032417"));
    let with_ig = NewPage::parse(&page.target, Some(&page.name), page.page_id.as_deref())
        .unwrap()
        .with_ig_id(Some("17841400000000001"))
        .unwrap();
    store.update_page(page_id, &with_ig).unwrap();
    // One Instagram account belongs to one page.
    let other = NewPage::parse("JaspersBakery", None, None)
        .unwrap()
        .with_ig_id(Some("17841400000000001"))
        .unwrap();
    let err = store.add_page(&other).unwrap_err().to_string();
    assert!(
        err.contains("ig-id") && err.contains("already belongs"),
        "{err}"
    );
    assert_eq!(store.pages().unwrap().len(), 1);
}
