//! QR artwork for m.me links: PNG and SVG codes with colours, quiet zone,
//! error correction, an optional caption (CTA text and readable link) in
//! the DejaVu Sans font shipped in `assets/`, an optional logo, and the
//! proof of scan that decodes what was written.
//!
//! One file per concern, each depending only on those listed before it:
//! `text` (font, measuring, wrapping, escaping), [`color`] (sRGB, contrast,
//! grey), [`logo`] (loading and placing logos), `matrix` (the module grid
//! and the error-correction level), `style` (how a code looks and what is
//! refused), `layout` (where code and caption go on the canvas),
//! `warnings`, `png`, `svg`, and [`proof`] (decoding written codes; its
//! unit tests render with `png` and `svg`). This file holds the error type
//! they share and the public names.

pub mod color;
mod layout;
pub mod logo;
mod matrix;
mod png;
pub mod proof;
mod style;
mod svg;
mod text;
mod warnings;

pub use color::{Color, grey_of};
pub use layout::Caption;
pub use matrix::{Ecc, QrMatrix};
pub use png::{module_px, png_grid, render_png, render_png_with};
pub use style::{DEFAULT_QUIET_ZONE, HARD_MIN_CONTRAST_RATIO, MAX_SIZE_PX, MIN_SIZE_PX, QrStyle};
pub use svg::{module_path, render_svg, render_svg_with, svg_logo};
pub use text::xml_escape;
pub(crate) use text::{FONT_BYTES, em_scale, text_width, wrap};
pub use warnings::{module_size_warning, warnings_for, warnings_for_forced};

use std::fmt;

/// What can go wrong while rendering a code.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// An option is out of range or malformed: field, value and rule.
    #[error("{0}")]
    Invalid(#[from] crate::model::ValidationError),
    /// The data does not fit in any QR version at this error-correction level.
    #[error(
        "the link is {len} bytes, too long for a QR code at error correction {ecc}; use a lower level or a shorter ref"
    )]
    TooLong {
        /// Length of the data.
        len: usize,
        /// The level asked for.
        ecc: Ecc,
    },
    /// PNG encoding failed.
    #[error("cannot encode PNG: {0}")]
    Png(#[from] image::ImageError),
}

pub(crate) fn invalid(
    field: &'static str,
    value: impl fmt::Display,
    rule: impl Into<String>,
) -> QrError {
    QrError::Invalid(crate::model::ValidationError::new(
        field,
        &value.to_string(),
        rule,
    ))
}
