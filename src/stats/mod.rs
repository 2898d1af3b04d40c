//! Referral statistics for charts and tables: totals, unique people, new
//! versus returning, and time series per group, in any IANA time zone.
//!
//! Series come from the rollups kept by the store (15-minute slots per UTC
//! week, page, ref and source), so chart queries do not scan raw events.
//! Unique people need the raw events of the range and are optional.
//!
//! A query runs in five steps, each its own function: range resolution
//! (`range::resolve_range`), the bucket table (`range::BucketTable`), aggregation
//! (two passes over the rollups: totals per group, then series for the shown
//! groups only), unique people, and report assembly.
//!
//! Bounds (refs come from strangers, so memory must not grow with them):
//! - a range starts on or after [`min_query_date`] and spans at most
//!   [`MAX_RANGE_DAYS`] days and [`MAX_BUCKETS`] buckets;
//! - only the top [`StatsQuery::top`] groups by referrals get a series; the
//!   rest are summed into one "Other (k refs)" row ([`OtherGroups`]);
//! - untracked refs are returned one page at a time (offset and limit).
//!
//! Refs are credited to links in one place, `engine::resolved_refs`: each link's
//! own ref and its aliases (typo rescue), so an alias's referrals count for
//! its link in every grouping and in unique people, past and future.
//!
//! Files, each depending only on those listed before it: `query` (what is
//! asked), `result` (what comes back), `labels` (names, wording and CSV
//! headers), `headline` (the change against the previous period), `range`
//! (days, instants and buckets), `engine` (rollups to totals and series),
//! `people` (unique people), `glance` (one link's last 30 days, through
//! [`query()`]), and `slots` (which palette colour each shown group gets,
//! from its key: the dashboard and the report colour a group alike). This
//! file runs the five steps in [`query()`], above `engine` and `people`
//! because each needs the other's results. [`conversions`] (issue #21) sits
//! beside them: it credits conversions to referrals for the groups of a
//! [`Report`], with the same resolver.

mod card;
pub mod conversions;
mod engine;
mod glance;
mod headline;
mod labels;
mod people;
mod query;
mod range;
mod result;
mod slots;

pub use card::{Card, cards};
pub use glance::{GLANCE_DAYS, LinkGlance, link_glance};
pub use headline::{Change, MIN_BASE};
pub use labels::{
    NO_REF_LABEL, NOT_AN_AD_LABEL, format_range, period_label, platform_label, range_cells,
    series_csv_header, table_csv_header,
};
pub use query::{
    Compare, DEFAULT_TOP, DEFAULT_UNTRACKED_LIMIT, Every, GroupBy, MAX_BUCKETS, MAX_RANGE_DAYS,
    StatsError, StatsQuery, local_tz, parse_tz,
};
pub use range::{min_query_date, previous_range, same_days_last_month};
pub use result::{GroupStats, OtherGroups, Point, Report, Totals, UntrackedRef};
pub use slots::{palette_slots, preferred_slot};

use crate::store::{Store, StoreError};
use engine::{Links, SERIES_BUDGET_CELLS, assemble, chart_parts, empty_report};
use people::{people_by_group, people_in_parallel, unique_people};
use range::{BucketTable, resolve_range};

/// Runs a stats query against the store.
pub fn query(store: &Store, q: &StatsQuery) -> Result<Report, StatsError> {
    query_within(store, q, SERIES_BUDGET_CELLS)
}

/// [`query()`] with a given budget for one-pass series (tests use 0 to force two passes).
///
/// Unique people of the admin's own groupings are counted on a second
/// connection, on a second thread, while this one scans the rollups: the two
/// take about as long each, so a year's chart with unique people costs
/// little more than one without on two cores.
fn query_within(store: &Store, q: &StatsQuery, budget_cells: usize) -> Result<Report, StatsError> {
    let Some(span) = resolve_range(store, q)? else {
        return Ok(empty_report(q));
    };
    let table = BucketTable::build(&q.tz, &span);
    let links = Links::load(store)?;
    // Without a second connection (it could not be opened), one thread does both.
    let second = people_in_parallel(q)
        .then(|| store.second_connection().ok())
        .flatten();
    std::thread::scope(|scope| {
        // A thread that cannot be started (`spawn` would panic) leaves the
        // count to this one.
        let apart = second.and_then(|other| {
            let (span, links) = (&span, &links);
            std::thread::Builder::new()
                .name("stats-people".into())
                .spawn_scoped(scope, move || {
                    (people_by_group(&other, q, span, links), other)
                })
                .ok()
        });
        let chart = chart_parts(store, q, &span, &table, &links, budget_cells);
        // Joined before any error returns, so the thread never outlives a
        // failed chart unobserved.
        let apart = apart
            .map(|h| {
                let (counted, other) = h
                    .join()
                    .map_err(|_| StoreError::internal("the unique-people thread stopped"))?;
                store.return_connection(other);
                Ok::<_, StatsError>(counted)
            })
            .transpose();
        let mut parts = chart?;
        let counted = match apart?.transpose()? {
            Some((keys, sets)) => Some(
                sets.into_slots(&keys, &parts.resolver, &parts.slot_of, parts.series.len())
                    .finish(),
            ),
            None if q.unique_people => Some(unique_people(
                store,
                q,
                &span,
                &mut parts.resolver,
                &parts.slot_of,
                parts.series.len(),
            )?),
            None => None,
        };
        let series_count = parts.series.len();
        (parts.people_total, parts.people) = counted.unwrap_or((0, vec![0; series_count]));
        Ok(assemble(q, &span, &table, parts))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Platform, ReferralEvent};
    use crate::store::Store;

    #[test]
    fn one_pass_and_two_passes_give_the_same_report() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let base = 1_780_000_000_000;
        let events: Vec<ReferralEvent> = (0..400i64)
            .map(|i| ReferralEvent {
                event_id: format!("e{i}"),
                platform: Platform::Messenger,
                page_id: "1".into(),
                sender: format!("{:032x}", i % 37),
                timestamp_ms: base + (i % 9) * 86_400_000 + i * 1000,
                kind: if i % 3 == 0 {
                    Kind::Returning
                } else {
                    Kind::New
                },
                ref_code: (i % 11 != 0).then(|| format!("r{}", i % 13)),
                source: Some("SHORTLINK".into()),
                ref_type: None,
                ad_id: None,
                ad_title: None,
                referer_uri: None,
                received_at_ms: base,
            })
            .collect();
        store.ingest(&events, None).unwrap();
        for by in GroupBy::ALL {
            let mut q = StatsQuery::new(by, chrono_tz::UTC);
            q.top = 4;
            let one = query_within(&store, &q, SERIES_BUDGET_CELLS).unwrap();
            let two = query_within(&store, &q, 0).unwrap();
            assert_eq!(one.groups, two.groups, "{by}");
            assert_eq!(one.other, two.other, "{by}");
            assert_eq!(one.totals, two.totals, "{by}");
            let shown: u64 = one.groups.iter().map(|g| g.referrals).sum();
            let other = one.other.as_ref().map_or(0, |o| o.referrals);
            if by != GroupBy::Link {
                assert_eq!(shown + other, one.totals.referrals, "{by}");
            }
        }
    }
}
