//! The person index: exact unique people without reading raw events.
//!
//! Each distinct `sender_hash` gets a dense number (`persons.n`). For each
//! UTC day and 7-day UTC week, page, and value of each [`Dim`], a row of
//! `people_index` holds the numbers of the people seen, as a serialised
//! roaring bitmap. Both are written in the transaction that stores the
//! events, so they can never disagree with `referral_events`.
//!
//! A query over local days unites the sets of the whole UTC weeks and days
//! inside the range and reads raw events only for the two partial UTC days
//! at its edges (a zone offset is less than a day), see [`crate::stats`].
//! Sets are exact: no sketch, no sampling. See docs/person-index.md.

use super::rollup::{Fact, PERIOD_MS, RollupDelta, RowKey};
use super::{Store, StoreError};
use crate::model::Kind;
use roaring::RoaringBitmap;
use rusqlite::{OptionalExtension, Transaction, params};
use std::borrow::Cow;
use std::collections::HashMap;

/// One UTC day, in ms.
pub const DAY_MS: i64 = 86_400_000;
/// The spans, in UTC days, that sets are kept for: days, and 7-day weeks
/// starting on a day number divisible by 7 (a Thursday, like rollup periods).
pub const SPANS_DAYS: [i64; 2] = [1, 7];

/// A dimension of the person index: what a set's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dim {
    /// The ref (`None`: no ref); with the page it gives link, ref, channel,
    /// campaign and page.
    Ref,
    /// `source` as sent ("" when none).
    Source,
    /// `new` or `returning`.
    Kind,
    /// `messenger` or `instagram`.
    Platform,
    /// Ad title, else ad id ("" when not an ad).
    Ad,
}

impl Dim {
    /// Every dimension, each kept for every event.
    pub const ALL: [Dim; 5] = [Dim::Ref, Dim::Source, Dim::Kind, Dim::Platform, Dim::Ad];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Ref => "ref",
            Dim::Source => "source",
            Dim::Kind => "kind",
            Dim::Platform => "platform",
            Dim::Ad => "ad",
        }
    }

    /// The fact's value in this dimension.
    fn value<'a>(self, f: &Fact<'a>) -> Option<&'a str> {
        match self {
            Dim::Ref => f.key.ref_code,
            Dim::Source => Some(f.key.source),
            Dim::Kind => Some(f.kind.as_str()),
            Dim::Platform => Some(f.key.platform),
            Dim::Ad => Some(f.key.ad),
        }
    }
}

/// (dim, span in days, first day, page, value or `None`). The texts borrow
/// from the events being stored (no allocation per event and set); the
/// backfill, whose rows live one step, owns them.
type SetKey<'a> = (Dim, i64, i64, Cow<'a, str>, Option<Cow<'a, str>>);

/// People to add to the index, per set, gathered for one transaction.
#[derive(Default)]
pub(super) struct PeopleDelta<'a> {
    rows: HashMap<SetKey<'a>, RoaringBitmap>,
}

impl<'a> PeopleDelta<'a> {
    /// Records person `n` in every set the fact belongs to: each dimension,
    /// for its day and its week.
    pub(super) fn add(&mut self, f: &Fact<'a>, n: u32) {
        self.add_with(f, n, Cow::Borrowed);
    }

    /// [`Self::add`] for a fact whose texts do not outlive the call.
    pub(super) fn add_owned(&mut self, f: &Fact<'_>, n: u32) {
        self.add_with(f, n, |s| Cow::Owned(s.to_string()));
    }

    fn add_with<'f>(&mut self, f: &Fact<'f>, n: u32, text: impl Fn(&'f str) -> Cow<'a, str>) {
        let day = f.ts_ms.div_euclid(DAY_MS);
        for dim in Dim::ALL {
            let value = dim.value(f);
            for span in SPANS_DAYS {
                let start = day - day.rem_euclid(span);
                let key = (dim, span, start, text(f.key.page_id), value.map(&text));
                self.rows.entry(key).or_default().insert(n);
            }
        }
    }

    /// Merges the gathered people into `people_index` (read, union, write).
    pub(super) fn write(self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let mut read = tx.prepare_cached(
            "SELECT people FROM people_index WHERE dim = ?1 AND span = ?2 AND start = ?3
             AND page_id = ?4 AND has_value = ?5 AND value = ?6",
        )?;
        let mut write = tx.prepare_cached(
            "INSERT OR REPLACE INTO people_index
                (dim, span, start, page_id, has_value, value, people)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut buf = Vec::new();
        for ((dim, span, start, page, value), mut add) in self.rows {
            let (has_value, value) = (value.is_some(), value.unwrap_or_default());
            let (dim, page, value) = (dim.as_str(), page.as_ref(), value.as_ref());
            let current: Option<Vec<u8>> = read
                .query_row(params![dim, span, start, page, has_value, value], |row| {
                    row.get(0)
                })
                .optional()?;
            if let Some(blob) = current {
                add |= decode(&blob)?;
            }
            buf.clear();
            add.serialize_into(&mut buf)
                .map_err(|e| StoreError::internal(format!("cannot encode a set of people: {e}")))?;
            write.execute(params![dim, span, start, page, has_value, value, buf])?;
        }
        Ok(())
    }
}

/// A stored set of people; a damaged blob is an internal error, not a panic.
pub fn decode(blob: &[u8]) -> Result<RoaringBitmap, StoreError> {
    RoaringBitmap::deserialize_from(blob)
        .map_err(|e| StoreError::internal(format!("a stored set of people is damaged: {e}")))
}

/// Dense person numbers for the senders of one transaction, so each is
/// looked up once.
#[derive(Default)]
pub(super) struct PersonNumbers {
    known: HashMap<String, u32>,
}

impl PersonNumbers {
    /// The number of `hash`, given on first sight.
    pub(super) fn get(&mut self, tx: &Transaction<'_>, hash: &str) -> Result<u32, StoreError> {
        if let Some(&n) = self.known.get(hash) {
            return Ok(n);
        }
        let mut find = tx.prepare_cached("SELECT n FROM persons WHERE hash = ?1")?;
        let n: i64 = match find.query_row([hash], |r| r.get(0)).optional()? {
            Some(n) => n,
            None => {
                tx.prepare_cached("INSERT INTO persons (hash) VALUES (?1)")?
                    .execute([hash])?;
                tx.last_insert_rowid()
            }
        };
        let n = u32::try_from(n).map_err(|_| {
            StoreError::internal("more than 4 billion distinct people in one store")
        })?;
        self.known.insert(hash.to_string(), n);
        Ok(n)
    }
}

/// Rebuilds the rollups and the person index from every stored event, in
/// `tx` (migration 6).
///
/// Events are read in time order, so only one rollup period and one day of
/// people are in memory at a time.
pub(super) fn backfill(tx: &Transaction<'_>) -> Result<(), StoreError> {
    // Numbers in order of first sight, so the oldest people get the lowest.
    tx.execute_batch(
        "INSERT OR IGNORE INTO persons (hash)
            SELECT sender_hash FROM referral_events ORDER BY ts_ms;",
    )?;
    let mut stmt = tx.prepare(
        "SELECT e.ts_ms, e.page_id, e.ref, coalesce(e.source, ''), e.kind, e.platform,
                coalesce(nullif(e.ad_title, ''), nullif(e.ad_id, ''), ''), p.n
         FROM referral_events e JOIN persons p ON p.hash = e.sender_hash
         ORDER BY e.ts_ms",
    )?;
    let mut rows = stmt.query([])?;
    let mut rollups = RollupDelta::default();
    let mut people = PeopleDelta::default();
    let (mut period, mut week) = (None, None);
    while let Some(r) = rows.next()? {
        let ts_ms: i64 = r.get(0)?;
        let page: String = r.get(1)?;
        let ref_code: Option<String> = r.get(2)?;
        let source: String = r.get(3)?;
        let kind = Kind::parse(&r.get::<_, String>(4)?).unwrap_or(Kind::New);
        let platform: String = r.get(5)?;
        let ad: String = r.get(6)?;
        let n = u32::try_from(r.get::<_, i64>(7)?).map_err(|_| {
            StoreError::internal("more than 4 billion distinct people in one store")
        })?;
        let this_period = ts_ms.div_euclid(PERIOD_MS);
        if period.is_some_and(|p| p != this_period) {
            std::mem::take(&mut rollups).write(tx)?;
        }
        period = Some(this_period);
        // One week of sets in memory at a time (day sets end with it).
        let this_week = ts_ms.div_euclid(DAY_MS * 7);
        if week.is_some_and(|w| w != this_week) {
            std::mem::take(&mut people).write(tx)?;
        }
        week = Some(this_week);
        let fact = Fact {
            ts_ms,
            kind,
            key: RowKey {
                page_id: &page,
                ref_code: ref_code.as_deref(),
                source: &source,
                platform: &platform,
                ad: &ad,
            },
        };
        rollups.add(&fact);
        people.add_owned(&fact, n);
    }
    rollups.write(tx)?;
    people.write(tx)?;
    Ok(())
}

impl Store {
    /// Calls `f(page_id, value, people)` for each set of `dim` kept for
    /// `span_days` whose first UTC day is in `from_day..to_day`, borrowing
    /// the blob.
    pub fn for_each_people_set(
        &self,
        dim: Dim,
        span_days: i64,
        from_day: i64,
        to_day: i64,
        mut f: impl FnMut(&str, Option<&str>, &[u8]),
    ) -> Result<(), StoreError> {
        if from_day >= to_day {
            return Ok(());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT page_id, has_value, value, people FROM people_index
             WHERE dim = ?1 AND span = ?2 AND start >= ?3 AND start < ?4",
        )?;
        let mut rows = stmt.query(params![dim.as_str(), span_days, from_day, to_day])?;
        while let Some(r) = rows.next()? {
            let text = move |i: usize| r.get_ref(i)?.as_str().map_err(rusqlite::Error::from);
            let has_value: bool = r.get(1)?;
            let blob = r.get_ref(3)?.as_blob().map_err(rusqlite::Error::from)?;
            f(text(0)?, has_value.then_some(text(2)?), blob);
        }
        Ok(())
    }

    /// Calls `f(key, kind, person)` for each event in `[from_ms, to_ms)`,
    /// with the person's dense number (the partial days at a range's edges).
    pub fn for_each_event_person(
        &self,
        from_ms: i64,
        to_ms: i64,
        mut f: impl FnMut(&RowKey<'_>, Kind, u32),
    ) -> Result<(), StoreError> {
        if from_ms >= to_ms {
            return Ok(());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.page_id, e.ref, coalesce(e.source, ''), e.kind, e.platform,
                    coalesce(nullif(e.ad_title, ''), nullif(e.ad_id, ''), ''),
                    coalesce(e.person, (SELECT n FROM persons WHERE hash = e.sender_hash))
             FROM referral_events e
             WHERE e.ts_ms >= ?1 AND e.ts_ms < ?2",
        )?;
        let mut rows = stmt.query(params![from_ms, to_ms])?;
        while let Some(r) = rows.next()? {
            let text = move |i: usize| r.get_ref(i)?.as_str().map_err(rusqlite::Error::from);
            let ref_code = match r.get_ref(1)? {
                rusqlite::types::ValueRef::Null => None,
                v => Some(v.as_str().map_err(rusqlite::Error::from)?),
            };
            let key = RowKey {
                page_id: text(0)?,
                ref_code,
                source: text(2)?,
                platform: text(4)?,
                ad: text(5)?,
            };
            let kind = Kind::parse(text(3)?).unwrap_or(Kind::New);
            // Every stored sender has a number; a row without one would be
            // skipped, as the join this replaced skipped it.
            let Some(n) = r.get::<_, Option<i64>>(6)? else {
                continue;
            };
            f(&key, kind, u32::try_from(n).unwrap_or(u32::MAX));
        }
        Ok(())
    }
}
