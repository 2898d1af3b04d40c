//! The conversion figures of a year (issue #21 item 5): 10,000,000
//! referrals and 1,000,000 conversions, by link, beside a naive SQL join
//! that does the same attribution, in the same run.
//!
//! ```text
//! cargo bench --bench conversions
//! REFBOARD_BENCH_SCALE=0.01 cargo bench --profile dev --bench conversions   # a quick look
//! ```
//! The referrals are the year store of `benches/common` (200 links, 200,000
//! people, cached under `target/tmp/`, shared with the other benches). The
//! conversions are added to it once (one transaction, one prepared
//! statement; a marker file remembers them): people drawn from the same
//! 200,000, times uniform over 2025, 30% "conversation started", the rest
//! goals `order`, `signup` and `booking`, 60% of them with a value (70% EUR,
//! 30% USD).
//!
//! Reported:
//! - the kept credit rebuilt from scratch (what a change of settings costs);
//! - the median of the figures (`stats::conversions::conversions`) for the
//!   year by link, UTC and Europe/Berlin, from the kept credit, and the peak
//!   heap they allocate (a counting allocator; SQLite's own page cache,
//!   at most 64 MiB per connection, is outside it);
//! - peak RSS and time of the CLI `stats --conversions-csv` for the year as a
//!   child process (`wait4`), the referral figures included;
//! - the baseline: one SQL statement that credits every conversion of the
//!   year to the last referral of the same page and person in the 7 days
//!   before (ties to the smallest id) and counts per ref, stopped after
//!   `REFBOARD_BASELINE_LIMIT_SECS` (default 600).

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use refboard::stats::conversions::conversions;
use refboard::stats::{GroupBy, StatsQuery, query};
use refboard::store::Store;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::{DAY_MS, PAGE_ID, PEOPLE, START_MS, scaled, year_store};

/// Counts live heap bytes and their peak.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak heap above what was live when `f` started, and `f`'s answer.
fn heap_peak<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (PEAK.load(Ordering::Relaxed).saturating_sub(base), out)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Adds `m` conversions to the store once (a marker file remembers).
fn add_conversions(path: &Path, m: usize) {
    let marker = path.with_file_name(format!("conversions-{m}"));
    if marker.exists() {
        return;
    }
    let t = Instant::now();
    let store = Store::open(path).expect("open");
    let conn = store.connection();
    conn.execute_batch("BEGIN IMMEDIATE; DELETE FROM conversion_events;")
        .expect("begin");
    {
        let mut stmt = conn
            .prepare(
                "INSERT INTO conversion_events (event_id, platform, page_id, sender_hash, ts_ms,
                    kind, goal, value_micros, currency, origin, received_at_ms)
                 VALUES (?1, 'messenger', ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?4)",
            )
            .expect("prepare");
        let mut rng = fastrand::Rng::with_seed(21);
        for i in 0..m {
            let ts = START_MS + rng.i64(0..365 * DAY_MS);
            let goal = match rng.u8(..10) {
                0..=2 => None,
                3..=6 => Some("order"),
                7..=8 => Some("signup"),
                _ => Some("booking"),
            };
            let value = (goal.is_some() && rng.u8(..10) < 6).then(|| {
                let cur = if rng.u8(..10) < 7 { "EUR" } else { "USD" };
                (rng.i64(1..200_000_000), cur)
            });
            stmt.execute(rusqlite::params![
                format!("c{i:010}"),
                PAGE_ID,
                format!("{:032x}", rng.u64(..PEOPLE)),
                ts,
                if goal.is_some() {
                    "conversion"
                } else {
                    "conversation"
                },
                goal,
                value.map(|v| v.0),
                value.map(|v| v.1),
            ])
            .expect("insert");
        }
    }
    conn.execute_batch("COMMIT").expect("commit");
    std::fs::write(&marker, b"ok").expect("marker");
    eprintln!(
        "(setup: {m} conversions in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
}

fn year_query(tz: &str) -> StatsQuery {
    let mut q = StatsQuery::new(GroupBy::Link, tz.parse().expect("zone"));
    q.from = Some("2025-01-01".parse().expect("date"));
    q.to = Some("2025-12-31".parse().expect("date"));
    q.top = 200;
    q
}

/// Median time and largest heap peak of `runs` figure queries in `tz`.
fn time_figures(store: &Store, tz: &str, runs: usize) -> (Duration, usize, u64) {
    let q = year_query(tz);
    let report = query(store, &q).expect("report");
    let (mut times, mut peak, mut total) = (Vec::new(), 0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        let (p, c) = heap_peak(|| conversions(store, &q, &report).expect("figures"));
        times.push(t.elapsed());
        peak = peak.max(p);
        total = c.totals.figures.conversions;
    }
    times.sort();
    (times[times.len() / 2], peak, total)
}

/// The naive join: every conversion of the year with its credited
/// referral (last in 7 days, ties to the smallest id), counted per ref.
/// Stopped after `limit`; `None` then.
fn baseline(store: &Store, limit: Duration) -> Option<(Duration, u64)> {
    let conn = store.connection();
    let interrupt = conn.get_interrupt_handle();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            interrupt.interrupt();
        }
    });
    let t = Instant::now();
    let from = START_MS;
    let to = START_MS + 365 * DAY_MS;
    let result = conn.query_row(
        "WITH credited AS (
             SELECT c.id AS cid, r.ref AS ref,
                    row_number() OVER (PARTITION BY c.id ORDER BY r.ts_ms DESC, r.id ASC) AS rn
             FROM conversion_events c
             LEFT JOIN referral_events r
               ON r.page_id = c.page_id AND r.sender_hash = c.sender_hash
              AND r.ts_ms BETWEEN c.ts_ms - ?3 AND c.ts_ms
             WHERE c.ts_ms >= ?1 AND c.ts_ms < ?2 AND c.kind = 'conversion')
         SELECT count(*) FROM (SELECT ref, count(*) FROM credited WHERE rn = 1 GROUP BY ref)",
        rusqlite::params![from, to, 7 * DAY_MS],
        |r| r.get::<_, i64>(0),
    );
    let elapsed = t.elapsed();
    let _ = done_tx.send(());
    watchdog.join().expect("watchdog");
    result
        .ok()
        .map(|groups| (elapsed, u64::try_from(groups).unwrap_or(0)))
}

/// Peak RSS (KiB) and wall time of `refboard stats --conversions-csv` for the year.
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
            "--tz",
            "UTC",
            "--from",
            "2025-01-01",
            "--to",
            "2025-12-31",
            "--top",
            "200",
            "--conversions-csv",
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

fn main() {
    let n = scaled(10_000_000, 1000);
    let m = scaled(1_000_000, 100);
    let path = year_store(n);
    add_conversions(&path, m);
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    let store = Store::open(&path).expect("open");
    // A rebuild from scratch, as after a change of settings.
    store
        .connection()
        .execute("DELETE FROM settings WHERE key = 'credit_stamp'", [])
        .expect("forget");
    let q = year_query("UTC");
    let report = query(&store, &q).expect("report");
    let t = Instant::now();
    let (rebuild_heap, _) = heap_peak(|| conversions(&store, &q, &report).expect("rebuild"));
    let rebuild = t.elapsed();
    drop(store);
    let (peak_kib, cli_time, exit) = cli_run(&path);
    assert_eq!(exit, 0, "the CLI query failed");
    let store = Store::open(&path).expect("open");
    let runs = if n >= 1_000_000 { 11 } else { 21 };
    let (utc, utc_heap, total) = time_figures(&store, "UTC", runs);
    let (berlin, berlin_heap, _) = time_figures(&store, "Europe/Berlin", runs);
    let limit = Duration::from_secs(
        std::env::var("REFBOARD_BASELINE_LIMIT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(600),
    );
    let base = baseline(&store, limit);
    println!(
        "conversions bench: {n} referrals, {m} conversion events ({total} conversions in 2025 by link)"
    );
    println!(
        "kept credit rebuilt from scratch: {:.1} ms, heap peak {:.1} MB",
        ms(rebuild),
        rebuild_heap as f64 / 1e6
    );
    println!(
        "figures, year by link, median of {runs}: UTC {:.1} ms (heap peak {:.1} MB), Europe/Berlin {:.1} ms (heap peak {:.1} MB)",
        ms(utc),
        utc_heap as f64 / 1e6,
        ms(berlin),
        berlin_heap as f64 / 1e6
    );
    println!(
        "CLI stats --conversions-csv for the year: {:.2} s, peak RSS {:.1} MB",
        cli_time.as_secs_f64(),
        peak_kib as f64 / 1024.0
    );
    match base {
        Some((t, groups)) => println!(
            "baseline naive SQL join: {:.1} ms ({groups} refs), {:.0}x the kept figures (UTC)",
            ms(t),
            t.as_secs_f64() / utc.as_secs_f64()
        ),
        None => println!(
            "baseline naive SQL join: stopped after {} s without an answer (over {:.0}x the kept figures)",
            limit.as_secs(),
            limit.as_secs_f64() / utc.as_secs_f64()
        ),
    }
}
