//! Referral events, their rollups, and per-backend sync state.
//!
//! Events are deduplicated by `event_id`. Each newly stored event also bumps
//! a rollup row (UTC day, page, ref, source) whose `slots` blob holds sparse
//! 15-minute counts: entries of `slot: u8, new: u32 LE, returning: u32 LE`,
//! sorted by slot. Chart queries read rollups, never raw events.

use super::{Store, StoreError, now_secs};
use crate::model::{Kind, ReferralEvent};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::{BTreeMap, HashMap};

/// Length of one rollup slot.
pub const SLOT_MS: i64 = 15 * 60 * 1000;
/// Slots in a UTC day.
pub const SLOTS_PER_DAY: i64 = 96;
const DAY_MS: i64 = 86_400_000;
const ENTRY_BYTES: usize = 9;

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
    /// Ref ("" when none).
    pub ref_code: String,
    /// Source ("" when none).
    pub source: String,
    /// `new` or `returning`.
    pub kind: String,
    /// Keyed hash of the person.
    pub sender: String,
}

/// One rollup row, decoded.
#[derive(Debug, Clone)]
pub struct RollupRow {
    /// UTC day number (days since the epoch).
    pub day: i64,
    /// Page id.
    pub page_id: String,
    /// Ref ("" when the referral had none).
    pub ref_code: String,
    /// Source ("" when none).
    pub source: String,
    /// Raw slot entries; read them with [`decode_slots`].
    pub slots: Vec<u8>,
}

/// Decodes a slots blob into `(slot, new, returning)` entries.
pub fn decode_slots(blob: &[u8]) -> impl Iterator<Item = (u8, u32, u32)> + '_ {
    blob.chunks_exact(ENTRY_BYTES).map(|c| {
        let n = u32::from_le_bytes([c[1], c[2], c[3], c[4]]);
        let r = u32::from_le_bytes([c[5], c[6], c[7], c[8]]);
        (c[0], n, r)
    })
}

fn encode_slots(map: &BTreeMap<u8, (u32, u32)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(map.len() * ENTRY_BYTES);
    for (slot, (n, r)) in map {
        out.push(*slot);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&r.to_le_bytes());
    }
    out
}

type RollupKey = (i64, String, String, String);

/// Inserts events inside `tx`, skipping known ids, and updates rollups.
/// Returns how many were new.
fn insert_events(
    tx: &Transaction<'_>,
    events: &[ReferralEvent],
    origin: Option<i64>,
) -> Result<usize, StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO referral_events (event_id, platform, page_id, sender_hash, ts_ms,
            kind, ref, source, ref_type, ad_id, ad_title, referer_uri, origin, received_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    let mut delta: HashMap<RollupKey, BTreeMap<u8, (u32, u32)>> = HashMap::new();
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
        let day = e.timestamp_ms.div_euclid(DAY_MS);
        let slot = (e.timestamp_ms.rem_euclid(DAY_MS) / SLOT_MS) as u8;
        let key = (
            day,
            e.page_id.clone(),
            e.ref_code.clone().unwrap_or_default(),
            e.source.clone().unwrap_or_default(),
        );
        let entry = delta.entry(key).or_default().entry(slot).or_default();
        match e.kind {
            Kind::New => entry.0 += 1,
            Kind::Returning => entry.1 += 1,
        }
    }
    let mut read = tx.prepare_cached(
        "SELECT slots FROM referral_rollup WHERE day = ?1 AND page_id = ?2 AND ref = ?3 AND source = ?4",
    )?;
    let mut write = tx.prepare_cached(
        "INSERT OR REPLACE INTO referral_rollup (day, page_id, ref, source, slots) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for ((day, page, r, source), add) in delta {
        let current: Option<Vec<u8>> = read
            .query_row(params![day, page, r, source], |row| row.get(0))
            .optional()?;
        let mut merged: BTreeMap<u8, (u32, u32)> = current
            .as_deref()
            .map(|b| decode_slots(b).map(|(s, n, r)| (s, (n, r))).collect())
            .unwrap_or_default();
        for (slot, (n, r)) in add {
            let e = merged.entry(slot).or_default();
            e.0 = e.0.saturating_add(n);
            e.1 = e.1.saturating_add(r);
        }
        write.execute(params![day, page, r, source, encode_slots(&merged)])?;
    }
    Ok(inserted)
}

impl Store {
    /// Stores events (imported or synced) in one transaction; duplicates are
    /// ignored. With `origin`, the source's cursor moves to `cursor` in the
    /// same transaction, so an interrupted sync never counts twice or skips.
    pub fn ingest(
        &mut self,
        events: &[ReferralEvent],
        origin: Option<(i64, &str)>,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let inserted = insert_events(&tx, events, origin.map(|o| o.0))?;
        if let Some((source, cursor)) = origin {
            tx.execute(
                "UPDATE sync_sources SET cursor = ?1, events_pulled = events_pulled + ?2 WHERE id = ?3",
                params![cursor, events.len() as i64, source],
            )?;
        }
        tx.commit()?;
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

    /// Rollup rows for UTC days `from_day..=to_day` (all when `None`).
    pub fn rollups(
        &self,
        from_day: Option<i64>,
        to_day: Option<i64>,
    ) -> Result<Vec<RollupRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT day, page_id, ref, source, slots FROM referral_rollup
             WHERE day >= ?1 AND day <= ?2",
        )?;
        let rows = stmt.query_map(
            params![from_day.unwrap_or(i64::MIN), to_day.unwrap_or(i64::MAX)],
            |r| {
                Ok(RollupRow {
                    day: r.get(0)?,
                    page_id: r.get(1)?,
                    ref_code: r.get(2)?,
                    source: r.get(3)?,
                    slots: r.get(4)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Distinct (page, ref, source, kind, person) tuples of events in
    /// `[from_ms, to_ms)`, for unique-people counts.
    pub fn people(&self, from_ms: i64, to_ms: i64) -> Result<Vec<PersonRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT page_id, coalesce(ref, ''), coalesce(source, ''), kind, sender_hash
             FROM referral_events WHERE ts_ms >= ?1 AND ts_ms < ?2",
        )?;
        let rows = stmt.query_map(params![from_ms, to_ms], |r| {
            Ok(PersonRow {
                page_id: r.get(0)?,
                ref_code: r.get(1)?,
                source: r.get(2)?,
                kind: r.get(3)?,
                sender: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
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
