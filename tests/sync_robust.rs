//! A sync that never sticks: each test runs a real loopback HTTP server
//! (axum) that misbehaves the way an independent backend did, and checks that
//! `refboard sync` ends with a clear error or skips with a count, never loops,
//! never grows without bound and never stores poison.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use refboard::store::Store;
use refboard::sync::{RetryPolicy, SyncConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::backend::{serve, sync_within};

const TOKEN: &str = "sync-robust-token";

fn event(id: &str, platform: &str, kind: &str) -> serde_json::Value {
    serde_json::json!({
        "event_id": id, "platform": platform, "page_id": "104729178032417",
        "sender": format!("s-{id}"), "timestamp_ms": 1_764_201_600_000i64, "kind": kind,
        "ref": "freeshipping", "source": "SHORTLINK", "type": "OPEN_THREAD",
        "received_at_ms": 1_764_201_600_412i64
    })
}

fn page(events: Vec<serde_json::Value>, next: &str, has_more: bool) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({"events": events, "next_cursor": next, "has_more": has_more})
            .to_string(),
    )
        .into_response()
}

fn quick(url: &str) -> SyncConfig {
    let mut c = SyncConfig::new(url, TOKEN);
    c.retry = RetryPolicy {
        max_attempts: 4,
        base_delay_ms: 10,
        max_delay_ms: 30_000,
    };
    c.timeout_secs = 5;
    c
}

fn event_count(store: &Store) -> i64 {
    store
        .connection()
        .query_row("SELECT count(*) FROM referral_events", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn unknown_platform_or_kind_is_skipped_with_a_count_and_the_cursor_moves() {
    let app = Router::new().fallback(|req: Request| async move {
        let after = req.uri().query().unwrap_or("").contains("after=c1");
        if after {
            page(vec![], "c1", false)
        } else {
            page(
                vec![
                    event("a1", "messenger", "new"),
                    event("a2", "whatsapp", "new"),
                    event("a3", "instagram", "reaction"),
                    event("a4", "instagram", "returning"),
                ],
                "c1",
                false,
            )
        }
    });
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let done = sync_within(&db, quick(&server.url), Duration::from_secs(30))
        .expect("one odd event must not fail the page");
    assert_eq!(done.events, 4);
    assert_eq!(
        done.skipped, 2,
        "whatsapp and reaction are skipped and counted"
    );
    let mut store = Store::open(&db).unwrap();
    assert_eq!(event_count(&store), 2);
    assert_eq!(
        store.sync_source(&server.url).unwrap().cursor.as_deref(),
        Some("c1"),
        "the cursor moves past the odd events"
    );
}

#[test]
fn empty_pages_with_has_more_and_the_same_cursor_back_off_and_stop() {
    let hits = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let h = hits.clone();
    let app = Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.lock().unwrap().push(Instant::now());
            page(vec![], "stuck", true)
        }
    });
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let err = sync_within(
        &dir.path().join("local.db"),
        quick(&server.url),
        Duration::from_secs(60),
    )
    .expect_err("a backend that never moves its cursor must end the sync");
    let msg = err.to_string();
    assert!(msg.contains("no progress"), "{msg}");
    let hits = hits.lock().unwrap();
    assert!(hits.len() <= 12, "bounded: {} requests", hits.len());
    // It backed off: the requests are spread out, not a tight loop.
    let spread = *hits.last().unwrap() - hits[0];
    assert!(spread >= Duration::from_millis(50), "{spread:?}");
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let hits = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let h = hits.clone();
    let app = Router::new().fallback(move || {
        let h = h.clone();
        async move {
            let n = {
                let mut v = h.lock().unwrap();
                v.push(Instant::now());
                v.len()
            };
            if n == 1 {
                let when = chrono::Utc::now() + chrono::Duration::seconds(3);
                let date = when.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, date)],
                    "slow down",
                )
                    .into_response()
            } else {
                page(vec![event("b1", "messenger", "new")], "c1", false)
            }
        }
    });
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let done = sync_within(
        &dir.path().join("local.db"),
        quick(&server.url),
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(done.new_events, 1);
    let hits = hits.lock().unwrap();
    assert_eq!(hits.len(), 2);
    let waited = hits[1] - hits[0];
    assert!(
        waited >= Duration::from_millis(1500),
        "waited only {waited:?} for a Retry-After date 3 s ahead"
    );
}

#[test]
fn a_body_without_end_is_capped_with_a_clear_error() {
    // 100 MiB, then garbage: more than the 64 MiB cap, but bounded so the
    // test itself stays small even against a client without a cap.
    let app = Router::new().fallback(|| async {
        let chunk = bytes::Bytes::from(vec![b' '; 1 << 20]);
        let stream = futures_util::stream::iter(
            (0..100).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
        );
        (
            [(header::CONTENT_TYPE, "application/json")],
            Body::from_stream(stream),
        )
            .into_response()
    });
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let err = sync_within(
        &dir.path().join("local.db"),
        quick(&server.url),
        Duration::from_secs(60),
    )
    .expect_err("an oversized page is refused");
    let msg = err.to_string();
    assert!(msg.contains("64 MiB"), "{msg}");
}

#[test]
fn an_over_long_cursor_is_refused_and_not_stored() {
    let long = Arc::new(AtomicUsize::new(1));
    let l = long.clone();
    let app = Router::new().fallback(move |req: Request| {
        let l = l.clone();
        async move {
            if req.uri().query().unwrap_or("").contains("after=") {
                return page(vec![], "c2", false);
            }
            if l.load(Ordering::SeqCst) == 1 {
                page(
                    vec![event("c1", "messenger", "new")],
                    &"x".repeat(1 << 20),
                    false,
                )
            } else {
                page(vec![event("c1", "messenger", "new")], "c2", false)
            }
        }
    });
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let err = sync_within(&db, quick(&server.url), Duration::from_secs(30))
        .expect_err("a 1 MB cursor is refused");
    let msg = err.to_string();
    assert!(msg.contains("cursor") && msg.contains("1024"), "{msg}");
    {
        let mut store = Store::open(&db).unwrap();
        assert_eq!(store.sync_source(&server.url).unwrap().cursor, None);
        assert_eq!(event_count(&store), 0, "the refused page is not committed");
    }
    // The next sync of the same URL works once the backend behaves.
    long.store(0, Ordering::SeqCst);
    let done = sync_within(&db, quick(&server.url), Duration::from_secs(30)).unwrap();
    assert_eq!(done.new_events, 1);
}

#[test]
fn a_backend_that_trickles_bytes_times_out_with_a_clear_error() {
    let app = Router::new().fallback(|| async {
        let stream = futures_util::stream::unfold(0u32, |n| async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            Some((
                Ok::<_, std::io::Error>(bytes::Bytes::from_static(b" ")),
                n + 1,
            ))
        });
        (
            [(header::CONTENT_TYPE, "application/json")],
            Body::from_stream(stream),
        )
            .into_response()
    });
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let mut config = quick(&server.url);
    config.timeout_secs = 2;
    config.retry.max_attempts = 2;
    let started = Instant::now();
    let err = sync_within(
        &dir.path().join("local.db"),
        config,
        Duration::from_secs(40),
    )
    .expect_err("a trickling backend must time out");
    let msg = err.to_string();
    assert!(msg.contains("timed out"), "{msg}");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "two attempts of at most 2 s each, plus backoff: {:?}",
        started.elapsed()
    );
}

/// Tokens the server saw, and whether the second page still fails.
type Shared = (Arc<Mutex<Vec<String>>>, Arc<AtomicUsize>);

#[test]
fn first_sync_failing_part_way_saves_the_source() {
    let seen_tokens = Arc::new(Mutex::new(Vec::<String>::new()));
    let fail_second = Arc::new(AtomicUsize::new(1));
    let state = (seen_tokens.clone(), fail_second.clone());
    let app = Router::new()
        .fallback(
            |State((tokens, fail)): State<Shared>, req: Request| async move {
                let auth = req
                    .headers()
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                tokens.lock().unwrap().push(auth);
                let q = req.uri().query().unwrap_or("").to_string();
                if !q.contains("after=") {
                    page(vec![event("d1", "messenger", "new")], "c1", true)
                } else if fail.swap(0, Ordering::SeqCst) == 1 {
                    (StatusCode::BAD_REQUEST, "{\"error\":\"try later\"}").into_response()
                } else {
                    page(vec![event("d2", "messenger", "new")], "c2", false)
                }
            },
        )
        .with_state(state);
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let first = assert_cmd::Command::cargo_bin("refboard")
        .unwrap()
        .env_remove("REFBOARD_API_TOKEN")
        .args([
            "--db",
            db.to_str().unwrap(),
            "sync",
            "--backend",
            &server.url,
        ])
        .args(["--token", TOKEN])
        .output()
        .unwrap();
    assert!(!first.status.success(), "the first sync fails part-way");
    let again = assert_cmd::Command::cargo_bin("refboard")
        .unwrap()
        .env_remove("REFBOARD_API_TOKEN")
        .args(["--db", db.to_str().unwrap(), "sync"])
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "a plain sync resumes: {}",
        String::from_utf8_lossy(&again.stderr)
    );
    let store = Store::open(&db).unwrap();
    assert_eq!(event_count(&store), 2);
    let tokens = seen_tokens.lock().unwrap();
    assert!(tokens.iter().all(|t| t == &format!("Bearer {TOKEN}")));
}

#[test]
fn sync_reset_starts_a_source_again_and_keeps_events() {
    let app = Router::new().fallback(|req: Request| async move {
        if req.uri().query().unwrap_or("").contains("after=") {
            page(vec![], "c1", false)
        } else {
            page(vec![event("e1", "messenger", "new")], "c1", false)
        }
    });
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let ok = assert_cmd::Command::cargo_bin("refboard")
        .unwrap()
        .env_remove("REFBOARD_API_TOKEN")
        .args([
            "--db",
            db.to_str().unwrap(),
            "sync",
            "--backend",
            &server.url,
        ])
        .args(["--token", TOKEN])
        .output()
        .unwrap();
    assert!(ok.status.success());
    assert_eq!(
        Store::open(&db)
            .unwrap()
            .sync_source(&server.url)
            .unwrap()
            .cursor
            .as_deref(),
        Some("c1")
    );
    let reset = assert_cmd::Command::cargo_bin("refboard")
        .unwrap()
        .env_remove("REFBOARD_API_TOKEN")
        .args(["--db", db.to_str().unwrap(), "sync", "--reset"])
        .output()
        .unwrap();
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let mut store = Store::open(&db).unwrap();
    assert_eq!(store.sync_source(&server.url).unwrap().cursor, None);
    assert_eq!(event_count(&store), 1, "--reset removes no events");
}
