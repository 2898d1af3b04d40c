//! The module grid of an encoded code, at an error-correction level, with
//! the light pad a logo sits on.

use super::logo::{self, LogoBox};
use super::{QrError, invalid};
use qrcode::{EcLevel, QrCode};
use std::fmt;
use std::str::FromStr;

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

    pub(super) fn level(self) -> EcLevel {
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

/// The module grid of an encoded code.
#[derive(Debug, Clone)]
pub struct QrMatrix {
    /// Modules per side, without quiet zone.
    pub width: u32,
    dark: Vec<bool>,
    /// The logo's pad, whose modules are left light (none without a logo).
    pub logo: Option<LogoBox>,
}

impl QrMatrix {
    /// Encodes `data` at the given level, picking the smallest version that fits.
    pub fn encode(data: &str, ecc: Ecc) -> Result<Self, QrError> {
        let code =
            QrCode::with_error_correction_level(data.as_bytes(), ecc.level()).map_err(|_| {
                QrError::TooLong {
                    len: data.len(),
                    ecc,
                }
            })?;
        Ok(Self::from_code(&code, None))
    }

    fn from_code(code: &QrCode, logo: Option<LogoBox>) -> Self {
        let width = u32::try_from(code.width()).unwrap_or(0);
        let mut dark: Vec<bool> = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        if let Some(b) = logo {
            for y in b.y0..b.y0 + b.side {
                for x in b.x0..b.x0 + b.side {
                    if let Some(d) = dark.get_mut((y * width + x) as usize) {
                        *d = false;
                    }
                }
            }
        }
        Self { width, dark, logo }
    }

    /// Encodes `data` at error correction H with a centred light pad of at
    /// most `share` of the symbol's area, clear of every function pattern
    /// (what [`QrMatrix::for_style`] does for a logo; previews use it
    /// without the logo's pixels).
    pub fn encode_with_pad(data: &str, share: f64) -> Result<Self, QrError> {
        let too_long = || QrError::TooLong {
            len: data.len(),
            ecc: Ecc::H,
        };
        let first = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::H)
            .map_err(|_| too_long())?;
        let qrcode::Version::Normal(v0) = first.version() else {
            return Err(too_long());
        };
        for v in v0..=40 {
            let code = if v == v0 {
                first.clone()
            } else {
                match QrCode::with_version(data.as_bytes(), qrcode::Version::Normal(v), EcLevel::H)
                {
                    Ok(c) => c,
                    Err(_) => continue,
                }
            };
            let width = u32::try_from(code.width()).unwrap_or(0);
            let Some(pad) = LogoBox::centred(width, share) else {
                return Err(invalid(
                    "logo-share",
                    format!("{}", (share * 1000.0).round() / 10.0),
                    format!(
                        "the logo's pad would be under {} modules a side on a {width}-module code; use a larger share or no logo",
                        logo::MIN_PAD_MODULES
                    ),
                ));
            };
            // The share is an upper bound: where the patterns leave less
            // room, the pad shrinks (down to the smallest useful pad).
            let clear = |b: &LogoBox| b.clear_of(width, |x, y| logo::is_function_module(v, x, y));
            let mut side = pad.side;
            while side >= logo::MIN_PAD_MODULES {
                let b = LogoBox {
                    x0: (width - side) / 2,
                    y0: (width - side) / 2,
                    side,
                };
                if clear(&b) {
                    return Ok(Self::from_code(&code, Some(b)));
                }
                side -= 2;
            }
        }
        Err(invalid(
            "logo",
            format!("{} bytes of link", data.len()),
            "no QR version can hold this link with a centred logo clear of the finder, timing and alignment patterns; use a shorter ref or no logo",
        ))
    }

    /// Whether the module at column `x`, row `y` is dark.
    pub fn is_dark(&self, x: u32, y: u32) -> bool {
        self.dark
            .get((y * self.width + x) as usize)
            .copied()
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logo_pad_is_light_clear_of_the_patterns_and_moves_version_7_up() {
        let short = "https://m.me/JaspersMarket?ref=freeshipping";
        let m = QrMatrix::encode_with_pad(short, 0.1).unwrap();
        let pad = m.logo.unwrap();
        assert!(f64::from(pad.side * pad.side) <= 0.1 * f64::from(m.width * m.width));
        for y in pad.y0..pad.y0 + pad.side {
            for x in pad.x0..pad.x0 + pad.side {
                assert!(!m.is_dark(x, y), "module {x},{y} under the pad is light");
            }
        }
        // 30 characters of ref: version 7 at H, whose centre is an alignment
        // pattern; the code moves up to a version with a free centre.
        let long = format!("https://m.me/JaspersMarket?ref={}", "a".repeat(30));
        let plain = QrMatrix::encode(&long, Ecc::H).unwrap();
        assert_eq!(plain.width, 45, "version 7");
        let m = QrMatrix::encode_with_pad(&long, 0.1).unwrap();
        let version = i16::try_from((m.width - 17) / 4).unwrap();
        assert!(version >= 14, "version {version}");
        let pad = m.logo.unwrap();
        assert!(pad.clear_of(m.width, |x, y| logo::is_function_module(version, x, y)));
    }

    #[test]
    fn too_long_data_is_an_error() {
        let data = "x".repeat(3000);
        assert!(matches!(
            QrMatrix::encode(&data, Ecc::H),
            Err(QrError::TooLong { .. })
        ));
    }
}
