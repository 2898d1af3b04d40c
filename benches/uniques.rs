//! Exact unique people for 200 links × 365 days over 10,000,000 events
//! (issue #10, item 11), beside `COUNT(DISTINCT sender_hash)` over the same
//! range in the same run.
//!
//! ```text
//! cargo bench --bench uniques
//! REFBOARD_BENCH_SCALE=0.1 cargo bench --profile dev --bench uniques   # 1,000,000 events
//! ```
//! The store is the year store of `benches/common` (200 links, 200,000
//! people, events uniform over 365 days, ingested in time order as a sync
//! delivers them), built once and cached under `target/tmp/` per schema
//! version; the pipeline and frame benches read the same one.
//! Reported: the median of the stats query with unique people (in-process),
//! the same query without them (rollups only), the baseline, and the peak
//! memory (`wait4`'s `ru_maxrss`) and time of the CLI child
//! `refboard stats --by link … --json` over the same year.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use refboard::stats::{Every, GroupBy, StatsQuery, query};
use refboard::store::Store;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{DAY_MS, START_MS, scaled, year_store};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Medians of `runs` runs of the year query in `tz`, with and without people.
fn time_query(store: &Store, tz: &str, runs: usize) -> (Duration, Duration, u64) {
    let mut q = StatsQuery::new(GroupBy::Link, tz.parse().expect("zone"));
    q.from = Some("2025-01-01".parse().expect("date"));
    q.to = Some("2025-12-31".parse().expect("date"));
    q.every = Some(Every::Day);
    q.top = 200;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let mut people = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let r = query(store, &q).expect("query");
        with.push(t.elapsed());
        assert_eq!(r.groups.len(), 200);
        people = r.totals.unique_people;
        let mut rollups_only = q.clone();
        rollups_only.unique_people = false;
        let t = Instant::now();
        query(store, &rollups_only).expect("query");
        without.push(t.elapsed());
    }
    (median(with), median(without), people)
}

/// Peak RSS (KiB) and wall time of the CLI answering the year query.
#[allow(clippy::zombie_processes)] // reaped by wait4, which also reports memory
fn cli_run(db: &Path) -> (u64, Duration, i32) {
    let t = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_refboard"))
        .env_remove("REFBOARD_DB")
        .args(["--db", &db.to_string_lossy()])
        .args([
            "stats",
            "--by",
            "link",
            "--every",
            "day",
            "--tz",
            "UTC",
            "--from",
            "2025-01-01",
            "--to",
            "2025-12-31",
            "--top",
            "200",
            "--json",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the CLI");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    (
        u64::try_from(usage.ru_maxrss).unwrap_or(0),
        t.elapsed(),
        exit,
    )
}

/// Set in the child that builds the store (see `main`).
const BUILD_ENV: &str = "REFBOARD_UNIQUES_BUILD";

fn main() {
    let n = scaled(10_000_000, 1000);
    if std::env::var_os(BUILD_ENV).is_some() {
        year_store(n);
        return;
    }
    // The store is built by a child process, and the CLI is measured before
    // this process opens anything: a spawned child inherits its parent's
    // peak RSS at exec (vfork shares the memory map), so the parent must
    // still be small when it starts the CLI.
    let status = Command::new(std::env::current_exe().expect("own path"))
        .env(BUILD_ENV, "1")
        .status()
        .expect("build the store");
    assert!(status.success(), "building the store failed");
    let path = year_store(n);
    // A store built just now is still being written back by the kernel:
    // flush it first, so the timings do not share the disk and a core with
    // that writeback (the first run after a build measured 104 ms instead
    // of 72 because of it).
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    let (peak_kib, cli_time, exit) = cli_run(&path);
    assert_eq!(exit, 0, "the CLI query failed");
    let store = Store::open(&path).expect("open");
    assert_eq!(store.event_count().expect("count"), n as i64);
    // One untimed round warms the page cache and the kept second connection.
    time_query(&store, "UTC", 1);
    let (utc, utc_rollups, people) = time_query(&store, "UTC", 15);
    let (berlin, berlin_rollups, _) = time_query(&store, "Europe/Berlin", 9);

    // Baseline: COUNT(DISTINCT sender_hash) over the same year, same run.
    let conn = rusqlite::Connection::open(&path).expect("open baseline");
    let mut base = Vec::new();
    let mut distinct = 0;
    for _ in 0..3 {
        let t = Instant::now();
        distinct = conn
            .query_row(
                "SELECT count(DISTINCT sender_hash) FROM referral_events WHERE ts_ms >= ?1 AND ts_ms < ?2",
                [START_MS, START_MS + 365 * DAY_MS],
                |r| r.get::<_, i64>(0),
            )
            .expect("baseline");
        base.push(t.elapsed());
    }
    assert_eq!(people, distinct as u64, "the index and the baseline agree");
    println!(
        "uniques: 200 links × 365 days over {n} events ({people} people): median {:.1} ms with unique people, {:.1} ms without (UTC); Europe/Berlin {:.1} ms with, {:.1} ms without; baseline COUNT(DISTINCT sender_hash) over the same range: median {:.1} ms; CLI `stats --by link --json` over the year: {:.2} s, peak RSS {:.1} MB",
        ms(utc),
        ms(utc_rollups),
        ms(berlin),
        ms(berlin_rollups),
        ms(median(base)),
        cli_time.as_secs_f64(),
        peak_kib as f64 / 1024.0
    );
}
