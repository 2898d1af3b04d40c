//! Print-ready PDFs: grid sheets, sticker labels and one-link flyers, on A4
//! or US Letter, written with krilla (see docs/print.md for why).
//!
//! Codes are vector paths, one filled rectangle per run of dark modules, and
//! the same rectangles are returned with the PDF so the export can decode
//! them (proof of scan). Text uses the DejaVu Sans font from `assets/`,
//! embedded and subset, so a file prints the same anywhere.
//!
//! Rules every layout keeps:
//! - the customer reads the call to action and the readable link
//!   (`m.me/JaspersMarket`); the ref code is internal and appears only in a
//!   small footer, and only when asked for;
//! - text never leaves its cell: it wraps, then shrinks down to
//!   [`MIN_TEXT_PT`], then is cut with "…" (and the export says which link);
//! - no code is smaller than [`MIN_CODE_MM`], no module smaller than
//!   [`MIN_MODULE_MM`]: a layout that would break this is refused.
//!
//! Files, each depending only on those listed before it: `options` (paper,
//! layout, label sheets, printer offsets), `page` (the drawing surface the
//! layouts share: fitting text, placing codes, cut marks), and one file per
//! layout: `grid`, `labels`, `flyer`. This file holds the rules, the error
//! type and what a finished PDF returns.

mod flyer;
mod grid;
mod labels;
mod options;
mod page;

pub use options::{
    LabelPreset, LabelSpec, MAX_COPIES, MAX_OFFSET_MM, Paper, PrintLayout, PrintOptions,
    refuse_offsets,
};
pub use page::{LOGO_DPI, readable_link};

use crate::codes::proof::Rect;
use crate::codes::{QrError, QrMatrix, QrStyle};
use crate::model::{ExportItem, ValidationError};
use krilla::Document;
use krilla::text::Font;
use page::Placed;

/// Smallest code printed: the symbol's side without its quiet zone.
pub const MIN_CODE_MM: f64 = 20.0;
/// Smallest module printed; below it print spread and phone focus lose modules.
pub const MIN_MODULE_MM: f64 = 0.4;
/// Smallest type a caption shrinks to before it is shortened.
pub const MIN_TEXT_PT: f64 = 6.0;
/// Distance kept from a label's edge (die-cut tolerance).
pub const LABEL_SAFE_MM: f64 = 1.5;
/// Columns a grid may have.
pub const MAX_GRID_COLUMNS: u32 = 6;

/// What can go wrong while laying out a PDF.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// The layout does not fit the rules (code size, paper, text). Shown
    /// as itself and kept as the source, as every module does, so that a
    /// front end finds it (and its hint) in the chain of causes.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// A code could not be encoded.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// The PDF writer failed (not the user's doing).
    #[error("cannot write the PDF: {0}")]
    Pdf(String),
}

impl PrintError {
    /// True when the user's input or choice of layout caused the error.
    pub fn is_user_error(&self) -> bool {
        match self {
            PrintError::Invalid(_) => true,
            PrintError::Qr(q) => matches!(q, QrError::Invalid(_) | QrError::TooLong { .. }),
            PrintError::Pdf(_) => false,
        }
    }
}

/// A code placed in the PDF: the very rectangles written, in points.
#[derive(Debug, Clone)]
pub struct PlacedCode {
    /// The link's ref code.
    pub ref_code: String,
    /// What the code must read.
    pub url: String,
    /// Page index, from 0.
    pub page: usize,
    /// Dark module runs (x, y, w, h in points, y down).
    pub rects: Vec<Rect>,
    /// Module size in points.
    pub module: f64,
    /// Grey of the dark modules, 0–255.
    pub dark: u8,
    /// Grey of the background, 0–255.
    pub light: u8,
    /// The logo's square (points) and its raster at the proof's resolution.
    pub logo: Option<(Rect, std::sync::Arc<image::RgbaImage>)>,
}

/// A text block placed in the PDF, with the cell it must stay in (points).
#[derive(Debug, Clone)]
pub struct PlacedText {
    /// Page index, from 0.
    pub page: usize,
    /// The lines as printed.
    pub lines: Vec<String>,
    /// Bounding box of the text: x, y, w, h.
    pub bbox: Rect,
    /// The cell it belongs to: x, y, w, h.
    pub cell: Rect,
    /// Font size in points.
    pub size_pt: f64,
}

/// A finished PDF with what is needed to prove and check it.
#[derive(Debug, Clone)]
pub struct PdfOutput {
    /// The PDF file.
    pub bytes: Vec<u8>,
    /// Every code, in page order.
    pub codes: Vec<PlacedCode>,
    /// Every text block.
    pub texts: Vec<PlacedText>,
    /// Pages written.
    pub pages: usize,
    /// Messages for the user, e.g. which link's text was shortened.
    pub notes: Vec<String>,
}

/// Renders `items` as a PDF in the chosen layout.
pub fn render_pdf(
    items: &[ExportItem],
    options: &PrintOptions,
    style: &QrStyle,
) -> Result<PdfOutput, PrintError> {
    options.check()?;
    // Copies sit side by side on grid and label sheets; a flyer is one a link.
    let copies = match options.layout {
        PrintLayout::Flyer => 1,
        _ => options.copies as usize,
    };
    let repeated: Vec<ExportItem> = items
        .iter()
        .flat_map(|i| std::iter::repeat_n(i.clone(), copies))
        .collect();
    let items = repeated.as_slice();
    let matrices: Vec<QrMatrix> = items
        .iter()
        .map(|i| QrMatrix::for_style(&i.url, style))
        .collect::<Result<_, _>>()?;
    let font = Font::new(krilla::Data::from(crate::codes::FONT_BYTES), 0)
        .ok_or_else(|| PrintError::Pdf("the embedded font cannot be read".into()))?;
    let mut doc = Document::new();
    let mut placed = Placed::default();
    let pages = match options.layout {
        PrintLayout::Flyer => flyer::flyers(
            &mut doc,
            &font,
            items,
            &matrices,
            options,
            style,
            &mut placed,
        )?,
        PrintLayout::Grid => grid::grid(
            &mut doc,
            &font,
            items,
            &matrices,
            options,
            style,
            &mut placed,
        )?,
        PrintLayout::Labels => labels::labels(
            &mut doc,
            &font,
            items,
            &matrices,
            options,
            style,
            &mut placed,
        )?,
    };
    let bytes = doc
        .finish()
        .map_err(|e| PrintError::Pdf(format!("{e:?}")))?;
    Ok(PdfOutput {
        bytes,
        codes: placed.codes,
        texts: placed.texts,
        pages,
        notes: placed.notes,
    })
}
