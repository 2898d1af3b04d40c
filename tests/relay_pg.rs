//! Relays on a real PostgreSQL: three relay processes behind no balancer but
//! the test's own round robin, eight posters with redeliveries to another
//! relay, a sync running the whole time, exact counts; a late commit never
//! skipped by a cursor; transaction ids crossing a power of ten (every row
//! served once at any page size, every statement sorted by the `xid8` column,
//! an old-format cursor reset and recovered by the real `refboard sync`); bad
//! database input.
//!
//! The server comes from `REFBOARD_TEST_PG_URL` (a superuser URL; each test
//! makes its own database). `.ci/run` and `scripts/pg-test.sh` start a
//! throwaway cluster and export it. Without it the tests fail under CI
//! (`CI` set) and are skipped with a message locally.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::relay::{RelayProcess, Storage, post_signed as post, referral_body as body};

use refboard::store::Store;
use refboard::sync::{RetryPolicy, SyncConfig, sync};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const API_TOKEN: &str = "pg-test-api-token";

/// The admin URL, or `None` (skip) when not under CI.
fn admin_url() -> Option<String> {
    match std::env::var("REFBOARD_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var_os("CI").is_some() => {
            panic!("REFBOARD_TEST_PG_URL is not set under CI: .ci/run must start PostgreSQL")
        }
        _ => {
            eprintln!(
                "SKIPPED: REFBOARD_TEST_PG_URL is not set; run scripts/pg-test.sh to run the PostgreSQL tests"
            );
            None
        }
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// A fresh database on the test server; returns its URL.
fn fresh_db(admin: &str) -> String {
    let name = format!("rbtest_{}", fastrand::u64(..));
    block_on(async {
        let c = connect(admin).await;
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
    });
    let base = admin.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

fn relay(database: &str) -> RelayProcess {
    RelayProcess::start(Storage::Database(database), "v", API_TOKEN)
}

fn sync_config(url: &str) -> SyncConfig {
    let mut c = SyncConfig::new(url, API_TOKEN);
    c.page_size = 97; // many pages, so cursors are exercised often
    c.retry = RetryPolicy {
        max_attempts: 10,
        base_delay_ms: 20,
        max_delay_ms: 500,
    };
    c
}

fn counts_by_ref(store: &Store) -> BTreeMap<String, i64> {
    let mut stmt = store
        .connection()
        .prepare("SELECT ref, count(*) FROM referral_events GROUP BY ref")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn three_relays_eight_posters_redeliveries_and_a_running_sync_are_exact() {
    let Some(admin) = admin_url() else { return };
    let db = fresh_db(&admin);
    let relays: Vec<RelayProcess> = (0..3).map(|_| relay(&db)).collect();
    let urls: Vec<String> = relays.iter().map(|r| r.url.clone()).collect();
    const PER_POSTER: i64 = 150;
    const REFS: [&str; 5] = ["alpha", "bravo", "charlie", "delta", "echo"];
    let posting = Arc::new(AtomicBool::new(true));
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("local.db");
    // The sync runs the whole time, against the first relay.
    let syncer = {
        let (posting, url, path) = (posting.clone(), urls[0].clone(), store_path.clone());
        std::thread::spawn(move || {
            let mut store = Store::open(&path).unwrap();
            let cfg = sync_config(&url);
            let mut rounds = 0;
            while posting.load(Ordering::SeqCst) {
                sync(&mut store, &cfg, &mut |_| true).unwrap();
                rounds += 1;
            }
            // Rows become visible once every older transaction on the
            // cluster has ended (other tests share it): poll until all are
            // in, with a deadline.
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                sync(&mut store, &cfg, &mut |_| true).unwrap();
                rounds += 1;
                let n: i64 = store
                    .connection()
                    .query_row("SELECT count(*) FROM referral_events", [], |r| r.get(0))
                    .unwrap();
                if n >= 8 * PER_POSTER || Instant::now() > deadline {
                    return rounds;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let posters: Vec<_> = (0..8i64)
        .map(|c| {
            let urls = urls.clone();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                for i in 0..PER_POSTER {
                    let r = REFS[((c * PER_POSTER + i) % 5) as usize];
                    let b = body(r, &format!("psid-{c}-{i}"), 1_764_201_600_000 + i);
                    let first = ((c + i) % 3) as usize;
                    assert_eq!(post(&client, &urls[first], &b), 200);
                    // Meta redelivers; the load balancer sends it elsewhere.
                    if i % 3 == 0 {
                        assert_eq!(post(&client, &urls[(first + 1) % 3], &b), 200);
                    }
                }
            })
        })
        .collect();
    for p in posters {
        p.join().unwrap();
    }
    posting.store(false, Ordering::SeqCst);
    let rounds = syncer.join().unwrap();
    assert!(rounds >= 2, "the sync ran while posting ({rounds} rounds)");
    let store = Store::open(&store_path).unwrap();
    let mut expected = BTreeMap::new();
    for c in 0..8i64 {
        for i in 0..PER_POSTER {
            *expected
                .entry(REFS[((c * PER_POSTER + i) % 5) as usize].to_string())
                .or_insert(0i64) += 1;
        }
    }
    assert_eq!(counts_by_ref(&store), expected, "exact per-ref counts");
    for url in &urls {
        let health: serde_json::Value = reqwest::blocking::get(format!("{url}/healthz"))
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(health["events"], 8 * PER_POSTER, "stored once: {health}");
    }
}

/// Pulls every page from `after`; returns the event ids and the last cursor.
fn pull_all(url: &str, cursor: String) -> (Vec<String>, String) {
    pull_all_paged(&[url], cursor, 2)
}

/// Pulls every page from `after`, `limit` events a page, asking the relays
/// in turn (a cursor from one relay is valid at the others); returns the
/// event ids and the last cursor.
fn pull_all_paged(urls: &[&str], mut cursor: String, limit: usize) -> (Vec<String>, String) {
    let client = reqwest::blocking::Client::new();
    let mut ids = Vec::new();
    for url in urls.iter().cycle() {
        let page: serde_json::Value = client
            .get(format!(
                "{url}/v1/referrals?limit={limit}&after={}",
                percent_encoding::utf8_percent_encode(&cursor, percent_encoding::NON_ALPHANUMERIC)
            ))
            .bearer_auth(API_TOKEN)
            .send()
            .unwrap()
            .json()
            .unwrap();
        for e in page["events"].as_array().unwrap() {
            ids.push(e["event_id"].as_str().unwrap().to_string());
        }
        cursor = page["next_cursor"].as_str().unwrap().to_string();
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
    }
    (ids, cursor)
}

/// Pulls from `cursor` until `seen` holds `want` ids or 30 s pass; returns
/// the last cursor. Other tests share the cluster, and their open
/// transactions delay (never skip) what a page may serve.
fn pull_until(url: &str, mut cursor: String, seen: &mut Vec<String>, want: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (ids, next) = pull_all(url, cursor);
        seen.extend(ids);
        cursor = next;
        if seen.len() >= want || Instant::now() > deadline {
            return cursor;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_late_commit_is_never_skipped_by_a_cursor() {
    let Some(admin) = admin_url() else { return };
    let db = fresh_db(&admin);
    let r = relay(&db);
    let client = reqwest::blocking::Client::new();
    assert_eq!(
        post(&client, &r.url, &body("before", "p0", 1_764_201_600_000)),
        200
    );
    let mut seen = Vec::new();
    let cursor = pull_until(&r.url, String::new(), &mut seen, 1);
    assert_eq!(seen.len(), 1);
    // A writer takes its sequence value now and commits only later, the way
    // a slow relay does.
    let late = serde_json::json!({"event_id":"late-writer","platform":"messenger",
        "page_id":"104729178032417","sender":"s","timestamp_ms":1_764_201_600_001i64,
        "kind":"new","ref":"late","received_at_ms":1_764_201_600_001i64})
    .to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let slow = rt.block_on(connect(&db));
    rt.block_on(slow.batch_execute("BEGIN")).unwrap();
    rt.block_on(slow.execute(
        "INSERT INTO refboard_events (event_id, received_at_ms, json) VALUES ('late-writer', 1, $1)",
        &[&late],
    ))
    .unwrap();
    // Others commit after it took its place.
    for i in 0..5 {
        let b = body(&format!("after{i}"), "p1", 1_764_201_600_100 + i);
        assert_eq!(post(&client, &r.url, &b), 200);
    }
    let (during, cursor) = pull_all(&r.url, cursor);
    seen.extend(during);
    assert!(
        !seen.iter().any(|id| id == "late-writer"),
        "served before its commit"
    );
    rt.block_on(slow.batch_execute("COMMIT")).unwrap();
    pull_until(&r.url, cursor, &mut seen, 7);
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no event served twice");
    assert!(
        unique.contains("late-writer"),
        "the late commit was skipped"
    );
    assert_eq!(unique.len(), 7);
}

#[test]
fn wrong_password_is_one_line_exit_1_and_never_printed() {
    let Some(admin) = admin_url() else { return };
    let (head, tail) = admin.split_once('@').unwrap();
    let user = head.rsplit_once(':').map(|(u, _)| u).unwrap_or(head);
    let wrong = format!("{user}:hunter2wrongpw@{tail}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_refboard"))
        .args(["relay", "--listen", "127.0.0.1:0", "--database", &wrong])
        .env("REFBOARD_APP_SECRET", "a")
        .env("REFBOARD_VERIFY_TOKEN", "b")
        .env("REFBOARD_API_TOKEN", "c")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!err.contains("hunter2wrongpw"), "{err}");
    assert!(err.contains("password"), "{err}");
}

#[test]
fn a_database_from_a_newer_refboard_is_refused() {
    let Some(admin) = admin_url() else { return };
    let db = fresh_db(&admin);
    drop(relay(&db)); // migrates
    block_on(async {
        connect(&db)
            .await
            .batch_execute("UPDATE refboard_schema SET version = 99")
            .await
            .unwrap();
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_refboard"))
        .args(["relay", "--listen", "127.0.0.1:0", "--database", &db])
        .env("REFBOARD_APP_SECRET", "a")
        .env("REFBOARD_VERIFY_TOKEN", "b")
        .env("REFBOARD_API_TOKEN", "c")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("99") && err.contains("newer"), "{err}");
}

/// The id of a transaction of its own (so the cluster's next one is larger).
async fn current_xid(c: &tokio_postgres::Client) -> u64 {
    let xid: String = c
        .query_one("SELECT pg_current_xact_id()::text", &[])
        .await
        .unwrap()
        .get(0);
    xid.parse().unwrap()
}

/// Uses up transaction ids, one committed transaction each, until the
/// cluster's next one is `next` (a little past it when other tests write too).
fn burn_xids_until(db: &str, next: u64) {
    block_on(async {
        let c = connect(db).await;
        c.batch_execute(
            "CREATE OR REPLACE PROCEDURE refboard_test_burn(n bigint) LANGUAGE plpgsql AS $$
             BEGIN
                 FOR i IN 1..n LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP;
             END $$",
        )
        .await
        .unwrap();
        // No flush per empty commit: thousands of ids take well under a second.
        c.batch_execute("SET synchronous_commit = off")
            .await
            .unwrap();
        let now = current_xid(&c).await;
        if let Some(n) = next.checked_sub(now + 1).filter(|n| *n > 0) {
            c.batch_execute(&format!("CALL refboard_test_burn({n})"))
                .await
                .unwrap();
        }
    });
}

/// The smallest power of ten above `n`.
fn power_of_ten_above(n: u64) -> u64 {
    let mut p = 10;
    while p <= n {
        p *= 10;
    }
    p
}

/// Posts `per_relay` events to every relay at once, one thread a relay.
fn post_to_all_at_once(urls: &[String], tag: &str, per_relay: i64) {
    std::thread::scope(|s| {
        for (r, url) in urls.iter().enumerate() {
            s.spawn(move || {
                let client = reqwest::blocking::Client::new();
                for i in 0..per_relay {
                    let b = body(
                        &format!("{tag}{}", i % 4),
                        &format!("psid-{tag}-{r}-{i}"),
                        1_764_201_600_000 + i,
                    );
                    assert_eq!(post(&client, url, &b), 200);
                }
            });
        }
    });
}

/// Stored rows with a transaction id below `power`, and from it on.
fn rows_around(db: &str, power: u64) -> (i64, i64) {
    block_on(async {
        let row = connect(db)
            .await
            .query_one(
                "SELECT count(*) FILTER (WHERE xid < $1::text::xid8),
                        count(*) FILTER (WHERE xid >= $1::text::xid8)
                 FROM refboard_events",
                &[&power.to_string()],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    })
}

/// Writes events through every relay while the cluster's transaction ids
/// cross a power of ten (at least 1,000); returns that power. Another test
/// writing at the same time can carry the ids past it before any of these
/// land below: then it tries again at the next power.
fn write_across_a_power_of_ten(db: &str, urls: &[String]) -> u64 {
    for attempt in 0..3 {
        let now = block_on(async { current_xid(&connect(db).await).await });
        let power = power_of_ten_above(now + 150).max(1000);
        burn_xids_until(db, power - 100);
        // 70 a relay: 210 transactions, so they end well past the power.
        post_to_all_at_once(urls, &format!("cross{attempt}x"), 70);
        let (below, from) = rows_around(db, power);
        if below > 0 && from > 0 {
            return power;
        }
    }
    panic!("other writers kept carrying the transaction ids past each power of ten");
}

/// Waits (deadline 60 s) until every stored row is below the snapshot
/// horizon, so a page may serve it; returns every stored event id.
fn every_row_once_visible(db: &str) -> BTreeSet<String> {
    block_on(async {
        let c = connect(db).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let waiting: i64 = c
                .query_one(
                    "SELECT count(*) FROM refboard_events
                     WHERE xid >= pg_snapshot_xmin(pg_current_snapshot())",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if waiting == 0 {
                break;
            }
            assert!(Instant::now() < deadline, "{waiting} rows never visible");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        c.query("SELECT event_id FROM refboard_events", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    })
}

#[test]
fn a_full_pull_serves_every_row_once_across_a_power_of_ten_in_transaction_ids() {
    let Some(admin) = admin_url() else { return };
    let db = fresh_db(&admin);
    let relays: Vec<RelayProcess> = (0..3).map(|_| relay(&db)).collect();
    let urls: Vec<String> = relays.iter().map(|r| r.url.clone()).collect();
    let power = write_across_a_power_of_ten(&db, &urls);
    let (below, from) = rows_around(&db, power);
    let stored = every_row_once_visible(&db);
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let mut failures = Vec::new();
    for limit in [1, 7, 5000] {
        let (ids, _) = pull_all_paged(&urls, String::new(), limit);
        let served: BTreeSet<String> = ids.iter().cloned().collect();
        let missing = stored.difference(&served).count();
        let unknown = served.difference(&stored).count();
        let twice = ids.len() - served.len();
        if missing + unknown + twice > 0 {
            failures.push(format!(
                "limit {limit}: {} served of {} stored: {missing} missing, {twice} twice, {unknown} unknown",
                ids.len(),
                stored.len()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{below} rows below transaction id {power}, {from} from it: {}",
        failures.join("; ")
    );
}

/// A stored row: transaction id, sequence number, event.
struct Row {
    xid: u64,
    seq: i64,
    event: refboard::model::ReferralEvent,
}

/// Every stored row in the order a page serves them: by transaction id as a
/// number, then sequence number.
fn rows_in_order(db: &str) -> Vec<Row> {
    block_on(async {
        connect(db)
            .await
            .query(
                "SELECT e.xid::text, e.seq, e.json FROM refboard_events e ORDER BY e.xid, e.seq",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| Row {
                xid: r.get::<_, String>(0).parse().unwrap(),
                seq: r.get(1),
                event: serde_json::from_str(r.get(2)).unwrap(),
            })
            .collect()
    })
}

#[test]
fn a_store_that_synced_from_an_old_format_cursor_gets_the_missed_events_once() {
    let Some(admin) = admin_url() else { return };
    let db = fresh_db(&admin);
    let relays: Vec<RelayProcess> = (0..3).map(|_| relay(&db)).collect();
    let urls: Vec<String> = relays.iter().map(|r| r.url.clone()).collect();
    let power = write_across_a_power_of_ten(&db, &urls);
    every_row_once_visible(&db);
    let rows = rows_in_order(&db);
    // What a client of the text-ordering relay holds: it had pulled up to a
    // row below the power, then a page led with the longer ids and its
    // cursor jumped to the newest row; the rows between were never served.
    let below = rows.iter().filter(|r| r.xid < power).count();
    let held_below = below / 2;
    let (mut held, mut missed) = (Vec::new(), Vec::new());
    for (i, r) in rows.iter().enumerate() {
        if i < held_below || r.xid >= power {
            held.push(r);
        } else {
            missed.push(r);
        }
    }
    assert!(!missed.is_empty());
    let newest = rows.last().unwrap();
    let old_cursor = format!("x{}.{}", newest.xid, newest.seq);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("refboard.db");
    {
        let mut store = Store::open(&path).unwrap();
        let source = store.sync_source(&urls[1]).unwrap().id;
        let events: Vec<_> = held.iter().map(|r| r.event.clone()).collect();
        let step = refboard::store::SyncStep {
            source,
            after: None,
            next: &old_cursor,
        };
        store.ingest(&events, Some(step)).unwrap();
    }
    // The relay's answer to that cursor: the first page from the beginning,
    // marked, with a cursor of the current format; never to a current one.
    let get = |after: &str| -> serde_json::Value {
        reqwest::blocking::Client::new()
            .get(format!(
                "{}/v1/referrals?limit=1&after={}",
                urls[0],
                percent_encoding::utf8_percent_encode(after, percent_encoding::NON_ALPHANUMERIC)
            ))
            .bearer_auth(API_TOKEN)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let reset = get(&old_cursor);
    assert_eq!(reset["reset"], true, "{reset}");
    assert_eq!(reset["events"][0]["event_id"], *rows[0].event.event_id);
    let next = reset["next_cursor"].as_str().unwrap();
    assert_eq!(next, format!("v2.x{}.{}", rows[0].xid, rows[0].seq));
    let after_it = get(next);
    assert_eq!(after_it["events"][0]["event_id"], *rows[1].event.event_id);
    assert!(after_it.get("reset").is_none(), "{after_it}");
    // Still a 400: not a cursor of either format.
    let status = reqwest::blocking::Client::new()
        .get(format!("{}/v1/referrals?after=x1.2.3", urls[0]))
        .bearer_auth(API_TOKEN)
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 400);
    // The real client, as a user runs it, against the fixed relay.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_refboard"))
        .env_remove("REFBOARD_DB")
        .arg("--db")
        .arg(&path)
        .args(["sync", "--backend", &urls[1]])
        .env("REFBOARD_API_TOKEN", API_TOKEN)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let mut store = Store::open(&path).unwrap();
    let ids: BTreeSet<String> = {
        let mut stmt = store
            .connection()
            .prepare("SELECT event_id FROM referral_events")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let all: BTreeSet<String> = rows.iter().map(|r| r.event.event_id.clone()).collect();
    assert_eq!(
        all.difference(&ids).count(),
        0,
        "{} missed events (of {} stored, {below} below transaction id {power}) never arrived: {stdout}{stderr}",
        missed.len(),
        rows.len()
    );
    let mut expected = BTreeMap::new();
    for r in &rows {
        let key = r.event.ref_code.clone().unwrap_or_default();
        *expected.entry(key).or_insert(0i64) += 1;
    }
    assert_eq!(counts_by_ref(&store), expected, "each event counted once");
    assert!(
        stdout.contains(&format!("{} new", missed.len())),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning:") && stderr.contains("from the beginning"),
        "the user is told: {stderr}"
    );
    let cursor = store.sync_source(&urls[1]).unwrap().cursor.unwrap();
    assert_ne!(cursor, old_cursor);
    // The new cursor is one the relay keeps: nothing more, and no reset.
    let again = sync(&mut store, &sync_config(&urls[1]), &mut |_| true).unwrap();
    assert_eq!((again.events, again.cursor_resets), (0, 0), "{again:?}");
}

/// Every `Sort Key:` of the generic plan of `sql` (EXPLAIN VERBOSE).
async fn sort_keys(c: &tokio_postgres::Client, name: &str, sql: &str) -> Vec<String> {
    let params = c.prepare(sql).await.unwrap().params().len();
    c.batch_execute(&format!("DEALLOCATE ALL; PREPARE rb_{name} AS {sql}"))
        .await
        .unwrap();
    let nulls = vec!["NULL"; params].join(", ");
    let args = if params == 0 {
        String::new()
    } else {
        format!("({nulls})")
    };
    let plan = c
        .query(&format!("EXPLAIN (VERBOSE) EXECUTE rb_{name}{args}"), &[])
        .await
        .unwrap();
    plan.iter()
        .map(|r| r.get::<_, String>(0))
        .filter_map(|line| Some(line.split_once("Sort Key: ")?.1.to_string()))
        .collect()
}

#[test]
fn every_relay_query_sorts_by_the_xid8_column_itself() {
    let Some(admin) = admin_url() else { return };
    let db = fresh_db(&admin);
    drop(relay(&db)); // migrates
    block_on(async {
        let c = connect(&db).await;
        // Generic plans, so no parameter is folded away; without index
        // scans, every ordering is a Sort node that names its key.
        c.batch_execute(
            "SET plan_cache_mode = force_generic_plan; SET enable_indexscan = off;
             SET enable_indexonlyscan = off; SET enable_bitmapscan = off",
        )
        .await
        .unwrap();
        let mut ordered = Vec::new();
        for (name, sql) in refboard::relay::PG_QUERIES {
            let keys = sort_keys(&c, name, sql).await;
            for key in &keys {
                assert!(!key.contains("::"), "{name} sorts by a cast: {key}");
            }
            if sql.contains("ORDER BY") {
                assert_eq!(keys.len(), 1, "{name}: {keys:?}");
                let first = keys[0].split(", ").next().unwrap_or("");
                assert!(
                    ["refboard_events.xid", "refboard_events.xid DESC"].contains(&first),
                    "{name} sorts by {}, not the xid8 column",
                    keys[0]
                );
                ordered.push(*name);
            }
        }
        assert_eq!(ordered, ["page", "last_received_ms"]);
    });
}

#[test]
fn conversions_and_goals_go_through_postgres_and_sync_joined_to_referrals() {
    let Some(admin) = admin_url() else { return };
    let db = fresh_db(&admin);
    let events = [("REFBOARD_EVENTS_TOKEN", "pg-events")];
    let goal = ["--goal", "order=ORDER_*"];
    // Two relays on one database: the page one learns is the other's too.
    let a = RelayProcess::start_with_env(Storage::Database(&db), "v", API_TOKEN, &goal, &events);
    let b = RelayProcess::start_with_env(Storage::Database(&db), "v", API_TOKEN, &goal, &events);
    let client = reqwest::blocking::Client::new();
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        post(&client, &a.url, &body("flyer", "5001", now - 60_000)),
        200
    );
    let postback =
        serde_json::json!({"object":"page","entry":[{"id":common::relay::PAGE_ID,"messaging":[
        {"sender":{"id":"5001"},"recipient":{"id":common::relay::PAGE_ID},"timestamp":now - 30_000,
         "postback":{"payload":"ORDER_42"}}]}]})
        .to_string();
    assert_eq!(post(&client, &a.url, postback.as_bytes()), 200);
    assert_eq!(
        post(&client, &b.url, postback.as_bytes()),
        200,
        "a redelivery to the other relay"
    );
    let conversions =
        serde_json::json!({"data":[{"event_name":"Purchase","event_time":now / 1000 - 10,
        "event_id":"pg-1","action_source":"business_messaging","messaging_channel":"messenger",
        "user_data":{"page_id":common::relay::PAGE_ID,"page_scoped_user_id":"5001"},
        "custom_data":{"value":"49.90","currency":"EUR"}}]})
        .to_string();
    for url in [&b.url, &a.url] {
        let status = client
            .post(format!("{url}/v1/conversions"))
            .bearer_auth("pg-events")
            .body(conversions.clone())
            .send()
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let done = sync(&mut store, &sync_config(&a.url), &mut |_| true).unwrap();
    assert_eq!((done.events, done.conversions, done.skipped), (3, 2, 0));
    let referral: String = store
        .connection()
        .query_row("SELECT sender_hash FROM referral_events", [], |r| r.get(0))
        .unwrap();
    let mut rows: Vec<(String, Option<i64>, String)> = store
        .connection()
        .prepare("SELECT goal, value_micros, sender_hash FROM conversion_events ORDER BY goal")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("Purchase".to_string(), Some(49_900_000), referral.clone()),
            ("order".to_string(), None, referral),
        ]
    );
}

#[test]
fn a_version_1_database_learns_pages_and_latest_referrals_and_records_conversations() {
    let Some(admin) = admin_url() else { return };
    let db = fresh_db(&admin);
    let events = [("REFBOARD_EVENTS_TOKEN", "pg-events")];
    let flags = ["--conversations"];
    let client = reqwest::blocking::Client::new();
    let now = chrono::Utc::now().timestamp_millis();
    {
        let old = relay(&db);
        assert_eq!(
            post(&client, &old.url, &body("flyer", "5101", now - 60_000)),
            200
        );
    }
    // Back to version 1, as a relay before conversions left it.
    block_on(async {
        connect(&db)
            .await
            .batch_execute(
                "DROP TABLE refboard_pages, refboard_last_referrals;
                 UPDATE refboard_schema SET version = 1",
            )
            .await
            .unwrap();
    });
    let r = RelayProcess::start_with_env(Storage::Database(&db), "v", API_TOKEN, &flags, &events);
    let message =
        serde_json::json!({"object":"page","entry":[{"id":common::relay::PAGE_ID,"messaging":[
        {"sender":{"id":"5101"},"recipient":{"id":common::relay::PAGE_ID},"timestamp":now - 30_000,
         "message":{"mid":"m","text":"hello"}}]}]})
        .to_string();
    assert_eq!(post(&client, &r.url, message.as_bytes()), 200);
    // The page is known from the stored referral: the bot's event is accepted.
    let conversion = serde_json::json!({"data":[{"event_name":"Purchase","event_time":now / 1000,
        "action_source":"business_messaging","messaging_channel":"messenger",
        "user_data":{"page_id":common::relay::PAGE_ID,"page_scoped_user_id":"5101"}}]})
    .to_string();
    let status = client
        .post(format!("{}/v1/conversions", r.url))
        .bearer_auth("pg-events")
        .body(conversion)
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let done = sync(&mut store, &sync_config(&r.url), &mut |_| true).unwrap();
    assert_eq!(done.conversions, 2);
    let kinds: Vec<(String, i64)> = store
        .connection()
        .prepare("SELECT kind, ts_ms FROM conversion_events ORDER BY kind")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kinds[0], ("conversation".to_string(), now - 30_000));
    assert_eq!(kinds[1].0, "conversion");
}

#[test]
fn meta_s_verification_and_a_wrong_verify_token_survive_a_restart_on_postgres() {
    let Some(admin) = admin_url() else { return };
    let db = fresh_db(&admin);
    let get = |url: &str, path: &str| reqwest::blocking::get(format!("{url}{path}")).unwrap();
    let health = |url: &str| -> serde_json::Value { get(url, "/healthz").json().unwrap() };
    let before = chrono::Utc::now().timestamp_millis();
    let first = relay(&db);
    let challenge = "/webhook?hub.mode=subscribe&hub.challenge=7&hub.verify_token=";
    assert_eq!(get(&first.url, &format!("{challenge}wrong")).status(), 403);
    assert_eq!(get(&first.url, &format!("{challenge}v")).status(), 200);
    let seen = health(&first.url);
    let verified = seen["meta_verified_at_ms"].as_i64().unwrap();
    let bad = seen["bad_verify_token_at_ms"].as_i64().unwrap();
    assert!(verified >= before && bad >= before, "{seen}");
    assert_eq!(seen["bad_verify_tokens_last_hour"], 1, "{seen}");
    drop(first);
    // Another relay on the same database, started after the first is gone.
    let second = relay(&db);
    let again = health(&second.url);
    assert_eq!(again["meta_verified_at_ms"], verified, "{again}");
    assert_eq!(again["bad_verify_token_at_ms"], bad, "{again}");
}
