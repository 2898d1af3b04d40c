//! Print-ready PDFs: grid sheets, sticker labels and one-link flyers, on A4
//! or US Letter, written with krilla (see docs/print.md for why).
//!
//! Codes are vector paths, one filled rectangle per run of dark modules, and
//! the same rectangles are returned with the PDF so the export can decode
//! them (proof of scan). Text uses the DejaVu Sans font from `assets/`,
//! embedded and subset, so a file prints the same anywhere.
//!
//! Rules every layout keeps:
//! - the customer reads the call to action and the readable link
//!   (`m.me/JaspersMarket`); the ref code is internal and appears only in a
//!   small footer, and only when asked for;
//! - text never leaves its cell: it wraps, then shrinks down to
//!   [`MIN_TEXT_PT`], then is cut with "…" (and the export says which link);
//! - no code is smaller than [`MIN_CODE_MM`], no module smaller than
//!   [`MIN_MODULE_MM`]: a layout that would break this is refused.

use crate::codes::proof::Rect;
use crate::codes::{Color, QrError, QrMatrix, QrStyle, em_scale};
use crate::model::{ExportItem, ValidationError};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::text::{Font, TextDirection};

/// Smallest code printed: the symbol's side without its quiet zone.
pub const MIN_CODE_MM: f64 = 20.0;
/// Smallest module printed; below it print spread and phone focus lose modules.
pub const MIN_MODULE_MM: f64 = 0.4;
/// Smallest type a caption shrinks to before it is shortened.
pub const MIN_TEXT_PT: f64 = 6.0;
/// Distance kept from a label's edge (die-cut tolerance).
pub const LABEL_SAFE_MM: f64 = 1.5;
/// Columns a grid may have.
pub const MAX_GRID_COLUMNS: u32 = 6;

const PT_PER_MM: f64 = 72.0 / 25.4;
const LINE_HEIGHT: f64 = 1.2;
const PAGE_MARGIN_MM: f64 = 12.0;
const CUT_MARK_MM: f64 = 4.0;
/// Resolution an SVG logo is rasterised at in a PDF (print quality).
pub const LOGO_DPI: f64 = 600.0;
const TEXT_COLOR: Color = Color([0x20, 0x20, 0x20]);
const GREY: Color = Color([0x70, 0x70, 0x70]);

fn mm(v: f64) -> f64 {
    v * PT_PER_MM
}

/// Width of `text` set at `size_pt` points, in points.
fn text_width(text: &str, size_pt: f32) -> f32 {
    crate::codes::text_width(text, em_scale(size_pt))
}

/// Lines of `text` set at `size_pt` points, none wider than `max_w` points.
fn wrap(text: &str, size_pt: f32, max_w: f32) -> Vec<String> {
    crate::codes::wrap(text, em_scale(size_pt), max_w)
}

/// What can go wrong while laying out a PDF.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// The layout does not fit the rules (code size, paper, text).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A code could not be encoded.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// The PDF writer failed (not the user's doing).
    #[error("cannot write the PDF: {0}")]
    Pdf(String),
}

impl PrintError {
    /// True when the user's input or choice of layout caused the error.
    pub fn is_user_error(&self) -> bool {
        match self {
            PrintError::Invalid(_) => true,
            PrintError::Qr(q) => matches!(q, QrError::Invalid(_) | QrError::TooLong { .. }),
            PrintError::Pdf(_) => false,
        }
    }
}

/// Paper size.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm.
    #[default]
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// Width and height in millimetres.
    pub fn size_mm(self) -> (f64, f64) {
        match self {
            Paper::A4 => (210.0, 297.0),
            Paper::Letter => (215.9, 279.4),
        }
    }

    /// Name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
        }
    }
}

/// How links are arranged on the pages.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum PrintLayout {
    /// N codes a page with captions, the columns chosen by the user.
    #[default]
    Grid,
    /// One code a sticker on a sheet of labels (see [`LabelPreset`]).
    Labels,
    /// One link a page: name, call to action, a big code and the link.
    Flyer,
}

/// Sticker sheets, with dimensions from the makers' specifications.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum LabelPreset {
    /// Avery L7160, A4: 21 labels (3 × 7) of 63.5 × 38.1 mm.
    #[default]
    #[value(name = "l7160")]
    L7160,
    /// Avery L7159, A4: 24 labels (3 × 8) of 63.5 × 33.9 mm.
    #[value(name = "l7159")]
    L7159,
    /// Avery 5160, Letter: 30 labels (3 × 10) of 2.625 × 1 in.
    #[value(name = "5160")]
    Avery5160,
    /// Avery 22806, Letter: 12 square labels (3 × 4) of 2 × 2 in.
    #[value(name = "22806")]
    Avery22806,
}

/// One sticker sheet's geometry, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelSpec {
    /// The sheet's paper.
    pub paper: Paper,
    /// Labels across and down.
    pub columns: u32,
    /// Labels down.
    pub rows: u32,
    /// One label's width and height.
    pub label_w_mm: f64,
    /// One label's height.
    pub label_h_mm: f64,
    /// Page edge to the first label, left and top.
    pub left_mm: f64,
    /// Page top to the first label.
    pub top_mm: f64,
    /// Distance from one label's left edge to the next one's.
    pub pitch_x_mm: f64,
    /// Distance from one label's top edge to the next one's.
    pub pitch_y_mm: f64,
}

impl LabelPreset {
    /// Every preset.
    pub const ALL: [LabelPreset; 4] = [
        LabelPreset::L7160,
        LabelPreset::L7159,
        LabelPreset::Avery5160,
        LabelPreset::Avery22806,
    ];

    /// The sheet's geometry (docs/print.md has the table and sources).
    pub fn spec(self) -> LabelSpec {
        const IN: f64 = 25.4;
        match self {
            LabelPreset::L7160 => LabelSpec {
                paper: Paper::A4,
                columns: 3,
                rows: 7,
                label_w_mm: 63.5,
                label_h_mm: 38.1,
                left_mm: 7.21,
                top_mm: 15.15,
                pitch_x_mm: 66.04,
                pitch_y_mm: 38.1,
            },
            LabelPreset::L7159 => LabelSpec {
                paper: Paper::A4,
                columns: 3,
                rows: 8,
                label_w_mm: 63.5,
                label_h_mm: 33.9,
                left_mm: 7.21,
                top_mm: 12.9,
                pitch_x_mm: 66.04,
                pitch_y_mm: 33.9,
            },
            LabelPreset::Avery5160 => LabelSpec {
                paper: Paper::Letter,
                columns: 3,
                rows: 10,
                label_w_mm: 2.625 * IN,
                label_h_mm: IN,
                left_mm: 0.1875 * IN,
                top_mm: 0.5 * IN,
                pitch_x_mm: 2.75 * IN,
                pitch_y_mm: IN,
            },
            LabelPreset::Avery22806 => LabelSpec {
                paper: Paper::Letter,
                columns: 3,
                rows: 4,
                label_w_mm: 2.0 * IN,
                label_h_mm: 2.0 * IN,
                left_mm: 0.625 * IN,
                top_mm: 0.645 * IN,
                pitch_x_mm: 2.625 * IN,
                pitch_y_mm: 2.57 * IN,
            },
        }
    }

    /// Name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            LabelPreset::L7160 => "l7160",
            LabelPreset::L7159 => "l7159",
            LabelPreset::Avery5160 => "5160",
            LabelPreset::Avery22806 => "22806",
        }
    }
}

/// The largest printer offset either way, in millimetres: a printer that
/// misses its mark does so by a millimetre or two; more means the wrong
/// sheet or the wrong paper size.
pub const MAX_OFFSET_MM: f64 = 5.0;

/// The CLI names of the two printer offsets, which errors name.
const OFFSET_FIELDS: [&str; 2] = ["offset-x-mm", "offset-y-mm"];

impl LabelPreset {
    /// The sheet with a printer offset applied: every label moved `dx_mm`
    /// right and `dy_mm` down (negative: left, up). A printer whose test
    /// print lands 1.5 mm right of the labels needs `dx_mm = -1.5`. Refused
    /// when an offset is out of range or a label would leave the paper.
    pub fn spec_shifted(self, dx_mm: f64, dy_mm: f64) -> Result<LabelSpec, ValidationError> {
        let spec = self.spec();
        let (right_mm, bottom_mm) = spec.far_margins_mm();
        let name = self.name();
        let [x_field, y_field] = OFFSET_FIELDS;
        check_offset(
            x_field,
            dx_mm,
            (spec.left_mm, "left"),
            (right_mm, "right"),
            name,
        )?;
        check_offset(
            y_field,
            dy_mm,
            (spec.top_mm, "top"),
            (bottom_mm, "bottom"),
            name,
        )?;
        Ok(LabelSpec {
            left_mm: spec.left_mm + dx_mm,
            top_mm: spec.top_mm + dy_mm,
            ..spec
        })
    }
}

impl LabelSpec {
    /// The margins right of the last column and below the last row.
    fn far_margins_mm(&self) -> (f64, f64) {
        let (pw, ph) = self.paper.size_mm();
        let last_column = f64::from(self.columns.saturating_sub(1));
        let last_row = f64::from(self.rows.saturating_sub(1));
        (
            pw - self.left_mm - last_column * self.pitch_x_mm - self.label_w_mm,
            ph - self.top_mm - last_row * self.pitch_y_mm - self.label_h_mm,
        )
    }
}

/// One printer offset: finite, within [`MAX_OFFSET_MM`], and no larger
/// than the margin it moves the labels into: `before` (margin and edge) for
/// a negative offset, `after` for a positive one.
fn check_offset(
    field: &'static str,
    offset_mm: f64,
    before: (f64, &str),
    after: (f64, &str),
    sheet: &str,
) -> Result<(), ValidationError> {
    let value = format!("{offset_mm}");
    if !offset_mm.is_finite() || offset_mm.abs() > MAX_OFFSET_MM {
        return Err(ValidationError::new(
            field,
            &value,
            format!("a printer offset is between -{MAX_OFFSET_MM} and {MAX_OFFSET_MM} mm"),
        ));
    }
    let (room_mm, edge) = if offset_mm < 0.0 { before } else { after };
    if offset_mm.abs() > room_mm + 1e-9 {
        return Err(ValidationError::new(
            field,
            &value,
            format!(
                "on sheet {sheet} the labels are {room_mm:.2} mm from the paper's {edge} edge, so an offset can move them at most {room_mm:.2} mm that way"
            ),
        ));
    }
    Ok(())
}

/// How a PDF is laid out.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrintOptions {
    /// Grid, labels or flyer.
    pub layout: PrintLayout,
    /// A4 or Letter (labels: must be the preset's paper).
    pub paper: Paper,
    /// Codes a row in a grid, 1 to [`MAX_GRID_COLUMNS`].
    pub columns: u32,
    /// The sticker sheet of the labels layout.
    pub label: LabelPreset,
    /// Thin marks in the margins where to cut.
    pub cut_marks: bool,
    /// A title line (page and campaign) on grid and label sheets.
    pub title: bool,
    /// Print the ref code in the small footer (it is internal; off by default).
    pub show_ref: bool,
    /// Printer offset of a label sheet: what goes on the labels moves this
    /// far right (negative: left), in millimetres, to make up for a printer
    /// that prints off its mark (it prints 1.5 mm right: give -1.5).
    #[serde(default)]
    pub offset_x_mm: f64,
    /// Printer offset of a label sheet: everything moves this far down
    /// (negative: up), in millimetres.
    #[serde(default)]
    pub offset_y_mm: f64,
}

impl Default for PrintOptions {
    fn default() -> Self {
        Self {
            layout: PrintLayout::Grid,
            paper: Paper::A4,
            columns: 3,
            label: LabelPreset::L7160,
            cut_marks: false,
            title: true,
            show_ref: false,
            offset_x_mm: 0.0,
            offset_y_mm: 0.0,
        }
    }
}

/// A code placed in the PDF: the very rectangles written, in points.
#[derive(Debug, Clone)]
pub struct PlacedCode {
    /// The link's ref code.
    pub ref_code: String,
    /// What the code must read.
    pub url: String,
    /// Page index, from 0.
    pub page: usize,
    /// Dark module runs (x, y, w, h in points, y down).
    pub rects: Vec<Rect>,
    /// Module size in points.
    pub module: f64,
    /// Grey of the dark modules, 0–255.
    pub dark: u8,
    /// Grey of the background, 0–255.
    pub light: u8,
    /// The logo's square (points) and its raster at the proof's resolution.
    pub logo: Option<(Rect, std::sync::Arc<image::RgbaImage>)>,
}

/// A text block placed in the PDF, with the cell it must stay in (points).
#[derive(Debug, Clone)]
pub struct PlacedText {
    /// Page index, from 0.
    pub page: usize,
    /// The lines as printed.
    pub lines: Vec<String>,
    /// Bounding box of the text: x, y, w, h.
    pub bbox: Rect,
    /// The cell it belongs to: x, y, w, h.
    pub cell: Rect,
    /// Font size in points.
    pub size_pt: f64,
}

/// A finished PDF with what is needed to prove and check it.
#[derive(Debug, Clone)]
pub struct PdfOutput {
    /// The PDF file.
    pub bytes: Vec<u8>,
    /// Every code, in page order.
    pub codes: Vec<PlacedCode>,
    /// Every text block.
    pub texts: Vec<PlacedText>,
    /// Pages written.
    pub pages: usize,
    /// Messages for the user, e.g. which link's text was shortened.
    pub notes: Vec<String>,
}

/// Text fitted into a box.
struct Fitted {
    lines: Vec<String>,
    size_pt: f64,
    shortened: bool,
}

/// Wraps `text` to `max_w`, shrinking from `start_pt` to [`MIN_TEXT_PT`]
/// until it fits `max_h`; at the minimum, cuts it with "…".
/// `None` when not even one line fits at the minimum size.
fn fit(text: &str, max_w: f64, max_h: f64, start_pt: f64) -> Option<Fitted> {
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
fn printable(s: &str) -> String {
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
fn page_label(item: &ExportItem) -> String {
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

/// The small footer: campaign · channel (· ref when asked for).
fn footer(item: &ExportItem, show_ref: bool) -> String {
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
struct PageWriter<'a, 'b> {
    surface: krilla::surface::Surface<'a>,
    font: Font,
    page: usize,
    out: &'b mut Placed,
}

/// Everything placed so far.
#[derive(Default)]
struct Placed {
    codes: Vec<PlacedCode>,
    texts: Vec<PlacedText>,
    notes: Vec<String>,
}

fn fill(c: Color) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0[0], c.0[1], c.0[2]).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

impl PageWriter<'_, '_> {
    /// Fills a rectangle (points).
    fn rect(&mut self, r: Rect, color: Color) {
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
    fn code(
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
    fn logo(&mut self, logo: &crate::codes::logo::Logo, rect: Rect) {
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
    fn text(
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
    fn cut_mark(&mut self, from: (f64, f64), to: (f64, f64)) {
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
    fn cut_marks(&mut self, page: (f64, f64), xs: &[f64], ys: &[f64]) {
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
fn check_code_size(
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

impl PrintOptions {
    /// Checks the options that need no links: the printer offsets (in
    /// range, on the paper, and only with a label sheet, which they move).
    /// Exports call it before any work, so a bad offset costs nothing.
    pub fn check(&self) -> Result<(), ValidationError> {
        if self.layout == PrintLayout::Labels {
            self.label
                .spec_shifted(self.offset_x_mm, self.offset_y_mm)
                .map(|_| ())
        } else {
            refuse_offsets(
                self,
                "a printer offset moves label sheets only; use --layout labels",
            )
        }
    }
}

/// Refuses a non-zero printer offset with `rule`: for output that the
/// offsets would not move (they are never silently ignored).
pub fn refuse_offsets(options: &PrintOptions, rule: &str) -> Result<(), ValidationError> {
    let offsets = [options.offset_x_mm, options.offset_y_mm];
    for (field, offset_mm) in OFFSET_FIELDS.into_iter().zip(offsets) {
        if offset_mm != 0.0 {
            return Err(ValidationError::new(field, &format!("{offset_mm}"), rule));
        }
    }
    Ok(())
}

/// Renders `items` as a PDF in the chosen layout.
pub fn render_pdf(
    items: &[ExportItem],
    options: &PrintOptions,
    style: &QrStyle,
) -> Result<PdfOutput, PrintError> {
    options.check()?;
    let matrices: Vec<QrMatrix> = items
        .iter()
        .map(|i| QrMatrix::for_style(&i.url, style))
        .collect::<Result<_, _>>()?;
    let font = Font::new(krilla::Data::from(crate::codes::FONT_BYTES), 0)
        .ok_or_else(|| PrintError::Pdf("the embedded font cannot be read".into()))?;
    let mut doc = Document::new();
    let mut placed = Placed::default();
    let pages = match options.layout {
        PrintLayout::Flyer => flyers(
            &mut doc,
            &font,
            items,
            &matrices,
            options,
            style,
            &mut placed,
        )?,
        PrintLayout::Grid => grid(
            &mut doc,
            &font,
            items,
            &matrices,
            options,
            style,
            &mut placed,
        )?,
        PrintLayout::Labels => labels(
            &mut doc,
            &font,
            items,
            &matrices,
            options,
            style,
            &mut placed,
        )?,
    };
    let bytes = doc
        .finish()
        .map_err(|e| PrintError::Pdf(format!("{e:?}")))?;
    Ok(PdfOutput {
        bytes,
        codes: placed.codes,
        texts: placed.texts,
        pages,
        notes: placed.notes,
    })
}

/// Starts a page of `paper` and runs `draw` on it.
fn with_page<T>(
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
fn title_of(items: &[ExportItem]) -> String {
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

#[allow(clippy::too_many_arguments)]
fn flyers(
    doc: &mut Document,
    font: &Font,
    items: &[ExportItem],
    matrices: &[QrMatrix],
    options: &PrintOptions,
    style: &QrStyle,
    placed: &mut Placed,
) -> Result<usize, PrintError> {
    let (pw, ph) = options.paper.size_mm();
    let (pw, ph) = (mm(pw), mm(ph));
    let margin = mm(20.0);
    let inner_w = pw - 2.0 * margin;
    for (n, (item, matrix)) in items.iter().zip(matrices).enumerate() {
        let name = page_label(item);
        with_page(doc, font, options.paper, n, placed, |p| {
            let mut y = margin;
            y += p.text(
                item,
                &name,
                [margin, y, inner_w, mm(14.0)],
                26.0,
                true,
                TEXT_COLOR,
                "page name",
            )?;
            y += mm(6.0);
            let cta = if item.cta.trim().is_empty() {
                "Chat with us on Messenger"
            } else {
                item.cta.as_str()
            };
            y += p.text(
                item,
                cta,
                [margin, y, inner_w, mm(34.0)],
                30.0,
                true,
                TEXT_COLOR,
                "call to action",
            )?;
            y += mm(6.0);
            let bottom_text = mm(48.0);
            let side = (ph - margin - bottom_text - y).min(mm(130.0)).min(inner_w);
            check_code_size(item, matrix, style, side, "flyer")?;
            p.code(item, matrix, style, (pw - side) / 2.0, y, side);
            y += side + mm(6.0);
            let scan = format!("Scan to chat with {name} on Messenger");
            y += p.text(
                item,
                &scan,
                [margin, y, inner_w, mm(14.0)],
                16.0,
                true,
                TEXT_COLOR,
                "scan line",
            )?;
            y += mm(2.0);
            p.text(
                item,
                &readable_link(&item.url),
                [margin, y, inner_w, mm(12.0)],
                18.0,
                true,
                TEXT_COLOR,
                "link",
            )?;
            let foot = footer(item, options.show_ref);
            p.text(
                item,
                &foot,
                [margin, ph - margin, inner_w, mm(8.0)],
                8.0,
                true,
                GREY,
                "footer",
            )?;
            if options.cut_marks {
                p.cut_marks((pw, ph), &[margin, pw - margin], &[margin, ph - margin]);
            }
            Ok(())
        })?;
    }
    Ok(items.len())
}

/// Draws one cell's code and caption: code box on top (or at the left when
/// `beside`), then the call to action, the readable link and the footer.
#[allow(clippy::too_many_arguments)]
fn cell(
    p: &mut PageWriter<'_, '_>,
    item: &ExportItem,
    matrix: &QrMatrix,
    style: &QrStyle,
    options: &PrintOptions,
    cell: Rect,
    code_side: f64,
    beside: bool,
    place: &str,
) -> Result<(), PrintError> {
    check_code_size(item, matrix, style, code_side, place)?;
    let cta_pt = 10.0;
    let link_pt = 7.5;
    let foot_pt = 6.0;
    let foot = footer(item, options.show_ref);
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
    // Fixed shares of the text box: the call to action gets what the link
    // and the footer leave.
    let link_h = link_pt * LINE_HEIGHT;
    let foot_lines = if options.show_ref { 2.0 } else { 1.0 };
    let foot_h = if foot.is_empty() {
        0.0
    } else {
        foot_pt * LINE_HEIGHT * foot_lines
    };
    let cta_h = (text_box[3] - link_h - foot_h).max(0.0);
    let mut y = text_box[1];
    let cta = if item.cta.trim().is_empty() {
        "Scan to chat on Messenger"
    } else {
        item.cta.as_str()
    };
    p.text(
        item,
        cta,
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

#[allow(clippy::too_many_arguments)]
fn grid(
    doc: &mut Document,
    font: &Font,
    items: &[ExportItem],
    matrices: &[QrMatrix],
    options: &PrintOptions,
    style: &QrStyle,
    placed: &mut Placed,
) -> Result<usize, PrintError> {
    if !(1..=MAX_GRID_COLUMNS).contains(&options.columns) {
        return Err(ValidationError::new(
            "columns",
            &options.columns.to_string(),
            format!("a grid has 1 to {MAX_GRID_COLUMNS} columns"),
        )
        .into());
    }
    let (pw, ph) = options.paper.size_mm();
    let (pw, ph) = (mm(pw), mm(ph));
    let margin = mm(PAGE_MARGIN_MM);
    let title_h = if options.title { mm(10.0) } else { 0.0 };
    let cols = options.columns as usize;
    let cell_w = (pw - 2.0 * margin) / cols as f64;
    let pad = mm(2.0);
    let caption_h = mm(16.0);
    let code_side = cell_w - 2.0 * pad;
    let cell_h = code_side + caption_h + 2.0 * pad;
    let rows = ((ph - 2.0 * margin - title_h) / cell_h).floor() as usize;
    if rows == 0 {
        return Err(ValidationError::new(
            "paper",
            options.paper.name(),
            format!(
                "{cols} column(s) leave no room for a row of codes on this paper; use more columns"
            ),
        )
        .into());
    }
    let per_page = rows * cols;
    let title = title_of(items);
    let mut pages = 0;
    for (n, chunk) in items.chunks(per_page).enumerate() {
        pages += 1;
        let base = n * per_page;
        with_page(doc, font, options.paper, n, placed, |p| {
            if options.title {
                let first = &chunk[0];
                p.text(
                    first,
                    &title,
                    [margin, margin, pw - 2.0 * margin, title_h - mm(2.0)],
                    12.0,
                    false,
                    TEXT_COLOR,
                    "title",
                )?;
            }
            let top = margin + title_h;
            for (i, item) in chunk.iter().enumerate() {
                let (c, r) = (i % cols, i / cols);
                let x = margin + c as f64 * cell_w;
                let y = top + r as f64 * cell_h;
                let inner = [x + pad, y + pad, cell_w - 2.0 * pad, cell_h - 2.0 * pad];
                cell(
                    p,
                    item,
                    &matrices[base + i],
                    style,
                    options,
                    inner,
                    code_side,
                    false,
                    "grid",
                )?;
            }
            if options.cut_marks {
                let used_rows = chunk.len().div_ceil(cols);
                let xs: Vec<f64> = (0..=cols).map(|c| margin + c as f64 * cell_w).collect();
                let ys: Vec<f64> = (0..=used_rows).map(|r| top + r as f64 * cell_h).collect();
                p.cut_marks((pw, ph), &xs, &ys);
            }
            Ok(())
        })?;
    }
    Ok(pages)
}

#[allow(clippy::too_many_arguments)]
fn labels(
    doc: &mut Document,
    font: &Font,
    items: &[ExportItem],
    matrices: &[QrMatrix],
    options: &PrintOptions,
    style: &QrStyle,
    placed: &mut Placed,
) -> Result<usize, PrintError> {
    let sheet = options.label.spec();
    if sheet.paper != options.paper {
        return Err(ValidationError::new(
            "paper",
            options.paper.name(),
            format!(
                "label sheet {} is printed on {} paper; use --paper {}",
                options.label.name(),
                sheet.paper.name(),
                sheet.paper.name()
            ),
        )
        .into());
    }
    // The printer offset moves what goes on the labels and the cut marks;
    // the title stays in the sheet's own top margin.
    let spec = options
        .label
        .spec_shifted(options.offset_x_mm, options.offset_y_mm)?;
    let (pw, ph) = spec.paper.size_mm();
    let (pw, ph) = (mm(pw), mm(ph));
    let (lw, lh) = (mm(spec.label_w_mm), mm(spec.label_h_mm));
    let beside = spec.label_w_mm > spec.label_h_mm * 1.3;
    let per_page = (spec.columns * spec.rows) as usize;
    let title = title_of(items);
    let mut pages = 0;
    for (n, chunk) in items.chunks(per_page).enumerate() {
        pages += 1;
        let base = n * per_page;
        with_page(doc, font, spec.paper, n, placed, |p| {
            if options.title {
                // Above the labels wherever the offset put them.
                let band = mm(sheet.top_mm.min(spec.top_mm)) - mm(3.0);
                if band >= MIN_TEXT_PT * LINE_HEIGHT {
                    p.text(
                        &chunk[0],
                        &title,
                        [
                            mm(sheet.left_mm),
                            mm(2.0),
                            pw - 2.0 * mm(sheet.left_mm),
                            band.min(mm(6.0)),
                        ],
                        9.0,
                        true,
                        GREY,
                        "title",
                    )?;
                }
            }
            for (i, item) in chunk.iter().enumerate() {
                let c = (i % spec.columns as usize) as f64;
                let r = (i / spec.columns as usize) as f64;
                let x = mm(spec.left_mm + c * spec.pitch_x_mm);
                let y = mm(spec.top_mm + r * spec.pitch_y_mm);
                // The quiet zone may reach the label's edge; the symbol stays
                // inside the safe area because the quiet zone is wider.
                let (code_side, inner) = if beside {
                    (lh, [x, y, lw, lh])
                } else {
                    let text_h = mm(16.0);
                    (lh - text_h, [x, y, lw, lh - mm(LABEL_SAFE_MM)])
                };
                cell(
                    p,
                    item,
                    &matrices[base + i],
                    style,
                    options,
                    inner,
                    code_side,
                    beside,
                    options.label.name(),
                )?;
            }
            if options.cut_marks {
                let xs: Vec<f64> = (0..spec.columns)
                    .flat_map(|c| {
                        let x = mm(spec.left_mm + f64::from(c) * spec.pitch_x_mm);
                        [x, x + lw]
                    })
                    .collect();
                let ys: Vec<f64> = (0..spec.rows)
                    .flat_map(|r| {
                        let y = mm(spec.top_mm + f64::from(r) * spec.pitch_y_mm);
                        [y, y + lh]
                    })
                    .collect();
                p.cut_marks((pw, ph), &xs, &ys);
            }
            Ok(())
        })?;
    }
    let _ = ph;
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sheet a preset describes fits its paper: the labels stay on
    /// the page, do not overlap, and sit as symmetrically as the makers cut
    /// them (a typo in one number breaks one of these).
    #[test]
    fn every_label_sheet_fits_its_paper_symmetrically() {
        for preset in LabelPreset::ALL {
            let s = preset.spec();
            let (right, bottom) = s.far_margins_mm();
            let name = preset.name();
            assert!(
                s.pitch_x_mm >= s.label_w_mm && s.pitch_y_mm >= s.label_h_mm,
                "{name} overlaps"
            );
            assert!(
                s.left_mm > 0.0 && s.top_mm > 0.0,
                "{name} starts off the page"
            );
            assert!(
                (right - s.left_mm).abs() < 0.5,
                "{name}: left {} right {right}",
                s.left_mm
            );
            assert!(
                (bottom - s.top_mm).abs() < 0.5,
                "{name}: top {} bottom {bottom}",
                s.top_mm
            );
        }
    }

    /// Avery 22806 (2 × 2 in, 3 × 4 on Letter) is laid out as the one
    /// catalogued sheet of that shape, OnlineLabels OL2679 in glabels 3.4.1:
    /// 5/8 in at the sides, 0.645 in at the top, pitch 2 5/8 × 2.57 in
    /// (docs/print.md says why this source).
    #[test]
    fn avery_22806_has_the_catalogued_margins_and_pitch() {
        const IN: f64 = 25.4;
        let s = LabelPreset::Avery22806.spec();
        let inches = [s.left_mm, s.top_mm, s.pitch_x_mm, s.pitch_y_mm].map(|v| v / IN);
        for (got, want) in inches.iter().zip([0.625, 0.645, 2.625, 2.57]) {
            assert!((got - want).abs() < 1e-9, "{inches:?}");
        }
    }

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
