//! How a code looks (size, quiet zone, error correction, colours, caption,
//! logo), the ranges refused and the soft warnings about styles that scan
//! badly.

use super::logo::{self, Logo};
use super::{Color, Ecc, QrError, QrMatrix, invalid};
use crate::model::{Hint, ValidationError, Warning};

/// Smallest and largest image width in pixels.
pub const MIN_SIZE_PX: u32 = 256;
/// Largest image width in pixels.
pub const MAX_SIZE_PX: u32 = 4096;
/// Quiet zone that ISO/IEC 18004 asks for, in modules.
pub const DEFAULT_QUIET_ZONE: u32 = 4;
const MAX_QUIET_ZONE: u32 = 20;
/// Below this WCAG contrast ratio, scanners start to fail: a warning.
const MIN_CONTRAST_RATIO: f64 = 3.0;
/// Below this WCAG contrast ratio a code is refused unless forced: most
/// phone cameras cannot separate the two colours any more.
pub const HARD_MIN_CONTRAST_RATIO: f64 = 2.0;

/// How a code looks.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QrStyle {
    /// Image width in pixels (SVG: user units), 256–4096.
    pub size_px: u32,
    /// Light border around the code, in modules.
    pub quiet_zone_modules: u32,
    /// Error-correction level.
    pub ecc: Ecc,
    /// Colour of the dark modules and caption text.
    pub fg: Color,
    /// Background colour.
    pub bg: Color,
    /// Draw the CTA text and the readable link under the code.
    pub caption: bool,
    /// A logo in the centre on a light pad (forces error correction H).
    /// Never saved with the style: the front end loads the file each time.
    #[serde(skip)]
    pub logo: Option<std::sync::Arc<Logo>>,
}

impl Default for QrStyle {
    fn default() -> Self {
        Self {
            size_px: 1024,
            quiet_zone_modules: DEFAULT_QUIET_ZONE,
            ecc: Ecc::M,
            fg: Color::BLACK,
            bg: Color::WHITE,
            caption: true,
            logo: None,
        }
    }
}

impl QrStyle {
    /// Refuses out-of-range options and a contrast below the hard floor;
    /// warns about styles that scan badly.
    pub fn check(&self) -> Result<Vec<Warning>, QrError> {
        self.check_forced(false)
    }

    /// Like [`QrStyle::check`]; with `force`, a contrast below the hard floor
    /// is a warning instead of an error (`--force`).
    pub fn check_forced(&self, force: bool) -> Result<Vec<Warning>, QrError> {
        let ratio = self.fg.contrast(self.bg);
        if ratio < HARD_MIN_CONTRAST_RATIO && !force {
            return Err(QrError::Invalid(
                ValidationError::new(
                    "colours",
                    &format!("{} on {}", self.fg, self.bg),
                    format!(
                        "the contrast is {ratio:.2}:1, below the floor of {HARD_MIN_CONTRAST_RATIO}:1 that scanners need"
                    ),
                )
                .with_hint(Hint::ForceContrast),
            ));
        }
        self.check_ranges()
    }

    /// Refuses out-of-range sizes; returns the soft warnings (contrast,
    /// quiet zone, inverted colours) without applying the contrast floor.
    pub(super) fn check_ranges(&self) -> Result<Vec<Warning>, QrError> {
        if !(MIN_SIZE_PX..=MAX_SIZE_PX).contains(&self.size_px) {
            return Err(invalid(
                "size",
                self.size_px,
                format!("the image size is {MIN_SIZE_PX} to {MAX_SIZE_PX} pixels"),
            ));
        }
        if self.quiet_zone_modules > MAX_QUIET_ZONE {
            return Err(invalid(
                "quiet-zone",
                self.quiet_zone_modules,
                format!("the quiet zone is 0 to {MAX_QUIET_ZONE} modules"),
            ));
        }
        let mut warnings = Vec::new();
        if let Some(logo) = self
            .logo
            .as_ref()
            .filter(|l| l.share() > logo::MAX_LOGO_SHARE)
        {
            warnings.push(Warning::new(
                "logo-share",
                format!(
                    "the logo covers {:.0} % of the code, more than the {:.0} % that leaves room for damage; it is written only if it still scans",
                    logo.share() * 100.0,
                    logo::MAX_LOGO_SHARE * 100.0
                ),
            ));
        }
        if self.logo.is_some() && self.ecc != Ecc::H {
            warnings.push(Warning::new(
                "ecc",
                format!(
                    "a logo hides modules, so the code uses error correction H instead of {}",
                    self.ecc
                ),
            ));
        }
        if self.quiet_zone_modules < DEFAULT_QUIET_ZONE {
            warnings.push(Warning::new(
                "quiet-zone",
                format!(
                    "{} modules is less than the {DEFAULT_QUIET_ZONE} that ISO/IEC 18004 asks for; some scanners will fail",
                    self.quiet_zone_modules
                ),
            ));
        }
        let ratio = self.fg.contrast(self.bg);
        if ratio < MIN_CONTRAST_RATIO {
            warnings.push(Warning::new(
                "colours",
                format!(
                    "contrast between {} and {} is only {ratio:.1}:1; below {MIN_CONTRAST_RATIO}:1 the code may not scan",
                    self.fg, self.bg
                ),
            ));
        }
        if self.fg.luminance() > self.bg.luminance() {
            warnings.push(Warning::new(
                "colours",
                format!(
                    "light code {} on a dark background {}: many scanners cannot read inverted codes",
                    self.fg, self.bg
                ),
            ));
        }
        Ok(warnings)
    }
}

impl QrMatrix {
    /// Encodes `data` as `style` asks: with a logo, at error correction H,
    /// at the smallest version whose centre can take the logo's pad without
    /// touching a function pattern, and with the pad's modules left light.
    pub fn for_style(data: &str, style: &QrStyle) -> Result<Self, QrError> {
        match &style.logo {
            None => Self::encode(data, style.ecc),
            Some(logo) => Self::encode_with_pad(data, logo.share()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_warnings() {
        let ok = QrStyle::default();
        assert!(ok.check().unwrap().is_empty());
        let pale = QrStyle {
            fg: Color::parse("fg", "#999999").unwrap(),
            ..ok.clone()
        };
        let w = pale.check().unwrap();
        assert!(w.iter().any(|w| w.message.contains("contrast")), "{w:?}");
        // Below the hard floor: refused, unless forced (then a warning).
        let faint = QrStyle {
            fg: Color::parse("fg", "#cccccc").unwrap(),
            ..ok.clone()
        };
        let e = faint.check().unwrap_err();
        assert!(e.to_string().contains("colours"), "{e}");
        // The way out is a hint value; the CLI words it "pass --force".
        let QrError::Invalid(v) = &e else {
            panic!("not a validation error: {e}");
        };
        assert_eq!(v.hint, Some(Hint::ForceContrast), "{e}");
        assert!(
            faint
                .check_forced(true)
                .unwrap()
                .iter()
                .any(|w| w.message.contains("contrast"))
        );
        let inverted = QrStyle {
            fg: Color::WHITE,
            bg: Color::BLACK,
            ..ok.clone()
        };
        assert!(
            inverted
                .check()
                .unwrap()
                .iter()
                .any(|w| w.message.contains("inverted"))
        );
        let small = QrStyle {
            size_px: 100,
            ..ok.clone()
        };
        assert!(
            small
                .check()
                .unwrap_err()
                .to_string()
                .contains("256 to 4096")
        );
        let thin = QrStyle {
            quiet_zone_modules: 1,
            ..ok
        };
        assert!(thin.check().unwrap()[0].message.contains("ISO/IEC 18004"));
    }
}
