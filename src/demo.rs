//! `refboard demo`: a first run with nothing to configure. A relay on
//! loopback with generated secrets, five months of simulated referral
//! traffic for a sample page, and a demo database already connected to that
//! relay.
//!
//! The traffic tells a story, so every card and comparison reads as it
//! would for a real page (issue 19: a month of data made every comparison
//! absurd): links launched on different days (a holiday campaign three
//! weeks ago, so its links are "new"), a seasonal rise towards December,
//! busier weekends, and two typo'd refs: one already rescued as an alias,
//! one left for the Analytics screen to suggest.

use crate::model::{ChannelKind, NewCampaign, NewLink, NewPage};
use crate::relay::{ConversionOptions, Goal, RelayConfig, RelayHandle, RelayOptions, start_with};
use crate::simulate::{
    DEMO_GOALS, SimulateConfig, Story, StoryRef, generate_story, outcomes, send,
};
use crate::store::{Store, random_key};
use crate::sync::{SyncConfig, sync};
use anyhow::Context;
use std::path::Path;

/// The sample page's numeric id.
pub const DEMO_PAGE_ID: &str = "104729178032417";

/// A running demo backend.
pub struct Demo {
    /// The relay; it stops when dropped.
    pub relay: RelayHandle,
    /// Its API token.
    pub api_token: String,
}

/// Days of simulated traffic: enough for a 90-day range and its previous
/// period to both have data.
pub const DEMO_DAYS: u32 = 150;

/// Sets up the demo in `dir`: relay, sample catalog, `events` simulated
/// referrals over [`DEMO_DAYS`] days, first sync. Returns the running relay.
pub fn prepare(dir: &Path, events: usize) -> anyhow::Result<Demo> {
    let secret = |n| random_key().map(|k| hex::encode(&k[..n]));
    let app_secret = secret(16)?;
    let api_token = secret(24)?;
    // The relay counts the demo's order and booking presses as
    // conversions, and first messages as conversations (issue 21).
    let goals = DEMO_GOALS
        .iter()
        .map(|g| Goal::parse(g))
        .collect::<Result<Vec<_>, _>>()?;
    let options = RelayOptions {
        conversions: ConversionOptions {
            goals,
            conversations: true,
            ..ConversionOptions::default()
        },
        ..RelayOptions::default()
    };
    let relay = start_with(
        RelayConfig {
            data: dir.join("relay.db"),
            app_secret: app_secret.clone(),
            verify_token: secret(8)?,
            api_token: api_token.clone(),
            forward: None,
        },
        options,
        "127.0.0.1:0".parse().context("loopback address")?,
    )?;
    let mut store = Store::open(&dir.join("demo.db"))?;
    let story = sample_catalog(&mut store)?;
    let sim = SimulateConfig {
        relay_url: relay.url(),
        app_secret,
        events,
        days: DEMO_DAYS,
        refs: Vec::new(),
        seed: 42,
        page_id: DEMO_PAGE_ID.into(),
        end_ms: chrono::Utc::now().timestamp_millis(),
        concurrency: 4,
    };
    let (bodies, _) = generate_story(&sim, &story).map_err(|e| anyhow::anyhow!("{e}"))?;
    send(&sim, &bodies)?;
    send(&sim, &outcomes(&bodies, DEMO_PAGE_ID, 43, sim.end_ms))?;
    store.set_backend_url(&relay.url())?;
    // A throwaway database: its token goes to the file beside it, never the
    // user's keyring.
    crate::secrets::save_token_to_file(store.path(), &api_token)?;
    sync(
        &mut store,
        &SyncConfig::new(&relay.url(), &api_token),
        &mut |_| true,
    )?;
    Ok(Demo { relay, api_token })
}

/// A link of the sample catalog: ref, campaign index, channel index, call
/// to action, share of the traffic, and days since its launch.
type SampleLink = (&'static str, usize, usize, &'static str, f64, u32);

/// The sample links, most traffic first within each campaign.
const SAMPLE_LINKS: [SampleLink; 6] = [
    (
        "jaspersmarketnewsletter",
        0,
        0,
        "Get our weekly deals in Messenger",
        5.0,
        150,
    ),
    (
        "jaspersmarketFBad",
        1,
        1,
        "Get free coupon in Messenger",
        3.0,
        60,
    ),
    (
        "freeshipping",
        1,
        2,
        "Get free shipping: message us",
        2.5,
        45,
    ),
    (
        "exclusiveinvite",
        0,
        3,
        "Get an exclusive invite in Messenger",
        1.5,
        100,
    ),
    (
        "website-footer",
        0,
        3,
        "Chat with us in Messenger",
        1.2,
        150,
    ),
    ("holidaygifts", 2, 1, "Find a gift: message us", 4.0, 18),
];

/// A day `ago` days before today, as the campaign form writes it.
fn days_ago(ago: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(ago)).to_string()
}

/// Adds the sample page, its channels, campaigns (two of them dated) and
/// links, and an alias for a typo; returns the traffic's story.
fn sample_catalog(store: &mut Store) -> anyhow::Result<Story> {
    let page = store.add_page(&NewPage::parse(
        "JaspersMarket",
        Some("Jasper's Market"),
        Some(DEMO_PAGE_ID),
    )?)?;
    let mut channels = Vec::new();
    for (name, kind) in [
        ("Newsletter", ChannelKind::Email),
        ("Facebook ads", ChannelKind::FacebookAd),
        ("Store flyer", ChannelKind::Flyer),
        ("Website", ChannelKind::Website),
    ] {
        channels.push(store.add_channel(page.id, name, kind)?.id);
    }
    // The sale ended before the holiday campaign began (their bands on the
    // chart do not overlap); its links still bring people in.
    let (sale_start, sale_end) = (days_ago(60), days_ago(25));
    let (holiday_start, holiday_end) = (days_ago(18), days_ago(-20));
    let campaigns = [
        NewCampaign::parse("Always on", None, None, None)?,
        NewCampaign::parse(
            "Spring Sale",
            Some(&sale_start),
            Some(&sale_end),
            Some("Seasonal discounts"),
        )?,
        NewCampaign::parse(
            "Holiday Gifts",
            Some(&holiday_start),
            Some(&holiday_end),
            Some("Gift guide ads until Christmas"),
        )?,
    ];
    let mut campaign_ids = Vec::new();
    for c in &campaigns {
        campaign_ids.push(store.add_campaign(page.id, c)?.id);
    }
    let mut refs = Vec::new();
    let mut newsletter = None;
    for (r, cm, ch, cta, weight, ago) in SAMPLE_LINKS {
        let (new, _) = NewLink::parse(r, Some(cta), None, None)?;
        let (row, _) = store.add_link(page.id, campaign_ids[cm], channels[ch], &new)?;
        let id = row.link.id;
        newsletter = newsletter.or(Some(id));
        refs.push(story_ref(r, weight, ago));
    }
    // A typo in an old newsletter, rescued as an alias: it counts for the link.
    if let Some(id) = newsletter {
        store.add_alias(id, "jaspersmarketnewsleter")?;
    }
    refs.push(story_ref("jaspersmarketnewsleter", 0.25, 150));
    // A typo on a printed flyer: untracked, for the Analytics screen to rescue.
    refs.push(story_ref("freeshiping", 0.3, 45));
    Ok(Story {
        refs,
        season_rise: 2.2,
    })
}

fn story_ref(ref_code: &str, weight: f64, launched_days_ago: u32) -> StoryRef {
    StoryRef {
        ref_code: ref_code.into(),
        weight,
        launched_days_ago,
    }
}
