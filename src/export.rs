//! Writing QR codes to disk: one file, or a whole campaign or page into a
//! folder with `links.csv` and optional print sheets.
//!
//! Files are written to a temporary name and renamed into place; a bulk
//! export renders everything into a staging folder first, so a failure
//! leaves no half-written files behind.

use crate::model::{ValidationError, Warning};
use crate::qr::{
    Caption, QrError, QrMatrix, QrStyle, module_path, render_png, render_svg, xml_escape,
};
use serde::Serialize;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// What can go wrong while exporting.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Rendering failed or an option was bad.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// The output name or folder is not usable: field, value and rule.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// Writing failed.
    #[error("cannot write ({source}): {path}")]
    Io {
        /// Underlying error.
        source: std::io::Error,
        /// The file or folder.
        path: String,
    },
    /// CSV encoding failed.
    #[error("cannot write links.csv: {0}")]
    Csv(#[from] csv::Error),
    /// The user cancelled a bulk export; nothing was written.
    #[error("export cancelled; nothing was written")]
    Cancelled,
}

impl ExportError {
    /// True when the user's input caused the error.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            ExportError::Invalid(_)
                | ExportError::Qr(QrError::Invalid(_) | QrError::TooLong { .. })
        )
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        source,
        path: path.display().to_string(),
    }
}

/// An image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Format {
    /// Raster PNG.
    Png,
    /// Vector SVG.
    Svg,
}

impl Format {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }

    /// The format a path's extension names.
    pub fn from_path(path: &Path) -> Result<Self, ExportError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        ext.parse().map_err(|_| {
            ExportError::Invalid(ValidationError::new(
                "output",
                &path.display().to_string(),
                "the file name must end in .png or .svg",
            ))
        })
    }
}

impl FromStr for Format {
    type Err = ExportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            _ => Err(ExportError::Invalid(ValidationError::new(
                "format",
                s,
                "use png, svg or png,svg",
            ))),
        }
    }
}

/// Renders one code in `format`.
pub fn render(
    format: Format,
    url: &str,
    caption: Option<Caption<'_>>,
    style: &QrStyle,
) -> Result<Vec<u8>, QrError> {
    match format {
        Format::Png => render_png(url, caption, style),
        Format::Svg => render_svg(url, caption, style).map(String::into_bytes),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
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
    tmp.persist(path).map_err(|e| ExportError::Io {
        source: e.error,
        path: path.display().to_string(),
    })?;
    Ok(())
}

/// Exports one code to `path`, the format taken from its extension.
/// Returns the style warnings.
pub fn export_one(
    path: &Path,
    url: &str,
    caption: Option<Caption<'_>>,
    style: &QrStyle,
) -> Result<Vec<Warning>, ExportError> {
    let format = Format::from_path(path)?;
    let warnings = crate::qr::warnings_for(url, style)?;
    let bytes = render(format, url, caption, style)?;
    write_atomic(path, &bytes)?;
    Ok(warnings)
}

/// One link to export.
#[derive(Debug, Clone, Serialize)]
pub struct ExportItem {
    /// Campaign name.
    pub campaign: String,
    /// Channel name.
    pub channel: String,
    /// Ref code.
    #[serde(rename = "ref")]
    pub ref_code: String,
    /// The m.me URL.
    pub url: String,
    /// Call to action.
    pub cta: String,
}

impl From<crate::store::LinkRow> for ExportItem {
    fn from(r: crate::store::LinkRow) -> Self {
        Self {
            campaign: r.campaign_name,
            channel: r.channel_name,
            ref_code: r.link.ref_code,
            url: r.url,
            cta: r.link.cta,
        }
    }
}

/// Options of a bulk export.
#[derive(Debug, Clone)]
pub struct BulkOptions {
    /// One file per link per format.
    pub formats: Vec<Format>,
    /// How codes look.
    pub style: QrStyle,
    /// Also write printable sheets (`sheet.svg`, or `sheet-1.svg`, … when several pages).
    pub sheet: bool,
}

/// What a bulk export wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportReport {
    /// Links exported.
    pub links: usize,
    /// Every file written, `links.csv` and sheets included, sorted.
    pub files: Vec<PathBuf>,
    /// Warnings raised by the style or by individual links.
    pub warnings: Vec<String>,
}

/// File names Windows refuses whatever the extension.
const RESERVED_NAMES: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];
const MAX_STEM_CHARS: usize = 80;

/// A file stem that is safe on every platform, derived from a ref code.
///
/// Letters, digits, `_`, `-` and `=` are kept; anything else becomes `_`.
/// Long refs are cut and get a hash so that different refs keep different names.
pub fn safe_file_stem(ref_code: &str) -> String {
    let mut stem: String = ref_code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '=') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.len() > MAX_STEM_CHARS {
        stem.truncate(MAX_STEM_CHARS);
        let _ = write!(stem, "-{:08x}", fnv1a(ref_code.as_bytes()));
    }
    if stem.is_empty() || RESERVED_NAMES.contains(&stem.to_ascii_lowercase().as_str()) {
        stem.insert_str(0, "ref_");
    }
    stem
}

/// 32-bit FNV-1a, enough to tell long refs apart in file names.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// Gives each item a stem unique even on case-insensitive file systems.
fn unique_stems(items: &[ExportItem]) -> Vec<String> {
    let mut taken = HashSet::new();
    items
        .iter()
        .map(|item| {
            let base = safe_file_stem(&item.ref_code);
            let mut stem = base.clone();
            let mut n = 2;
            while !taken.insert(stem.to_ascii_lowercase()) {
                stem = format!("{base}-{n}");
                n += 1;
            }
            stem
        })
        .collect()
}

/// Exports every item into `dir` (created if missing).
///
/// `progress(done, total)` is called after each link; returning `false`
/// cancels the export, and then nothing is written.
pub fn export_bulk(
    dir: &Path,
    items: &[ExportItem],
    options: &BulkOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<ExportReport, ExportError> {
    if options.formats.is_empty() && !options.sheet {
        return Err(ExportError::Invalid(ValidationError::new(
            "format",
            "",
            "choose at least one format, or a sheet",
        )));
    }
    let mut warnings: Vec<String> = options
        .style
        .check()?
        .iter()
        .map(|w| w.to_string())
        .collect();
    if dir.exists() && !dir.is_dir() {
        return Err(ExportError::Invalid(ValidationError::new(
            "dir",
            &dir.display().to_string(),
            "exists and is not a folder",
        )));
    }
    // Render everything before touching the folder, so that errors write nothing.
    let stems = unique_stems(items);
    let mut staged: Vec<(String, Vec<u8>)> = Vec::new();
    let mut csv_rows = Vec::new();
    for (i, (item, stem)) in items.iter().zip(&stems).enumerate() {
        let caption = Caption {
            cta: &item.cta,
            url: &item.url,
        };
        let mut files = Vec::new();
        for format in &options.formats {
            let name = format!("{stem}.{}", format.extension());
            let bytes =
                render(*format, &item.url, Some(caption), &options.style).map_err(|e| match e {
                    QrError::TooLong { .. } => ExportError::Invalid(ValidationError::new(
                        "ref",
                        &item.ref_code.clone(),
                        e.to_string(),
                    )),
                    e => e.into(),
                })?;
            staged.push((name.clone(), bytes));
            files.push(name);
        }
        for w in crate::qr::warnings_for(&item.url, &options.style)?
            .into_iter()
            .filter(|w| w.field == "size")
        {
            warnings.push(format!("{}: {w}", item.ref_code));
        }
        csv_rows.push((item, files.join(";")));
        if !progress(i + 1, items.len()) {
            return Err(ExportError::Cancelled);
        }
    }
    // Through the one CSV writer, which neutralises formula cells.
    let csv_bytes = crate::csv_safe::to_bytes(
        &["campaign", "channel", "ref", "url", "cta", "files"],
        csv_rows.iter().map(|(item, files)| {
            [
                item.campaign.as_str(),
                item.channel.as_str(),
                item.ref_code.as_str(),
                item.url.as_str(),
                item.cta.as_str(),
                files.as_str(),
            ]
        }),
    )?;
    staged.push(("links.csv".into(), csv_bytes));
    if options.sheet {
        let sheets = sheets(items, &options.style)?;
        let many = sheets.len() > 1;
        for (n, svg) in sheets.into_iter().enumerate() {
            let name = if many {
                format!("sheet-{}.svg", n + 1)
            } else {
                "sheet.svg".into()
            };
            staged.push((name, svg.into_bytes()));
        }
    }

    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let staging = tempfile::Builder::new()
        .prefix(".refboard-export-")
        .tempdir_in(dir)
        .map_err(io_err(dir))?;
    for (name, bytes) in &staged {
        let path = staging.path().join(name);
        std::fs::write(&path, bytes).map_err(io_err(&path))?;
    }
    let mut files = Vec::new();
    for (name, _) in &staged {
        let to = dir.join(name);
        std::fs::rename(staging.path().join(name), &to).map_err(io_err(&to))?;
        files.push(to);
    }
    files.sort();
    Ok(ExportReport {
        links: items.len(),
        files,
        warnings,
    })
}

/// A4 portrait in millimetres, 3 × 4 codes a sheet.
const SHEET_W_MM: f64 = 210.0;
const SHEET_H_MM: f64 = 297.0;
const SHEET_COLS: usize = 3;
const SHEET_ROWS: usize = 4;
const SHEET_MARGIN_MM: f64 = 10.0;

/// Print sheets: a grid of codes with their CTA, ref and link, as SVG pages.
pub fn sheets(items: &[ExportItem], style: &QrStyle) -> Result<Vec<String>, QrError> {
    let cell_w = (SHEET_W_MM - 2.0 * SHEET_MARGIN_MM) / SHEET_COLS as f64;
    let cell_h = (SHEET_H_MM - 2.0 * SHEET_MARGIN_MM) / SHEET_ROWS as f64;
    let code_mm = cell_w.min(cell_h - 18.0) - 6.0;
    let font = "'DejaVu Sans', Verdana, Arial, sans-serif";
    let mut pages = Vec::new();
    for chunk in items.chunks(SHEET_COLS * SHEET_ROWS) {
        let mut svg = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{SHEET_W_MM}mm" height="{SHEET_H_MM}mm" viewBox="0 0 {SHEET_W_MM} {SHEET_H_MM}" shape-rendering="crispEdges">
<rect width="{SHEET_W_MM}" height="{SHEET_H_MM}" fill="{}"/>
"#,
            style.bg
        );
        for (i, item) in chunk.iter().enumerate() {
            let matrix = QrMatrix::encode(&item.url, style.ecc)?;
            let modules = f64::from(matrix.width + 2 * style.quiet_zone_modules);
            let module = code_mm / modules;
            let x = SHEET_MARGIN_MM + (i % SHEET_COLS) as f64 * cell_w + (cell_w - code_mm) / 2.0;
            let y = SHEET_MARGIN_MM + (i / SHEET_COLS) as f64 * cell_h;
            let q = f64::from(style.quiet_zone_modules) * module;
            let cx = SHEET_MARGIN_MM + (i % SHEET_COLS) as f64 * cell_w + cell_w / 2.0;
            let _ = writeln!(
                svg,
                r#"<path fill="{}" d="{}"/>"#,
                style.fg,
                module_path(&matrix, x + q, y + q, module)
            );
            let mut ty = y + code_mm + 4.0;
            for (text, size) in [
                (item.cta.as_str(), 3.4),
                (item.ref_code.as_str(), 2.8),
                (item.url.as_str(), 2.2),
            ] {
                if text.is_empty() {
                    continue;
                }
                let shown = crate::model::shorten_text(text, 60);
                let _ = writeln!(
                    svg,
                    r#"<text x="{cx:.2}" y="{ty:.2}" font-family="{font}" font-size="{size}" text-anchor="middle" fill="{}">{}</text>"#,
                    style.fg,
                    xml_escape(&shown)
                );
                ty += size * 1.4;
            }
        }
        svg.push_str("</svg>\n");
        pages.push(svg);
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe_and_distinct() {
        assert_eq!(safe_file_stem("freeshipping"), "freeshipping");
        assert_eq!(safe_file_stem("summer/2024.v1"), "summer_2024_v1");
        assert_eq!(safe_file_stem("münchen"), "m_nchen");
        assert_eq!(safe_file_stem("CON"), "ref_CON");
        let a = safe_file_stem(&"a".repeat(300));
        let b = safe_file_stem(&format!("{}b", "a".repeat(299)));
        assert_ne!(a, b);
        assert!(a.len() <= MAX_STEM_CHARS + 9);
        let item = |r: &str| ExportItem {
            campaign: "c".into(),
            channel: "c".into(),
            ref_code: r.into(),
            url: String::new(),
            cta: String::new(),
        };
        let stems = unique_stems(&[item("FBad"), item("fbad"), item("a/b"), item("a.b")]);
        assert_eq!(stems, ["FBad", "fbad-2", "a_b", "a_b-2"]);
    }

    #[test]
    fn formats() {
        assert_eq!(
            Format::from_path(Path::new("x/code.PNG")).unwrap(),
            Format::Png
        );
        assert!(
            Format::from_path(Path::new("code.jpg"))
                .unwrap_err()
                .to_string()
                .contains(".png or .svg")
        );
        assert!("gif".parse::<Format>().is_err());
    }
}
