//! Conversions credited to referrals (issue #21): for the groups of a
//! stats [`Report`], what the referred people did next.
//!
//! A conversion (or a "conversation started" event) is credited to one
//! referral of the same person on the same page, inside the attribution
//! window before it ([`Attribution`]; the rule and its tie-break are in
//! [`credit`]). It then counts for that referral's link, channel, campaign,
//! source, ad, kind and platform, with refs resolved to links by the same
//! resolver as the referrals (aliases included). One with no referral in
//! the window counts under [`NO_REFERRAL_LABEL`]; it is never dropped.
//!
//! Which conversions: those whose own time lies in the report's range (the
//! same local days in the same zone as the referrals). The credited
//! referral may be before the range. Page filter: the conversion's page.
//! Campaign filter: only conversions credited to a referral of the
//! campaign's links (so none of "no referral in window").
//!
//! How, for the saved settings: from the kept credit ([`cache`], migration
//! 10), each conversion's credit computed once and kept per UTC day, brought
//! up to date before it is read; a year reads 365 blobs. For other settings
//! (a preview, `stats --window`) or a store that cannot be written: straight
//! from the events, by per-person sorted scans rather than one index lookup
//! per conversion: the range's conversions are read once (`ts_ms` index)
//! and their people numbered, the referrals from one window before the range
//! to its end are read once, keeping only those people's, and each
//! conversion finds its credit by binary search in its person's sorted
//! referrals. Both give the same figures (`tests/attribution.rs`).
//!
//! Files, each depending only on those before it (and this one): `credit`
//! (the rule), `figures` (results and the accumulator), `cards` (the two
//! headline cards), `table` (the table's cells for every front end),
//! `cache` (the kept credit) and `kept` (figures from it).

mod cache;
mod cards;
mod credit;
mod figures;
mod kept;
pub mod table;

pub use cards::{ConversionCard, conversion_cards};
pub use credit::{Touch, credited, median_ms, sort_touches};
pub use figures::{
    ConversionFigures, GoalFigures, Money, duration_text, micros_text, rate, rate_text,
};

use super::engine::{GroupKey, Links, Resolver};
use super::query::{GroupBy, StatsError, StatsQuery};
use super::range::resolve_range;
use super::result::Report;
use crate::model::Attribution;
use crate::store::Store;
use figures::{Acc, Counted};
use serde::Serialize;
use std::collections::HashMap;

/// The row of conversions credited to no referral.
pub const NO_REFERRAL_LABEL: &str = "(no referral in window)";

/// One group's referrals and conversions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversionGroup {
    /// The group, as in the report's groups (`null` in JSON for the group
    /// of referrals without a ref).
    #[serde(serialize_with = "key_or_null")]
    pub key: (String, bool),
    /// Referrals in the range (from the report).
    pub referrals: u64,
    /// Referred people in the range (from the report; 0 when not counted).
    pub referred_people: u64,
    /// Converted people ÷ referred people.
    pub rate: Option<f64>,
    /// The conversion figures.
    #[serde(flatten)]
    pub figures: ConversionFigures,
}

fn key_or_null<S: serde::Serializer>(key: &(String, bool), s: S) -> Result<S::Ok, S::Error> {
    s.serialize_some(&(!key.1).then_some(&key.0))
}

impl ConversionReport {
    /// Whether these are the conversions of `report` (same range, zone and grouping).
    pub fn belongs_to(&self, report: &Report) -> bool {
        self.from == report.from
            && self.to == report.to
            && self.tz == report.tz
            && self.by == report.by
    }
}

impl ConversionGroup {
    /// The group's name for display.
    pub fn name(&self) -> &str {
        &self.key.0
    }
}

/// Conversions for a report: totals, one entry per shown group (in the
/// report's order), the Other row and the conversions without referral.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversionReport {
    /// The report's first day (the front end pairs the two by range,
    /// zone and grouping).
    pub from: Option<chrono::NaiveDate>,
    /// The report's last day.
    pub to: Option<chrono::NaiveDate>,
    /// The report's zone.
    pub tz: String,
    /// The report's grouping.
    pub by: GroupBy,
    /// The window and model used.
    pub attribution: Attribution,
    /// Goals reached in the range, alphabetical.
    pub goals: Vec<String>,
    /// Currencies of the range's values, alphabetical.
    pub currencies: Vec<String>,
    /// Everything in scope (the no-referral conversions included); its
    /// rate counts only people credited to a referral.
    pub totals: ConversionGroup,
    /// The report's groups, in its order.
    pub groups: Vec<ConversionGroup>,
    /// Every other group, summed.
    pub other: Option<ConversionGroup>,
    /// Conversions with no referral in the window.
    pub no_referral: ConversionFigures,
    /// Every conversion credited to a referral in scope (the totals
    /// without the no-referral ones): the funnel of all referrals.
    pub credited: ConversionFigures,
    /// People with a conversion credited to a referral (the totals' rate
    /// is this ÷ referred people).
    pub credited_people: u64,
}

/// The conversions of `report` (the answer to `q`), with the store's
/// attribution settings.
pub fn conversions(
    store: &Store,
    q: &StatsQuery,
    report: &Report,
) -> Result<ConversionReport, StatsError> {
    conversions_with(store, q, report, &store.attribution()?)
}

/// [`conversions`] with the given settings (a preview before saving them).
pub fn conversions_with(
    store: &Store,
    q: &StatsQuery,
    report: &Report,
    attribution: &Attribution,
) -> Result<ConversionReport, StatsError> {
    let span = match (report.from, report.to) {
        (Some(from), Some(to)) => resolve_range(
            store,
            &StatsQuery {
                from: Some(from),
                to: Some(to),
                ..q.clone()
            },
        )?,
        _ => None,
    };
    let links = Links::load(store)?;
    let mut resolver = Resolver::new(q.by, &links, q.campaign.as_deref());
    let counts = match span {
        None => Counts::new(0, Vec::new(), Vec::new()),
        // The kept credit serves the saved settings; it is only a faster
        // way to the same figures, so one that cannot be brought up to date
        // (a read-only file, a lock held too long) gives way to the events.
        Some(span)
            if *attribution == store.attribution()?
                && cache::refresh(store, attribution).is_ok() =>
        {
            kept::counts(store, q, &mut resolver, (span.from_ms, span.to_ms))?
        }
        Some(span) => {
            let mut read = Read::default();
            read_conversions(store, q, span.from_ms, span.to_ms, &mut read)?;
            read_touches(
                store,
                q.by,
                &mut resolver,
                span.from_ms,
                span.to_ms,
                attribution,
                &mut read,
            )?;
            credit_all(read, q, attribution, resolver.group_keys.len())
        }
    };
    Ok(assemble(report, &resolver, counts, *attribution))
}

/// Where a referral counts: its group, and whether it passes the campaign filter.
#[derive(Debug, Clone, Copy)]
struct Target {
    group: Option<usize>,
    in_scope: bool,
}

/// A conversion read from the store, its names numbered.
struct Conv {
    person: u32,
    ts_ms: i64,
    goal: Option<u32>,
    value: Option<(u32, i64)>,
}

/// What was read: conversions, each person's referrals, and the names.
#[derive(Default)]
struct Read {
    people: HashMap<String, u32>,
    convs: Vec<Conv>,
    touches: Vec<Vec<Touch<Target>>>,
    goals: Vec<String>,
    currencies: Vec<String>,
}

/// A person's key: page and keyed sender hash (the same hash on two pages
/// is two people, as page-scoped ids are).
fn person_key(buf: &mut String, page_id: &str, sender_hash: &str) {
    buf.clear();
    buf.push_str(page_id);
    buf.push('\0');
    buf.push_str(sender_hash);
}

fn number(names: &mut HashMap<String, u32>, list: &mut Vec<String>, name: &str) -> u32 {
    if let Some(&i) = names.get(name) {
        return i;
    }
    let i = u32::try_from(list.len()).unwrap_or(u32::MAX);
    list.push(name.to_string());
    names.insert(name.to_string(), i);
    i
}

fn read_conversions(
    store: &Store,
    q: &StatsQuery,
    from_ms: i64,
    to_ms: i64,
    read: &mut Read,
) -> Result<(), StatsError> {
    let (mut goal_ids, mut currency_ids) = (HashMap::new(), HashMap::new());
    let (mut goals, mut currencies) = (Vec::new(), Vec::new());
    let mut buf = String::new();
    store.for_each_conversion(from_ms, to_ms, |c| {
        if !q.page.matches(c.page_id) {
            return;
        }
        person_key(&mut buf, c.page_id, c.sender_hash);
        let next = u32::try_from(read.people.len()).unwrap_or(u32::MAX);
        let person = *read.people.entry(buf.clone()).or_insert(next);
        read.convs.push(Conv {
            person,
            ts_ms: c.ts_ms,
            goal: c.goal.map(|g| number(&mut goal_ids, &mut goals, g)),
            value: c
                .value
                .map(|(micros, cur)| (number(&mut currency_ids, &mut currencies, cur), micros)),
        });
    })?;
    // Names sorted, so every list in the report comes out in order.
    let goal_order = sorted_order(&goals);
    let currency_order = sorted_order(&currencies);
    for c in &mut read.convs {
        c.goal = c.goal.map(|g| goal_order[g as usize]);
        c.value = c.value.map(|(cur, v)| (currency_order[cur as usize], v));
    }
    goals.sort();
    currencies.sort();
    read.goals = goals;
    read.currencies = currencies;
    read.touches = (0..read.people.len()).map(|_| Vec::new()).collect();
    Ok(())
}

/// For each name's number, its number once the names are sorted.
fn sorted_order(names: &[String]) -> Vec<u32> {
    let mut idx: Vec<usize> = (0..names.len()).collect();
    idx.sort_by(|&a, &b| names[a].cmp(&names[b]));
    let mut out = vec![0u32; names.len()];
    for (rank, &i) in idx.iter().enumerate() {
        out[i] = u32::try_from(rank).unwrap_or(u32::MAX);
    }
    out
}

fn read_touches(
    store: &Store,
    by: GroupBy,
    resolver: &mut Resolver<'_>,
    from_ms: i64,
    to_ms: i64,
    attribution: &Attribution,
    read: &mut Read,
) -> Result<(), StatsError> {
    if read.convs.is_empty() {
        return Ok(());
    }
    let mut buf = String::new();
    // Set by the first closure for the row the second one then reads.
    let found = std::cell::Cell::new(None);
    let people = &read.people;
    let touches = &mut read.touches;
    store.for_each_touch(
        from_ms.saturating_sub(attribution.window_ms()),
        to_ms,
        |page_id, sender_hash| {
            person_key(&mut buf, page_id, sender_hash);
            found.set(people.get(buf.as_str()).copied());
            found.get().is_some()
        },
        |t| {
            let Some(person) = found.get() else { return };
            let target = resolver.target(&t.key);
            let group = if by == GroupBy::Kind {
                Some(resolver.group((t.kind.as_str().to_string(), false)))
            } else {
                target.group
            };
            let data = Target {
                group,
                in_scope: target.in_scope,
            };
            if let Some(list) = touches.get_mut(person as usize) {
                list.push(Touch {
                    ts_ms: t.ts_ms,
                    id: t.id,
                    data,
                });
            }
        },
    )?;
    for list in touches.iter_mut() {
        sort_touches(list);
    }
    Ok(())
}

/// Accumulators after crediting: per group, credited in all, and with no
/// referral (the totals are the last two together).
struct Counts {
    groups: Vec<Acc>,
    no_referral: Acc,
    credited: Acc,
    /// The range's goals and currencies, sorted (the report's lists).
    goals: Vec<String>,
    currencies: Vec<String>,
    /// The names of the goal and currency numbers the accumulators hold:
    /// the lists above (fresh credit), or the kept credit's dictionary.
    names: Option<Vec<String>>,
}

fn credit_all(read: Read, q: &StatsQuery, a: &Attribution, groups: usize) -> Counts {
    let mut out = Counts::new(groups, read.goals, read.currencies);
    for c in &read.convs {
        let touches = read
            .touches
            .get(c.person as usize)
            .map_or(&[][..], Vec::as_slice);
        let credit = credited(touches, c.ts_ms, a.window_ms(), a.model).map(|i| &touches[i]);
        let counted = Counted {
            person: c.person,
            goal: c.goal,
            value: c.value,
            delay_ms: credit.map(|t| c.ts_ms - t.ts_ms),
        };
        out.count(&counted, credit.map(|t| t.data), q.campaign.is_some());
    }
    out
}

impl Counts {
    /// Nothing counted yet; goal and currency numbers name `goals` and `currencies`.
    fn new(groups: usize, goals: Vec<String>, currencies: Vec<String>) -> Self {
        Self {
            groups: (0..groups).map(|_| Acc::default()).collect(),
            no_referral: Acc::default(),
            credited: Acc::default(),
            goals,
            currencies,
            names: None,
        }
    }

    /// Counts one conversion where its credit puts it: out of scope (a
    /// referral outside the campaign filter, or none under one), its
    /// referral's group, or no referral; and in the totals.
    fn count(&mut self, counted: &Counted, credit: Option<Target>, campaign_filter: bool) {
        match credit {
            Some(t) if !t.in_scope => {}
            Some(t) => {
                self.credited.add(counted);
                if let Some(g) = t.group {
                    if self.groups.len() <= g {
                        self.groups.resize_with(g + 1, Acc::default);
                    }
                    self.groups[g].add(counted);
                }
            }
            // Under a campaign filter, only credited conversions are in scope.
            None if campaign_filter => {}
            None => self.no_referral.add(counted),
        }
    }
}

fn assemble(
    report: &Report,
    resolver: &Resolver<'_>,
    counts: Counts,
    attribution: Attribution,
) -> ConversionReport {
    let Counts {
        mut groups,
        no_referral,
        credited,
        goals,
        currencies,
        names,
    } = counts;
    // The totals are the credited and the no-referral conversions (kept
    // apart while counting: one set insert less per conversion).
    let mut total = credited.clone();
    total.merge(no_referral.clone());
    let (goal_names, currency_names) = match &names {
        Some(n) => (n, n),
        None => (&goals, &currencies),
    };
    let row = |key: GroupKey, referrals: u64, referred: u64, acc: Acc| {
        let figures = acc.finish(goal_names, currency_names);
        ConversionGroup {
            key,
            referrals,
            referred_people: referred,
            rate: rate(figures.converted_people, referred),
            figures,
        }
    };
    let mut shown = Vec::new();
    for g in &report.groups {
        let key = (g.key.clone(), g.missing_ref);
        let acc = resolver
            .group_index
            .get(&key)
            .and_then(|&i| groups.get_mut(i))
            .map(std::mem::take)
            .unwrap_or_default();
        shown.push(row(key, g.referrals, g.unique_people, acc));
    }
    let other = (report.other.is_some() || groups.iter().any(|a| !a.is_empty())).then(|| {
        let mut acc = Acc::default();
        for a in groups {
            acc.merge(a);
        }
        let (referrals, referred) = report
            .other
            .as_ref()
            .map_or((0, 0), |o| (o.referrals, o.unique_people));
        row(("Other".to_string(), false), referrals, referred, acc)
    });
    let mut totals = row(
        ("Total".to_string(), false),
        report.totals.referrals,
        report.totals.unique_people,
        total,
    );
    let credited = credited.finish(goal_names, currency_names);
    let credited_people = credited.converted_people;
    totals.rate = rate(credited_people, report.totals.unique_people);
    ConversionReport {
        from: report.from,
        to: report.to,
        tz: report.tz.clone(),
        by: report.by,
        attribution,
        goals: goals.clone(),
        currencies: currencies.clone(),
        totals,
        groups: shown,
        other,
        no_referral: no_referral.finish(goal_names, currency_names),
        credited,
        credited_people,
    }
}
