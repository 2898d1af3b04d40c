//! A link at a glance: referrals per day over the last 30 days and the
//! totals for 7 days, 30 days and all time.

use super::query;
use super::query::{Every, GroupBy, StatsError, StatsQuery};
use crate::store::Store;
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use serde::Serialize;

/// A link at a glance: referrals per day over the last 30 days and totals
/// for 7 days, 30 days and all time (the link detail panel shows them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct LinkGlance {
    /// The first of the 30 days.
    pub first_day: Option<NaiveDate>,
    /// Referrals per day, oldest first, today last (30 values).
    pub daily: Vec<u64>,
    /// Referrals in the last 7 days, today included.
    pub last_7_days: u64,
    /// Referrals in the last 30 days, today included.
    pub last_30_days: u64,
    /// Referrals ever.
    pub all_time: u64,
}

/// Days of [`LinkGlance::daily`].
pub const GLANCE_DAYS: i64 = 30;

/// The glance of link `link_id`, with days in `tz` and `today` the last day.
pub fn link_glance(
    store: &Store,
    link_id: i64,
    tz: Tz,
    today: NaiveDate,
) -> Result<LinkGlance, StatsError> {
    let row = store.link(link_id)?;
    let page = store.pages()?.into_iter().find(|p| p.id == row.link.page);
    let mut q = StatsQuery::new(GroupBy::Link, tz);
    q.unique_people = false;
    q.top = usize::MAX;
    q.untracked_limit = 0;
    if let Some(p) = &page {
        q.set_page(p);
    }
    let first = today
        .checked_sub_signed(Duration::days(GLANCE_DAYS - 1))
        .unwrap_or(today);
    let ref_code = row.link.ref_code.as_str();
    let month = query(
        store,
        &StatsQuery {
            from: Some(first),
            to: Some(today),
            every: Some(Every::Day),
            ..q.clone()
        },
    )?;
    let group = month.groups.iter().find(|g| g.key == ref_code);
    let daily: Vec<u64> = match group {
        Some(g) => g.series.iter().map(|p| p.referrals).collect(),
        None => vec![0; usize::try_from(GLANCE_DAYS).unwrap_or(30)],
    };
    let all = query(store, &q)?;
    let skip = daily.len().saturating_sub(7);
    Ok(LinkGlance {
        first_day: Some(first),
        last_7_days: daily.iter().skip(skip).sum(),
        last_30_days: daily.iter().sum(),
        all_time: all
            .groups
            .iter()
            .find(|g| g.key == ref_code)
            .map_or(0, |g| g.referrals),
        daily,
    })
}
