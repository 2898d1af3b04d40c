//! The range of a query in local days and instants, its previous period,
//! and the table of buckets (step 1 and step 2 of a query).

use super::query::{Every, MAX_BUCKETS, MAX_RANGE_DAYS, StatsError, StatsQuery, invalid};
use super::result::Point;
use crate::model::{EVENT_WINDOW_FUTURE_MS, EVENT_WINDOW_START_MS};
use crate::store::{PERIOD_MS, SLOT_MS, SLOTS_PER_PERIOD, Store};
use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;

/// The first day a range may start: 2004-01-01, where the event window starts.
pub fn min_query_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2004, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// The period a range is compared with by default ("change against the
/// previous period", the chart's previous-period lines).
///
/// - A whole calendar month (Last month, 1–30 Nov) is compared with the
///   whole month before (1–31 Oct): admins think in months, and a month
///   against "the 30 days before it" straddles two of them.
/// - Any other range is compared with the period of the same length just
///   before it: the 30 days 31 Oct – 29 Nov against 1–30 Oct, today against
///   yesterday. It lines up day by day with the current one on the chart.
///
/// A month so far against the same days of the month before is asked for
/// by name (`Compare::SameDaysLastMonth`), see
/// [`same_days_last_month`]. Days are local, so a range across a clock
/// change has a previous range of as many days, not of as many hours.
/// `None` when the range is reversed or the previous range would start
/// before [`min_query_date`].
pub fn previous_range(from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    if to < from {
        return None;
    }
    let (prev_from, prev_to) = if is_whole_month(from, to) {
        let prev_to = from.pred_opt()?;
        (month_start(prev_to)?, prev_to)
    } else {
        let days = (to - from).num_days().checked_add(1)?;
        (
            from.checked_sub_signed(Duration::try_days(days)?)?,
            from.pred_opt()?,
        )
    };
    (prev_from >= min_query_date()).then_some((prev_from, prev_to))
}

/// The same days one month earlier, for a month so far: 1–5 Dec against
/// 1–5 Nov; a day the month before does not have becomes its last day (1–30
/// Mar against 1–28 Feb), and a whole month is compared with the whole month
/// before. `None` as for [`previous_range`].
pub fn same_days_last_month(from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    if to < from {
        return None;
    }
    if is_whole_month(from, to) {
        return previous_range(from, to);
    }
    let back = |d: NaiveDate| d.checked_sub_months(chrono::Months::new(1));
    let (prev_from, prev_to) = (back(from)?, back(to)?);
    (prev_from >= min_query_date()).then_some((prev_from, prev_to))
}

/// Whether `from..=to` is exactly one calendar month.
fn is_whole_month(from: NaiveDate, to: NaiveDate) -> bool {
    use chrono::Datelike;
    from.day() == 1
        && (from.year(), from.month()) == (to.year(), to.month())
        && to.succ_opt().is_some_and(|d| d.day() == 1)
}

/// The first day of `day`'s month.
fn month_start(day: NaiveDate) -> Option<NaiveDate> {
    use chrono::Datelike;
    day.with_day(1)
}

impl super::query::Compare {
    /// The period `from..=to` is compared with, if there is one: see
    /// [`previous_range`] and [`same_days_last_month`].
    pub fn previous(self, from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            super::query::Compare::Preceding => previous_range(from, to),
            super::query::Compare::SameDaysLastMonth => same_days_last_month(from, to),
        }
    }
}

/// Local midnight of `day` in `tz`, in ms (DST gaps move it to the first valid instant).
pub(super) fn midnight_ms(tz: &Tz, day: NaiveDate) -> i64 {
    let naive = day.and_time(chrono::NaiveTime::MIN);
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.timestamp_millis()
        }
        chrono::LocalResult::None => tz
            .from_local_datetime(
                &naive
                    .checked_add_signed(Duration::hours(1))
                    .unwrap_or(naive),
            )
            .earliest()
            .map(|t| t.timestamp_millis())
            .unwrap_or_else(|| naive.and_utc().timestamp_millis()),
    }
}

/// The resolved range of a query: local days, their instants and the bucket size.
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    pub(super) from: NaiveDate,
    pub(super) to: NaiveDate,
    /// Start of `from`, ms.
    pub(super) from_ms: i64,
    /// Start of the day after `to`, ms.
    pub(super) to_ms: i64,
    pub(super) every: Every,
}

impl Span {
    /// Rollup periods that overlap the range.
    pub(super) fn periods(&self) -> (i64, i64) {
        (
            self.from_ms.div_euclid(PERIOD_MS),
            (self.to_ms - 1).div_euclid(PERIOD_MS),
        )
    }
}

/// Checks the dates the user gave against the documented limits.
pub(super) fn check_dates(q: &StatsQuery) -> Result<(), StatsError> {
    let min = min_query_date();
    for (field, day) in [("from", q.from), ("to", q.to)] {
        if let Some(d) = day
            && d < min
        {
            return Err(invalid(
                field,
                &d.to_string(),
                &format!("ranges start on or after {min}, where the event window starts"),
            ));
        }
    }
    if let (Some(f), Some(t)) = (q.from, q.to) {
        if t < f {
            return Err(invalid(
                "to",
                &t.to_string(),
                &format!("the range ends before it starts ({f})"),
            ));
        }
        if (t - f).num_days() >= MAX_RANGE_DAYS {
            return Err(invalid(
                "to",
                &t.to_string(),
                &format!("a range covers at most {MAX_RANGE_DAYS} days (from {f})"),
            ));
        }
    }
    if q.top == 0 {
        return Err(invalid("top", "0", "show at least 1 group"));
    }
    Ok(())
}

/// Step 1: the days of the query, filling open ends from the events inside the
/// event window; `None` when an open range has no events.
pub(super) fn resolve_range(store: &Store, q: &StatsQuery) -> Result<Option<Span>, StatsError> {
    check_dates(q)?;
    let (from, to) = match (q.from, q.to) {
        (Some(f), Some(t)) => (f, t),
        _ => {
            let hi = chrono::Utc::now()
                .timestamp_millis()
                .saturating_add(EVENT_WINDOW_FUTURE_MS);
            let Some((min, max)) = store.event_time_range(EVENT_WINDOW_START_MS, hi)? else {
                return Ok(None);
            };
            let local = |ms: i64| {
                DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&q.tz).date_naive())
            };
            let (Some(first), Some(last)) = (local(min), local(max)) else {
                return Ok(None);
            };
            let from = q.from.unwrap_or_else(|| first.min(q.to.unwrap_or(first)));
            let to = q.to.unwrap_or_else(|| last.max(from));
            (from, to)
        }
    };
    check_dates(&StatsQuery {
        from: Some(from),
        to: Some(to),
        ..q.clone()
    })?;
    let days = (to - from).num_days() + 1;
    let every = q.every.unwrap_or(Every::auto(days));
    if every.max_buckets(days) > MAX_BUCKETS {
        return Err(invalid(
            "every",
            every.as_str(),
            &format!(
                "a series has at most {MAX_BUCKETS} buckets; {days} days per {every} is too many: choose a larger bucket or a shorter range"
            ),
        ));
    }
    let Some(after) = to.succ_opt() else {
        return Err(invalid("to", &to.to_string(), "the date is out of range"));
    };
    Ok(Some(Span {
        from,
        to,
        from_ms: midnight_ms(&q.tz, from),
        to_ms: midnight_ms(&q.tz, after),
        every,
    }))
}

/// One bucket of the range.
#[derive(Debug, Clone)]
pub(super) struct Bucket {
    pub(super) start_ms: i64,
    pub(super) utc_offset_secs: i32,
    pub(super) label: String,
}

/// Step 2: the buckets of a range, built one bucket at a time, so the cost
/// follows the buckets shown, not the 15-minute slots of the span.
pub(super) struct BucketTable {
    pub(super) buckets: Vec<Bucket>,
    pub(super) end_ms: i64,
}

impl BucketTable {
    pub(super) fn build(tz: &Tz, span: &Span) -> Self {
        let mut buckets = Vec::new();
        let mut start = span.from_ms;
        let mut day = span.from;
        while start < span.to_ms {
            let Some(local) = DateTime::from_timestamp_millis(start).map(|t| t.with_timezone(tz))
            else {
                break;
            };
            buckets.push(Bucket {
                start_ms: start,
                utc_offset_secs: local.offset().fix().local_minus_utc(),
                label: Self::label(tz, span.every, &local),
            });
            let next = match span.every {
                // Hours step in UTC, so a repeated local hour is two buckets.
                Every::Hour => start.saturating_add(3_600_000),
                every => match every.next_day(day) {
                    Some(d) => {
                        day = d;
                        midnight_ms(tz, d)
                    }
                    None => span.to_ms,
                },
            };
            // A zone's odd transition must never stall the walk.
            start = next.max(start.saturating_add(SLOT_MS));
        }
        Self {
            buckets,
            end_ms: span.to_ms,
        }
    }

    /// The label; an hour that the clock repeats also shows its offset.
    pub(super) fn label(tz: &Tz, every: Every, local: &DateTime<Tz>) -> String {
        let key = every.key(local);
        let repeated = every == Every::Hour
            && matches!(
                tz.from_local_datetime(&local.naive_local()),
                chrono::LocalResult::Ambiguous(..)
            );
        if repeated {
            format!("{key}{}", local.format("%:z"))
        } else {
            key
        }
    }

    pub(super) fn len(&self) -> usize {
        self.buckets.len()
    }

    /// For each 15-minute slot of rollup `period`, the bucket it falls in
    /// (`u32::MAX` outside the range).
    pub(super) fn period_table(&self, period: i64) -> Vec<u32> {
        let slots = usize::try_from(SLOTS_PER_PERIOD).unwrap_or(0);
        let mut table = vec![u32::MAX; slots];
        let Some(base) = period.checked_mul(PERIOD_MS) else {
            return table;
        };
        let mut b = self.buckets.partition_point(|x| x.start_ms <= base);
        b = b.saturating_sub(1);
        for (slot, cell) in table.iter_mut().enumerate() {
            let ms = base.saturating_add(SLOT_MS.saturating_mul(slot as i64));
            if ms >= self.end_ms {
                break;
            }
            while self.buckets.get(b + 1).is_some_and(|x| x.start_ms <= ms) {
                b += 1;
            }
            if self.buckets.get(b).is_some_and(|x| x.start_ms <= ms) {
                *cell = u32::try_from(b).unwrap_or(u32::MAX);
            }
        }
        table
    }

    /// A series from per-bucket (new, returning) counts.
    pub(super) fn series(&self, counts: &[(u64, u64)]) -> Vec<Point> {
        self.buckets
            .iter()
            .zip(counts)
            .map(|(b, &(new, returning))| Point {
                bucket: b.label.clone(),
                start_ms: b.start_ms,
                utc_offset_secs: b.utc_offset_secs,
                referrals: new + returning,
                new,
                returning,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn previous_range_has_the_same_number_of_days_just_before() {
        assert_eq!(
            previous_range(day("2026-10-31"), day("2026-11-29")),
            Some((day("2026-10-01"), day("2026-10-30")))
        );
        assert_eq!(
            previous_range(day("2026-11-29"), day("2026-11-29")),
            Some((day("2026-11-28"), day("2026-11-28")))
        );
        // Across a year end.
        assert_eq!(
            previous_range(day("2026-01-02"), day("2026-01-07")),
            Some((day("2025-12-27"), day("2026-01-01")))
        );
        assert_eq!(
            previous_range(day("2026-01-01"), day("2026-01-07")),
            Some((day("2025-12-25"), day("2025-12-31")))
        );
        assert_eq!(previous_range(day("2026-11-02"), day("2026-11-01")), None);
        // Nothing before the event window.
        assert_eq!(previous_range(day("2004-01-01"), day("2004-01-02")), None);
    }

    #[test]
    fn a_month_is_compared_with_the_month_before_and_a_month_so_far_with_its_days() {
        // Whole months against whole months, whatever their lengths.
        assert_eq!(
            previous_range(day("2026-11-01"), day("2026-11-30")),
            Some((day("2026-10-01"), day("2026-10-31")))
        );
        assert_eq!(
            previous_range(day("2028-03-01"), day("2028-03-31")),
            Some((day("2028-02-01"), day("2028-02-29")))
        );
        assert_eq!(
            previous_range(day("2026-02-01"), day("2026-02-28")),
            Some((day("2026-01-01"), day("2026-01-31")))
        );
        assert_eq!(
            previous_range(day("2026-01-01"), day("2026-01-31")),
            Some((day("2025-12-01"), day("2025-12-31")))
        );
        // A part of a month: the same number of days just before by
        // default, the same days of the month before when asked.
        assert_eq!(
            previous_range(day("2026-12-01"), day("2026-12-05")),
            Some((day("2026-11-26"), day("2026-11-30")))
        );
        assert_eq!(
            same_days_last_month(day("2026-12-01"), day("2026-12-05")),
            Some((day("2026-11-01"), day("2026-11-05")))
        );
        // The 30th of March has no 30th of February: its last day.
        assert_eq!(
            same_days_last_month(day("2026-03-01"), day("2026-03-30")),
            Some((day("2026-02-01"), day("2026-02-28")))
        );
        assert_eq!(
            same_days_last_month(day("2026-01-01"), day("2026-01-01")),
            Some((day("2025-12-01"), day("2025-12-01")))
        );
        assert_eq!(
            same_days_last_month(day("2026-11-01"), day("2026-11-30")),
            Some((day("2026-10-01"), day("2026-10-31")))
        );
        assert_eq!(
            same_days_last_month(day("2004-01-01"), day("2004-01-05")),
            None
        );
        // The last day of a month against the last day of the month before.
        assert_eq!(
            previous_range(day("2026-03-01"), day("2026-03-01")),
            Some((day("2026-02-28"), day("2026-02-28")))
        );
    }

    #[test]
    fn previous_range_across_a_clock_change_counts_local_days() {
        // Berlin's clocks went back on 2026-10-25: the range has a 25-hour day,
        // the previous one none; both are 7 local days of buckets.
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let (from, to) = (day("2026-10-22"), day("2026-10-28"));
        let (pf, pt) = previous_range(from, to).unwrap();
        assert_eq!((pf, pt), (day("2026-10-15"), day("2026-10-21")));
        let span = |f: NaiveDate, t: NaiveDate| Span {
            from: f,
            to: t,
            from_ms: midnight_ms(&tz, f),
            to_ms: midnight_ms(&tz, t.succ_opt().unwrap()),
            every: Every::Day,
        };
        let (now, before) = (span(from, to), span(pf, pt));
        assert_eq!(now.to_ms - now.from_ms, 7 * 86_400_000 + 3_600_000);
        assert_eq!(before.to_ms - before.from_ms, 7 * 86_400_000);
        assert_eq!(
            BucketTable::build(&tz, &now).len(),
            BucketTable::build(&tz, &before).len()
        );
        // By the hour, the repeated hour is one bucket more.
        let hourly = |s: Span| {
            BucketTable::build(
                &tz,
                &Span {
                    every: Every::Hour,
                    ..s
                },
            )
            .len()
        };
        assert_eq!(hourly(now), hourly(before) + 1);
        // Spring forward (2026-03-29): one hour fewer, still 7 days.
        let (from, to) = (day("2026-03-29"), day("2026-04-04"));
        let (pf, _) = previous_range(from, to).unwrap();
        assert_eq!(pf, day("2026-03-22"));
        assert_eq!(
            hourly(span(from, to)) + 1,
            hourly(span(pf, day("2026-03-28")))
        );
    }
}
