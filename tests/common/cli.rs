//! The built `refboard` binary on a real database in a temp dir: one
//! environment for every CLI test file (command builders and the
//! success/refusal checks they share).

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// A temp folder with a database path in it; commands run inside the folder.
pub struct Env {
    /// The folder every command runs in; removed when the Env drops.
    pub dir: tempfile::TempDir,
    /// The database every command is given with `--db`.
    pub db: PathBuf,
}

impl Env {
    /// An empty temp folder and `refboard.db` in it (not created yet).
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("refboard.db");
        Self { dir, db }
    }

    /// An Env around a folder and a database a test has already made.
    pub fn at(dir: tempfile::TempDir, db: PathBuf) -> Self {
        Self { dir, db }
    }

    /// The binary with `--db`, run in the folder, with no REFBOARD_DB or
    /// session bus inherited from the developer's shell.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_refboard"));
        c.env_remove("REFBOARD_DB")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .arg("--db")
            .arg(&self.db)
            .current_dir(self.dir.path());
        c
    }

    /// The same command as a std process, for spawning and watching.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_refboard"));
        c.env_remove("REFBOARD_DB")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .arg("--db")
            .arg(&self.db)
            .current_dir(self.dir.path());
        c
    }

    /// Runs a command that must succeed and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    }

    /// Runs a command that must fail with exit `code`, one error line holding
    /// each of `expect`, the database byte-for-byte unchanged and no other
    /// file in the folder changed.
    pub fn refused(&self, code: i32, args: &[&str], expect: &[&str]) {
        let db_before = std::fs::read(&self.db).ok();
        let files_before = files(self.dir.path());
        let mut assert = self.cmd().args(args).assert().code(code);
        for e in expect {
            assert = assert.stderr(predicate::str::contains(*e));
        }
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "one error line: {stderr}"
        );
        assert_eq!(
            std::fs::read(&self.db).ok(),
            db_before,
            "database changed by {args:?}"
        );
        assert_eq!(
            files(self.dir.path()),
            files_before,
            "files changed by {args:?}"
        );
    }

    /// A path inside the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Every file under `dir` with its bytes, sorted; databases and SQLite's
/// side files are left out (SQLite manages them; `refused` checks the db).
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if !name.ends_with("-wal") && !name.ends_with("-shm") && !name.ends_with(".db") {
                out.push((name, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}
