//! A bulk export: a whole campaign or page into a folder, with
//! `links.csv` and optional print sheets.
//!
//! Files are written to a temporary name and renamed into place. A bulk
//! export renders every file into a staging folder on all cores, decodes
//! each code it wrote (the proof of scan, see [`crate::codes::proof`]), and only
//! then publishes: every file is renamed into place, and if one rename
//! fails, the files already moved are taken back and the files they
//! replaced are restored, so the folder ends either fully exported or
//! exactly as it was.

use super::items::{Rendered, unique_stems};
use super::links_csv::links_csv;
use super::one::{render_code, render_verified, too_long};
use super::sheet::{SHEET_COLS, SHEET_ROWS, sheets};
use super::verify::{verify_code, verify_pdf, verify_svg_sheet};
use super::{ExportError, Format, io_err};
use crate::codes::{QrMatrix, QrStyle};
use crate::model::{ExportItem, ValidationError};
use crate::print::PrintOptions;
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Options of a bulk export.
#[derive(Debug, Clone)]
pub struct BulkOptions {
    /// One file per link per format.
    pub formats: Vec<Format>,
    /// How codes look.
    pub style: QrStyle,
    /// Also write printable SVG sheets (`sheet.svg`, or `sheet-1.svg`, … when several pages).
    pub sheet: bool,
    /// Also write a print-ready PDF (`sheet.pdf`) in this layout.
    pub pdf: Option<PrintOptions>,
    /// Allow a contrast below the hard floor (`--force`).
    pub force: bool,
    /// Decode every written code (proof of scan); off only to measure its cost.
    pub verify: bool,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            formats: vec![Format::Png],
            style: QrStyle::default(),
            sheet: false,
            pdf: None,
            force: false,
            verify: true,
        }
    }
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

/// Exports every item into `dir` (created if missing): all of it, or
/// nothing (see the module header).
///
/// `progress(done, total)` is called after each link; returning `false`
/// cancels the export, and then nothing is written.
pub fn export_bulk(
    dir: &Path,
    items: &[ExportItem],
    options: &BulkOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<ExportReport, ExportError> {
    if options.formats.is_empty() && !options.sheet && options.pdf.is_none() {
        return Err(ExportError::Invalid(ValidationError::new(
            "format",
            "",
            "choose at least one format, or a sheet",
        )));
    }
    if let Some(print) = &options.pdf {
        // Before any code is rendered: a bad offset is refused at once.
        print.check()?;
    }
    let mut warnings: Vec<String> = options
        .style
        .check_forced(options.force)?
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
    let stems = unique_stems(items);
    let svg_sheets = if options.sheet {
        sheet_names(items.len())
    } else {
        Vec::new()
    };
    let mut names: Vec<String> = Vec::new();
    for stem in &stems {
        for format in &options.formats {
            names.push(format!("{stem}.{}", format.extension()));
        }
    }
    names.push("links.csv".into());
    names.extend(svg_sheets.iter().cloned());
    if options.pdf.is_some() {
        names.push(PDF_SHEET.into());
    }
    refuse_folders_in_the_way(dir, &names)?;

    let created = !dir.exists();
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let result = stage_and_publish(dir, items, &stems, &svg_sheets, options, progress);
    if result.is_err() && created {
        // Only succeeds while empty: a failed export leaves no new folder.
        let _ = std::fs::remove_dir(dir);
    }
    let (files, item_warnings) = result?;
    warnings.extend(item_warnings);
    Ok(ExportReport {
        links: items.len(),
        files,
        warnings,
    })
}

/// Name of the PDF a bulk export writes.
pub const PDF_SHEET: &str = "sheet.pdf";

/// `sheet.svg`, or `sheet-1.svg`, … when the links need several pages.
fn sheet_names(links: usize) -> Vec<String> {
    let pages = links.div_ceil(SHEET_COLS * SHEET_ROWS);
    if pages <= 1 {
        return vec!["sheet.svg".into()];
    }
    (1..=pages).map(|n| format!("sheet-{n}.svg")).collect()
}

/// Refuses before any work when a folder (or anything but a file) sits
/// where an exported file goes: refboard replaces files, never folders.
fn refuse_folders_in_the_way(dir: &Path, names: &[String]) -> Result<(), ExportError> {
    for name in names {
        let path = dir.join(name);
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && !meta.is_file()
        {
            return Err(ExportError::Invalid(ValidationError::new(
                "dir",
                &path.display().to_string(),
                format!(
                    "something that is not a file is where {name} goes; refboard replaces files only, so move it away"
                ),
            )));
        }
    }
    Ok(())
}

/// Renders everything into a staging folder inside `dir`, then publishes.
fn stage_and_publish(
    dir: &Path,
    items: &[ExportItem],
    stems: &[String],
    svg_sheets: &[String],
    options: &BulkOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<(Vec<PathBuf>, Vec<String>), ExportError> {
    let staging = tempfile::Builder::new()
        .prefix(".refboard-export-")
        .tempdir_in(dir)
        .map_err(io_err(dir))?;
    let rendered = render_all(staging.path(), items, stems, options, progress)?;
    let mut names: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    for r in &rendered {
        names.extend(r.files.iter().cloned());
        warnings.extend(r.warnings.iter().cloned());
    }
    let verified = if options.verify { "yes" } else { "no" };
    let csv = links_csv(items, &rendered, verified)?;
    stage_file(staging.path(), "links.csv", &csv)?;
    names.push("links.csv".into());
    if options.sheet {
        let pages = sheets(items, &options.style)?;
        for ((name, svg), chunk) in svg_sheets
            .iter()
            .zip(pages)
            .zip(items.chunks(SHEET_COLS * SHEET_ROWS))
        {
            if options.verify {
                verify_svg_sheet(&svg, chunk, name)?;
            }
            stage_file(staging.path(), name, svg.as_bytes())?;
            names.push(name.clone());
        }
    }
    if let Some(print) = &options.pdf {
        let pdf = crate::print::render_pdf(items, print, &options.style)?;
        if options.verify {
            verify_pdf(&pdf, PDF_SHEET)?;
        }
        warnings.extend(pdf.notes.iter().cloned());
        stage_file(staging.path(), PDF_SHEET, &pdf.bytes)?;
        names.push(PDF_SHEET.into());
    }
    let files = publish(dir, staging.path(), &names)?;
    Ok((files, warnings))
}

/// Writes one staged file with the permissions of a normal saved file.
fn stage_file(staging: &Path, name: &str, bytes: &[u8]) -> Result<(), ExportError> {
    let path = staging.join(name);
    std::fs::write(&path, bytes).map_err(io_err(&path))
}

/// Renders and proves every link's files on all cores, reporting progress
/// from the calling thread and stopping early on cancel or the first error.
fn render_all(
    staging: &Path,
    items: &[ExportItem],
    stems: &[String],
    options: &BulkOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Vec<Rendered>, ExportError> {
    let cancelled = AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let total = items.len();
    let result = std::thread::scope(|scope| {
        let cancelled = &cancelled;
        let worker = scope.spawn(move || {
            items
                .par_iter()
                .zip(stems)
                .map_with(tx, |tx, (item, stem)| {
                    if cancelled.load(Ordering::Relaxed) {
                        return Err(ExportError::Cancelled);
                    }
                    let r = render_item(staging, item, stem, options);
                    let _ = tx.send(());
                    r
                })
                .collect::<Result<Vec<Rendered>, ExportError>>()
        });
        // The channel closes when every worker is done; progress and cancel
        // stay on the caller's thread.
        let mut done = 0;
        for () in rx {
            done += 1;
            if !cancelled.load(Ordering::Relaxed) && !progress(done, total) {
                cancelled.store(true, Ordering::Relaxed);
            }
        }
        worker
            .join()
            .unwrap_or_else(|_| Err(ExportError::Cancelled))
    });
    if cancelled.load(Ordering::Relaxed) {
        return Err(ExportError::Cancelled);
    }
    if total == 0 {
        progress(0, 0);
    }
    result
}

/// Renders, proves and stages one link's files.
fn render_item(
    staging: &Path,
    item: &ExportItem,
    stem: &str,
    options: &BulkOptions,
) -> Result<Rendered, ExportError> {
    let style = &options.style;
    let matrix = QrMatrix::for_style(&item.url, style).map_err(|e| too_long(item, e))?;
    let mut files = Vec::new();
    for format in &options.formats {
        let name = format!("{stem}.{}", format.extension());
        let bytes = match format {
            Format::Pdf => render_verified(*format, item, style, &PrintOptions::default(), &name)?,
            _ => {
                let bytes = render_code(*format, item, &matrix, style)?;
                if options.verify {
                    verify_code(*format, item, &matrix, style, &bytes).map_err(|reason| {
                        ExportError::Proof {
                            ref_code: item.ref_code.clone(),
                            file: name.clone(),
                            reason,
                        }
                    })?;
                }
                bytes
            }
        };
        stage_file(staging, &name, &bytes)?;
        files.push(name);
    }
    let warnings = crate::codes::module_size_warning(&matrix, style)
        .into_iter()
        .map(|w| format!("{}: {w}", item.ref_code))
        .collect();
    Ok(Rendered { files, warnings })
}

/// Moves every staged file into `dir`, all or nothing: a file that would be
/// replaced is first set aside in the staging folder; if any step fails,
/// the moved files are taken back and the set-aside ones restored.
fn publish(dir: &Path, staging: &Path, names: &[String]) -> Result<Vec<PathBuf>, ExportError> {
    let aside = staging.join(".replaced");
    std::fs::create_dir(&aside).map_err(io_err(&aside))?;
    let mut moved: Vec<(&str, bool)> = Vec::new();
    for name in names {
        match publish_one(dir, staging, &aside, name) {
            Ok(replaced) => moved.push((name, replaced)),
            Err(e) => {
                for (name, replaced) in moved.iter().rev() {
                    let _ = std::fs::remove_file(dir.join(name));
                    if *replaced {
                        let _ = std::fs::rename(aside.join(name), dir.join(name));
                    }
                }
                return Err(e);
            }
        }
    }
    let mut files: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    files.sort();
    Ok(files)
}

/// Moves one staged file into place; returns whether it replaced a file.
fn publish_one(dir: &Path, staging: &Path, aside: &Path, name: &str) -> Result<bool, ExportError> {
    let to = dir.join(name);
    let replaced = match std::fs::symlink_metadata(&to) {
        Ok(_) => {
            std::fs::rename(&to, aside.join(name)).map_err(io_err(&to))?;
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err(&to)(e)),
    };
    if let Err(e) = std::fs::rename(staging.join(name), &to) {
        if replaced {
            let _ = std::fs::rename(aside.join(name), &to);
        }
        return Err(io_err(&to)(e));
    }
    Ok(replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_failing_half_way_puts_every_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        std::fs::write(out.join("a.png"), b"old a").unwrap();
        std::fs::write(out.join("c.png"), b"old c").unwrap();
        let staging = out.join(".staging");
        std::fs::create_dir(&staging).unwrap();
        let names: Vec<String> = ["a.png", "b.png", "c.png", "d.png"]
            .iter()
            .map(|n| n.to_string())
            .collect();
        for n in &names {
            std::fs::write(staging.join(n), format!("new {n}")).unwrap();
        }
        // The third file vanishes from staging: its rename fails after two
        // files were already published.
        std::fs::remove_file(staging.join("c.png")).unwrap();
        assert!(publish(out, &staging, &names).is_err());
        assert_eq!(std::fs::read(out.join("a.png")).unwrap(), b"old a");
        assert_eq!(std::fs::read(out.join("c.png")).unwrap(), b"old c");
        assert!(!out.join("b.png").exists() && !out.join("d.png").exists());
    }
}
