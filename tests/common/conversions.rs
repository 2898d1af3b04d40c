//! Conversion rows for tests and benches, written with plain SQL into the
//! client store's `conversion_events` table (migration 9). The ingest's
//! own `Store::insert_conversions` can replace this after the merge.

use refboard::store::Store;

/// One conversion event to store.
#[derive(Debug, Clone)]
pub struct TestConversion {
    /// Unique event id.
    pub event_id: String,
    /// `messenger` or `instagram`.
    pub platform: &'static str,
    /// Page id (or Instagram account id).
    pub page_id: String,
    /// Keyed sender hash, as in the referral events.
    pub sender_hash: String,
    /// When, ms since the Unix epoch.
    pub ts_ms: i64,
    /// The goal; `None` for "conversation started".
    pub goal: Option<String>,
    /// Value × 1,000,000 and currency.
    pub value: Option<(i64, String)>,
}

/// Stores `rows` in one transaction, in order (row ids follow it).
pub fn insert_conversions(store: &Store, rows: &[TestConversion]) {
    let conn = store.connection();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    {
        let mut stmt = conn
            .prepare_cached(
                "INSERT INTO conversion_events (event_id, platform, page_id, sender_hash, ts_ms,
                    kind, goal, value_micros, currency, origin, received_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?5)",
            )
            .unwrap();
        for r in rows {
            stmt.execute(rusqlite::params![
                r.event_id,
                r.platform,
                r.page_id,
                r.sender_hash,
                r.ts_ms,
                if r.goal.is_some() {
                    "conversion"
                } else {
                    "conversation"
                },
                r.goal,
                r.value.as_ref().map(|v| v.0),
                r.value.as_ref().map(|v| v.1.as_str()),
            ])
            .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
}
