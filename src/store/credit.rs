//! The kept credit of conversions (migration 10): reading and writing its
//! day blobs and dictionaries, and finding what changed since it was last
//! refreshed. What the records mean and when they are rebuilt is decided in
//! `stats::conversions::cache`; this file only moves rows.

use super::{Store, StoreError};
use rusqlite::{OptionalExtension, params};

/// Settings key of the stamp: the settings and the last event ids the
/// kept credit was computed from.
const STAMP: &str = "credit_stamp";

/// The credited referral's key, as kept in `credit_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditKey {
    /// Page id.
    pub page_id: String,
    /// The ref; `None` when the referral had none.
    pub ref_code: Option<String>,
    /// Source ("" when none).
    pub source: String,
    /// `messenger` or `instagram`.
    pub platform: String,
    /// Ad title, else id; "" for none.
    pub ad: String,
    /// `new` or `returning`.
    pub kind: String,
}

impl Store {
    /// The highest row ids of referrals and conversions (0 for none): new
    /// rows always get higher ids, and neither table loses rows.
    pub fn event_id_marks(&self) -> Result<(i64, i64), StoreError> {
        let max = |table: &str| -> Result<i64, StoreError> {
            Ok(self.conn.query_row(
                &format!("SELECT coalesce(max(id), 0) FROM {table}"),
                [],
                |r| r.get(0),
            )?)
        };
        Ok((max("referral_events")?, max("conversion_events")?))
    }

    /// The stamp of the kept credit, if any.
    pub fn credit_stamp(&self) -> Result<Option<String>, StoreError> {
        self.setting(STAMP)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: all of it or nothing.
    pub fn in_immediate<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(v) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                // The transaction's error is the one to report.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Saves the stamp (inside [`Store::in_immediate`]).
    pub fn set_credit_stamp(&self, stamp: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![STAMP, stamp],
        )?;
        Ok(())
    }

    /// Forgets every kept credit (the dictionaries stay: their numbers are stable).
    pub fn clear_credit(&self) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM credit_days", [])?;
        Ok(())
    }

    /// Times of the conversions stored after row `after_id`.
    pub fn conversion_times_after(&self, after_id: i64) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT ts_ms FROM conversion_events WHERE id > ?1")?;
        let rows = stmt.query_map([after_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Times of the conversions that a referral stored after row
    /// `after_id` may now be credited with: same page and person, within
    /// `window_ms` after it (the `conversion_events_person` index).
    pub fn conversion_times_near_referrals_after(
        &self,
        after_id: i64,
        window_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT c.ts_ms FROM referral_events r
             JOIN conversion_events c ON c.page_id = r.page_id AND c.sender_hash = r.sender_hash
                  AND c.ts_ms >= r.ts_ms AND c.ts_ms <= r.ts_ms + ?2
             WHERE r.id > ?1",
        )?;
        let rows = stmt.query_map(params![after_id, window_ms], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The number of a person (page and sender), given on first sight.
    pub fn credit_person(&self, page_id: &str, sender_hash: &str) -> Result<u32, StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO credit_people (page_id, sender_hash) VALUES (?1, ?2)",
            )?
            .execute([page_id, sender_hash])?;
        let n: i64 = self
            .conn
            .prepare_cached("SELECT n FROM credit_people WHERE page_id = ?1 AND sender_hash = ?2")?
            .query_row([page_id, sender_hash], |r| r.get(0))?;
        number(n)
    }

    /// The number of a goal, currency or page name, given on first sight.
    pub fn credit_name(&self, name: &str) -> Result<u32, StoreError> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO credit_names (name) VALUES (?1)")?
            .execute([name])?;
        let n: i64 = self
            .conn
            .prepare_cached("SELECT n FROM credit_names WHERE name = ?1")?
            .query_row([name], |r| r.get(0))?;
        number(n)
    }

    /// Every kept name by number (goals, currencies and pages: few).
    pub fn credit_names(&self) -> Result<Vec<(u32, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT n, name FROM credit_names")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|r| {
            let (n, name) = r?;
            Ok((number(n)?, name))
        })
        .collect()
    }

    /// The number of a credited referral's key, given on first sight.
    pub fn credit_key(&self, k: &CreditKey) -> Result<u32, StoreError> {
        let has_ref = i64::from(k.ref_code.is_some());
        let r = k.ref_code.as_deref().unwrap_or("");
        let p = params![k.page_id, has_ref, r, k.source, k.platform, k.ad, k.kind];
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO credit_keys (page_id, has_ref, ref, source, platform, ad, kind)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(p)?;
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT n FROM credit_keys WHERE page_id = ?1 AND has_ref = ?2 AND ref = ?3
                 AND source = ?4 AND platform = ?5 AND ad = ?6 AND kind = ?7",
            )?
            .query_row(p, |r| r.get(0))?;
        number(n)
    }

    /// The key of number `n`, if kept.
    pub fn credit_key_of(&self, n: u32) -> Result<Option<CreditKey>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT page_id, has_ref, ref, source, platform, ad, kind FROM credit_keys WHERE n = ?1",
            )?
            .query_row([n], |r| {
                Ok(CreditKey {
                    page_id: r.get(0)?,
                    ref_code: r.get::<_, bool>(1)?.then(|| r.get(2)).transpose()?,
                    source: r.get(3)?,
                    platform: r.get(4)?,
                    ad: r.get(5)?,
                    kind: r.get(6)?,
                })
            })
            .optional()?)
    }

    /// Replaces one UTC day's records (an empty blob removes the day).
    pub fn write_credit_day(&self, day: i64, records: &[u8]) -> Result<(), StoreError> {
        if records.is_empty() {
            self.conn
                .prepare_cached("DELETE FROM credit_days WHERE day = ?1")?
                .execute([day])?;
        } else {
            self.conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO credit_days (day, records) VALUES (?1, ?2)",
                )?
                .execute(params![day, records])?;
        }
        Ok(())
    }

    /// Calls `f` with each kept day from `first` to `last` (UTC day numbers).
    pub fn for_each_credit_day(
        &self,
        first: i64,
        last: i64,
        mut f: impl FnMut(i64, &[u8]),
    ) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT day, records FROM credit_days WHERE day >= ?1 AND day <= ?2")?;
        let mut rows = stmt.query([first, last])?;
        while let Some(r) = rows.next()? {
            f(
                r.get(0)?,
                r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?,
            );
        }
        Ok(())
    }
}

/// A dictionary number as `u32` (they count from 1 and stay far below).
fn number(n: i64) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::internal("a credit dictionary passed 2^32 entries"))
}
