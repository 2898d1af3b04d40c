//! What attribution reads from the store: its settings (window and model,
//! in the settings table), the conversions of a range and the referrals
//! that may be credited with them. The crediting itself is in
//! `stats::conversions`; this file only reads rows, one at a time, so
//! memory follows what the caller keeps.

use super::{RowKey, Store, StoreError};
use crate::model::{Attribution, CreditModel, Kind, validate_window_days};
use rusqlite::params;

/// Settings key of the window in days.
const WINDOW_DAYS: &str = "attribution_window_days";
/// Settings key of the credit model.
const MODEL: &str = "attribution_model";

/// One stored conversion event, borrowed from the row being read.
#[derive(Debug, Clone, Copy)]
pub struct ConversionRow<'a> {
    /// Row id (the order conversions were stored in).
    pub id: i64,
    /// Page id (an Instagram account id for Instagram events).
    pub page_id: &'a str,
    /// Keyed hash of the person (as in `referral_events`).
    pub sender_hash: &'a str,
    /// When it happened, ms since the Unix epoch.
    pub ts_ms: i64,
    /// The goal for a conversion; `None` for "conversation started".
    pub goal: Option<&'a str>,
    /// Exact value × 1,000,000 and its ISO 4217 currency, when given.
    pub value: Option<(i64, &'a str)>,
}

/// One stored referral as attribution needs it.
#[derive(Debug, Clone, Copy)]
pub struct TouchRow<'a> {
    /// Row id: equal times are broken by it (stored first wins).
    pub id: i64,
    /// When it happened, ms since the Unix epoch.
    pub ts_ms: i64,
    /// Keyed hash of the person.
    pub sender_hash: &'a str,
    /// New or returning.
    pub kind: Kind,
    /// Page, ref, source, platform and ad, as the rollups key them.
    pub key: RowKey<'a>,
}

impl Store {
    /// The attribution settings; the defaults (7 days, last referral)
    /// until the admin sets them. A stored value that breaks the rules
    /// (edited by hand) is an error naming it, never silently replaced.
    pub fn attribution(&self) -> Result<Attribution, StoreError> {
        let mut out = Attribution::default();
        if let Some(days) = self.setting(WINDOW_DAYS)? {
            out.window_days = validate_window_days(&days)?;
        }
        if let Some(model) = self.setting(MODEL)? {
            out.model = model.parse::<CreditModel>()?;
        }
        Ok(out)
    }

    /// Saves the attribution settings, checked first; both or neither.
    pub fn set_attribution(&mut self, a: &Attribution) -> Result<(), StoreError> {
        validate_window_days(&a.window_days.to_string())?;
        let tx = self.conn.transaction()?;
        for (key, value) in [
            (WINDOW_DAYS, a.window_days.to_string()),
            (MODEL, a.model.as_str().to_string()),
        ] {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Goal names seen in stored conversions, sorted.
    pub fn conversion_goals(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT goal FROM conversion_events WHERE goal IS NOT NULL ORDER BY goal",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls `f` for each conversion event in `[from_ms, to_ms)`, in time order.
    pub fn for_each_conversion(
        &self,
        from_ms: i64,
        to_ms: i64,
        mut f: impl FnMut(&ConversionRow<'_>),
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, page_id, sender_hash, ts_ms, goal, value_micros, currency
             FROM conversion_events WHERE ts_ms >= ?1 AND ts_ms < ?2",
        )?;
        let mut rows = stmt.query(params![from_ms, to_ms])?;
        while let Some(r) = rows.next()? {
            let text = move |i: usize| r.get_ref(i)?.as_str().map_err(rusqlite::Error::from);
            let goal = match r.get_ref(4)? {
                rusqlite::types::ValueRef::Null => None,
                v => Some(v.as_str().map_err(rusqlite::Error::from)?),
            };
            let value = match (r.get::<_, Option<i64>>(5)?, r.get_ref(6)?) {
                (Some(micros), rusqlite::types::ValueRef::Text(c)) => {
                    Some((micros, std::str::from_utf8(c).unwrap_or("")))
                }
                _ => None,
            };
            f(&ConversionRow {
                id: r.get(0)?,
                page_id: text(1)?,
                sender_hash: text(2)?,
                ts_ms: r.get(3)?,
                goal,
                value,
            });
        }
        Ok(())
    }

    /// Calls `f` for each referral in `[from_ms, to_ms)` (the `ts_ms` index);
    /// `wanted` sees the page and sender first, so rows of people who never
    /// converted are skipped before their other columns are read.
    pub fn for_each_touch(
        &self,
        from_ms: i64,
        to_ms: i64,
        mut wanted: impl FnMut(&str, &str) -> bool,
        mut f: impl FnMut(&TouchRow<'_>),
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT page_id, sender_hash, id, ts_ms, kind, ref, coalesce(source, ''), platform,
                    coalesce(nullif(ad_title, ''), nullif(ad_id, ''), '')
             FROM referral_events WHERE ts_ms >= ?1 AND ts_ms < ?2",
        )?;
        let mut rows = stmt.query(params![from_ms, to_ms])?;
        while let Some(r) = rows.next()? {
            let text = move |i: usize| r.get_ref(i)?.as_str().map_err(rusqlite::Error::from);
            let (page_id, sender_hash) = (text(0)?, text(1)?);
            if !wanted(page_id, sender_hash) {
                continue;
            }
            let ref_code = match r.get_ref(5)? {
                rusqlite::types::ValueRef::Null => None,
                v => Some(v.as_str().map_err(rusqlite::Error::from)?),
            };
            f(&TouchRow {
                id: r.get(2)?,
                ts_ms: r.get(3)?,
                sender_hash,
                kind: Kind::parse(text(4)?).unwrap_or(Kind::New),
                key: RowKey {
                    page_id,
                    ref_code,
                    source: text(6)?,
                    platform: text(7)?,
                    ad: text(8)?,
                },
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_then_round_trip_and_refuse_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(store.attribution().unwrap(), Attribution::default());
        let a = Attribution::new(30, CreditModel::First).unwrap();
        store.set_attribution(&a).unwrap();
        assert_eq!(store.attribution().unwrap(), a);
        let bad = Attribution {
            window_days: 91,
            model: CreditModel::Last,
        };
        let e = store.set_attribution(&bad).unwrap_err();
        assert!(e.to_string().contains("91"), "{e}");
        assert_eq!(store.attribution().unwrap(), a, "nothing half-written");
        store.set_setting(WINDOW_DAYS, "0").unwrap();
        assert!(matches!(store.attribution(), Err(StoreError::Invalid(_))));
    }
}
