//! The relay's own SQLite file: referral events in commit order, and the
//! key that hashes senders.
//!
//! One writer connection behind a mutex assigns `seq` in commit order, so a
//! reader paging by `seq` never skips an event that commits late.

use crate::model::ReferralEvent;
use crate::store::{StoreError, migrate_with, open_connection, random_key};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE events (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id  TEXT NOT NULL UNIQUE,
        json      TEXT NOT NULL
    );
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
"#];

/// Opens (creating and migrating) the relay database.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = open_connection(path)?;
    migrate_with(&mut conn, path, MIGRATIONS)?;
    Ok(conn)
}

/// The key that hashes senders, made once per relay database.
pub fn hash_key(conn: &Connection) -> Result<Vec<u8>, StoreError> {
    let stored: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'hash_key'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(bytes) = stored.and_then(|k| hex::decode(k).ok()) {
        return Ok(bytes);
    }
    let key = random_key()?;
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('hash_key', ?1)",
        [hex::encode(&key)],
    )?;
    Ok(key)
}

/// Stores events in one transaction, ignoring known ids; returns how many were new.
pub fn insert(conn: &mut Connection, events: &[ReferralEvent]) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    let mut inserted = 0;
    {
        let mut stmt =
            tx.prepare_cached("INSERT OR IGNORE INTO events (event_id, json) VALUES (?1, ?2)")?;
        for e in events {
            let json = serde_json::to_string(e).map_err(|e| {
                crate::model::InternalError::new(format!("cannot serialise an event: {e}"))
            })?;
            inserted += stmt.execute(params![e.event_id, json])?;
        }
    }
    tx.commit()?;
    Ok(inserted)
}

/// Up to `limit` events after `after`, as (seq, JSON) pairs.
pub fn page(conn: &Connection, after: i64, limit: usize) -> Result<Vec<(i64, String)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, json FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt.query_map(params![after, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Number of stored events.
pub fn count(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)
}
