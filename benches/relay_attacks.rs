//! The relay under the attacks of issue #17 section 2, at full scale, each
//! beside a baseline measured in the same run (the relay with no attack).
//!
//! ```text
//! cargo bench --profile dev --bench relay_attacks
//! REFBOARD_ATTACK_SECS=15 REFBOARD_ATTACK_PER_IP=0 cargo bench --profile dev --bench relay_attacks
//! cargo bench --profile dev --bench relay_attacks -- idle MiB   # the baseline and two rows
//! ```
//!
//! Each row starts a fresh `refboard relay` process on 127.0.0.1 with its
//! default limits (1,024 connections, 10 s header and body deadlines, 15 s
//! per request, 64 MiB of bodies), opens the attack's connections from
//! 127.0.0.1 (only loopback is ever targeted), then asks `/healthz` every
//! 250 ms and posts a signed webhook every fifth time, each on a fresh
//! connection with a 1 s timeout, for `REFBOARD_ATTACK_SECS` (15). The
//! per-address limit is `REFBOARD_ATTACK_PER_IP` (0: off, the worst case, as
//! behind a reverse proxy where every client has one address), and
//! `REFBOARD_ATTACK_FROM` moves the attack to another loopback address
//! (e.g. 127.0.0.2 with `REFBOARD_ATTACK_PER_IP=256`: a relay exposed directly). Printed:
//! healthz p50/max and failures, webhook p50/max and failures, the relay's
//! RSS before, its peak (VmHWM) and at the end.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

#[path = "../tests/common/attack.rs"]
mod attack;

use attack::{Attack, Kind, Probe, probe, rss_kib};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

const SECRET: &str = "bench-attack-app-secret";

/// A relay process, killed when dropped.
struct Relay {
    child: std::process::Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_relay(per_ip: &str) -> Relay {
    let dir = tempfile::tempdir().expect("a temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_refboard"))
        .args(["relay", "--listen", &addr.to_string(), "--data"])
        .arg(dir.path().join("relay.db"))
        .args(["--max-connections-per-ip", per_ip])
        .env("REFBOARD_APP_SECRET", SECRET)
        .env("REFBOARD_VERIFY_TOKEN", "bench-verify")
        .env("REFBOARD_API_TOKEN", "bench-token")
        .env("RUST_LOG", "error")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the relay starts");
    let relay = Relay {
        child,
        addr,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = format!("http://{addr}/healthz");
    while !reqwest::blocking::get(&url).is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "the relay did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    relay
}

fn signed(i: usize) -> (Vec<u8>, String) {
    let now = chrono::Utc::now().timestamp_millis();
    let body = serde_json::json!({"object":"page","entry":[{"id":"104729178032417","time":now,
        "messaging":[{"sender":{"id":format!("person{i}")},"recipient":{"id":"104729178032417"},
        "timestamp":now,"referral":{"ref":format!("bench{i}"),"source":"SHORTLINK","type":"OPEN_THREAD"}}]}]})
    .to_string()
    .into_bytes();
    let sig = refboard::messenger::sign(SECRET.as_bytes(), &body);
    (body, sig)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn row(name: &str, connections: usize, seen: &Probe, rss: (u64, u64, u64), opened: usize) {
    let (h50, hmax) = Probe::p50_max(&seen.healthz_ms);
    let (w50, wmax) = Probe::p50_max(&seen.webhook_ms);
    println!(
        "| {name} | {connections} | {opened} | {h50:.0} / {hmax:.0} ms | {} of {} | {w50:.0} / {wmax:.0} ms | {} of {} | {:.1} / {:.1} / {:.1} MiB |",
        seen.healthz_failed,
        seen.healthz_failed + seen.healthz_ms.len(),
        seen.webhook_failed.len(),
        seen.webhook_failed.len() + seen.webhook_ms.len(),
        mib(rss.0),
        mib(rss.1),
        mib(rss.2),
    );
    for f in seen.failures.iter().take(3) {
        println!("|   failure: {f} |");
    }
}

fn main() {
    let secs: u64 = std::env::var("REFBOARD_ATTACK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15)
        .clamp(1, 120);
    let per_ip = std::env::var("REFBOARD_ATTACK_PER_IP").unwrap_or_else(|_| "0".into());
    // The attack's source address; the probe is always 127.0.0.1.
    let source: IpAddr = std::env::var("REFBOARD_ATTACK_FROM")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|ip: &IpAddr| ip.is_loopback())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let scenarios: [(&str, Option<Kind>, usize); 6] = [
        ("no attack (baseline)", None, 0),
        (
            "chunked bodies, 1 byte / 5 s",
            Some(Kind::SlowChunked),
            1030,
        ),
        (
            "`Content-Length: 1000`, no body",
            Some(Kind::StalledLength),
            1030,
        ),
        (
            "slowloris, 1 header line / 5 s",
            Some(Kind::Slowloris),
            1100,
        ),
        ("idle connections", Some(Kind::Idle), 2000),
        (
            "1 MiB − 1 bodies, unsigned or wrongly signed",
            Some(Kind::LargeUnsigned),
            1000,
        ),
    ];
    println!(
        "relay defaults, --max-connections-per-ip {per_ip}, attacks from {source}, {secs} s of probes per row (healthz every 250 ms, a signed webhook every fifth, fresh connections from 127.0.0.1, 1 s timeout)\n"
    );
    println!(
        "| attack | connections | opened | healthz p50 / max | healthz failed | webhook p50 / max | webhook failed | RSS before / peak / end |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    // `cargo bench … -- idle` runs the baseline and the rows whose name has "idle".
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for (name, kind, connections) in scenarios {
        if kind.is_some() && !only.is_empty() && !only.iter().any(|o| name.contains(o.as_str())) {
            continue;
        }
        let relay = start_relay(&per_ip);
        let pid = relay.child.id();
        let (before, _) = rss_kib(pid);
        let attack = kind.map(|k| {
            let a = Attack::start(k, relay.addr, source, connections, Duration::from_secs(5));
            let deadline = Instant::now() + Duration::from_secs(30);
            while a.opened() < connections && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            a
        });
        let url = format!("http://{}", relay.addr);
        let seen = probe(
            &url,
            Duration::from_secs(secs),
            Duration::from_millis(250),
            Duration::from_secs(1),
            signed,
        );
        let (end, peak) = rss_kib(pid);
        let opened = attack.as_ref().map_or(0, Attack::opened);
        if let Some(a) = attack {
            a.stop();
        }
        row(name, connections, &seen, (before, peak, end), opened);
    }
}
