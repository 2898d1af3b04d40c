//! Every upgrade path: a database at each older schema version that a
//! fixture can produce, opened by this refboard, keeps every record and
//! counts every referral exactly as the same data stored today does.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use refboard::model::{Kind, ReferralEvent};
use refboard::stats::{GroupBy, StatsQuery, query};
use refboard::store::{SCHEMA_VERSION, Store, StoreError, migrations};
use rusqlite::{Connection, params};
use std::path::Path;

mod common;
use common::seed::referral;

/// 60 referrals over three weeks from 7 people, with and without a ref,
/// crossing a 7-day rollup period.
fn events() -> Vec<ReferralEvent> {
    (0..60)
        .map(|i: i64| {
            let at = 1_780_000_000_000 + i * 9 * 3_600_000;
            let kind = if i % 4 == 0 {
                Kind::New
            } else {
                Kind::Returning
            };
            let ref_code = ["spring", "summer", "", "spring"][(i % 4) as usize];
            let mut e = referral(format!("e{i}"), at, kind, ref_code, &format!("p{}", i % 7));
            if i % 10 == 9 {
                e.ref_code = None;
            }
            e
        })
        .collect()
}

/// Figures that must not change across an upgrade.
#[derive(Debug, PartialEq)]
struct Figures {
    pages: i64,
    links: i64,
    events: i64,
    aliases: i64,
    referrals_by_ref: Vec<(String, u64)>,
    people: u64,
}

fn figures(store: &Store) -> Figures {
    let count = |table: &str| -> i64 {
        store
            .connection()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    let report = query(store, &StatsQuery::new(GroupBy::Ref, chrono_tz::UTC)).unwrap();
    let mut by_ref: Vec<(String, u64)> = report
        .groups
        .iter()
        .map(|g| (g.key.clone(), g.referrals))
        .collect();
    by_ref.sort();
    Figures {
        pages: count("pages"),
        links: count("links"),
        events: count("referral_events"),
        aliases: count("link_aliases"),
        referrals_by_ref: by_ref,
        people: report.totals.unique_people,
    }
}

/// Rows every schema since version 1 can hold: a page, its catalog, two
/// links and raw events (their rollups are what later versions rebuild).
fn insert_v1_rows(conn: &Connection, events: &[ReferralEvent], hash_of: impl Fn(&str) -> String) {
    conn.execute_batch(
        "INSERT INTO pages (id, name, target, target_key, page_id, created_at)
            VALUES (1, 'Jasper''s Market', 'JaspersMarket', 'jaspersmarket', '104729178032417', 0);
         INSERT INTO channels (id, page, name, kind, created_at) VALUES (1, 1, 'Newsletter', 'email', 0);
         INSERT INTO campaigns (id, page, name, created_at) VALUES (1, 1, 'Spring Sale', 0);
         INSERT INTO links (id, page, campaign, channel, ref, created_at) VALUES
            (1, 1, 1, 1, 'spring', 0), (2, 1, 1, 1, 'summer', 0);",
    )
    .unwrap();
    for e in events {
        conn.execute(
            "INSERT INTO referral_events (event_id, platform, page_id, sender_hash, ts_ms,
                kind, ref, source, received_at_ms)
             VALUES (?1, 'messenger', ?2, ?3, ?4, ?5, ?6, ?7, 0)",
            params![
                e.event_id,
                e.page_id,
                hash_of(&e.sender),
                e.timestamp_ms,
                e.kind.as_str(),
                e.ref_code,
                e.source
            ],
        )
        .unwrap();
    }
}

/// The figures of the same data stored by this refboard.
fn today(dir: &Path, events: &[ReferralEvent], with_alias: bool) -> Figures {
    let path = dir.join("today.db");
    drop(Store::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    insert_v1_rows(&conn, &[], |s| s.to_string());
    if with_alias {
        conn.execute(
            "INSERT INTO link_aliases (page, alias, link, created_at) VALUES (1, 'sprnig', 1, 0)",
            [],
        )
        .unwrap();
    }
    drop(conn);
    let mut store = Store::open(&path).unwrap();
    store.ingest(events, None).unwrap();
    figures(&store)
}

/// A database at `version`, built by this binary's own first migrations,
/// holding the rows that version can hold.
fn at_version(path: &Path, version: usize, events: &[ReferralEvent]) {
    let mut conn = refboard::store::open_connection(path).unwrap();
    refboard::db::migrate::<StoreError>(&mut conn, path, &migrations()[..version]).unwrap();
    // Before the store hashed senders itself (version 6 numbers people by
    // hash), the hash is whatever the sync stored: the test's sender names.
    insert_v1_rows(&conn, events, |s| format!("h-{s}"));
    if version >= 5 {
        conn.execute(
            "INSERT INTO link_aliases (page, alias, link, created_at) VALUES (1, 'sprnig', 1, 0)",
            [],
        )
        .unwrap();
    }
}

#[test]
fn every_older_version_upgrades_with_its_counts_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let events = events();
    // Versions 6 and on keep rollups and person sets written at insert, so
    // raw rows are not a faithful fixture for them: they are covered below.
    // Version 0 is a new file: every other test starts from one.
    for version in 1..6 {
        let path = dir.path().join(format!("v{version}.db"));
        at_version(&path, version, &events);
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            SCHEMA_VERSION,
            "from {version}"
        );
        let (want_events, with_alias) = match version {
            0 => (&[][..], false),
            v => (&events[..], v >= 5),
        };
        let want = today(
            &dir.path().join(format!("t{version}")).tap_mkdir(),
            want_events,
            with_alias,
        );
        assert_eq!(figures(&store), want, "upgrading from version {version}");
        drop(store);
        // A second open runs nothing and changes nothing.
        assert_eq!(
            figures(&Store::open(&path).unwrap()),
            want,
            "reopening {version}"
        );
    }
}

#[test]
fn versions_six_and_seven_upgrade_with_their_counts_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let events = events();
    let want = today(&dir.path().join("t").tap_mkdir(), &events, true);
    for version in [6_i64, 7] {
        // Today's file, taken back: version 7 only lacks the token move,
        // version 6 also the event's person column.
        let path = dir.path().join(format!("v{version}.db"));
        let copy = today(
            &dir.path().join(format!("c{version}")).tap_mkdir(),
            &events,
            true,
        );
        assert_eq!(copy, want);
        std::fs::copy(dir.path().join(format!("c{version}/today.db")), &path).unwrap();
        let conn = Connection::open(&path).unwrap();
        // Every version before 9 lacks the conversions table, before 10
        // the kept credit.
        conn.execute_batch(
            "DROP TABLE conversion_events; DROP TABLE credit_people; DROP TABLE credit_names;
             DROP TABLE credit_keys; DROP TABLE credit_days;",
        )
        .unwrap();
        if version == 6 {
            conn.execute_batch("ALTER TABLE referral_events DROP COLUMN person;")
                .unwrap();
        }
        conn.pragma_update(None, "user_version", version).unwrap();
        drop(conn);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(figures(&store), want, "upgrading from version {version}");
    }
}

/// `mkdir -p`, returning the path (fixtures live in folders of their own).
trait TapMkdir {
    fn tap_mkdir(self) -> std::path::PathBuf;
}

impl TapMkdir for std::path::PathBuf {
    fn tap_mkdir(self) -> std::path::PathBuf {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}
