//! Counting from the rollups: refs credited to links, rollup rows
//! resolved to groups, totals per group, the ranking and the series of the
//! shown groups (step 3), and the report assembled from them (step 5).

use super::labels::{NO_REF_LABEL, NOT_AN_AD_LABEL, none_label, platform_label};
use super::query::{Every, GroupBy, StatsError, StatsQuery};
use super::range::{BucketTable, Span};
use super::result::{GroupStats, OtherGroups, Report, Totals, UntrackedRef};
use crate::model::EventFilter;
use crate::model::{Kind, Page};
use crate::store::{LinkFilter, RowKey, Store, StoreError, for_each_slot};
use std::collections::HashMap;

/// What a (page, ref) pair maps to.
#[derive(Clone)]
pub(super) struct LinkInfo {
    pub(super) ref_code: String,
    pub(super) channel: String,
    pub(super) campaign: String,
}

pub(super) struct Links {
    pub(super) exact: HashMap<(String, String), LinkInfo>,
    pub(super) by_ref: HashMap<String, LinkInfo>,
    pub(super) page_names: HashMap<String, String>,
}

impl Links {
    pub(super) fn load(store: &Store) -> Result<Self, StoreError> {
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
            let events = pages.get(&page).map(Page::event_filter).unwrap_or_default();
            if events.is_every() {
                // Without a Page ID the page's events are matched by ref alone.
                by_ref.insert(ref_code, info);
            } else {
                for id in events.page_ids() {
                    exact.insert((id.clone(), ref_code.clone()), info.clone());
                }
            }
        }
        Ok(Self {
            exact,
            by_ref,
            page_names,
        })
    }

    pub(super) fn find(&self, page_id: &str, ref_code: &str) -> Option<&LinkInfo> {
        self.exact
            .get(&(page_id.to_string(), ref_code.to_string()))
            .or_else(|| self.by_ref.get(ref_code))
    }
}

/// Every ref that counts for a link, as (page store id, ref, link): each
/// link's own ref, and each of its aliases (typo rescue), so that an
/// alias's referrals, past and future, count for its link in every grouping
/// and in unique people. The one place where refs are credited to links.
pub(super) fn resolved_refs(store: &Store) -> Result<Vec<(i64, String, LinkInfo)>, StoreError> {
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

/// A group's identity: its text, and whether it stands for "no ref" (so a
/// literal ref "(no ref)", an empty ref and no ref are three groups).
pub(super) type GroupKey = (String, bool);

/// The group a (page, ref, source) combination falls in; `None` for
/// [`GroupBy::Kind`] (split per count) and for untracked refs by link.
pub(super) fn group_key(
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

/// Calls `row` once per rollup row of the range (optionally one page) and
/// `cell` for each of its slots inside the range, with the bucket index.
pub(super) fn scan_rollups<T: Copy>(
    store: &Store,
    span: &Span,
    page: &EventFilter,
    table: &BucketTable,
    mut row: impl FnMut(&RowKey<'_>) -> T,
    mut cell: impl FnMut(T, usize, u64, u64),
) -> Result<(), StoreError> {
    let (first, last) = span.periods();
    // Rows come in period order, so one cached period table is enough.
    let mut cached: Option<(i64, Vec<u32>)> = None;
    store.for_each_rollup(first, last, |period, key, slots| {
        if !page.matches(key.page_id) {
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
pub(super) struct Target {
    pub(super) group: Option<usize>,
    pub(super) untracked: Option<usize>,
    /// Whether the row passes the campaign filter (always, without one).
    pub(super) in_scope: bool,
}

/// Resolves rollup rows to groups once per distinct (page, ref, source).
pub(super) struct Resolver<'a> {
    pub(super) by: GroupBy,
    pub(super) links: &'a Links,
    pub(super) campaign: Option<String>,
    pub(super) cache: HashMap<String, Target>,
    pub(super) key_buf: String,
    pub(super) group_keys: Vec<GroupKey>,
    pub(super) group_index: HashMap<GroupKey, usize>,
    pub(super) untracked: Vec<(String, String)>,
    pub(super) untracked_index: HashMap<(String, String), usize>,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(by: GroupBy, links: &'a Links, campaign: Option<&str>) -> Self {
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

    pub(super) fn group(&mut self, key: GroupKey) -> usize {
        if let Some(&i) = self.group_index.get(&key) {
            return i;
        }
        self.group_keys.push(key.clone());
        self.group_index.insert(key, self.group_keys.len() - 1);
        self.group_keys.len() - 1
    }

    pub(super) fn target(&mut self, key: &RowKey<'_>) -> Target {
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
pub(super) struct Aggregate {
    /// (new, returning) per group index.
    pub(super) groups: Vec<(u64, u64)>,
    pub(super) untracked: Vec<u64>,
    pub(super) totals: Totals,
    /// Every group's series, kept while they fit [`SERIES_BUDGET_CELLS`]
    /// (then one pass is enough); `None` once they did not.
    pub(super) series: Option<Vec<Vec<(u64, u64)>>>,
}

/// Cells (groups × buckets) the first pass may fill with every group's
/// series, 16 bytes each (16 MiB). A query within it reads the rollups once;
/// past it, series are dropped and a second pass builds only the shown ones.
pub(super) const SERIES_BUDGET_CELLS: usize = 1 << 20;

pub(super) fn aggregate(
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
        &q.page,
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
pub(super) fn rank_groups(keys: &[GroupKey], counts: &[(u64, u64)]) -> Vec<usize> {
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
pub(super) fn build_series(
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
        &q.page,
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
pub(super) fn pick_series(
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

/// Steps 1 to 3: totals, the ranked groups and the shown series, from the
/// rollups; unique people are filled in by the caller.
pub(super) fn chart_parts<'l>(
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
pub(super) struct Parts<'a> {
    pub(super) resolver: Resolver<'a>,
    pub(super) agg: Aggregate,
    pub(super) shown: Vec<usize>,
    pub(super) series: Vec<Vec<(u64, u64)>>,
    /// The series slot of each group index (`None`: not shown).
    pub(super) slot_of: Vec<Option<usize>>,
    pub(super) people: Vec<u64>,
    pub(super) people_total: u64,
    pub(super) others: usize,
}

/// Step 5: the report, with the groups in order, the Other row and one page of untracked refs.
// Long on purpose: groups, the Other row and the untracked page come from one destructured Parts and fill one Report literal.
pub(super) fn assemble(q: &StatsQuery, span: &Span, table: &BucketTable, p: Parts<'_>) -> Report {
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
        from: Some(span.from),
        to: Some(span.to),
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

pub(super) fn empty_report(q: &StatsQuery) -> Report {
    Report {
        from: q.from,
        to: q.to,
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
