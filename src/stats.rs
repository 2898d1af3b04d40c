//! Referral statistics for charts and tables: totals, unique people, new
//! versus returning, and time series per group, in any IANA time zone.
//!
//! Series come from the rollups kept by the store (15-minute slots per UTC
//! day, page, ref and source), so chart queries do not scan raw events.
//! Unique people need the raw events of the range and are optional.

use crate::model::{Kind, Page};
use crate::store::{
    LinkFilter, PERIOD_MS, SLOT_MS, SLOTS_PER_PERIOD, Store, StoreError, for_each_slot,
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

/// What can go wrong in a stats query.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// A bad option.
    #[error("invalid {field} {value:?}: {rule}")]
    Invalid {
        /// The option.
        field: &'static str,
        /// Its value.
        value: String,
        /// The rule.
        rule: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, value: &str, rule: &str) -> StatsError {
    StatsError::Invalid {
        field,
        value: value.to_string(),
        rule: rule.to_string(),
    }
}

/// How referrals are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// Defined links, by ref code (untracked refs are listed apart).
    Link,
    /// Every ref seen, defined or not.
    Ref,
    /// Channel of the link.
    Channel,
    /// Campaign of the link.
    Campaign,
    /// `source` as sent by Meta.
    Source,
    /// New versus returning.
    Kind,
    /// Page.
    Page,
}

impl FromStr for GroupBy {
    type Err = StatsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "link" => GroupBy::Link,
            "ref" => GroupBy::Ref,
            "channel" => GroupBy::Channel,
            "campaign" => GroupBy::Campaign,
            "source" => GroupBy::Source,
            "kind" => GroupBy::Kind,
            "page" => GroupBy::Page,
            _ => {
                return Err(invalid(
                    "by",
                    s,
                    "use link, ref, channel, campaign, source, kind or page",
                ));
            }
        })
    }
}

/// Bucket size of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    /// One bucket per hour.
    Hour,
    /// Per day.
    Day,
    /// Per ISO week (starting Monday).
    Week,
    /// Per calendar month.
    Month,
}

impl FromStr for Every {
    type Err = StatsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "hour" => Every::Hour,
            "day" => Every::Day,
            "week" => Every::Week,
            "month" => Every::Month,
            _ => return Err(invalid("every", s, "use hour, day, week or month")),
        })
    }
}

impl Every {
    /// A sensible bucket for a range of `days` days.
    pub fn auto(days: i64) -> Self {
        match days {
            ..=2 => Every::Hour,
            3..=92 => Every::Day,
            93..=730 => Every::Week,
            _ => Every::Month,
        }
    }

    fn key(self, t: &DateTime<Tz>) -> String {
        match self {
            Every::Hour => format!("{}T{:02}:00", t.date_naive(), t.hour()),
            Every::Day => t.date_naive().to_string(),
            Every::Week => {
                let d = t.date_naive();
                (d - Duration::days(i64::from(d.weekday().num_days_from_monday()))).to_string()
            }
            Every::Month => format!("{:04}-{:02}", t.year(), t.month()),
        }
    }
}

impl fmt::Display for Every {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Every::Hour => "hour",
            Every::Day => "day",
            Every::Week => "week",
            Every::Month => "month",
        })
    }
}

/// Parses an IANA zone name such as `Europe/Berlin`.
pub fn parse_tz(s: &str) -> Result<Tz, StatsError> {
    s.trim().parse::<Tz>().map_err(|_| {
        invalid(
            "tz",
            s,
            "use an IANA time zone name such as Europe/Berlin or UTC",
        )
    })
}

/// The machine's zone, or UTC when it cannot be told.
pub fn local_tz() -> Tz {
    std::env::var("TZ")
        .ok()
        .and_then(|z| z.parse().ok())
        .or_else(|| {
            std::fs::read_link("/etc/localtime").ok().and_then(|p| {
                let s = p.to_string_lossy().into_owned();
                s.split("zoneinfo/").nth(1).and_then(|z| z.parse().ok())
            })
        })
        .or_else(|| {
            std::fs::read_to_string("/etc/timezone")
                .ok()
                .and_then(|z| z.trim().parse().ok())
        })
        .unwrap_or(Tz::UTC)
}

/// A stats query.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    /// First day (in `tz`), inclusive; `None` = the first day with events.
    pub from: Option<NaiveDate>,
    /// Last day (in `tz`), inclusive; `None` = the last day with events.
    pub to: Option<NaiveDate>,
    /// Time zone of days and buckets.
    pub tz: Tz,
    /// Grouping.
    pub by: GroupBy,
    /// Bucket size; `None` picks one from the range.
    pub every: Option<Every>,
    /// Count distinct people (reads raw events of the range).
    pub unique_people: bool,
    /// Only events of this page (its numeric id); `None` for every page.
    pub page_id: Option<String>,
}

impl StatsQuery {
    /// Everything, by link, per day, in UTC.
    pub fn new(by: GroupBy, tz: Tz) -> Self {
        Self {
            from: None,
            to: None,
            tz,
            by,
            every: None,
            unique_people: true,
            page_id: None,
        }
    }
}

/// One bucket of a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Point {
    /// Bucket label: `2026-11-25`, `2026-11-25T13:00`, `2026-11` (weeks: their Monday).
    pub bucket: String,
    /// Referrals.
    pub referrals: u64,
    /// New conversations.
    pub new: u64,
    /// Returning people.
    pub returning: u64,
}

/// Totals and series of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupStats {
    /// Ref, channel, campaign, source, kind or page.
    pub key: String,
    /// Referrals.
    pub referrals: u64,
    /// Distinct people (0 when not asked for).
    pub unique_people: u64,
    /// New conversations.
    pub new: u64,
    /// Returning people.
    pub returning: u64,
    /// One point per bucket of the range, zeros included.
    pub series: Vec<Point>,
}

/// A ref seen in events that no link defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UntrackedRef {
    /// The ref.
    #[serde(rename = "ref")]
    pub ref_code: String,
    /// The page it reached.
    pub page_id: String,
    /// Referrals.
    pub referrals: u64,
}

/// Totals over every group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Referrals.
    pub referrals: u64,
    /// Distinct people.
    pub unique_people: u64,
    /// New conversations.
    pub new: u64,
    /// Returning people.
    pub returning: u64,
}

/// The answer to a [`StatsQuery`].
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// First day.
    pub from: Option<String>,
    /// Last day.
    pub to: Option<String>,
    /// Zone name.
    pub tz: String,
    /// Bucket size.
    pub every: Every,
    /// Grouping.
    pub by: GroupBy,
    /// Totals over the range.
    pub totals: Totals,
    /// Groups, most referrals first.
    pub groups: Vec<GroupStats>,
    /// Refs without a link, most referrals first.
    pub untracked_refs: Vec<UntrackedRef>,
}

/// What a (page, ref) pair maps to.
struct LinkInfo {
    ref_code: String,
    channel: String,
    campaign: String,
}

struct Links {
    exact: HashMap<(String, String), LinkInfo>,
    by_ref: HashMap<String, LinkInfo>,
    page_names: HashMap<String, String>,
}

impl Links {
    fn load(store: &Store) -> Result<Self, StoreError> {
        let pages: HashMap<i64, Page> = store.pages()?.into_iter().map(|p| (p.id, p)).collect();
        let mut exact = HashMap::new();
        let mut by_ref = HashMap::new();
        let page_names = pages
            .values()
            .filter_map(|p| p.numeric_id().map(|id| (id.to_string(), p.name.clone())))
            .collect();
        for row in store.links(&LinkFilter {
            include_archived: true,
            ..LinkFilter::default()
        })? {
            let info = LinkInfo {
                ref_code: row.link.ref_code.clone(),
                channel: row.channel_name,
                campaign: row.campaign_name,
            };
            match pages.get(&row.link.page).and_then(Page::numeric_id) {
                Some(id) => {
                    exact.insert((id.to_string(), row.link.ref_code), info);
                }
                // Without a Page ID the page's events are matched by ref alone.
                None => {
                    by_ref.insert(row.link.ref_code, info);
                }
            }
        }
        Ok(Self {
            exact,
            by_ref,
            page_names,
        })
    }

    fn find(&self, page_id: &str, ref_code: &str) -> Option<&LinkInfo> {
        self.exact
            .get(&(page_id.to_string(), ref_code.to_string()))
            .or_else(|| self.by_ref.get(ref_code))
    }
}

/// Local midnight of `day` in `tz`, in ms (DST gaps move it to the first valid instant).
fn midnight_ms(tz: &Tz, day: NaiveDate) -> i64 {
    let naive = day.and_time(chrono::NaiveTime::MIN);
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.timestamp_millis()
        }
        chrono::LocalResult::None => tz
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map(|t| t.timestamp_millis())
            .unwrap_or_else(|| naive.and_utc().timestamp_millis()),
    }
}

fn none_label(s: &str) -> String {
    if s.is_empty() {
        "(none)".into()
    } else {
        s.to_string()
    }
}

/// The group a (page, ref, source) combination falls in; `None` for
/// [`GroupBy::Kind`] (split per count) and for untracked refs by link.
fn group_key(
    by: GroupBy,
    links: &Links,
    link: Option<&LinkInfo>,
    page_id: &str,
    ref_code: &str,
    source: &str,
) -> Option<String> {
    match by {
        GroupBy::Link => link.map(|l| l.ref_code.clone()),
        GroupBy::Ref => Some(none_label(ref_code)),
        GroupBy::Channel => Some(link.map_or("(untracked)".into(), |l| l.channel.clone())),
        GroupBy::Campaign => Some(link.map_or("(untracked)".into(), |l| l.campaign.clone())),
        GroupBy::Source => Some(none_label(source)),
        GroupBy::Kind => None,
        GroupBy::Page => Some(
            links
                .page_names
                .get(page_id)
                .cloned()
                .unwrap_or_else(|| page_id.to_string()),
        ),
    }
}

/// Runs a stats query against the store.
pub fn query(store: &Store, q: &StatsQuery) -> Result<Report, StatsError> {
    if let (Some(f), Some(t)) = (q.from, q.to)
        && t < f
    {
        return Err(invalid(
            "to",
            &t.to_string(),
            &format!("the range ends before it starts ({f})"),
        ));
    }
    let links = Links::load(store)?;
    let (from, to) = match (q.from, q.to) {
        (Some(f), Some(t)) => (f, t),
        _ => {
            // Open ends: take the days that have events.
            let Some((min, max)) = store.event_time_range()? else {
                return Ok(empty_report(q));
            };
            let local = |ms: i64| {
                DateTime::from_timestamp_millis(ms)
                    .map(|t| t.with_timezone(&q.tz).date_naive())
                    .unwrap_or_default()
            };
            (q.from.unwrap_or(local(min)), q.to.unwrap_or(local(max)))
        }
    };
    let days = (to - from).num_days() + 1;
    let every = q.every.unwrap_or(Every::auto(days));
    let from_ms = midnight_ms(&q.tz, from).div_euclid(SLOT_MS) * SLOT_MS;
    let to_ms = midnight_ms(&q.tz, to + Duration::days(1));
    let first_period = from_ms.div_euclid(PERIOD_MS);
    let last_period = (to_ms - 1).div_euclid(PERIOD_MS);

    // Walk the range slot by slot once: bucket labels and a slot → bucket table.
    let mut buckets: Vec<String> = Vec::new();
    let slots_len = ((last_period - first_period + 1) * SLOTS_PER_PERIOD) as usize;
    let mut slot_bucket = vec![u32::MAX; slots_len];
    let mut ms = from_ms;
    let mut last_local: Option<(NaiveDate, u32)> = None;
    while ms < to_ms {
        if let Some(t) = DateTime::from_timestamp_millis(ms) {
            let local = t.with_timezone(&q.tz);
            // Format a label only when the local hour changes.
            let id = (local.date_naive(), local.hour());
            if last_local != Some(id) {
                last_local = Some(id);
                let key = every.key(&local);
                if buckets.last() != Some(&key) {
                    buckets.push(key);
                }
            }
            let idx = ((ms - first_period * PERIOD_MS) / SLOT_MS) as usize;
            if let Some(s) = slot_bucket.get_mut(idx) {
                *s = (buckets.len() - 1) as u32;
            }
        }
        ms += SLOT_MS;
    }

    // Hot loop: one rollup row per (day, page, ref, source). Each distinct
    // (page, ref, source) is resolved to its group once, through a reused key buffer.
    #[derive(Clone, Copy)]
    struct Target {
        group: Option<usize>,
        untracked: Option<usize>,
    }
    let n = buckets.len();
    let mut group_keys: Vec<String> = Vec::new();
    let mut group_index: HashMap<String, usize> = HashMap::new();
    let mut series: Vec<Vec<(u64, u64)>> = Vec::new();
    if q.by == GroupBy::Kind {
        group_keys = vec!["new".into(), "returning".into()];
        series = vec![vec![(0, 0); n], vec![(0, 0); n]];
    }
    let mut untracked_keys: Vec<(String, String)> = Vec::new();
    let mut untracked_counts: Vec<u64> = Vec::new();
    let mut cache: HashMap<String, Target> = HashMap::new();
    let mut key_buf = String::new();
    let mut totals = Totals::default();
    let page_filter = q.page_id.as_deref();
    store.for_each_rollup(
        first_period,
        last_period,
        |period, page_id, ref_code, source, slots| {
            if page_filter.is_some_and(|p| p != page_id) {
                return;
            }
            key_buf.clear();
            for part in [page_id, "\0", ref_code, "\0", source] {
                key_buf.push_str(part);
            }
            let target = match cache.get(key_buf.as_str()) {
                Some(t) => *t,
                None => {
                    let link = links.find(page_id, ref_code);
                    let group = group_key(q.by, &links, link, page_id, ref_code, source).map(|k| {
                        *group_index.entry(k.clone()).or_insert_with(|| {
                            group_keys.push(k);
                            series.push(vec![(0, 0); n]);
                            series.len() - 1
                        })
                    });
                    let untracked = (link.is_none() && !ref_code.is_empty()).then(|| {
                        let k = (ref_code.to_string(), page_id.to_string());
                        match untracked_keys.iter().position(|u| *u == k) {
                            Some(i) => i,
                            None => {
                                untracked_keys.push(k);
                                untracked_counts.push(0);
                                untracked_keys.len() - 1
                            }
                        }
                    });
                    let t = Target { group, untracked };
                    cache.insert(key_buf.clone(), t);
                    t
                }
            };
            let base = ((period - first_period) * SLOTS_PER_PERIOD) as usize;
            let table = slot_bucket.get(base..).unwrap_or(&[]);
            let (mut row_new, mut row_ret) = (0u64, 0u64);
            let kind_split = q.by == GroupBy::Kind;
            for_each_slot(slots, |slot, new, ret| {
                let Some(&b) = table.get(slot) else { return };
                if b == u32::MAX {
                    return;
                }
                let (new, ret) = (u64::from(new), u64::from(ret));
                row_new += new;
                row_ret += ret;
                let b = b as usize;
                if kind_split {
                    series[0][b].0 += new;
                    series[1][b].1 += ret;
                } else if let Some(g) = target.group {
                    series[g][b].0 += new;
                    series[g][b].1 += ret;
                }
            });
            totals.new += row_new;
            totals.returning += row_ret;
            if let Some(u) = target.untracked {
                untracked_counts[u] += row_new + row_ret;
            }
        },
    )?;
    totals.referrals = totals.new + totals.returning;

    let mut people: HashMap<String, HashSet<String>> = HashMap::new();
    if q.unique_people {
        let mut all = HashSet::new();
        for row in store.people(from_ms, to_ms)? {
            if page_filter.is_some_and(|p| p != row.page_id) {
                continue;
            }
            let link = links.find(&row.page_id, &row.ref_code);
            let key = match q.by {
                GroupBy::Kind => Kind::parse(&row.kind).map(|k| k.as_str().to_string()),
                by => group_key(by, &links, link, &row.page_id, &row.ref_code, &row.source),
            };
            let sender = row.sender;
            if let Some(k) = key {
                people.entry(k).or_default().insert(sender.clone());
            }
            all.insert(sender);
        }
        totals.unique_people = all.len() as u64;
    }

    let mut out: Vec<GroupStats> = group_keys
        .into_iter()
        .zip(series)
        .filter(|(_, s)| s.iter().any(|p| p.0 + p.1 > 0))
        .map(|(key, series)| {
            let new: u64 = series.iter().map(|p| p.0).sum();
            let returning: u64 = series.iter().map(|p| p.1).sum();
            GroupStats {
                unique_people: people.get(&key).map_or(0, |s| s.len() as u64),
                key,
                referrals: new + returning,
                new,
                returning,
                series: series
                    .into_iter()
                    .zip(&buckets)
                    .map(|((n, r), b)| Point {
                        bucket: b.clone(),
                        referrals: n + r,
                        new: n,
                        returning: r,
                    })
                    .collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.referrals
            .cmp(&a.referrals)
            .then_with(|| a.key.cmp(&b.key))
    });
    let mut untracked_refs: Vec<UntrackedRef> = untracked_keys
        .into_iter()
        .zip(untracked_counts)
        .filter(|(_, n)| *n > 0)
        .map(|((ref_code, page_id), referrals)| UntrackedRef {
            ref_code,
            page_id,
            referrals,
        })
        .collect();
    untracked_refs.sort_by(|a, b| {
        b.referrals
            .cmp(&a.referrals)
            .then_with(|| a.ref_code.cmp(&b.ref_code))
    });
    Ok(Report {
        from: Some(from.to_string()),
        to: Some(to.to_string()),
        tz: q.tz.name().to_string(),
        every,
        by: q.by,
        totals,
        groups: out,
        untracked_refs,
    })
}

fn empty_report(q: &StatsQuery) -> Report {
    Report {
        from: q.from.map(|d| d.to_string()),
        to: q.to.map(|d| d.to_string()),
        tz: q.tz.name().to_string(),
        every: q.every.unwrap_or(Every::Day),
        by: q.by,
        totals: Totals::default(),
        groups: Vec::new(),
        untracked_refs: Vec::new(),
    }
}
