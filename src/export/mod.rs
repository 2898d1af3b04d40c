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
//!
//! Files, each depending only on those listed before it: `atomic` (one
//! file written through a temporary name), `items` (safe and distinct file
//! names per link), `verify` (decoding what was written), `one` (one code
//! to a file), `links_csv`, `sheet` (the SVG print sheets), and `bulk`
//! (stage, prove and publish a folder). The link
//! itself, [`crate::model::ExportItem`], sits in the model because the print
//! sheets take it too.

mod atomic;
mod bulk;
mod items;
mod links_csv;
mod one;
mod sheet;
mod verify;

pub use atomic::{write_atomic, write_atomic_with};
pub use bulk::{BulkOptions, ExportReport, PDF_SHEET, export_bulk};
pub use items::safe_file_stem;
pub use one::{OneOptions, export_one, export_one_item};
pub use sheet::sheets;
pub use verify::verify_pdf;

use crate::codes::QrError;
use crate::codes::proof::ProofFailure;
use crate::model::ValidationError;
use crate::print::PrintError;
use serde::Serialize;
use std::path::Path;
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

pub(super) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
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

#[cfg(test)]
mod tests {
    use super::*;

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
