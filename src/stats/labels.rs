//! What people read: grouping and bucket names, group keys in words,
//! ranges as text, and the CSV headers and range cells.

use super::query::{Every, GroupBy};
use super::result::{OtherGroups, Report};
use crate::model::Kind;
use chrono::{Datelike, NaiveDate};

impl GroupBy {
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

impl Every {
    /// Menu text for the dashboard.
    pub fn label(self) -> &'static str {
        match self {
            Every::Hour => "Hour",
            Every::Day => "Day",
            Every::Week => "Week",
            Every::Month => "Month",
        }
    }
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

impl OtherGroups {
    /// The row's label, e.g. `Other (1234 refs)`.
    pub fn label(&self, by: GroupBy) -> String {
        format!("Other ({} {})", self.groups, by.plural())
    }
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
pub(super) const RANGE_COLUMNS: [&str; 3] = ["From", "To", "Time zone"];

/// The cells under [`RANGE_COLUMNS`]: first day, last day, zone name.
pub fn range_cells(report: &Report) -> [String; 3] {
    [
        report.from.map(|d| d.to_string()).unwrap_or_default(),
        report.to.map(|d| d.to_string()).unwrap_or_default(),
        report.tz.clone(),
    ]
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

pub(super) fn none_label(s: &str) -> String {
    if s.is_empty() {
        "(none)".into()
    } else {
        s.to_string()
    }
}
