//! Referral events and per-backend sync state.
//!
//! Events are deduplicated by `event_id`. Each newly stored event also bumps
//! its rollup row ([`super::rollup`]) and the person index
//! ([`super::people`]), in the same transaction. Chart queries read
//! rollups, never raw events.

use super::people::{PeopleDelta, PersonNumbers};
use super::rollup::{Fact, RollupDelta, RowKey};
use super::{Store, StoreError, now_secs};
use crate::model::{ConversionEvent, EventFilter, ReferralEvent};
use rusqlite::{Transaction, params};

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

/// What [`Store::ingest_all`] stored that was new.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ingested {
    /// New referral events.
    pub referrals: usize,
    /// New conversion events.
    pub conversions: usize,
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
        self.ingest_all(events, &[], step).map(|n| n.referrals)
    }

    /// [`Store::ingest`] with conversions (issue 21): they are stored in the
    /// last transaction, the one that moves the cursor, all or none (see
    /// [`super::conversions`]). `events_pulled` counts both kinds.
    pub fn ingest_all(
        &mut self,
        events: &[ReferralEvent],
        conversions: &[ConversionEvent],
        step: Option<SyncStep<'_>>,
    ) -> Result<Ingested, StoreError> {
        let origin = step.map(|s| s.source);
        let pulled = (events.len() + conversions.len()) as i64;
        let mut new_conversions = 0;
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
            if i == last {
                new_conversions = super::conversions::insert_conversions(&tx, conversions, origin)?;
            }
            if let (Some(step), true) = (step, i == last) {
                tx.execute(
                    "UPDATE sync_sources SET cursor = ?1, events_pulled = events_pulled + ?2
                     WHERE id = ?3 AND cursor IS ?4",
                    params![step.next, pulled, step.source, step.after],
                )?;
            }
            tx.commit()?;
        }
        Ok(Ingested {
            referrals: inserted,
            conversions: new_conversions,
        })
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

    /// Distinct people with events in `[from_ms, to_ms)` that `page` keeps
    /// ([`crate::model::Page::event_filter`]).
    pub fn count_people(
        &self,
        from_ms: i64,
        to_ms: i64,
        page: &EventFilter,
    ) -> Result<u64, StoreError> {
        let ids = page.page_ids();
        // The filter's own ids as parameters: `page_id IN (?3, ?4, …)`.
        let mut sql = String::from(
            "SELECT count(DISTINCT sender_hash) FROM referral_events
             WHERE ts_ms >= ?1 AND ts_ms < ?2",
        );
        if !ids.is_empty() {
            let marks: Vec<String> = (3..3 + ids.len()).map(|i| format!("?{i}")).collect();
            sql.push_str(&format!(" AND page_id IN ({})", marks.join(", ")));
        }
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&from_ms, &to_ms];
        values.extend(ids.iter().map(|id| id as &dyn rusqlite::ToSql));
        let n: i64 = self.conn.query_row(&sql, values.as_slice(), |r| r.get(0))?;
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
