//! Proof of scan: every code refboard writes is decoded again with a real QR
//! decoder (rqrr) before the export counts as done.
//!
//! PNGs are decoded from the exact bytes that go to disk. SVG codes are
//! rasterised from the path data in the written document (refboard writes
//! one `<path>` of axis-aligned module runs, which this module parses back).
//! PDF files are rendered page by page with hayro from the written bytes, and
//! each code is cut out of its page and decoded.

use super::{Color, grey_of};
use image::{GrayImage, Luma};

/// Pixels per module when a vector code is rasterised for the proof: enough
/// for rqrr, small enough to be quick.
pub const PROOF_MODULE_PX: f64 = 4.0;
/// Light border added around a rasterised vector code, in modules.
const PROOF_BORDER_MODULES: f64 = 4.0;

/// A filled axis-aligned rectangle: x, y, width, height (any unit).
pub type Rect = [f64; 4];

/// Why a code did not pass the proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofFailure {
    /// No code was found or it could not be read.
    #[error("no readable code was found")]
    Unreadable,
    /// A code was read but holds other data.
    #[error("it reads {found:?} instead")]
    WrongData {
        /// What the decoder read.
        found: String,
    },
    /// The image itself could not be read back.
    #[error("the written image cannot be read back ({0})")]
    BadImage(String),
    /// The SVG holds no module path refboard can read back.
    #[error("the written SVG has no code path")]
    NoPath,
}

/// Decodes every code in a grey image.
pub fn decode_gray(img: GrayImage) -> Vec<Result<String, ()>> {
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .map(|g| g.decode().map(|(_, text)| text).map_err(|_| ()))
        .collect()
}

/// Checks that `img` holds exactly one code and that it reads `expected`.
pub fn verify_gray(img: GrayImage, expected: &str) -> Result<(), ProofFailure> {
    let decoded = decode_gray(img);
    match decoded.as_slice() {
        [Ok(text)] if text == expected => Ok(()),
        [Ok(text)] => Err(ProofFailure::WrongData {
            found: crate::model::shorten_text(text, 80),
        }),
        _ => Err(ProofFailure::Unreadable),
    }
}

/// Decodes PNG bytes and checks they hold one code reading `expected`.
///
/// `shrink` (≥ 1) box-filters the image by that factor first: a 1,230 px code
/// with 30 px modules reads the same at a tenth of the pixels, and rqrr's
/// time grows with the pixel count.
///
/// `phase` (pixels) shifts the blocks so that they start where the modules
/// do: with `shrink` dividing the module size, every output pixel then falls
/// inside one module and the shrunk code is as sharp as the written one.
pub fn verify_png(
    bytes: &[u8],
    expected: &str,
    shrink: u32,
    phase: u32,
) -> Result<(), ProofFailure> {
    let img = decode_png_shrunk(bytes, shrink.max(1), phase)
        .map_err(|e| ProofFailure::BadImage(e.to_string()))?;
    verify_gray(img, expected)
}

/// The shrink factor for a code of `module_px` pixels a module: the largest
/// divisor of it that still leaves at least 3 pixels a module.
pub fn shrink_for(module_px: u32) -> u32 {
    (1..=(module_px / 3).max(1))
        .rev()
        .find(|k| module_px.is_multiple_of(*k))
        .unwrap_or(1)
}

/// Where a shrunk pixel samples its `k` × `k` block: a 2 × 2 grid at a
/// quarter and three quarters of the block (every pixel when k ≤ 2). The
/// export aligns the blocks with the modules ([`shrink_for`] and the phase),
/// so inside the code every sample of a block lies in the same module.
fn sample_offsets(k: u32) -> Vec<u32> {
    if k <= 2 {
        return (0..k).collect();
    }
    vec![k / 4, (3 * k) / 4]
}

/// Decodes PNG bytes to grey, shrunk by the integer factor `k`: each output
/// pixel is the mean of the samples [`sample_offsets`] picks in its block.
///
/// Indexed files (what refboard writes without a logo) are read as packed
/// palette indices, so a 1,230 px 1-bit code is never expanded to 1.5
/// million grey bytes; other files are expanded to 8 bits by the decoder.
pub fn decode_png_shrunk(
    bytes: &[u8],
    k: u32,
    phase: u32,
) -> Result<GrayImage, png::DecodingError> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let indexed = decoder.read_header_info()?.color_type == png::ColorType::Indexed;
    decoder.set_transformations(if indexed {
        png::Transformations::IDENTITY
    } else {
        png::Transformations::EXPAND | png::Transformations::STRIP_16
    });
    let mut reader = decoder.read_info()?;
    let palette: Vec<u8> = reader
        .info()
        .palette
        .as_ref()
        .map(|p| {
            p.chunks(3)
                .map(|c| grey_of(Color([c[0], c[1], c.get(2).copied().unwrap_or(0)])))
                .collect()
        })
        .unwrap_or_default();
    let size = reader
        .output_buffer_size()
        .ok_or(png::DecodingError::LimitsExceeded)?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf)?;
    let bits = match info.bit_depth {
        png::BitDepth::One => 1,
        png::BitDepth::Two => 2,
        png::BitDepth::Four => 4,
        _ => 8,
    };
    let channels = info.color_type.samples();
    let line = info.line_size;
    let grey_at = |x: u32, y: u32| -> u32 {
        let row = y as usize * line;
        if indexed {
            let bit = x as usize * bits;
            let byte = buf.get(row + bit / 8).copied().unwrap_or(0);
            let index = (byte >> (8 - bits - bit % 8)) & ((1u16 << bits) - 1) as u8;
            return u32::from(palette.get(usize::from(index)).copied().unwrap_or(255));
        }
        let at = row + x as usize * channels;
        let px = |i: usize| u32::from(buf.get(at + i).copied().unwrap_or(255));
        if channels >= 3 {
            (px(0) * 54 + px(1) * 183 + px(2) * 19) >> 8
        } else {
            px(0)
        }
    };
    let phase = phase % k.max(1);
    let (w, h) = (
        (info.width.saturating_sub(phase) / k).max(1),
        (info.height.saturating_sub(phase) / k).max(1),
    );
    let offsets = sample_offsets(k);
    let n = (offsets.len() * offsets.len()) as u32;
    Ok(GrayImage::from_fn(w, h, |ox, oy| {
        let mut sum = 0;
        for &dy in &offsets {
            for &dx in &offsets {
                let (x, y) = (phase + ox * k + dx, phase + oy * k + dy);
                sum += if x < info.width && y < info.height {
                    grey_at(x, y)
                } else {
                    255
                };
            }
        }
        Luma([u8::try_from(sum / n.max(1)).unwrap_or(u8::MAX)])
    }))
}

/// Rasterises every page of a written PDF with hayro (a PDF renderer in
/// pure Rust), on white, at `px_per_pt` pixels a point, in grey.
pub fn render_pdf_pages(bytes: &[u8], px_per_pt: f32) -> Result<Vec<GrayImage>, ProofFailure> {
    let pdf = hayro::hayro_syntax::Pdf::new(bytes.to_vec())
        .map_err(|e| ProofFailure::BadImage(format!("the PDF cannot be read back ({e:?})")))?;
    let pages = hayro::render_pdf(
        &pdf,
        px_per_pt,
        hayro::hayro_interpret::InterpreterSettings::default(),
        &hayro::RenderSettings::default(),
        None,
    )
    .ok_or_else(|| ProofFailure::BadImage("the PDF cannot be rendered".into()))?;
    Ok(pages
        .into_iter()
        .map(|page| {
            let (w, h) = (u32::from(page.width()), u32::from(page.height()));
            // Premultiplied over an opaque white ground: the bytes are the colour.
            let rgba = page.data_as_u8_slice();
            let grey: Vec<u8> = rgba
                .chunks_exact(4)
                .map(|p| {
                    let (r, g, b) = (u32::from(p[0]), u32::from(p[1]), u32::from(p[2]));
                    u8::try_from((r * 54 + g * 183 + b * 19) >> 8).unwrap_or(u8::MAX)
                })
                .collect();
            GrayImage::from_raw(w, h, grey).unwrap_or_else(|| GrayImage::new(1, 1))
        })
        .collect())
}

/// Cuts the box `[x, y, w, h]` (pixels, clipped to the image) out of `page`.
pub fn crop(page: &GrayImage, r: [f64; 4]) -> GrayImage {
    let x0 = r[0].max(0.0).floor() as u32;
    let y0 = r[1].max(0.0).floor() as u32;
    let x1 = ((r[0] + r[2]).ceil().max(0.0) as u32).min(page.width());
    let y1 = ((r[1] + r[3]).ceil().max(0.0) as u32).min(page.height());
    if x1 <= x0 || y1 <= y0 {
        return GrayImage::from_pixel(8, 8, Luma([255]));
    }
    image::imageops::crop_imm(page, x0, y0, x1 - x0, y1 - y0).to_image()
}

/// Rasterises dark rectangles (the modules of one code) on a light ground,
/// with a light border, at about [`PROOF_MODULE_PX`] pixels a module.
///
/// `module` is the module size in the rectangles' unit.
pub fn rasterise_rects(rects: &[Rect], module: f64, dark: u8, light: u8) -> GrayImage {
    rasterise_code(rects, module, dark, light, None)
}

/// Like [`rasterise_rects`], with a logo drawn over the modules: its square
/// (same unit as the rectangles) and its pixels, at about
/// [`PROOF_MODULE_PX`] pixels a module.
pub fn rasterise_code(
    rects: &[Rect],
    module: f64,
    dark: u8,
    light: u8,
    logo: Option<(Rect, &image::RgbaImage)>,
) -> GrayImage {
    if rects.is_empty() || module <= 0.0 || !module.is_finite() {
        return GrayImage::from_pixel(8, 8, Luma([light]));
    }
    let min_x = rects.iter().map(|r| r[0]).fold(f64::INFINITY, f64::min);
    let min_y = rects.iter().map(|r| r[1]).fold(f64::INFINITY, f64::min);
    let max_x = rects
        .iter()
        .map(|r| r[0] + r[2])
        .fold(f64::NEG_INFINITY, f64::max);
    let max_y = rects
        .iter()
        .map(|r| r[1] + r[3])
        .fold(f64::NEG_INFINITY, f64::max);
    let scale = PROOF_MODULE_PX / module;
    let border = PROOF_BORDER_MODULES * PROOF_MODULE_PX;
    let to_px = |v: f64| (v * scale).round();
    let w = (to_px(max_x - min_x) + 2.0 * border).clamp(8.0, 8192.0) as u32;
    let h = (to_px(max_y - min_y) + 2.0 * border).clamp(8.0, 8192.0) as u32;
    let mut img = GrayImage::from_pixel(w, h, Luma([light]));
    for r in rects {
        let x0 = (to_px(r[0] - min_x) + border).max(0.0) as u32;
        let y0 = (to_px(r[1] - min_y) + border).max(0.0) as u32;
        let x1 = ((to_px(r[0] + r[2] - min_x) + border) as u32).min(w);
        let y1 = ((to_px(r[1] + r[3] - min_y) + border) as u32).min(h);
        for y in y0..y1 {
            for x in x0..x1 {
                img.put_pixel(x, y, Luma([dark]));
            }
        }
    }
    if let Some((r, pixels)) = logo {
        let x = (to_px(r[0] - min_x) + border) as i64;
        let y = (to_px(r[1] - min_y) + border) as i64;
        super::logo::composite_gray(&mut img, pixels, x, y);
    }
    img
}

/// Reads back the module rectangles of the first `<path … d="…">` in an
/// SVG written by refboard (`M x y h w v m h -w z` runs), with the module size.
pub fn svg_code_rects(svg: &str) -> Option<(Vec<Rect>, f64)> {
    svg_code_paths(svg).into_iter().next()
}

/// Reads back every `<path … d="…">` of an SVG written by refboard, in
/// document order: one code each.
pub fn svg_code_paths(svg: &str) -> Vec<(Vec<Rect>, f64)> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<path") {
        let tail = &rest[start..];
        let Some(d_at) = tail.find(" d=\"").map(|i| i + 4) else {
            break;
        };
        let Some(end) = tail[d_at..].find('"').map(|i| i + d_at) else {
            break;
        };
        if let Some(code) = parse_runs(&tail[d_at..end]) {
            out.push(code);
        }
        rest = &tail[end..];
    }
    out
}

/// Parses `M x y h w v m h -w z` runs into rectangles and the module size.
fn parse_runs(d: &str) -> Option<(Vec<Rect>, f64)> {
    let mut rects = Vec::new();
    let mut module = f64::INFINITY;
    for run in d.split('z').filter(|r| !r.is_empty()) {
        let nums: Vec<f64> = run
            .split(|c: char| c.is_ascii_alphabetic() || c == ' ')
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        let [x, y, w, h, ..] = nums[..] else {
            return None;
        };
        module = module.min(h);
        rects.push([x, y, w, h]);
    }
    (!rects.is_empty()).then_some((rects, module))
}

/// The `fill` colour of the first element named `tag` in an SVG.
fn svg_fill(svg: &str, tag: &str) -> Option<Color> {
    let start = svg.find(&format!("<{tag}"))?;
    let fill = svg[start..].find("fill=\"")? + start + 6;
    let end = svg[fill..].find('"')? + fill;
    Color::parse("fill", &svg[fill..end]).ok()
}

/// Rasterises the code an SVG written by refboard holds and checks it reads
/// `expected`, in the document's own colours.
pub fn verify_svg(svg: &str, expected: &str) -> Result<(), ProofFailure> {
    let (rects, module) = svg_code_rects(svg).ok_or(ProofFailure::NoPath)?;
    let fg = svg_fill(svg, "path").ok_or(ProofFailure::NoPath)?;
    let bg = svg_fill(svg, "rect").unwrap_or(Color::WHITE);
    let logo = svg_logo(svg, module);
    let img = rasterise_code(
        &rects,
        module,
        grey_of(fg),
        grey_of(bg),
        logo.as_ref().map(|(r, img)| (*r, img)),
    );
    verify_gray(img, expected)
}

/// The logo `<image>` of an SVG written by refboard: its square and the
/// embedded file drawn at [`PROOF_MODULE_PX`] pixels a module.
fn svg_logo(svg: &str, module: f64) -> Option<(Rect, image::RgbaImage)> {
    use base64::Engine as _;
    let start = svg.find("<image class=\"logo\"")?;
    let tag = &svg[start..start + svg[start..].find("/>")?];
    let attr = |name: &str| -> Option<&str> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(&tag[at..at + tag[at..].find('"')?])
    };
    let num = |name: &str| attr(name)?.parse::<f64>().ok();
    let rect = [num("x")?, num("y")?, num("width")?, num("height")?];
    let data = attr("href")?.split_once(";base64,")?.1;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .ok()?;
    let logo =
        super::logo::Logo::from_bytes("logo", bytes, super::logo::MAX_LOGO_SHARE, true).ok()?;
    let px = (rect[2] / module * PROOF_MODULE_PX).round().max(1.0) as u32;
    Some((rect, (*logo.raster(px)).clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{QrStyle, render_png, render_svg};

    const URL: &str = "https://m.me/JaspersMarket?ref=freeshipping";

    #[test]
    fn written_codes_pass_and_wrong_or_blank_ones_fail() {
        let style = QrStyle {
            size_px: 512,
            caption: false,
            ..QrStyle::default()
        };
        let png = render_png(URL, None, &style).unwrap();
        assert_eq!(verify_png(&png, URL, 1, 0), Ok(()));
        assert_eq!(verify_png(&png, URL, 3, 0), Ok(()));
        assert_eq!(shrink_for(30), 10);
        assert_eq!(shrink_for(24), 8);
        assert_eq!(shrink_for(13), 1);
        assert!(matches!(
            verify_png(&png, "https://m.me/Other", 1, 0),
            Err(ProofFailure::WrongData { .. })
        ));
        let svg = render_svg(URL, None, &style).unwrap();
        assert_eq!(verify_svg(&svg, URL), Ok(()));
        let blank = GrayImage::from_pixel(64, 64, Luma([255]));
        assert_eq!(verify_gray(blank, URL), Err(ProofFailure::Unreadable));
        assert_eq!(verify_svg("<svg/>", URL), Err(ProofFailure::NoPath));
    }
}
