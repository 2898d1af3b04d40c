//! The relay's own SQLite file: referral events in commit order, and the
//! key that hashes senders.
//!
//! Durability: the file runs with `synchronous=FULL`, so a `200` means the
//! events are on disk, through a power cut or a kernel crash too. To keep
//! that cheap, one writer thread does *group commit*: it takes every insert
//! waiting at that moment, writes them in one `BEGIN IMMEDIATE` transaction
//! with one fsync, and only then answers each request.
//!
//! The single writer also assigns `seq` in commit order, so a reader paging by
//! `seq` never skips an event that commits late.

use crate::db::Migration;
use crate::model::{ConversionEvent, ReferralEvent, ValidationError};
use crate::store::{DatabaseKind, StoreError, open_connection, random_key, refuse_other_kind};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

const MIGRATIONS: &[Migration<StoreError>] = &[
    Migration::Sql(
        r#"
    CREATE TABLE events (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id  TEXT NOT NULL UNIQUE,
        json      TEXT NOT NULL
    );
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
"#,
    ),
    // 2 (issue 21): the pages the relay serves, as its signed referrals show
    // them (a bot's conversions must name one of them, or a `--page`), and
    // each person's latest referral per page (their first message after it
    // is the step "conversation started").
    Migration::Sql(
        r#"
    CREATE TABLE pages (page_id TEXT PRIMARY KEY) WITHOUT ROWID;
    INSERT OR IGNORE INTO pages (page_id)
        SELECT DISTINCT json_extract(json, '$.page_id') FROM events
        WHERE json_extract(json, '$.page_id') IS NOT NULL;
    CREATE TABLE last_referrals (
        page_id     TEXT NOT NULL,
        sender_hash TEXT NOT NULL,
        event_id    TEXT NOT NULL,
        ts_ms       INTEGER NOT NULL,
        PRIMARY KEY (page_id, sender_hash)
    ) WITHOUT ROWID;
    -- A bare column beside max() comes from the row holding the max.
    INSERT INTO last_referrals (page_id, sender_hash, event_id, ts_ms)
        SELECT json_extract(json, '$.page_id'), json_extract(json, '$.sender'),
               event_id, max(json_extract(json, '$.timestamp_ms'))
        FROM events
        WHERE json_extract(json, '$.kind') IN ('new', 'returning')
          AND json_extract(json, '$.sender') IS NOT NULL
        GROUP BY 1, 2;
"#,
    ),
];

/// One event as stored: its id, its JSON, and for a referral who and where
/// (a conversion proves no page and starts no conversation).
#[derive(Debug, Clone)]
pub struct Row {
    /// Unique id; a known one is skipped.
    pub event_id: String,
    /// When it was received, ms since the epoch.
    pub received_at_ms: i64,
    /// The event as the pull API serves it.
    pub json: String,
    /// For a signed referral: its page, person and time.
    pub referral: Option<ReferralKey>,
}

/// Where, who and when of a referral.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReferralKey {
    /// The page it came for.
    pub page_id: String,
    /// The person's keyed hash.
    pub sender: String,
    /// Its time, ms since the epoch.
    pub ts_ms: i64,
}

/// The stored rows of referrals.
pub fn referral_rows(events: &[ReferralEvent]) -> Result<Vec<Row>, StoreError> {
    events
        .iter()
        .map(|e| {
            Ok(Row {
                event_id: e.event_id.clone(),
                received_at_ms: e.received_at_ms,
                json: serde_json::to_string(e)
                    .map_err(|e| StoreError::internal(format!("cannot serialise an event: {e}")))?,
                referral: Some(ReferralKey {
                    page_id: e.page_id.clone(),
                    sender: e.sender.clone(),
                    ts_ms: e.timestamp_ms,
                }),
            })
        })
        .collect()
}

/// The stored rows of conversions.
pub fn conversion_rows(events: &[ConversionEvent]) -> Result<Vec<Row>, StoreError> {
    events
        .iter()
        .map(|e| {
            Ok(Row {
                event_id: e.event_id.clone(),
                received_at_ms: e.received_at_ms,
                json: serde_json::to_string(e)
                    .map_err(|e| StoreError::internal(format!("cannot serialise an event: {e}")))?,
                referral: None,
            })
        })
        .collect()
}

/// The id and time of the latest referral of `sender` on `page_id`.
pub fn last_referral(
    conn: &Connection,
    page_id: &str,
    sender: &str,
) -> Result<Option<(String, i64)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT event_id, ts_ms FROM last_referrals WHERE page_id = ?1 AND sender_hash = ?2",
            [page_id, sender],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Whether a signed referral has come for `page_id`.
pub fn knows_page(conn: &Connection, page_id: &str) -> Result<bool, StoreError> {
    Ok(conn
        .query_row("SELECT 1 FROM pages WHERE page_id = ?1", [page_id], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

/// Most requests folded into one group commit, so one commit stays short.
const MAX_GROUP: usize = 256;

/// Opens (creating and migrating) the relay database, durable on every commit.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = open_connection(path)?;
    // NORMAL survives a killed process but not a power cut: an acknowledged
    // webhook is never redelivered by Meta, so it must be on disk.
    conn.pragma_update(None, "synchronous", "FULL")?;
    // A dashboard database would otherwise read as "schema version 7,
    // newer than 1": say what it is instead, before writing anything.
    refuse_other_kind(&conn, path, DatabaseKind::Relay)?;
    // `open_connection` made the file 0600, or tightened it without ever
    // adding a bit, so no chmod here.
    crate::db::migrate(&mut conn, path, MIGRATIONS)?;
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
    // INSERT OR IGNORE then read back: two processes starting at once agree.
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('hash_key', ?1)",
        [hex::encode(&key)],
    )?;
    let value: String =
        conn.query_row("SELECT value FROM meta WHERE key = 'hash_key'", [], |r| {
            r.get(0)
        })?;
    hex::decode(value)
        .map_err(|e| StoreError::Failed(format!("the stored hash key is damaged: {e}")))
}

/// Inserts rows inside an open transaction, ignoring known ids, and notes
/// their pages; returns how many were new.
fn insert_in(tx: &rusqlite::Transaction<'_>, rows: &[Row]) -> Result<usize, StoreError> {
    let mut stmt =
        tx.prepare_cached("INSERT OR IGNORE INTO events (event_id, json) VALUES (?1, ?2)")?;
    let mut page = tx.prepare_cached("INSERT OR IGNORE INTO pages (page_id) VALUES (?1)")?;
    let mut latest = tx.prepare_cached(
        "INSERT INTO last_referrals (page_id, sender_hash, event_id, ts_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (page_id, sender_hash) DO UPDATE
         SET event_id = excluded.event_id, ts_ms = excluded.ts_ms
         WHERE excluded.ts_ms > last_referrals.ts_ms",
    )?;
    let mut inserted = 0;
    let mut last_page: Option<&str> = None;
    for r in rows {
        inserted += stmt.execute(params![r.event_id, r.json])?;
        let Some(k) = &r.referral else { continue };
        latest.execute(params![k.page_id, k.sender, r.event_id, k.ts_ms])?;
        // Runs of one page are the rule: note each run once.
        if last_page != Some(k.page_id.as_str()) {
            page.execute([&k.page_id])?;
            last_page = Some(k.page_id.as_str());
        }
    }
    Ok(inserted)
}

/// Stores events in one transaction, ignoring known ids; returns how many were new.
pub fn insert(conn: &mut Connection, events: &[ReferralEvent]) -> Result<usize, StoreError> {
    let rows = referral_rows(events)?;
    insert_rows(conn, &rows)
}

/// Stores conversion events in one transaction, ignoring known ids;
/// returns how many were new.
pub fn insert_conversions(
    conn: &mut Connection,
    events: &[ConversionEvent],
) -> Result<usize, StoreError> {
    let rows = conversion_rows(events)?;
    insert_rows(conn, &rows)
}

/// Stores rows in one `BEGIN IMMEDIATE` transaction.
fn insert_rows(conn: &mut Connection, rows: &[Row]) -> Result<usize, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let inserted = insert_in(&tx, rows)?;
    tx.commit()?;
    Ok(inserted)
}

/// Up to `limit` events after `after`, as (seq, JSON) pairs.
pub fn page(conn: &Connection, after: i64, limit: usize) -> Result<Vec<(i64, String)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, json FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Number of stored events.
pub fn count(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)
}

/// The newest sequence number handed out (0 when empty).
fn newest_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?)
}

/// `received_at_ms` of the newest event.
fn last_received_ms(conn: &Connection) -> Result<Option<i64>, StoreError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT json FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(json
        .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
        .and_then(|v| v.get("received_at_ms").and_then(serde_json::Value::as_i64)))
}

/// Parses and range-checks a pull cursor: empty is the beginning, else `s`
/// and a sequence number this relay has handed out.
pub fn parse_cursor(
    conn: &Connection,
    raw: &str,
) -> Result<Result<i64, ValidationError>, StoreError> {
    if raw.is_empty() {
        return Ok(Ok(0));
    }
    let rule = "a next_cursor from this relay: \"s\" and a whole number from 0 to the newest";
    let Some(n) = raw.strip_prefix('s').and_then(|n| n.parse::<i64>().ok()) else {
        return Ok(Err(ValidationError::new("after", raw, rule)));
    };
    let newest = newest_seq(conn)?;
    if n < 0 || n > newest {
        return Ok(Err(ValidationError::new(
            "after",
            raw,
            format!("{rule} (s{newest}); a cursor from another backend or an altered one"),
        )));
    }
    Ok(Ok(n))
}

/// One insert waiting for the group commit.
struct Job {
    rows: Vec<Row>,
    reply: tokio::sync::oneshot::Sender<Result<usize, String>>,
}

/// The relay's SQLite storage: a group-commit writer thread and a reader.
pub struct Sqlite {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    reader: Arc<Mutex<Connection>>,
    hash_key: Vec<u8>,
}

impl Sqlite {
    /// Opens the file, makes the hash key and starts the writer thread.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let writer_conn = open(path)?;
        let hash_key = hash_key(&writer_conn)?;
        let reader = open(path)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let path: PathBuf = path.to_path_buf();
        let writer = std::thread::Builder::new()
            .name("relay-sqlite-writer".into())
            .spawn(move || group_commit_loop(writer_conn, rx, &path))
            .map_err(|e| StoreError::Failed(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            jobs: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            reader: Arc::new(Mutex::new(reader)),
            hash_key,
        })
    }

    /// The key that hashes senders.
    pub fn hash_key(&self) -> &[u8] {
        &self.hash_key
    }

    /// Queues rows for the next group commit and waits until they are on disk.
    pub async fn insert(&self, rows: Vec<Row>) -> Result<usize, StoreError> {
        let (reply, wait) = tokio::sync::oneshot::channel();
        let sent = self
            .jobs
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|tx| tx.send(Job { rows, reply }).is_ok()));
        if sent != Some(true) {
            return Err(StoreError::Failed("the writer thread has stopped".into()));
        }
        match wait.await {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(e)) => Err(StoreError::Failed(e)),
            Err(_) => Err(StoreError::Failed("the writer thread has stopped".into())),
        }
    }

    /// Runs `f` on the reader connection off the async threads.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let conn = reader
                .lock()
                .map_err(|_| StoreError::internal("the reader lock is poisoned"))?;
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::internal(format!("the read task failed: {e}")))?
    }

    /// The newest event's receive time.
    pub async fn last_received_ms(&self) -> Result<Option<i64>, StoreError> {
        self.read(last_received_ms).await
    }

    /// The value kept under `key` in the `meta` table.
    pub async fn get_meta(&self, key: &'static str) -> Result<Option<String>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    /// Keeps the time `ms` under `key` unless a later one is there. Written on
    /// the reader's connection: it is a rare, one-row write that must not
    /// queue behind webhook group commits, and SQLite serialises writers.
    pub async fn set_meta_time(&self, key: &'static str, ms: i64) -> Result<(), StoreError> {
        self.read(move |conn| {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE \
                 SET value = excluded.value WHERE CAST(meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
                params![key, ms.to_string()],
            )?;
            Ok(())
        })
        .await
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        // Closing the queue ends the writer after the jobs already queued.
        if let Ok(mut g) = self.jobs.lock() {
            g.take();
        }
        if let Some(t) = self.writer.lock().ok().and_then(|mut g| g.take()) {
            let _ = t.join();
        }
    }
}

/// Takes every job waiting at this moment, commits them together, answers each.
fn group_commit_loop(mut conn: Connection, rx: mpsc::Receiver<Job>, path: &Path) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        match commit_group(&mut conn, &group) {
            Ok(counts) => {
                for (job, n) in group.into_iter().zip(counts) {
                    let _ = job.reply.send(Ok(n));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, file = %path.display(), "group commit failed");
                for job in group {
                    let _ = job.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// One transaction (one fsync) for a group; returns the new count per job.
fn commit_group(conn: &mut Connection, group: &[Job]) -> Result<Vec<usize>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut counts = Vec::with_capacity(group.len());
    for job in group {
        counts.push(insert_in(&tx, &job.rows)?);
    }
    tx.commit()?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_relay_database_learns_its_pages_from_its_stored_referrals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.db");
        {
            let mut conn = open_connection(&path).unwrap();
            crate::db::migrate(&mut conn, &path, &MIGRATIONS[..1]).unwrap();
            for (id, ts) in [("e1", 1000), ("e2", 2000), ("e0", 500)] {
                let json =
                    format!(r#"{{"page_id":"77","sender":"h","kind":"new","timestamp_ms":{ts}}}"#);
                conn.execute(
                    "INSERT INTO events (event_id, json) VALUES (?1, ?2)",
                    [id, json.as_str()],
                )
                .unwrap();
            }
        }
        let conn = open(&path).unwrap();
        assert!(knows_page(&conn, "77").unwrap());
        assert_eq!(
            last_referral(&conn, "77", "h").unwrap(),
            Some(("e2".into(), 2000))
        );
        assert!(!knows_page(&conn, "78").unwrap());
    }

    #[test]
    fn the_relay_database_is_durable_on_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("relay.db")).unwrap();
        let level: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(level, 2, "synchronous=FULL");
    }

    #[test]
    fn a_failed_read_task_is_the_relay_s_failure_not_the_user_s() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Sqlite::open(&dir.path().join("relay.db")).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let failed = runtime
            .block_on(
                sqlite.read(|_| -> Result<(), StoreError> { panic!("a read task that fails") }),
            )
            .unwrap_err();
        // exit 1 (the relay's failure), never 2 (the user's input).
        assert!(!failed.is_user_error(), "{failed:?}");
    }
}
