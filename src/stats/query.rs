//! What a stats query asks: the grouping, the bucket size, the range and
//! zone, the page and campaign filters, and the bounds on what comes back.

use crate::model::{EventFilter, Page, ValidationError};
use crate::store::StoreError;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
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

pub(super) fn invalid(field: &'static str, value: &str, rule: &str) -> StatsError {
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
    pub(super) fn max_buckets(self, days: i64) -> i64 {
        match self {
            Every::Hour => days.saturating_mul(25),
            Every::Day => days,
            Every::Week => days / 7 + 2,
            Every::Month => days / 28 + 2,
        }
    }

    /// The label of the bucket starting at `t`.
    pub(super) fn key(self, t: &DateTime<Tz>) -> String {
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
    /// (hours are stepped in UTC instead, see `BucketTable::build` in `range.rs`).
    pub(super) fn next_day(self, day: NaiveDate) -> Option<NaiveDate> {
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
    /// Only the events of one page ([`Page::event_filter`]); every event
    /// by default.
    pub page: EventFilter,
    /// Groups shown with a series, most referrals first (at least 1); the
    /// rest are summed into [`Report::other`](super::Report::other).
    pub top: usize,
    /// Untracked refs to skip (paging).
    pub untracked_offset: usize,
    /// Untracked refs to return at most (paging).
    pub untracked_limit: usize,
    /// Only referrals of links (and their aliases) in the campaign of this
    /// name (letter case ignored); `None` for every referral.
    pub campaign: Option<String>,
    /// Which period the range is compared with.
    pub compare: Compare,
}

/// Which period a range is compared with (`Compare::previous`, beside the
/// rules in the range file, gives its days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Compare {
    /// The default rule: a whole month against the month before, any other
    /// range against as many days just before it.
    #[default]
    Preceding,
    /// The same days of the month before (month to date).
    SameDaysLastMonth,
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
            page: EventFilter::every(),
            top: DEFAULT_TOP,
            untracked_offset: 0,
            untracked_limit: DEFAULT_UNTRACKED_LIMIT,
            campaign: None,
            compare: Compare::Preceding,
        }
    }
}

impl StatsQuery {
    /// Keeps only the events of `page` ([`Page::event_filter`]: its Page ID
    /// or its Instagram account id; every event for a page without a Page ID).
    pub fn set_page(&mut self, page: &Page) {
        self.page = page.event_filter();
    }
}
