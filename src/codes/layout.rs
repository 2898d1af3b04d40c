//! Where the code and its caption go on the canvas: pixels a module, the
//! quiet zone's offset, and the caption's wrapped lines. PNG, SVG and the
//! module-size warning share it.

use super::text::{text_width, wrap};
use super::{QrMatrix, QrStyle};

/// Text drawn under the code.
#[derive(Debug, Clone, Copy)]
pub struct Caption<'a> {
    /// Call to action, e.g. "Get free coupon in Messenger".
    pub cta: &'a str,
    /// The readable link.
    pub url: &'a str,
}

/// Where things go on the canvas.
pub(super) struct Layout {
    /// Pixels per module.
    pub(super) module_px: u32,
    /// Offset of module (0,0) from the canvas edge.
    pub(super) origin_px: u32,
    /// Canvas width (= the style's size).
    pub(super) width_px: u32,
    /// Caption lines: (text, font size, baseline y).
    pub(super) lines: Vec<(String, f32, f32)>,
    /// Canvas height.
    pub(super) height_px: u32,
}

impl Layout {
    pub(super) fn new(matrix: &QrMatrix, style: &QrStyle, caption: Option<Caption<'_>>) -> Self {
        let modules = matrix.width + 2 * style.quiet_zone_modules;
        let module_px = (style.size_px / modules.max(1)).max(1);
        let origin_px = (style.size_px.saturating_sub(module_px * modules)) / 2
            + module_px * style.quiet_zone_modules;
        let mut lines = Vec::new();
        let mut y = style.size_px as f32;
        if let Some(c) = caption.filter(|_| style.caption) {
            let margin = style.size_px as f32 * 0.06;
            let max_w = style.size_px as f32 - 2.0 * margin;
            let cta_px = (style.size_px as f32 * 0.055).max(14.0);
            let url_px = (style.size_px as f32 * 0.038).max(11.0);
            for (text, mut px) in [(c.cta.trim(), cta_px), (c.url, url_px)] {
                if text.is_empty() {
                    continue;
                }
                // Shrink a line that almost fits rather than break it.
                let natural = text_width(text, px);
                if natural > max_w && natural * 0.75 <= max_w {
                    px *= max_w / natural;
                }
                for line in wrap(text, px, max_w) {
                    y += px * 1.25;
                    lines.push((line, px, y));
                }
            }
            if !lines.is_empty() {
                y += style.size_px as f32 * 0.05;
            }
        }
        Self {
            module_px,
            origin_px,
            width_px: style.size_px,
            lines,
            height_px: y.ceil() as u32,
        }
    }
}
