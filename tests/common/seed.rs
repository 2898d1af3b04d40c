//! Stores seeded by hand for the stats, store and UI tests: Jasper's Market,
//! its channels, campaigns and links, and referral events, all through the
//! real `Store` API (the same validation every front end uses).

use refboard::model::{
    Campaign, ChannelKind, Kind, NewCampaign, NewLink, NewPage, Page, Platform, ReferralEvent,
};
use refboard::store::Store;

/// The Facebook Page ID of Jasper's Market in every seeded store.
pub const PAGE_ID: &str = "104729178032417";

/// Adds Jasper's Market (display name "Jasper's Market", Page ID [`PAGE_ID`]).
pub fn jaspers_market(store: &mut Store) -> Page {
    store
        .add_page(&NewPage::parse("JaspersMarket", Some("Jasper's Market"), Some(PAGE_ID)).unwrap())
        .unwrap()
}

/// Adds a channel to `page` and returns its id.
pub fn channel(store: &mut Store, page: i64, name: &str, kind: ChannelKind) -> i64 {
    store.add_channel(page, name, kind).unwrap().id
}

/// Adds a campaign without dates to `page`.
pub fn campaign(store: &mut Store, page: i64, name: &str) -> Campaign {
    store
        .add_campaign(page, &NewCampaign::parse(name, None, None, None).unwrap())
        .unwrap()
}

/// Adds the link `ref_code` (call to action `cta`, if any) and returns its id.
pub fn link(
    store: &mut Store,
    page: i64,
    campaign: i64,
    channel: i64,
    ref_code: &str,
    cta: Option<&str>,
) -> i64 {
    let (l, _) = NewLink::parse(ref_code, cta, None, None).unwrap();
    store
        .add_link(page, campaign, channel, &l)
        .unwrap()
        .0
        .link
        .id
}

/// Milliseconds since the epoch of an RFC 3339 instant.
pub fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

/// A Messenger referral to Jasper's Market through an m.me link
/// (`SHORTLINK`), received when it happened. Tests change other fields
/// with struct update syntax.
pub fn referral(id: String, at_ms: i64, kind: Kind, ref_code: &str, sender: &str) -> ReferralEvent {
    ReferralEvent {
        event_id: id,
        platform: Platform::Messenger,
        page_id: PAGE_ID.into(),
        sender: sender.into(),
        timestamp_ms: at_ms,
        kind,
        ref_code: Some(ref_code.into()),
        source: Some("SHORTLINK".into()),
        ref_type: None,
        ad_id: None,
        ad_title: None,
        referer_uri: None,
        received_at_ms: at_ms,
    }
}
