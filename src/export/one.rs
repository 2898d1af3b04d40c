//! One link's code to one file (PNG, SVG, or a PDF flyer), proven to scan
//! before it is written.

use super::atomic::{exists_error, write_atomic_with};
use super::verify::{verify_code, verify_pdf};
use super::{ExportError, Format};
use crate::codes::{Caption, QrError, QrMatrix, QrStyle, render_png_with, render_svg_with};
use crate::model::{ExportItem, ValidationError, Warning};
use crate::print::PrintOptions;
use std::path::Path;

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
pub(super) fn render_verified(
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
pub(super) fn too_long(item: &ExportItem, e: QrError) -> ExportError {
    match e {
        QrError::TooLong { .. } => {
            ExportError::Invalid(ValidationError::new("ref", &item.ref_code, e.to_string()))
        }
        e => e.into(),
    }
}

/// Renders a PNG or SVG of an encoded code with the link's caption.
pub(super) fn render_code(
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
