//! Figures from the kept credit (`cache`): the range's day blobs are read,
//! each record's credited referral is resolved to its group once per key
//! (aliases and the campaign filter through the stats resolver, so they
//! apply to kept credit as to fresh), and the records are counted.

use super::cache::{DAY_MS, Record};
use super::{Counted, Counts, Target};
use crate::stats::engine::Resolver;
use crate::stats::query::{GroupBy, StatsQuery};
use crate::store::{RowKey, Store, StoreError};

/// The counts of the conversions in `[from_ms, to_ms)` on the query's
/// pages, counted as the day blobs are read (nothing kept per record).
/// Long on purpose: one pass over the blobs is the hot loop of the year's
/// figures, kept in one place so its allocations stay visible.
pub(super) fn counts(
    store: &Store,
    q: &StatsQuery,
    resolver: &mut Resolver<'_>,
    (from_ms, to_ms): (i64, i64),
) -> Result<Counts, StoreError> {
    let names = store.credit_names()?;
    let size = names
        .iter()
        .map(|(n, _)| *n as usize + 1)
        .max()
        .unwrap_or(0);
    let mut by_number = vec![String::new(); size];
    for (n, name) in names {
        by_number[n as usize] = name;
    }
    // Indexed by number: a lookup per conversion without hashing.
    let mut page_ok: Vec<Option<bool>> = vec![None; size];
    let mut targets: Vec<Option<Option<Target>>> = Vec::new();
    let (mut goals, mut currencies) = (Vec::new(), Vec::new());
    let mut out = Counts::new(resolver.group_keys.len(), Vec::new(), Vec::new());
    let campaign_filter = q.campaign.is_some();
    let mut failed = None;
    store.for_each_credit_day(
        from_ms.div_euclid(DAY_MS),
        (to_ms - 1).div_euclid(DAY_MS),
        |_, blob| {
            for r in Record::read_all(blob) {
                let page = r.page as usize;
                let page_matches = match page_ok.get(page).copied().flatten() {
                    Some(ok) => ok,
                    None => {
                        let name = by_number.get(page).map_or("", String::as_str);
                        let ok = q.page.matches(name);
                        if let Some(slot) = page_ok.get_mut(page) {
                            *slot = Some(ok);
                        }
                        ok
                    }
                };
                if r.ts_ms < from_ms || r.ts_ms >= to_ms || !page_matches {
                    continue;
                }
                let credit = match r.key as usize {
                    0 => None,
                    k => {
                        if targets.len() <= k {
                            targets.resize(k + 1, None);
                        }
                        *targets[k].get_or_insert_with(|| {
                            target(store, q.by, resolver, r.key).unwrap_or_else(|e| {
                                failed.get_or_insert(e);
                                None
                            })
                        })
                    }
                };
                if r.goal != 0 && !goals.contains(&r.goal) {
                    goals.push(r.goal);
                }
                if r.currency != 0 && !currencies.contains(&r.currency) {
                    currencies.push(r.currency);
                }
                let counted = Counted {
                    person: r.person,
                    goal: (r.goal != 0).then_some(r.goal),
                    value: (r.currency != 0).then_some((r.currency, r.value_micros)),
                    delay_ms: (r.delay_ms >= 0).then_some(r.delay_ms),
                };
                out.count(&counted, credit, campaign_filter);
            }
        },
    )?;
    if let Some(e) = failed {
        return Err(e);
    }
    out.goals = named(&by_number, goals);
    out.currencies = named(&by_number, currencies);
    out.names = Some(by_number);
    Ok(out)
}

/// The sorted, distinct names of `numbers`.
fn named(by_number: &[String], mut numbers: Vec<u32>) -> Vec<String> {
    numbers.sort_unstable();
    numbers.dedup();
    let mut out: Vec<String> = numbers
        .into_iter()
        .filter_map(|n| by_number.get(n as usize).cloned())
        .collect();
    out.sort();
    out
}

/// Where the referral of key `n` counts.
fn target(
    store: &Store,
    by: GroupBy,
    resolver: &mut Resolver<'_>,
    n: u32,
) -> Result<Option<Target>, StoreError> {
    let Some(k) = store.credit_key_of(n)? else {
        return Ok(None);
    };
    let key = RowKey {
        page_id: &k.page_id,
        ref_code: k.ref_code.as_deref(),
        source: &k.source,
        platform: &k.platform,
        ad: &k.ad,
    };
    let t = resolver.target(&key);
    let group = if by == GroupBy::Kind {
        Some(resolver.group((k.kind.clone(), false)))
    } else {
        t.group
    };
    Ok(Some(Target {
        group,
        in_scope: t.in_scope,
    }))
}
