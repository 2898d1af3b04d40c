//! Referral statistics for charts and tables: totals, unique people, new
//! versus returning, and time series per group, in any IANA time zone.
//!
//! Series come from the rollups kept by the store (15-minute slots per UTC
//! week, page, ref and source), so chart queries do not scan raw events.
//! Unique people need the raw events of the range and are optional.
//!
//! A query runs in five steps, each its own function: range resolution
//! ([`resolve_range`]), the bucket table ([`BucketTable`]), aggregation
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
//! Refs are credited to links in one place, [`resolved_refs`]: each link's
//! own ref and its aliases (typo rescue), so an alias's referrals count for
//! its link in every grouping and in unique people, past and future.

use crate::model::{EVENT_WINDOW_FUTURE_MS, EVENT_WINDOW_START_MS, Kind, Page, ValidationError};
use crate::store::{
    DAY_MS, Dim, LinkFilter, PERIOD_MS, RowKey, SLOT_MS, SLOTS_PER_PERIOD, SPANS_DAYS, Store,
    StoreError, decode_people, for_each_slot,
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Timelike};
use chrono_tz::Tz;
use roaring::{MultiOps, RoaringBitmap};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// Longest range a query may cover, in days (about 100 years).
pub const MAX_RANGE_DAYS: i64 = 36_525;
/// Most buckets a series may have (for example 416 days by the hour).
pub const MAX_BUCKETS: i64 = 10_000;
/// Groups shown with a series when the caller does not say (`--top`).
pub const DEFAULT_TOP: usize = 20;
/// Untracked refs returned per page when the caller does not say.
pub const DEFAULT_UNTRACKED_LIMIT: usize = 100;

/// The first day a range may start: 2004-01-01, where the event window starts.
pub fn min_query_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2004, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// What can go wrong in a stats query.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// A bad option: names the field, the value and the rule. The
    /// ValidationError is the source, so the CLI finds it in the chain.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, value: &str, rule: &str) -> StatsError {
    StatsError::Invalid(ValidationError::new(field, value, rule))
}

/// How referrals are grouped. The one definition: the CLI (`--by`, through
/// clap's `ValueEnum`) and the dashboard's menu both use it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// Defined links, by ref code (untracked refs are listed apart).
    #[default]
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
    /// Ad, for ad referrals: its title, else its id ("(not an ad)" otherwise).
    Ad,
    /// Platform: Messenger or Instagram.
    Platform,
}

impl GroupBy {
    /// Every grouping, in menu order.
    pub const ALL: [GroupBy; 9] = [
        GroupBy::Link,
        GroupBy::Ref,
        GroupBy::Channel,
        GroupBy::Campaign,
        GroupBy::Source,
        GroupBy::Kind,
        GroupBy::Page,
        GroupBy::Ad,
        GroupBy::Platform,
    ];

    /// The name used on the command line and in JSON, e.g. `link`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Link => "link",
            GroupBy::Ref => "ref",
            GroupBy::Channel => "channel",
            GroupBy::Campaign => "campaign",
            GroupBy::Source => "source",
            GroupBy::Kind => "kind",
            GroupBy::Page => "page",
            GroupBy::Ad => "ad",
            GroupBy::Platform => "platform",
        }
    }

    /// Menu text for the dashboard.
    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Link => "Link",
            GroupBy::Ref => "Ref",
            GroupBy::Channel => "Channel",
            GroupBy::Campaign => "Campaign",
            GroupBy::Source => "Source",
            GroupBy::Kind => "New vs returning",
            GroupBy::Page => "Page",
            GroupBy::Ad => "Ad",
            GroupBy::Platform => "Platform",
        }
    }

    /// The name of the column that holds the group in tables and CSV files:
    /// what it groups by ("Link", "Channel"), never "key".
    pub fn column_name(self) -> &'static str {
        match self {
            GroupBy::Kind => "New or returning",
            other => other.label(),
        }
    }

    /// The plural noun of the "Other (k …)" row, e.g. `refs`.
    pub fn plural(self) -> &'static str {
        match self {
            GroupBy::Link => "links",
            GroupBy::Ref => "refs",
            GroupBy::Channel => "channels",
            GroupBy::Campaign => "campaigns",
            GroupBy::Source => "sources",
            GroupBy::Kind => "kinds",
            GroupBy::Page => "pages",
            GroupBy::Ad => "ads",
            GroupBy::Platform => "platforms",
        }
    }
}

impl GroupBy {
    /// A group's key as people read it: sources and kinds in words (see
    /// [`crate::model::source_label`]); names and refs as they are. JSON
    /// keeps the raw key.
    pub fn key_label(self, key: &str) -> String {
        match self {
            GroupBy::Source => crate::model::source_label(key),
            GroupBy::Kind => match Kind::parse(key) {
                Some(Kind::New) => "New".into(),
                Some(Kind::Returning) => "Returning".into(),
                None => key.to_string(),
            },
            _ => key.to_string(),
        }
    }
}

/// A range as people write it: `1–30 Oct 2026`, `28 Sep – 27 Oct 2026`,
/// `20 Dec 2025 – 18 Jan 2026`, or one day: `3 Nov 2026`.
pub fn format_range(from: NaiveDate, to: NaiveDate) -> String {
    if from == to {
        return from.format("%-d %b %Y").to_string();
    }
    if from.year() == to.year() && from.month() == to.month() {
        format!("{}–{}", from.format("%-d"), to.format("%-d %b %Y"))
    } else if from.year() == to.year() {
        format!("{} – {}", from.format("%-d %b"), to.format("%-d %b %Y"))
    } else {
        format!("{} – {}", from.format("%-d %b %Y"), to.format("%-d %b %Y"))
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GroupBy {
    type Err = StatsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        GroupBy::ALL
            .into_iter()
            .find(|g| g.as_str() == wanted)
            .ok_or_else(|| {
                invalid(
                    "by",
                    s,
                    "use link, ref, channel, campaign, source, kind, page, ad or platform",
                )
            })
    }
}

/// Bucket size of a series. The one definition, shared by CLI and dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    /// One bucket per local hour (the repeated hour of an autumn clock
    /// change is two buckets, each labelled with its UTC offset).
    Hour,
    /// Per local day.
    Day,
    /// Per ISO week (starting Monday).
    Week,
    /// Per calendar month.
    Month,
}

impl Every {
    /// Every bucket size, smallest first.
    pub const ALL: [Every; 4] = [Every::Hour, Every::Day, Every::Week, Every::Month];

    /// The name used on the command line and in JSON, e.g. `day`.
    pub fn as_str(self) -> &'static str {
        match self {
            Every::Hour => "hour",
            Every::Day => "day",
            Every::Week => "week",
            Every::Month => "month",
        }
    }

    /// Menu text for the dashboard.
    pub fn label(self) -> &'static str {
        match self {
            Every::Hour => "Hour",
            Every::Day => "Day",
            Every::Week => "Week",
            Every::Month => "Month",
        }
    }

    /// A sensible bucket for a range of `days` days.
    pub fn auto(days: i64) -> Self {
        match days {
            ..=2 => Every::Hour,
            3..=92 => Every::Day,
            93..=730 => Every::Week,
            _ => Every::Month,
        }
    }

    /// At most how many buckets a range of `days` days needs (an upper bound,
    /// checked before anything is built).
    fn max_buckets(self, days: i64) -> i64 {
        match self {
            Every::Hour => days.saturating_mul(25),
            Every::Day => days,
            Every::Week => days / 7 + 2,
            Every::Month => days / 28 + 2,
        }
    }

    /// The label of the bucket starting at `t`.
    fn key(self, t: &DateTime<Tz>) -> String {
        match self {
            Every::Hour => format!("{}T{:02}:00", t.date_naive(), t.hour()),
            Every::Day => t.date_naive().to_string(),
            Every::Week => {
                let d = t.date_naive();
                d.checked_sub_signed(Duration::days(i64::from(
                    d.weekday().num_days_from_monday(),
                )))
                .unwrap_or(d)
                .to_string()
            }
            Every::Month => format!("{:04}-{:02}", t.year(), t.month()),
        }
    }

    /// The local day on which the bucket after the one holding `day` starts
    /// (hours are stepped in UTC instead, see [`BucketTable::build`]).
    fn next_day(self, day: NaiveDate) -> Option<NaiveDate> {
        match self {
            Every::Hour | Every::Day => day.succ_opt(),
            Every::Week => day.checked_add_signed(Duration::days(
                7 - i64::from(day.weekday().num_days_from_monday()),
            )),
            Every::Month => {
                let (y, m) = if day.month() == 12 {
                    (day.year().checked_add(1)?, 1)
                } else {
                    (day.year(), day.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1)
            }
        }
    }
}

impl fmt::Display for Every {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Every {
    type Err = StatsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Every::ALL
            .into_iter()
            .find(|e| e.as_str() == wanted)
            .ok_or_else(|| invalid("every", s, "use hour, day, week or month"))
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

/// The period of the same length just before `from..=to` (local days,
/// both inclusive), for "change against the previous period": for the 30
/// days 31 Oct – 29 Nov it is 1–30 Oct, and for 1–30 Nov it is 2–31 Oct. A
/// same-length period lines up day by day with the current one on the
/// chart's dashed overlay, which whole calendar months would not. Days are
/// local, so a range across a clock change has a previous range of as many
/// days, not of as many hours. `None` when the range is reversed or the
/// previous range would start before [`min_query_date`].
pub fn previous_range(from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    if to < from {
        return None;
    }
    let days = (to - from).num_days().checked_add(1)?;
    let prev_to = from.pred_opt()?;
    let prev_from = from.checked_sub_signed(Duration::try_days(days)?)?;
    (prev_from >= min_query_date()).then_some((prev_from, prev_to))
}

/// A short text for a range of days: `5 Nov`, `1–30 Oct`, `28 Sep – 27 Oct`,
/// `15 Dec 2025 – 13 Jan 2026` (the year only when the two differ).
pub fn period_label(from: NaiveDate, to: NaiveDate) -> String {
    if from == to {
        from.format("%-d %b").to_string()
    } else if (from.year(), from.month()) == (to.year(), to.month()) {
        format!("{}–{}", from.day(), to.format("%-d %b"))
    } else if from.year() == to.year() {
        format!("{} – {}", from.format("%-d %b"), to.format("%-d %b"))
    } else {
        format!("{} – {}", from.format("%-d %b %Y"), to.format("%-d %b %Y"))
    }
}

/// The change of a figure against the previous period. A previous figure of
/// 0 has no percentage (it would be infinite): that is [`Change::NoPrevious`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Higher by this many percent (rounded, half away from zero).
    Up(u64),
    /// Lower by this many percent (rounded, half away from zero).
    Down(u64),
    /// The same figure.
    Same,
    /// The previous period had nothing to compare with.
    NoPrevious,
}

impl Change {
    /// The change from `previous` to `current`.
    pub fn between(current: u64, previous: u64) -> Self {
        if previous == 0 {
            return Change::NoPrevious;
        }
        let (diff, up) = if current >= previous {
            (current - previous, true)
        } else {
            (previous - current, false)
        };
        if diff == 0 {
            return Change::Same;
        }
        // u128: no overflow for any u64 counts.
        let pct = (u128::from(diff) * 200 + u128::from(previous)) / (u128::from(previous) * 2);
        let pct = u64::try_from(pct).unwrap_or(u64::MAX);
        if up {
            Change::Up(pct)
        } else {
            Change::Down(pct)
        }
    }

    /// The card line with the previous period named in full, e.g.
    /// `▲ 12% vs 1–30 Oct 2026` (see [`format_range`]).
    pub fn describe(self, previous: (NaiveDate, NaiveDate)) -> String {
        self.text(&format_range(previous.0, previous.1))
    }

    /// The card text, e.g. `▲ 12% vs 1–30 Oct`; `previous` names the
    /// previous period (see [`period_label`]). A change that rounds to 0%
    /// reads `<1%`, so a change never looks like none.
    pub fn text(self, previous: &str) -> String {
        let pct = |p: u64| {
            if p == 0 {
                "<1%".to_string()
            } else {
                format!("{p}%")
            }
        };
        match self {
            Change::Up(p) => format!("▲ {} vs {previous}", pct(p)),
            Change::Down(p) => format!("▼ {} vs {previous}", pct(p)),
            Change::Same => format!("no change vs {previous}"),
            Change::NoPrevious => "no data in the previous period".to_string(),
        }
    }
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
    /// With `page_id`: events carrying this Instagram account id count for
    /// the same page (Instagram events name the account, not the Page).
    pub ig_id: Option<String>,
    /// Groups shown with a series, most referrals first (at least 1); the
    /// rest are summed into [`Report::other`].
    pub top: usize,
    /// Untracked refs to skip (paging).
    pub untracked_offset: usize,
    /// Untracked refs to return at most (paging).
    pub untracked_limit: usize,
    /// Only referrals of links (and their aliases) in the campaign of this
    /// name (letter case ignored); `None` for every referral.
    pub campaign: Option<String>,
}

impl StatsQuery {
    /// Everything, with the given grouping, buckets chosen from the range,
    /// the top [`DEFAULT_TOP`] groups and the first [`DEFAULT_UNTRACKED_LIMIT`] untracked refs.
    pub fn new(by: GroupBy, tz: Tz) -> Self {
        Self {
            from: None,
            to: None,
            tz,
            by,
            every: None,
            unique_people: true,
            page_id: None,
            ig_id: None,
            top: DEFAULT_TOP,
            untracked_offset: 0,
            untracked_limit: DEFAULT_UNTRACKED_LIMIT,
            campaign: None,
        }
    }
}

impl StatsQuery {
    /// Keeps only the events of `page`: those carrying its Facebook Page ID
    /// or its Instagram account id. A page without either matches nothing
    /// but events with an empty page id, so callers check `numeric_id` first.
    pub fn set_page(&mut self, page: &Page) {
        self.page_id = Some(page.numeric_id().unwrap_or_default().to_string());
        self.ig_id = page.ig_id.clone();
    }

    /// The page filter as (Page ID, Instagram account id), if any.
    fn page_filter(&self) -> Option<PageFilter<'_>> {
        self.page_id.as_deref().map(|id| PageFilter {
            page_id: id,
            ig_id: self.ig_id.as_deref(),
        })
    }
}

/// The ids an event's `page_id` may carry to belong to the chosen page.
#[derive(Debug, Clone, Copy)]
struct PageFilter<'a> {
    page_id: &'a str,
    ig_id: Option<&'a str>,
}

impl PageFilter<'_> {
    fn matches(&self, event_page_id: &str) -> bool {
        self.page_id == event_page_id || self.ig_id == Some(event_page_id)
    }
}

/// One bucket of a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Point {
    /// Bucket label: `2026-11-25`, `2026-11-25T13:00`, `2026-11` (weeks: their
    /// Monday). The two buckets of a repeated hour carry their offset:
    /// `2026-10-25T02:00+02:00`, `2026-10-25T02:00+01:00`.
    pub bucket: String,
    /// Where the bucket starts, ms since the Unix epoch (charts use this,
    /// never the label).
    pub start_ms: i64,
    /// The zone's offset from UTC at the bucket's start, in seconds.
    pub utc_offset_secs: i32,
    /// Referrals.
    pub referrals: u64,
    /// New conversations.
    pub new: u64,
    /// Returning people.
    pub returning: u64,
}

/// Totals and series of one group. In JSON, `key` is `null` for the group
/// of referrals without a ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStats {
    /// Ref, channel, campaign, source, kind or page; [`NO_REF_LABEL`] for
    /// referrals without a ref (see `missing_ref`).
    pub key: String,
    /// This group holds the referrals that carried no ref at all (apart from
    /// an empty ref and from a ref that reads like the label).
    pub missing_ref: bool,
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

impl Serialize for GroupStats {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("GroupStats", 6)?;
        st.serialize_field("key", &(!self.missing_ref).then_some(&self.key))?;
        st.serialize_field("referrals", &self.referrals)?;
        st.serialize_field("unique_people", &self.unique_people)?;
        st.serialize_field("new", &self.new)?;
        st.serialize_field("returning", &self.returning)?;
        st.serialize_field("series", &self.series)?;
        st.end()
    }
}

/// The groups past the top N, summed into one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherGroups {
    /// How many groups were summed.
    pub groups: u64,
    /// Referrals.
    pub referrals: u64,
    /// Distinct people (0 when not asked for).
    pub unique_people: u64,
    /// New conversations.
    pub new: u64,
    /// Returning people.
    pub returning: u64,
    /// One point per bucket, as for a group.
    pub series: Vec<Point>,
}

impl OtherGroups {
    /// The row's label, e.g. `Other (1234 refs)`.
    pub fn label(&self, by: GroupBy) -> String {
        format!("Other ({} {})", self.groups, by.plural())
    }
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
    /// The top groups, most referrals first.
    pub groups: Vec<GroupStats>,
    /// Every group past the top ones, summed; `None` when all are shown.
    pub other: Option<OtherGroups>,
    /// Untracked refs in the whole range (all pages of the list).
    pub untracked_total: usize,
    /// Where this page of untracked refs starts.
    pub untracked_offset: usize,
    /// One page of refs without a link, most referrals first.
    pub untracked_refs: Vec<UntrackedRef>,
    /// Whether unique people were counted. The dashboard first gets a report
    /// without them (drawn at once), then the same report with them.
    #[serde(skip)]
    pub unique_people_counted: bool,
}

/// The header of the group table as CSV (the dashboard's export): the group
/// column named by what it groups, the counts, then the range and zone
/// columns that [`range_cells`] fills on every row.
pub fn table_csv_header(by: GroupBy) -> Vec<String> {
    [
        by.column_name(),
        "Referrals",
        "Unique people",
        "New",
        "Returning",
    ]
    .into_iter()
    .chain(RANGE_COLUMNS)
    .map(String::from)
    .collect()
}

/// The header of the series as CSV (`stats --csv`): one row per group and bucket.
pub fn series_csv_header(by: GroupBy) -> Vec<String> {
    [by.column_name(), "Bucket", "Referrals", "New", "Returning"]
        .into_iter()
        .chain(RANGE_COLUMNS)
        .map(String::from)
        .collect()
}

/// Range and zone columns closing every stats CSV row, so a row read on
/// its own still says what it covers.
const RANGE_COLUMNS: [&str; 3] = ["From", "To", "Time zone"];

/// The cells under [`RANGE_COLUMNS`]: first day, last day, zone name.
pub fn range_cells(report: &Report) -> [String; 3] {
    [
        report.from.clone().unwrap_or_default(),
        report.to.clone().unwrap_or_default(),
        report.tz.clone(),
    ]
}

/// What a (page, ref) pair maps to.
#[derive(Clone)]
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
        // Instagram events carry the account id, so it names the page too.
        let page_names = pages
            .values()
            .flat_map(|p| {
                [p.numeric_id(), p.ig_id.as_deref()]
                    .into_iter()
                    .flatten()
                    .map(|id| (id.to_string(), p.name.clone()))
            })
            .collect();
        for (page, ref_code, info) in resolved_refs(store)? {
            let page = pages.get(&page);
            match page.and_then(Page::numeric_id) {
                Some(id) => {
                    if let Some(ig) = page.and_then(|p| p.ig_id.as_deref()) {
                        exact.insert((ig.to_string(), ref_code.clone()), info.clone());
                    }
                    exact.insert((id.to_string(), ref_code), info);
                }
                // Without a Page ID the page's events are matched by ref alone.
                None => {
                    by_ref.insert(ref_code, info);
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

/// Every ref that counts for a link, as (page store id, ref, link): each
/// link's own ref, and each of its aliases (typo rescue), so that an
/// alias's referrals, past and future, count for its link in every grouping
/// and in unique people. The one place where refs are credited to links.
fn resolved_refs(store: &Store) -> Result<Vec<(i64, String, LinkInfo)>, StoreError> {
    let mut by_id: HashMap<i64, LinkInfo> = HashMap::new();
    let mut out = Vec::new();
    for row in store.links(&LinkFilter {
        include_archived: true,
        ..LinkFilter::default()
    })? {
        let info = LinkInfo {
            ref_code: row.link.ref_code.clone(),
            channel: row.channel_name,
            campaign: row.campaign_name,
        };
        by_id.insert(row.link.id, info.clone());
        out.push((row.link.page, row.link.ref_code, info));
    }
    for a in store.aliases(None, None)? {
        if let Some(info) = by_id.get(&a.alias.link) {
            out.push((a.alias.page, a.alias.ref_code, info.clone()));
        }
    }
    Ok(out)
}

/// How a referral without a ref is shown in tables and CSV (in JSON its key is `null`).
pub const NO_REF_LABEL: &str = "(no ref)";

/// How referrals that came from no ad are shown when grouping by ad.
pub const NOT_AN_AD_LABEL: &str = "(not an ad)";

/// The name people know a stored platform by ("Messenger", "Instagram");
/// an unknown one is shown as stored.
pub fn platform_label(platform: &str) -> String {
    match platform {
        "messenger" => "Messenger".into(),
        "instagram" => "Instagram".into(),
        other => none_label(other),
    }
}

/// A group's identity: its text, and whether it stands for "no ref" (so a
/// literal ref "(no ref)", an empty ref and no ref are three groups).
type GroupKey = (String, bool);

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
    row: &RowKey<'_>,
) -> Option<GroupKey> {
    let RowKey {
        page_id,
        ref_code,
        source,
        ..
    } = *row;
    let text = match by {
        GroupBy::Link => link.map(|l| l.ref_code.clone())?,
        GroupBy::Ref => match ref_code {
            Some(r) => r.to_string(),
            None => return Some((NO_REF_LABEL.to_string(), true)),
        },
        GroupBy::Channel => link.map_or("(untracked)".into(), |l| l.channel.clone()),
        GroupBy::Campaign => link.map_or("(untracked)".into(), |l| l.campaign.clone()),
        GroupBy::Source => none_label(source),
        GroupBy::Kind => return None,
        GroupBy::Page => links
            .page_names
            .get(page_id)
            .cloned()
            .unwrap_or_else(|| page_id.to_string()),
        GroupBy::Ad if row.ad.is_empty() => NOT_AN_AD_LABEL.to_string(),
        GroupBy::Ad => row.ad.to_string(),
        GroupBy::Platform => platform_label(row.platform),
    };
    Some((text, false))
}

/// Local midnight of `day` in `tz`, in ms (DST gaps move it to the first valid instant).
fn midnight_ms(tz: &Tz, day: NaiveDate) -> i64 {
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
struct Span {
    from: NaiveDate,
    to: NaiveDate,
    /// Start of `from`, ms.
    from_ms: i64,
    /// Start of the day after `to`, ms.
    to_ms: i64,
    every: Every,
}

impl Span {
    /// Rollup periods that overlap the range.
    fn periods(&self) -> (i64, i64) {
        (
            self.from_ms.div_euclid(PERIOD_MS),
            (self.to_ms - 1).div_euclid(PERIOD_MS),
        )
    }
}

/// Checks the dates the user gave against the documented limits.
fn check_dates(q: &StatsQuery) -> Result<(), StatsError> {
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
fn resolve_range(store: &Store, q: &StatsQuery) -> Result<Option<Span>, StatsError> {
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
struct Bucket {
    start_ms: i64,
    utc_offset_secs: i32,
    label: String,
}

/// Step 2: the buckets of a range, built one bucket at a time, so the cost
/// follows the buckets shown, not the 15-minute slots of the span.
struct BucketTable {
    buckets: Vec<Bucket>,
    end_ms: i64,
}

impl BucketTable {
    fn build(tz: &Tz, span: &Span) -> Self {
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
    fn label(tz: &Tz, every: Every, local: &DateTime<Tz>) -> String {
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

    fn len(&self) -> usize {
        self.buckets.len()
    }

    /// For each 15-minute slot of rollup `period`, the bucket it falls in
    /// (`u32::MAX` outside the range).
    fn period_table(&self, period: i64) -> Vec<u32> {
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
    fn series(&self, counts: &[(u64, u64)]) -> Vec<Point> {
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

/// Calls `row` once per rollup row of the range (optionally one page) and
/// `cell` for each of its slots inside the range, with the bucket index.
fn scan_rollups<T: Copy>(
    store: &Store,
    span: &Span,
    page_filter: Option<PageFilter<'_>>,
    table: &BucketTable,
    mut row: impl FnMut(&RowKey<'_>) -> T,
    mut cell: impl FnMut(T, usize, u64, u64),
) -> Result<(), StoreError> {
    let (first, last) = span.periods();
    // Rows come in period order, so one cached period table is enough.
    let mut cached: Option<(i64, Vec<u32>)> = None;
    store.for_each_rollup(first, last, |period, key, slots| {
        if page_filter.is_some_and(|p| !p.matches(key.page_id)) {
            return;
        }
        if cached.as_ref().is_none_or(|(p, _)| *p != period) {
            cached = Some((period, table.period_table(period)));
        }
        let Some((_, slot_bucket)) = cached.as_ref() else {
            return;
        };
        let target = row(key);
        // Slots of one bucket are adjacent (a day holds 96), so sum each run
        // and call `cell` once per bucket instead of once per slot.
        let mut run: Option<(u32, u64, u64)> = None;
        for_each_slot(slots, |slot, new, ret| {
            let Some(&b) = slot_bucket.get(slot).filter(|&&b| b != u32::MAX) else {
                return;
            };
            match run.as_mut() {
                Some((rb, n, r)) if *rb == b => {
                    *n += u64::from(new);
                    *r += u64::from(ret);
                }
                _ => {
                    if let Some((rb, n, r)) = run.replace((b, u64::from(new), u64::from(ret))) {
                        cell(target, rb as usize, n, r);
                    }
                }
            }
        });
        if let Some((b, n, r)) = run {
            cell(target, b as usize, n, r);
        }
    })
}

/// Where a (page, ref, source) combination counts: its group and, for refs
/// no link defines, its untracked entry.
#[derive(Debug, Clone, Copy)]
struct Target {
    group: Option<usize>,
    untracked: Option<usize>,
    /// Whether the row passes the campaign filter (always, without one).
    in_scope: bool,
}

/// Resolves rollup rows to groups once per distinct (page, ref, source).
struct Resolver<'a> {
    by: GroupBy,
    links: &'a Links,
    campaign: Option<String>,
    cache: HashMap<String, Target>,
    key_buf: String,
    group_keys: Vec<GroupKey>,
    group_index: HashMap<GroupKey, usize>,
    untracked: Vec<(String, String)>,
    untracked_index: HashMap<(String, String), usize>,
}

impl<'a> Resolver<'a> {
    fn new(by: GroupBy, links: &'a Links, campaign: Option<&str>) -> Self {
        let mut r = Self {
            by,
            links,
            campaign: campaign.map(str::to_lowercase),
            cache: HashMap::new(),
            key_buf: String::new(),
            group_keys: Vec::new(),
            group_index: HashMap::new(),
            untracked: Vec::new(),
            untracked_index: HashMap::new(),
        };
        if by == GroupBy::Kind {
            for k in [Kind::New, Kind::Returning] {
                r.group((k.as_str().to_string(), false));
            }
        }
        r
    }

    fn group(&mut self, key: GroupKey) -> usize {
        if let Some(&i) = self.group_index.get(&key) {
            return i;
        }
        self.group_keys.push(key.clone());
        self.group_index.insert(key, self.group_keys.len() - 1);
        self.group_keys.len() - 1
    }

    fn target(&mut self, key: &RowKey<'_>) -> Target {
        let RowKey {
            page_id, ref_code, ..
        } = *key;
        self.key_buf.clear();
        // "\0N" for no ref, "\0R" before a ref: an empty ref stays apart.
        let (mark, r) = match ref_code {
            None => ("\0N", ""),
            Some(r) => ("\0R", r),
        };
        for part in [
            page_id,
            mark,
            r,
            "\0",
            key.source,
            "\0",
            key.platform,
            "\0",
            key.ad,
        ] {
            self.key_buf.push_str(part);
        }
        if let Some(t) = self.cache.get(self.key_buf.as_str()) {
            return *t;
        }
        let link = ref_code.and_then(|r| self.links.find(page_id, r));
        let in_scope = match &self.campaign {
            None => true,
            Some(c) => link.is_some_and(|l| l.campaign.to_lowercase() == *c),
        };
        if !in_scope {
            let t = Target {
                group: None,
                untracked: None,
                in_scope,
            };
            self.cache.insert(self.key_buf.clone(), t);
            return t;
        }
        let group = group_key(self.by, self.links, link, key).map(|k| self.group(k));
        let untracked = ref_code.filter(|_| link.is_none()).map(|r| {
            let k = (r.to_string(), page_id.to_string());
            match self.untracked_index.get(&k) {
                Some(&i) => i,
                None => {
                    self.untracked.push(k.clone());
                    self.untracked_index.insert(k, self.untracked.len() - 1);
                    self.untracked.len() - 1
                }
            }
        });
        let t = Target {
            group,
            untracked,
            in_scope,
        };
        self.cache.insert(self.key_buf.clone(), t);
        t
    }
}

/// Step 3a: totals per group and per untracked ref, and overall.
struct Aggregate {
    /// (new, returning) per group index.
    groups: Vec<(u64, u64)>,
    untracked: Vec<u64>,
    totals: Totals,
    /// Every group's series, kept while they fit [`SERIES_BUDGET_CELLS`]
    /// (then one pass is enough); `None` once they did not.
    series: Option<Vec<Vec<(u64, u64)>>>,
}

/// Cells (groups × buckets) the first pass may fill with every group's
/// series, 16 bytes each (16 MiB). A query within it reads the rollups once;
/// past it, series are dropped and a second pass builds only the shown ones.
const SERIES_BUDGET_CELLS: usize = 1 << 20;

fn aggregate(
    store: &Store,
    q: &StatsQuery,
    span: &Span,
    table: &BucketTable,
    resolver: &mut Resolver<'_>,
    budget_cells: usize,
) -> Result<Aggregate, StoreError> {
    let n = table.len();
    let mut agg = Aggregate {
        groups: vec![(0, 0); resolver.group_keys.len()],
        untracked: Vec::new(),
        totals: Totals::default(),
        series: Some(vec![vec![(0, 0); n]; resolver.group_keys.len()]),
    };
    let kind_split = q.by == GroupBy::Kind;
    scan_rollups(
        store,
        span,
        q.page_filter(),
        table,
        |key| resolver.target(key),
        |t, b, new, ret| {
            if !t.in_scope {
                return;
            }
            agg.totals.new += new;
            agg.totals.returning += ret;
            if kind_split {
                agg.groups[0].0 += new;
                agg.groups[1].1 += ret;
                if let Some(series) = agg.series.as_mut() {
                    series[0][b].0 += new;
                    series[1][b].1 += ret;
                }
            } else if let Some(g) = t.group {
                if agg.groups.len() <= g {
                    agg.groups.resize(g + 1, (0, 0));
                    let fits = (g + 1).saturating_mul(n) <= budget_cells;
                    match agg.series.as_mut() {
                        Some(series) if fits => series.resize(g + 1, vec![(0, 0); n]),
                        _ => agg.series = None,
                    }
                }
                agg.groups[g].0 += new;
                agg.groups[g].1 += ret;
                if let Some(cell) = agg.series.as_mut().and_then(|s| s.get_mut(g)?.get_mut(b)) {
                    cell.0 += new;
                    cell.1 += ret;
                }
            }
            if let Some(u) = t.untracked {
                if agg.untracked.len() <= u {
                    agg.untracked.resize(u + 1, 0);
                }
                agg.untracked[u] += new + ret;
            }
        },
    )?;
    agg.totals.referrals = agg.totals.new + agg.totals.returning;
    Ok(agg)
}

/// Groups with referrals, most first (ties by key); the first N get a series.
fn rank_groups(keys: &[GroupKey], counts: &[(u64, u64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..counts.len())
        .filter(|&i| counts[i].0 + counts[i].1 > 0)
        .collect();
    let referrals = |i: usize| counts[i].0 + counts[i].1;
    order.sort_by(|&a, &b| {
        referrals(b)
            .cmp(&referrals(a))
            .then_with(|| keys[a].cmp(&keys[b]))
    });
    order
}

/// Step 3b: series for the shown groups and one for the rest. `slot_of`
/// maps a group index to its series (`shown.len()` = Other).
fn build_series(
    store: &Store,
    q: &StatsQuery,
    span: &Span,
    table: &BucketTable,
    resolver: &mut Resolver<'_>,
    slot_of: &[Option<usize>],
    series_count: usize,
) -> Result<Vec<Vec<(u64, u64)>>, StoreError> {
    let n = table.len();
    let mut series = vec![vec![(0u64, 0u64); n]; series_count];
    let kind_split = q.by == GroupBy::Kind;
    let other = series_count.saturating_sub(1);
    scan_rollups(
        store,
        span,
        q.page_filter(),
        table,
        |key| resolver.target(key),
        |t, b, new, ret| {
            if !t.in_scope {
                return;
            }
            let group = t.group;
            if kind_split {
                for (g, (n, r)) in [(0usize, (new, 0)), (1, (0, ret))] {
                    if let Some(Some(s)) = slot_of.get(g) {
                        series[*s][b].0 += n;
                        series[*s][b].1 += r;
                    }
                }
                return;
            }
            let Some(g) = group else { return };
            // A group first seen in this pass (new events) counts as Other.
            let s = slot_of.get(g).copied().flatten().unwrap_or(other);
            if let Some(cell) = series.get_mut(s).and_then(|v| v.get_mut(b)) {
                cell.0 += new;
                cell.1 += ret;
            }
        },
    )?;
    Ok(series)
}

/// The shown groups' series from every group's, the rest summed into the
/// last (Other).
fn pick_series(
    all: Vec<Vec<(u64, u64)>>,
    slot_of: &[Option<usize>],
    series_count: usize,
    buckets: usize,
) -> Vec<Vec<(u64, u64)>> {
    let mut out = vec![Vec::new(); series_count];
    let mut other = vec![(0u64, 0u64); buckets];
    for (g, series) in all.into_iter().enumerate() {
        match slot_of.get(g).copied().flatten() {
            Some(s) => out[s] = series,
            None => {
                for (o, c) in other.iter_mut().zip(series) {
                    o.0 += c.0;
                    o.1 += c.1;
                }
            }
        }
    }
    if let Some(last) = out.last_mut() {
        *last = other;
    }
    out
}

/// Where the person index answers a range: the whole UTC days inside
/// `[from_ms, to_ms)` (start inclusive, end exclusive) and the partial days
/// at its two edges, read from raw events. A range inside one UTC day is all edge.
/// Whole UTC days `first..end`, and the two edges as `[lo_ms, hi_ms)`.
type SplitRange = (Option<(i64, i64)>, [(i64, i64); 2]);

fn split_days(from_ms: i64, to_ms: i64) -> SplitRange {
    let first = from_ms
        .div_euclid(DAY_MS)
        .saturating_add(i64::from(from_ms.rem_euclid(DAY_MS) != 0));
    let end = to_ms.div_euclid(DAY_MS);
    if first < end {
        let (lo, hi) = (first.saturating_mul(DAY_MS), end.saturating_mul(DAY_MS));
        (Some((first, end)), [(from_ms, lo), (hi, to_ms)])
    } else {
        (None, [(from_ms, to_ms), (to_ms, to_ms)])
    }
}

/// The kept sets that cover whole UTC days `first..end` exactly, as
/// (span in days, first start, end start): the whole weeks inside, then
/// the days before and after them.
fn index_blocks(first: i64, end: i64) -> Vec<(i64, i64, i64)> {
    let week = SPANS_DAYS[1];
    let week_first = first.saturating_add((week - first.rem_euclid(week)) % week);
    let week_end = end - end.rem_euclid(week);
    if week_first < week_end {
        vec![
            (week, week_first, week_end),
            (1, first, week_first),
            (1, week_end, end),
        ]
    } else {
        vec![(1, first, end)]
    }
}

/// The person-index dimension whose values tell a grouping's groups apart.
fn index_dim(by: GroupBy) -> Dim {
    match by {
        GroupBy::Source => Dim::Source,
        GroupBy::Kind => Dim::Kind,
        GroupBy::Platform => Dim::Platform,
        GroupBy::Ad => Dim::Ad,
        GroupBy::Link | GroupBy::Ref | GroupBy::Channel | GroupBy::Campaign | GroupBy::Page => {
            Dim::Ref
        }
    }
}

/// A set's row key as the resolver reads it: only the dimension's field is
/// known, which is all its grouping looks at.
fn set_key<'a>(dim: Dim, page_id: &'a str, value: Option<&'a str>) -> RowKey<'a> {
    let text = value.unwrap_or_default();
    let mut key = RowKey {
        page_id,
        ref_code: None,
        source: "",
        platform: "",
        ad: "",
    };
    match dim {
        Dim::Ref => key.ref_code = value,
        Dim::Source => key.source = text,
        Dim::Platform => key.platform = text,
        Dim::Ad => key.ad = text,
        Dim::Kind => {}
    }
    key
}

/// Where [`scan_people`] puts the people it finds: a group index of the
/// resolver it was given, or `None` for rows in no group (untracked refs by
/// link), which still count in the total.
trait PeopleSink {
    /// The people that `group` joins; `None` for rows in no group.
    fn set(&mut self, group: Option<usize>) -> Option<&mut People>;
    /// The people of rows in no group.
    fn rest(&mut self) -> &mut People;

    /// Adds a set of people of group `group`.
    fn add_set(&mut self, group: Option<usize>, people: RoaringBitmap) {
        match self.set(group) {
            Some(set) => set.add_set(people),
            None => self.rest().add_set(people),
        }
    }

    /// Adds person `n` of group `group`.
    fn add_one(&mut self, group: Option<usize>, n: u32) {
        match self.set(group) {
            Some(set) => set.insert(n),
            None => self.rest().insert(n),
        }
    }
}

/// The people of one group, gathered from many small sets. Sets wait in
/// `pending` and are united [`People::BATCH`] at a time: roaring's many-way
/// union turns each shared container into a bitmap once per batch, where
/// uniting one set at a time merges ever longer sorted arrays per set.
#[derive(Debug, Clone, Default)]
struct People {
    set: RoaringBitmap,
    pending: Vec<RoaringBitmap>,
}

impl People {
    /// Sets held before they are united (a year of weekly sets is 53).
    const BATCH: usize = 64;

    fn add_set(&mut self, people: RoaringBitmap) {
        self.pending.push(people);
        if self.pending.len() >= Self::BATCH {
            self.flush();
        }
    }

    fn insert(&mut self, n: u32) {
        self.set.insert(n);
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let set = std::mem::take(&mut self.set);
            self.set = std::iter::once(set).chain(self.pending.drain(..)).union();
        }
    }

    /// Every person added, as one set.
    fn into_set(mut self) -> RoaringBitmap {
        self.flush();
        self.set
    }
}

/// People per shown series, the last being Other: memory follows people and
/// shown series, however many groups strangers' refs make.
struct SlotSets<'s> {
    slot_of: &'s [Option<usize>],
    sets: Vec<People>,
    rest: People,
}

impl<'s> SlotSets<'s> {
    fn new(slot_of: &'s [Option<usize>], series_count: usize) -> Self {
        Self {
            slot_of,
            sets: vec![People::default(); series_count],
            rest: People::default(),
        }
    }

    /// (distinct people in all, distinct people per series).
    fn finish(self) -> (u64, Vec<u64>) {
        let sets: Vec<RoaringBitmap> = self.sets.into_iter().map(People::into_set).collect();
        let counts = sets.iter().map(RoaringBitmap::len).collect();
        let all: RoaringBitmap = std::iter::once(self.rest.into_set()).chain(sets).union();
        (all.len(), counts)
    }
}

impl PeopleSink for SlotSets<'_> {
    /// The series set of `group` (Other for a group not shown).
    fn set(&mut self, group: Option<usize>) -> Option<&mut People> {
        let other = self.sets.len().checked_sub(1)?;
        let slot = self.slot_of.get(group?).copied().flatten().unwrap_or(other);
        self.sets.get_mut(slot)
    }

    fn rest(&mut self) -> &mut People {
        &mut self.rest
    }
}

/// People per group of a resolver of its own, for counting on another
/// thread before the shown series are known. Only for groupings whose
/// groups the page admin defines (links, channels, campaigns, pages, kinds,
/// platforms), so the number of sets stays bounded.
#[derive(Default)]
struct GroupSets {
    groups: Vec<People>,
    rest: People,
}

impl GroupSets {
    /// Unites each group's waiting sets, so that work stays on the thread
    /// that read them instead of landing on the chart's after the join.
    fn flush(&mut self) {
        for people in &mut self.groups {
            people.flush();
        }
        self.rest.flush();
    }

    /// The same people per shown series: `keys` names this sink's groups,
    /// and `resolver` (the chart's) with `slot_of` places them.
    fn into_slots<'s>(
        self,
        keys: &[GroupKey],
        resolver: &Resolver<'_>,
        slot_of: &'s [Option<usize>],
        series_count: usize,
    ) -> SlotSets<'s> {
        let mut slots = SlotSets::new(slot_of, series_count);
        slots.rest = self.rest;
        for (g, people) in self.groups.into_iter().enumerate() {
            // A group the chart never saw (a write landed between the two
            // reads) counts under Other, as an unshown group does.
            let chart_group = keys
                .get(g)
                .and_then(|k| resolver.group_index.get(k).copied())
                .unwrap_or(usize::MAX);
            slots.add_set(Some(chart_group), people.into_set());
        }
        slots
    }
}

impl PeopleSink for GroupSets {
    /// The set of `group`, made when the group is first seen.
    fn set(&mut self, group: Option<usize>) -> Option<&mut People> {
        let g = group?;
        if self.groups.len() <= g {
            self.groups.resize(g.saturating_add(1), People::default());
        }
        self.groups.get_mut(g)
    }

    fn rest(&mut self) -> &mut People {
        &mut self.rest
    }
}

/// Whether unique people can be counted on a second connection while the
/// rollups are scanned: only when the groups are the admin's own (see
/// [`GroupSets`]); refs, sources and ads come from strangers.
fn people_in_parallel(q: &StatsQuery) -> bool {
    q.unique_people
        && matches!(
            q.by,
            GroupBy::Link
                | GroupBy::Channel
                | GroupBy::Campaign
                | GroupBy::Page
                | GroupBy::Kind
                | GroupBy::Platform
        )
}

/// Step 4: distinct people overall and per shown series (the last is
/// Other), exact, from the person index (see `store::people`).
fn unique_people(
    store: &Store,
    q: &StatsQuery,
    span: &Span,
    resolver: &mut Resolver<'_>,
    slot_of: &[Option<usize>],
    series_count: usize,
) -> Result<(u64, Vec<u64>), StoreError> {
    let mut slots = SlotSets::new(slot_of, series_count);
    scan_people(store, q, span, resolver, &mut slots)?;
    Ok(slots.finish())
}

/// Reads the people of the range into `sink`, by the groups of `resolver`:
/// the sets of the whole UTC weeks and days of the range, and raw events for
/// its edges.
fn scan_people(
    store: &Store,
    q: &StatsQuery,
    span: &Span,
    resolver: &mut Resolver<'_>,
    sink: &mut dyn PeopleSink,
) -> Result<(), StoreError> {
    let filter = q.page_filter();
    let by_kind = q.by == GroupBy::Kind;
    // `None`: outside the campaign filter; `Some(None)`: in no group.
    let mut place = |key: &RowKey<'_>, kind: Kind| -> Option<Option<usize>> {
        let target = resolver.target(key);
        if !target.in_scope {
            return None;
        }
        if by_kind {
            return Some(Some(match kind {
                Kind::New => 0,
                Kind::Returning => 1,
            }));
        }
        Some(target.group)
    };
    let dim = index_dim(q.by);
    // A campaign filter needs each row's ref; only the `ref` sets carry it,
    // so other groupings under a filter read the range's raw events (exact,
    // slower).
    let (days, edges) = if q.campaign.is_some() && dim != Dim::Ref {
        (None, [(span.from_ms, span.to_ms), (span.to_ms, span.to_ms)])
    } else {
        split_days(span.from_ms, span.to_ms)
    };
    let blocks = days.map_or_else(Vec::new, |(first, end)| index_blocks(first, end));
    for (span_days, lo, hi) in blocks {
        let mut damaged = None;
        store.for_each_people_set(dim, span_days, lo, hi, |page_id, value, blob| {
            if filter.is_some_and(|p| !p.matches(page_id)) {
                return;
            }
            let people = match decode_people(blob) {
                Ok(p) => p,
                Err(e) => {
                    damaged.get_or_insert(e);
                    return;
                }
            };
            let kind = Kind::parse(value.unwrap_or_default()).unwrap_or(Kind::New);
            if let Some(group) = place(&set_key(dim, page_id, value), kind) {
                sink.add_set(group, people);
            }
        })?;
        if let Some(e) = damaged {
            return Err(e);
        }
    }
    for (lo, hi) in edges {
        store.for_each_event_person(lo, hi, |key, kind, n| {
            if filter.is_some_and(|p| !p.matches(key.page_id)) {
                return;
            }
            if let Some(group) = place(key, kind) {
                sink.add_one(group, n);
            }
        })?;
    }
    Ok(())
}

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
    if let Some(p) = page.as_ref().filter(|p| p.numeric_id().is_some()) {
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

/// Runs a stats query against the store.
pub fn query(store: &Store, q: &StatsQuery) -> Result<Report, StatsError> {
    query_within(store, q, SERIES_BUDGET_CELLS)
}

/// [`query`] with a given budget for one-pass series (tests use 0 to force two passes).
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

/// Unique people per group of a resolver of its own (see [`GroupSets`]).
fn people_by_group(
    store: &Store,
    q: &StatsQuery,
    span: &Span,
    links: &Links,
) -> Result<(Vec<GroupKey>, GroupSets), StoreError> {
    let mut resolver = Resolver::new(q.by, links, q.campaign.as_deref());
    let mut sets = GroupSets::default();
    scan_people(store, q, span, &mut resolver, &mut sets)?;
    sets.flush();
    Ok((resolver.group_keys, sets))
}

/// Steps 1 to 3: totals, the ranked groups and the shown series, from the
/// rollups; unique people are filled in by the caller.
fn chart_parts<'l>(
    store: &Store,
    q: &StatsQuery,
    span: &Span,
    table: &BucketTable,
    links: &'l Links,
    budget_cells: usize,
) -> Result<Parts<'l>, StatsError> {
    let mut resolver = Resolver::new(q.by, links, q.campaign.as_deref());
    let agg = aggregate(store, q, span, table, &mut resolver, budget_cells)?;
    let order = rank_groups(&resolver.group_keys, &agg.groups);
    let shown: Vec<usize> = order.iter().copied().take(q.top).collect();
    let mut slot_of = vec![None; resolver.group_keys.len()];
    for (s, &g) in shown.iter().enumerate() {
        slot_of[g] = Some(s);
    }
    // One series per shown group, and the last one for Other.
    let series_count = shown.len() + 1;
    let mut agg = agg;
    let series = match agg.series.take() {
        Some(all) => pick_series(all, &slot_of, series_count, table.len()),
        None => build_series(store, q, span, table, &mut resolver, &slot_of, series_count)?,
    };
    let others = order.len() - shown.len();
    Ok(Parts {
        resolver,
        agg,
        shown,
        series,
        slot_of,
        people: Vec::new(),
        people_total: 0,
        others,
    })
}

/// What the steps found, handed to [`assemble`].
struct Parts<'a> {
    resolver: Resolver<'a>,
    agg: Aggregate,
    shown: Vec<usize>,
    series: Vec<Vec<(u64, u64)>>,
    /// The series slot of each group index (`None`: not shown).
    slot_of: Vec<Option<usize>>,
    people: Vec<u64>,
    people_total: u64,
    others: usize,
}

/// Step 5: the report, with the groups in order, the Other row and one page of untracked refs.
fn assemble(q: &StatsQuery, span: &Span, table: &BucketTable, p: Parts<'_>) -> Report {
    let Parts {
        resolver,
        agg,
        shown,
        mut series,
        people,
        people_total,
        others,
        ..
    } = p;
    let other_series = series.pop().unwrap_or_default();
    let groups: Vec<GroupStats> = shown
        .iter()
        .zip(&series)
        .enumerate()
        .map(|(s, (&g, counts))| {
            let (new, returning) = agg.groups[g];
            let (key, missing_ref) = resolver.group_keys[g].clone();
            GroupStats {
                key,
                missing_ref,
                referrals: new + returning,
                unique_people: people.get(s).copied().unwrap_or(0),
                new,
                returning,
                series: table.series(counts),
            }
        })
        .collect();
    let other = (others > 0).then(|| {
        let new: u64 = other_series.iter().map(|c| c.0).sum();
        let returning: u64 = other_series.iter().map(|c| c.1).sum();
        OtherGroups {
            groups: others as u64,
            referrals: new + returning,
            unique_people: people.last().copied().unwrap_or(0),
            new,
            returning,
            series: table.series(&other_series),
        }
    });
    let mut untracked: Vec<UntrackedRef> = resolver
        .untracked
        .into_iter()
        .zip(agg.untracked.iter().copied().chain(std::iter::repeat(0)))
        .filter(|(_, n)| *n > 0)
        .map(|((ref_code, page_id), referrals)| UntrackedRef {
            ref_code,
            page_id,
            referrals,
        })
        .collect();
    untracked.sort_by(|a, b| {
        b.referrals
            .cmp(&a.referrals)
            .then_with(|| a.ref_code.cmp(&b.ref_code))
            .then_with(|| a.page_id.cmp(&b.page_id))
    });
    let untracked_total = untracked.len();
    let untracked_refs: Vec<UntrackedRef> = untracked
        .into_iter()
        .skip(q.untracked_offset)
        .take(q.untracked_limit)
        .collect();
    Report {
        from: Some(span.from.to_string()),
        to: Some(span.to.to_string()),
        tz: q.tz.name().to_string(),
        every: span.every,
        by: q.by,
        totals: Totals {
            unique_people: people_total,
            ..agg.totals
        },
        groups,
        other,
        untracked_total,
        untracked_offset: q.untracked_offset,
        untracked_refs,
        unique_people_counted: q.unique_people,
    }
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
        other: None,
        untracked_total: 0,
        untracked_offset: q.untracked_offset,
        untracked_refs: Vec::new(),
        unique_people_counted: q.unique_people,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Platform, ReferralEvent};

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
            previous_range(day("2026-01-01"), day("2026-01-07")),
            Some((day("2025-12-25"), day("2025-12-31")))
        );
        assert_eq!(previous_range(day("2026-11-02"), day("2026-11-01")), None);
        // Nothing before the event window.
        assert_eq!(previous_range(day("2004-01-01"), day("2004-01-02")), None);
    }

    #[test]
    fn previous_range_at_month_ends_counts_days_not_months() {
        // 30 days of November against the last 30 days of October.
        assert_eq!(
            previous_range(day("2026-11-01"), day("2026-11-30")),
            Some((day("2026-10-02"), day("2026-10-31")))
        );
        // 31 days of March (leap year) reach back into January.
        assert_eq!(
            previous_range(day("2028-03-01"), day("2028-03-31")),
            Some((day("2028-01-30"), day("2028-02-29")))
        );
        // A short February against 28 days of January.
        assert_eq!(
            previous_range(day("2026-02-01"), day("2026-02-28")),
            Some((day("2026-01-04"), day("2026-01-31")))
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

    #[test]
    fn change_is_rounded_and_never_infinite() {
        assert_eq!(Change::between(112, 100), Change::Up(12));
        assert_eq!(Change::between(3, 2), Change::Up(50));
        assert_eq!(Change::between(1, 3), Change::Down(67));
        assert_eq!(Change::between(2, 3), Change::Down(33));
        assert_eq!(Change::between(7, 7), Change::Same);
        assert_eq!(Change::between(5, 0), Change::NoPrevious);
        assert_eq!(Change::between(0, 0), Change::NoPrevious);
        assert_eq!(Change::between(0, 9), Change::Down(100));
        assert_eq!(Change::between(1001, 1000), Change::Up(0));
        assert_eq!(Change::between(u64::MAX, 1), Change::Up(u64::MAX));
        let oct = format_range(day("2026-10-01"), day("2026-10-30"));
        assert_eq!(oct, "1–30 Oct 2026");
        assert_eq!(Change::Up(12).text(&oct), "▲ 12% vs 1–30 Oct 2026");
        assert_eq!(Change::Down(5).text(&oct), "▼ 5% vs 1–30 Oct 2026");
        assert_eq!(Change::Up(0).text(&oct), "▲ <1% vs 1–30 Oct 2026");
        assert_eq!(Change::Same.text(&oct), "no change vs 1–30 Oct 2026");
        assert_eq!(
            Change::NoPrevious.text(&oct),
            "no data in the previous period"
        );
        assert_eq!(
            Change::Up(12).describe((day("2026-10-01"), day("2026-10-30"))),
            "▲ 12% vs 1–30 Oct 2026"
        );
    }

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
