//! QR code rendering for m.me links: PNG and SVG, with colours, quiet zone,
//! error correction and an optional caption (CTA text and readable link)
//! drawn with the DejaVu Sans font shipped in `assets/`.

use super::invalid;
use super::{Color, Ecc, QrError};
use crate::codes::logo::LogoBox;
use crate::model::Warning;
use ab_glyph::{Font, FontRef, Glyph, PxScale, ScaleFont, point};
use qrcode::{EcLevel, QrCode};
use std::fmt::Write as _;

/// The caption font, shipped in `assets/` (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`).
pub(crate) const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// Font family named in SVG output; viewers without DejaVu fall back.
const SVG_FONT_FAMILY: &str = "'DejaVu Sans', Verdana, Arial, sans-serif";

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
/// Modules smaller than this many pixels are hard to print and scan.
const MIN_MODULE_PX: u32 = 3;

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
    pub logo: Option<std::sync::Arc<crate::codes::logo::Logo>>,
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
            return Err(invalid(
                "colours",
                format!("{} on {}", self.fg, self.bg),
                format!(
                    "the contrast is {ratio:.2}:1, below the floor of {HARD_MIN_CONTRAST_RATIO}:1 that scanners need; pass --force to write it anyway"
                ),
            ));
        }
        self.check_ranges()
    }

    /// Refuses out-of-range sizes; returns the soft warnings (contrast,
    /// quiet zone, inverted colours) without applying the contrast floor.
    fn check_ranges(&self) -> Result<Vec<Warning>, QrError> {
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
            .filter(|l| l.share() > crate::codes::logo::MAX_LOGO_SHARE)
        {
            warnings.push(Warning::new(
                "logo-share",
                format!(
                    "the logo covers {:.0} % of the code, more than the {:.0} % that leaves room for damage; it is written only if it still scans",
                    logo.share() * 100.0,
                    crate::codes::logo::MAX_LOGO_SHARE * 100.0
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

/// Text drawn under the code.
#[derive(Debug, Clone, Copy)]
pub struct Caption<'a> {
    /// Call to action, e.g. "Get free coupon in Messenger".
    pub cta: &'a str,
    /// The readable link.
    pub url: &'a str,
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

    /// Encodes `data` as `style` asks: with a logo, at error correction H,
    /// at the smallest version whose centre can take the logo's pad without
    /// touching a function pattern, and with the pad's modules left light.
    pub fn for_style(data: &str, style: &QrStyle) -> Result<Self, QrError> {
        match &style.logo {
            None => Self::encode(data, style.ecc),
            Some(logo) => Self::encode_with_pad(data, logo.share()),
        }
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
                        crate::codes::logo::MIN_PAD_MODULES
                    ),
                ));
            };
            // The share is an upper bound: where the patterns leave less
            // room, the pad shrinks (down to the smallest useful pad).
            let clear = |b: &LogoBox| {
                b.clear_of(width, |x, y| {
                    crate::codes::logo::is_function_module(v, x, y)
                })
            };
            let mut side = pad.side;
            while side >= crate::codes::logo::MIN_PAD_MODULES {
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

/// Where things go on the canvas.
struct Layout {
    /// Pixels per module.
    module_px: u32,
    /// Offset of module (0,0) from the canvas edge.
    origin_px: u32,
    /// Canvas width (= the style's size).
    width_px: u32,
    /// Caption lines: (text, font size, baseline y).
    lines: Vec<(String, f32, f32)>,
    /// Canvas height.
    height_px: u32,
}

impl Layout {
    fn new(matrix: &QrMatrix, style: &QrStyle, caption: Option<Caption<'_>>) -> Self {
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

/// The compiled-in caption font; `None` only if the asset were corrupt,
/// which the caption tests would catch.
fn font() -> Option<FontRef<'static>> {
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

/// Every warning for rendering `data` in `style`: the style's own, plus
/// modules too small to print and scan at this size.
pub fn warnings_for(data: &str, style: &QrStyle) -> Result<Vec<Warning>, QrError> {
    warnings_for_forced(data, style, false)
}

/// Like [`warnings_for`]; with `force`, a contrast below the hard floor is
/// only a warning.
pub fn warnings_for_forced(
    data: &str,
    style: &QrStyle,
    force: bool,
) -> Result<Vec<Warning>, QrError> {
    let mut warnings = style.check_forced(force)?;
    let matrix = QrMatrix::for_style(data, style)?;
    warnings.extend(module_size_warning(&matrix, style));
    Ok(warnings)
}

/// The warning for modules too small to print and scan in a PNG of `style`,
/// from an already encoded code (a bulk export does not encode twice).
pub fn module_size_warning(matrix: &QrMatrix, style: &QrStyle) -> Option<Warning> {
    let module_px = Layout::new(matrix, style, None).module_px;
    (module_px < MIN_MODULE_PX).then(|| {
        Warning::new(
            "size",
            format!(
                "each module is only {module_px} px ({} modules across); use a larger size, a lower error correction or a shorter ref",
                matrix.width
            ),
        )
    })
}

/// Renders a PNG; returns the encoded bytes.
///
/// The file is indexed: 1 bit a pixel when the code has only its two
/// colours, 4 bits (16 shades between background and foreground) when a
/// caption adds anti-aliased text. That keeps files near qrencode's size.
pub fn render_png(
    data: &str,
    caption: Option<Caption<'_>>,
    style: &QrStyle,
) -> Result<Vec<u8>, QrError> {
    let matrix = QrMatrix::for_style(data, style)?;
    render_png_with(&matrix, caption, style)
}

/// Renders a PNG of an already encoded code.
pub fn render_png_with(
    matrix: &QrMatrix,
    caption: Option<Caption<'_>>,
    style: &QrStyle,
) -> Result<Vec<u8>, QrError> {
    style.check_ranges()?;
    let layout = Layout::new(matrix, style, caption);
    encode_png(matrix, &layout, style)
}

/// Pixels a module of `matrix` takes in a PNG of `style`.
pub fn module_px(matrix: &QrMatrix, style: &QrStyle) -> u32 {
    Layout::new(matrix, style, None).module_px
}

/// Pixels a module takes in a PNG of `style`, and where module (0, 0)
/// starts (the same offset across and down).
pub fn png_grid(matrix: &QrMatrix, style: &QrStyle) -> (u32, u32) {
    let layout = Layout::new(matrix, style, None);
    (layout.module_px, layout.origin_px)
}

/// Bits a pixel of the indexed PNG and the palette that goes with it.
fn png_palette(style: &QrStyle, shades: bool) -> (png::BitDepth, Vec<u8>) {
    if !shades {
        let mut palette = style.bg.0.to_vec();
        palette.extend_from_slice(&style.fg.0);
        return (png::BitDepth::One, palette);
    }
    let mut palette = Vec::with_capacity(16 * 3);
    for level in 0..16u16 {
        for ch in 0..3 {
            let (bg, fg) = (u16::from(style.bg.0[ch]), u16::from(style.fg.0[ch]));
            let mixed = (bg * (15 - level) + fg * level + 7) / 15;
            palette.push(u8::try_from(mixed).unwrap_or(u8::MAX));
        }
    }
    (png::BitDepth::Four, palette)
}

/// Sets pixel `x` of a packed row to palette index `value`.
fn set_index(row: &mut [u8], x: u32, value: u8, depth: png::BitDepth) {
    let x = x as usize;
    match depth {
        png::BitDepth::One => {
            if let Some(b) = row.get_mut(x / 8) {
                *b |= (value & 1) << (7 - x % 8);
            }
        }
        _ => {
            if let Some(b) = row.get_mut(x / 2) {
                *b |= (value & 0x0f) << if x.is_multiple_of(2) { 4 } else { 0 };
            }
        }
    }
}

/// Packs the code and the caption into indexed PNG rows and encodes them.
fn encode_png(matrix: &QrMatrix, layout: &Layout, style: &QrStyle) -> Result<Vec<u8>, QrError> {
    let shades = !layout.lines.is_empty();
    let (depth, palette) = png_palette(style, shades);
    let bits = if shades { 4 } else { 1 };
    let (w, h) = (layout.width_px, layout.height_px);
    let stride = (w as usize * bits).div_ceil(8);
    let mut raw = vec![0u8; stride * h as usize];
    let dark: u8 = if shades { 15 } else { 1 };
    let m = layout.module_px;
    // One packed row per module row, copied `m` times: the code is made of squares.
    let mut row = vec![0u8; stride];
    for my in 0..matrix.width {
        row.fill(0);
        for mx in 0..matrix.width {
            if matrix.is_dark(mx, my) {
                let x0 = layout.origin_px + mx * m;
                for x in x0..x0 + m {
                    set_index(&mut row, x, dark, depth);
                }
            }
        }
        let y0 = (layout.origin_px + my * m) as usize;
        for y in y0..y0 + m as usize {
            if let Some(dst) = raw.get_mut(y * stride..(y + 1) * stride) {
                dst.copy_from_slice(&row);
            }
        }
    }
    if shades {
        draw_caption(&mut raw, stride, layout, depth);
    }
    if let (Some(pad), Some(logo)) = (matrix.logo, &style.logo) {
        let rgb = with_logo(&raw, stride, bits, &palette, layout, pad, logo, (w, h));
        return write_png(
            &rgb,
            (w, h),
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            None,
        );
    }
    write_png(&raw, (w, h), png::ColorType::Indexed, depth, Some(palette))
}

/// Expands indexed rows to RGB and draws the logo into its pad (a logo
/// brings its own colours, so the file can no longer be a small palette).
#[allow(clippy::too_many_arguments)]
fn with_logo(
    raw: &[u8],
    stride: usize,
    bits: usize,
    palette: &[u8],
    layout: &Layout,
    pad: LogoBox,
    logo: &crate::codes::logo::Logo,
    (w, h): (u32, u32),
) -> Vec<u8> {
    let rgb_stride = w as usize * 3;
    let mut rgb = vec![0u8; rgb_stride * h as usize];
    let mask = (1u8 << bits) - 1;
    for y in 0..h as usize {
        for x in 0..w as usize {
            let bit = x * bits;
            let byte = raw.get(y * stride + bit / 8).copied().unwrap_or(0);
            let index = (byte >> (8 - bits - bit % 8)) & mask;
            let at = usize::from(index) * 3;
            if let (Some(dst), Some(src)) = (
                rgb.get_mut(y * rgb_stride + x * 3..y * rgb_stride + x * 3 + 3),
                palette.get(at..at + 3),
            ) {
                dst.copy_from_slice(src);
            }
        }
    }
    let origin = f64::from(layout.origin_px);
    let [lx, ly, lw, _] = pad.logo_rect((origin, origin), f64::from(layout.module_px));
    let side = lw.round().max(1.0) as u32;
    let raster = logo.raster(side);
    crate::codes::logo::composite_rgb(
        &mut rgb,
        rgb_stride,
        &raster,
        lx.round() as u32,
        ly.round() as u32,
    );
    rgb
}

/// Encodes rows as a PNG: no filter, zlib level 4. On a code's long runs of
/// identical rows, level 4 took a third of level 7's time (0.19 against
/// 0.57 ms for a 1,230 px code) for files 1.20× qrencode's total size instead
/// of 0.83× (goal ≤ 1.5×); against level 4, the Up filter made files 1.3×
/// larger, level 1 3× and fdeflate's fastest mode 26× (docs/benchmarks.md).
fn write_png(
    data: &[u8],
    (w, h): (u32, u32),
    color: png::ColorType,
    depth: png::BitDepth,
    palette: Option<Vec<u8>>,
) -> Result<Vec<u8>, QrError> {
    let mut out = Vec::with_capacity(data.len() / 8 + 1024);
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(color);
    encoder.set_depth(depth);
    if let Some(p) = palette {
        encoder.set_palette(p);
    }
    encoder.set_deflate_compression(png::DeflateCompression::Level(4));
    encoder.set_filter(png::Filter::NoFilter);
    let png_err = |e: png::EncodingError| {
        QrError::Png(image::ImageError::IoError(std::io::Error::other(
            e.to_string(),
        )))
    };
    let mut writer = encoder.write_header().map_err(png_err)?;
    writer.write_image_data(data).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    Ok(out)
}

/// Draws the caption lines into the packed rows as 16 shades of coverage.
fn draw_caption(raw: &mut [u8], stride: usize, layout: &Layout, depth: png::BitDepth) {
    let Some(font) = font() else { return };
    let (w, h) = (layout.width_px, layout.height_px);
    let mut coverage = vec![0f32; w as usize * h as usize];
    for (text, px, baseline) in &layout.lines {
        let x0 = (w as f32 - text_width(text, *px)) / 2.0;
        draw_text(&mut coverage, w, h, &font, text, *px, x0, *baseline);
    }
    for y in 0..h {
        let Some(row) = raw.get_mut(y as usize * stride..(y as usize + 1) * stride) else {
            continue;
        };
        for x in 0..w {
            let a = coverage[(y * w + x) as usize];
            if a > 0.0 {
                let level = (a.clamp(0.0, 1.0) * 15.0).round() as u8;
                set_index(row, x, level, depth);
            }
        }
    }
}

/// Adds the coverage of `text` to a `w` × `h` coverage map.
#[allow(clippy::too_many_arguments)]
fn draw_text(
    coverage: &mut [f32],
    w: u32,
    h: u32,
    font: &FontRef<'_>,
    text: &str,
    px: f32,
    x0: f32,
    baseline: f32,
) {
    let scale = PxScale::from(px);
    let scaled = font.as_scaled(scale);
    let mut x = x0;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            x += scaled.kern(p, id);
        }
        let glyph: Glyph = id.with_scale_and_position(scale, point(x, baseline));
        x += scaled.h_advance(id);
        prev = Some(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, a| {
            let (ix, iy) = (
                bounds.min.x as i64 + i64::from(gx),
                bounds.min.y as i64 + i64::from(gy),
            );
            if ix < 0 || iy < 0 || ix >= i64::from(w) || iy >= i64::from(h) {
                return;
            }
            if let Some(c) = coverage.get_mut((iy as u64 * u64::from(w) + ix as u64) as usize) {
                *c = (*c + a).min(1.0);
            }
        });
    }
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

/// SVG path data for the dark modules, one run per row segment, scaled by
/// `module` and shifted by (`x0`, `y0`).
pub fn module_path(matrix: &QrMatrix, x0: f64, y0: f64, module: f64) -> String {
    let mut d = String::new();
    for y in 0..matrix.width {
        let mut x = 0;
        while x < matrix.width {
            if !matrix.is_dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < matrix.width && matrix.is_dark(x, y) {
                x += 1;
            }
            let _ = write!(
                d,
                "M{} {}h{}v{}h-{}z",
                fmt_num(x0 + f64::from(start) * module),
                fmt_num(y0 + f64::from(y) * module),
                fmt_num(f64::from(x - start) * module),
                fmt_num(module),
                fmt_num(f64::from(x - start) * module)
            );
        }
    }
    d
}

/// Short decimal form for SVG numbers.
fn fmt_num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The logo as an SVG `<image>` holding the file itself (a data URL), so an
/// SVG logo stays vector. The pad needs no element: its modules are light.
pub fn svg_logo(logo: &crate::codes::logo::Logo, rect: [f64; 4]) -> String {
    use base64::Engine as _;
    let mime = match logo.kind() {
        crate::codes::logo::LogoKind::Png => "image/png",
        crate::codes::logo::LogoKind::Svg => "image/svg+xml",
    };
    format!(
        "<image class=\"logo\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"xMidYMid meet\" href=\"data:{mime};base64,{}\"/>\n",
        fmt_num(rect[0]),
        fmt_num(rect[1]),
        fmt_num(rect[2]),
        fmt_num(rect[3]),
        base64::engine::general_purpose::STANDARD.encode(logo.bytes())
    )
}

/// Renders an SVG document; the caption is real `<text>`.
pub fn render_svg(
    data: &str,
    caption: Option<Caption<'_>>,
    style: &QrStyle,
) -> Result<String, QrError> {
    let matrix = QrMatrix::for_style(data, style)?;
    render_svg_with(data, &matrix, caption, style)
}

/// Renders an SVG document of an already encoded code; `data` is its title.
pub fn render_svg_with(
    data: &str,
    matrix: &QrMatrix,
    caption: Option<Caption<'_>>,
    style: &QrStyle,
) -> Result<String, QrError> {
    style.check_ranges()?;
    let layout = Layout::new(matrix, style, caption);
    let (w, h) = (layout.width_px, layout.height_px);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" shape-rendering="crispEdges">
<title>{}</title>
<rect width="{w}" height="{h}" fill="{}"/>
<path fill="{}" d="{}"/>"#,
        xml_escape(data),
        style.bg,
        style.fg,
        module_path(
            matrix,
            f64::from(layout.origin_px),
            f64::from(layout.origin_px),
            f64::from(layout.module_px)
        )
    );
    if let (Some(pad), Some(logo)) = (matrix.logo, &style.logo) {
        let origin = f64::from(layout.origin_px);
        svg.push_str(&svg_logo(
            logo,
            pad.logo_rect((origin, origin), f64::from(layout.module_px)),
        ));
    }
    for (text, px, baseline) in &layout.lines {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" font-family="{SVG_FONT_FAMILY}" font-size="{}" text-anchor="middle" fill="{}">{}</text>"#,
            fmt_num(f64::from(w) / 2.0),
            fmt_num(f64::from(*baseline)),
            fmt_num(f64::from(*px)),
            style.fg,
            xml_escape(text)
        );
    }
    svg.push_str("</svg>\n");
    Ok(svg)
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
        let e = faint.check().unwrap_err().to_string();
        assert!(e.contains("colours") && e.contains("--force"), "{e}");
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
        assert!(
            pad.clear_of(m.width, |x, y| crate::codes::logo::is_function_module(
                version, x, y
            ))
        );
    }

    #[test]
    fn too_long_data_is_an_error() {
        let data = "x".repeat(3000);
        assert!(matches!(
            QrMatrix::encode(&data, Ecc::H),
            Err(QrError::TooLong { .. })
        ));
    }

    #[test]
    fn svg_escapes_text() {
        let svg = render_svg(
            "https://m.me/x?ref=a",
            Some(Caption {
                cta: "Fish & <chips>",
                url: "https://m.me/x?ref=a",
            }),
            &QrStyle {
                size_px: 256,
                ..QrStyle::default()
            },
        )
        .unwrap();
        assert!(svg.contains("Fish &amp; &lt;chips&gt;</text>"));
    }
}
