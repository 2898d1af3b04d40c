//! `refboard demo`: a first run with nothing to configure. A relay on
//! loopback with generated secrets, a month of simulated referral traffic
//! for a sample page, and a demo database already connected to that relay.

use crate::model::{ChannelKind, NewCampaign, NewLink, NewPage};
use crate::relay::{RelayConfig, RelayHandle, start};
use crate::simulate::{SimulateConfig, generate, send};
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

/// Sets up the demo in `dir`: relay, sample catalog, `events` simulated
/// referrals over 30 days, first sync. Returns the running relay.
pub fn prepare(dir: &Path, events: usize) -> anyhow::Result<Demo> {
    let secret = |n| random_key().map(|k| hex::encode(&k[..n]));
    let app_secret = secret(16)?;
    let api_token = secret(24)?;
    let relay = start(
        RelayConfig {
            data: dir.join("relay.db"),
            app_secret: app_secret.clone(),
            verify_token: secret(8)?,
            api_token: api_token.clone(),
            forward: None,
        },
        "127.0.0.1:0".parse().context("loopback address")?,
    )?;
    let mut store = Store::open(&dir.join("demo.db"))?;
    let mut refs = sample_catalog(&mut store)?;
    // A typo'd ref on a printed flyer: shows up as untracked.
    refs.push("freeshiping".into());
    let sim = SimulateConfig {
        relay_url: relay.url(),
        app_secret,
        events,
        days: 30,
        refs,
        seed: 42,
        page_id: DEMO_PAGE_ID.into(),
        end_ms: chrono::Utc::now().timestamp_millis(),
        concurrency: 4,
    };
    let (bodies, _) = generate(&sim).map_err(|e| anyhow::anyhow!("{e}"))?;
    send(&sim, &bodies)?;
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

/// Adds the sample page, its channels, campaigns and links; returns the
/// links' refs.
fn sample_catalog(store: &mut Store) -> anyhow::Result<Vec<String>> {
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
    let spring = store
        .add_campaign(
            page.id,
            &NewCampaign::parse("Spring Sale", None, None, Some("Seasonal discounts"))?,
        )?
        .id;
    let always = store
        .add_campaign(page.id, &NewCampaign::parse("Always on", None, None, None)?)?
        .id;
    let links = [
        (
            "jaspersmarketnewsletter",
            always,
            channels[0],
            "Get our weekly deals in Messenger",
        ),
        (
            "jaspersmarketFBad",
            spring,
            channels[1],
            "Get free coupon in Messenger",
        ),
        (
            "freeshipping",
            spring,
            channels[2],
            "Get free shipping: message us",
        ),
        (
            "exclusiveinvite",
            always,
            channels[3],
            "Get an exclusive invite in Messenger",
        ),
        (
            "website-footer",
            always,
            channels[3],
            "Chat with us in Messenger",
        ),
    ];
    for (r, cm, ch, cta) in links {
        let (new, _) = NewLink::parse(r, Some(cta), None, None)?;
        store.add_link(page.id, cm, ch, &new)?;
    }
    Ok(links.iter().map(|l| l.0.to_string()).collect())
}
