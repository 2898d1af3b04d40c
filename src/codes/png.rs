//! PNG codes: indexed files (1 bit a pixel, or 4 with an anti-aliased
//! caption), and RGB when a logo brings its own colours.

use super::layout::{Caption, Layout};
use super::logo::{self, LogoBox};
use super::text::{font, text_width};
use super::{QrError, QrMatrix, QrStyle};
use ab_glyph::{Font, FontRef, Glyph, PxScale, ScaleFont, point};

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
    logo: &logo::Logo,
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
    logo::composite_rgb(
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
