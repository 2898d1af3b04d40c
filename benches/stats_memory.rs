//! Peak memory of `refboard stats` over many distinct refs (issue #11, item 1).
//!
//! Builds a store with 100,000 distinct refs over 365 days (300,000 events),
//! then runs the CLI as a child process, `stats --by ref --every day --json`
//! over the whole year, and reads the child's peak resident set size from
//! `wait4` (`ru_maxrss`). The same query is run with the binary under test
//! and, when `REFBOARD_BASELINE_BIN` names one, with an older binary (for
//! example a build of `main` before the bound), in the same run, on a copy
//! of the store in the schema that build reads (schema 2).
//!
//! ```text
//! REFBOARD_BASELINE_BIN=/path/to/old/refboard cargo bench --bench stats_memory
//! ```
//! `REFBOARD_BENCH_SCALE=0.1` shrinks the data set for a quick look.
//! `REFBOARD_BASELINE_LIMIT_KIB` caps the baseline's address space (default
//! 8 GiB) so that it cannot take the machine down, and
//! `REFBOARD_BASELINE_TIMEOUT_SECS` ends it (SIGKILL, exit 137) after 1200 s.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use refboard::model::{Kind, Platform, ReferralEvent};
use refboard::store::Store;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const PAGE_ID: &str = "104729178032417";
const DAY_MS: i64 = 86_400_000;
const START_MS: i64 = 1_735_689_600_000; // 2025-01-01T00:00:00Z
/// The goal from issue #11.
const GOAL_KIB: u64 = 200 * 1024;

fn scale() -> f64 {
    std::env::var("REFBOARD_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// `refs` distinct refs over 365 days; ref k gets 1 + k % 5 events (3 on
/// average), on days and times drawn from a fixed seed.
fn build_store(path: &Path, refs: usize) -> usize {
    let mut store = Store::open(path).expect("store");
    let mut rng = fastrand::Rng::with_seed(11);
    let mut batch = Vec::with_capacity(10_000);
    let mut total = 0;
    for k in 0..refs {
        for j in 0..(1 + k % 5) {
            let ts = START_MS + rng.i64(0..365) * DAY_MS + rng.i64(0..DAY_MS);
            batch.push(ReferralEvent {
                event_id: format!("{k:08}-{j}"),
                platform: Platform::Messenger,
                page_id: PAGE_ID.into(),
                sender: format!("{:032x}", rng.u128(..) % 1_000_000),
                timestamp_ms: ts,
                kind: if j == 0 { Kind::New } else { Kind::Returning },
                ref_code: Some(format!("ref{k:06}")),
                source: Some("SHORTLINK".into()),
                ref_type: None,
                ad_id: None,
                ad_title: None,
                referer_uri: None,
                received_at_ms: ts,
            });
            if batch.len() == batch.capacity() {
                total += store.ingest(&batch, None).expect("ingest");
                batch.clear();
            }
        }
    }
    total + store.ingest(&batch, None).expect("ingest")
}

/// Copies the store as schema 2 (rollups without `has_ref`), which builds
/// from before schema 3 can open; every ref here is present, so nothing merges.
fn copy_as_schema_2(from: &Path, to: &Path) {
    let conn = rusqlite::Connection::open(from).expect("open");
    conn.execute("VACUUM INTO ?1", [to.to_string_lossy()])
        .expect("copy");
    let old = rusqlite::Connection::open(to).expect("open copy");
    old.execute_batch(
        "CREATE TABLE referral_rollup_v2 (
            period INTEGER NOT NULL, page_id TEXT NOT NULL, ref TEXT NOT NULL,
            source TEXT NOT NULL, slots BLOB NOT NULL,
            PRIMARY KEY (period, page_id, ref, source)) WITHOUT ROWID;
         INSERT INTO referral_rollup_v2 SELECT period, page_id, ref, source, slots FROM referral_rollup;
         DROP TABLE referral_rollup;
         ALTER TABLE referral_rollup_v2 RENAME TO referral_rollup;
         PRAGMA user_version = 2;",
    )
    .expect("schema 2");
}

/// What one child run used.
struct Run {
    peak_kib: u64,
    secs: f64,
    stdout_bytes: usize,
    exit: i32,
}

/// Runs `bin args` with its stdout read (and counted) by this process, and
/// returns its peak RSS from `wait4`. `limit_kib` caps its address space.
// The child is reaped by `wait4` (which also reports its peak memory), not
// by `Child::wait`, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run(bin: &str, db: &Path, args: &[&str], limit_kib: Option<u64>, timeout_secs: u64) -> Run {
    let mut cmd = match limit_kib {
        Some(kib) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("ulimit -v {kib}; exec \"$0\" \"$@\""))
                .arg(bin);
            c
        }
        None => Command::new(bin),
    };
    let started = Instant::now();
    let mut child = cmd
        .env_remove("REFBOARD_DB")
        .arg("--db")
        .arg(db)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0;
        while let Ok(k) = out.read(&mut buf) {
            if k == 0 {
                break;
            }
            n += k;
        }
        n
    });
    let pid = child.id() as libc::pid_t;
    // A watchdog ends a run that takes too long (the unbounded baseline).
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + std::time::Duration::from_secs(timeout_secs);
        while Instant::now() < deadline {
            if flag.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        if !flag.load(std::sync::atomic::Ordering::SeqCst) {
            // SAFETY: signalling our own child, which has not been reaped yet.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(rc, pid, "wait4");
    let secs = started.elapsed().as_secs_f64();
    let stdout_bytes = reader.join().unwrap_or(0);
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Run {
        peak_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        secs,
        stdout_bytes,
        exit,
    }
}

fn show(name: &str, r: &Run) {
    println!(
        "{name:<10} peak RSS {:>8.1} MB  time {:>6.2} s  stdout {:>9.1} MB  exit {}",
        r.peak_kib as f64 / 1024.0,
        r.secs,
        r.stdout_bytes as f64 / 1e6,
        r.exit
    );
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken from the arguments.
    let refs = ((100_000.0 * scale()) as usize).max(10);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("stats-memory.db");
    let t = Instant::now();
    let events = build_store(&db, refs);
    println!(
        "store: {refs} distinct refs, {events} events over 365 days, built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let args = [
        "stats",
        "--by",
        "ref",
        "--every",
        "day",
        "--tz",
        "UTC",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--json",
    ];
    println!("query: refboard {}", args.join(" "));
    let new = run(env!("CARGO_BIN_EXE_refboard"), &db, &args, None, 600);
    show("this build", &new);
    if let Ok(old) = std::env::var("REFBOARD_BASELINE_BIN") {
        let limit = std::env::var("REFBOARD_BASELINE_LIMIT_KIB")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(8 * 1024 * 1024);
        let timeout = std::env::var("REFBOARD_BASELINE_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1200);
        let old_db = dir.path().join("stats-memory-v2.db");
        copy_as_schema_2(&db, &old_db);
        let base = run(&old, &old_db, &args, Some(limit), timeout);
        show("baseline", &base);
    }
    println!(
        "goal: peak RSS <= {} MB: {}",
        GOAL_KIB / 1024,
        if new.exit == 0 && new.peak_kib <= GOAL_KIB {
            "met"
        } else {
            "NOT met"
        }
    );
}
