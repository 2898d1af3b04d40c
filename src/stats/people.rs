//! Unique people (step 4): exact counts from the person index, the whole
//! UTC days from its sets and the partial days at the edges from raw events.

use super::engine::{GroupKey, Links, Resolver};
use super::query::{GroupBy, StatsQuery};
use super::range::Span;
use crate::model::Kind;
use crate::store::{DAY_MS, Dim, RowKey, SPANS_DAYS, Store, StoreError, decode_people};
use roaring::{MultiOps, RoaringBitmap};

/// Where the person index answers a range: the whole UTC days inside
/// `[from_ms, to_ms)` (start inclusive, end exclusive) and the partial days
/// at its two edges, read from raw events. A range inside one UTC day is all edge.
/// Whole UTC days `first..end`, and the two edges as `[lo_ms, hi_ms)`.
pub(super) type SplitRange = (Option<(i64, i64)>, [(i64, i64); 2]);

pub(super) fn split_days(from_ms: i64, to_ms: i64) -> SplitRange {
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
pub(super) fn index_blocks(first: i64, end: i64) -> Vec<(i64, i64, i64)> {
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
pub(super) fn index_dim(by: GroupBy) -> Dim {
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
pub(super) fn set_key<'a>(dim: Dim, page_id: &'a str, value: Option<&'a str>) -> RowKey<'a> {
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
pub(super) trait PeopleSink {
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
pub(super) struct People {
    pub(super) set: RoaringBitmap,
    pub(super) pending: Vec<RoaringBitmap>,
}

impl People {
    /// Sets held before they are united (a year of weekly sets is 53).
    const BATCH: usize = 64;

    pub(super) fn add_set(&mut self, people: RoaringBitmap) {
        self.pending.push(people);
        if self.pending.len() >= Self::BATCH {
            self.flush();
        }
    }

    pub(super) fn insert(&mut self, n: u32) {
        self.set.insert(n);
    }

    pub(super) fn flush(&mut self) {
        if !self.pending.is_empty() {
            let set = std::mem::take(&mut self.set);
            self.set = std::iter::once(set).chain(self.pending.drain(..)).union();
        }
    }

    /// Every person added, as one set.
    pub(super) fn into_set(mut self) -> RoaringBitmap {
        self.flush();
        self.set
    }
}

/// People per shown series, the last being Other: memory follows people and
/// shown series, however many groups strangers' refs make.
pub(super) struct SlotSets<'s> {
    pub(super) slot_of: &'s [Option<usize>],
    pub(super) sets: Vec<People>,
    pub(super) rest: People,
}

impl<'s> SlotSets<'s> {
    pub(super) fn new(slot_of: &'s [Option<usize>], series_count: usize) -> Self {
        Self {
            slot_of,
            sets: vec![People::default(); series_count],
            rest: People::default(),
        }
    }

    /// (distinct people in all, distinct people per series).
    pub(super) fn finish(self) -> (u64, Vec<u64>) {
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
pub(super) struct GroupSets {
    pub(super) groups: Vec<People>,
    pub(super) rest: People,
}

impl GroupSets {
    /// Unites each group's waiting sets, so that work stays on the thread
    /// that read them instead of landing on the chart's after the join.
    pub(super) fn flush(&mut self) {
        for people in &mut self.groups {
            people.flush();
        }
        self.rest.flush();
    }

    /// The same people per shown series: `keys` names this sink's groups,
    /// and `resolver` (the chart's) with `slot_of` places them.
    pub(super) fn into_slots<'s>(
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
pub(super) fn people_in_parallel(q: &StatsQuery) -> bool {
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
pub(super) fn unique_people(
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
pub(super) fn scan_people(
    store: &Store,
    q: &StatsQuery,
    span: &Span,
    resolver: &mut Resolver<'_>,
    sink: &mut dyn PeopleSink,
) -> Result<(), StoreError> {
    let page = &q.page;
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
            if !page.matches(page_id) {
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
            if !page.matches(key.page_id) {
                return;
            }
            if let Some(group) = place(key, kind) {
                sink.add_one(group, n);
            }
        })?;
    }
    Ok(())
}

/// Unique people per group of a resolver of its own (see [`GroupSets`]).
pub(super) fn people_by_group(
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
