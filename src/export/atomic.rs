//! Writing one file all or nothing: a temporary file in the same folder,
//! synced, then renamed over the target (or refused when it exists and
//! replacing was not asked for).

use super::{ExportError, io_err};
use crate::model::{Hint, ValidationError};
use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    write_atomic_with(path, bytes, true)
}

/// Like [`write_atomic`]; unless `replace`, an existing `path` is an error
/// and is left as it was (checked again at the rename, so a file that
/// appears meanwhile is not replaced either).
pub fn write_atomic_with(path: &Path, bytes: &[u8], replace: bool) -> Result<(), ExportError> {
    if !replace && std::fs::symlink_metadata(path).is_ok() {
        return Err(exists_error(path));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(ExportError::Invalid(ValidationError::new(
            "output",
            &path.display().to_string(),
            "the folder does not exist",
        )));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".refboard-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    tmp.write_all(bytes).map_err(io_err(path))?;
    // Temp files are private (0600); an exported image should be as readable
    // as any file the user saves.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io_err(path))?;
    }
    tmp.as_file().sync_all().map_err(io_err(path))?;
    let persisted = if replace {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    };
    persisted.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            exists_error(path)
        } else {
            ExportError::Io {
                source: e.error,
                path: path.display().to_string(),
            }
        }
    })?;
    Ok(())
}

pub(super) fn exists_error(path: &Path) -> ExportError {
    ExportError::Invalid(
        ValidationError::new("output", &path.display().to_string(), "the file exists")
            .with_hint(Hint::Overwrite),
    )
}
