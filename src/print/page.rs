//! The drawing surface the three layouts share: fitting text into a box
//! (wrap, shrink, shorten), placing a code with its caption, cut marks, and
//! the record of everything placed for the proof of scan.

use super::options::Paper;
use super::{
    LABEL_SAFE_MM, MIN_CODE_MM, MIN_MODULE_MM, MIN_TEXT_PT, PlacedCode, PlacedText, PrintError,
};
use crate::codes::proof::Rect;
use crate::codes::{Color, QrMatrix, QrStyle, em_scale};
use crate::model::{ExportItem, ValidationError};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::text::{Font, TextDirection};

pub(super) const PT_PER_MM: f64 = 72.0 / 25.4;
pub(super) const LINE_HEIGHT: f64 = 1.2;
pub(super) const PAGE_MARGIN_MM: f64 = 12.0;
pub(super) const CUT_MARK_MM: f64 = 4.0;
/// Resolution an SVG logo is rasterised at in a PDF (print quality).
pub const LOGO_DPI: f64 = 600.0;
pub(super) const TEXT_COLOR: Color = Color([0x20, 0x20, 0x20]);
pub(super) const GREY: Color = Color([0x70, 0x70, 0x70]);

pub(super) fn mm(v: f64) -> f64 {
    v * PT_PER_MM
}

/// Width of `text` set at `size_pt` points, in points.
pub(super) fn text_width(text: &str, size_pt: f32) -> f32 {
    crate::codes::text_width(text, em_scale(size_pt))
}

/// Lines of `text` set at `size_pt` points, none wider than `max_w` points.
pub(super) fn wrap(text: &str, size_pt: f32, max_w: f32) -> Vec<String> {
    crate::codes::wrap(text, em_scale(size_pt), max_w)
}

/// Text fitted into a box.
pub(super) struct Fitted {
    pub(super) lines: Vec<String>,
    pub(super) size_pt: f64,
    pub(super) shortened: bool,
}

/// Wraps `text` to `max_w`, shrinking from `start_pt` to [`MIN_TEXT_PT`]
/// until it fits `max_h`; at the minimum, cuts it with "…".
/// `None` when not even one line fits at the minimum size.
pub(super) fn fit(text: &str, max_w: f64, max_h: f64, start_pt: f64) -> Option<Fitted> {
    let text = printable(text);
    let mut size = start_pt.max(MIN_TEXT_PT);
    loop {
        let lines = wrap(&text, size as f32, max_w as f32);
        if lines.len() as f64 * size * LINE_HEIGHT <= max_h {
            return Some(Fitted {
                lines,
                size_pt: size,
                shortened: false,
            });
        }
        if size <= MIN_TEXT_PT {
            break;
        }
        size = (size - 0.5).max(MIN_TEXT_PT);
    }
    let room = (max_h / (MIN_TEXT_PT * LINE_HEIGHT)).floor() as usize;
    if room == 0 {
        return None;
    }
    let mut lines = wrap(&text, MIN_TEXT_PT as f32, max_w as f32);
    lines.truncate(room);
    if let Some(last) = lines.last_mut() {
        let mut chars: Vec<char> = last.chars().collect();
        loop {
            let candidate: String = chars.iter().collect::<String>() + "…";
            if text_width(&candidate, MIN_TEXT_PT as f32) as f64 <= max_w || chars.is_empty() {
                *last = candidate;
                break;
            }
            chars.pop();
        }
    }
    Some(Fitted {
        lines,
        size_pt: MIN_TEXT_PT,
        shortened: true,
    })
}

/// Control and bidi-override characters from strangers' text become visible
/// replacement marks instead of reaching the PDF.
pub(super) fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
            {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// The link as a person types it: `m.me/JaspersMarket` (no scheme, no ref).
pub fn readable_link(url: &str) -> String {
    let no_scheme = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    no_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or(no_scheme)
        .to_string()
}

/// The name a flyer shows for the page.
pub(super) fn page_label(item: &ExportItem) -> String {
    if item.page_name.trim().is_empty() {
        readable_link(&item.url)
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string()
    } else {
        item.page_name.trim().to_string()
    }
}

/// The links whose printed text (call to action, link, footer without the
/// ref) another link of `items` prints too: their footers add the ref, so
/// two different codes never read the same. Copies of one link are alike.
pub(super) fn ambiguous(items: &[ExportItem]) -> std::collections::HashSet<String> {
    let mut by_text: std::collections::HashMap<(String, String, String), Vec<&str>> =
        std::collections::HashMap::new();
    for i in items {
        let key = (
            i.cta.trim().to_string(),
            readable_link(&i.url),
            footer(i, false),
        );
        let urls = by_text.entry(key).or_default();
        if !urls.contains(&i.url.as_str()) {
            urls.push(&i.url);
        }
    }
    by_text
        .into_values()
        .filter(|urls| urls.len() > 1)
        .flatten()
        .map(str::to_string)
        .collect()
}

/// The small footer: campaign · channel (· ref when asked for).
pub(super) fn footer(item: &ExportItem, show_ref: bool) -> String {
    let mut parts: Vec<&str> = [item.campaign.as_str(), item.channel.as_str()]
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect();
    if show_ref {
        parts.push(&item.ref_code);
    }
    parts.join(" · ")
}

/// Draws onto one page and records what was placed.
pub(super) struct PageWriter<'a, 'b> {
    surface: krilla::surface::Surface<'a>,
    font: Font,
    page: usize,
    out: &'b mut Placed,
}

/// Everything placed so far.
#[derive(Default)]
pub(super) struct Placed {
    pub(super) codes: Vec<PlacedCode>,
    pub(super) texts: Vec<PlacedText>,
    pub(super) notes: Vec<String>,
}

pub(super) fn fill(c: Color) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0[0], c.0[1], c.0[2]).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

impl PageWriter<'_, '_> {
    /// Fills a rectangle (points).
    pub(super) fn rect(&mut self, r: Rect, color: Color) {
        let mut pb = PathBuilder::new();
        if let Some(rect) =
            krilla::geom::Rect::from_xywh(r[0] as f32, r[1] as f32, r[2] as f32, r[3] as f32)
        {
            pb.push_rect(rect);
        }
        if let Some(path) = pb.finish() {
            self.surface.set_fill(Some(fill(color)));
            self.surface.draw_path(&path);
        }
    }

    /// Draws a code whose box (quiet zone included) has its top-left corner
    /// at (`x`, `y`) and side `side` points.
    pub(super) fn code(
        &mut self,
        item: &ExportItem,
        matrix: &QrMatrix,
        style: &QrStyle,
        x: f64,
        y: f64,
        side: f64,
    ) {
        let modules = f64::from(matrix.width + 2 * style.quiet_zone_modules);
        let module = side / modules;
        let origin = f64::from(style.quiet_zone_modules) * module;
        self.rect([x, y, side, side], style.bg);
        let mut rects = Vec::new();
        let mut pb = PathBuilder::new();
        for my in 0..matrix.width {
            let mut mx = 0;
            while mx < matrix.width {
                if !matrix.is_dark(mx, my) {
                    mx += 1;
                    continue;
                }
                let start = mx;
                while mx < matrix.width && matrix.is_dark(mx, my) {
                    mx += 1;
                }
                let r = [
                    x + origin + f64::from(start) * module,
                    y + origin + f64::from(my) * module,
                    f64::from(mx - start) * module,
                    module,
                ];
                if let Some(rect) = krilla::geom::Rect::from_xywh(
                    r[0] as f32,
                    r[1] as f32,
                    r[2] as f32,
                    r[3] as f32,
                ) {
                    pb.push_rect(rect);
                }
                rects.push(r);
            }
        }
        if let Some(path) = pb.finish() {
            self.surface.set_fill(Some(fill(style.fg)));
            self.surface.draw_path(&path);
        }
        let logo = match (matrix.logo, &style.logo) {
            (Some(pad), Some(logo)) => {
                let rect = pad.logo_rect((x + origin, y + origin), module);
                self.logo(logo, rect);
                // The proof draws the logo at its own resolution (4 px a module).
                let proof_px = (rect[2] / module * crate::codes::proof::PROOF_MODULE_PX).round();
                Some((rect, logo.raster(proof_px.max(1.0) as u32)))
            }
            _ => None,
        };
        self.out.codes.push(PlacedCode {
            ref_code: item.ref_code.clone(),
            url: item.url.clone(),
            page: self.page,
            rects,
            module,
            dark: crate::codes::grey_of(style.fg),
            light: crate::codes::grey_of(style.bg),
            logo,
        });
    }

    /// Draws a logo into the square `rect` (points), aspect kept: a PNG
    /// logo is embedded as the file itself, an SVG logo is rasterised at
    /// [`LOGO_DPI`].
    pub(super) fn logo(&mut self, logo: &crate::codes::logo::Logo, rect: Rect) {
        let side = rect[2];
        let (image, w, h) = match (logo.kind(), logo.pixel_size()) {
            (crate::codes::logo::LogoKind::Png, Some((pw, ph))) => {
                let Ok(image) =
                    krilla::image::Image::from_png(krilla::Data::from(logo.bytes().to_vec()), true)
                else {
                    return;
                };
                let scale = side / f64::from(pw.max(ph).max(1));
                (image, f64::from(pw) * scale, f64::from(ph) * scale)
            }
            _ => {
                let px = (side / 72.0 * LOGO_DPI).round().clamp(1.0, 2048.0) as u32;
                let raster = logo.raster(px);
                let image = krilla::image::Image::from_rgba8(raster.as_raw().clone(), px, px);
                (image, side, side)
            }
        };
        let Some(size) = krilla::geom::Size::from_wh(w as f32, h as f32) else {
            return;
        };
        let tx = rect[0] + (side - w) / 2.0;
        let ty = rect[1] + (rect[3] - h) / 2.0;
        self.surface
            .push_transform(&krilla::geom::Transform::from_translate(
                tx as f32, ty as f32,
            ));
        self.surface.draw_image(image, size);
        self.surface.pop();
    }

    /// Fits `text` into the cell and draws it, centred or left-aligned,
    /// from the cell's top. Returns the height used.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn text(
        &mut self,
        item: &ExportItem,
        text: &str,
        cell: Rect,
        start_pt: f64,
        centred: bool,
        color: Color,
        what: &str,
    ) -> Result<f64, PrintError> {
        if text.trim().is_empty() {
            return Ok(0.0);
        }
        let fitted = fit(text, cell[2], cell[3], start_pt).ok_or_else(|| {
            ValidationError::new(
                "layout",
                text,
                format!(
                    "the {what} of {:?} cannot fit its {:.1} × {:.1} mm space even at {MIN_TEXT_PT} pt; choose fewer columns, a larger label or a flyer",
                    crate::model::shorten_text(&item.ref_code, 40),
                    cell[2] / PT_PER_MM,
                    cell[3] / PT_PER_MM
                ),
            )
        })?;
        if fitted.shortened {
            self.out.notes.push(format!(
                "{}: the {what} was shortened with … to fit (minimum size {MIN_TEXT_PT} pt)",
                crate::model::shorten_text(&item.ref_code, 40)
            ));
        }
        let size = fitted.size_pt;
        let line_h = size * LINE_HEIGHT;
        let ascent = size * 0.93;
        let mut widest: f64 = 0.0;
        let mut min_x = f64::INFINITY;
        self.surface.set_fill(Some(fill(color)));
        for (i, line) in fitted.lines.iter().enumerate() {
            let w = f64::from(text_width(line, size as f32));
            let x = if centred {
                cell[0] + (cell[2] - w) / 2.0
            } else {
                cell[0]
            };
            widest = widest.max(w);
            min_x = min_x.min(x);
            let baseline = cell[1] + i as f64 * line_h + ascent;
            self.surface.draw_text(
                Point::from_xy(x as f32, baseline as f32),
                self.font.clone(),
                size as f32,
                line,
                false,
                TextDirection::Auto,
            );
        }
        let used = fitted.lines.len() as f64 * line_h;
        self.out.texts.push(PlacedText {
            page: self.page,
            lines: fitted.lines,
            bbox: [min_x, cell[1], widest, used],
            cell,
            size_pt: size,
        });
        Ok(used)
    }

    /// Short thin lines at (x, y), pointing away from the content.
    pub(super) fn cut_mark(&mut self, from: (f64, f64), to: (f64, f64)) {
        let mut pb = PathBuilder::new();
        pb.move_to(from.0 as f32, from.1 as f32);
        pb.line_to(to.0 as f32, to.1 as f32);
        if let Some(path) = pb.finish() {
            self.surface.set_fill(None);
            self.surface.set_stroke(Some(Stroke {
                paint: rgb::Color::new(0, 0, 0).into(),
                width: 0.3,
                ..Default::default()
            }));
            self.surface.draw_path(&path);
            self.surface.set_stroke(None);
        }
    }

    /// Marks every column and row boundary in the page margins.
    pub(super) fn cut_marks(&mut self, page: (f64, f64), xs: &[f64], ys: &[f64]) {
        let (Some(&top), Some(&bottom)) = (ys.first(), ys.last()) else {
            return;
        };
        let (Some(&left), Some(&right)) = (xs.first(), xs.last()) else {
            return;
        };
        let len = mm(CUT_MARK_MM);
        let gap = mm(1.0);
        for &x in xs {
            self.cut_mark((x, (top - gap - len).max(0.0)), (x, top - gap));
            self.cut_mark((x, bottom + gap), (x, (bottom + gap + len).min(page.1)));
        }
        for &y in ys {
            self.cut_mark(((left - gap - len).max(0.0), y), (left - gap, y));
            self.cut_mark((right + gap, y), ((right + gap + len).min(page.0), y));
        }
    }
}

/// Checks a code fits the size rules at `side` points (quiet zone included).
pub(super) fn check_code_size(
    item: &ExportItem,
    matrix: &QrMatrix,
    style: &QrStyle,
    side: f64,
    place: &str,
) -> Result<(), PrintError> {
    let modules = f64::from(matrix.width + 2 * style.quiet_zone_modules);
    let module_mm = side / modules / PT_PER_MM;
    let symbol_mm = module_mm * f64::from(matrix.width);
    if symbol_mm + 1e-9 < MIN_CODE_MM {
        return Err(ValidationError::new(
            "layout",
            place,
            format!(
                "the code of {:?} would print {symbol_mm:.1} mm wide; no code is printed smaller than {MIN_CODE_MM} mm (2 cm): choose fewer columns, a larger label or a flyer",
                crate::model::shorten_text(&item.ref_code, 40)
            ),
        )
        .into());
    }
    if module_mm + 1e-9 < MIN_MODULE_MM {
        return Err(ValidationError::new(
            "layout",
            place,
            format!(
                "the code of {:?} has {} modules a side and each would print {module_mm:.2} mm; no module is printed smaller than {MIN_MODULE_MM} mm: use a lower error correction, a shorter ref, fewer columns or a flyer",
                crate::model::shorten_text(&item.ref_code, 40),
                matrix.width
            ),
        )
        .into());
    }
    Ok(())
}

/// Starts a page of `paper` and runs `draw` on it.
pub(super) fn with_page<T>(
    doc: &mut Document,
    font: &Font,
    paper: Paper,
    page: usize,
    placed: &mut Placed,
    draw: impl FnOnce(&mut PageWriter<'_, '_>) -> Result<T, PrintError>,
) -> Result<T, PrintError> {
    let (w, h) = paper.size_mm();
    let settings = PageSettings::from_wh(mm(w) as f32, mm(h) as f32)
        .ok_or_else(|| PrintError::Pdf("bad page size".into()))?;
    let mut pdf_page = doc.start_page_with(settings);
    let result = {
        let surface = pdf_page.surface();
        let mut writer = PageWriter {
            surface,
            font: font.clone(),
            page,
            out: placed,
        };
        let result = draw(&mut writer);
        writer.surface.finish();
        result
    };
    pdf_page.finish();
    result
}

/// The title line of a sheet: page name · campaign(s).
pub(super) fn title_of(items: &[ExportItem]) -> String {
    let Some(first) = items.first() else {
        return String::new();
    };
    let mut campaigns: Vec<&str> = items.iter().map(|i| i.campaign.as_str()).collect();
    campaigns.sort_unstable();
    campaigns.dedup();
    let campaign = if campaigns.len() == 1 {
        campaigns[0].to_string()
    } else {
        format!("{} campaigns", campaigns.len())
    };
    [page_label(first), campaign]
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Draws one cell's code and caption: code box on top (or at the left when
/// `beside`), then the call to action, the readable link and the footer.
// Long on purpose: the code box and the three lines of text under (or beside) it share one running position.
#[allow(clippy::too_many_arguments)]
pub(super) fn cell(
    p: &mut PageWriter<'_, '_>,
    item: &ExportItem,
    matrix: &QrMatrix,
    style: &QrStyle,
    show_ref: bool,
    cell: Rect,
    code_side: f64,
    beside: bool,
    place: &str,
) -> Result<(), PrintError> {
    check_code_size(item, matrix, style, code_side, place)?;
    let cta_pt = 10.0;
    let link_pt = 7.5;
    let foot_pt = 6.0;
    let foot = footer(item, show_ref);
    let (text_box, centred) = if beside {
        p.code(
            item,
            matrix,
            style,
            cell[0],
            cell[1] + (cell[3] - code_side) / 2.0,
            code_side,
        );
        let x = cell[0] + code_side + mm(1.0);
        (
            [
                x,
                cell[1] + mm(LABEL_SAFE_MM),
                cell[0] + cell[2] - x - mm(LABEL_SAFE_MM),
                cell[3] - 2.0 * mm(LABEL_SAFE_MM),
            ],
            false,
        )
    } else {
        p.code(
            item,
            matrix,
            style,
            cell[0] + (cell[2] - code_side) / 2.0,
            cell[1],
            code_side,
        );
        let y = cell[1] + code_side;
        ([cell[0], y, cell[2], cell[1] + cell[3] - y], true)
    };
    // The link takes one line and the footer the lines it wraps to (up to
    // four, so it is wrapped before it is cut); the call to action gets
    // what they leave and shrinks to fit it.
    let link_h = link_pt * LINE_HEIGHT;
    // The call to action keeps room for one line at the smallest size.
    let cta_min = if item.cta.trim().is_empty() {
        0.0
    } else {
        MIN_TEXT_PT * LINE_HEIGHT
    };
    let room = ((text_box[3] - link_h - cta_min) / (foot_pt * LINE_HEIGHT)).floor();
    let foot_lines = (wrap(&printable(&foot), foot_pt as f32, text_box[2] as f32).len() as f64)
        .min(4.0)
        .min(room)
        .max(1.0);
    let foot_h = if foot.is_empty() {
        0.0
    } else {
        foot_pt * LINE_HEIGHT * foot_lines
    };
    let cta_h = (text_box[3] - link_h - foot_h).max(0.0);
    let mut y = text_box[1];
    // No call to action prints none: a made-up one would promise what the
    // page may not give.
    p.text(
        item,
        &item.cta,
        [text_box[0], y, text_box[2], cta_h],
        cta_pt,
        centred,
        TEXT_COLOR,
        "call to action",
    )?;
    y += cta_h;
    p.text(
        item,
        &readable_link(&item.url),
        [text_box[0], y, text_box[2], link_h],
        link_pt,
        centred,
        TEXT_COLOR,
        "link",
    )?;
    y += link_h;
    p.text(
        item,
        &foot,
        [text_box[0], y, text_box[2], foot_h],
        foot_pt,
        centred,
        GREY,
        "footer",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_then_shrinks_then_is_shortened() {
        let short = fit("Get free shipping", mm(50.0), mm(10.0), 10.0).unwrap();
        assert_eq!(short.lines, ["Get free shipping"]);
        assert_eq!(short.size_pt, 10.0);
        let long = "Get our weekly deals, recipes and members-only coupons in Messenger every Friday morning";
        let wrapped = fit(long, mm(50.0), mm(30.0), 10.0).unwrap();
        assert!(wrapped.lines.len() > 1 && !wrapped.shortened);
        let squeezed = fit(long, mm(30.0), mm(6.0), 10.0).unwrap();
        assert!(squeezed.shortened && squeezed.size_pt == MIN_TEXT_PT);
        assert!(squeezed.lines.last().unwrap().ends_with('…'));
        for l in &squeezed.lines {
            assert!(f64::from(text_width(l, MIN_TEXT_PT as f32)) <= mm(30.0));
        }
        assert!(fit(long, mm(30.0), 2.0, 10.0).is_none());
    }

    #[test]
    fn readable_links_drop_scheme_and_ref() {
        assert_eq!(
            readable_link("https://m.me/JaspersMarket?ref=freeshipping"),
            "m.me/JaspersMarket"
        );
        assert_eq!(
            readable_link("https://ig.me/m/jasper?ref=x"),
            "ig.me/m/jasper"
        );
        assert_eq!(printable("a\u{1b}[31mb\u{202e}"), "a\u{fffd}[31mb\u{fffd}");
    }
}
