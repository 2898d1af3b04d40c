//! Writing QR codes to disk: one file, or a whole campaign or page into a
//! folder with `links.csv` and optional print sheets.
//!
//! Files are written to a temporary name and renamed into place. A bulk
//! export renders every file into a staging folder on all cores, decodes
//! each code it wrote (the proof of scan, see [`crate::codes::proof`]), and only
//! then publishes: every file is renamed into place, and if one rename
//! fails, the files already moved are taken back and the files they
//! replaced are restored, so the folder ends either fully exported or
//! exactly as it was.

use crate::codes::proof::ProofFailure;
use crate::codes::{
    Caption, QrError, QrMatrix, QrStyle, module_path, png_grid, render_png_with, render_svg_with,
    xml_escape,
};
use crate::model::{ExportItem, ValidationError, Warning};
use crate::print::{PrintError, PrintOptions};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// A written code did not decode to its link's URL.
    #[error("the code for {ref_code:?} in {file} does not scan: {reason}; nothing was written")]
    Proof {
        /// The link's ref code.
        ref_code: String,
        /// The file the code is in.
        file: String,
        /// What the decoder found.
        reason: ProofFailure,
    },
    /// A print layout could not be made.
    #[error(transparent)]
    Print(#[from] PrintError),
}

impl ExportError {
    /// True when the user's input caused the error.
    pub fn is_user_error(&self) -> bool {
        match self {
            ExportError::Invalid(_)
            | ExportError::Qr(QrError::Invalid(_) | QrError::TooLong { .. }) => true,
            ExportError::Print(p) => p.is_user_error(),
            _ => false,
        }
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
    /// Vector PDF with the font embedded: one flyer page per link.
    Pdf,
}

impl Format {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
            Format::Pdf => "pdf",
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
                "the file name must end in .png, .svg or .pdf",
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
            "pdf" => Ok(Format::Pdf),
            _ => Err(ExportError::Invalid(ValidationError::new(
                "format",
                s,
                "use png, svg, pdf or a list such as png,svg",
            ))),
        }
    }
}

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

fn exists_error(path: &Path) -> ExportError {
    ExportError::Invalid(ValidationError::new(
        "output",
        &path.display().to_string(),
        "the file exists; pass --force to replace it",
    ))
}

/// Exports one code to `path`, the format taken from its extension,
/// replacing an existing file (the dashboard asks first). Returns the style
/// warnings.
pub fn export_one(
    path: &Path,
    url: &str,
    caption: Option<Caption<'_>>,
    style: &QrStyle,
) -> Result<Vec<Warning>, ExportError> {
    let item = ExportItem {
        url: url.to_string(),
        cta: caption.map(|c| c.cta.to_string()).unwrap_or_default(),
        ..ExportItem::default()
    };
    let options = OneOptions {
        replace: true,
        ..OneOptions::default()
    };
    export_one_item(path, &item, style, &options)
}

/// Options of a single-file export.
#[derive(Debug, Clone, Default)]
pub struct OneOptions {
    /// Replace an existing file (`--force`); otherwise it is an error.
    pub replace: bool,
    /// Allow a contrast below the hard floor (`--force`).
    pub force_contrast: bool,
    /// Page layout of a PDF (flyer, paper, …).
    pub print: PrintOptions,
}

/// Exports one link's code to `path`, the format taken from its extension,
/// after decoding what is about to be written (proof of scan). Returns the
/// style warnings.
pub fn export_one_item(
    path: &Path,
    item: &ExportItem,
    style: &QrStyle,
    options: &OneOptions,
) -> Result<Vec<Warning>, ExportError> {
    let format = Format::from_path(path)?;
    let warnings = crate::codes::warnings_for_forced(&item.url, style, options.force_contrast)?;
    if !options.replace && std::fs::symlink_metadata(path).is_ok() {
        return Err(exists_error(path));
    }
    let file = path.display().to_string();
    let bytes = render_verified(format, item, style, &options.print, &file)?;
    write_atomic_with(path, &bytes, options.replace)?;
    Ok(warnings)
}

/// Renders one link in `format` and proves the code scans.
fn render_verified(
    format: Format,
    item: &ExportItem,
    style: &QrStyle,
    print: &PrintOptions,
    file: &str,
) -> Result<Vec<u8>, ExportError> {
    let proof_err = |reason| ExportError::Proof {
        ref_code: item.ref_code.clone(),
        file: file.to_string(),
        reason,
    };
    match format {
        Format::Png | Format::Svg => {
            let matrix = QrMatrix::for_style(&item.url, style).map_err(|e| too_long(item, e))?;
            let bytes = render_code(format, item, &matrix, style)?;
            verify_code(format, item, &matrix, style, &bytes).map_err(proof_err)?;
            Ok(bytes)
        }
        Format::Pdf => {
            let flyer = PrintOptions {
                layout: crate::print::PrintLayout::Flyer,
                ..print.clone()
            };
            let pdf = crate::print::render_pdf(std::slice::from_ref(item), &flyer, style)?;
            verify_pdf(&pdf, file)?;
            Ok(pdf.bytes)
        }
    }
}

/// A data-too-long error names the link's ref.
fn too_long(item: &ExportItem, e: QrError) -> ExportError {
    match e {
        QrError::TooLong { .. } => {
            ExportError::Invalid(ValidationError::new("ref", &item.ref_code, e.to_string()))
        }
        e => e.into(),
    }
}

/// Renders a PNG or SVG of an encoded code with the link's caption.
fn render_code(
    format: Format,
    item: &ExportItem,
    matrix: &QrMatrix,
    style: &QrStyle,
) -> Result<Vec<u8>, ExportError> {
    let caption = Caption {
        cta: &item.cta,
        url: &item.url,
    };
    Ok(match format {
        Format::Svg => render_svg_with(&item.url, matrix, Some(caption), style)?.into_bytes(),
        _ => render_png_with(matrix, Some(caption), style)?,
    })
}

/// Decodes a written PNG or SVG code.
fn verify_code(
    format: Format,
    item: &ExportItem,
    matrix: &QrMatrix,
    style: &QrStyle,
    bytes: &[u8],
) -> Result<(), ProofFailure> {
    match format {
        Format::Svg => crate::codes::proof::verify_svg(&String::from_utf8_lossy(bytes), &item.url),
        // Read at 3 or more whole pixels a module, blocks aligned with the
        // modules: as sharp as the file, and far quicker on big codes.
        _ => {
            let (module, origin) = png_grid(matrix, style);
            let k = crate::codes::proof::shrink_for(module);
            crate::codes::proof::verify_png(bytes, &item.url, k, origin % k)
        }
    }
}

/// Renders every page of a written PDF (hayro, from its bytes) and checks
/// that each placed code, cut out of its page with its quiet zone, reads its
/// link (the proof of scan of a PDF; the GUI's sheet preview uses it too).
pub fn verify_pdf(pdf: &crate::print::PdfOutput, file: &str) -> Result<(), ExportError> {
    // Enough pixels for the smallest module on the sheet, and no more.
    let smallest = pdf
        .codes
        .iter()
        .map(|c| c.module)
        .fold(f64::INFINITY, f64::min);
    if !smallest.is_finite() {
        return Ok(());
    }
    let px_per_pt = (PDF_PROOF_MODULE_PX / smallest).clamp(0.5, 12.0);
    let pages =
        crate::codes::proof::render_pdf_pages(&pdf.bytes, px_per_pt as f32).map_err(|reason| {
            ExportError::Proof {
                ref_code: pdf
                    .codes
                    .first()
                    .map(|c| c.ref_code.clone())
                    .unwrap_or_default(),
                file: file.to_string(),
                reason,
            }
        })?;
    pdf.codes.par_iter().try_for_each(|code| {
        let reason = match pages.get(code.page) {
            Some(page) => {
                let img = crate::codes::proof::crop(page, code_box(code, px_per_pt));
                match crate::codes::proof::verify_gray(img, &code.url) {
                    Ok(()) => return Ok(()),
                    Err(r) => r,
                }
            }
            None => ProofFailure::Unreadable,
        };
        Err(ExportError::Proof {
            ref_code: code.ref_code.clone(),
            file: format!("{file} (page {})", code.page + 1),
            reason,
        })
    })
}

/// Pixels a module gets when a PDF page is rendered for the proof: more than
/// a PNG's 3, since module edges fall between pixels and are anti-aliased.
const PDF_PROOF_MODULE_PX: f64 = 6.0;

/// A placed code's box on its rendered page, quiet zone included, in pixels.
fn code_box(code: &crate::print::PlacedCode, px_per_pt: f64) -> [f64; 4] {
    let quiet = 4.0 * code.module;
    let x0 = code
        .rects
        .iter()
        .map(|r| r[0])
        .fold(f64::INFINITY, f64::min)
        - quiet;
    let y0 = code
        .rects
        .iter()
        .map(|r| r[1])
        .fold(f64::INFINITY, f64::min)
        - quiet;
    let x1 = code.rects.iter().map(|r| r[0] + r[2]).fold(0.0, f64::max) + quiet;
    let y1 = code.rects.iter().map(|r| r[1] + r[3]).fold(0.0, f64::max) + quiet;
    [
        x0 * px_per_pt,
        y0 * px_per_pt,
        (x1 - x0) * px_per_pt,
        (y1 - y0) * px_per_pt,
    ]
}

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

/// One link's rendered files, already in the staging folder.
struct Rendered {
    files: Vec<String>,
    warnings: Vec<String>,
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

/// `links.csv`: one row per link with its files and whether they were
/// proven, through the shared CSV writer that neutralises formula cells.
fn links_csv(
    items: &[ExportItem],
    rendered: &[Rendered],
    verified: &str,
) -> Result<Vec<u8>, ExportError> {
    let rows = items.iter().zip(rendered).map(|(item, r)| {
        [
            item.campaign.clone(),
            item.channel.clone(),
            item.ref_code.clone(),
            item.url.clone(),
            item.cta.clone(),
            r.files.join(";"),
            verified.to_string(),
        ]
    });
    Ok(crate::csv_safe::to_bytes(
        &[
            "campaign", "channel", "ref", "url", "cta", "files", "verified",
        ],
        rows,
    )?)
}

/// Decodes every code of an SVG sheet against the links it shows, in order.
fn verify_svg_sheet(svg: &str, items: &[ExportItem], name: &str) -> Result<(), ExportError> {
    let codes = crate::codes::proof::svg_code_paths(svg);
    for (i, item) in items.iter().enumerate() {
        let reason = match codes.get(i) {
            Some((rects, module)) => {
                let img = crate::codes::proof::rasterise_rects(
                    rects,
                    *module,
                    crate::codes::grey_of(crate::codes::Color::BLACK),
                    crate::codes::grey_of(crate::codes::Color::WHITE),
                );
                match crate::codes::proof::verify_gray(img, &item.url) {
                    Ok(()) => continue,
                    Err(r) => r,
                }
            }
            None => ProofFailure::NoPath,
        };
        return Err(ExportError::Proof {
            ref_code: item.ref_code.clone(),
            file: name.to_string(),
            reason,
        });
    }
    Ok(())
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
            ref_code: r.into(),
            ..ExportItem::default()
        };
        let stems = unique_stems(&[item("FBad"), item("fbad"), item("a/b"), item("a.b")]);
        assert_eq!(stems, ["FBad", "fbad-2", "a_b", "a_b-2"]);
    }

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
                .contains(".png, .svg or .pdf")
        );
        assert!("gif".parse::<Format>().is_err());
    }
}
