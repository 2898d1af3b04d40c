//! Exact unique people from the person index (issue #10 item 11) and
//! grouping by ad and platform (item 7), each checked against a brute-force
//! count over the same events, on real SQLite stores in temp dirs: random
//! ranges and zones, clock changes, new versus returning, re-import, and a
//! database migrated from before the index.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use proptest::prelude::*;
use refboard::model::{ChannelKind, Kind, NewCampaign, NewLink, NewPage, Platform, ReferralEvent};
use refboard::stats::{Every, GroupBy, NO_REF_LABEL, NOT_AN_AD_LABEL, Report, StatsQuery, query};
use refboard::store::Store;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const PAGE_ID: &str = "104729178032417";
const IG_ID: &str = "17841400000000001";
/// 2026-10-20T00:00:00Z: the days from here hold the European clock change
/// (25 October) and the North American one (1 November).
const BASE_MS: i64 = 1_792_454_400_000;
const REFS: [Option<&str>; 5] = [Some("r0"), Some("r1"), Some("r2"), Some("loose"), None];
const SOURCES: [Option<&str>; 3] = [Some("SHORTLINK"), Some("ADS"), None];
/// (ad_id, ad_title): none, a titled ad, an ad known by id only.
const ADS: [(Option<&str>, Option<&str>); 3] = [
    (None, None),
    (Some("6045"), Some("Spring sale")),
    (Some("7077"), None),
];
const ZONES: [&str; 6] = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
];

/// A store with one page (with an Instagram account), two channels, two
/// campaigns and links for r0, r1 and r2 (not for `loose`).
fn store(dir: &std::path::Path) -> Store {
    let mut store = Store::open(&dir.join("s.db")).unwrap();
    add_catalog(&mut store);
    store
}

fn add_catalog(store: &mut Store) {
    let page = store
        .add_page(
            &NewPage::parse("JaspersMarket", None, Some(PAGE_ID))
                .unwrap()
                .with_ig_id(Some(IG_ID))
                .unwrap(),
        )
        .unwrap();
    let news = store
        .add_channel(page.id, "Newsletter", ChannelKind::Email)
        .unwrap();
    let ads = store
        .add_channel(page.id, "FB ad", ChannelKind::FacebookAd)
        .unwrap();
    let spring = store
        .add_campaign(
            page.id,
            &NewCampaign::parse("Spring", None, None, None).unwrap(),
        )
        .unwrap();
    let autumn = store
        .add_campaign(
            page.id,
            &NewCampaign::parse("Autumn", None, None, None).unwrap(),
        )
        .unwrap();
    for (r, ch, cm) in [
        ("r0", news.id, spring.id),
        ("r1", ads.id, spring.id),
        ("r2", ads.id, autumn.id),
    ] {
        let (l, _) = NewLink::parse(r, None, None, None).unwrap();
        store.add_link(page.id, cm, ch, &l).unwrap();
    }
}

/// What a random event is made of: minute after BASE_MS, person, ref,
/// source, returning, Instagram, ad (indexes into the tables above).
type Spec = (i64, u8, usize, usize, bool, bool, usize);

fn event(i: usize, s: &Spec) -> ReferralEvent {
    let (minute, person, r, source, returning, instagram, ad) = *s;
    let ts = BASE_MS + minute * 60_000 + i as i64 % 60 * 1000;
    ReferralEvent {
        event_id: format!("e{i}"),
        platform: if instagram {
            Platform::Instagram
        } else {
            Platform::Messenger
        },
        page_id: if instagram { IG_ID } else { PAGE_ID }.into(),
        sender: format!("{person:032x}"),
        timestamp_ms: ts,
        kind: if returning {
            Kind::Returning
        } else {
            Kind::New
        },
        ref_code: REFS[r].map(str::to_string),
        source: SOURCES[source].map(str::to_string),
        ref_type: None,
        ad_id: ADS[ad].0.map(str::to_string),
        ad_title: ADS[ad].1.map(str::to_string),
        referer_uri: None,
        received_at_ms: ts,
    }
}

/// The group an event falls in, worked out from the event alone; `None`
/// for an untracked ref grouped by link.
fn brute_key(by: GroupBy, e: &ReferralEvent) -> Option<String> {
    let link = |r: &str| match r {
        "r0" => Some(("Newsletter", "Spring")),
        "r1" => Some(("FB ad", "Spring")),
        "r2" => Some(("FB ad", "Autumn")),
        _ => None,
    };
    let r = e.ref_code.as_deref();
    Some(match by {
        GroupBy::Link => r.filter(|r| link(r).is_some())?.to_string(),
        GroupBy::Ref => r.unwrap_or(NO_REF_LABEL).to_string(),
        GroupBy::Channel => r.and_then(link).map_or("(untracked)", |l| l.0).into(),
        GroupBy::Campaign => r.and_then(link).map_or("(untracked)", |l| l.1).into(),
        GroupBy::Source => e.source.clone().unwrap_or_else(|| "(none)".into()),
        GroupBy::Kind => e.kind.as_str().into(),
        // Both ids name the one page.
        GroupBy::Page => "JaspersMarket".into(),
        GroupBy::Ad => e
            .ad_title
            .clone()
            .or_else(|| e.ad_id.clone())
            .unwrap_or_else(|| NOT_AN_AD_LABEL.into()),
        GroupBy::Platform => match e.platform {
            Platform::Messenger => "Messenger".into(),
            Platform::Instagram => "Instagram".into(),
        },
    })
}

/// Local midnight of `day` in `tz`, in ms (these zones have no midnight gap).
fn midnight(tz: Tz, day: NaiveDate) -> i64 {
    tz.from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .timestamp_millis()
}

/// Per group: (referrals, people), and all people, over `[lo, hi)`.
type Brute = (BTreeMap<String, (u64, BTreeSet<String>)>, BTreeSet<String>);

fn brute(by: GroupBy, events: &[ReferralEvent], lo: i64, hi: i64) -> Brute {
    let mut groups: BTreeMap<String, (u64, BTreeSet<String>)> = BTreeMap::new();
    let mut all = BTreeSet::new();
    for e in events.iter().filter(|e| (lo..hi).contains(&e.timestamp_ms)) {
        all.insert(e.sender.clone());
        if let Some(k) = brute_key(by, e) {
            let g = groups.entry(k).or_default();
            g.0 += 1;
            g.1.insert(e.sender.clone());
        }
    }
    (groups, all)
}

/// Checks every shown group, the Other row and the totals against brute force.
fn check(report: &Report, by: GroupBy, events: &[ReferralEvent], lo: i64, hi: i64) {
    let (groups, all) = brute(by, events, lo, hi);
    let ctx = format!("by {by}, {:?}..{:?} {}", report.from, report.to, report.tz);
    assert!(report.unique_people_counted, "{ctx}");
    assert_eq!(
        report.totals.unique_people,
        all.len() as u64,
        "total, {ctx}"
    );
    let mut shown = BTreeSet::new();
    for g in &report.groups {
        let (referrals, people) = groups
            .get(&g.key)
            .unwrap_or_else(|| panic!("unexpected group {:?}, {ctx}", g.key));
        assert_eq!(g.referrals, *referrals, "referrals of {:?}, {ctx}", g.key);
        assert_eq!(
            g.unique_people,
            people.len() as u64,
            "people of {:?}, {ctx}",
            g.key
        );
        shown.insert(g.key.clone());
    }
    let rest: BTreeSet<&String> = groups
        .iter()
        .filter(|(k, _)| !shown.contains(*k))
        .flat_map(|(_, (_, p))| p)
        .collect();
    match &report.other {
        Some(o) => assert_eq!(o.unique_people, rest.len() as u64, "Other, {ctx}"),
        None => assert!(rest.is_empty(), "groups missing from the report, {ctx}"),
    }
}

fn query_days(by: GroupBy, tz: &str, from: NaiveDate, to: NaiveDate, top: usize) -> StatsQuery {
    let mut q = StatsQuery::new(by, tz.parse().unwrap());
    q.from = Some(from);
    q.to = Some(to);
    q.every = Some(Every::Day);
    q.top = top;
    q
}

fn day(offset: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 20).unwrap() + chrono::Duration::days(offset)
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..30 * 1440i64,
        0..14u8,
        0..REFS.len(),
        0..SOURCES.len(),
        any::<bool>(),
        prop::bool::weighted(0.3),
        0..ADS.len(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random events, ranges, zones and groupings: every unique-people
    /// figure equals a brute-force count over the raw events.
    #[test]
    fn unique_people_equal_brute_force(
        specs in prop::collection::vec(spec(), 1..160),
        start in -1..29i64,
        len in 0..20i64,
        zone in 0..ZONES.len(),
        top in 1..6usize,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path());
        let events: Vec<ReferralEvent> =
            specs.iter().enumerate().map(|(i, x)| event(i, x)).collect();
        s.ingest(&events, None).unwrap();
        let tz: Tz = ZONES[zone].parse().unwrap();
        let (from, to) = (day(start), day(start + len));
        let (lo, hi) = (midnight(tz, from), midnight(tz, to.succ_opt().unwrap()));
        for by in GroupBy::ALL {
            let r = query(&s, &query_days(by, ZONES[zone], from, to, top)).unwrap();
            check(&r, by, &events, lo, hi);
        }
    }
}

/// Events on both sides of London's autumn clock change (01:00-02:00 local
/// happens twice on 2026-10-25) and a day range that ends inside it.
fn clock_change_events() -> Vec<ReferralEvent> {
    // (UTC minute after BASE_MS, person, ref, source, returning, instagram, ad)
    let day5 = 5 * 1440;
    let specs: Vec<Spec> = vec![
        (day5 - 30, 1, 0, 0, false, false, 0), // 24 Oct 23:30 UTC = 25 Oct 00:30 BST
        (day5 + 30, 2, 1, 1, false, false, 1), // 00:30 UTC = 01:30 BST (first 01:30)
        (day5 + 90, 2, 1, 1, true, false, 1),  // 01:30 UTC = 01:30 GMT (second 01:30)
        (day5 + 95, 3, 1, 1, false, true, 2),  // Instagram ad known by id
        (day5 + 23 * 60 + 30, 4, 2, 0, false, true, 0), // 23:30 GMT, still the 25th
        (day5 + 24 * 60 + 10, 1, 0, 0, true, false, 0), // 26 Oct
        (day5 - 24 * 60, 5, 4, 2, false, false, 0), // 24 Oct, no ref, no source
    ];
    specs.iter().enumerate().map(|(i, s)| event(i, s)).collect()
}

#[test]
fn unique_people_across_the_london_clock_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let events = clock_change_events();
    s.ingest(&events, None).unwrap();
    let tz: Tz = "Europe/London".parse().unwrap();
    for (from, to) in [(5, 5), (4, 5), (5, 6), (3, 8)] {
        let (f, t) = (day(from), day(to));
        let (lo, hi) = (midnight(tz, f), midnight(tz, t.succ_opt().unwrap()));
        for by in GroupBy::ALL {
            let r = query(&s, &query_days(by, "Europe/London", f, t, 10)).unwrap();
            check(&r, by, &events, lo, hi);
        }
    }
    // The 25th in London runs 25 hours, 24 Oct 23:00 UTC to 26 Oct 00:00
    // UTC: five events fall inside, from four people, one of them back.
    let r = query(
        &s,
        &query_days(GroupBy::Kind, "Europe/London", day(5), day(5), 10),
    )
    .unwrap();
    assert_eq!(r.totals.referrals, 5);
    assert_eq!(r.totals.unique_people, 4);
    let kinds: Vec<(&str, u64)> = r
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.unique_people))
        .collect();
    assert_eq!(kinds, [("new", 4), ("returning", 1)]);
}

#[test]
fn ads_and_platforms_are_grouped_across_the_clock_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    s.ingest(&clock_change_events(), None).unwrap();
    let mut q = query_days(GroupBy::Ad, "Europe/London", day(5), day(5), 10);
    q.every = Some(Every::Hour);
    let r = query(&s, &q).unwrap();
    let by_key: HashMap<&str, (u64, u64)> = r
        .groups
        .iter()
        .map(|g| (g.key.as_str(), (g.referrals, g.unique_people)))
        .collect();
    assert_eq!(by_key["Spring sale"], (2, 1));
    assert_eq!(by_key["7077"], (1, 1));
    assert_eq!(by_key[NOT_AN_AD_LABEL], (2, 2));
    // The two 01:30s of the repeated hour land in its two buckets.
    let spring = r.groups.iter().find(|g| g.key == "Spring sale").unwrap();
    let hits: Vec<(&str, u64)> = spring
        .series
        .iter()
        .filter(|p| p.referrals > 0)
        .map(|p| (p.bucket.as_str(), p.referrals))
        .collect();
    assert_eq!(
        hits,
        [("2026-10-25T01:00+01:00", 1), ("2026-10-25T01:00+00:00", 1)]
    );
    assert_eq!(spring.series.len(), 25, "the day has 25 hours");

    let mut q = query_days(GroupBy::Platform, "Europe/London", day(5), day(5), 10);
    q.every = Some(Every::Hour);
    let r = query(&s, &q).unwrap();
    let by_key: HashMap<&str, (u64, u64)> = r
        .groups
        .iter()
        .map(|g| (g.key.as_str(), (g.referrals, g.unique_people)))
        .collect();
    assert_eq!(by_key["Messenger"], (3, 2));
    assert_eq!(by_key["Instagram"], (2, 2));
    let ig = r.groups.iter().find(|g| g.key == "Instagram").unwrap();
    let last = ig.series.last().unwrap();
    assert_eq!(
        (last.bucket.as_str(), last.referrals),
        ("2026-10-25T23:00", 1)
    );
}

#[test]
fn reimporting_the_same_events_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let events: Vec<ReferralEvent> = (0..300)
        .map(|i| {
            event(
                i,
                &(
                    (i as i64 * 67) % (12 * 1440),
                    (i % 23) as u8,
                    i % 5,
                    i % 3,
                    i % 4 == 0,
                    i % 7 == 0,
                    i % 3,
                ),
            )
        })
        .collect();
    assert_eq!(s.ingest(&events, None).unwrap(), 300);
    let persons = |s: &Store| -> i64 {
        s.connection()
            .query_row("SELECT count(*) FROM persons", [], |r| r.get(0))
            .unwrap()
    };
    let before = persons(&s);
    assert_eq!(before, 23);
    // Each stored event carries its sender's number (read at the edges).
    let numbered: i64 = s
        .connection()
        .query_row(
            "SELECT count(*) FROM referral_events e JOIN persons p
             ON p.n = e.person AND p.hash = e.sender_hash",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(numbered, 300);
    let q = query_days(GroupBy::Ref, "Europe/London", day(0), day(11), 10);
    let first = query(&s, &q).unwrap();
    assert_eq!(s.ingest(&events, None).unwrap(), 0);
    assert_eq!(s.ingest(&events[100..200], None).unwrap(), 0);
    let again = query(&s, &q).unwrap();
    assert_eq!(persons(&s), before);
    assert_eq!(first.groups, again.groups);
    assert_eq!(first.totals, again.totals);
    let tz: Tz = "Europe/London".parse().unwrap();
    check(
        &again,
        GroupBy::Ref,
        &events,
        midnight(tz, day(0)),
        midnight(tz, day(12)),
    );
}

/// A database written before the person index (schema 4, with a pending
/// rebuild of ref-less rollups) gets the index and new rollups from its
/// events when opened, and counts each referral and person once.
#[test]
fn a_database_from_before_the_index_is_backfilled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let events: Vec<ReferralEvent> = (0..500)
        .map(|i| {
            event(
                i,
                &(
                    (i as i64 * 41) % (12 * 1440),
                    (i % 31) as u8,
                    i % 5,
                    i % 3,
                    i % 3 == 0,
                    i % 5 == 0,
                    i % 3,
                ),
            )
        })
        .collect();
    {
        let mut conn = refboard::store::open_connection(&path).unwrap();
        refboard::db::migrate(
            &mut conn,
            &path,
            refboard::store::migrations_before_person_index(),
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        for e in &events {
            tx.execute(
                "INSERT INTO referral_events (event_id, platform, page_id, sender_hash, ts_ms,
                    kind, ref, source, ad_id, ad_title, received_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                rusqlite::params![
                    e.event_id,
                    e.platform.as_str(),
                    e.page_id,
                    e.sender,
                    e.timestamp_ms,
                    e.kind.as_str(),
                    e.ref_code,
                    e.source,
                    e.ad_id,
                    e.ad_title,
                    e.received_at_ms
                ],
            )
            .unwrap();
        }
        tx.execute(
            "INSERT INTO settings (key, value) VALUES ('rollup_rebuild_refless', '1')",
            [],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let mut s = Store::open(&path).unwrap();
    // Links only map refs to groups; they may come after the events.
    add_catalog(&mut s);
    assert_eq!(s.schema_version().unwrap(), refboard::store::SCHEMA_VERSION);
    assert_eq!(s.setting("rollup_rebuild_refless").unwrap(), None);
    assert_eq!(s.setting("person_index_backfill").unwrap(), None);
    // The upgrade leaves old rows without a person number (migration 7), so
    // the edge days below take the lookup by hash.
    let unnumbered: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM referral_events WHERE person IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unnumbered, events.len() as i64);
    for (zone, from, to) in [
        ("UTC", 0, 11),
        ("Asia/Kathmandu", 2, 6),
        ("America/New_York", 10, 13),
    ] {
        let tz: Tz = zone.parse().unwrap();
        let (lo, hi) = (
            midnight(tz, day(from)),
            midnight(tz, day(to).succ_opt().unwrap()),
        );
        for by in GroupBy::ALL {
            let r = query(&s, &query_days(by, zone, day(from), day(to), 4)).unwrap();
            check(&r, by, &events, lo, hi);
            let in_range = events
                .iter()
                .filter(|e| (lo..hi).contains(&e.timestamp_ms))
                .count();
            assert_eq!(r.totals.referrals, in_range as u64, "{by} {zone}");
        }
    }
}

/// `stats --csv` names the group column by what it groups and closes every
/// row with the range and the zone; the table uses the same names and
/// counts people exactly (item 12).
#[test]
fn stats_csv_carries_range_zone_and_human_column_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let events = clock_change_events();
    s.ingest(&events, None).unwrap();
    drop(s);
    let run = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("refboard")
            .unwrap()
            .env_remove("REFBOARD_DB")
            .arg("--db")
            .arg(dir.path().join("s.db"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let range = [
        "stats",
        "--by",
        "channel",
        "--from",
        "2026-10-25",
        "--to",
        "2026-10-25",
        "--tz",
        "Europe/London",
        "--every",
        "day",
    ];
    let csv = run(&[&range[..], &["--csv"]].concat());
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("Channel,Bucket,Referrals,New,Returning,From,To,Time zone")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    for row in &rows {
        assert!(
            row.ends_with(",2026-10-25,2026-10-25,Europe/London"),
            "{row}"
        );
    }
    assert!(rows.contains(&"FB ad,2026-10-25,4,3,1,2026-10-25,2026-10-25,Europe/London"));
    let table = run(&range);
    assert!(
        table.contains("Channel") && table.contains("Unique people"),
        "{table}"
    );
    assert!(table.contains("5 referrals from 4 people"), "{table}");
}
