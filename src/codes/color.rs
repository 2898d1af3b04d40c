//! sRGB colours as the codes use them: parsing, contrast, and the grey a
//! colour prints as.

use super::{QrError, invalid};
use std::fmt;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Color(pub [u8; 3]);

impl Color {
    /// Black.
    pub const BLACK: Color = Color([0, 0, 0]);
    /// White.
    pub const WHITE: Color = Color([255, 255, 255]);

    /// Parses `#RRGGBB`, `RRGGBB` or `#RGB` for the option `field`.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, QrError> {
        let hex = s.trim().trim_start_matches('#');
        let expand: String = match hex.len() {
            3 => hex.chars().flat_map(|c| [c, c]).collect(),
            6 => hex.to_string(),
            _ => String::new(),
        };
        let rule = "use a hex colour such as #000000 or #1a73e8";
        if expand.len() != 6 || !expand.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(field, s, rule));
        }
        let byte = |i: usize| {
            u8::from_str_radix(&expand[i..i + 2], 16).map_err(|_| invalid(field, s, rule))
        };
        Ok(Color([byte(0)?, byte(2)?, byte(4)?]))
    }

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0[0], self.0[1], self.0[2])
    }

    /// WCAG relative luminance, 0 (black) to 1 (white).
    pub fn luminance(self) -> f64 {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(self.0[0]) + 0.7152 * lin(self.0[1]) + 0.0722 * lin(self.0[2])
    }

    /// WCAG contrast ratio against `other`, 1 to 21.
    pub fn contrast(self, other: Color) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// Grey level (0–255) a colour prints as, by WCAG luminance.
pub fn grey_of(c: Color) -> u8 {
    (c.luminance() * 255.0).round().clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_and_name_bad_values() {
        assert_eq!(
            Color::parse("fg", "#1a73E8").unwrap(),
            Color([0x1a, 0x73, 0xe8])
        );
        assert_eq!(Color::parse("fg", "fff").unwrap(), Color::WHITE);
        let e = Color::parse("fg", "#12345g").unwrap_err().to_string();
        assert!(
            e.contains("fg") && e.contains("#12345g") && e.contains("hex colour"),
            "{e}"
        );
    }
}
