//! Stats queries on a real store: time zones, buckets, groups, untracked refs.

use refboard::model::{ChannelKind, Kind, NewCampaign, NewLink, NewPage, Platform, ReferralEvent};
use refboard::stats::{Every, GroupBy, StatsQuery, parse_tz, query};
use refboard::store::Store;

fn event(
    i: usize,
    ts: &str,
    kind: Kind,
    ref_code: &str,
    sender: &str,
    source: &str,
) -> ReferralEvent {
    let ts_ms = chrono::DateTime::parse_from_rfc3339(ts)
        .unwrap()
        .timestamp_millis();
    ReferralEvent {
        event_id: format!("e{i}"),
        platform: Platform::Messenger,
        page_id: "104729178032417".into(),
        sender: sender.into(),
        timestamp_ms: ts_ms,
        kind,
        ref_code: Some(ref_code.into()),
        source: Some(source.into()),
        ref_type: None,
        ad_id: None,
        ad_title: None,
        referer_uri: None,
        received_at_ms: ts_ms,
    }
}

fn store(dir: &std::path::Path) -> Store {
    let mut store = Store::open(&dir.join("s.db")).unwrap();
    let page = store
        .add_page(
            &NewPage::parse("JaspersMarket", Some("Jasper's"), Some("104729178032417")).unwrap(),
        )
        .unwrap();
    let news = store
        .add_channel(page.id, "Newsletter", ChannelKind::Email)
        .unwrap();
    let ads = store
        .add_channel(page.id, "FB ad", ChannelKind::FacebookAd)
        .unwrap();
    let cm = store
        .add_campaign(
            page.id,
            &NewCampaign::parse("Spring", None, None, None).unwrap(),
        )
        .unwrap();
    let (a, _) = NewLink::parse("jaspersmarketnewsletter", None, None, None).unwrap();
    let (b, _) = NewLink::parse("jaspersmarketFBad", None, None, None).unwrap();
    store.add_link(page.id, cm.id, news.id, &a).unwrap();
    store.add_link(page.id, cm.id, ads.id, &b).unwrap();
    let events = vec![
        event(
            1,
            "2026-03-01T10:00:00Z",
            Kind::New,
            "jaspersmarketnewsletter",
            "p1",
            "SHORTLINK",
        ),
        // 23:30 UTC is already the next day in Berlin (UTC+1) and in Kolkata (UTC+5:30).
        event(
            2,
            "2026-03-01T23:30:00Z",
            Kind::Returning,
            "jaspersmarketnewsletter",
            "p1",
            "SHORTLINK",
        ),
        // 18:20 UTC is 23:50 in Kolkata, still March 1; 18:40 is 00:10 on March 2.
        event(
            3,
            "2026-03-01T18:20:00Z",
            Kind::New,
            "jaspersmarketFBad",
            "p2",
            "ADS",
        ),
        event(
            4,
            "2026-03-01T18:40:00Z",
            Kind::Returning,
            "jaspersmarketFBad",
            "p2",
            "ADS",
        ),
        event(
            5,
            "2026-03-02T12:00:00Z",
            Kind::New,
            "typo_ref",
            "p3",
            "SHORTLINK",
        ),
    ];
    // Ingest twice: the second time adds nothing.
    assert_eq!(store.ingest(&events, None).unwrap(), 5);
    assert_eq!(store.ingest(&events, None).unwrap(), 0);
    store
}

fn day_counts(store: &Store, tz: &str, by: GroupBy) -> Vec<(String, Vec<(String, u64)>)> {
    let mut q = StatsQuery::new(by, parse_tz(tz).unwrap());
    q.from = Some("2026-03-01".parse().unwrap());
    q.to = Some("2026-03-02".parse().unwrap());
    q.every = Some(Every::Day);
    let r = query(store, &q).unwrap();
    r.groups
        .into_iter()
        .map(|g| {
            (
                g.key,
                g.series
                    .into_iter()
                    .map(|p| (p.bucket, p.referrals))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn days_follow_the_time_zone_including_half_hour_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let d = |a: u64, b: u64| vec![("2026-03-01".to_string(), a), ("2026-03-02".to_string(), b)];
    assert_eq!(
        day_counts(&s, "UTC", GroupBy::Link),
        vec![
            ("jaspersmarketFBad".into(), d(2, 0)),
            ("jaspersmarketnewsletter".into(), d(2, 0))
        ]
    );
    assert_eq!(
        day_counts(&s, "Europe/Berlin", GroupBy::Link),
        vec![
            ("jaspersmarketFBad".into(), d(2, 0)),
            ("jaspersmarketnewsletter".into(), d(1, 1))
        ]
    );
    assert_eq!(
        day_counts(&s, "Asia/Kolkata", GroupBy::Link),
        vec![
            ("jaspersmarketFBad".into(), d(1, 1)),
            ("jaspersmarketnewsletter".into(), d(1, 1))
        ]
    );
}

#[test]
fn groups_totals_people_and_untracked_refs() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let mut q = StatsQuery::new(GroupBy::Channel, parse_tz("UTC").unwrap());
    q.every = Some(Every::Hour);
    let r = query(&s, &q).unwrap();
    assert_eq!(r.totals.referrals, 5);
    assert_eq!(r.totals.unique_people, 3);
    assert_eq!((r.totals.new, r.totals.returning), (3, 2));
    let keys: Vec<(&str, u64, u64)> = r
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.referrals, g.unique_people))
        .collect();
    assert_eq!(
        keys,
        [("FB ad", 2, 1), ("Newsletter", 2, 1), ("(untracked)", 1, 1)]
    );
    assert_eq!(
        r.groups[0].series.len(),
        48,
        "hourly buckets over two days, zeros included"
    );
    assert_eq!(r.untracked_refs.len(), 1);
    assert_eq!(r.untracked_refs[0].ref_code, "typo_ref");
    assert_eq!(r.untracked_refs[0].referrals, 1);

    let by_kind = query(&s, &StatsQuery::new(GroupBy::Kind, chrono_tz::UTC)).unwrap();
    let kinds: Vec<(&str, u64, u64, u64)> = by_kind
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.referrals, g.new, g.returning))
        .collect();
    assert_eq!(kinds, [("new", 3, 3, 0), ("returning", 2, 0, 2)]);
    let by_source = query(&s, &StatsQuery::new(GroupBy::Source, chrono_tz::UTC)).unwrap();
    assert_eq!(by_source.groups[0].key, "SHORTLINK");
    assert_eq!(by_source.groups[0].referrals, 3);
    let by_page = query(&s, &StatsQuery::new(GroupBy::Page, chrono_tz::UTC)).unwrap();
    assert_eq!(by_page.groups[0].key, "Jasper's");

    let mut month = StatsQuery::new(GroupBy::Campaign, chrono_tz::UTC);
    month.every = Some(Every::Month);
    let r = query(&s, &month).unwrap();
    assert_eq!(r.groups[0].key, "Spring");
    assert_eq!(
        r.groups[0].series,
        vec![refboard::stats::Point {
            bucket: "2026-03".into(),
            referrals: 4,
            new: 2,
            returning: 2
        }]
    );
}

#[test]
fn a_range_filters_and_bad_options_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let mut q = StatsQuery::new(GroupBy::Ref, chrono_tz::UTC);
    q.from = Some("2026-03-02".parse().unwrap());
    q.to = Some("2026-03-02".parse().unwrap());
    let r = query(&s, &q).unwrap();
    assert_eq!(r.totals.referrals, 1);
    assert_eq!(r.totals.unique_people, 1);
    q.to = Some("2026-03-01".parse().unwrap());
    assert!(
        query(&s, &q)
            .unwrap_err()
            .to_string()
            .contains("ends before it starts")
    );
    assert!(
        parse_tz("Mars/Olympus")
            .unwrap_err()
            .to_string()
            .contains("IANA")
    );
    assert!("fortnight".parse::<Every>().is_err());
    assert!("colour".parse::<GroupBy>().is_err());
    let empty = Store::open(&dir.path().join("empty.db")).unwrap();
    assert!(
        query(&empty, &StatsQuery::new(GroupBy::Link, chrono_tz::UTC))
            .unwrap()
            .groups
            .is_empty()
    );
}

#[test]
fn a_page_filter_keeps_only_that_pages_referrals() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let mut other = event(
        9,
        "2026-03-01T12:00:00Z",
        Kind::New,
        "jaspersmarketnewsletter",
        "p9",
        "SHORTLINK",
    );
    other.page_id = "205839201948372".into();
    s.ingest(&[other], None).unwrap();
    let all = query(&s, &StatsQuery::new(GroupBy::Ref, chrono_tz::UTC)).unwrap();
    assert_eq!(all.totals.referrals, 6);
    let mut q = StatsQuery::new(GroupBy::Ref, chrono_tz::UTC);
    q.page_id = Some("104729178032417".into());
    let one = query(&s, &q).unwrap();
    assert_eq!(one.totals.referrals, 5);
    assert_eq!(one.totals.unique_people, 3);
    let by_page = query(&s, &StatsQuery::new(GroupBy::Page, chrono_tz::UTC)).unwrap();
    let keys: Vec<(&str, u64)> = by_page
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.referrals))
        .collect();
    assert_eq!(keys, [("Jasper's", 5), ("205839201948372", 1)]);
}
