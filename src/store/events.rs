//! Referral events, their rollups, and per-backend sync state.
//!
//! Events are deduplicated by `event_id`. Each newly stored event also bumps
//! a rollup row (7-day UTC period, page, ref, source) whose `slots` blob holds
//! sparse 15-minute counts: entries of three LEB128 varints (slot delta, new,
//! returning), sorted by slot. Week-long rows keep chart scans short. Chart queries read rollups, never raw events.

use super::people::{PeopleDelta, PersonNumbers};
use super::{Store, StoreError, now_secs};
use crate::model::{Kind, ReferralEvent};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::{BTreeMap, HashMap};

/// Length of one rollup slot.
pub const SLOT_MS: i64 = 15 * 60 * 1000;
/// Length of one rollup row: 7 UTC days from the epoch (a Thursday).
pub const PERIOD_MS: i64 = 7 * 86_400_000;
/// Slots in one rollup row.
pub const SLOTS_PER_PERIOD: i64 = PERIOD_MS / SLOT_MS;

/// Sync state of one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSource {
    /// Store id.
    pub id: i64,
    /// Backend base URL.
    pub url: String,
    /// Cursor to resume from.
    pub cursor: Option<String>,
    /// Last successful sync, seconds since the Unix epoch.
    pub last_sync_at: Option<i64>,
    /// Last error message, cleared by a successful sync.
    pub last_error: Option<String>,
    /// Events pulled from this backend, all time.
    pub events_pulled: i64,
}

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
    fn of(e: &'a ReferralEvent) -> Self {
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

/// Inserts events inside `tx`, skipping known ids, and updates the rollups
/// and the person index. Returns how many were new.
fn insert_events(
    tx: &Transaction<'_>,
    events: &[ReferralEvent],
    origin: Option<i64>,
) -> Result<usize, StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO referral_events (event_id, platform, page_id, sender_hash, ts_ms,
            kind, ref, source, ref_type, ad_id, ad_title, referer_uri, origin, received_at_ms,
            person)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    let mut rollups = RollupDelta::default();
    let mut people = PeopleDelta::default();
    let mut numbers = PersonNumbers::default();
    let mut inserted = 0;
    for e in events {
        // Numbered before the insert, so the row carries it (a duplicate's
        // sender already has a number: it was stored with the original).
        let person = numbers.get(tx, &e.sender)?;
        let changed = insert.execute(params![
            e.event_id,
            e.platform.as_str(),
            e.page_id,
            e.sender,
            e.timestamp_ms,
            e.kind.as_str(),
            e.ref_code,
            e.source,
            e.ref_type,
            e.ad_id,
            e.ad_title,
            e.referer_uri,
            origin,
            e.received_at_ms,
            person
        ])?;
        if changed == 0 {
            continue;
        }
        inserted += 1;
        let fact = Fact::of(e);
        rollups.add(&fact);
        people.add(&fact, person);
    }
    rollups.write(tx)?;
    people.write(tx)?;
    Ok(inserted)
}

/// A page of synced events: which backend, the cursor the page was asked
/// for after, and the cursor to continue from.
#[derive(Debug, Clone, Copy)]
pub struct SyncStep<'a> {
    /// Store id of the sync source.
    pub source: i64,
    /// The cursor the page was fetched after (`None` for the first page).
    pub after: Option<&'a str>,
    /// The cursor to resume from once the page is stored.
    pub next: &'a str,
}

/// Events stored per write transaction: one sync page (the relay serves at
/// most 5,000), so each person set a page touches is rewritten once, while
/// a big import still holds the write lock for tens of milliseconds at a
/// time (about 50 ms a transaction in the sync benchmark), not for minutes.
/// With 1,000 the same sync ran at 52,000 events/s instead of 89,000.
const EVENTS_PER_TRANSACTION: usize = 5000;
/// Pause between those transactions: other connections' busy handlers poll
/// every millisecond, so one of them takes its turn here.
const WRITER_TURN: std::time::Duration = std::time::Duration::from_millis(2);

impl Store {
    /// Stores events (imported or synced) in short transactions of at most
    /// [`EVENTS_PER_TRANSACTION`]; duplicates are ignored. Returns how many
    /// were new.
    ///
    /// With a [`SyncStep`], the last transaction also moves the source's
    /// cursor from `after` to `next` and counts the page in `events_pulled`,
    /// but only if the cursor is still at `after`: when two syncs of one
    /// backend run at once, each page is counted once. An interrupted page
    /// leaves the cursor where it was; it is fetched again, and the events
    /// already stored are skipped as known.
    pub fn ingest(
        &mut self,
        events: &[ReferralEvent],
        step: Option<SyncStep<'_>>,
    ) -> Result<usize, StoreError> {
        let origin = step.map(|s| s.source);
        let chunks: Vec<&[ReferralEvent]> = if events.is_empty() {
            vec![&[]]
        } else {
            events.chunks(EVENTS_PER_TRANSACTION).collect()
        };
        let last = chunks.len() - 1;
        let mut inserted = 0;
        for (i, chunk) in chunks.into_iter().enumerate() {
            if i > 0 {
                std::thread::sleep(WRITER_TURN);
            }
            let tx = self.conn.transaction()?;
            inserted += insert_events(&tx, chunk, origin)?;
            if let (Some(step), true) = (step, i == last) {
                tx.execute(
                    "UPDATE sync_sources SET cursor = ?1, events_pulled = events_pulled + ?2
                     WHERE id = ?3 AND cursor IS ?4",
                    params![step.next, events.len() as i64, step.source, step.after],
                )?;
            }
            tx.commit()?;
        }
        Ok(inserted)
    }

    /// The sync state of `url`, created on first use.
    pub fn sync_source(&mut self, url: &str) -> Result<SyncSource, StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO sync_sources (url) VALUES (?1)",
            [url],
        )?;
        Ok(self.conn.query_row(
            "SELECT id, url, cursor, last_sync_at, last_error, events_pulled FROM sync_sources WHERE url = ?1",
            [url],
            |r| {
                Ok(SyncSource {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    cursor: r.get(2)?,
                    last_sync_at: r.get(3)?,
                    last_error: r.get(4)?,
                    events_pulled: r.get(5)?,
                })
            },
        )?)
    }

    /// Records how a sync of `source` ended.
    pub fn finish_sync(&mut self, source: i64, error: Option<&str>) -> Result<(), StoreError> {
        if let Some(e) = error {
            self.conn.execute(
                "UPDATE sync_sources SET last_error = ?1 WHERE id = ?2",
                params![e, source],
            )?;
        } else {
            self.conn.execute(
                "UPDATE sync_sources SET last_error = NULL, last_sync_at = ?1 WHERE id = ?2",
                params![now_secs(), source],
            )?;
        }
        Ok(())
    }

    /// The first and last event times within `[lo_ms, hi_ms]`, if any.
    /// Stats bound it by the event window, so a stray stored time cannot
    /// stretch an open range.
    pub fn event_time_range(
        &self,
        lo_ms: i64,
        hi_ms: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let (min, max): (Option<i64>, Option<i64>) = self.conn.query_row(
            "SELECT min(ts_ms), max(ts_ms) FROM referral_events WHERE ts_ms >= ?1 AND ts_ms <= ?2",
            params![lo_ms, hi_ms],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(min.zip(max))
    }

    /// Calls `f(period, key, slots)` for each rollup row of periods
    /// `from..=to`, borrowing instead of allocating (chart hot path).
    pub fn for_each_rollup(
        &self,
        from_period: i64,
        to_period: i64,
        mut f: impl FnMut(i64, &RowKey<'_>, &[u8]),
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT period, page_id, ref, source, slots, has_ref, platform, ad FROM referral_rollup
             WHERE period >= ?1 AND period <= ?2",
        )?;
        let mut rows = stmt.query(params![from_period, to_period])?;
        while let Some(r) = rows.next()? {
            let period: i64 = r.get(0)?;
            let text = move |i: usize| r.get_ref(i)?.as_str().map_err(rusqlite::Error::from);
            let slots = r.get_ref(4)?.as_blob().map_err(rusqlite::Error::from)?;
            let has_ref: bool = r.get(5)?;
            let key = RowKey {
                page_id: text(1)?,
                ref_code: has_ref.then_some(text(2)?),
                source: text(3)?,
                platform: text(6)?,
                ad: text(7)?,
            };
            f(period, &key, slots);
        }
        Ok(())
    }

    /// Distinct people with events in `[from_ms, to_ms)`, optionally of one
    /// page (its Page ID or, for Instagram events, its account id).
    pub fn count_people(
        &self,
        from_ms: i64,
        to_ms: i64,
        page_id: Option<&str>,
        ig_id: Option<&str>,
    ) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(DISTINCT sender_hash) FROM referral_events
             WHERE ts_ms >= ?1 AND ts_ms < ?2 AND (?3 IS NULL OR page_id = ?3 OR page_id = ?4)",
            params![from_ms, to_ms, page_id, ig_id],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Number of stored events.
    pub fn event_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM referral_events", [], |r| r.get(0))?)
    }

    /// The local key for hashing senders of imported bodies, made on first use.
    pub fn local_hash_key(&mut self) -> Result<Vec<u8>, StoreError> {
        if let Some(k) = self.setting("hash_key")?
            && let Ok(bytes) = hex::decode(k)
        {
            return Ok(bytes);
        }
        let key = crate::store::random_key()?;
        self.set_setting("hash_key", &hex::encode(&key))?;
        Ok(key)
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
