//! Append-only schema migrations, counted by `PRAGMA user_version`.
//!
//! Never edit a migration that has shipped: add a new one at the end.

use super::StoreError;
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// Migrations in order; the database's `user_version` counts how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: the link model, referral events and sync state.
    r#"
    CREATE TABLE pages (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        target      TEXT NOT NULL,
        target_key  TEXT NOT NULL UNIQUE,
        page_id     TEXT UNIQUE,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE channels (
        id          INTEGER PRIMARY KEY,
        page        INTEGER NOT NULL REFERENCES pages(id),
        name        TEXT NOT NULL,
        kind        TEXT NOT NULL,
        archived    INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL,
        UNIQUE (page, name COLLATE NOCASE)
    );
    CREATE TABLE campaigns (
        id          INTEGER PRIMARY KEY,
        page        INTEGER NOT NULL REFERENCES pages(id),
        name        TEXT NOT NULL,
        starts_on   TEXT,
        ends_on     TEXT,
        notes       TEXT NOT NULL DEFAULT '',
        archived    INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL,
        UNIQUE (page, name COLLATE NOCASE)
    );
    CREATE TABLE links (
        id           INTEGER PRIMARY KEY,
        page         INTEGER NOT NULL REFERENCES pages(id),
        campaign     INTEGER NOT NULL REFERENCES campaigns(id),
        channel      INTEGER NOT NULL REFERENCES channels(id),
        ref          TEXT NOT NULL,
        cta          TEXT NOT NULL DEFAULT '',
        prefill_text TEXT,
        notes        TEXT NOT NULL DEFAULT '',
        archived     INTEGER NOT NULL DEFAULT 0,
        created_at   INTEGER NOT NULL,
        UNIQUE (page, ref)
    );
    CREATE INDEX links_campaign ON links(campaign);
    CREATE INDEX links_channel ON links(channel);
    CREATE INDEX links_ref ON links(ref);

    -- Where referral events come from: one row per backend URL.
    CREATE TABLE sync_sources (
        id            INTEGER PRIMARY KEY,
        url           TEXT NOT NULL UNIQUE,
        cursor        TEXT,
        last_sync_at  INTEGER,
        last_error    TEXT,
        events_pulled INTEGER NOT NULL DEFAULT 0
    );
    -- One row per referral, deduplicated by a deterministic event id.
    -- sender_hash is a keyed hash: raw PSIDs never reach this store.
    CREATE TABLE referral_events (
        id             INTEGER PRIMARY KEY,
        event_id       TEXT NOT NULL UNIQUE,
        platform       TEXT NOT NULL,
        page_id        TEXT NOT NULL,
        sender_hash    TEXT NOT NULL,
        ts_ms          INTEGER NOT NULL,
        kind           TEXT NOT NULL CHECK (kind IN ('new', 'returning')),
        ref            TEXT,
        source         TEXT,
        ref_type       TEXT,
        ad_id          TEXT,
        ad_title       TEXT,
        referer_uri    TEXT,
        origin         INTEGER REFERENCES sync_sources(id),
        received_at_ms INTEGER NOT NULL
    );
    CREATE INDEX referral_events_ts ON referral_events(ts_ms);

    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 2: rollups that keep chart queries fast as events grow. One row per
    // 7-day UTC period, page, ref and source; `slots` holds sparse 15-minute
    // counts (every real time zone offset is a multiple of 15 minutes), see
    // store::events.
    r#"
    CREATE TABLE referral_rollup (
        period   INTEGER NOT NULL,
        page_id  TEXT NOT NULL,
        ref      TEXT NOT NULL,
        source   TEXT NOT NULL,
        slots    BLOB NOT NULL,
        PRIMARY KEY (period, page_id, ref, source)
    ) WITHOUT ROWID;
    "#,
    // 3: a referral without a ref is kept apart from one with an empty ref
    // (`has_ref` = 0 for no ref). Old rows with ref '' mixed the two: they
    // are dropped here and rebuilt from the events when the store opens
    // (see `Store::rebuild_refless_rollups`).
    r#"
    ALTER TABLE referral_rollup RENAME TO referral_rollup_v2;
    CREATE TABLE referral_rollup (
        period   INTEGER NOT NULL,
        page_id  TEXT NOT NULL,
        has_ref  INTEGER NOT NULL,
        ref      TEXT NOT NULL,
        source   TEXT NOT NULL,
        slots    BLOB NOT NULL,
        PRIMARY KEY (period, page_id, has_ref, ref, source)
    ) WITHOUT ROWID;
    INSERT INTO referral_rollup (period, page_id, has_ref, ref, source, slots)
        SELECT period, page_id, 1, ref, source, slots FROM referral_rollup_v2 WHERE ref <> '';
    INSERT OR REPLACE INTO settings (key, value)
        SELECT 'rollup_rebuild_refless', '1'
        WHERE EXISTS (SELECT 1 FROM referral_rollup_v2 WHERE ref = '');
    DROP TABLE referral_rollup_v2;
    "#,
    // 4: a page's Instagram account id; Instagram events carry it as page_id.
    r#"
    ALTER TABLE pages ADD COLUMN ig_id TEXT;
    CREATE UNIQUE INDEX pages_ig_id ON pages(ig_id);
    "#,
    // 5: aliases, extra refs that count for a link (typo rescue). Unique per
    // page; they go with their link when it is removed.
    r#"
    CREATE TABLE link_aliases (
        id          INTEGER PRIMARY KEY,
        page        INTEGER NOT NULL REFERENCES pages(id),
        alias       TEXT NOT NULL,
        link        INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE,
        created_at  INTEGER NOT NULL,
        UNIQUE (page, alias)
    );
    CREATE INDEX link_aliases_link ON link_aliases(link);
    "#,
    // 6 (the person index, issue #10 items 7 and 11): a dense number per
    // person, and the set of people (a roaring bitmap) per UTC day and per
    // 7-day UTC week, for each value of each dimension a grouping needs:
    // `ref` (links, refs, channels, campaigns and pages follow from page and
    // ref), `source`, `kind`, `platform` and `ad`. Exact unique people over a
    // year then unite a few thousand small sets instead of reading raw
    // events. Rollups gain platform and ad in their key (group by ad or
    // platform). Both are rebuilt from the events in this same transaction
    // (`people::backfill_if_flagged`, run by `migrate` when it finds the flag).
    r#"
    CREATE TABLE persons (
        n     INTEGER PRIMARY KEY,
        hash  TEXT NOT NULL UNIQUE
    );
    CREATE TABLE people_index (
        dim        TEXT NOT NULL,
        span       INTEGER NOT NULL,
        start      INTEGER NOT NULL,
        page_id    TEXT NOT NULL,
        has_value  INTEGER NOT NULL,
        value      TEXT NOT NULL,
        people     BLOB NOT NULL,
        PRIMARY KEY (dim, span, start, page_id, has_value, value)
    ) WITHOUT ROWID;
    DROP TABLE referral_rollup;
    CREATE TABLE referral_rollup (
        period    INTEGER NOT NULL,
        page_id   TEXT NOT NULL,
        has_ref   INTEGER NOT NULL,
        ref       TEXT NOT NULL,
        source    TEXT NOT NULL,
        platform  TEXT NOT NULL,
        ad        TEXT NOT NULL,
        slots     BLOB NOT NULL,
        PRIMARY KEY (period, page_id, has_ref, ref, source, platform, ad)
    ) WITHOUT ROWID;
    DELETE FROM settings WHERE key = 'rollup_rebuild_refless';
    INSERT OR REPLACE INTO settings (key, value) VALUES ('person_index_backfill', '1');
    "#,
    // 7: each event's person number, written at insert, so the raw events
    // at a range's edges give their people without a lookup by hash per
    // event (a join that took most of an edge's time). Rows stored before
    // keep NULL and are looked up by hash when read (`coalesce`), so the
    // upgrade rewrites nothing.
    r#"
    ALTER TABLE referral_events ADD COLUMN person INTEGER;
    "#,
];

/// The migrations that ran before the person index existed, so tests can
/// build a database as an older refboard left it.
#[doc(hidden)]
pub fn migrations_before_person_index() -> &'static [&'static str] {
    let end = MIGRATIONS
        .iter()
        .position(|m| m.contains("CREATE TABLE persons"))
        .unwrap_or(MIGRATIONS.len());
    &MIGRATIONS[..end]
}

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`] in one transaction, or refuses
/// a database written by a newer refboard.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    migrate_then(conn, path, MIGRATIONS, super::people::backfill_if_flagged)
}

/// Applies `migrations` past the database's `user_version`, in one
/// transaction. Shared by the relay's own database.
///
/// The transaction is `BEGIN EXCLUSIVE` and reads `user_version` again
/// inside it: two processes opening a new file at once then migrate one
/// after the other, and the second finds nothing left to do.
pub fn migrate_with(
    conn: &mut Connection,
    path: &Path,
    migrations: &[&str],
) -> Result<(), StoreError> {
    migrate_then(conn, path, migrations, |_| Ok(()))
}

/// [`migrate_with`], then `after(tx)` inside the same transaction, once the
/// SQL steps ran: data steps that SQL cannot express (building bitmaps)
/// commit or roll back together with the schema change.
fn migrate_then(
    conn: &mut Connection,
    path: &Path,
    migrations: &[&str],
    after: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let latest = migrations.len() as i64;
    let check = |found: i64| -> Result<bool, StoreError> {
        if found > latest {
            return Err(StoreError::TooNew {
                found,
                supported: latest,
                path: path.display().to_string(),
            });
        }
        Ok(found < latest)
    };
    // Fast path without a lock: a migrated database needs no write.
    if !check(user_version(conn)?)? {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let found = user_version(&tx)?;
    if !check(found)? {
        return Ok(());
    }
    for sql in &migrations[usize::try_from(found).unwrap_or(0)..] {
        tx.execute_batch(sql)?;
    }
    after(&tx)?;
    tx.pragma_update(None, "user_version", latest)?;
    tx.commit()?;
    Ok(())
}

fn user_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}
