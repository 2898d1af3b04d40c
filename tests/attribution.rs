//! Conversions credited to referrals (issue #21 item 3), checked against a
//! brute-force attribution over the same rows on real SQLite stores: random
//! people, times (with many equal instants, so ties matter), windows,
//! models, zones, ranges and an alias (typo rescue).

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use common::conversions::{TestConversion, insert_conversions};
use proptest::prelude::*;
use refboard::model::{
    Attribution, ChannelKind, CreditModel, Kind, NewCampaign, NewLink, NewPage, Platform,
    ReferralEvent,
};
use refboard::stats::conversions::{
    ConversionFigures, ConversionReport, NO_REFERRAL_LABEL, conversions, conversions_with,
};
use refboard::stats::{GroupBy, Report, StatsQuery, query};
use refboard::store::Store;
use std::collections::{BTreeMap, BTreeSet};

const PAGE_ID: &str = "104729178032417";
const IG_ID: &str = "17841400000000001";
/// 2026-10-20T00:00:00Z (the European and North American clock changes follow).
const BASE_MS: i64 = 1_792_454_400_000;
const DAY: i64 = 86_400_000;
/// Refs of referrals: three links, an alias of r0, a ref no link has, none.
const REFS: [Option<&str>; 6] = [
    Some("r0"),
    Some("r1"),
    Some("r2"),
    Some("r0x"),
    Some("loose"),
    None,
];
const GOALS: [Option<&str>; 3] = [None, Some("order"), Some("signup")];
const CURRENCIES: [&str; 3] = ["EUR", "USD", "JPY"];
const ZONES: [&str; 4] = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu"];

/// link ref → (channel, campaign).
fn link_of(r: &str) -> Option<(&'static str, &'static str, &'static str)> {
    match r {
        "r0" | "r0x" => Some(("r0", "Newsletter", "Spring")),
        "r1" => Some(("r1", "FB ad", "Spring")),
        "r2" => Some(("r2", "FB ad", "Autumn")),
        _ => None,
    }
}

fn store(dir: &std::path::Path) -> Store {
    let mut store = Store::open(&dir.join("s.db")).unwrap();
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
    let mut campaign = |name: &str| {
        store
            .add_campaign(
                page.id,
                &NewCampaign::parse(name, None, None, None).unwrap(),
            )
            .unwrap()
            .id
    };
    let (spring, autumn) = (campaign("Spring"), campaign("Autumn"));
    let mut r0 = 0;
    for (r, ch, cm) in [
        ("r0", news.id, spring),
        ("r1", ads.id, spring),
        ("r2", ads.id, autumn),
    ] {
        let (l, _) = NewLink::parse(r, None, None, None).unwrap();
        let link = store.add_link(page.id, cm, ch, &l).unwrap();
        if r == "r0" {
            r0 = link.0.link.id;
        }
    }
    store.add_alias(r0, "r0x").unwrap();
    store
}

/// A referral: (minute after BASE_MS, person, ref index, Instagram).
type RefSpec = (i64, u8, usize, bool);
/// A conversion: (minute, person, Instagram, goal index, value: (micros, currency index)).
type ConvSpec = (i64, u8, bool, usize, Option<(i64, usize)>);

fn page_of(instagram: bool) -> &'static str {
    if instagram { IG_ID } else { PAGE_ID }
}

fn referral(i: usize, s: &RefSpec) -> ReferralEvent {
    let (minute, person, r, instagram) = *s;
    ReferralEvent {
        event_id: format!("e{i}"),
        platform: if instagram {
            Platform::Instagram
        } else {
            Platform::Messenger
        },
        page_id: page_of(instagram).into(),
        sender: format!("{person:032x}"),
        timestamp_ms: BASE_MS + minute * 60_000,
        kind: if i.is_multiple_of(3) {
            Kind::Returning
        } else {
            Kind::New
        },
        ref_code: REFS[r].map(str::to_string),
        source: Some("SHORTLINK".into()),
        ref_type: None,
        ad_id: None,
        ad_title: None,
        referer_uri: None,
        received_at_ms: BASE_MS,
    }
}

fn conversion(i: usize, s: &ConvSpec) -> TestConversion {
    let (minute, person, instagram, goal, value) = *s;
    let goal = GOALS[goal];
    TestConversion {
        event_id: format!("c{i}"),
        platform: if instagram { "instagram" } else { "messenger" },
        page_id: page_of(instagram).into(),
        sender_hash: format!("{person:032x}"),
        ts_ms: BASE_MS + minute * 60_000,
        goal: goal.map(str::to_string),
        value: goal.and(value).map(|(m, c)| (m, CURRENCIES[c].to_string())),
    }
}

/// The brute-force figures of one group: conversions, converted people,
/// value per currency, delays (for the median), conversions per goal,
/// conversations.
#[derive(Debug, Default, Clone, PartialEq)]
struct Truth {
    conversions: u64,
    people: BTreeSet<(String, String)>,
    value: BTreeMap<String, i128>,
    delays: Vec<i64>,
    goals: BTreeMap<String, u64>,
    conversations: u64,
}

impl Truth {
    fn add(&mut self, c: &TestConversion, delay: Option<i64>) {
        let Some(goal) = &c.goal else {
            self.conversations += 1;
            return;
        };
        self.conversions += 1;
        self.people
            .insert((c.page_id.clone(), c.sender_hash.clone()));
        self.delays.extend(delay);
        *self.goals.entry(goal.clone()).or_default() += 1;
        if let Some((m, cur)) = &c.value {
            *self.value.entry(cur.clone()).or_default() += i128::from(*m);
        }
    }

    fn check(&self, got: &ConversionFigures, what: &str) {
        assert_eq!(got.conversions, self.conversions, "conversions {what}");
        assert_eq!(
            got.conversations, self.conversations,
            "conversations {what}"
        );
        assert_eq!(
            got.converted_people,
            self.people.len() as u64,
            "people {what}"
        );
        let value: BTreeMap<String, i128> = got
            .value
            .iter()
            .map(|m| (m.currency.clone(), m.micros))
            .collect();
        assert_eq!(value, self.value, "value {what}");
        let goals: BTreeMap<String, u64> = got
            .goals
            .iter()
            .map(|g| (g.goal.clone(), g.conversions))
            .collect();
        assert_eq!(goals, self.goals, "goals {what}");
        let mut d = self.delays.clone();
        d.sort_unstable();
        let median = match d.len() {
            0 => None,
            n if n % 2 == 1 => Some(d[n / 2]),
            n => Some((d[n / 2 - 1] + d[n / 2]).div_euclid(2)),
        };
        assert_eq!(got.median_ms_to_convert, median, "median {what}");
    }
}

/// The group a referral's ref counts for under `by` (`None`: no group,
/// counted in the totals only), from the definitions above, not the code.
fn group_of(by: GroupBy, r: Option<&str>) -> Option<String> {
    let link = r.and_then(link_of);
    match by {
        GroupBy::Link => link.map(|l| l.0.to_string()),
        GroupBy::Channel => Some(link.map_or("(untracked)", |l| l.1).to_string()),
        GroupBy::Campaign => Some(link.map_or("(untracked)", |l| l.2).to_string()),
        GroupBy::Ref => Some(r.unwrap_or("(no ref)").to_string()),
        _ => unreachable!(),
    }
}

fn midnight(tz: Tz, day: NaiveDate) -> i64 {
    tz.from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .timestamp_millis()
}

/// Brute force: per conversion in the range, every referral of the same
/// page and person is looked at; the credited one is the latest (or
/// earliest) in the window, ties to the one stored first.
fn truth(
    refs: &[ReferralEvent],
    convs: &[TestConversion],
    a: Attribution,
    by: GroupBy,
    range_ms: (i64, i64),
) -> (Truth, BTreeMap<String, Truth>, Truth) {
    let (mut total, mut groups, mut none) = (Truth::default(), BTreeMap::new(), Truth::default());
    let window = i64::from(a.window_days) * DAY;
    for c in convs
        .iter()
        .filter(|c| c.ts_ms >= range_ms.0 && c.ts_ms < range_ms.1)
    {
        let mut best: Option<&ReferralEvent> = None;
        for r in refs.iter().filter(|r| {
            r.page_id == c.page_id
                && r.sender == c.sender_hash
                && r.timestamp_ms <= c.ts_ms
                && r.timestamp_ms >= c.ts_ms - window
        }) {
            // `refs` is in stored order: a later one wins only when strictly better.
            let better = best.is_none_or(|b| match a.model {
                CreditModel::Last => r.timestamp_ms > b.timestamp_ms,
                CreditModel::First => r.timestamp_ms < b.timestamp_ms,
            });
            if better {
                best = Some(r);
            }
        }
        total.add(c, best.map(|r| c.ts_ms - r.timestamp_ms));
        match best {
            None => none.add(c, None),
            Some(r) => {
                if let Some(g) = group_of(by, r.ref_code.as_deref()) {
                    groups
                        .entry(g)
                        .or_insert_with(Truth::default)
                        .add(c, Some(c.ts_ms - r.timestamp_ms));
                }
            }
        }
    }
    (total, groups, none)
}

fn run(
    store: &Store,
    by: GroupBy,
    tz: Tz,
    days: (NaiveDate, NaiveDate),
    a: &Attribution,
) -> (Report, ConversionReport) {
    let mut q = StatsQuery::new(by, tz);
    q.from = Some(days.0);
    q.to = Some(days.1);
    let report = query(store, &q).unwrap();
    let conv = conversions_with(store, &q, &report, a).unwrap();
    (report, conv)
}

fn check_all(
    refs: &[ReferralEvent],
    convs: &[TestConversion],
    store: &Store,
    a: Attribution,
    tz: Tz,
    days: (NaiveDate, NaiveDate),
) {
    let range = (
        midnight(tz, days.0),
        midnight(tz, days.1.succ_opt().unwrap()),
    );
    for by in [
        GroupBy::Link,
        GroupBy::Channel,
        GroupBy::Campaign,
        GroupBy::Ref,
    ] {
        let (report, got) = run(store, by, tz, days, &a);
        let (total, mut groups, none) = truth(refs, convs, a, by, range);
        let what = format!("{by} {a:?} {tz} {days:?}");
        total.check(&got.totals.figures, &format!("total {what}"));
        none.check(&got.no_referral, &format!("{NO_REFERRAL_LABEL} {what}"));
        for g in &got.groups {
            let expected = groups.remove(g.name()).unwrap_or_default();
            expected.check(&g.figures, &format!("{} {what}", g.name()));
            let shown = report.groups.iter().find(|r| r.key == g.key.0).unwrap();
            assert_eq!(g.referred_people, shown.unique_people, "{what}");
        }
        // Groups with conversions but no referral in the range are summed in Other.
        let mut rest = Truth::default();
        for t in groups.into_values() {
            rest.conversions += t.conversions;
            rest.conversations += t.conversations;
            rest.people.extend(t.people);
            rest.delays.extend(t.delays);
            for (k, v) in t.value {
                *rest.value.entry(k).or_default() += v;
            }
            for (k, v) in t.goals {
                *rest.goals.entry(k).or_default() += v;
            }
        }
        match &got.other {
            Some(o) => rest.check(&o.figures, &format!("Other {what}")),
            None => assert_eq!(rest, Truth::default(), "Other {what}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn attribution_matches_a_brute_force_search(
        ref_specs in prop::collection::vec(
            ((0i64..40).prop_map(|h| h * 360), 0u8..6, 0usize..REFS.len(), prop::bool::weighted(0.2)),
            0..60,
        ),
        conv_specs in prop::collection::vec(
            ((0i64..48).prop_map(|h| h * 360), 0u8..6, prop::bool::weighted(0.2), 0usize..3,
             prop::option::of((0i64..5_000_000_000, 0usize..3))),
            0..40,
        ),
        window_days in 1u32..=10,
        first in any::<bool>(),
        zone in 0usize..ZONES.len(),
        from_day in 0i64..8,
        len_days in 0i64..12,
        split in 0usize..=4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store(dir.path());
        let refs: Vec<ReferralEvent> =
            ref_specs.iter().enumerate().map(|(i, s)| referral(i, s)).collect();
        let convs: Vec<TestConversion> =
            conv_specs.iter().enumerate().map(|(i, s)| conversion(i, s)).collect();
        let model = if first { CreditModel::First } else { CreditModel::Last };
        let a = Attribution::new(window_days, model).unwrap();
        let tz: Tz = ZONES[zone].parse().unwrap();
        let start = NaiveDate::from_ymd_opt(2026, 10, 20).unwrap() + chrono::Days::new(from_day as u64);
        let days = (start, start + chrono::Days::new(len_days as u64));
        // The kept credit (saved settings) is built from the first half of
        // the events, then brought up to date with the second half: late
        // referrals older than kept conversions, and new conversions.
        store.set_attribution(&a).unwrap();
        let (r1, r2) = refs.split_at(refs.len() * split / 4);
        let (c1, c2) = convs.split_at(convs.len() * split / 4);
        store.ingest(r1, None).unwrap();
        insert_conversions(&store, c1);
        run(&store, GroupBy::Link, tz, days, &a);
        store.ingest(r2, None).unwrap();
        insert_conversions(&store, c2);
        check_all(&refs, &convs, &store, a, tz, days);
        // Other saved settings: the same figures straight from the events.
        let other = Attribution::new(window_days % 90 + 1, model).unwrap();
        store.set_attribution(&other).unwrap();
        check_all(&refs, &convs, &store, a, tz, days);
        // Back to the first settings: rebuilt, the same again.
        store.set_attribution(&a).unwrap();
        check_all(&refs, &convs, &store, a, tz, days);
    }
}

#[test]
fn a_worked_example_with_a_tie_an_alias_and_no_referral() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(dir.path());
    // Person 1: r1 and the alias r0x at the same minute (r1 stored first),
    // then r2 nine days before the order.
    // Person 3: only the alias r0x.
    let refs: Vec<ReferralEvent> = [
        (600, 1, 1, false),
        (600, 1, 3, false),
        (0, 1, 2, false),
        (60, 3, 3, false),
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| referral(i, s))
    .collect();
    store.ingest(&refs, None).unwrap();
    let hour = 60;
    let convs: Vec<TestConversion> = [
        // An order 2 h after the tie: credited to r1 (stored first).
        (600 + 2 * hour, 1, false, 1, Some((12_500_000, 0))),
        // A sign-up by someone never referred.
        (600, 2, false, 2, None),
        // The alias's person signs up: credited to r0.
        (120, 3, false, 2, None),
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| conversion(i, s))
    .collect();
    insert_conversions(&store, &convs);
    let mut q = StatsQuery::new(GroupBy::Link, chrono_tz::UTC);
    let day = NaiveDate::from_ymd_opt(2026, 10, 20).unwrap();
    q.from = Some(day);
    q.to = Some(day);
    let report = query(&store, &q).unwrap();
    let got = conversions(&store, &q, &report).unwrap();
    assert_eq!(got.attribution, Attribution::default());
    let r1 = got.groups.iter().find(|g| g.name() == "r1").unwrap();
    assert_eq!(r1.figures.conversions, 1);
    assert_eq!(r1.figures.value_in("EUR"), 12_500_000);
    assert_eq!(r1.figures.median_ms_to_convert, Some(2 * 3_600_000));
    assert_eq!(r1.rate, Some(1.0));
    assert_eq!(got.no_referral.conversions, 1);
    assert_eq!(got.totals.figures.conversions, 3);
    let r0 = got.groups.iter().find(|g| g.name() == "r0").unwrap();
    assert_eq!(r0.figures.goal("signup").unwrap().people, 1);
    assert_eq!(got.goals, ["order", "signup"]);
    // First model: r2, stored last but earliest (10 h before, inside 7 days).
    let first = Attribution::new(7, CreditModel::First).unwrap();
    store.set_attribution(&first).unwrap();
    let got = conversions(&store, &q, &report).unwrap();
    let r2 = got.groups.iter().find(|g| g.name() == "r2").unwrap();
    assert_eq!(r2.figures.conversions, 1);
    // A window shorter than the 2 h since the tie... is at least a day:
    // the tie still wins under "last", and r2 (10 h before) too under "first".
    let got = conversions_with(
        &store,
        &q,
        &report,
        &Attribution::new(1, CreditModel::First).unwrap(),
    )
    .unwrap();
    assert_eq!(
        got.groups
            .iter()
            .find(|g| g.name() == "r2")
            .unwrap()
            .figures
            .conversions,
        1
    );
}
