//! What the benchmarks share: one synthetic year of referrals and the store
//! built from it, cached between runs (pipeline, uniques and frame read the
//! same one).
#![allow(dead_code)]

use refboard::model::{ChannelKind, Kind, NewCampaign, NewLink, NewPage, Platform, ReferralEvent};
use refboard::store::{SCHEMA_VERSION, Store};
use std::path::PathBuf;
use std::time::Instant;

pub const PAGE_ID: &str = "104729178032417";
pub const DAY_MS: i64 = 86_400_000;
/// 2025-01-01T00:00:00Z.
pub const START_MS: i64 = 1_735_689_600_000;
/// Distinct senders the events are drawn from.
pub const PEOPLE: u64 = 200_000;
/// Links (refs `ref000` … `ref199`) of the year store.
pub const LINKS: usize = 200;

/// `REFBOARD_BENCH_SCALE` (default 1): data sets shrink for a quick look.
pub fn scale() -> f64 {
    std::env::var("REFBOARD_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// `n` scaled, at least `min`.
pub fn scaled(n: usize, min: usize) -> usize {
    ((n as f64 * scale()) as usize).max(min)
}

/// `n` deterministic events over `links` refs from [`PEOPLE`] senders, at
/// times drawn in `[from_ms, to_ms)`, in no particular order: 40% returning,
/// 10% from ads.
pub fn events(n: usize, links: usize, from_ms: i64, to_ms: i64, seed: u64) -> Vec<ReferralEvent> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n)
        .map(|i| {
            let ts = rng.i64(from_ms..to_ms);
            ReferralEvent {
                // Time-prefixed, as the relay makes them.
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
                ref_code: Some(format!("ref{:03}", rng.usize(..links))),
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
            }
        })
        .collect()
}

/// Where the year store of `n` events lives, per schema version so that a
/// run never measures an older layout; `done` marks a finished build.
pub fn year_store_path(n: usize) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bench-year-{n}-v{SCHEMA_VERSION}"))
        .join("stats.db")
}

/// The year store of `n` events over 2025 for [`LINKS`] links, built on
/// first use. The year goes in 40 slices, each in time order, as syncs
/// deliver events (a store fed the whole year at random per transaction
/// rewrites every person set of the year each time: over 12 minutes).
pub fn year_store(n: usize) -> PathBuf {
    let path = year_store_path(n);
    let done = path.with_file_name("done");
    if done.exists() {
        return path;
    }
    let dir = path.parent().expect("the store's folder").to_path_buf();
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
    for i in 0..LINKS {
        let (l, _) = NewLink::parse(&format!("ref{i:03}"), None, None, None).expect("link");
        store.add_link(page.id, cm.id, ch.id, &l).expect("add link");
    }
    let slices = 40usize;
    let year_ms = 365 * DAY_MS;
    let t = Instant::now();
    for c in 0..slices {
        let count = (c + 1) * n / slices - c * n / slices;
        let lo = START_MS + year_ms * c as i64 / slices as i64;
        let hi = START_MS + year_ms * (c as i64 + 1) / slices as i64;
        let mut evs = events(count, LINKS, lo, hi, 100 + c as u64);
        evs.sort_by_key(|e| e.timestamp_ms);
        store.ingest(&evs, None).expect("ingest");
    }
    eprintln!(
        "(setup: {n} events ingested in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    std::fs::write(&done, b"ok").expect("done mark");
    path
}
