//! Text in the codes, sheets and reports: the caption font, measuring and
//! wrapping lines, and escaping text for XML and HTML.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

/// The caption font, shipped in `assets/` (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`).
pub(crate) const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The compiled-in caption font; `None` only if the asset were corrupt,
/// which the caption tests would catch.
pub(super) fn font() -> Option<FontRef<'static>> {
    FontRef::try_from_slice(FONT_BYTES).ok()
}

/// The ab_glyph scale that draws text at `em` units a font size (PDF and
/// SVG sizes are em sizes; ab_glyph scales by ascent-to-descent height).
pub(crate) fn em_scale(em: f32) -> f32 {
    let Some(font) = font() else { return em };
    let per_em = font.units_per_em().unwrap_or(1.0).max(1.0);
    em * font.height_unscaled() / per_em
}

/// Width of `text` at `px` in pixels.
pub(crate) fn text_width(text: &str, px: f32) -> f32 {
    let Some(font) = font() else { return 0.0 };
    let scaled = font.as_scaled(PxScale::from(px));
    let mut w = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            w += scaled.kern(p, id);
        }
        w += scaled.h_advance(id);
        prev = Some(id);
    }
    w
}

/// Breaks `text` into lines no wider than `max_w`: at spaces, or inside a
/// word (a URL) that is wider than a line on its own.
pub(crate) fn wrap(text: &str, px: f32, max_w: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if text_width(&candidate, px) <= max_w {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        let chars: Vec<char> = word.chars().collect();
        let mut start = 0;
        while start < chars.len() {
            // Longest prefix that fits, then back up to a natural URL break.
            let mut end = start + 1;
            while end < chars.len()
                && text_width(&chars[start..=end].iter().collect::<String>(), px) <= max_w
            {
                end += 1;
            }
            if end < chars.len() {
                let min_break = start + ((end - start) / 2).max(1);
                if let Some(b) = (min_break..end)
                    .rev()
                    .find(|&i| matches!(chars[i - 1], '?' | '&' | '/' | '=' | '-' | '_'))
                {
                    end = b;
                }
            }
            let piece: String = chars[start..end].iter().collect();
            if end < chars.len() {
                lines.push(piece);
            } else {
                current = piece;
            }
            start = end;
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Escapes `&`, `<`, `>`, `"` and `'` for XML and HTML content and
/// attributes (`&#39;`, not `&apos;`, which HTML 4 lacks); the SVG codes and
/// the HTML report share it.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_captions_wrap_within_the_width() {
        let lines = wrap(
            "https://m.me/JaspersMarket?ref=a_very_long_reference_code_that_cannot_fit",
            20.0,
            200.0,
        );
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(text_width(l, 20.0) <= 200.0, "{l}");
        }
        assert_eq!(
            lines.concat(),
            "https://m.me/JaspersMarket?ref=a_very_long_reference_code_that_cannot_fit"
        );
    }
}
