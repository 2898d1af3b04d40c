//! The relay in production: durable acknowledgements under SIGKILL, webhook
//! health, pull-API refusals, slow-header connections, `relay init`, and bad
//! start-up input. Real processes, real HTTP on 127.0.0.1, real SQLite files.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::relay::{RelayProcess, Storage, free_port, post, referral_body};

use common::FIXTURE_APP_SECRET as SECRET;
use refboard::messenger::sign;
use refboard::relay::{RelayConfig, RelayOptions, start, start_with};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const API_TOKEN: &str = "relay-test-api-token";
const VERIFY_TOKEN: &str = "relay-test-verify-token";

fn config(data: &Path) -> RelayConfig {
    RelayConfig::new(data.to_path_buf(), SECRET, VERIFY_TOKEN, API_TOKEN)
}

/// Every ref the pull API serves, paging to the end.
fn pulled_refs(url: &str) -> Vec<String> {
    let client = reqwest::blocking::Client::new();
    let mut cursor = String::new();
    let mut refs = Vec::new();
    loop {
        let page: serde_json::Value = client
            .get(format!("{url}/v1/referrals?limit=5000&after={cursor}"))
            .bearer_auth(API_TOKEN)
            .send()
            .unwrap()
            .json()
            .unwrap();
        for e in page["events"].as_array().unwrap() {
            refs.push(e["ref"].as_str().unwrap().to_string());
        }
        cursor = page["next_cursor"].as_str().unwrap().to_string();
        if !page["has_more"].as_bool().unwrap() {
            return refs;
        }
    }
}

#[test]
fn sqlite_relay_killed_with_sigkill_keeps_every_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("relay.db");
    let mut relay = RelayProcess::start(Storage::Data(&data), VERIFY_TOKEN, API_TOKEN);
    let url = relay.url.clone();
    let acked = Arc::new(Mutex::new(BTreeSet::<String>::new()));
    let ack_count = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let posters: Vec<_> = (0..8)
        .map(|c| {
            let (acked, ack_count, stop, url) =
                (acked.clone(), ack_count.clone(), stop.clone(), url.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap();
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let r = format!("k{c}x{n}");
                    let body = referral_body(&r, &format!("p{c}"), 1_764_201_600_000 + n);
                    let sig = sign(SECRET.as_bytes(), &body);
                    match post(&client, &url, &body, Some(&sig)) {
                        200 => {
                            acked.lock().unwrap().insert(r);
                            ack_count.fetch_add(1, Ordering::SeqCst);
                        }
                        0 => return, // the relay is gone
                        other => panic!("unexpected status {other}"),
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while ack_count.load(Ordering::SeqCst) < 800 {
        assert!(Instant::now() < deadline, "posters made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SIGKILL while the posters are mid-flight.
    relay.kill();
    stop.store(true, Ordering::SeqCst);
    for p in posters {
        p.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let restarted = RelayProcess::start(Storage::Data(&data), VERIFY_TOKEN, API_TOKEN);
    let stored: BTreeSet<String> = pulled_refs(&restarted.url).into_iter().collect();
    let missing: Vec<_> = acked.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events missing",
        missing.len()
    );
    assert!(acked.len() >= 800);
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_count_every_outcome_and_healthz_gives_the_age_of_the_last_event() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start(
        config(&dir.path().join("relay.db")),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let url = relay.url();
    let client = reqwest::blocking::Client::new();
    let health: serde_json::Value = client
        .get(format!("{url}/healthz"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(health["last_event_age_secs"].is_null(), "{health}");
    let good = referral_body("metrics", "p1", 1_764_201_600_000);
    let sig = sign(SECRET.as_bytes(), &good);
    assert_eq!(post(&client, &url, &good, Some(&sig)), 200);
    assert_eq!(post(&client, &url, &good, Some(&sig)), 200);
    assert_eq!(post(&client, &url, &good, Some("sha256=00")), 403);
    assert_eq!(post(&client, &url, &good, None), 403);
    let junk = b"not json".to_vec();
    assert_eq!(
        post(&client, &url, &junk, Some(&sign(SECRET.as_bytes(), &junk))),
        400
    );
    let big = vec![b' '; (1 << 20) + 10];
    assert_eq!(
        post(&client, &url, &big, Some(&sign(SECRET.as_bytes(), &big))),
        413
    );
    // A referral item with an unreadable time is refused, and counted.
    let bad_time = br#"{"object":"page","entry":[{"id":"1","time":1764201600000,"messaging":[{"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":"soon","referral":{"ref":"x"}}]}]}"#;
    assert_eq!(
        post(
            &client,
            &url,
            bad_time,
            Some(&sign(SECRET.as_bytes(), bad_time))
        ),
        200
    );
    let text = client
        .get(format!("{url}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let m = |name: &str| metric(&text, name).unwrap_or_else(|| panic!("{name} in\n{text}"));
    assert_eq!(
        m("refboard_webhook_requests_total{outcome=\"stored\"}"),
        1.0
    );
    assert_eq!(
        m("refboard_webhook_requests_total{outcome=\"duplicate\"}"),
        1.0
    );
    assert_eq!(
        m("refboard_webhook_requests_total{outcome=\"ignored\"}"),
        1.0
    );
    assert_eq!(
        m("refboard_webhook_requests_total{outcome=\"bad_signature\"}"),
        2.0
    );
    assert_eq!(
        m("refboard_webhook_requests_total{outcome=\"malformed\"}"),
        1.0
    );
    assert_eq!(
        m("refboard_webhook_requests_total{outcome=\"too_large\"}"),
        1.0
    );
    assert_eq!(
        m("refboard_webhook_items_refused_total{reason=\"timestamp\"}"),
        1.0
    );
    assert!(m("refboard_last_event_received_seconds") > 1.7e9);
    assert_eq!(m("refboard_forward_queue_depth"), 0.0);
    assert_eq!(m("refboard_forward_failures_total"), 0.0);
    let health: serde_json::Value = client
        .get(format!("{url}/healthz"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        health["last_event_age_secs"].as_f64().unwrap() < 60.0,
        "{health}"
    );
    assert_eq!(health["bad_signatures_last_hour"], 2, "{health}");
    // The dashboard's view of the same: fresh now, a warning once quiet.
    let seen =
        refboard::sync::webhook_health(&refboard::sync::SyncConfig::new(&url, API_TOKEN)).unwrap();
    assert_eq!(seen.bad_signatures_last_hour, Some(2));
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(seen.warning(now, 900), None);
    let later = seen.warning(now + 2 * 3_600_000, 900).unwrap();
    assert!(later.contains("about an hour"), "{later}");
    relay.stop().unwrap();
}

#[test]
fn pull_api_refusals_name_field_value_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start(
        config(&dir.path().join("relay.db")),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let url = relay.url();
    let client = reqwest::blocking::Client::new();
    for (query, field, value) in [
        ("limit=0", "limit", "0"),
        ("limit=-5", "limit", "-5"),
        ("limit=lots", "limit", "lots"),
        ("after=s-1", "after", "s-1"),
        ("after=zzz", "after", "zzz"),
        (
            "after=s99999999999999999999999",
            "after",
            "s99999999999999999999999",
        ),
        ("after=s500", "after", "s500"),
    ] {
        let resp = client
            .get(format!("{url}/v1/referrals?{query}"))
            .bearer_auth(API_TOKEN)
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{query}");
        let body: serde_json::Value = resp.json().unwrap();
        assert_eq!(body["field"], field, "{query}: {body}");
        assert_eq!(body["value"], value, "{query}: {body}");
        assert!(
            body["rule"].as_str().is_some_and(|r| !r.is_empty()),
            "{query}: {body}"
        );
    }
    relay.stop().unwrap();
}

#[test]
fn half_sent_headers_time_out_and_connections_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let options = RelayOptions {
        header_timeout_secs: 1,
        max_connections: 8,
        ..RelayOptions::default()
    };
    let relay = start_with(
        config(&dir.path().join("relay.db")),
        options,
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let mut socks: Vec<std::net::TcpStream> = (0..40)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(relay.addr).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            s
        })
        .collect();
    // Each is closed by the relay well before the 20 s read timeout.
    let started = Instant::now();
    for s in &mut socks {
        let mut buf = [0u8; 512];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue, // a 408 answer before the close is fine
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("connection kept open: {e}"),
            }
        }
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    let text = reqwest::blocking::get(format!("{}/metrics", relay.url()))
        .unwrap()
        .text()
        .unwrap();
    let peak = metric(&text, "refboard_http_connections_peak").unwrap();
    assert!(peak <= 8.0, "peak {peak}");
    assert_eq!(metric(&text, "refboard_http_connections_limit"), Some(8.0));
    relay.stop().unwrap();
}

#[test]
fn relay_init_writes_a_private_env_file_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("etc");
    let out = assert_cmd::Command::cargo_bin("refboard")
        .unwrap()
        .env_remove("REFBOARD_APP_SECRET")
        .args(["relay", "init"])
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = target.join("relay.env");
    let text = std::fs::read_to_string(&file).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let value = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(str::to_string)
    };
    for key in ["REFBOARD_VERIFY_TOKEN", "REFBOARD_API_TOKEN"] {
        let v = value(key).unwrap_or_else(|| panic!("{key} in {text}"));
        assert_eq!(v.len(), 64, "{key}");
        assert!(v.chars().all(|c| c.is_ascii_hexdigit()));
    }
    assert_ne!(value("REFBOARD_VERIFY_TOKEN"), value("REFBOARD_API_TOKEN"));
    // The app secret comes from Meta: a marked empty line, never a made-up one.
    assert_eq!(value("REFBOARD_APP_SECRET").as_deref(), Some(""));
    let again = assert_cmd::Command::cargo_bin("refboard")
        .unwrap()
        .args(["relay", "init"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn data_and_database_together_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("refboard")
        .unwrap()
        .env("REFBOARD_APP_SECRET", "a")
        .env("REFBOARD_VERIFY_TOKEN", "b")
        .env("REFBOARD_API_TOKEN", "c")
        .args(["relay", "--data"])
        .arg(dir.path().join("r.db"))
        .args(["--database", "postgres://u:hunter2secret@127.0.0.1:1/db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--data") && err.contains("--database"),
        "{err}"
    );
    assert!(!err.contains("hunter2secret"), "{err}");
    assert!(!dir.path().join("r.db").exists(), "nothing created");
}

#[test]
fn unreachable_postgres_is_one_line_exit_1_without_the_password() {
    let port = free_port(); // nothing listens there
    let out = assert_cmd::Command::cargo_bin("refboard")
        .unwrap()
        .env("REFBOARD_APP_SECRET", "a")
        .env("REFBOARD_VERIFY_TOKEN", "b")
        .env("REFBOARD_API_TOKEN", "c")
        .args(["relay", "--listen", "127.0.0.1:0", "--database"])
        .arg(format!("postgres://u:hunter2secret@127.0.0.1:{port}/db"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!err.contains("hunter2secret"), "{err}");
    assert!(err.contains("127.0.0.1"), "{err}");
}

#[test]
fn healthz_reports_degraded_with_the_reason_while_webhooks_cannot_be_stored() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("relay.db");
    let relay = start(config(&data), "127.0.0.1:0".parse().unwrap()).unwrap();
    let url = relay.url();
    let client = reqwest::blocking::Client::new();
    let health = || -> (u16, serde_json::Value) {
        let r = client.get(format!("{url}/healthz")).send().unwrap();
        (r.status().as_u16(), r.json().unwrap())
    };
    let now = chrono::Utc::now().timestamp_millis();
    let first = referral_body("before", "p1", now);
    assert_eq!(
        post(
            &client,
            &url,
            &first,
            Some(&sign(SECRET.as_bytes(), &first))
        ),
        200
    );
    let (status, ok) = health();
    assert_eq!(
        (status, &ok["status"]),
        (200, &serde_json::json!("ok")),
        "{ok}"
    );
    // The database now refuses every write, as a full disk does.
    let conn = rusqlite::Connection::open(&data).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON events \
         BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;",
    )
    .unwrap();
    let failed_at = chrono::Utc::now().timestamp_millis();
    for i in 0..3 {
        let body = referral_body(&format!("lost{i}"), "p2", now);
        assert_eq!(
            post(&client, &url, &body, Some(&sign(SECRET.as_bytes(), &body))),
            500
        );
    }
    let (status, degraded) = health();
    // Still 200: the relay serves the pull API; the body says what is wrong.
    assert_eq!(status, 200, "{degraded}");
    assert_eq!(degraded["status"], "degraded", "{degraded}");
    assert_eq!(degraded["store_failures_last_15_min"], 3, "{degraded}");
    assert!(
        degraded["last_store_failure_at_ms"].as_i64().unwrap() >= failed_at,
        "{degraded}"
    );
    let reason = degraded["reason"].as_str().unwrap();
    assert!(reason.contains("3 webhook"), "{reason}");
    assert!(reason.contains("disk is full"), "{reason}");
    // Stores work again: the failures stay reported for the window, beside the recovery.
    conn.execute_batch("DROP TRIGGER refuse").unwrap();
    let after = referral_body("after", "p3", now);
    assert_eq!(
        post(
            &client,
            &url,
            &after,
            Some(&sign(SECRET.as_bytes(), &after))
        ),
        200
    );
    let (_, later) = health();
    assert!(
        later["last_store_ok_at_ms"].as_i64().unwrap()
            >= later["last_store_failure_at_ms"].as_i64().unwrap(),
        "{later}"
    );
    relay.stop().unwrap();
}

/// A child process killed when dropped (a failed assertion leaves none behind).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `/healthz` of the relay at `url`.
fn healthz(url: &str) -> serde_json::Value {
    reqwest::blocking::get(format!("{url}/healthz"))
        .unwrap()
        .json()
        .unwrap()
}

/// The `/webhook` verification GET with `token`; the status.
fn verify_with(url: &str, token: &str) -> u16 {
    reqwest::blocking::get(format!(
        "{url}/webhook?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=4711"
    ))
    .unwrap()
    .status()
    .as_u16()
}

#[test]
fn the_relay_records_meta_s_verification_and_wrong_verify_tokens_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("relay.db");
    let log = dir.path().join("relay.log");
    let spawn = || {
        let port = free_port();
        let child = KillOnDrop(
            std::process::Command::new(env!("CARGO_BIN_EXE_refboard"))
                .args(["relay", "--listen", &format!("127.0.0.1:{port}")])
                .arg("--data")
                .arg(&data)
                .env("REFBOARD_APP_SECRET", SECRET)
                .env("REFBOARD_VERIFY_TOKEN", VERIFY_TOKEN)
                .env("REFBOARD_API_TOKEN", API_TOKEN)
                .env("RUST_LOG", "debug")
                .stderr(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&log)
                        .unwrap(),
                )
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !reqwest::blocking::get(format!("{url}/healthz")).is_ok_and(|r| r.status() == 200) {
            assert!(Instant::now() < deadline, "the relay did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        (child, url)
    };
    let (child, url) = spawn();
    let fresh = healthz(&url);
    assert!(fresh["meta_verified_at_ms"].is_null(), "{fresh}");
    assert!(fresh["bad_verify_token_at_ms"].is_null(), "{fresh}");
    assert_eq!(fresh["bad_verify_tokens_last_hour"], 0, "{fresh}");

    let before = chrono::Utc::now().timestamp_millis();
    let wrong = "guessed-token-9431";
    assert_eq!(verify_with(&url, wrong), 403);
    assert_eq!(verify_with(&url, wrong), 403);
    let after_bad = healthz(&url);
    assert!(after_bad["meta_verified_at_ms"].is_null(), "{after_bad}");
    assert!(
        after_bad["bad_verify_token_at_ms"].as_i64().unwrap() >= before,
        "{after_bad}"
    );
    assert_eq!(after_bad["bad_verify_tokens_last_hour"], 2, "{after_bad}");
    assert_eq!(verify_with(&url, VERIFY_TOKEN), 200);
    let verified = healthz(&url);
    let verified_at = verified["meta_verified_at_ms"].as_i64().unwrap();
    assert!(verified_at >= before, "{verified}");
    let text = reqwest::blocking::get(format!("{url}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    let m = |name: &str| metric(&text, name).unwrap_or_else(|| panic!("{name} in\n{text}"));
    assert_eq!(m("refboard_bad_verify_tokens_total"), 2.0);
    assert_eq!(m("refboard_bad_verify_tokens_last_hour"), 2.0);
    assert!(
        (m("refboard_meta_verified_timestamp_seconds") * 1000.0 - verified_at as f64).abs() < 1.0
    );
    assert!(m("refboard_bad_verify_token_timestamp_seconds") * 1000.0 >= before as f64 - 1.0);

    // A restart keeps both times (the hour's count is the process's own).
    // Wrong tokens are written at most once a minute, so the stored one is
    // the first of the two, tried after `before`.
    drop(child);
    let (child, url) = spawn();
    let restarted = healthz(&url);
    assert_eq!(restarted["meta_verified_at_ms"], verified_at, "{restarted}");
    let bad_at = restarted["bad_verify_token_at_ms"].as_i64().unwrap();
    let last_bad = after_bad["bad_verify_token_at_ms"].as_i64().unwrap();
    assert!((before..=last_bad).contains(&bad_at), "{restarted}");
    assert_eq!(restarted["bad_verify_tokens_last_hour"], 0, "{restarted}");
    drop(child);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains(wrong), "the token tried is never logged");
    assert!(!logged.contains(VERIFY_TOKEN), "nor the right one");
}
