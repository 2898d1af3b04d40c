//! Stats queries on a real store: time zones, buckets, groups, untracked refs.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use refboard::model::{ChannelKind, Kind, NewPage, Platform, ReferralEvent};
use refboard::stats::{Every, GroupBy, StatsQuery, parse_tz, query};
use refboard::store::Store;

mod common;
use common::seed::{campaign, channel, jaspers_market, link, ms, referral};

fn event(
    i: usize,
    ts: &str,
    kind: Kind,
    ref_code: &str,
    sender: &str,
    source: &str,
) -> ReferralEvent {
    ReferralEvent {
        source: Some(source.into()),
        ..referral(format!("e{i}"), ms(ts), kind, ref_code, sender)
    }
}

fn store(dir: &std::path::Path) -> Store {
    let mut store = Store::open(&dir.join("s.db")).unwrap();
    let page = jaspers_market(&mut store).id;
    let news = channel(&mut store, page, "Newsletter", ChannelKind::Email);
    let ads = channel(&mut store, page, "FB ad", ChannelKind::FacebookAd);
    let cm = campaign(&mut store, page, "Spring").id;
    link(&mut store, page, cm, news, "jaspersmarketnewsletter", None);
    link(&mut store, page, cm, ads, "jaspersmarketFBad", None);
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
    assert_eq!(by_page.groups[0].key, "Jasper's Market");

    let mut month = StatsQuery::new(GroupBy::Campaign, chrono_tz::UTC);
    month.every = Some(Every::Month);
    let r = query(&s, &month).unwrap();
    assert_eq!(r.groups[0].key, "Spring");
    assert_eq!(
        r.groups[0].series,
        vec![refboard::stats::Point {
            bucket: "2026-03".into(),
            start_ms: 1_772_323_200_000,
            utc_offset_secs: 0,
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
    q.page = refboard::model::EventFilter::of(["104729178032417"]);
    let one = query(&s, &q).unwrap();
    assert_eq!(one.totals.referrals, 5);
    assert_eq!(one.totals.unique_people, 3);
    let by_page = query(&s, &StatsQuery::new(GroupBy::Page, chrono_tz::UTC)).unwrap();
    let keys: Vec<(&str, u64)> = by_page
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.referrals))
        .collect();
    assert_eq!(keys, [("Jasper's Market", 5), ("205839201948372", 1)]);
}

fn ev_at(i: usize, ts_ms: i64, ref_code: Option<&str>) -> ReferralEvent {
    ReferralEvent {
        event_id: format!("x{i}"),
        platform: Platform::Messenger,
        page_id: "104729178032417".into(),
        sender: format!("{i:032x}"),
        timestamp_ms: ts_ms,
        kind: Kind::New,
        ref_code: ref_code.map(str::to_string),
        source: Some("SHORTLINK".into()),
        ref_type: None,
        ad_id: None,
        ad_title: None,
        referer_uri: None,
        received_at_ms: ts_ms,
    }
}

#[test]
fn the_repeated_autumn_hour_is_two_buckets_labelled_with_their_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("s.db")).unwrap();
    // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice.
    s.ingest(
        &[
            ev_at(1, ms("2026-10-25T00:30:00Z"), Some("a")), // 02:30 +02:00
            ev_at(2, ms("2026-10-25T01:30:00Z"), Some("a")), // 02:30 +01:00
            ev_at(3, ms("2026-10-25T01:40:00Z"), Some("a")), // 02:40 +01:00
        ],
        None,
    )
    .unwrap();
    let mut q = StatsQuery::new(GroupBy::Ref, parse_tz("Europe/Berlin").unwrap());
    q.from = Some("2026-10-25".parse().unwrap());
    q.to = Some("2026-10-25".parse().unwrap());
    q.every = Some(Every::Hour);
    let r = query(&s, &q).unwrap();
    let series = &r.groups[0].series;
    assert_eq!(series.len(), 25, "a 25-hour day");
    let two: Vec<(&str, i32, u64)> = series[2..4]
        .iter()
        .map(|p| (p.bucket.as_str(), p.utc_offset_secs, p.referrals))
        .collect();
    assert_eq!(
        two,
        [
            ("2026-10-25T02:00+02:00", 7200, 1),
            ("2026-10-25T02:00+01:00", 3600, 2)
        ]
    );
    assert_eq!(series[0].bucket, "2026-10-25T00:00");
    assert_eq!(series[0].start_ms, ms("2026-10-24T22:00:00Z"));
    assert_eq!(series[3].start_ms, ms("2026-10-25T01:00:00Z"));
    assert!(
        series
            .windows(2)
            .all(|w| w[1].start_ms - w[0].start_ms == 3_600_000)
    );
    // Spring forward: 23 buckets, and 02:00 does not exist.
    q.from = Some("2026-03-29".parse().unwrap());
    q.to = Some("2026-03-29".parse().unwrap());
    s.ingest(&[ev_at(4, ms("2026-03-29T10:00:00Z"), Some("a"))], None)
        .unwrap();
    let r = query(&s, &q).unwrap();
    let labels: Vec<&str> = r.groups[0]
        .series
        .iter()
        .map(|p| p.bucket.as_str())
        .collect();
    assert_eq!(labels.len(), 23);
    assert!(!labels.contains(&"2026-03-29T02:00"));
    // Days carry their local midnight and offset too.
    q.every = Some(Every::Day);
    q.from = Some("2026-10-24".parse().unwrap());
    q.to = Some("2026-10-26".parse().unwrap());
    let r = query(&s, &q).unwrap();
    let days: Vec<(i64, i32)> = r.groups[0]
        .series
        .iter()
        .map(|p| (p.start_ms, p.utc_offset_secs))
        .collect();
    assert_eq!(
        days,
        [
            (ms("2026-10-23T22:00:00Z"), 7200),
            (ms("2026-10-24T22:00:00Z"), 7200),
            (ms("2026-10-25T23:00:00Z"), 3600)
        ]
    );
}

#[test]
fn ranges_past_the_limits_are_refused_with_field_value_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let mut q = StatsQuery::new(GroupBy::Ref, chrono_tz::UTC);
    let err = |q: &StatsQuery| query(&s, q).unwrap_err().to_string();
    q.from = Some("0001-01-01".parse().unwrap());
    q.to = Some("9999-12-31".parse().unwrap());
    let e = err(&q);
    assert!(
        e.contains("from") && e.contains("0001-01-01") && e.contains("2004-01-01"),
        "{e}"
    );
    q.from = Some("2004-01-01".parse().unwrap());
    let e = err(&q);
    assert!(
        e.contains("to") && e.contains("9999-12-31") && e.contains("36525"),
        "{e}"
    );
    // A century by month is fine: the cost follows the 1,200 buckets shown.
    q.to = Some("2103-12-31".parse().unwrap());
    q.every = Some(Every::Month);
    let r = query(&s, &q).unwrap();
    assert_eq!(r.groups[0].series.len(), 100 * 12);
    assert_eq!(r.totals.referrals, 5);
    // Too many buckets for the bucket size.
    q.every = Some(Every::Hour);
    let e = err(&q);
    assert!(
        e.contains("every") && e.contains("hour") && e.contains("10000"),
        "{e}"
    );
    q.every = None;
    q.top = 0;
    assert!(err(&q).contains("top"));
}

#[test]
fn a_stored_time_outside_the_window_does_not_stretch_an_open_range() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    // What an older relay stored for `1e30`, and a wrapped negative time.
    s.ingest(
        &[
            ev_at(90, i64::MAX, Some("huge")),
            ev_at(91, i64::MIN, Some("tiny")),
        ],
        None,
    )
    .unwrap();
    let r = query(&s, &StatsQuery::new(GroupBy::Ref, chrono_tz::UTC)).unwrap();
    assert_eq!(r.from.map(|d| d.to_string()).as_deref(), Some("2026-03-01"));
    assert_eq!(r.to.map(|d| d.to_string()).as_deref(), Some("2026-03-02"));
    assert_eq!(r.totals.referrals, 5);
}

#[test]
fn only_the_top_groups_get_series_and_the_rest_is_one_other_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("s.db")).unwrap();
    let base = ms("2026-05-01T12:00:00Z");
    let mut events = Vec::new();
    // ref r{k} gets k referrals, k = 1..=10.
    for k in 1..=10usize {
        for j in 0..k {
            events.push(ev_at(
                k * 100 + j,
                base + (j as i64) * 3_600_000,
                Some(&format!("r{k:02}")),
            ));
        }
    }
    s.ingest(&events, None).unwrap();
    let mut q = StatsQuery::new(GroupBy::Ref, chrono_tz::UTC);
    q.top = 3;
    q.every = Some(Every::Day);
    q.untracked_limit = 4;
    q.untracked_offset = 2;
    let r = query(&s, &q).unwrap();
    let shown: Vec<(&str, u64)> = r
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.referrals))
        .collect();
    assert_eq!(shown, [("r10", 10), ("r09", 9), ("r08", 8)]);
    let other = r.other.as_ref().unwrap();
    assert_eq!(other.groups, 7);
    assert_eq!(other.referrals, (1..=7).sum::<u64>());
    assert_eq!(other.label(GroupBy::Ref), "Other (7 refs)");
    assert_eq!(
        other.series.iter().map(|p| p.referrals).sum::<u64>(),
        other.referrals
    );
    assert_eq!(
        other.unique_people, 28,
        "every referral here is a different person"
    );
    assert_eq!(r.totals.referrals, 55);
    // Untracked refs come one page at a time.
    assert_eq!(r.untracked_total, 10);
    let page: Vec<&str> = r
        .untracked_refs
        .iter()
        .map(|u| u.ref_code.as_str())
        .collect();
    assert_eq!(page, ["r08", "r07", "r06", "r05"]);
    // With room for all, there is no Other row.
    q.top = 10;
    assert!(query(&s, &q).unwrap().other.is_none());
}

#[test]
fn group_by_and_every_list_every_value_once_with_a_label() {
    use clap::ValueEnum;
    assert_eq!(GroupBy::ALL.len(), GroupBy::value_variants().len());
    for g in GroupBy::ALL {
        assert_eq!(g.as_str().parse::<GroupBy>().unwrap(), g);
        assert!(!g.label().is_empty());
        assert_eq!(g.to_possible_value().unwrap().get_name(), g.as_str());
    }
    assert_eq!(Every::ALL.len(), Every::value_variants().len());
    for e in Every::ALL {
        assert_eq!(e.as_str().parse::<Every>().unwrap(), e);
        assert_eq!(e.to_possible_value().unwrap().get_name(), e.as_str());
    }
}

#[test]
fn no_ref_an_empty_ref_and_a_literal_none_are_different_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = Store::open(&path).unwrap();
    let t = ms("2026-06-01T12:00:00Z");
    let mut events = vec![ev_at(1, t, None)];
    events.extend((2..4).map(|i| ev_at(i, t, Some(""))));
    events.extend((4..7).map(|i| ev_at(i, t, Some("(none)"))));
    events.extend((7..11).map(|i| ev_at(i, t, Some("(no ref)"))));
    s.ingest(&events, None).unwrap();
    let by_ref = |s: &Store| {
        let r = query(s, &StatsQuery::new(GroupBy::Ref, chrono_tz::UTC)).unwrap();
        let json = serde_json::to_value(&r).unwrap();
        let keys: Vec<(serde_json::Value, u64)> = json["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["key"].clone(), g["referrals"].as_u64().unwrap()))
            .collect();
        let people: Vec<u64> = r.groups.iter().map(|g| g.unique_people).collect();
        (keys, people)
    };
    let want = vec![
        (serde_json::json!("(no ref)"), 4),
        (serde_json::json!("(none)"), 3),
        (serde_json::json!(""), 2),
        (serde_json::Value::Null, 1),
    ];
    let (keys, people) = by_ref(&s);
    assert_eq!(keys, want);
    assert_eq!(people, [4, 3, 2, 1]);
    // A store whose rollups mixed no ref with an empty ref (before schema 3)
    // is rebuilt from its events when opened. The file is taken back to
    // version 5 as migration 3 left it: the refless rows gone, the flag set,
    // and no person index yet.
    s.connection()
        .execute_batch(
            "DELETE FROM referral_rollup WHERE ref = '';
             INSERT INTO settings (key, value) VALUES ('rollup_rebuild_refless', '1');
             DROP TABLE people_index; DROP TABLE persons; DROP TABLE referral_rollup;
             CREATE TABLE referral_rollup (period INTEGER NOT NULL, page_id TEXT NOT NULL,
                has_ref INTEGER NOT NULL, ref TEXT NOT NULL, source TEXT NOT NULL,
                slots BLOB NOT NULL, PRIMARY KEY (period, page_id, has_ref, ref, source)) WITHOUT ROWID;
             ALTER TABLE referral_events DROP COLUMN person;
             DROP TABLE conversion_events; DROP TABLE credit_people; DROP TABLE credit_names; DROP TABLE credit_keys; DROP TABLE credit_days; PRAGMA user_version = 5;",
        )
        .unwrap();
    drop(s);
    let s = Store::open(&path).unwrap();
    assert_eq!(by_ref(&s).0, want);
    assert_eq!(s.setting("rollup_rebuild_refless").unwrap(), None);
}

/// #18 item 3: the store's SQL and the stats keep the same events of a page,
/// both through `Page::event_filter` (Page ID and Instagram account id).
#[test]
fn the_stores_count_and_the_stats_keep_the_same_events_of_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let page = s.resolve_page(Some("Jasper's Market")).unwrap();
    let with_ig = NewPage::parse(&page.target, Some(&page.name), page.page_id.as_deref())
        .unwrap()
        .with_ig_id(Some("17841400008460056"))
        .unwrap();
    let page = s.update_page(page.id, &with_ig).unwrap();
    let mut ig = event(9, "2026-03-01T12:00:00Z", Kind::New, "x", "p9", "SHORTLINK");
    ig.platform = Platform::Instagram;
    ig.page_id = "17841400008460056".into();
    let mut stranger = ig.clone();
    stranger.event_id = "e10".into();
    stranger.sender = "p10".into();
    stranger.page_id = "17841499999999999".into();
    s.ingest(&[ig, stranger], None).unwrap();
    let (lo, hi) = (0, i64::MAX);
    let mut q = StatsQuery::new(GroupBy::Ref, chrono_tz::UTC);
    q.set_page(&page);
    let one = query(&s, &q).unwrap();
    let filter = page.event_filter();
    assert_eq!(
        s.count_people(lo, hi, &filter).unwrap(),
        one.totals.unique_people
    );
    assert_eq!(
        one.totals.unique_people, 4,
        "3 Messenger people + p9 on Instagram"
    );
    let all = query(&s, &StatsQuery::new(GroupBy::Ref, chrono_tz::UTC)).unwrap();
    let every = refboard::model::EventFilter::every();
    assert_eq!(
        s.count_people(lo, hi, &every).unwrap(),
        all.totals.unique_people
    );
    assert_eq!(all.totals.unique_people, 5, "and p10 of another account");
}

#[test]
fn an_instagram_event_counts_under_its_page_by_its_instagram_account_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let page = s.resolve_page(Some("Jasper's Market")).unwrap();
    let with_ig = NewPage::parse(&page.target, Some(&page.name), page.page_id.as_deref())
        .unwrap()
        .with_ig_id(Some("17841400008460056"))
        .unwrap();
    let page = s.update_page(page.id, &with_ig).unwrap();
    assert_eq!(page.ig_id.as_deref(), Some("17841400008460056"));
    // Instagram events name the Instagram account, not the Facebook Page.
    let mut ig = event(
        9,
        "2026-03-01T12:00:00Z",
        Kind::New,
        "jaspersmarketnewsletter",
        "p9",
        "SHORTLINK",
    );
    ig.platform = Platform::Instagram;
    ig.page_id = "17841400008460056".into();
    let mut stranger = ig.clone();
    stranger.event_id = "e10".into();
    stranger.page_id = "17841499999999999".into();
    s.ingest(&[ig, stranger], None).unwrap();
    let mut q = StatsQuery::new(GroupBy::Ref, chrono_tz::UTC);
    q.set_page(&page);
    let one = query(&s, &q).unwrap();
    assert_eq!(one.totals.referrals, 6, "5 Messenger + 1 Instagram");
    assert_eq!(one.totals.unique_people, 4);
    let by_page = query(&s, &StatsQuery::new(GroupBy::Page, chrono_tz::UTC)).unwrap();
    let keys: Vec<(&str, u64)> = by_page
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.referrals))
        .collect();
    assert_eq!(keys, [("Jasper's Market", 6), ("17841499999999999", 1)]);
}
