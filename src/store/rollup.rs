//! Rollups: per 7-day UTC period, page, ref, source, platform and ad, a
//! row whose `slots` blob holds sparse 15-minute counts: entries of three
//! LEB128 varints (slot delta, new, returning), sorted by slot. Week-long
//! rows keep chart scans short.
//!
//! The row key and the counting are shared by storing events
//! ([`super::events`]) and by the backfill of the person index
//! ([`super::people`]), so they live here, below both.

use super::StoreError;
use crate::model::{Kind, ReferralEvent};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::{BTreeMap, HashMap};

/// Length of one rollup slot.
pub const SLOT_MS: i64 = 15 * 60 * 1000;
/// Length of one rollup row: 7 UTC days from the epoch (a Thursday).
pub const PERIOD_MS: i64 = 7 * 86_400_000;
/// Slots in one rollup row.
pub const SLOTS_PER_PERIOD: i64 = PERIOD_MS / SLOT_MS;

/// Calls `f(slot, new, returning)` for each entry of a slots blob. A
/// malformed tail is ignored rather than trusted.
#[inline]
pub fn for_each_slot(blob: &[u8], mut f: impl FnMut(usize, u32, u32)) {
    let mut i = 0;
    let mut slot = 0usize;
    while i < blob.len() {
        // Fast path: all three varints fit one byte each.
        if i + 2 < blob.len() && (blob[i] | blob[i + 1] | blob[i + 2]) < 0x80 {
            slot += usize::from(blob[i]);
            f(slot, u32::from(blob[i + 1]), u32::from(blob[i + 2]));
            i += 3;
            continue;
        }
        let (Some(d), Some(n), Some(r)) = (
            read_varint(blob, &mut i),
            read_varint(blob, &mut i),
            read_varint(blob, &mut i),
        ) else {
            return;
        };
        slot += d as usize;
        f(slot, n, r);
    }
}

/// Decodes a slots blob into `(slot, new, returning)` entries.
pub fn decode_slots(blob: &[u8]) -> Vec<(usize, u32, u32)> {
    let mut out = Vec::new();
    for_each_slot(blob, |s, n, r| out.push((s, n, r)));
    out
}

fn read_varint(blob: &[u8], i: &mut usize) -> Option<u32> {
    let mut value = 0u32;
    for shift in (0..35).step_by(7) {
        let b = *blob.get(*i)?;
        *i += 1;
        value |= u32::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn write_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn encode_slots(map: &BTreeMap<u16, (u32, u32)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(map.len() * 3);
    let mut prev = 0u16;
    for (slot, (n, r)) in map {
        write_varint(&mut out, u32::from(slot - prev));
        write_varint(&mut out, *n);
        write_varint(&mut out, *r);
        prev = *slot;
    }
    out
}

/// What a rollup or person-index row is about, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowKey<'a> {
    /// Page id (an Instagram account id for Instagram events).
    pub page_id: &'a str,
    /// Ref; `None` when the referral had none (kept apart from an empty ref).
    pub ref_code: Option<&'a str>,
    /// Source ("" when none).
    pub source: &'a str,
    /// `messenger` or `instagram`.
    pub platform: &'a str,
    /// The ad's title, else its id, for ad referrals; "" otherwise.
    pub ad: &'a str,
}

/// One stored event as the rollups and the person index see it.
pub(super) struct Fact<'a> {
    pub(super) ts_ms: i64,
    pub(super) kind: Kind,
    pub(super) key: RowKey<'a>,
}

impl<'a> Fact<'a> {
    pub(super) fn of(e: &'a ReferralEvent) -> Self {
        Fact {
            ts_ms: e.timestamp_ms,
            kind: e.kind,
            key: RowKey {
                page_id: &e.page_id,
                ref_code: e.ref_code.as_deref(),
                source: e.source.as_deref().unwrap_or_default(),
                platform: e.platform.as_str(),
                ad: ad_key(e),
            },
        }
    }
}

/// How an event's ad is grouped: its title, else its id; "" when not an ad.
/// (SQL reads of raw events use the same rule: `coalesce(nullif(ad_title,
/// ''), nullif(ad_id, ''), '')`.)
pub fn ad_key(e: &ReferralEvent) -> &str {
    [e.ad_title.as_deref(), e.ad_id.as_deref()]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

/// (period, page, ref or `None` for no ref, source, platform, ad).
type RollupKey = (i64, String, Option<String>, String, String, String);

/// Counts per rollup slot gathered for one transaction.
#[derive(Default)]
pub(super) struct RollupDelta {
    rows: HashMap<RollupKey, BTreeMap<u16, (u32, u32)>>,
}

impl RollupDelta {
    /// Counts `f` in its rollup slot.
    pub(super) fn add(&mut self, f: &Fact<'_>) {
        let period = f.ts_ms.div_euclid(PERIOD_MS);
        let slot = u16::try_from(f.ts_ms.rem_euclid(PERIOD_MS) / SLOT_MS).unwrap_or(0);
        let key = (
            period,
            f.key.page_id.to_string(),
            f.key.ref_code.map(str::to_string),
            f.key.source.to_string(),
            f.key.platform.to_string(),
            f.key.ad.to_string(),
        );
        let entry = self.rows.entry(key).or_default().entry(slot).or_default();
        match f.kind {
            Kind::New => entry.0 += 1,
            Kind::Returning => entry.1 += 1,
        }
    }

    /// Merges the counted slots into the rollup rows.
    pub(super) fn write(self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let mut read = tx.prepare_cached(
            "SELECT slots FROM referral_rollup
             WHERE period = ?1 AND page_id = ?2 AND has_ref = ?3 AND ref = ?4 AND source = ?5
             AND platform = ?6 AND ad = ?7",
        )?;
        let mut write = tx.prepare_cached(
            "INSERT OR REPLACE INTO referral_rollup
                (period, page_id, has_ref, ref, source, platform, ad, slots)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for ((period, page, r, source, platform, ad), add) in self.rows {
            let (has_ref, r) = (r.is_some(), r.unwrap_or_default());
            let current: Option<Vec<u8>> = read
                .query_row(
                    params![period, page, has_ref, r, source, platform, ad],
                    |row| row.get(0),
                )
                .optional()?;
            let mut merged: BTreeMap<u16, (u32, u32)> = current
                .as_deref()
                .map(|b| {
                    decode_slots(b)
                        .into_iter()
                        .map(|(s, n, r)| (s as u16, (n, r)))
                        .collect()
                })
                .unwrap_or_default();
            for (slot, (n, r)) in add {
                let e = merged.entry(slot).or_default();
                e.0 = e.0.saturating_add(n);
                e.1 = e.1.saturating_add(r);
            }
            write.execute(params![
                period,
                page,
                has_ref,
                r,
                source,
                platform,
                ad,
                encode_slots(&merged)
            ])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_round_trip_with_large_counts() {
        let map: BTreeMap<u16, (u32, u32)> = [
            (0, (1, 0)),
            (5, (127, 128)),
            (300, (u32::MAX, 300_000)),
            (671, (2, 3)),
        ]
        .into();
        let blob = encode_slots(&map);
        let back: BTreeMap<u16, (u32, u32)> = decode_slots(&blob)
            .into_iter()
            .map(|(s, n, r)| (s as u16, (n, r)))
            .collect();
        assert_eq!(back, map);
        assert_eq!(encode_slots(&[(3, (1, 2))].into()).len(), 3);
        // A truncated blob ends the decoding instead of panicking.
        assert_eq!(decode_slots(&blob[..blob.len() - 1]).len(), 3);
    }
}
