//! QR artwork: the pieces every renderer shares (colours, the
//! error-correction level and the error type), below `qr`, `logo` and
//! `proof` so that none of those needs another for them.

mod color;
pub mod logo;
mod png;
pub mod proof;

pub use color::{Color, grey_of};
pub use png::*;

use qrcode::EcLevel;
use std::fmt;
use std::str::FromStr;

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

/// Error-correction level: how much of the code may be damaged and still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Ecc {
    /// About 7 %.
    L,
    /// About 15 % (the default).
    #[default]
    M,
    /// About 25 %.
    Q,
    /// About 30 %.
    H,
}

impl Ecc {
    /// Every level, lowest first.
    pub const ALL: [Ecc; 4] = [Ecc::L, Ecc::M, Ecc::Q, Ecc::H];

    pub(crate) fn level(self) -> EcLevel {
        match self {
            Ecc::L => EcLevel::L,
            Ecc::M => EcLevel::M,
            Ecc::Q => EcLevel::Q,
            Ecc::H => EcLevel::H,
        }
    }
}

impl fmt::Display for Ecc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ecc::L => "L",
            Ecc::M => "M",
            Ecc::Q => "Q",
            Ecc::H => "H",
        })
    }
}

impl FromStr for Ecc {
    type Err = QrError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "L" => Ok(Ecc::L),
            "M" => Ok(Ecc::M),
            "Q" => Ok(Ecc::Q),
            "H" => Ok(Ecc::H),
            _ => Err(invalid("ecc", s, "use L, M, Q or H")),
        }
    }
}
