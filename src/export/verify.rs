//! The proof of scan of written files: each PNG, SVG and PDF code is
//! decoded (see [`crate::codes::proof`]) and must read its link's URL.

use super::{ExportError, Format};
use crate::codes::proof::ProofFailure;
use crate::codes::{QrMatrix, QrStyle, png_grid};
use crate::model::ExportItem;
use rayon::prelude::*;

/// Decodes a written PNG or SVG code.
pub(super) fn verify_code(
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

/// Decodes every code of an SVG sheet against the links it shows, in order.
pub(super) fn verify_svg_sheet(
    svg: &str,
    items: &[ExportItem],
    name: &str,
) -> Result<(), ExportError> {
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
