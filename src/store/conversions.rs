//! Conversion events in the dashboard's store (issue 21): what referred
//! people did next, in `conversion_events` (schema migration 9), joined to
//! their referrals by page and keyed sender hash.
//!
//! Sync and import store them with the referrals of the same page, in the
//! same transaction as the sync cursor ([`Store::ingest_all`]), so an
//! interrupted sync never keeps one without the other. Every event is
//! checked by [`ConversionEvent::check`] first and the whole batch is
//! refused if one breaks a rule: nothing half-written. Values are stored as
//! exact millionths (`value_micros`), never as floats.

use super::{Store, StoreError};
use crate::model::ConversionEvent;
use rusqlite::{Transaction, params};

/// Inserts conversions inside `tx`, skipping known ids; returns how many
/// were new. Refuses the whole batch (before writing) if one is invalid.
pub(super) fn insert_conversions(
    tx: &Transaction<'_>,
    events: &[ConversionEvent],
    origin: Option<i64>,
) -> Result<usize, StoreError> {
    let micros = events
        .iter()
        .map(ConversionEvent::check)
        .collect::<Result<Vec<_>, _>>()?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO conversion_events (event_id, platform, page_id, sender_hash, ts_ms,
            kind, goal, value_micros, currency, origin, received_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut inserted = 0;
    for (e, value_micros) in events.iter().zip(micros) {
        inserted += insert.execute(params![
            e.event_id,
            e.platform.as_str(),
            e.page_id,
            e.sender,
            e.timestamp_ms,
            e.kind.as_str(),
            e.goal,
            value_micros,
            e.currency,
            origin,
            e.received_at_ms,
        ])?;
    }
    Ok(inserted)
}

impl Store {
    /// Stores conversions (imported, or from a test) in one transaction,
    /// all or none; known ids are skipped. Returns how many were new.
    pub fn insert_conversions(
        &mut self,
        events: &[ConversionEvent],
        origin: Option<i64>,
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = insert_conversions(&tx, events, origin)?;
        tx.commit()?;
        Ok(n)
    }

    /// Number of stored conversion events (both kinds).
    pub fn conversion_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM conversion_events", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConversionKind, Platform};

    fn conversion(id: &str, value: Option<(&str, &str)>) -> ConversionEvent {
        ConversionEvent {
            event_id: id.into(),
            platform: Platform::Messenger,
            page_id: "77".into(),
            sender: "abc".into(),
            timestamp_ms: 1_764_219_590_000,
            kind: ConversionKind::Conversion,
            goal: Some("order".into()),
            value: value.map(|v| v.0.into()),
            currency: value.map(|v| v.1.into()),
            received_at_ms: 1_764_219_590_001,
        }
    }

    #[test]
    fn values_are_stored_as_exact_micros_and_redeliveries_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let batch = [
            conversion("a", Some(("19.99", "USD"))),
            conversion("b", None),
            conversion("a", Some(("19.99", "USD"))),
        ];
        assert_eq!(store.insert_conversions(&batch, None).unwrap(), 2);
        assert_eq!(store.insert_conversions(&batch, None).unwrap(), 0);
        let (micros, currency): (i64, String) = store
            .connection()
            .query_row(
                "SELECT value_micros, currency FROM conversion_events WHERE event_id = 'a'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((micros, currency.as_str()), (19_990_000, "USD"));
    }

    #[test]
    fn one_bad_event_refuses_the_whole_batch() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let batch = [
            conversion("ok", Some(("1", "EUR"))),
            conversion("bad", Some(("1", "ZZZ"))),
        ];
        let e = store.insert_conversions(&batch, None).unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid(ref v) if v.field == "currency"),
            "{e}"
        );
        assert_eq!(store.conversion_count().unwrap(), 0);
    }
}
