//! The answer to a query: totals, groups with their series, the Other
//! row and untracked refs.

use super::query::{Every, GroupBy};
use chrono::NaiveDate;
use serde::Serialize;

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
    /// Ref, channel, campaign, source, kind or page; [`NO_REF_LABEL`](super::NO_REF_LABEL) for
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

/// The answer to a [`StatsQuery`](super::StatsQuery).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// First day (in the report's zone); `None` when there were no events
    /// and the query named no day. Serialised as `YYYY-MM-DD`.
    pub from: Option<NaiveDate>,
    /// Last day (in the report's zone), as [`Report::from`].
    pub to: Option<NaiveDate>,
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
