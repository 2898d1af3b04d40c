//! The local SQLite store: one file holding pages, channels, campaigns,
//! links, referral events and sync state.
//!
//! Every change runs in a transaction, and every rule is checked through
//! [`crate::model`] so that the CLI and the GUI refuse the same things.

mod aliases;
mod attribution;
mod catalog;
mod conversions;
mod credit;
mod events;
mod links;
mod pages;
mod people;
mod rollup;
mod schema;
mod settings;

pub use aliases::AliasRow;
pub use attribution::{ConversionRow, TouchRow};
pub use credit::CreditKey;
pub use events::{Ingested, SyncSource, SyncStep};
pub use links::{LinkFilter, LinkRow};
pub use people::{DAY_MS, Dim, SPANS_DAYS, decode as decode_people};
pub use rollup::{
    PERIOD_MS, RowKey, SLOT_MS, SLOTS_PER_PERIOD, ad_key, decode_slots, for_each_slot,
};
pub use schema::{
    DatabaseKind, SCHEMA_VERSION, database_kind, migrations, migrations_before_person_index,
    refuse_other_kind,
};
pub use settings::{DEFAULT_GET_STARTED_PAYLOAD, DEFAULT_GRAPH_BASE_URL, DEFAULT_GRAPH_VERSION};

use crate::model::{Hint, ValidationError};
use rusqlite::{Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Environment variable that overrides the default database path.
pub const DB_ENV: &str = "REFBOARD_DB";
/// How long a writer waits for another connection's lock, in milliseconds.
const BUSY_TIMEOUT_MS: u64 = 5_000;
/// SQLite page cache per connection, in KiB.
const CACHE_KIB: i64 = 64 * 1024;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Input broke a model rule (the ValidationError is the source, so the
    /// CLI finds it in the chain).
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// Nothing matches what the user named.
    #[error("no {what} matches {value:?}")]
    NotFound {
        /// page, channel, campaign or link.
        what: &'static str,
        /// What the user typed.
        value: String,
        /// What the user can do about it, for the front end to word.
        hint: Option<Hint>,
    },
    /// The change would break a link between records, e.g. removing a used channel.
    #[error("{0}")]
    Conflict(String),
    /// The file was written by a newer refboard.
    #[error(
        "the database has schema version {found}, newer than the {supported} this refboard understands; upgrade refboard or use another database: {path}"
    )]
    TooNew {
        /// Version found in the file.
        found: i64,
        /// Newest version this binary knows.
        supported: i64,
        /// The database file.
        path: String,
    },
    /// The storage failed at run time, not because of the input: a write the
    /// disk refused, a writer thread that stopped (exit 1).
    #[error("{0}")]
    Failed(String),
    /// refboard itself failed (a poisoned lock, serialisation): exit 1.
    #[error("{0}")]
    Internal(#[from] crate::model::InternalError),
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The operating system gave no random bytes.
    #[error("cannot get random bytes: {0}")]
    Random(String),
    /// The database file could not be created (e.g. no write permission on
    /// its directory).
    #[error("cannot create the database file ({source}): {path}")]
    Create {
        /// Underlying I/O error.
        source: std::io::Error,
        /// The file.
        path: String,
    },
    /// An existing database file could not be made private.
    #[error("cannot make the database readable by its owner only ({source}): {path}")]
    Permissions {
        /// Underlying I/O error.
        source: std::io::Error,
        /// The file.
        path: String,
    },
    /// The API token could not be kept outside the database.
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    /// The file is the other program's database: a dashboard database given
    /// to the relay, or a relay's given to the dashboard.
    #[error("this is a refboard {found} database, not a {wanted} one: {path}")]
    WrongKind {
        /// The kind found.
        found: &'static str,
        /// The kind the caller needs.
        wanted: &'static str,
        /// What to do instead, for the front end to word.
        hint: Hint,
        /// The file.
        path: String,
    },
    /// The database file's owner has no write permission (e.g. `chmod 0444`):
    /// the user's own setting, so refboard refuses to write rather than
    /// change it.
    #[error(
        "the database is read-only (mode {mode:04o}), so refboard leaves it untouched: {path}; to use it, make it writable (chmod u+w) or work on a copy"
    )]
    ReadOnly {
        /// The file's permission bits.
        mode: u32,
        /// The file.
        path: String,
    },
    /// The directory the database file should be in does not exist.
    #[error(
        "the directory for the database does not exist: {path}; create it first or choose another path"
    )]
    NoDirectory {
        /// The directory.
        path: String,
    },
    /// The data directory could not be created.
    #[error("cannot create the data directory ({source}): {path}")]
    CreateDir {
        /// Underlying I/O error.
        source: std::io::Error,
        /// The directory.
        path: String,
    },
}

impl StoreError {
    /// An internal failure (never the user's input) described by `what`.
    pub fn internal(what: impl Into<String>) -> Self {
        StoreError::Internal(crate::model::InternalError::new(what))
    }

    /// True when the user's input caused the error (exit code 2), false for runtime failures.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            StoreError::Invalid(_)
                | StoreError::NotFound { .. }
                | StoreError::Conflict(_)
                | StoreError::ReadOnly { .. }
                | StoreError::NoDirectory { .. }
                | StoreError::WrongKind { .. }
        )
    }
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// What opening said: notices of the migrations that ran.
    open_notices: Vec<String>,
    /// The second connection of [`Store::second_connection`], kept between
    /// queries so its page cache stays warm.
    spare: std::cell::RefCell<Option<Box<Store>>>,
}

/// The platform's default database file, e.g. `~/.local/share/refboard/refboard.db`.
pub fn default_db_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "refboard").map(|d| d.data_dir().join("refboard.db"))
}

/// Opens a connection the way every refboard database is used: the file
/// readable by its owner only, WAL, foreign keys on, a busy timeout, and
/// write transactions that take the write lock up front.
pub fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    private_file(path)?;
    let mut conn = Connection::open(path)?;
    conn.busy_handler(Some(wait_for_lock))?;
    // BEGIN IMMEDIATE: a deferred transaction that reads and then writes
    // fails at once with "database is locked" when another connection wrote
    // in between; an immediate one waits for the busy timeout instead.
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    // Deleted rows (e.g. a token moved out of `settings`) are overwritten,
    // not left in free pages.
    conn.pragma_update(None, "secure_delete", true)?;
    // Only switch modes when needed, so opening a WAL database writes nothing.
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Event ids are hashes, so their unique index takes random inserts:
    // a larger page cache keeps big syncs from going to the OS per page.
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    // A sync rewrites the same person sets and rollup rows page after page;
    // checkpointing every 64 MB of WAL instead of every 4 MB copies each
    // hot page back to the database far fewer times.
    conn.pragma_update(None, "wal_autocheckpoint", 16384)?;
    Ok(conn)
}

/// Busy handler: waits for another connection's lock in 1 ms steps for up to
/// [`BUSY_TIMEOUT_MS`]. SQLite's own handler sleeps up to 100 ms between
/// tries, so a writer waiting behind a long sync of short transactions would
/// keep missing the gaps between them.
fn wait_for_lock(attempt: i32) -> bool {
    if u64::try_from(attempt).unwrap_or(u64::MAX) >= BUSY_TIMEOUT_MS {
        return false;
    }
    std::thread::sleep(Duration::from_millis(1));
    true
}

/// Creates `path` as an empty file readable and writable by its owner only
/// (0600), or tightens an existing database and its `-wal` and `-shm` files
/// by removing their group and other bits. SQLite gives the `-wal` and
/// `-shm` files it creates the main file's permissions, so they follow.
///
/// Tightening never adds a bit: a database whose owner cannot write to it
/// (0444) is the user's choice, and is refused with
/// [`StoreError::ReadOnly`] before anything is written. The check reads the
/// mode bits, because root may write to any file.
#[cfg(unix)]
fn private_file(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |source: std::io::Error| StoreError::Permissions {
        source,
        path: path.display().to_string(),
    };
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_directory(path, e)),
        Err(source) => {
            return Err(StoreError::Create {
                source,
                path: path.display().to_string(),
            });
        }
    }
    let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o7777;
    if mode & 0o200 == 0 {
        return Err(StoreError::ReadOnly {
            mode,
            path: path.display().to_string(),
        });
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_file() && mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & !0o077))
                .map_err(io)?;
        }
    }
    Ok(())
}

/// The error for a database file that could not be created because a
/// directory on its path is missing (`e` is kept when the directory exists
/// after all, e.g. a dangling symlink).
#[cfg(unix)]
fn no_directory(path: &Path, e: std::io::Error) -> StoreError {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if dir.is_dir() {
        return StoreError::Create {
            source: e,
            path: path.display().to_string(),
        };
    }
    StoreError::NoDirectory {
        path: dir.display().to_string(),
    }
}

/// Other systems keep their default permissions (Windows ACLs already limit
/// the profile folder to its user).
#[cfg(not(unix))]
fn private_file(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// 32 random bytes from the operating system, for keys and secrets.
pub fn random_key() -> Result<Vec<u8>, StoreError> {
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(key)
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                source,
                path: dir.display().to_string(),
            })?;
        }
        let mut conn = open_connection(path)?;
        let migrated = schema::migrate(&mut conn, path)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            open_notices: migrated.notices,
            spare: std::cell::RefCell::new(None),
        })
    }

    /// A second connection to the same database file, for reading beside
    /// this one on another thread (a stats query counts unique people there
    /// while this connection scans the rollups). It runs no migration: this
    /// store already did. Give it back with [`Store::return_connection`] so
    /// the next query finds its page cache warm.
    pub fn second_connection(&self) -> Result<Store, StoreError> {
        if let Some(spare) = self.spare.try_borrow_mut().ok().and_then(|mut s| s.take()) {
            return Ok(*spare);
        }
        Ok(Self {
            conn: open_connection(&self.path)?,
            path: self.path.clone(),
            open_notices: Vec::new(),
            spare: std::cell::RefCell::new(None),
        })
    }

    /// Keeps a connection from [`Store::second_connection`] for the next query.
    pub fn return_connection(&self, second: Store) {
        if let Ok(mut spare) = self.spare.try_borrow_mut() {
            *spare = Some(Box::new(second));
        }
    }

    /// What opening the store said, e.g. where a migration moved the token
    /// that an older refboard kept in the database; the caller shows it.
    pub fn open_notices(&self) -> &[String] {
        &self.open_notices
    }

    /// The backend API token, from the keyring or the 0600 file (never the database).
    pub fn backend_token(&self) -> Result<Option<String>, StoreError> {
        Ok(crate::secrets::load_token(&self.path)?)
    }

    /// Saves the backend API token outside the database; says where it went.
    pub fn set_backend_token(
        &mut self,
        token: &str,
    ) -> Result<crate::secrets::TokenPlace, StoreError> {
        Ok(crate::secrets::save_token(&self.path, token)?)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Reads a setting.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// Writes a setting.
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    /// The underlying connection, for the layers that run their own queries (sync, stats).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Reads a 0/1 column as bool.
fn flag(v: i64) -> bool {
    v != 0
}
