//! Peak memory of `refboard import` on 500 MB of input, beside the same
//! command on 1 MB (the baseline: what does not grow with the input).
//!
//! ```text
//! cargo bench --bench import_memory
//! REFBOARD_BENCH_SCALE=0.1 cargo bench --bench import_memory   # 50 MB
//! ```
//! The CLI runs as a child process; its peak resident set (VmHWM) is read
//! from /proc while it runs (Linux only). Inputs are written under
//! `target/tmp/` and removed afterwards.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MB: u64 = 1_000_000;

fn scale() -> f64 {
    std::env::var("REFBOARD_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// The CLI binary cargo builds beside this bench.
fn refboard_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_refboard"))
}

/// One webhook body of about 4 KB: four referrals with long ad titles.
fn body(i: u64) -> String {
    let title = "Spring sale on every vegetable at Jasper's Market ".repeat(16);
    let items: Vec<serde_json::Value> = (0..4)
        .map(|k| {
            serde_json::json!({
                "sender": {"id": format!("{}", 7_000_000 + (i * 4 + k) % 250_000)},
                "recipient": {"id": "104729178032417"},
                "timestamp": 1_735_689_600_000u64 + i * 4_000 + k,
                "referral": {
                    "ref": format!("ref{:03}", (i + k) % 400),
                    "source": "ADS",
                    "type": "OPEN_THREAD",
                    "ad_id": format!("{}", 6_000_000_000u64 + i),
                    "ads_context_data": {"ad_title": title}
                }
            })
        })
        .collect();
    serde_json::json!({
        "object": "page",
        "entry": [{"id": "104729178032417", "time": 1_735_689_600_000u64 + i * 4_000, "messaging": items}]
    })
    .to_string()
}

/// Writes `bytes` of NDJSON bodies; returns the number of bodies.
fn write_ndjson(path: &Path, bytes: u64) -> u64 {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create input"));
    let (mut written, mut n) = (0u64, 0u64);
    while written < bytes {
        let line = body(n);
        f.write_all(line.as_bytes()).expect("write");
        f.write_all(b"\n").expect("write");
        written += line.len() as u64 + 1;
        n += 1;
    }
    f.flush().expect("flush");
    n
}

/// Writes `bytes` NUL bytes: one line far over the body cap.
fn write_nul(path: &Path, bytes: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create input"));
    let chunk = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n]).expect("write");
        left -= n as u64;
    }
    f.flush().expect("flush");
}

/// Runs `refboard --db DB import INPUT`; returns (peak RSS in MiB, seconds, stdout).
fn import(bin: &Path, db: &Path, input: &Path) -> (f64, f64, String) {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .env("REFBOARD_SECRET_STORE", "file")
        .arg("--db")
        .arg(db)
        .arg("import")
        .arg(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn refboard");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_file)
            && let Some(kib) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        use std::io::Read;
        let _ = o.read_to_string(&mut out);
    }
    assert!(status.success(), "import failed: {out}");
    (
        peak_kib as f64 / 1024.0,
        start.elapsed().as_secs_f64(),
        out.trim().to_string(),
    )
}

fn main() {
    let bin = refboard_bin();
    let tmp = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp/import-memory");
    std::fs::create_dir_all(&tmp).expect("tmp dir");
    let big = ((500 * MB) as f64 * scale()) as u64;

    let small_in = tmp.join("small.ndjson");
    let bodies = write_ndjson(&small_in, MB);
    let (base_mib, base_s, _) = import(&bin, &tmp.join("small.db"), &small_in);
    println!(
        "baseline: 1 MB NDJSON ({bodies} bodies): peak RSS {base_mib:.1} MiB in {base_s:.1} s"
    );

    let ndjson_in = tmp.join("big.ndjson");
    let bodies = write_ndjson(&ndjson_in, big);
    let (mib, secs, out) = import(&bin, &tmp.join("big.db"), &ndjson_in);
    println!(
        "{} MB NDJSON ({bodies} bodies): peak RSS {mib:.1} MiB in {secs:.1} s; {out}",
        big / MB
    );
    let _ = std::fs::remove_file(&ndjson_in);

    let nul_in = tmp.join("nul.bin");
    write_nul(&nul_in, big);
    let (mib, secs, out) = import(&bin, &tmp.join("nul.db"), &nul_in);
    println!(
        "{} MB of NUL bytes (one line): peak RSS {mib:.1} MiB in {secs:.1} s; {out}",
        big / MB
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
