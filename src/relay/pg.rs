//! The relay's PostgreSQL storage, shared by any number of relay processes.
//!
//! Cursor design (see `docs/sync-protocol.md`, "Cursors with several
//! writers"): every row records the id of the transaction that wrote it
//! (`xid8`, default `pg_current_xact_id()`), and a page only returns rows
//! whose transaction id is below `pg_snapshot_xmin(pg_current_snapshot())`.
//! Every transaction below that horizon has ended, so no row can ever appear
//! behind a cursor already handed out; rows are ordered by `(xid, seq)`.
//! A sequence alone is not enough: values are taken at insert time but
//! commit in any order, so `seq > cursor` skips late commits.
//!
//! Order by the `xid8` column itself, never by a name an output column
//! shadows: PostgreSQL resolves a bare `ORDER BY xid` to an output column
//! `xid::text` first, and text order puts id 1000 before 999, so a cursor
//! jumped past every shorter id (issue #17). Every statement qualifies its
//! columns and gives computed outputs names of their own; `tests/relay_pg.rs`
//! EXPLAINs each one in [`QUERIES`] and checks the sort key. Cursors of that
//! era (`x<xid>.<seq>`, format 1) are answered from the beginning with
//! `"reset": true`; this relay's own are format 2, [`CURSOR_PREFIX`].
//!
//! Event ids are unique (`ON CONFLICT DO NOTHING`), so a redelivery reaching
//! another relay is stored once. The sender-hash key is inserted with
//! `ON CONFLICT DO NOTHING` and read back, so relays starting together agree.
//! Migrations run under a transaction-scoped advisory lock.

use super::db::Row;
use crate::model::ValidationError;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::time::Duration;

/// Versioned migrations; `refboard_schema.version` counts how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE refboard_events (
        seq            bigint GENERATED ALWAYS AS IDENTITY,
        xid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
        event_id       text NOT NULL UNIQUE,
        received_at_ms bigint NOT NULL,
        json           text NOT NULL,
        PRIMARY KEY (xid, seq)
    );
    CREATE TABLE refboard_meta (
        key   text PRIMARY KEY,
        value text NOT NULL
    );
"#,
    // 2 (issue 21): the pages signed referrals came for; a bot's
    // conversions must name one (or a `--page`). Conversions themselves are
    // rows of refboard_events like referrals, under the same cursor rules.
    r#"
    CREATE TABLE refboard_pages (page_id text PRIMARY KEY);
    INSERT INTO refboard_pages (page_id)
        SELECT DISTINCT (refboard_events.json::jsonb)->>'page_id' FROM refboard_events
        WHERE (refboard_events.json::jsonb)->>'page_id' IS NOT NULL
    ON CONFLICT DO NOTHING;
    CREATE TABLE refboard_last_referrals (
        page_id     text NOT NULL,
        sender_hash text NOT NULL,
        event_id    text NOT NULL,
        ts_ms       bigint NOT NULL,
        PRIMARY KEY (page_id, sender_hash)
    );
    INSERT INTO refboard_last_referrals (page_id, sender_hash, event_id, ts_ms)
        SELECT DISTINCT ON (1, 2) j->>'page_id', j->>'sender', e.event_id, (j->>'timestamp_ms')::bigint
        FROM refboard_events AS e, LATERAL (SELECT e.json::jsonb AS j) AS parsed
        WHERE j->>'kind' IN ('new', 'returning') AND j->>'sender' IS NOT NULL
        ORDER BY 1, 2, 4 DESC;
"#,
];

/// The schema version this binary writes.
pub const PG_SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Cursors of format 2 start with this: `v2.x<xid>.<seq>`. Format 1
/// (`x<xid>.<seq>`) came from relays that sorted pages by the id as text.
pub const CURSOR_PREFIX: &str = "v2.x";

/// A page: rows after the cursor from finished transactions, by `xid8`.
const PAGE_SQL: &str = "SELECT refboard_events.xid::text AS xid_text, refboard_events.seq,
        refboard_events.json
    FROM refboard_events
    WHERE (refboard_events.xid, refboard_events.seq) > ($1::text::xid8, $2::int8)
      AND refboard_events.xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY refboard_events.xid, refboard_events.seq
    LIMIT $3";
/// The newest row's receive time.
const LAST_RECEIVED_SQL: &str = "SELECT refboard_events.received_at_ms FROM refboard_events
    ORDER BY refboard_events.xid DESC, refboard_events.seq DESC LIMIT 1";
/// Rows stored.
const COUNT_SQL: &str = "SELECT count(*) AS events FROM refboard_events";
/// Whether a cursor's transaction id has started yet.
const CURSOR_CHECK_SQL: &str =
    "SELECT $1::text::xid8 < pg_snapshot_xmax(pg_current_snapshot()) AS started";
/// A batch of events; a known id is skipped. The pages of its referrals
/// are noted in the same statement (one transaction).
const INSERT_SQL: &str = "WITH noted AS (
        INSERT INTO refboard_pages (page_id)
        SELECT DISTINCT page_ids.page_id FROM unnest($4::text[]) AS page_ids(page_id)
        ON CONFLICT (page_id) DO NOTHING
    ), latest AS (
        INSERT INTO refboard_last_referrals (page_id, sender_hash, event_id, ts_ms)
        SELECT * FROM unnest($5::text[], $6::text[], $7::text[], $8::int8[])
        ON CONFLICT (page_id, sender_hash) DO UPDATE
        SET event_id = excluded.event_id, ts_ms = excluded.ts_ms
        WHERE excluded.ts_ms > refboard_last_referrals.ts_ms
    ), inserted AS (
        INSERT INTO refboard_events (event_id, received_at_ms, json)
        SELECT * FROM unnest($1::text[], $2::int8[], $3::text[])
        ON CONFLICT (event_id) DO NOTHING
        RETURNING 1 AS one
    )
    SELECT count(*) AS new_events FROM inserted";
/// The latest referral of a person on a page.
const LAST_REFERRAL_SQL: &str = "SELECT refboard_last_referrals.event_id,
        refboard_last_referrals.ts_ms
    FROM refboard_last_referrals
    WHERE refboard_last_referrals.page_id = $1 AND refboard_last_referrals.sender_hash = $2";
/// Whether a signed referral came for a page.
const KNOWS_PAGE_SQL: &str = "SELECT count(*) AS known FROM refboard_pages
    WHERE refboard_pages.page_id = $1";
/// The first relay's hash key wins.
const HASH_KEY_INSERT_SQL: &str = "INSERT INTO refboard_meta (key, value) VALUES ('hash_key', $1)
    ON CONFLICT (key) DO NOTHING";
/// The hash key every relay uses.
const HASH_KEY_SQL: &str = "SELECT refboard_meta.value FROM refboard_meta
    WHERE refboard_meta.key = 'hash_key'";
/// A value of the relay's own (e.g. when Meta last verified the callback).
const META_GET_SQL: &str = "SELECT refboard_meta.value FROM refboard_meta
    WHERE refboard_meta.key = $1";
/// A time (ms) kept unless a later one is there: relays sharing the
/// database keep the newest.
const META_SET_TIME_SQL: &str = "INSERT INTO refboard_meta (key, value) VALUES ($1, $2)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value
    WHERE refboard_meta.value::bigint < excluded.value::bigint";
/// Migrations wait for each other.
const MIGRATION_LOCK_SQL: &str = "SELECT pg_advisory_xact_lock($1)";
/// The schema version found.
const SCHEMA_VERSION_SQL: &str =
    "SELECT refboard_schema.version FROM refboard_schema WHERE refboard_schema.id = 1";
/// The schema version written.
const SCHEMA_VERSION_SET_SQL: &str = "INSERT INTO refboard_schema (id, version) VALUES (1, $1)
    ON CONFLICT (id) DO UPDATE SET version = excluded.version";

/// Every statement the relay runs on PostgreSQL except DDL, by name, so a
/// test can EXPLAIN each one (see the module header). Not a stable API.
#[doc(hidden)]
pub const QUERIES: &[(&str, &str)] = &[
    ("page", PAGE_SQL),
    ("last_received_ms", LAST_RECEIVED_SQL),
    ("count", COUNT_SQL),
    ("cursor_check", CURSOR_CHECK_SQL),
    ("insert", INSERT_SQL),
    ("knows_page", KNOWS_PAGE_SQL),
    ("last_referral", LAST_REFERRAL_SQL),
    ("hash_key_insert", HASH_KEY_INSERT_SQL),
    ("hash_key", HASH_KEY_SQL),
    ("meta_get", META_GET_SQL),
    ("meta_set_time", META_SET_TIME_SQL),
    ("migration_lock", MIGRATION_LOCK_SQL),
    ("schema_version", SCHEMA_VERSION_SQL),
    ("schema_version_set", SCHEMA_VERSION_SET_SQL),
];

/// Where a pull starts, as the `after` parameter says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// After this transaction id and sequence number; `(0, 0)` is the start.
    After(u64, i64),
    /// A format-1 cursor: its client may have missed rows, so it pulls again
    /// from the beginning and the page says `"reset": true`.
    Reset,
}

/// Arbitrary constant naming refboard's migration advisory lock.
const MIGRATION_LOCK: i64 = 0x7265_6662_6f61_7264; // "refboard"
/// Connections per relay process.
const POOL_SIZE: usize = 16;
/// How long a request waits to connect or for a free connection.
const POOL_WAIT_SECS: u64 = 10;

/// A PostgreSQL failure, already free of the password.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// Connecting or a query failed.
    #[error("PostgreSQL at {target}: {message}")]
    Db {
        /// `user@host:port/db`, never the password.
        target: String,
        /// What failed.
        message: String,
    },
    /// The database was migrated by a newer refboard.
    #[error(
        "the PostgreSQL database {target} has refboard schema version {found}, newer than the {supported} this refboard understands; upgrade refboard"
    )]
    TooNew {
        /// Where.
        target: String,
        /// Version found.
        found: i32,
        /// Newest known.
        supported: i32,
    },
}

/// Removes the password from a `postgres://` URL, for messages (the one
/// redaction every URL in a message goes through, [`crate::model::redact_url`]).
pub fn redact_url(url: &str) -> String {
    crate::model::redact_url(url)
}

/// The field a bad database URL is reported under (the CLI shows its flag).
pub const DATABASE_FIELD: &str = "database";

/// Checks a database URL: a `postgres://` or `postgresql://` URL.
pub fn parse_url(url: &str) -> Result<tokio_postgres::Config, ValidationError> {
    let rule = "a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL";
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ValidationError::new(DATABASE_FIELD, &redact_url(url), rule));
    }
    url.parse::<tokio_postgres::Config>()
        .map_err(|_| ValidationError::new(DATABASE_FIELD, &redact_url(url), rule))
}

fn describe(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(s) => s.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{}:{}/{}",
        config.get_user().unwrap_or(""),
        host,
        port,
        config.get_dbname().unwrap_or("")
    )
}

/// The PostgreSQL storage of one relay process: a connection pool.
pub struct Postgres {
    pool: Pool,
    target: String,
    hash_key: Vec<u8>,
}

impl Postgres {
    /// Connects, migrates and reads (or creates) the shared hash key.
    pub async fn open(url: &str) -> Result<Self, crate::relay::RelayError> {
        let config = parse_url(url)?;
        let target = describe(&config);
        let password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let wait = Some(Duration::from_secs(POOL_WAIT_SECS));
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .wait_timeout(wait)
            .create_timeout(wait)
            .recycle_timeout(wait)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| db_error(&target, &e.to_string(), password.as_deref()))?;
        let mut pg = Self {
            pool,
            target,
            hash_key: Vec::new(),
        };
        pg.migrate(password.as_deref()).await?;
        pg.hash_key = pg.load_hash_key().await?;
        Ok(pg)
    }

    fn err(&self, e: impl std::fmt::Display) -> PgError {
        db_error(&self.target, &e.to_string(), None)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, PgError> {
        self.pool
            .get()
            .await
            .map_err(|e| self.err(pool_message(&e)))
    }

    async fn migrate(&self, password: Option<&str>) -> Result<(), PgError> {
        let mut client = self
            .pool
            .get()
            .await
            .map_err(|e| db_error(&self.target, &pool_message(&e), password))?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        tx.execute(MIGRATION_LOCK_SQL, &[&MIGRATION_LOCK])
            .await
            .map_err(|e| self.err(e))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS refboard_schema (
                 id int PRIMARY KEY CHECK (id = 1),
                 version int NOT NULL)",
        )
        .await
        .map_err(|e| self.err(e))?;
        let found: i32 = tx
            .query_opt(SCHEMA_VERSION_SQL, &[])
            .await
            .map_err(|e| self.err(e))?
            .map(|r| r.get(0))
            .unwrap_or(0);
        if found > PG_SCHEMA_VERSION {
            return Err(PgError::TooNew {
                target: self.target.clone(),
                found,
                supported: PG_SCHEMA_VERSION,
            });
        }
        for sql in &MIGRATIONS[usize::try_from(found).unwrap_or(0)..] {
            tx.batch_execute(sql).await.map_err(|e| self.err(e))?;
        }
        tx.execute(SCHEMA_VERSION_SET_SQL, &[&PG_SCHEMA_VERSION])
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    async fn load_hash_key(&self) -> Result<Vec<u8>, PgError> {
        let client = self.client().await?;
        let key = crate::store::random_key().map_err(|e| self.err(e))?;
        client
            .execute(HASH_KEY_INSERT_SQL, &[&hex::encode(&key)])
            .await
            .map_err(|e| self.err(e))?;
        let row = client
            .query_one(HASH_KEY_SQL, &[])
            .await
            .map_err(|e| self.err(e))?;
        hex::decode(row.get::<_, String>(0)).map_err(|e| self.err(format!("stored hash key: {e}")))
    }

    /// The key that hashes senders, shared by every relay on this database.
    pub fn hash_key(&self) -> &[u8] {
        &self.hash_key
    }

    /// Stores rows in one statement (one transaction) and notes their
    /// pages; returns how many were new.
    pub async fn insert(&self, mut rows: Vec<Row>) -> Result<usize, PgError> {
        // Sorted ids (and pages): two relays inserting overlapping batches
        // lock rows in the same order, so they cannot deadlock.
        rows.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        rows.dedup_by(|a, b| a.event_id == b.event_id);
        let ids: Vec<&str> = rows.iter().map(|r| r.event_id.as_str()).collect();
        let received: Vec<i64> = rows.iter().map(|r| r.received_at_ms).collect();
        let jsons: Vec<&str> = rows.iter().map(|r| r.json.as_str()).collect();
        let mut pages: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.referral.as_ref().map(|k| k.page_id.as_str()))
            .collect();
        pages.sort_unstable();
        pages.dedup();
        // One latest referral per person and page: a statement may not
        // update a row twice. Sorted, so relays lock in the same order.
        let mut latest: Vec<(&super::db::ReferralKey, &str)> = rows
            .iter()
            .filter_map(|r| r.referral.as_ref().map(|k| (k, r.event_id.as_str())))
            .collect();
        latest.sort_by(|a, b| {
            (&a.0.page_id, &a.0.sender, b.0.ts_ms).cmp(&(&b.0.page_id, &b.0.sender, a.0.ts_ms))
        });
        latest.dedup_by(|a, b| a.0.page_id == b.0.page_id && a.0.sender == b.0.sender);
        let l_pages: Vec<&str> = latest.iter().map(|l| l.0.page_id.as_str()).collect();
        let l_senders: Vec<&str> = latest.iter().map(|l| l.0.sender.as_str()).collect();
        let l_ids: Vec<&str> = latest.iter().map(|l| l.1).collect();
        let l_ts: Vec<i64> = latest.iter().map(|l| l.0.ts_ms).collect();
        let client = self.client().await?;
        let n: i64 = client
            .query_one(
                INSERT_SQL,
                &[
                    &ids, &received, &jsons, &pages, &l_pages, &l_senders, &l_ids, &l_ts,
                ],
            )
            .await
            .map_err(|e| self.err(e))?
            .get(0);
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// The id and time of the latest referral of `sender` on `page_id`.
    pub async fn last_referral(
        &self,
        page_id: &str,
        sender: &str,
    ) -> Result<Option<(String, i64)>, PgError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(LAST_REFERRAL_SQL, &[&page_id, &sender])
            .await
            .map_err(|e| self.err(e))?
            .map(|r| (r.get(0), r.get(1))))
    }

    /// Whether a signed referral came for `page_id`.
    pub async fn knows_page(&self, page_id: &str) -> Result<bool, PgError> {
        let client = self.client().await?;
        let n: i64 = client
            .query_one(KNOWS_PAGE_SQL, &[&page_id])
            .await
            .map_err(|e| self.err(e))?
            .get(0);
        Ok(n > 0)
    }

    /// Checks a cursor: empty (the start), `v2.x<xid>.<seq>` below the
    /// current horizon, or a format-1 `x<xid>.<seq>` ([`Cursor::Reset`]).
    pub async fn parse_cursor(
        &self,
        raw: &str,
    ) -> Result<Result<Cursor, ValidationError>, PgError> {
        if raw.is_empty() {
            return Ok(Ok(Cursor::After(0, 0)));
        }
        let rule = format!(
            "a next_cursor from this relay: \"{CURSOR_PREFIX}\", a transaction id, \".\" and a sequence number"
        );
        let Some(rest) = raw.strip_prefix(CURSOR_PREFIX) else {
            // Format 1 is only ever answered with a reset, so its numbers
            // need no range check.
            return Ok(match raw.strip_prefix('x').and_then(xid_and_seq) {
                Some(_) => Ok(Cursor::Reset),
                None => Err(ValidationError::new("after", raw, rule)),
            });
        };
        let Some((xid, seq)) = xid_and_seq(rest) else {
            return Ok(Err(ValidationError::new("after", raw, rule)));
        };
        let client = self.client().await?;
        let ok: bool = client
            .query_one(CURSOR_CHECK_SQL, &[&xid.to_string()])
            .await
            .map_err(|e| self.err(e))?
            .get(0);
        if !ok {
            return Ok(Err(ValidationError::new(
                "after",
                raw,
                format!(
                    "{rule}; this one is past the newest transaction (another backend's, or altered)"
                ),
            )));
        }
        Ok(Ok(Cursor::After(xid, seq)))
    }

    /// Up to `limit` events after the cursor, only from finished transactions.
    pub async fn page(
        &self,
        after: (u64, i64),
        limit: usize,
    ) -> Result<Vec<(String, String)>, PgError> {
        let client = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(PAGE_SQL, &[&after.0.to_string(), &after.1, &limit])
            .await
            .map_err(|e| self.err(e))?;
        Ok(rows
            .iter()
            .map(|r| {
                let xid: String = r.get(0);
                let seq: i64 = r.get(1);
                (format!("{CURSOR_PREFIX}{xid}.{seq}"), r.get::<_, String>(2))
            })
            .collect())
    }

    /// Number of stored events.
    pub async fn count(&self) -> Result<i64, PgError> {
        let client = self.client().await?;
        Ok(client
            .query_one(COUNT_SQL, &[])
            .await
            .map_err(|e| self.err(e))?
            .get(0))
    }

    /// `received_at_ms` of the newest event.
    pub async fn last_received_ms(&self) -> Result<Option<i64>, PgError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(LAST_RECEIVED_SQL, &[])
            .await
            .map_err(|e| self.err(e))?
            .map(|r| r.get(0)))
    }

    /// The value kept under `key` in `refboard_meta`.
    pub async fn get_meta(&self, key: &str) -> Result<Option<String>, PgError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(META_GET_SQL, &[&key])
            .await
            .map_err(|e| self.err(e))?
            .map(|r| r.get(0)))
    }

    /// Keeps the time `ms` under `key` unless a later one is there.
    pub async fn set_meta_time(&self, key: &str, ms: i64) -> Result<(), PgError> {
        let client = self.client().await?;
        client
            .execute(META_SET_TIME_SQL, &[&key, &ms.to_string()])
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

/// `<xid>.<seq>`, both whole numbers, the sequence not negative.
fn xid_and_seq(s: &str) -> Option<(u64, i64)> {
    let (xid, seq) = s.split_once('.')?;
    let seq = seq.parse::<i64>().ok().filter(|s| *s >= 0)?;
    Some((xid.parse::<u64>().ok()?, seq))
}

fn pool_message(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(b) => {
            let mut msg = b.to_string();
            let mut source = std::error::Error::source(b);
            while let Some(s) = source {
                msg = format!("{msg}: {s}");
                source = s.source();
            }
            msg
        }
        deadpool_postgres::PoolError::Timeout(_) => "timed out connecting".into(),
        other => other.to_string(),
    }
}

/// A message on one line, with the password (if known) blanked out.
fn db_error(target: &str, message: &str, password: Option<&str>) -> PgError {
    let mut message = message.replace(['\n', '\r'], " ");
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        message = message.replace(p, "***");
    }
    PgError::Db {
        target: target.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example:5432/refboard"),
            "postgres://app:***@db.example:5432/refboard"
        );
        assert_eq!(redact_url("postgres://db/x"), "postgres://db/x");
        let e = parse_url("mysql://a:s3cret@h/db").unwrap_err();
        assert!(!e.to_string().contains("s3cret"));
    }

    #[test]
    fn every_statement_is_a_listed_query_so_the_explain_test_sees_it() {
        // A literal in a call would escape `tests/relay_pg.rs`, which
        // EXPLAINs each entry of QUERIES; DDL goes through batch_execute.
        let source = include_str!("pg.rs");
        for call in ["query(", "query_one(", "query_opt(", "execute("] {
            let needle = format!(".{call}");
            for (at, _) in source.match_indices(&needle) {
                let arg = source[at + needle.len()..].trim_start();
                assert!(
                    !arg.starts_with('"') && !arg.starts_with("r#"),
                    "an SQL literal in {needle}: {}",
                    &arg[..arg.len().min(60)]
                );
            }
        }
    }

    #[test]
    fn cursor_numbers_are_a_transaction_id_and_a_sequence_number() {
        assert_eq!(xid_and_seq("999.12"), Some((999, 12)));
        assert_eq!(xid_and_seq("1000.0"), Some((1000, 0)));
        for bad in ["", "999", "999.", ".12", "999.-1", "-1.2", "1.2.3", "a.1"] {
            assert_eq!(xid_and_seq(bad), None, "{bad}");
        }
    }
}
