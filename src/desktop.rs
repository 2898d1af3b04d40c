//! Desktop presence on Linux: the window icon, and `refboard install-desktop`,
//! which puts a `.desktop` entry and the icon under the user's data folder
//! (`$XDG_DATA_HOME`, else `~/.local/share`) so refboard shows in the
//! application menu.

use std::path::{Path, PathBuf};

/// The app id: the window class on X11 and Wayland, and the .desktop file's name.
pub const APP_ID: &str = "refboard";

/// The 256×256 icon, also set on the dashboard window.
pub const ICON_PNG: &[u8] = include_bytes!("../assets/refboard.png");

/// Where the files went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The `.desktop` entry.
    pub entry: PathBuf,
    /// The icon.
    pub icon: PathBuf,
}

/// The user's data folder: `$XDG_DATA_HOME` when set and absolute, else
/// `$HOME/.local/share` (the XDG base directory rules).
pub fn data_home() -> Option<PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".local").join("share"))
        })
}

/// Quotes a program path for the `Exec` key (Desktop Entry spec: reserved
/// characters need a quoted argument, with `"`, `` ` ``, `$` and `\` escaped).
fn exec_arg(program: &Path) -> String {
    let s = program.display().to_string();
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c));
    if plain {
        return s;
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    // In a desktop file a backslash itself is escaped once more.
    out.replace('\\', "\\\\")
}

/// The `.desktop` entry text for `program`.
pub fn desktop_entry(program: &Path) -> String {
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Version=1.5\n\
         Name=refboard\n\
         GenericName=Referral dashboard\n\
         Comment=m.me links, QR codes and referral charts for Messenger campaigns\n\
         Exec={} gui\n\
         Icon={}\n\
         Terminal=false\n\
         Categories=Office;Network;\n\
         StartupWMClass={}\n",
        exec_arg(program),
        APP_ID,
        APP_ID,
    )
}

/// Writes the entry and the icon under `data_home` for `program`; each file
/// goes to a temp file first and is then renamed.
pub fn install(data_home: &Path, program: &Path) -> Result<Installed, crate::export::ExportError> {
    let apps = data_home.join("applications");
    let icons = data_home.join("icons/hicolor/256x256/apps");
    for dir in [&apps, &icons] {
        std::fs::create_dir_all(dir).map_err(|e| crate::export::ExportError::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
    }
    let entry = apps.join(format!("{}.desktop", APP_ID));
    let icon = icons.join(format!("{}.png", APP_ID));
    crate::export::write_atomic(&icon, ICON_PNG)?;
    crate::export::write_atomic(&entry, desktop_entry(program).as_bytes())?;
    Ok(Installed { entry, icon })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_paths_are_quoted_when_needed() {
        assert_eq!(
            exec_arg(Path::new("/usr/bin/refboard")),
            "/usr/bin/refboard"
        );
        assert_eq!(
            exec_arg(Path::new("/opt/my apps/refboard")),
            "\"/opt/my apps/refboard\""
        );
        assert_eq!(exec_arg(Path::new("/a$b")), "\"/a\\\\$b\"");
    }

    #[test]
    fn the_icon_is_a_png() {
        assert_eq!(&ICON_PNG[..8], b"\x89PNG\r\n\x1a\n");
        assert!(eframe::icon_data::from_png_bytes(ICON_PNG).is_ok());
    }
}
