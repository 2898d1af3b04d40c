//! The desktop store's schema migrations, counted by `PRAGMA user_version`
//! and run by [`crate::db::migrate`].
//!
//! Never edit a migration that has shipped: add a new one at the end.

use super::StoreError;
use crate::db::{Migrated, Migration, StepReport, TooNew};
use crate::model::Hint;
use rusqlite::{Connection, OptionalExtension, Transaction};
use std::path::Path;

/// 1: the link model, referral events and sync state.
const V1: &str = r#"
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
    "#;

/// 2: rollups that keep chart queries fast as events grow. One row per
/// 7-day UTC period, page, ref and source; `slots` holds sparse 15-minute
/// counts (every real time zone offset is a multiple of 15 minutes), see
/// store::events.
const V2: &str = r#"
    CREATE TABLE referral_rollup (
        period   INTEGER NOT NULL,
        page_id  TEXT NOT NULL,
        ref      TEXT NOT NULL,
        source   TEXT NOT NULL,
        slots    BLOB NOT NULL,
        PRIMARY KEY (period, page_id, ref, source)
    ) WITHOUT ROWID;
    "#;

/// 3: a referral without a ref is kept apart from one with an empty ref
/// (`has_ref` = 0 for no ref). Old rows with ref '' mixed the two: they
/// are dropped here; migration 6 rebuilds every rollup from the events
/// (the settings flag this step leaves is deleted there).
const V3: &str = r#"
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
    "#;

/// 4: a page's Instagram account id; Instagram events carry it as page_id.
const V4: &str = r#"
    ALTER TABLE pages ADD COLUMN ig_id TEXT;
    CREATE UNIQUE INDEX pages_ig_id ON pages(ig_id);
    "#;

/// 5: aliases, extra refs that count for a link (typo rescue). Unique per
/// page; they go with their link when it is removed.
const V5: &str = r#"
    CREATE TABLE link_aliases (
        id          INTEGER PRIMARY KEY,
        page        INTEGER NOT NULL REFERENCES pages(id),
        alias       TEXT NOT NULL,
        link        INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE,
        created_at  INTEGER NOT NULL,
        UNIQUE (page, alias)
    );
    CREATE INDEX link_aliases_link ON link_aliases(link);
    "#;

/// 6 (the person index, issue #10 items 7 and 11): a dense number per
/// person, and the set of people (a roaring bitmap) per UTC day and per
/// 7-day UTC week, for each value of each dimension a grouping needs:
/// `ref` (links, refs, channels, campaigns and pages follow from page and
/// ref), `source`, `kind`, `platform` and `ad`. Exact unique people over a
/// year then unite a few thousand small sets instead of reading raw
/// events. Rollups gain platform and ad in their key (group by ad or
/// platform). Both are rebuilt from the events in this same transaction
/// ([`migration_6`]).
const V6: &str = r#"
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
    "#;

/// 7: each event's person number, written at insert, so the raw events
/// at a range's edges give their people without a lookup by hash per
/// event (a join that took most of an edge's time). Rows stored before
/// keep NULL and are looked up by hash when read (`coalesce`), so the
/// upgrade rewrites nothing.
const V7: &str = r#"
    ALTER TABLE referral_events ADD COLUMN person INTEGER;
    "#;

/// Migrations in order; the database's `user_version` counts how many ran.
/// Never edit one that has shipped: add a new one at the end.
/// 9: conversions (issue 21): what a referred person did next, joined to
/// their referrals by page and keyed sender hash (never a raw id).
/// `kind` 'conversation' is the first message after a referral (goal and
/// value NULL); 'conversion' is a named goal. Money is exact: the value
/// times 1,000,000 as an integer (every ISO 4217 currency has at most 4
/// decimals), never a float, and never added across currencies.
const V9: &str = r#"
    CREATE TABLE conversion_events (
        id             INTEGER PRIMARY KEY,
        event_id       TEXT NOT NULL UNIQUE,
        platform       TEXT NOT NULL,
        page_id        TEXT NOT NULL,
        sender_hash    TEXT NOT NULL,
        ts_ms          INTEGER NOT NULL,
        kind           TEXT NOT NULL CHECK (kind IN ('conversation', 'conversion')),
        goal           TEXT,
        value_micros   INTEGER,
        currency       TEXT,
        origin         INTEGER REFERENCES sync_sources(id),
        received_at_ms INTEGER NOT NULL,
        CHECK ((kind = 'conversation') = (goal IS NULL)),
        CHECK ((value_micros IS NULL) = (currency IS NULL))
    );
    CREATE INDEX conversion_events_page_ts ON conversion_events(page_id, ts_ms);
    CREATE INDEX conversion_events_person ON conversion_events(page_id, sender_hash, ts_ms);
    "#;

/// 10: the credited conversions, kept (issue #21 item 5). Crediting a
/// conversion needs the person's referrals of the window before it; over a
/// year that is every referral (10,000,000 rows read per query, seconds),
/// where the figures must come in 200 ms. So the credit of each conversion
/// is kept, per UTC day, as one blob of fixed-size records (time, delay,
/// value, person, credited referral's key, goal, currency, page), with
/// small dictionaries for the texts: a year's figures read 365 blobs.
/// Derived data only: it is refreshed from `referral_events` and
/// `conversion_events` when they grow or the attribution settings change
/// (`stats::conversions`), and can be dropped at any time.
const V10: &str = r#"
    CREATE TABLE credit_people (
        n            INTEGER PRIMARY KEY,
        page_id      TEXT NOT NULL,
        sender_hash  TEXT NOT NULL,
        UNIQUE (page_id, sender_hash)
    );
    CREATE TABLE credit_names (
        n     INTEGER PRIMARY KEY,
        name  TEXT NOT NULL UNIQUE
    );
    CREATE TABLE credit_keys (
        n         INTEGER PRIMARY KEY,
        page_id   TEXT NOT NULL,
        has_ref   INTEGER NOT NULL,
        ref       TEXT NOT NULL,
        source    TEXT NOT NULL,
        platform  TEXT NOT NULL,
        ad        TEXT NOT NULL,
        kind      TEXT NOT NULL,
        UNIQUE (page_id, has_ref, ref, source, platform, ad, kind)
    );
    CREATE TABLE credit_days (
        day      INTEGER PRIMARY KEY,
        records  BLOB NOT NULL
    );
    "#;

const MIGRATIONS: &[Migration<StoreError>] = &[
    Migration::Sql(V1),
    Migration::Sql(V2),
    Migration::Sql(V3),
    Migration::Sql(V4),
    Migration::Sql(V5),
    Migration::Rust(migration_6),
    Migration::Sql(V7),
    Migration::Rust(move_legacy_token),
    Migration::Sql(V9),
    Migration::Sql(V10),
];

/// 6: the person index's tables, then every rollup and person set rebuilt
/// from the stored events in the same transaction. Dropping
/// `referral_rollup` here is safe: the rebuild below refills it before the
/// transaction commits, and a file past this version is never opened by an
/// older refboard (it is refused as too new), so no binary reads the table
/// in between.
fn migration_6(tx: &Transaction<'_>) -> Result<StepReport, StoreError> {
    tx.execute_batch(V6)?;
    super::people::backfill(tx)?;
    Ok(StepReport::default())
}

/// 8: a token that refboard before 0.2 kept in `settings` moves to the
/// keyring or a 0600 file beside the database, and the row is deleted; the
/// file is compacted afterwards so no copy stays in free pages or the WAL.
fn move_legacy_token(tx: &Transaction<'_>) -> Result<StepReport, StoreError> {
    let token: Option<String> = tx
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [LEGACY_TOKEN_KEY],
            |r| r.get(0),
        )
        .optional()?;
    let Some(token) = token else {
        return Ok(StepReport::default());
    };
    let db = tx
        .path()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| StoreError::internal("a database with a token but no file"))?;
    let place = crate::secrets::save_token(Path::new(db), &token)?;
    tx.execute("DELETE FROM settings WHERE key = ?1", [LEGACY_TOKEN_KEY])?;
    Ok(StepReport {
        notice: place.notice(),
        compact: true,
    })
}

/// The `settings` key where refboard before 0.2 kept the API token in plain text.
pub(super) const LEGACY_TOKEN_KEY: &str = "backend_token";

/// The migrations that ran before the person index existed, so tests can
/// build a database as an older refboard left it.
#[doc(hidden)]
pub fn migrations_before_person_index() -> &'static [Migration<StoreError>] {
    &MIGRATIONS[..5]
}

/// Every migration, so tests can build a database at any older version.
#[doc(hidden)]
pub fn migrations() -> &'static [Migration<StoreError>] {
    MIGRATIONS
}

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`] in one transaction, or refuses
/// a database written by a newer refboard, or a relay's database.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<Migrated, StoreError> {
    refuse_other_kind(conn, path, DatabaseKind::Desktop)?;
    crate::db::migrate(conn, path, MIGRATIONS)
}

impl From<TooNew> for StoreError {
    fn from(e: TooNew) -> Self {
        StoreError::TooNew {
            found: e.found,
            supported: e.supported,
            path: e.path,
        }
    }
}

/// Which program a refboard database file belongs to, told by its tables
/// (the two schemas count their versions separately in `user_version`, so
/// the version alone cannot tell them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// The dashboard's own database (`referral_events`, `links`, …).
    Desktop,
    /// A relay's SQLite file (`events` and `meta`).
    Relay,
}

impl DatabaseKind {
    fn name(self) -> &'static str {
        match self {
            DatabaseKind::Desktop => "dashboard (desktop)",
            DatabaseKind::Relay => "relay",
        }
    }

    /// What to do instead of opening a database of this kind as the other.
    fn hint(self) -> Hint {
        match self {
            DatabaseKind::Desktop => Hint::SeparateRelayFile,
            DatabaseKind::Relay => Hint::SeparateDesktopFile,
        }
    }
}

/// The kind of an existing refboard database, `None` for a new or foreign file.
pub fn database_kind(conn: &Connection) -> Result<Option<DatabaseKind>, StoreError> {
    let has = |table: &str| -> Result<bool, StoreError> {
        Ok(conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get::<_, i64>(0),
        )? > 0)
    };
    if has("referral_events")? {
        return Ok(Some(DatabaseKind::Desktop));
    }
    if has("events")? && has("meta")? {
        return Ok(Some(DatabaseKind::Relay));
    }
    Ok(None)
}

/// Refuses a database of the other kind than `wanted`, before anything is
/// written to it.
pub fn refuse_other_kind(
    conn: &Connection,
    path: &Path,
    wanted: DatabaseKind,
) -> Result<(), StoreError> {
    match database_kind(conn)? {
        Some(found) if found != wanted => Err(StoreError::WrongKind {
            found: found.name(),
            wanted: wanted.name(),
            hint: found.hint(),
            path: path.display().to_string(),
        }),
        _ => Ok(()),
    }
}
