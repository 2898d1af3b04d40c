//! The backend API token, kept out of the database.
//!
//! It goes to the OS keyring (Secret Service, Keychain or Credential Manager,
//! through the `keyring` crate), under the service `refboard` and an account
//! named after the database file. Where no keyring answers (headless
//! machines, CI), it goes to a file beside the database, `<db>.token`,
//! readable by its owner only (0600); [`TokenPlace::File`] tells the caller
//! so, and the caller says it once, when the token is saved.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Set to `file` to skip the keyring and always use the 0600 file (servers,
/// tests).
pub const SECRET_STORE_ENV: &str = "REFBOARD_SECRET_STORE";
/// Keyring service name.
const SERVICE: &str = "refboard";

/// Where a saved token went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenPlace {
    /// The OS keyring.
    Keyring,
    /// A 0600 file, because no keyring is available.
    File(PathBuf),
}

impl TokenPlace {
    /// The one-time notice for the user when the token went to a file, else `None`.
    pub fn notice(&self) -> Option<String> {
        match self {
            TokenPlace::Keyring => None,
            TokenPlace::File(p) => Some(format!(
                "no OS keyring is available here, so the API token is kept in {}, readable only by you (0600)",
                p.display()
            )),
        }
    }
}

/// What can go wrong keeping the token.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The token file could not be read or written.
    #[error("cannot keep the API token in {path} ({source})")]
    Io {
        /// Underlying I/O error.
        source: std::io::Error,
        /// The token file.
        path: String,
    },
}

/// The fallback file for `db`'s token: `<db>.token`.
pub fn token_file(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".token");
    PathBuf::from(name)
}

/// The keyring entry for `db`, unless the file store is forced.
fn keyring_entry(db: &Path) -> Option<keyring::Entry> {
    if std::env::var(SECRET_STORE_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("file")) {
        return None;
    }
    let db = std::path::absolute(db).unwrap_or_else(|_| db.to_path_buf());
    keyring::Entry::new(SERVICE, &format!("backend_token:{}", db.display())).ok()
}

/// Saves `db`'s token in the keyring, or in the 0600 file where there is none.
pub fn save_token(db: &Path, token: &str) -> Result<TokenPlace, SecretError> {
    if let Some(entry) = keyring_entry(db)
        && entry.set_password(token).is_ok()
    {
        // A file left from a headless session would otherwise shadow nothing
        // but still hold the old token.
        remove_file(&token_file(db))?;
        return Ok(TokenPlace::Keyring);
    }
    save_token_to_file(db, token)
}

/// Saves `db`'s token in the 0600 file only (throwaway databases, e.g. the
/// demo's, must not leave entries in the user's keyring).
pub fn save_token_to_file(db: &Path, token: &str) -> Result<TokenPlace, SecretError> {
    let path = token_file(db);
    write_private(&path, token.as_bytes()).map_err(|source| SecretError::Io {
        source,
        path: path.display().to_string(),
    })?;
    Ok(TokenPlace::File(path))
}

/// `db`'s token from the keyring, else from the file; `None` when neither has one.
pub fn load_token(db: &Path) -> Result<Option<String>, SecretError> {
    if let Some(entry) = keyring_entry(db)
        && let Ok(token) = entry.get_password()
    {
        return Ok(Some(token));
    }
    let path = token_file(db);
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SecretError::Io {
            source,
            path: path.display().to_string(),
        }),
    }
}

/// The fallback file for a page's access token: `<db>.page-<page_id>.token`.
pub fn page_token_file(db: &Path, page_id: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(format!(".page-{page_id}.token"));
    PathBuf::from(name)
}

/// The keyring entry for a page's access token, unless the file store is forced.
fn page_keyring_entry(db: &Path, page_id: &str) -> Option<keyring::Entry> {
    if std::env::var(SECRET_STORE_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("file")) {
        return None;
    }
    let db = std::path::absolute(db).unwrap_or_else(|_| db.to_path_buf());
    keyring::Entry::new(SERVICE, &format!("page_token:{}:{page_id}", db.display())).ok()
}

/// Saves page `page_id`'s access token as the API token is kept: the
/// keyring, else a 0600 file beside the database.
pub fn save_page_token(db: &Path, page_id: &str, token: &str) -> Result<TokenPlace, SecretError> {
    let path = page_token_file(db, page_id);
    if let Some(entry) = page_keyring_entry(db, page_id)
        && entry.set_password(token).is_ok()
    {
        remove_file(&path)?;
        return Ok(TokenPlace::Keyring);
    }
    write_private(&path, token.as_bytes()).map_err(|source| SecretError::Io {
        source,
        path: path.display().to_string(),
    })?;
    Ok(TokenPlace::File(path))
}

/// Page `page_id`'s access token from the keyring, else the file; `None` when neither has one.
pub fn load_page_token(db: &Path, page_id: &str) -> Result<Option<String>, SecretError> {
    if let Some(entry) = page_keyring_entry(db, page_id)
        && let Ok(token) = entry.get_password()
    {
        return Ok(Some(token));
    }
    let path = page_token_file(db, page_id);
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(Some(t.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SecretError::Io {
            source,
            path: path.display().to_string(),
        }),
    }
}

fn remove_file(path: &Path) -> Result<(), SecretError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SecretError::Io {
            source,
            path: path.display().to_string(),
        }),
    }
}

/// Writes `bytes` to a temp file created 0600 beside `path`, then renames it
/// over `path`, so the token is never readable by others, even for a moment.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // tempfile creates its files 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(".refboard-token-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_are_kept_per_page_in_private_files() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        // The keyring path is left to the CLI tests (REFBOARD_SECRET_STORE=file
        // there); here the file's name and mode.
        let place = {
            let path = page_token_file(&db, "111222333");
            write_private(&path, b"EAApage1").unwrap();
            TokenPlace::File(path)
        };
        assert_eq!(
            place,
            TokenPlace::File(dir.path().join("a.db.page-111222333.token"))
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(page_token_file(&db, "111222333"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_ne!(
            page_token_file(&db, "111222333"),
            page_token_file(&db, "444555666")
        );
    }

    #[test]
    fn the_file_store_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        assert_eq!(token_file(&db), dir.path().join("a.db.token"));
        let place = save_token_to_file(&db, "t0k3n").unwrap();
        assert_eq!(place, TokenPlace::File(dir.path().join("a.db.token")));
        assert!(place.notice().unwrap().contains("0600"));
        assert_eq!(std::fs::read_to_string(token_file(&db)).unwrap(), "t0k3n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(token_file(&db))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
