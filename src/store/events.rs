//! Referral events, their rollups, and per-backend sync state.
//!
//! Events are deduplicated by `event_id`. Each newly stored event also bumps
//! a rollup row (7-day UTC period, page, ref, source) whose `slots` blob holds
//! sparse 15-minute counts: entries of three LEB128 varints (slot delta, new,
//! returning), sorted by slot. Week-long rows keep chart scans short. Chart queries read rollups, never raw events.

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

/// A person seen with a (page, ref, source, kind) combination.
#[derive(Debug, Clone)]
pub struct PersonRow {
    /// Page id.
    pub page_id: String,
    /// Ref; `None` when the referral had none (kept apart from an empty ref).
    pub ref_code: Option<String>,
    /// Source ("" when none).
    pub source: String,
    /// `new` or `returning`.
    pub kind: String,
    /// Keyed hash of the person.
    pub sender: String,
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

/// (period, page, ref or `None` for no ref, source).
type RollupKey<'a> = (i64, &'a str, Option<&'a str>, &'a str);

/// Inserts events inside `tx`, skipping known ids, and updates rollups.
/// Returns how many were new.
fn insert_events<'e>(
    tx: &Transaction<'_>,
    events: &'e [ReferralEvent],
    origin: Option<i64>,
) -> Result<usize, StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO referral_events (event_id, platform, page_id, sender_hash, ts_ms,
            kind, ref, source, ref_type, ad_id, ad_title, referer_uri, origin, received_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    let mut delta: HashMap<RollupKey<'e>, BTreeMap<u16, (u32, u32)>> = HashMap::new();
    let mut inserted = 0;
    for e in events {
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
            e.received_at_ms
        ])?;
        if changed == 0 {
            continue;
        }
        inserted += 1;
        add_to_delta(&mut delta, e);
    }
    write_rollups(tx, delta)?;
    Ok(inserted)
}

/// Counts `e` in its rollup slot.
fn add_to_delta<'e>(
    delta: &mut HashMap<RollupKey<'e>, BTreeMap<u16, (u32, u32)>>,
    e: &'e ReferralEvent,
) {
    let period = e.timestamp_ms.div_euclid(PERIOD_MS);
    let slot = u16::try_from(e.timestamp_ms.rem_euclid(PERIOD_MS) / SLOT_MS).unwrap_or(0);
    let key = (
        period,
        e.page_id.as_str(),
        e.ref_code.as_deref(),
        e.source.as_deref().unwrap_or_default(),
    );
    let entry = delta.entry(key).or_default().entry(slot).or_default();
    match e.kind {
        Kind::New => entry.0 += 1,
        Kind::Returning => entry.1 += 1,
    }
}

/// Merges counted slots into the rollup rows.
fn write_rollups(
    tx: &Transaction<'_>,
    delta: HashMap<RollupKey<'_>, BTreeMap<u16, (u32, u32)>>,
) -> Result<(), StoreError> {
    let mut read = tx.prepare_cached(
        "SELECT slots FROM referral_rollup
         WHERE period = ?1 AND page_id = ?2 AND has_ref = ?3 AND ref = ?4 AND source = ?5",
    )?;
    let mut write = tx.prepare_cached(
        "INSERT OR REPLACE INTO referral_rollup (period, page_id, has_ref, ref, source, slots)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for ((period, page, r, source), add) in delta {
        let (has_ref, r) = (r.is_some(), r.unwrap_or_default());
        let current: Option<Vec<u8>> = read
            .query_row(params![period, page, has_ref, r, source], |row| row.get(0))
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
            encode_slots(&merged)
        ])?;
    }
    Ok(())
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

/// Events stored per write transaction, so that a big page or import holds
/// the write lock for a few milliseconds at a time.
const EVENTS_PER_TRANSACTION: usize = 1000;
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

    /// Rebuilds, from the events, the rollups of referrals without a ref or
    /// with an empty one, once after migration 3 (which dropped the rows that
    /// mixed the two). Runs in one transaction; a no-op otherwise.
    pub(super) fn rebuild_refless_rollups(&mut self) -> Result<(), StoreError> {
        const FLAG: &str = "rollup_rebuild_refless";
        if self.setting(FLAG)?.is_none() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        // Another process may have done it while this one waited for the lock.
        let pending: Option<String> = tx
            .query_row("SELECT value FROM settings WHERE key = ?1", [FLAG], |r| {
                r.get(0)
            })
            .optional()?;
        if pending.is_some() {
            let events = {
                let mut stmt = tx.prepare(
                    "SELECT page_id, ts_ms, kind, ref, source FROM referral_events
                     WHERE ref IS NULL OR ref = ''",
                )?;
                let rows = stmt.query_map([], |r| {
                    Ok(ReferralEvent {
                        event_id: String::new(),
                        platform: crate::model::Platform::Messenger,
                        page_id: r.get(0)?,
                        sender: String::new(),
                        timestamp_ms: r.get(1)?,
                        kind: Kind::parse(&r.get::<_, String>(2)?).unwrap_or(Kind::New),
                        ref_code: r.get(3)?,
                        source: r.get(4)?,
                        ref_type: None,
                        ad_id: None,
                        ad_title: None,
                        referer_uri: None,
                        received_at_ms: 0,
                    })
                })?;
                rows.collect::<Result<Vec<_>, _>>()?
            };
            let mut delta = HashMap::new();
            for e in &events {
                add_to_delta(&mut delta, e);
            }
            write_rollups(&tx, delta)?;
            tx.execute("DELETE FROM settings WHERE key = ?1", [FLAG])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Calls `f(period, page_id, ref, source, slots)` for each rollup row of
    /// periods `from..=to`, borrowing instead of allocating (chart hot path).
    pub fn for_each_rollup(
        &self,
        from_period: i64,
        to_period: i64,
        mut f: impl FnMut(i64, &str, Option<&str>, &str, &[u8]),
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT period, page_id, ref, source, slots, has_ref FROM referral_rollup
             WHERE period >= ?1 AND period <= ?2",
        )?;
        let mut rows = stmt.query(params![from_period, to_period])?;
        while let Some(r) = rows.next()? {
            let period: i64 = r.get(0)?;
            let page = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            let ref_code = r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
            let source = r.get_ref(3)?.as_str().map_err(rusqlite::Error::from)?;
            let slots = r.get_ref(4)?.as_blob().map_err(rusqlite::Error::from)?;
            let has_ref: bool = r.get(5)?;
            f(period, page, has_ref.then_some(ref_code), source, slots);
        }
        Ok(())
    }

    /// Calls `f` for each distinct (page, ref, source, kind, person) tuple
    /// of events in `[from_ms, to_ms)`, optionally of one page, without
    /// collecting them (unique-people counts stay bounded in memory).
    pub fn for_each_person(
        &self,
        from_ms: i64,
        to_ms: i64,
        page_id: Option<&str>,
        ig_id: Option<&str>,
        mut f: impl FnMut(&PersonRow),
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT page_id, ref, coalesce(source, ''), kind, sender_hash
             FROM referral_events WHERE ts_ms >= ?1 AND ts_ms < ?2
             AND (?3 IS NULL OR page_id = ?3 OR page_id = ?4)",
        )?;
        let mut rows = stmt.query(params![from_ms, to_ms, page_id, ig_id])?;
        while let Some(r) = rows.next()? {
            f(&PersonRow {
                page_id: r.get(0)?,
                ref_code: r.get(1)?,
                source: r.get(2)?,
                kind: r.get(3)?,
                sender: r.get(4)?,
            });
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
