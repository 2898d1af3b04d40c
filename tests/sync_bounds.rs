//! Sync that cannot end, or cannot move (issue #17, section 3): hostile
//! stand-in backends on 127.0.0.1, and the real relay with oversized refs.
//! Each test counts at the server what the client asked for, and bounds the
//! sync in time, so a sync that loops fails the test instead of hanging it.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::FIXTURE_APP_SECRET as SECRET;
use common::backend::{event, page, page_body, query_value, serve, sync_within};
use common::relay::{post_signed, referral_body};
use refboard::relay::{RelayConfig, start};
use refboard::store::Store;
use refboard::sync::{MAX_EMPTY_PAGES, MAX_REDIRECTS, RetryPolicy, SyncConfig, SyncError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "sync-bounds-token";
const BASE_DELAY_MS: u64 = 10;

/// Small backoff so the bounded tests stay quick.
fn quick(url: &str) -> SyncConfig {
    let mut c = SyncConfig::new(url, TOKEN);
    c.retry = RetryPolicy {
        max_attempts: 3,
        base_delay_ms: BASE_DELAY_MS,
        max_delay_ms: 2_000,
    };
    c.timeout_secs = 10;
    c
}

fn stored_refs(db: &std::path::Path) -> Vec<String> {
    let store = Store::open(db).unwrap();
    let mut stmt = store
        .connection()
        .prepare("SELECT coalesce(ref, '') FROM referral_events ORDER BY event_id")
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn stored_cursor(db: &std::path::Path, url: &str) -> Option<String> {
    Store::open(db).unwrap().sync_source(url).unwrap().cursor
}

#[test]
fn empty_pages_with_a_new_cursor_each_time_end_the_sync_after_a_bound() {
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
            page(&[], &format!("e{n}"), true)
        }
    });
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let err = sync_within(&db, quick(&server.url), Duration::from_secs(20))
        .expect_err("a backend that only sends empty pages must end the sync");
    let msg = err.to_string();
    assert!(
        msg.contains("no progress")
            && msg.contains(&format!("{} pages in a row", MAX_EMPTY_PAGES + 1)),
        "{msg}"
    );
    let hits = hits.lock().unwrap().clone();
    assert_eq!(
        hits.len(),
        MAX_EMPTY_PAGES as usize + 1,
        "the bound, then the page that ends it"
    );
    // It backed off between them: each gap is at least half the policy's
    // delay for that many empty pages in a row (the jitter is in [0.5, 1)).
    for (i, pair) in hits.windows(2).enumerate() {
        let least = Duration::from_millis(BASE_DELAY_MS * (1 << i) / 2);
        assert!(
            pair[1] - pair[0] >= least,
            "gap {i}: {:?}",
            pair[1] - pair[0]
        );
    }
    assert_eq!(
        stored_cursor(&db, &server.url).as_deref(),
        Some(format!("e{MAX_EMPTY_PAGES}").as_str()),
        "the cursors of the tolerated empty pages are kept"
    );
}

#[test]
fn pages_with_events_that_never_move_the_cursor_end_the_sync_after_a_bound() {
    let hits = Arc::new(Mutex::new(0usize));
    let h = hits.clone();
    let app = Router::new().fallback(move || {
        let h = h.clone();
        async move {
            *h.lock().unwrap() += 1;
            page(&[event("same", "again")], "stuck", true)
        }
    });
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let mut config = quick(&server.url);
    config.retry.base_delay_ms = 1;
    let err = sync_within(&db, config, Duration::from_secs(20))
        .expect_err("a cursor that never moves must end the sync");
    assert!(err.to_string().contains("no progress"), "{err}");
    // The first page moves the cursor from the start to "stuck"; then the
    // bound, then the page that ends it.
    assert_eq!(*hits.lock().unwrap(), MAX_EMPTY_PAGES as usize + 2);
    assert_eq!(stored_refs(&db), ["again"], "the event itself is kept once");
}

/// Events of the page-size test: the first `large` carry a 2,000-character ref.
fn sized_events(total: usize, large: usize) -> Vec<serde_json::Value> {
    (0..total)
        .map(|i| {
            let r = if i < large {
                format!("big{i}-{}", "x".repeat(2_000))
            } else {
                format!("small{i}")
            };
            event(&format!("ev{i:04}"), &r)
        })
        .collect()
}

/// A backend over `events`: cursors are indexes; a `limit` over `refuse_over`
/// gets 413. Records each request's `(after, limit)`.
fn sized_backend(
    events: Vec<serde_json::Value>,
    refuse_over: usize,
    seen: Arc<Mutex<Vec<(String, usize)>>>,
) -> Router {
    let events = Arc::new(events);
    Router::new().fallback(move |req: Request| {
        let (events, seen) = (events.clone(), seen.clone());
        async move {
            let after = query_value(req.uri().query(), "after").unwrap_or_default();
            let limit: usize = query_value(req.uri().query(), "limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(1000);
            seen.lock().unwrap().push((after.clone(), limit));
            if limit > refuse_over {
                return (StatusCode::PAYLOAD_TOO_LARGE, "page too large").into_response();
            }
            let start: usize = after.parse().unwrap_or(0);
            let end = (start + limit).min(events.len());
            page(&events[start..end], &end.to_string(), end < events.len())
        }
    })
}

#[test]
fn a_page_too_large_halves_the_limit_down_to_what_fits_then_grows_back() {
    const CAP: usize = 10_000;
    let events = sized_events(100, 8);
    // What the sequence below rests on: four large events fit the cap, eight
    // do not; sixteen small ones fit.
    assert!(page_body(&events[..4], "100", true).len() <= CAP);
    assert!(page_body(&events[..8], "100", true).len() > CAP);
    assert!(page_body(&events[84..100], "100", true).len() <= CAP);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = serve(sized_backend(events, 32, seen.clone()));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let mut config = quick(&server.url);
    config.page_size = 64;
    config.max_page_bytes = CAP;
    let done = sync_within(&db, config, Duration::from_secs(30)).expect("sync completes");
    assert_eq!(done.new_events, 100, "every event arrives");
    assert_eq!(stored_refs(&db).len(), 100);
    assert_eq!(stored_cursor(&db, &server.url).as_deref(), Some("100"));
    let limits: Vec<usize> = seen.lock().unwrap().iter().map(|s| s.1).collect();
    // 64 gets 413, 32 to 8 exceed the cap, 4 fits; after 4 pages in a row
    // that fit, the limit doubles back: 8, then 16.
    assert_eq!(
        limits,
        [64, 32, 16, 8, 4, 4, 4, 4, 8, 8, 8, 8, 16, 16, 16, 16],
        "requests: {:?}",
        seen.lock().unwrap()
    );
}

#[test]
fn a_single_event_over_the_cap_is_reported_with_the_cursor_before_it() {
    const CAP: usize = 10_000;
    let mut events = sized_events(10, 0);
    events[5] = event("ev0005", &"h".repeat(30_000));
    let huge_page = page_body(&events[5..6], "6", true);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = serve(sized_backend(events, usize::MAX, seen.clone()));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let mut config = quick(&server.url);
    config.page_size = 8;
    config.max_page_bytes = CAP;
    let err = sync_within(&db, config, Duration::from_secs(30))
        .expect_err("one event over the cap cannot be pulled");
    let msg = err.to_string();
    assert!(
        matches!(&err, SyncError::EventTooLarge { after, .. } if after == "5"),
        "{err:?}"
    );
    assert!(msg.contains("cursor \"5\""), "{msg}");
    assert!(
        msg.contains(&format!("{} bytes", huge_page.len())),
        "the size of the one-event page: {msg}"
    );
    assert!(msg.contains(&CAP.to_string()), "{msg}");
    // Everything before it is stored, and the cursor waits just before it.
    assert_eq!(stored_refs(&db).len(), 5);
    assert_eq!(stored_cursor(&db, &server.url).as_deref(), Some("5"));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.last(),
        Some(&("5".to_string(), 1)),
        "it gave up at limit 1: {seen:?}"
    );
    assert!(seen.len() <= 8, "bounded: {seen:?}");
}

fn relay_config(data: &std::path::Path) -> RelayConfig {
    RelayConfig::new(data.to_path_buf(), SECRET, "verify-token", TOKEN)
}

fn loopback() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn refs_over_metas_limit_are_refused_at_the_webhook_and_later_events_sync() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start(relay_config(&dir.path().join("relay.db")), loopback()).unwrap();
    let url = relay.url();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let ts = chrono::Utc::now().timestamp_millis() - 60_000;
    // 70 bodies, each one item with a ref of about 1 MB: Meta still gets 200.
    for i in 0..70 {
        let r = format!("huge{i}-{}", "r".repeat(1_000_000));
        let body = referral_body(&r, &format!("p{i}"), ts + i);
        assert!(body.len() < 1 << 20, "under the relay's body limit");
        assert_eq!(post_signed(&client, &url, &body), 200, "body {i}");
    }
    // The edge of Meta's limit: 2,084 characters is refused, 2,083 kept.
    let over = format!("o{}", "v".repeat(2_083));
    let at = format!("a{}", "t".repeat(2_082));
    for (r, sender) in [(&over, "edge1"), (&at, "edge2")] {
        assert_eq!(
            post_signed(&client, &url, &referral_body(r, sender, ts)),
            200
        );
    }
    let normal: Vec<String> = (0..10).map(|i| format!("normal{i}")).collect();
    for (i, r) in normal.iter().enumerate() {
        let body = referral_body(r, &format!("n{i}"), ts + 100 + i as i64);
        assert_eq!(post_signed(&client, &url, &body), 200);
    }
    let metrics = client
        .get(format!("{url}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("refboard_webhook_items_refused_total{reason=\"ref\"} 71\n"),
        "{metrics}"
    );
    let db = dir.path().join("local.db");
    let done = sync_within(&db, quick(&url), Duration::from_secs(60)).expect("sync moves");
    assert_eq!(done.new_events, 11);
    let mut expected: Vec<String> = normal.clone();
    expected.push(at.clone());
    expected.sort();
    let mut got = stored_refs(&db);
    got.sort();
    assert_eq!(got, expected);
}

#[test]
fn a_redirect_to_another_port_is_refused_and_names_where_the_backend_moved() {
    let other_hits = Arc::new(Mutex::new(Vec::<String>::new()));
    let h = other_hits.clone();
    let other = serve(Router::new().fallback(move |req: Request| {
        let h = h.clone();
        async move {
            let auth = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            h.lock().unwrap().push(auth);
            page(&[event("elsewhere", "moved")], "c1", false)
        }
    }));
    let target = format!(
        "http://user:hunter2@127.0.0.1:{}/v1/referrals?key=s3cret&limit=5000",
        other.port
    );
    let moved =
        serve(
            Router::new().fallback(move || {
                let target = target.clone();
                async move {
                    (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, target)]).into_response()
                }
            }),
        );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let err = sync_within(&db, quick(&moved.url), Duration::from_secs(30))
        .expect_err("a redirect to another origin is not followed");
    let msg = err.to_string();
    assert!(
        matches!(err, SyncError::Moved { status: 301, .. }),
        "{err:?}"
    );
    assert!(
        msg.contains(&format!("http://127.0.0.1:{}/v1/referrals", other.port)),
        "names where it moved: {msg}"
    );
    for secret in ["hunter2", "s3cret", "user:"] {
        assert!(!msg.contains(secret), "{secret} leaked: {msg}");
    }
    assert!(other_hits.lock().unwrap().is_empty(), "never asked");
    assert!(stored_refs(&db).is_empty(), "nothing stored");
}

#[test]
fn a_redirect_on_the_same_origin_is_followed_with_the_token_and_loops_are_bounded() {
    let auths = Arc::new(Mutex::new(Vec::<String>::new()));
    let a = auths.clone();
    let app = Router::new().fallback(move |req: Request| {
        let a = a.clone();
        async move {
            let path = req.uri().path().to_string();
            let query = req.uri().query().unwrap_or("").to_string();
            let auth = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            a.lock().unwrap().push(auth);
            let to = |p: &str| -> Response {
                (
                    StatusCode::PERMANENT_REDIRECT,
                    [(header::LOCATION, format!("{p}?{query}"))],
                )
                    .into_response()
            };
            if path.starts_with("/loop") {
                to("/loop/v1/referrals")
            } else if path.starts_with("/new") {
                page(&[event("here", "same-origin")], "c1", false)
            } else {
                to("/new/v1/referrals")
            }
        }
    });
    let server = serve(app);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let done = sync_within(&db, quick(&server.url), Duration::from_secs(30)).unwrap();
    assert_eq!(done.new_events, 1);
    assert!(
        auths
            .lock()
            .unwrap()
            .iter()
            .all(|a| a == &format!("Bearer {TOKEN}")),
        "the token goes along on the same origin"
    );
    auths.lock().unwrap().clear();
    let err = sync_within(
        &dir.path().join("loop.db"),
        quick(&format!("{}/loop", server.url)),
        Duration::from_secs(30),
    )
    .expect_err("a redirect loop ends");
    assert!(
        err.to_string()
            .contains(&format!("redirected more than {MAX_REDIRECTS} times")),
        "{err}"
    );
    // The first request, then each redirect followed; no retry.
    assert_eq!(auths.lock().unwrap().len(), MAX_REDIRECTS + 1, "bounded");
}

#[test]
fn any_all_digit_limit_is_capped_and_zero_negatives_and_words_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start(relay_config(&dir.path().join("relay.db")), loopback()).unwrap();
    let client = reqwest::blocking::Client::new();
    let status = |limit: &str| {
        client
            .get(format!("{}/v1/referrals?limit={limit}", relay.url()))
            .bearer_auth(TOKEN)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    for ok in [
        "1",
        "5000",
        "5001",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999",
        "0001",
    ] {
        assert_eq!(status(ok), 200, "limit={ok}");
    }
    for bad in [
        "0",
        "000",
        "-1",
        "abc",
        "",
        "1.5",
        "%2B5",
        "12a",
        "99999999999999999999999x",
    ] {
        assert_eq!(status(bad), 400, "limit={bad}");
    }
}

/// A relay database written before the field bounds can hold events with
/// refs of about 1 MB: 70 of them make a page of 70 MB at limit 5,000.
#[test]
fn a_relay_database_with_oversized_events_from_before_the_bounds_still_syncs_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("relay.db");
    let ts = chrono::Utc::now().timestamp_millis() - 60_000;
    let stored = |i: usize, r: String| refboard::model::ReferralEvent {
        event_id: format!("{i:032x}"),
        platform: refboard::model::Platform::Messenger,
        page_id: "104729178032417".into(),
        sender: format!("{:032x}", i + 1),
        timestamp_ms: ts + i as i64,
        kind: refboard::model::Kind::New,
        ref_code: Some(r),
        source: Some("SHORTLINK".into()),
        ref_type: Some("OPEN_THREAD".into()),
        ad_id: None,
        ad_title: None,
        referer_uri: None,
        received_at_ms: ts + i as i64,
    };
    let mut events: Vec<_> = (0..70)
        .map(|i| stored(i, format!("huge{i}-{}", "r".repeat(1_000_000))))
        .collect();
    events.extend((70..80).map(|i| stored(i, format!("normal{i}"))));
    refboard::relay::import_events(&data, &events, &[]).unwrap();
    let relay = start(relay_config(&data), loopback()).unwrap();
    let db = dir.path().join("local.db");
    let done = sync_within(&db, quick(&relay.url()), Duration::from_secs(120))
        .expect("the page size falls back until pages fit");
    assert_eq!(done.new_events, 80, "every event arrives");
    assert_eq!(stored_refs(&db).len(), 80);
}
