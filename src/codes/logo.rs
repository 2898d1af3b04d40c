//! Logos in the centre of a code: loading and checking the file (PNG or
//! SVG), where the light pad goes, and the logo as pixels.
//!
//! A logo hides the modules under its pad, so a code with a logo is always
//! encoded at error correction H, which rebuilds up to 30 % of the codewords.
//! The pad covers at most [`MAX_LOGO_SHARE`] of the symbol's area (the
//! share is the pad's, which is what costs modules). A square pad of a tenth
//! of the area cuts into roughly 14–15 % of the codewords (a codeword is a
//! 2 × 4 block of modules, so a square cuts more codewords than its area
//! alone would say): about half of what H can rebuild, leaving the other
//! half for ink spread, dirt, curved surfaces and poor focus.
//!
//! The pad never covers a finder, timing, alignment or version pattern, nor
//! the module next to one: without those a scanner cannot find the grid at
//! all, and no error correction helps. Versions 7–13 (and 21–27, 35–40) have
//! an alignment pattern right in the centre, so a code that would be one of
//! those is encoded at the next version whose centre is free (see
//! [`crate::codes::QrMatrix::for_style`]).

use super::{Color, grey_of};
use crate::model::{Hint, ValidationError};
use image::{Rgba, RgbaImage};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Largest share of the symbol's area the pad may cover without `--force`.
pub const MAX_LOGO_SHARE: f64 = 0.10;
/// Largest share accepted even with `--force` (the proof of scan still runs,
/// and the patterns stay free whatever the share).
pub const MAX_FORCED_LOGO_SHARE: f64 = 0.40;
/// Largest logo file accepted, in bytes.
pub const MAX_LOGO_BYTES: usize = 4 * 1024 * 1024;
/// Largest logo image side accepted, in pixels (a PNG is checked before it
/// is decoded, so a small file cannot unpack into gigabytes).
pub const MAX_LOGO_SIDE_PX: u32 = 4096;
/// Smallest pad side, in modules: below this a logo is not recognisable.
pub const MIN_PAD_MODULES: u32 = 5;
/// Light margin between the pad's edge and the logo, in modules.
pub const LOGO_MARGIN_MODULES: f64 = 0.5;
/// Modules kept free around every function pattern.
const CLEARANCE_MODULES: u32 = 1;

/// The kind of logo file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    /// A PNG image; embedded as it is in PDFs and SVGs.
    Png,
    /// An SVG drawing; embedded as it is in SVGs, rasterised elsewhere.
    Svg,
}

/// A checked logo file and the share of the code its pad covers.
pub struct Logo {
    kind: LogoKind,
    bytes: Arc<Vec<u8>>,
    /// The decoded PNG (PNG logos only).
    decoded: Option<Arc<RgbaImage>>,
    /// Share of the symbol's area the pad covers, 0–1.
    share: f64,
    /// Rasters already made, by side in pixels (bulk exports reuse one size).
    cache: Mutex<Vec<(u32, Arc<RgbaImage>)>>,
}

impl std::fmt::Debug for Logo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logo")
            .field("kind", &self.kind)
            .field("bytes", &self.bytes.len())
            .field("share", &self.share)
            .finish()
    }
}

impl PartialEq for Logo {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.share == other.share && self.bytes == other.bytes
    }
}

fn invalid(field: &'static str, value: &str, rule: impl Into<String>) -> ValidationError {
    ValidationError::new(field, value, rule)
}

impl Logo {
    /// Reads and checks a logo file (`field` names it in messages).
    pub fn load(path: &Path, share: f64, force: bool) -> Result<Self, ValidationError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path)
            .map_err(|e| invalid("logo", &shown, format!("cannot read the file ({e})")))?;
        if !meta.is_file() {
            return Err(invalid("logo", &shown, "is not a file"));
        }
        if meta.len() > MAX_LOGO_BYTES as u64 {
            return Err(invalid(
                "logo",
                &shown,
                format!(
                    "the file is {} bytes; a logo file is at most {MAX_LOGO_BYTES} bytes",
                    meta.len()
                ),
            ));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| invalid("logo", &shown, format!("cannot read the file ({e})")))?;
        Self::from_bytes(&shown, bytes, share, force)
    }

    /// Checks logo bytes; `name` is what messages call the file.
    pub fn from_bytes(
        name: &str,
        bytes: Vec<u8>,
        share: f64,
        force: bool,
    ) -> Result<Self, ValidationError> {
        check_share(share, force)?;
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(invalid(
                "logo",
                name,
                format!("a logo file is at most {MAX_LOGO_BYTES} bytes"),
            ));
        }
        let kind = sniff(&bytes).ok_or_else(|| {
            invalid(
                "logo",
                name,
                "is neither a PNG nor an SVG file; use a .png or .svg logo",
            )
        })?;
        let decoded = match kind {
            LogoKind::Png => Some(Arc::new(decode_png(name, &bytes)?)),
            LogoKind::Svg => {
                parse_svg(&bytes).map_err(|e| {
                    invalid("logo", name, format!("is not a readable SVG file ({e})"))
                })?;
                None
            }
        };
        Ok(Self {
            kind,
            bytes: Arc::new(bytes),
            decoded,
            share,
            cache: Mutex::new(Vec::new()),
        })
    }

    /// PNG or SVG.
    pub fn kind(&self) -> LogoKind {
        self.kind
    }

    /// The file's bytes, as they are embedded in SVG and PDF output.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Width and height in pixels of a PNG logo (`None` for SVG).
    pub fn pixel_size(&self) -> Option<(u32, u32)> {
        self.decoded.as_ref().map(|d| d.dimensions())
    }

    /// Share of the symbol's area the pad covers, 0–1.
    pub fn share(&self) -> f64 {
        self.share
    }

    /// The logo fitted (aspect kept, centred) into a transparent square of
    /// `side_px` pixels; made once per size.
    pub fn raster(&self, side_px: u32) -> Arc<RgbaImage> {
        let side_px = side_px.clamp(1, MAX_LOGO_SIDE_PX);
        if let Ok(cache) = self.cache.lock()
            && let Some((_, img)) = cache.iter().find(|(s, _)| *s == side_px)
        {
            return img.clone();
        }
        let img = Arc::new(match (&self.decoded, self.kind) {
            (Some(png), _) => fit_png(png, side_px),
            (None, _) => rasterise_svg(&self.bytes, side_px)
                .unwrap_or_else(|| RgbaImage::new(side_px, side_px)),
        });
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 8 {
                cache.remove(0);
            }
            cache.push((side_px, img.clone()));
        }
        img
    }
}

/// Refuses a share out of range; above [`MAX_LOGO_SHARE`] only with `force`.
pub fn check_share(share: f64, force: bool) -> Result<(), ValidationError> {
    let percent = format!("{}", (share * 1000.0).round() / 10.0);
    if !share.is_finite() || share <= 0.0 || share > MAX_FORCED_LOGO_SHARE {
        return Err(invalid(
            "logo-share",
            &percent,
            format!(
                "the logo covers 1 to {} percent of the code",
                MAX_LOGO_SHARE * 100.0
            ),
        ));
    }
    if share > MAX_LOGO_SHARE + 1e-9 && !force {
        return Err(invalid(
            "logo-share",
            &percent,
            format!(
                "a logo covers at most {} percent of the code, so that error correction H can still read it",
                MAX_LOGO_SHARE * 100.0
            ),
        )
        .with_hint(Hint::ForceLogo));
    }
    Ok(())
}

/// The file kind from its first bytes: PNG's signature, or XML text with an
/// `<svg` element near the start.
fn sniff(bytes: &[u8]) -> Option<LogoKind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(LogoKind::Png);
    }
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    (trimmed.starts_with('<') && text.contains("<svg")).then_some(LogoKind::Svg)
}

fn decode_png(name: &str, bytes: &[u8]) -> Result<RgbaImage, ValidationError> {
    let reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Png);
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| invalid("logo", name, format!("is not a readable PNG file ({e})")))?;
    if w == 0 || h == 0 || w > MAX_LOGO_SIDE_PX || h > MAX_LOGO_SIDE_PX {
        return Err(invalid(
            "logo",
            name,
            format!(
                "the image is {w} × {h} pixels; a logo is at most {MAX_LOGO_SIDE_PX} pixels a side"
            ),
        ));
    }
    image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
        .map(|i| i.to_rgba8())
        .map_err(|e| invalid("logo", name, format!("is not a readable PNG file ({e})")))
}

/// Parses an SVG logo. Its `href`s to files are never followed: a logo is
/// drawn from its own bytes only (embedded `data:` images still work).
fn parse_svg(bytes: &[u8]) -> Result<resvg::usvg::Tree, resvg::usvg::Error> {
    let options = resvg::usvg::Options {
        image_href_resolver: resvg::usvg::ImageHrefResolver {
            resolve_data: resvg::usvg::ImageHrefResolver::default_data_resolver(),
            resolve_string: Box::new(|_, _| None),
        },
        ..resvg::usvg::Options::default()
    };
    resvg::usvg::Tree::from_data(bytes, &options)
}

/// Scales a decoded PNG to fit a square of `side` pixels, centred.
fn fit_png(png: &RgbaImage, side: u32) -> RgbaImage {
    let (w, h) = (png.width().max(1), png.height().max(1));
    let scale = f64::from(side) / f64::from(w.max(h));
    let nw = ((f64::from(w) * scale).round() as u32).clamp(1, side);
    let nh = ((f64::from(h) * scale).round() as u32).clamp(1, side);
    let scaled = image::imageops::resize(png, nw, nh, image::imageops::FilterType::Triangle);
    let mut out = RgbaImage::new(side, side);
    image::imageops::overlay(
        &mut out,
        &scaled,
        i64::from((side - nw) / 2),
        i64::from((side - nh) / 2),
    );
    out
}

/// Draws an SVG into a square of `side` pixels, aspect kept and centred.
fn rasterise_svg(bytes: &[u8], side: u32) -> Option<RgbaImage> {
    let tree = parse_svg(bytes).ok()?;
    let size = tree.size();
    let (w, h) = (size.width().max(1e-3), size.height().max(1e-3));
    let scale = side as f32 / w.max(h);
    let dx = (side as f32 - w * scale) / 2.0;
    let dy = (side as f32 - h * scale) / 2.0;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(side, side)?;
    let transform = resvg::tiny_skia::Transform::from_row(scale, 0.0, 0.0, scale, dx, dy);
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    let mut out = RgbaImage::new(side, side);
    for (dst, src) in out.pixels_mut().zip(pixmap.pixels()) {
        let c = src.demultiply();
        *dst = Rgba([c.red(), c.green(), c.blue(), c.alpha()]);
    }
    Some(out)
}

/// The light square a logo sits on, in modules from the symbol's corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogoBox {
    /// Column of the pad's first module.
    pub x0: u32,
    /// Row of the pad's first module.
    pub y0: u32,
    /// Side of the pad, in modules (odd, so it sits on the centre module).
    pub side: u32,
}

impl LogoBox {
    /// The centred pad for a symbol `width` modules wide covering at most
    /// `share` of its area, or `None` when it would be under [`MIN_PAD_MODULES`].
    pub fn centred(width: u32, share: f64) -> Option<Self> {
        let limit = share * f64::from(width) * f64::from(width);
        let mut side = (limit.sqrt().floor() as u32).min(width);
        if side.is_multiple_of(2) {
            side = side.saturating_sub(1);
        }
        (side >= MIN_PAD_MODULES).then(|| Self {
            x0: (width - side) / 2,
            y0: (width - side) / 2,
            side,
        })
    }

    /// Whether module (`x`, `y`) is under the pad.
    pub fn contains(&self, x: u32, y: u32) -> bool {
        (self.x0..self.x0 + self.side).contains(&x) && (self.y0..self.y0 + self.side).contains(&y)
    }

    /// Whether the pad, widened by the clearance, touches no module for
    /// which `is_function(x, y)` holds.
    pub fn clear_of(&self, width: u32, is_function: impl Fn(u32, u32) -> bool) -> bool {
        let lo_x = self.x0.saturating_sub(CLEARANCE_MODULES);
        let lo_y = self.y0.saturating_sub(CLEARANCE_MODULES);
        let hi_x = (self.x0 + self.side + CLEARANCE_MODULES).min(width);
        let hi_y = (self.y0 + self.side + CLEARANCE_MODULES).min(width);
        (lo_y..hi_y).all(|y| (lo_x..hi_x).all(|x| !is_function(x, y)))
    }

    /// The pad as x, y, w, h, for a symbol whose module (0, 0) starts at
    /// `origin` with modules of `module` (any unit).
    pub fn pad_rect(&self, origin: (f64, f64), module: f64) -> [f64; 4] {
        let side = f64::from(self.side) * module;
        [
            origin.0 + f64::from(self.x0) * module,
            origin.1 + f64::from(self.y0) * module,
            side,
            side,
        ]
    }

    /// Where the logo itself goes: the pad less its margin.
    pub fn logo_rect(&self, origin: (f64, f64), module: f64) -> [f64; 4] {
        let [x, y, w, h] = self.pad_rect(origin, module);
        let m = LOGO_MARGIN_MODULES * module;
        [x + m, y + m, (w - 2.0 * m).max(0.0), (h - 2.0 * m).max(0.0)]
    }
}

/// Whether module (`x`, `y`) of a version `version` symbol is part of a
/// finder (with separator and format area), timing, alignment or version
/// pattern.
pub fn is_function_module(version: i16, x: u32, y: u32) -> bool {
    let width = 17 + 4 * u32::try_from(version).unwrap_or(1);
    let version_info = version >= 7
        && ((x + 11 >= width && x < width - 8 && y < 6)
            || (y + 11 >= width && y < width - 8 && x < 6));
    if version_info {
        return true;
    }
    match (usize::try_from(x), usize::try_from(y)) {
        (Ok(xu), Ok(yu)) if x < width && y < width => qrcode::canvas::is_functional(
            qrcode::Version::Normal(version),
            width as i16,
            xu as i16,
            yu as i16,
        ),
        _ => true,
    }
}

/// Grey level of a pixel composited over `under` (0–255 each).
fn over(under: u8, px: &Rgba<u8>) -> u8 {
    let [r, g, b, a] = px.0;
    let grey = grey_of(Color([r, g, b]));
    let a = u16::from(a);
    u8::try_from((u16::from(grey) * a + u16::from(under) * (255 - a) + 127) / 255)
        .unwrap_or(u8::MAX)
}

/// Draws `logo` over a grey image with its top-left corner at (`x`, `y`).
pub fn composite_gray(img: &mut image::GrayImage, logo: &RgbaImage, x: i64, y: i64) {
    for (lx, ly, px) in logo.enumerate_pixels() {
        if px.0[3] == 0 {
            continue;
        }
        let (ix, iy) = (x + i64::from(lx), y + i64::from(ly));
        if ix < 0 || iy < 0 || ix >= i64::from(img.width()) || iy >= i64::from(img.height()) {
            continue;
        }
        let p = img.get_pixel_mut(ix as u32, iy as u32);
        p.0[0] = over(p.0[0], px);
    }
}

/// Draws `logo` over packed RGB rows (`stride` bytes a row) at (`x`, `y`).
pub fn composite_rgb(rgb: &mut [u8], stride: usize, logo: &RgbaImage, x: u32, y: u32) {
    for (lx, ly, px) in logo.enumerate_pixels() {
        let [r, g, b, a] = px.0;
        if a == 0 {
            continue;
        }
        let at = (y + ly) as usize * stride + (x + lx) as usize * 3;
        let Some(dst) = rgb.get_mut(at..at + 3) else {
            continue;
        };
        let a = u16::from(a);
        for (d, s) in dst.iter_mut().zip([r, g, b]) {
            *d = u8::try_from((u16::from(s) * a + u16::from(*d) * (255 - a) + 127) / 255)
                .unwrap_or(u8::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_is_odd_centred_and_within_the_share() {
        let b = LogoBox::centred(41, MAX_LOGO_SHARE).unwrap();
        assert_eq!(b.side % 2, 1);
        assert_eq!(b.x0 * 2 + b.side, 41);
        assert!(f64::from(b.side * b.side) <= 0.1 * 41.0 * 41.0);
        assert!(LogoBox::centred(21, 0.02).is_none());
    }

    #[test]
    fn version_7_has_an_alignment_pattern_in_the_centre() {
        // Version 7 is 45 modules wide; its centre (22, 22) is an alignment pattern.
        assert!(is_function_module(7, 22, 22));
        assert!(!is_function_module(6, 20, 20));
        let b = LogoBox::centred(45, 0.1).unwrap();
        assert!(!b.clear_of(45, |x, y| is_function_module(7, x, y)));
        let b = LogoBox::centred(41, 0.1).unwrap();
        assert!(b.clear_of(41, |x, y| is_function_module(6, x, y)));
    }

    #[test]
    fn files_that_are_not_png_or_svg_are_refused() {
        let e = Logo::from_bytes("a.gif", b"GIF89a....".to_vec(), 0.1, false).unwrap_err();
        assert_eq!(e.field, "logo");
        assert!(e.to_string().contains("PNG nor an SVG"), "{e}");
        let e = Logo::from_bytes("a.svg", b"<svg".to_vec(), 0.1, false).unwrap_err();
        assert!(e.to_string().contains("SVG"), "{e}");
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20"><rect width="10" height="20" fill="red"/></svg>"#;
        let logo = Logo::from_bytes("a.svg", svg.to_vec(), 0.1, false).unwrap();
        let r = logo.raster(40);
        assert_eq!(r.dimensions(), (40, 40));
        // Aspect kept: the corners are transparent, the middle red.
        assert_eq!(r.get_pixel(0, 0).0[3], 0);
        assert_eq!(r.get_pixel(20, 20).0, [255, 0, 0, 255]);
        let e = Logo::from_bytes("a.svg", svg.to_vec(), 0.2, false).unwrap_err();
        assert_eq!(e.field, "logo-share");
    }

    #[test]
    fn an_svg_logo_never_reads_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let red = dir.path().join("red.svg");
        std::fs::write(
            &red,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>"#,
        )
        .unwrap();
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="{}" width="10" height="10"/></svg>"#,
            red.display()
        );
        let logo = Logo::from_bytes("a.svg", svg.into_bytes(), 0.1, false).unwrap();
        assert!(
            logo.raster(20).pixels().all(|p| p.0[3] == 0),
            "nothing drawn"
        );
    }
}
