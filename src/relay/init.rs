//! `refboard relay init DIR`: a private env file with generated secrets, so a
//! bot developer starts from strong tokens instead of typing their own.

use crate::model::ValidationError;
use crate::store::{StoreError, random_key};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the env file written into the directory.
pub const ENV_FILE: &str = "relay.env";

/// Writes `DIR/relay.env` (mode 0600) with a generated verify token and API
/// token. The app secret comes from Meta's App Dashboard, so it is copied
/// from `app_secret` when given and otherwise left empty for the user to
/// fill in. An existing file is never overwritten. Returns the file's path.
pub fn init_env_file(dir: &Path, app_secret: Option<&str>) -> Result<PathBuf, InitError> {
    let path = dir.join(ENV_FILE);
    if path.exists() {
        return Err(ValidationError::new(
            "DIR",
            &dir.display().to_string(),
            format!(
                "{ENV_FILE} already exists there; it is never overwritten (move it away first)"
            ),
        )
        .into());
    }
    std::fs::create_dir_all(dir).map_err(|e| InitError::Io(dir.display().to_string(), e))?;
    let verify = hex::encode(random_key()?);
    let api = hex::encode(random_key()?);
    let secret = app_secret.unwrap_or("");
    let text = format!(
        "# refboard relay settings, made by `refboard relay init`. Keep this file private (mode 0600).\n\
         # App secret: Meta App Dashboard -> App settings -> Basic -> App secret.\n\
         REFBOARD_APP_SECRET={secret}\n\
         # Type this into the webhook's \"Verify token\" field in the App Dashboard.\n\
         REFBOARD_VERIFY_TOKEN={verify}\n\
         # The dashboard syncs with this: refboard sync --backend https://HOST --token-file FILE\n\
         REFBOARD_API_TOKEN={api}\n\
         # SQLite by default; for several relays set a PostgreSQL URL instead:\n\
         # REFBOARD_RELAY_DATABASE=postgres://refboard:PASSWORD@127.0.0.1:5432/refboard\n"
    );
    write_private(&path, text.as_bytes())
        .map_err(|e| InitError::Io(path.display().to_string(), e))?;
    Ok(path)
}

/// Writes a 0600 temp file beside `path` and renames it into place, so the
/// file is never readable by others nor half-written.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".relay-env-")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    // persist_noclobber: a file created meanwhile is not replaced.
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}

/// Why `relay init` failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The directory already has an env file, or similar bad input.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// No random bytes.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file system refused.
    #[error("cannot write {0}: {1}")]
    Io(String, std::io::Error),
}
