//! `refboard install-desktop`: the real binary writes a .desktop entry and the
//! icon under a temp XDG_DATA_HOME.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use assert_cmd::Command;

#[test]
fn install_desktop_writes_the_entry_and_icon_under_xdg_data_home() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_refboard"))
        .arg("install-desktop")
        .env("XDG_DATA_HOME", data.path())
        .env("HOME", "/nonexistent-home")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entry_path = data.path().join("applications/refboard.desktop");
    let icon_path = data.path().join("icons/hicolor/256x256/apps/refboard.png");
    let entry = std::fs::read_to_string(&entry_path).unwrap();
    let program = std::fs::canonicalize(env!("CARGO_BIN_EXE_refboard")).unwrap();
    assert!(entry.starts_with("[Desktop Entry]\n"), "{entry}");
    assert!(
        entry.contains(&format!("Exec={} gui\n", program.display())),
        "{entry}"
    );
    assert!(entry.contains("Icon=refboard\n"));
    assert!(entry.contains("StartupWMClass=refboard\n"));
    assert!(entry.contains("Type=Application\n"));
    assert_eq!(
        std::fs::read(&icon_path).unwrap(),
        refboard::desktop::ICON_PNG
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&entry_path.display().to_string()),
        "{stdout}"
    );
    // Running it again replaces the files in place.
    let again = Command::new(env!("CARGO_BIN_EXE_refboard"))
        .arg("install-desktop")
        .env("XDG_DATA_HOME", data.path())
        .output()
        .unwrap();
    assert!(again.status.success());
}

#[test]
fn install_desktop_without_a_data_folder_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_refboard"))
        .arg("install-desktop")
        .env_remove("XDG_DATA_HOME")
        .env_remove("HOME")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("XDG_DATA_HOME"), "{err}");
}
