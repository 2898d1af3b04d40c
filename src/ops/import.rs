//! Importing webhook bodies from files. A file that cannot be opened or
//! read is reported and the next one is imported anyway, as ripgrep does;
//! the store failing stops the import. Each file's referrals are committed
//! as they are read, so importing a file again counts nothing twice.

use crate::import::{ImportError, ImportReport, import_reader_with_goals};
use crate::relay::Goal;
use crate::store::Store;
use std::path::{Path, PathBuf};

/// The path that means standard input (the CLI's `-`).
pub const STDIN: &str = "-";

/// Why one file was not (wholly) imported.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be opened.
    #[error(transparent)]
    Open(std::io::Error),
    /// Reading it failed part-way; the bodies before stay imported.
    #[error(transparent)]
    Import(ImportError),
}

/// What happened to one file.
pub type FileOutcome = Result<ImportReport, FileError>;

/// What an import of several files did.
#[derive(Debug, Default)]
pub struct Imported {
    /// The sums over the files imported.
    pub total: ImportReport,
    /// Files that could not be imported (or only in part), with why.
    pub failed: Vec<(PathBuf, FileError)>,
    /// Files tried before the import stopped (all of them unless cancelled).
    pub files_done: usize,
    /// The caller cancelled between files or inside one.
    pub cancelled: bool,
}

/// The store failed while importing `path`: no reason to try the next file.
#[derive(Debug)]
pub struct ImportStopped {
    /// The file being imported.
    pub path: PathBuf,
    /// The store's error, as the import gave it.
    pub error: ImportError,
    /// What the files before it imported.
    pub so_far: Imported,
}

/// Imports `paths` in turn (`-` is standard input). `each` is told each
/// file's outcome as it ends; `keep_going` is asked between files and
/// batches and stops the import when false.
pub fn import_files(
    store: &mut Store,
    paths: &[PathBuf],
    each: &mut dyn FnMut(usize, &Path, &FileOutcome),
    keep_going: &mut dyn FnMut() -> bool,
) -> Result<Imported, Box<ImportStopped>> {
    import_files_with_goals(store, paths, &[], each, keep_going)
}

/// [`import_files`] where postback and quick-reply payloads matching
/// `goals` become conversions (`refboard import --goal`, issue 21).
pub fn import_files_with_goals(
    store: &mut Store,
    paths: &[PathBuf],
    goals: &[Goal],
    each: &mut dyn FnMut(usize, &Path, &FileOutcome),
    keep_going: &mut dyn FnMut() -> bool,
) -> Result<Imported, Box<ImportStopped>> {
    let mut done = Imported::default();
    for (i, path) in paths.iter().enumerate() {
        if !keep_going() {
            done.cancelled = true;
            break;
        }
        let outcome = import_file(store, path, goals, keep_going);
        each(i, path, &outcome);
        done.files_done = i + 1;
        match outcome {
            Ok(report) => done.total.add(report),
            Err(FileError::Import(error @ ImportError::Store(_))) => {
                return Err(Box::new(ImportStopped {
                    path: path.clone(),
                    error,
                    so_far: done,
                }));
            }
            Err(e) => done.failed.push((path.clone(), e)),
        }
    }
    Ok(done)
}

/// Imports one file, `-` being standard input.
fn import_file(
    store: &mut Store,
    path: &Path,
    goals: &[Goal],
    keep_going: &mut dyn FnMut() -> bool,
) -> FileOutcome {
    if path.as_os_str() == STDIN {
        return import_reader_with_goals(store, std::io::stdin().lock(), goals, keep_going)
            .map_err(FileError::Import);
    }
    let input = std::fs::File::open(path).map_err(FileError::Open)?;
    import_reader_with_goals(store, input, goals, keep_going).map_err(FileError::Import)
}
