//! Exact unique people for 200 links × 365 days over 10,000,000 events
//! (issue #10, item 11), beside `COUNT(DISTINCT sender_hash)` over the same
//! range in the same run.
//!
//! ```text
//! cargo bench --bench uniques
//! REFBOARD_BENCH_SCALE=0.1 cargo bench --profile dev --bench uniques   # 1,000,000 events
//! ```
//! The store (200 links, 200,000 people, events uniform over 365 days, as
//! in `benches/pipeline.rs`, ingested in time order as a sync delivers
//! them) is built once and cached under `target/tmp/` per schema version.
//! Reported: the median of the stats query with unique people (in-process),
//! the same query without them (rollups only), the baseline, and the peak
//! memory (`wait4`'s `ru_maxrss`) and time of the CLI child
//! `refboard stats --by link … --json` over the same year.

use refboard::model::{ChannelKind, Kind, NewCampaign, NewLink, NewPage, Platform, ReferralEvent};
use refboard::stats::{Every, GroupBy, StatsQuery, query};
use refboard::store::{SCHEMA_VERSION, Store};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PAGE_ID: &str = "104729178032417";
const DAY_MS: i64 = 86_400_000;
const START_MS: i64 = 1_735_689_600_000; // 2025-01-01T00:00:00Z
const PEOPLE: u64 = 200_000;

fn scale() -> f64 {
    std::env::var("REFBOARD_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// `n` events over 200 links from 200,000 people, at times drawn between
/// `from_ms` and `to_ms`, in time order (as a sync delivers them).
fn events(n: usize, seed: u64, from_ms: i64, to_ms: i64) -> Vec<ReferralEvent> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut times: Vec<i64> = (0..n).map(|_| rng.i64(from_ms..to_ms)).collect();
    times.sort_unstable();
    times
        .into_iter()
        .enumerate()
        .map(|(i, ts)| ReferralEvent {
            event_id: format!("{ts:012x}{seed:04x}{i:016x}"),
            platform: Platform::Messenger,
            page_id: PAGE_ID.into(),
            sender: format!("{:032x}", rng.u64(..PEOPLE)),
            timestamp_ms: ts,
            kind: if rng.u8(..10) < 4 {
                Kind::Returning
            } else {
                Kind::New
            },
            ref_code: Some(format!("ref{:03}", rng.usize(..200))),
            source: Some(
                if rng.u8(..10) == 0 {
                    "ADS"
                } else {
                    "SHORTLINK"
                }
                .into(),
            ),
            ref_type: Some("OPEN_THREAD".into()),
            ad_id: None,
            ad_title: None,
            referer_uri: None,
            received_at_ms: ts + 1000,
        })
        .collect()
}

/// The cached store of `n` events, built on first use.
fn bench_store(n: usize) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-uniques-{n}-v{SCHEMA_VERSION}"));
    let path = dir.join("stats.db");
    if dir.join("done").exists() {
        return path;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    let mut store = Store::open(&path).expect("store");
    let page = store
        .add_page(&NewPage::parse("JaspersMarket", None, Some(PAGE_ID)).expect("page"))
        .expect("add page");
    let cm = store
        .add_campaign(
            page.id,
            &NewCampaign::parse("Always on", None, None, None).expect("campaign"),
        )
        .expect("add campaign");
    let ch = store
        .add_channel(page.id, "Everywhere", ChannelKind::Other)
        .expect("add channel");
    for i in 0..200 {
        let (l, _) = NewLink::parse(&format!("ref{i:03}"), None, None, None).expect("link");
        store.add_link(page.id, cm.id, ch.id, &l).expect("add link");
    }
    // The year in 40 slices of events, uniform over the year as a whole.
    let slices = 40usize;
    let year_ms = 365 * DAY_MS;
    let t = Instant::now();
    for c in 0..slices {
        let (from, to) = (c * n / slices, (c + 1) * n / slices);
        let lo = START_MS + year_ms * c as i64 / slices as i64;
        let hi = START_MS + year_ms * (c as i64 + 1) / slices as i64;
        let evs = events(to - from, 100 + c as u64, lo, hi);
        store.ingest(&evs, None).expect("ingest");
    }
    eprintln!(
        "(setup: {n} events ingested in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    std::fs::write(dir.join("done"), b"ok").expect("done mark");
    path
}

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
    let n = ((10_000_000.0 * scale()) as usize).max(1000);
    if std::env::var_os(BUILD_ENV).is_some() {
        bench_store(n);
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
    let path = bench_store(n);
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
