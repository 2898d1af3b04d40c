//! Pipeline benchmarks, each beside a baseline measured in the same run.
//!
//! ```text
//! cargo bench --bench pipeline -- sync    # 1,000,000 events relay → store
//! cargo bench --bench pipeline -- stats   # daily series over 10,000,000 events
//! cargo bench --bench pipeline -- relay   # signed webhook requests per second
//! cargo bench --bench pipeline            # all three
//! ```
//! Sizes can be lowered for a quick look: `REFBOARD_BENCH_SCALE=0.1`.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use refboard::messenger::{SIGNATURE_HEADER, sign};
use refboard::relay::{RelayConfig, import_events, start};
use refboard::stats::{Every, GroupBy, StatsQuery, query};
use refboard::store::Store;
use refboard::sync::{SyncConfig, sync};
use rusqlite::params;
use std::path::Path;
use std::time::{Duration, Instant};

mod common;
use common::{DAY_MS, PAGE_ID, START_MS, events, scaled, year_store};

fn relay_config(data: &Path) -> RelayConfig {
    RelayConfig {
        data: data.to_path_buf(),
        app_secret: "bench-secret".into(),
        verify_token: "bench-verify".into(),
        api_token: "bench-token".into(),
        forward: None,
    }
}

fn bench_sync() {
    let n = scaled(1_000_000, 1);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("relay.db");
    // Webhooks reach the relay as they happen, so its events are in time order.
    let mut evs = events(n, 200, START_MS, START_MS + 365 * DAY_MS, 1);
    evs.sort_by_key(|e| e.timestamp_ms);
    import_events(&data, &evs, &[]).unwrap();
    let relay = start(relay_config(&data), "127.0.0.1:0".parse().unwrap()).unwrap();

    // Baseline: the same rows inserted with plain rusqlite in one transaction,
    // into the same table, without dedup bookkeeping, rollups or HTTP.
    let mut base = Store::open(&dir.path().join("baseline.db")).unwrap();
    drop(base.sync_source("baseline").unwrap());
    let conn_path = dir.path().join("baseline.db");
    drop(base);
    let mut conn = rusqlite::Connection::open(&conn_path).unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    let t = Instant::now();
    let tx = conn.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare("INSERT INTO referral_events (event_id, platform, page_id, sender_hash, ts_ms, kind, ref, source, ref_type, ad_id, ad_title, referer_uri, origin, received_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, NULL, ?13)")
            .unwrap();
        for e in &evs {
            stmt.execute(params![
                e.event_id,
                e.platform.as_str(),
                e.page_id,
                e.sender,
                e.timestamp_ms,
                e.kind.as_str(),
                e.ref_code,
                e.source,
                e.ref_type,
                e.ad_id,
                e.ad_title,
                e.referer_uri,
                e.received_at_ms
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
    let baseline = t.elapsed();

    let mut store = Store::open(&dir.path().join("local.db")).unwrap();
    let cfg = SyncConfig::new(&relay.url(), "bench-token");
    let t = Instant::now();
    let done = sync(&mut store, &cfg, &mut |_| true).unwrap();
    let took = t.elapsed();
    assert_eq!(done.new_events, n);
    assert_eq!(store.event_count().unwrap(), n as i64);
    println!(
        "sync: {n} events relay→store over loopback in {:.2} s = {:.0} events/s ({} pages); baseline plain rusqlite inserts in one transaction: {:.2} s = {:.0} rows/s",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        done.pages,
        baseline.as_secs_f64(),
        n as f64 / baseline.as_secs_f64()
    );
    relay.stop().unwrap();
    let plain = n as f64 / took.as_secs_f64();
    let mixed = sync_with_conversions(dir.path(), &evs);
    println!(
        "sync with conversions: {mixed:.0} events/s = {:.2}x sync without them in this run (goal: within 10%)",
        mixed / plain
    );
}

/// Issue 21: the same number of events, a tenth of them conversions of the
/// people referred (a goal and a value, a day or two after a referral),
/// synced into a fresh store. Returns events per second.
fn sync_with_conversions(dir: &Path, evs: &[refboard::model::ReferralEvent]) -> f64 {
    let n = evs.len();
    let mut rng = fastrand::Rng::with_seed(21);
    let conversions: Vec<refboard::model::ConversionEvent> = (0..n / 10)
        .map(|i| {
            let r = &evs[rng.usize(..n)];
            let ts = r.timestamp_ms + rng.i64(3_600_000..2 * DAY_MS);
            refboard::model::ConversionEvent {
                event_id: format!("c{ts:012x}{i:016x}"),
                platform: r.platform,
                page_id: r.page_id.clone(),
                sender: r.sender.clone(),
                timestamp_ms: ts,
                kind: refboard::model::ConversionKind::Conversion,
                goal: Some("order".into()),
                value: Some("12.50".into()),
                currency: Some("EUR".into()),
                received_at_ms: ts + 1000,
            }
        })
        .collect();
    let data = dir.join("relay-mixed.db");
    let referrals = &evs[..n - conversions.len()];
    import_events(&data, referrals, &conversions).unwrap();
    let relay = start(relay_config(&data), "127.0.0.1:0".parse().unwrap()).unwrap();
    let mut store = Store::open(&dir.join("local-mixed.db")).unwrap();
    let cfg = SyncConfig::new(&relay.url(), "bench-token");
    let t = Instant::now();
    let done = sync(&mut store, &cfg, &mut |_| true).unwrap();
    let took = t.elapsed();
    assert_eq!(store.event_count().unwrap(), referrals.len() as i64);
    assert_eq!(store.conversion_count().unwrap(), conversions.len() as i64);
    println!(
        "sync with conversions: {} referrals + {} conversions in {:.2} s ({} pages)",
        referrals.len(),
        conversions.len(),
        took.as_secs_f64(),
        done.pages
    );
    relay.stop().unwrap();
    n as f64 / took.as_secs_f64()
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn bench_stats() {
    let n = scaled(10_000_000, 1);
    let path = year_store(n);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.event_count().unwrap(), n as i64);
    let mut q = StatsQuery::new(GroupBy::Link, chrono_tz::UTC);
    q.from = Some("2025-01-01".parse().unwrap());
    q.to = Some("2025-12-31".parse().unwrap());
    q.every = Some(Every::Day);
    q.top = 200;
    q.unique_people = false;
    let mut runs = Vec::new();
    let mut report = None;
    for _ in 0..12 {
        let t = Instant::now();
        report = Some(query(&store, &q).unwrap());
        runs.push(t.elapsed());
    }
    let report = report.unwrap();
    assert_eq!(report.groups.len(), 200);
    assert_eq!(report.groups[0].series.len(), 365);
    assert_eq!(report.totals.referrals, n as u64);
    let mut berlin = q.clone();
    berlin.tz = "Europe/Berlin".parse().unwrap();
    let mut bruns = Vec::new();
    for _ in 0..6 {
        let t = Instant::now();
        query(&store, &berlin).unwrap();
        bruns.push(t.elapsed());
    }
    // Baseline: the naive GROUP BY over raw events.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut naive = Vec::new();
    for _ in 0..2 {
        let t = Instant::now();
        let mut stmt = conn
            .prepare("SELECT ref, ts_ms / 86400000 AS day, count(*) FROM referral_events WHERE ts_ms >= ?1 AND ts_ms < ?2 GROUP BY ref, day")
            .unwrap();
        let rows: usize = stmt
            .query_map(params![START_MS, START_MS + 365 * DAY_MS], |_| Ok(()))
            .unwrap()
            .count();
        assert!(rows > 0);
        naive.push(t.elapsed());
    }
    println!(
        "stats: daily series, 200 links × 365 days over {n} events: median {:.1} ms, max {:.1} ms (UTC); {:.1} ms median in Europe/Berlin; baseline naive GROUP BY over raw events: median {:.0} ms",
        percentile(runs.clone(), 0.5).as_secs_f64() * 1e3,
        percentile(runs, 1.0).as_secs_f64() * 1e3,
        percentile(bruns, 0.5).as_secs_f64() * 1e3,
        percentile(naive, 0.5).as_secs_f64() * 1e3
    );
}

/// Posts `bodies` with `concurrency` async clients; returns the elapsed time.
fn post_all(url: &str, bodies: &[(Vec<u8>, String)], concurrency: usize) -> Duration {
    post_round_robin(&[url.to_string()], bodies, concurrency)
}

/// Posts `bodies` spread round-robin over `urls` (a load balancer's job).
fn post_round_robin(urls: &[String], bodies: &[(Vec<u8>, String)], concurrency: usize) -> Duration {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let bodies = std::sync::Arc::new(bodies.to_vec());
        let t = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (client, next, bodies, urls) =
                (client.clone(), next.clone(), bodies.clone(), urls.to_vec());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((body, sig)) = bodies.get(i) else {
                        break;
                    };
                    let r = client
                        .post(&urls[i % urls.len()])
                        .header(SIGNATURE_HEADER, sig)
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 200);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        t.elapsed()
    })
}

/// `n` distinct signed webhook bodies.
fn signed_bodies(n: usize) -> Vec<(Vec<u8>, String)> {
    (0..n)
        .map(|i| {
            let body = serde_json::to_vec(&serde_json::json!({"object": "page", "entry": [{"id": PAGE_ID, "time": START_MS + i as i64, "messaging": [
                {"sender": {"id": format!("{}", 6_000_000_000_000_000u64 + i as u64)}, "recipient": {"id": PAGE_ID}, "timestamp": START_MS + i as i64,
                 "referral": {"ref": format!("ref{:03}", i % 200), "source": "SHORTLINK", "type": "OPEN_THREAD"}}]}]}))
            .unwrap();
            let sig = sign(b"bench-secret", &body);
            (body, sig)
        })
        .collect()
}

fn bench_relay() {
    let n = scaled(50_000, 1);
    let dir = tempfile::tempdir().unwrap();
    // The relay as shipped: SQLite with synchronous=FULL and group commit.
    let relay = start(
        relay_config(&dir.path().join("relay.db")),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let bodies = signed_bodies(n);
    let took = post_all(&format!("{}/webhook", relay.url()), &bodies, 32);
    let health: serde_json::Value = reqwest::blocking::get(format!("{}/healthz", relay.url()))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        health["events"].as_u64(),
        Some(n as u64),
        "every acknowledged event stored"
    );
    relay.stop().unwrap();

    // Baseline: the same requests to an axum handler that only answers 200.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/webhook",
                axum::routing::post(|_b: axum::body::Bytes| async { "EVENT_RECEIVED" }),
            );
            axum::serve(tokio::net::TcpListener::from_std(listener).unwrap(), app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
        });
    });
    let base = post_all(&format!("http://{addr}/webhook"), &bodies, 32);
    let _ = stop_tx.send(());
    server.join().unwrap();
    println!(
        "relay (synchronous=FULL, group commit): {n} signed webhook requests in {:.2} s = {:.0} requests/s, stored {n} of {n}; baseline axum handler that only answers 200: {:.0} requests/s; ratio {:.2}",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        n as f64 / base.as_secs_f64(),
        base.as_secs_f64() / took.as_secs_f64()
    );
}

/// A fresh database on the server at `admin` (a superuser URL).
fn fresh_pg_db(admin: &str) -> String {
    let name = format!("rbbench_{}", fastrand::u64(..));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
    });
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

/// Signed requests per second with 1, 2 and 3 relays on one PostgreSQL.
fn bench_relay_pg() {
    let Ok(admin) = std::env::var("REFBOARD_TEST_PG_URL") else {
        println!("relay_pg: skipped; run it through scripts/pg-test.sh (REFBOARD_TEST_PG_URL)");
        return;
    };
    let n = scaled(20_000, 1);
    let bodies = signed_bodies(n);
    let mut figures = Vec::new();
    for relays in 1..=3 {
        let db = fresh_pg_db(&admin);
        let options = refboard::relay::RelayOptions {
            database: Some(db),
            ..Default::default()
        };
        let handles: Vec<_> = (0..relays)
            .map(|_| {
                refboard::relay::start_with(
                    relay_config(Path::new("unused.db")),
                    options.clone(),
                    "127.0.0.1:0".parse().unwrap(),
                )
                .unwrap()
            })
            .collect();
        let urls: Vec<String> = handles
            .iter()
            .map(|h| format!("{}/webhook", h.url()))
            .collect();
        let took = post_round_robin(&urls, &bodies, 32);
        let health: serde_json::Value =
            reqwest::blocking::get(format!("{}/healthz", handles[0].url()))
                .unwrap()
                .json()
                .unwrap();
        assert_eq!(
            health["events"].as_u64(),
            Some(n as u64),
            "every 200 stored"
        );
        figures.push(n as f64 / took.as_secs_f64());
        for h in handles {
            h.stop().unwrap();
        }
    }
    println!(
        "relay_pg: {n} signed webhook requests, 32 clients, round robin; 1 relay {:.0} requests/s, 2 relays {:.0} requests/s, 3 relays {:.0} requests/s (all on one 2-core machine with PostgreSQL)",
        figures[0], figures[1], figures[2]
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    if want("sync") {
        bench_sync();
    }
    if want("stats") {
        bench_stats();
    }
    if want("relay") {
        bench_relay();
    }
    if want("relay_pg") {
        bench_relay_pg();
    }
}
