//! SQLite helpers that the desktop store and the relay share: schema
//! migrations as code, in the manner of cargo's `util/sqlite.rs`.
//!
//! A database's `PRAGMA user_version` counts the migrations that ran. Each
//! migration is SQL, or a Rust step for data work SQL cannot express
//! (building bitmaps, moving a secret out of the file). All pending ones run
//! once, in order, inside one exclusive transaction: the file is at one
//! version or the next, never in between. A file whose version is newer
//! than this binary's list is refused ([`TooNew`]) before anything is
//! touched, which is what makes destructive steps (dropping a table that a
//! later step rebuilds) safe: no older binary ever runs on a newer layout.

use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::Path;

/// What a Rust migration step reports besides success.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// Something the user should read (e.g. where a secret went).
    pub notice: Option<String>,
    /// Deleted data should not linger in free pages or the WAL: compact the
    /// file after the transaction (VACUUM cannot run inside one).
    pub compact: bool,
}

/// A Rust migration step: runs inside the migration transaction.
pub type MigrationFn<E> = fn(&Transaction<'_>) -> Result<StepReport, E>;

/// One schema version's change.
pub enum Migration<E> {
    /// SQL statements, run as one batch.
    Sql(&'static str),
    /// Code, for data steps (it may run SQL of its own first).
    Rust(MigrationFn<E>),
}

/// A file migrated by a newer refboard than this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooNew {
    /// The version found in the file.
    pub found: i64,
    /// The newest this binary knows.
    pub supported: i64,
    /// The file.
    pub path: String,
}

/// What [`migrate`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The version found before.
    pub from: i64,
    /// The version now.
    pub to: i64,
    /// Notices of the Rust steps that ran, in order.
    pub notices: Vec<String>,
}

/// Brings the database at `path` up to `migrations.len()`, or refuses a
/// newer one. Pending steps run in one `BEGIN EXCLUSIVE` transaction that
/// reads `user_version` again inside it: two processes opening a new file at
/// once migrate one after the other, and the second finds nothing to do.
pub fn migrate<E>(
    conn: &mut Connection,
    path: &Path,
    migrations: &[Migration<E>],
) -> Result<Migrated, E>
where
    E: From<rusqlite::Error> + From<TooNew>,
{
    let latest = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    let check = |found: i64| -> Result<bool, E> {
        if found > latest {
            return Err(TooNew {
                found,
                supported: latest,
                path: path.display().to_string(),
            }
            .into());
        }
        Ok(found < latest)
    };
    // Fast path without a lock: a migrated database needs no write.
    let before = user_version(conn)?;
    if !check(before)? {
        return Ok(Migrated {
            from: before,
            to: before,
            notices: Vec::new(),
        });
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let found = user_version(&tx)?;
    let mut done = Migrated {
        from: found,
        to: found,
        notices: Vec::new(),
    };
    if !check(found)? {
        return Ok(done);
    }
    let mut compact = false;
    for step in &migrations[usize::try_from(found).unwrap_or(0)..] {
        match step {
            Migration::Sql(sql) => tx.execute_batch(sql)?,
            Migration::Rust(f) => {
                let report = f(&tx)?;
                done.notices.extend(report.notice);
                compact |= report.compact;
            }
        }
    }
    tx.pragma_update(None, "user_version", latest)?;
    tx.commit()?;
    done.to = latest;
    if compact {
        // VACUUM rewrites every page, so older copies in free space go too;
        // the checkpoint then empties the WAL that held the original write.
        conn.execute_batch("VACUUM")?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    Ok(done)
}

/// The file's schema version (`PRAGMA user_version`).
pub fn user_version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}
