//! Issue 19, "A demo worth showing": the demo's real relay, simulated
//! traffic and first sync give at least 120 days of referrals, campaign
//! launches, a seasonal rise and typos, so every card and comparison reads
//! sensibly (a month of data made every comparison absurd: "▲ 99800%").

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use refboard::stats::{Change, GroupBy, StatsQuery, query};
use refboard::store::Store;

#[test]
fn the_demo_has_five_months_of_launches_a_rise_and_typos_that_read_sensibly() {
    let dir = tempfile::tempdir().unwrap();
    let demo = refboard::demo::prepare(dir.path(), 3000).unwrap();
    let store = Store::open(&dir.path().join("demo.db")).unwrap();
    let today = chrono::Utc::now().date_naive();
    // All time: at least 120 days of referrals.
    let all = query(&store, &StatsQuery::new(GroupBy::Link, chrono_tz::UTC)).unwrap();
    let (first, last) = all.from.zip(all.to).unwrap();
    assert!((last - first).num_days() >= 120, "{first} to {last}");
    // The default 30 days: every card a percentage (the previous period had
    // enough), a rise, nothing absurd.
    let mut q = StatsQuery::new(GroupBy::Link, chrono_tz::UTC);
    q.from = Some(today - chrono::Duration::days(29));
    q.to = Some(today);
    let data = refboard::report::build(&store, &q, "Jasper's Market").unwrap();
    for card in &data.cards {
        match card.change {
            Change::Up(p) | Change::Down(p) => assert!(p < 300, "{card:?}"),
            Change::Same => {}
            other => panic!("{} is not a percentage: {other:?}", card.name),
        }
    }
    assert!(
        matches!(data.cards[0].change, Change::Up(_)),
        "the season rises: {:?}",
        data.cards[0]
    );
    // The holiday campaign launched 18 days ago: its link is new.
    let (prev, _) = data.previous.as_ref().unwrap();
    let holiday = data
        .report
        .groups
        .iter()
        .find(|g| g.key == "holidaygifts")
        .unwrap();
    assert!(holiday.referrals > 0);
    assert!(
        !prev
            .groups
            .iter()
            .any(|g| g.key == "holidaygifts" && g.referrals > 0)
    );
    // One typo counts for its link (alias), one waits to be rescued.
    let mut q = StatsQuery::new(GroupBy::Ref, chrono_tz::UTC);
    q.untracked_limit = 50;
    let refs = query(&store, &q).unwrap();
    assert!(
        refs.untracked_refs
            .iter()
            .any(|u| u.ref_code == "freeshiping"),
        "{:?}",
        refs.untracked_refs
    );
    assert!(
        !refs
            .untracked_refs
            .iter()
            .any(|u| u.ref_code == "jaspersmarketnewsleter")
    );
    // Campaigns with dates, for the chart's bands.
    let page = store.pages().unwrap()[0].id;
    let campaigns = store.campaigns(page, false).unwrap();
    assert!(campaigns.iter().filter(|c| c.starts_on.is_some()).count() >= 2);
    drop(demo);
}
