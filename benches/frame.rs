//! Dashboard frame times, headless (egui_kittest, no GPU: CPU time of the
//! UI pass and tessellation), beside an empty-screen baseline from the same run.
//!
//! ```text
//! cargo bench --bench frame             # everything
//! cargo bench --bench frame -- drain    # only the 10,000-queued-events frames
//! ```
//! The drain part needs no store: it feeds the real App through a detached
//! worker handle. The rest uses the 10,000,000-event year store of
//! `benches/common` (built on first use, shared with the pipeline and
//! uniques benches). `REFBOARD_BENCH_SCALE` scales it.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use egui_kittest::Harness;
use refboard::model::{NewCampaign, NewLink, NewPage, PageId, Warning};
use refboard::stats::{Every, GroupBy, StatsQuery, query};
use refboard::store::{LinkFilter, Store};
use refboard::ui::{App, Tab, UiState};
use refboard::worker::{Event, Job, Snapshot, detached};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod common;

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// The shared year store (`benches/common`), built on first use.
fn stats_db() -> PathBuf {
    common::year_store(common::scaled(10_000_000, 1))
}

fn harness(db: PathBuf, state: UiState) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| App::new(&cc.egui_ctx, db, state))
}

/// CPU time of `frames` single frames (one `step` each).
fn frame_times(h: &mut Harness<'static, App>, frames: usize) -> Vec<Duration> {
    (0..frames)
        .map(|_| {
            let t = Instant::now();
            h.step();
            t.elapsed()
        })
        .collect()
}

/// A snapshot like a real page's: 200 links.
fn snapshot() -> Snapshot {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("snap.db")).unwrap();
    let page = store
        .add_page(&NewPage::parse("JaspersMarket", None, Some("104729178032417")).unwrap())
        .unwrap();
    let channel = store
        .add_channel(page.id, "Flyers", refboard::model::ChannelKind::Flyer)
        .unwrap();
    let campaign = store
        .add_campaign(
            page.id,
            &NewCampaign::parse("Spring Sale", None, None, None).unwrap(),
        )
        .unwrap();
    for i in 0..200 {
        let (l, _) =
            NewLink::parse(&format!("flyer_{i:03}"), Some("Get a coupon"), None, None).unwrap();
        store
            .add_link(page.id, campaign.id, channel.id, &l)
            .unwrap();
    }
    Snapshot {
        pages: store.pages().unwrap(),
        page: Some(PageId(page.id)),
        links: store.links(&LinkFilter::default()).unwrap(),
        ..Snapshot::default()
    }
}

/// Frames while 10,000 events are queued: each frame drains under its 4 ms
/// budget and draws; returns (frames with events queued, empty frames after).
fn drain_frames(rounds: usize) -> (Vec<Duration>, Vec<Duration>) {
    let (worker, peer) = detached();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |_| App::with_worker(worker, UiState::default()));
    peer.events
        .send(Event::Loaded(Box::new(snapshot())))
        .unwrap();
    for _ in 0..10 {
        h.step();
    }
    let mut busy = Vec::new();
    let mut idle = Vec::new();
    for round in 0..rounds {
        let target = h.state().events_applied + 10_000;
        // What a sync and a flood of saves send: progress, notices, warnings.
        for i in 0..10_000usize {
            let e = match i % 3 {
                0 => Event::Progress(Job::Sync, i, 10_000),
                1 => Event::Notice(format!("Saved link flyer_{i}")),
                _ => Event::Warnings(vec![Warning::new(
                    "ref",
                    format!("warning {i} of round {round}"),
                )]),
            };
            peer.events.send(e).unwrap();
        }
        while h.state().events_applied < target {
            let t = Instant::now();
            h.step();
            busy.push(t.elapsed());
        }
        idle.extend(frame_times(&mut h, 20));
    }
    (busy, idle)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let (busy, idle) = drain_frames(20);
    println!(
        "frame: 10,000 queued events: {} frames, p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms per frame (budget 8 ms at p95); baseline same screen with nothing queued: p50 {:.2} ms, p95 {:.2} ms",
        busy.len(),
        ms(percentile(busy.clone(), 0.5)),
        ms(percentile(busy.clone(), 0.95)),
        ms(percentile(busy, 1.0)),
        ms(percentile(idle.clone(), 0.5)),
        ms(percentile(idle, 0.95)),
    );
    if std::env::args().any(|a| a == "drain") {
        return;
    }
    let db = stats_db();
    let events = Store::open(&db).unwrap().event_count().unwrap();

    // First frame on the big store: the UI must not wait for the database.
    let t = Instant::now();
    let mut h = harness(db.clone(), UiState::default());
    h.step();
    let first_frame = t.elapsed();
    let t = Instant::now();
    while !h.state().loaded {
        h.step();
        std::thread::sleep(Duration::from_millis(1));
    }
    let loaded = t.elapsed() + first_frame;

    // A report of 50 series × 365 days, from the real store.
    let mut q = StatsQuery::new(GroupBy::Link, chrono_tz::UTC);
    q.from = Some("2025-01-01".parse().unwrap());
    q.to = Some("2025-12-31".parse().unwrap());
    q.every = Some(Every::Day);
    q.unique_people = false;
    let mut report = query(&Store::open(&db).unwrap(), &q).unwrap();
    report.groups.truncate(50);
    assert_eq!(report.groups[0].series.len(), 365);

    let mut analytics = harness(
        db.clone(),
        UiState {
            tab: Tab::Analytics,
            ..UiState::default()
        },
    );
    analytics.step();
    while !analytics.state().loaded {
        analytics.step();
        std::thread::sleep(Duration::from_millis(1));
    }
    // Let the automatic query land, then show the big report.
    std::thread::sleep(Duration::from_millis(300));
    analytics.step();
    analytics.state_mut().report = Some(report);
    frame_times(&mut analytics, 10);
    let chart = frame_times(&mut analytics, 200);

    // Baseline: the empty Backend screen in the same run.
    let empty_dir = tempfile::tempdir().unwrap();
    let mut empty = harness(
        empty_dir.path().join("empty.db"),
        UiState {
            tab: Tab::Backend,
            ..UiState::default()
        },
    );
    empty.step();
    frame_times(&mut empty, 10);
    let base = frame_times(&mut empty, 200);

    println!(
        "frame: first frame with {events} events in the store after {:.1} ms (data shown after {:.0} ms); analytics 50 series × 365 days: p50 {:.2} ms, p95 {:.2} ms per frame; baseline empty screen: p50 {:.2} ms, p95 {:.2} ms",
        first_frame.as_secs_f64() * 1e3,
        loaded.as_secs_f64() * 1e3,
        percentile(chart.clone(), 0.5).as_secs_f64() * 1e3,
        percentile(chart, 0.95).as_secs_f64() * 1e3,
        percentile(base.clone(), 0.5).as_secs_f64() * 1e3,
        percentile(base, 0.95).as_secs_f64() * 1e3,
    );
}
