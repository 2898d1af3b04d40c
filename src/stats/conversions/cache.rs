//! The kept credit (migration 10): each conversion's credit, computed once
//! and kept per UTC day as fixed-size records, so a year's figures read 365
//! blobs instead of every referral of the year.
//!
//! The kept credit is stamped with the settings and the highest event ids
//! it saw. Before figures are read it is brought up to date in one
//! `BEGIN IMMEDIATE` transaction: after a change of settings every day is
//! rebuilt; otherwise only the days of new conversions and of conversions a
//! new referral may now be credited with (same page and person, within the
//! window after it). Days are rebuilt in runs of at most [`RUN_DAYS`] days,
//! each reading its conversions and the referrals from one window before it,
//! so memory follows a month of conversions, never the store.

use super::credit::{Touch, credited, sort_touches};
use crate::model::Attribution;
use crate::store::{CreditKey, RowKey, Store, StoreError};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// UTC day length.
pub(super) const DAY_MS: i64 = 86_400_000;
/// Most days rebuilt from one read of their referrals.
const RUN_DAYS: i64 = 31;
/// Bytes per record.
pub(super) const RECORD_BYTES: usize = 44;

/// One kept conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Record {
    pub(super) ts_ms: i64,
    /// Time since the credited referral; -1 without one.
    pub(super) delay_ms: i64,
    pub(super) value_micros: i64,
    /// `credit_people` number.
    pub(super) person: u32,
    /// `credit_keys` number of the credited referral; 0 without one.
    pub(super) key: u32,
    /// `credit_names` number of the goal; 0 for "conversation started".
    pub(super) goal: u32,
    /// `credit_names` number of the currency; 0 without a value.
    pub(super) currency: u32,
    /// `credit_names` number of the conversion's page.
    pub(super) page: u32,
}

impl Record {
    fn write(&self, out: &mut Vec<u8>) {
        for v in [self.ts_ms, self.delay_ms, self.value_micros] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [self.person, self.key, self.goal, self.currency, self.page] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// Every whole record of a blob (a torn tail is ignored).
    pub(super) fn read_all(blob: &[u8]) -> impl Iterator<Item = Record> + '_ {
        blob.chunks_exact(RECORD_BYTES).map(|c| {
            let i = |o: usize| i64::from_le_bytes(c[o..o + 8].try_into().unwrap_or([0; 8]));
            let u = |o: usize| u32::from_le_bytes(c[o..o + 4].try_into().unwrap_or([0; 4]));
            Record {
                ts_ms: i(0),
                delay_ms: i(8),
                value_micros: i(16),
                person: u(24),
                key: u(28),
                goal: u(32),
                currency: u(36),
                page: u(40),
            }
        })
    }
}

fn stamp_text(a: &Attribution, marks: (i64, i64)) -> String {
    format!("{} {} {} {}", a.window_days, a.model, marks.0, marks.1)
}

/// Brings the kept credit up to date for `a` (see the module header).
pub(super) fn refresh(store: &Store, a: &Attribution) -> Result<(), StoreError> {
    let marks = store.event_id_marks()?;
    if store.credit_stamp()?.as_deref() == Some(stamp_text(a, marks).as_str()) {
        return Ok(());
    }
    store.in_immediate(|store| {
        // Read again inside the transaction: another connection may have
        // refreshed, or events arrived, since the look above.
        let marks = store.event_id_marks()?;
        let stamp = store.credit_stamp()?;
        let settings = format!("{} {} ", a.window_days, a.model);
        let since = stamp
            .as_deref()
            .and_then(|s| s.strip_prefix(settings.as_str()))
            .and_then(|rest| {
                let (r, c) = rest.split_once(' ')?;
                Some((r.parse::<i64>().ok()?, c.parse::<i64>().ok()?))
            });
        let times = match since {
            Some(was) if was == marks => Vec::new(),
            Some((r, c)) => {
                let mut t = store.conversion_times_after(c)?;
                t.extend(store.conversion_times_near_referrals_after(r, a.window_ms())?);
                t
            }
            None => {
                store.clear_credit()?;
                store.conversion_times_after(0)?
            }
        };
        let days: BTreeSet<i64> = times.iter().map(|t| t.div_euclid(DAY_MS)).collect();
        for (first, last) in runs(&days) {
            rebuild(store, a, first, last)?;
        }
        store.set_credit_stamp(&stamp_text(a, marks))
    })
}

/// Sorted days grouped into runs of at most [`RUN_DAYS`] days.
fn runs(days: &BTreeSet<i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &d in days {
        match out.last_mut() {
            Some((first, last)) if d - *first < RUN_DAYS => *last = d,
            _ => out.push((d, d)),
        }
    }
    out
}

/// A referral's key as text, for interning without an allocation per row.
fn key_text(buf: &mut String, k: &RowKey<'_>, kind: &str) {
    buf.clear();
    let (mark, r) = k.ref_code.map_or(("N", ""), |r| ("R", r));
    for part in [
        k.page_id, "\0", mark, r, "\0", k.source, "\0", k.platform, "\0", k.ad, "\0", kind,
    ] {
        buf.push_str(part);
    }
}

/// A conversion of a run: time, person index, goal number, value (micros,
/// currency number) and page number.
type RunConv = (i64, usize, u32, Option<(i64, u32)>, u32);

/// What a rebuild reads: conversions of the run and, per person, their referrals.
#[derive(Default)]
struct RunRead {
    people: HashMap<String, usize>,
    person_numbers: Vec<u32>,
    /// (ts, person index, goal, value (micros, currency), page).
    convs: Vec<RunConv>,
    touches: Vec<Vec<Touch<usize>>>,
    keys: Vec<CreditKey>,
    key_index: HashMap<String, usize>,
    key_numbers: Vec<Option<u32>>,
}

/// Recomputes every conversion of the UTC days `first..=last` and writes the days.
fn rebuild(store: &Store, a: &Attribution, first: i64, last: i64) -> Result<(), StoreError> {
    let (lo, hi) = (first * DAY_MS, (last + 1) * DAY_MS);
    let mut read = RunRead::default();
    read_run_conversions(store, lo, hi, &mut read)?;
    read_run_touches(store, lo.saturating_sub(a.window_ms()), hi, &mut read)?;
    let mut days: BTreeMap<i64, Vec<u8>> = (first..=last).map(|d| (d, Vec::new())).collect();
    for &(ts_ms, person, goal, value, page) in &read.convs {
        let touches = &read.touches[person];
        let credit = credited(touches, ts_ms, a.window_ms(), a.model).map(|i| touches[i]);
        let key = match credit {
            Some(t) => match read.key_numbers[t.data] {
                Some(n) => n,
                None => {
                    let n = store.credit_key(&read.keys[t.data])?;
                    read.key_numbers[t.data] = Some(n);
                    n
                }
            },
            None => 0,
        };
        let record = Record {
            ts_ms,
            delay_ms: credit.map_or(-1, |t| ts_ms - t.ts_ms),
            value_micros: value.map_or(0, |v| v.0),
            person: read.person_numbers[person],
            key,
            goal,
            currency: value.map_or(0, |v| v.1),
            page,
        };
        if let Some(day) = days.get_mut(&ts_ms.div_euclid(DAY_MS)) {
            record.write(day);
        }
    }
    for (day, blob) in days {
        store.write_credit_day(day, &blob)?;
    }
    Ok(())
}

fn read_run_conversions(
    store: &Store,
    lo: i64,
    hi: i64,
    read: &mut RunRead,
) -> Result<(), StoreError> {
    let mut names: HashMap<String, u32> = HashMap::new();
    let mut name = |s: &str| -> Result<u32, StoreError> {
        if let Some(&n) = names.get(s) {
            return Ok(n);
        }
        let n = store.credit_name(s)?;
        names.insert(s.to_string(), n);
        Ok(n)
    };
    let mut rows = Vec::new();
    store.for_each_conversion(lo, hi, |c| {
        rows.push((
            c.ts_ms,
            format!("{}\0{}", c.page_id, c.sender_hash),
            c.goal.map(str::to_string),
            c.value.map(|(m, cur)| (m, cur.to_string())),
            c.page_id.to_string(),
        ));
    })?;
    for (ts, person, goal, value, page) in rows {
        let next = read.people.len();
        let idx = *read.people.entry(person.clone()).or_insert(next);
        if idx == next {
            let (page_id, sender) = person.split_once('\0').unwrap_or((&person, ""));
            read.person_numbers
                .push(store.credit_person(page_id, sender)?);
            read.touches.push(Vec::new());
        }
        let goal = goal.map(|g| name(&g)).transpose()?.unwrap_or(0);
        let value = match value {
            Some((m, cur)) => Some((m, name(&cur)?)),
            None => None,
        };
        read.convs.push((ts, idx, goal, value, name(&page)?));
    }
    Ok(())
}

fn read_run_touches(store: &Store, lo: i64, hi: i64, read: &mut RunRead) -> Result<(), StoreError> {
    if read.convs.is_empty() {
        return Ok(());
    }
    let mut buf = String::new();
    let found = std::cell::Cell::new(None);
    let people = &read.people;
    let (touches, keys, key_index, key_numbers) = (
        &mut read.touches,
        &mut read.keys,
        &mut read.key_index,
        &mut read.key_numbers,
    );
    let mut kbuf = String::new();
    store.for_each_touch(
        lo,
        hi,
        |page_id, sender_hash| {
            buf.clear();
            buf.push_str(page_id);
            buf.push('\0');
            buf.push_str(sender_hash);
            found.set(people.get(buf.as_str()).copied());
            found.get().is_some()
        },
        |t| {
            let Some(person) = found.get() else { return };
            key_text(&mut kbuf, &t.key, t.kind.as_str());
            let k = match key_index.get(kbuf.as_str()) {
                Some(&k) => k,
                None => {
                    keys.push(CreditKey {
                        page_id: t.key.page_id.to_string(),
                        ref_code: t.key.ref_code.map(str::to_string),
                        source: t.key.source.to_string(),
                        platform: t.key.platform.to_string(),
                        ad: t.key.ad.to_string(),
                        kind: t.kind.as_str().to_string(),
                    });
                    key_numbers.push(None);
                    key_index.insert(kbuf.clone(), keys.len() - 1);
                    keys.len() - 1
                }
            };
            touches[person].push(Touch {
                ts_ms: t.ts_ms,
                id: t.id,
                data: k,
            });
        },
    )?;
    for list in touches.iter_mut() {
        sort_touches(list);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_runs_stay_within_a_month() {
        let r = Record {
            ts_ms: -5,
            delay_ms: -1,
            value_micros: i64::MAX,
            person: u32::MAX,
            key: 0,
            goal: 7,
            currency: 3,
            page: 1,
        };
        let mut blob = Vec::new();
        r.write(&mut blob);
        r.write(&mut blob);
        blob.push(1);
        assert_eq!(blob.len(), 2 * RECORD_BYTES + 1);
        assert_eq!(Record::read_all(&blob).collect::<Vec<_>>(), [r, r]);
        let days: BTreeSet<i64> = [1, 2, 31, 32, 100].into_iter().collect();
        assert_eq!(runs(&days), [(1, 31), (32, 32), (100, 100)]);
    }
}
