//! The shareable one-page report (`refboard report`, "Save report…"):
//! headline cards with their change against the previous period (the
//! dashboard's rule, [`crate::stats::Change`]), the chart with the previous
//! period's lighter dashed lines and the running bucket marked "(so far)",
//! and the table, as a PDF (krilla, the embedded DejaVu Sans of the print
//! stack) filling its page, or as HTML with an embedded SVG chart.
//!
//! Refs, sources and names come from strangers: every one goes through
//! [`safe_display`] (visible escapes, bounded length) and, in HTML, through
//! [`crate::codes::xml_escape`] (the same rules serve HTML). Files are written to a temp file and renamed.

mod conversions;

use crate::codes::xml_escape;
use crate::export::{ExportError, write_atomic};
use crate::model::{ValidationError, safe_display};
use crate::stats::{GroupBy, Report, StatsError, StatsQuery, period_label};

/// The headline cards live in [`crate::stats::cards`], shared with the dashboard.
pub use crate::stats::{Card, cards};
use crate::store::Store;
use chrono::NaiveDate;
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::text::{Font, TextDirection};
use std::path::{Path, PathBuf};

/// Groups drawn as lines in the chart; the table lists up to [`TABLE_ROWS`].
pub const CHART_SERIES: usize = 6;
/// Rows of the report's table (the rest are summed in "Other").
pub const TABLE_ROWS: usize = 15;
/// Longest text shown for one ref or name, in characters.
const LABEL_MAX_CHARS: usize = 60;
/// Line colours of the chart: the dashboard's palette, indexed by the slot
/// [`crate::stats::palette_slots`] gives each group's key, so a group has
/// the same colour on screen and on paper, whatever its rank.
const PALETTE: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

/// The colour of each of the first [`CHART_SERIES`] groups of `report`.
fn group_colors(report: &Report) -> Vec<[u8; 3]> {
    let keys: Vec<&str> = report
        .groups
        .iter()
        .take(CHART_SERIES)
        .map(|g| g.key.as_str())
        .collect();
    crate::stats::palette_slots(&keys, PALETTE.len())
        .into_iter()
        .map(|s| PALETTE[s % PALETTE.len()])
        .collect()
}

/// What can go wrong while making a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A bad option: field, value and rule.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// The stats query failed.
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] ExportError),
    /// The PDF writer failed (not the user's doing).
    #[error("cannot write the PDF: {0}")]
    Pdf(String),
}

/// The report's file type, from the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// A one-page A4 PDF.
    Pdf,
    /// One HTML file with an embedded SVG chart.
    Html,
}

impl ReportFormat {
    /// The format of `path`: `.pdf`, or `.html` / `.htm`; anything else is refused.
    pub fn from_path(path: &Path) -> Result<Self, ValidationError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("pdf") => Ok(ReportFormat::Pdf),
            Some("html" | "htm") => Ok(ReportFormat::Html),
            _ => Err(ValidationError::new(
                "output",
                &path.display().to_string(),
                "a report file ends in .pdf or .html",
            )),
        }
    }
}

/// A report to write: where, the stats query of its range, and its title
/// (the page's name, or empty).
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// The output file (.pdf or .html).
    pub path: PathBuf,
    /// The range, zone, grouping and filters.
    pub query: StatsQuery,
    /// The page's name, shown as the title.
    pub title: String,
}

/// Everything a report shows, computed once for both formats.
#[derive(Debug, Clone)]
pub struct ReportData {
    /// The title: page name, and campaign when filtered.
    pub title: String,
    /// The range in words, e.g. `1–30 Nov 2026 (Europe/Berlin)`.
    pub range_text: String,
    /// The four headline cards.
    pub cards: Vec<Card>,
    /// The stats of the range.
    pub report: Report,
    /// The stats of the period compared with, and its first and last day.
    pub previous: Option<(Report, (NaiveDate, NaiveDate))>,
    /// When the report was made (ms): the bucket holding it is still running.
    pub made_at_ms: i64,
    /// The conversions of the range (issue #21).
    pub conversions: crate::stats::conversions::ConversionReport,
    /// The "Conversions" and "Rate" cards, by the rule of the cards above.
    pub conversion_cards: Vec<crate::stats::conversions::ConversionCard>,
}

/// Runs the queries of a report: the range, then the period it is compared
/// with (the query's [`crate::stats::Compare`]) with the same filters.
pub fn build(store: &Store, query: &StatsQuery, title: &str) -> Result<ReportData, ReportError> {
    let mut q = query.clone();
    q.unique_people = true;
    q.top = q.top.clamp(1, TABLE_ROWS);
    q.untracked_limit = 0;
    let report = crate::stats::query(store, &q)?;
    let dates = report.from.zip(report.to);
    let previous = match dates.and_then(|(f, t)| q.compare.previous(f, t)) {
        Some((pf, pt)) => {
            let mut p = q.clone();
            p.from = Some(pf);
            p.to = Some(pt);
            p.every = None;
            Some((crate::stats::query(store, &p)?, (pf, pt)))
        }
        None => None,
    };
    let cards = cards(&report, previous.as_ref().map(|(r, d)| (r, *d)));
    let conversions = crate::stats::conversions::conversions(store, &q, &report)?;
    let previous_conversions = match &previous {
        Some((r, d)) => {
            let mut p = q.clone();
            (p.from, p.to, p.every) = (Some(d.0), Some(d.1), None);
            Some((r, crate::stats::conversions::conversions(store, &p, r)?, *d))
        }
        None => None,
    };
    let conversion_cards = crate::stats::conversions::conversion_cards(
        &conversions,
        previous_conversions.as_ref().map(|(r, c, d)| (*r, c, *d)),
    );
    let range_text = match dates {
        Some((f, t)) => format!("{} ({})", range_words(f, t), report.tz),
        None => format!("no referrals yet ({})", report.tz),
    };
    let mut title = safe_display(title.trim(), LABEL_MAX_CHARS);
    if let Some(c) = &query.campaign {
        let c = safe_display(c, LABEL_MAX_CHARS);
        title = if title.is_empty() {
            format!("Campaign {c}")
        } else {
            format!("{title} · campaign {c}")
        };
    }
    let title = if title.is_empty() {
        "Referral report".to_string()
    } else {
        format!("{title}: referral report")
    };
    Ok(ReportData {
        title,
        range_text,
        cards,
        report,
        previous,
        made_at_ms: chrono::Utc::now().timestamp_millis(),
        conversions,
        conversion_cards,
    })
}

/// A range with its year, as a shared report needs: `11–20 Oct 2026`,
/// `28 Sep – 27 Oct 2026`, `20 Dec 2025 – 18 Jan 2026`.
pub fn range_words(from: NaiveDate, to: NaiveDate) -> String {
    use chrono::Datelike;
    if from.year() == to.year() {
        format!("{} {}", period_label(from, to), to.year())
    } else {
        period_label(from, to)
    }
}

/// Makes and writes the report of `request`; returns the file written.
pub fn write_report(store: &Store, request: &ReportRequest) -> Result<PathBuf, ReportError> {
    let format = ReportFormat::from_path(&request.path)?;
    let data = build(store, &request.query, &request.title)?;
    let bytes = match format {
        ReportFormat::Html => render_html(&data).into_bytes(),
        ReportFormat::Pdf => render_pdf(&data)?,
    };
    write_atomic(&request.path, &bytes)?;
    Ok(request.path.clone())
}

/// A group's key as the report shows it: in words, escaped, bounded.
fn shown_key(by: GroupBy, key: &str) -> String {
    safe_display(&by.key_label(key), LABEL_MAX_CHARS)
}

/// One row of the report's table, already in display form.
struct Row {
    key: String,
    cells: [String; 4],
}

fn table_rows(report: &Report) -> Vec<Row> {
    let mut rows: Vec<Row> = report
        .groups
        .iter()
        .map(|g| Row {
            key: shown_key(report.by, &g.key),
            cells: [
                g.referrals.to_string(),
                g.unique_people.to_string(),
                g.new.to_string(),
                g.returning.to_string(),
            ],
        })
        .collect();
    if let Some(o) = &report.other {
        rows.push(Row {
            key: o.label(report.by),
            // A sum of people over groups would count some twice.
            cells: [
                o.referrals.to_string(),
                "-".into(),
                o.new.to_string(),
                o.returning.to_string(),
            ],
        });
    }
    rows
}

/// The chart in unit coordinates (x and y from 0 to 1, y up), shared by
/// the SVG and the PDF.
struct Chart {
    /// Label and points of each line (none past the running bucket).
    series: Vec<(String, Vec<(f64, f64)>)>,
    /// The previous period's line of each series (same index and colour),
    /// bucket i drawn at bucket i of this period.
    previous: Vec<Vec<(f64, f64)>>,
    /// The bucket still running when the report was made, if in the range.
    running: Option<usize>,
    /// Each series' colour (see [`group_colors`]).
    colors: Vec<[u8; 3]>,
    /// Y axis ticks: value and position.
    y_ticks: Vec<(u64, f64)>,
    /// X axis labels: position and text.
    x_labels: Vec<(f64, String)>,
}

impl Chart {
    /// The colour of series `i`.
    fn color(&self, i: usize) -> [u8; 3] {
        self.colors.get(i).copied().unwrap_or(PALETTE[0])
    }
}

/// A round step for about four y ticks up to `max`: 1, 2 or 5 times a power of ten.
fn nice_step(max: u64) -> u64 {
    let rough = max.div_ceil(4).max(1);
    let mut p = 1u64;
    loop {
        for m in [1u64, 2, 5] {
            let step = p.saturating_mul(m);
            if step >= rough {
                return step;
            }
        }
        if p > u64::MAX / 10 {
            return rough;
        }
        p *= 10;
    }
}

/// The bucket holding `now_ms`, and so still running (its count is "so
/// far"), among buckets starting at `starts` (ascending); a bucket ends where
/// the next starts, the last after its nominal length.
fn running_bucket(starts: &[i64], every: crate::stats::Every, now_ms: i64) -> Option<usize> {
    use crate::stats::Every;
    let hours: i64 = match every {
        Every::Hour => 1,
        Every::Day => 24,
        Every::Week => 7 * 24,
        Every::Month => 31 * 24,
    };
    let end = |i: usize| {
        starts
            .get(i + 1)
            .copied()
            .unwrap_or_else(|| starts[i].saturating_add(hours * 3_600_000))
    };
    (0..starts.len()).find(|&i| starts[i] <= now_ms && now_ms < end(i))
}

/// The report's chart: every series, the previous period and the running
/// bucket. Long on purpose: the series, then the previous period, then the
/// marks, in drawing order.
fn chart(report: &Report, previous: Option<&Report>, now_ms: i64) -> Chart {
    let groups: Vec<_> = report.groups.iter().take(CHART_SERIES).collect();
    let buckets = groups.first().map_or(0, |g| g.series.len());
    let starts: Vec<i64> = groups
        .first()
        .map(|g| g.series.iter().map(|p| p.start_ms).collect())
        .unwrap_or_default();
    let running = running_bucket(&starts, report.every, now_ms);
    // Buckets after the running one lie in the future: not drawn.
    let drawn = running.map_or(buckets, |r| r + 1);
    let before: Vec<Option<&crate::stats::GroupStats>> = groups
        .iter()
        .map(|g| previous.and_then(|p| p.groups.iter().find(|pg| pg.key == g.key)))
        .collect();
    let max = groups
        .iter()
        .flat_map(|g| g.series.iter().take(drawn).map(|p| p.referrals))
        .chain(
            before
                .iter()
                .flatten()
                .flat_map(|g| g.series.iter().take(buckets).map(|p| p.referrals)),
        )
        .max()
        .unwrap_or(0)
        .max(1);
    let step = nice_step(max);
    let top = max.div_ceil(step).saturating_mul(step).max(step);
    let x_of = |i: usize| {
        if buckets <= 1 {
            0.5
        } else {
            i as f64 / (buckets - 1) as f64
        }
    };
    let line = |g: &crate::stats::GroupStats, n: usize| -> Vec<(f64, f64)> {
        g.series
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, p)| (x_of(i), p.referrals as f64 / top as f64))
            .collect()
    };
    let series = groups
        .iter()
        .map(|g| (shown_key(report.by, &g.key), line(g, drawn)))
        .collect();
    let previous = before
        .iter()
        .map(|g| g.map(|g| line(g, buckets)).unwrap_or_default())
        .collect();
    let y_ticks = (0..=top / step)
        .map(|k| {
            let v = k.saturating_mul(step);
            (v, v as f64 / top as f64)
        })
        .collect();
    let mut x_labels = Vec::new();
    if let Some(g) = groups.first() {
        let marks = buckets.min(6);
        for k in 0..marks {
            let i = if marks <= 1 {
                0
            } else {
                k * (buckets - 1) / (marks - 1)
            };
            if let Some(p) = g.series.get(i) {
                let so_far = if running == Some(i) { " (so far)" } else { "" };
                x_labels.push((x_of(i), format!("{}{so_far}", p.bucket)));
            }
        }
    }
    Chart {
        series,
        previous,
        running,
        colors: group_colors(report),
        y_ticks,
        x_labels,
    }
}

/// A previous period's lighter tint of a series colour: half-way to white.
fn tint(c: [u8; 3]) -> [u8; 3] {
    c.map(|v| ((u16::from(v) + 255) / 2) as u8)
}

/// The legend's words for the previous period's lines, when drawn.
fn previous_words(data: &ReportData) -> Option<String> {
    let (prev, (from, to)) = data.previous.as_ref()?;
    (!prev.groups.is_empty()).then(|| format!("Previous period ({})", period_label(*from, *to)))
}

fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// The chart as an SVG element, with the legend below the plot area (never over the data).
fn chart_svg(data: &ReportData) -> String {
    let report = &data.report;
    let c = chart(
        report,
        data.previous.as_ref().map(|p| &p.0),
        data.made_at_ms,
    );
    let (w, h, left, top, plot_w, plot_h) = (800.0, 300.0, 50.0, 10.0, 730.0, 240.0);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="Referrals per {every}">"#,
        every = report.every
    );
    for (v, y) in &c.y_ticks {
        let py = top + plot_h * (1.0 - y);
        svg.push_str(&format!(
            r##"<line x1="{left}" x2="{x2}" y1="{py:.1}" y2="{py:.1}" stroke="#dddddd"/><text x="{tx}" y="{ty:.1}" font-size="11" text-anchor="end">{v}</text>"##,
            x2 = left + plot_w,
            tx = left - 6.0,
            ty = py + 4.0
        ));
    }
    for (x, label) in &c.x_labels {
        svg.push_str(&format!(
            r#"<text x="{px:.1}" y="{py}" font-size="11" text-anchor="middle">{}</text>"#,
            xml_escape(label),
            px = left + plot_w * x,
            py = top + plot_h + 16.0
        ));
    }
    for (i, pts) in c.previous.iter().enumerate().filter(|(_, p)| !p.is_empty()) {
        let points: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", left + plot_w * x, top + plot_h * (1.0 - y)))
            .collect();
        svg.push_str(&format!(
            r#"<polyline fill="none" stroke="{}" stroke-width="1.5" stroke-dasharray="6 4" points="{}"/>"#,
            hex(tint(c.color(i))),
            points.join(" ")
        ));
    }
    for (i, (label, pts)) in c.series.iter().enumerate() {
        let color = hex(c.color(i));
        let points: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", left + plot_w * x, top + plot_h * (1.0 - y)))
            .collect();
        svg.push_str(&format!(
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"><title>{}</title></polyline>"#,
            points.join(" "),
            xml_escape(label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The report as one HTML file (inline style, SVG chart, no scripts).
pub fn render_html(data: &ReportData) -> String {
    let report = &data.report;
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
    );
    html.push_str(&format!(
        "<title>{}</title>",
        xml_escape(&format!("{} · {}", data.title, data.range_text))
    ));
    html.push_str(
        "<style>body{font-family:sans-serif;margin:2em;color:#202020}\
         .cards{display:flex;gap:1em}.card{border:1px solid #ccc;border-radius:6px;padding:.8em 1.2em;min-width:9em}\
         .card .value{font-size:1.8em;font-weight:bold}.card .change{color:#555}\
         table{border-collapse:collapse;margin-top:1em}td,th{padding:.3em .8em;border-bottom:1px solid #ddd}\
         td.n,th.n{text-align:right}.legend span{margin-right:1.2em}</style></head><body>",
    );
    html.push_str(&format!(
        "<h1>{}</h1><p class=\"range\">{}</p>",
        xml_escape(&data.title),
        xml_escape(&data.range_text)
    ));
    html.push_str("<div class=\"cards\">");
    for card in &data.cards {
        html.push_str(&format!(
            "<div class=\"card\"><div class=\"name\">{}</div><div class=\"value\">{}</div><div class=\"change\">{}</div></div>",
            xml_escape(card.name),
            card.value,
            xml_escape(&card.change_text)
        ));
    }
    html.push_str("</div>");
    if report.groups.is_empty() {
        html.push_str("<p>No referrals in this range.</p>");
    } else {
        html.push_str(&format!(
            "<h2>Referrals per {} by {}</h2>",
            report.every,
            xml_escape(&report.by.column_name().to_lowercase())
        ));
        html.push_str(&chart_svg(data));
        html.push_str("<div class=\"legend\">");
        let colors = group_colors(report);
        for (g, color) in report.groups.iter().take(CHART_SERIES).zip(colors) {
            html.push_str(&format!(
                "<span><span style=\"color:{}\">■</span> {}</span>",
                hex(color),
                xml_escape(&shown_key(report.by, &g.key))
            ));
        }
        if let Some(words) = previous_words(data) {
            html.push_str(&format!(
                "<span><span style=\"color:#999\">- -</span> {}</span>",
                xml_escape(&words)
            ));
        }
        html.push_str("</div>");
    }
    html.push_str(&format!(
        "<table><thead><tr><th>{}</th><th class=\"n\">Referrals</th><th class=\"n\">Unique people</th><th class=\"n\">New</th><th class=\"n\">Returning</th></tr></thead><tbody>",
        xml_escape(report.by.column_name())
    ));
    for row in table_rows(report) {
        html.push_str(&format!("<tr><td>{}</td>", xml_escape(&row.key)));
        for cell in &row.cells {
            html.push_str(&format!("<td class=\"n\">{}</td>", xml_escape(cell)));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    conversions::html(data, &mut html);
    html.push_str("</body></html>\n");
    html
}

const PT_PER_MM: f32 = 72.0 / 25.4;
/// A4 portrait, in points.
const PAGE_W: f32 = 210.0 * PT_PER_MM;
const PAGE_H: f32 = 297.0 * PT_PER_MM;
const MARGIN: f32 = 15.0 * PT_PER_MM;
/// A table row's height, in points.
const TABLE_ROW_H: f32 = 14.0;

fn pdf_fill(c: [u8; 3]) -> Fill {
    Fill {
        paint: rgb::Color::new(c[0], c[1], c[2]).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

/// Draws onto the report's one page.
struct Pen<'a> {
    surface: krilla::surface::Surface<'a>,
    font: Font,
}

impl Pen<'_> {
    /// Text with its baseline at `y`, cut with "…" to fit `max_w` points;
    /// right-aligned at `x` when `right`.
    fn text(&mut self, x: f32, y: f32, size: f32, text: &str, max_w: f32, right: bool) {
        let scale = crate::codes::em_scale(size);
        let fits = |t: &str| crate::codes::text_width(t, scale) <= max_w;
        let mut shown = text.to_string();
        if !fits(&shown) {
            // Texts are bounded (safe_display), so cutting a char at a time is cheap.
            let mut chars: Vec<char> = text.chars().collect();
            loop {
                chars.pop();
                shown = chars.iter().collect::<String>() + "…";
                if chars.is_empty() || fits(&shown) {
                    break;
                }
            }
        }
        let w = crate::codes::text_width(&shown, scale);
        let x = if right { x - w } else { x };
        self.surface.set_fill(Some(pdf_fill([0x20, 0x20, 0x20])));
        self.surface.draw_text(
            Point::from_xy(x, y),
            self.font.clone(),
            size,
            &shown,
            false,
            TextDirection::Auto,
        );
    }

    fn line(&mut self, pts: &[(f32, f32)], color: [u8; 3], width: f32) {
        self.stroke(pts, color, width, None);
    }

    /// A dashed line (the previous period, the running bucket's stub).
    fn dashed(&mut self, pts: &[(f32, f32)], color: [u8; 3], width: f32) {
        let dash = krilla::paint::StrokeDash {
            array: vec![4.0, 3.0],
            offset: 0.0,
        };
        self.stroke(pts, color, width, Some(dash));
    }

    /// A hollow diamond centred on (x, y): the running bucket's point.
    fn diamond(&mut self, x: f32, y: f32, color: [u8; 3]) {
        let r = 3.5;
        let pts = [(x, y - r), (x + r, y), (x, y + r), (x - r, y), (x, y - r)];
        self.stroke(&pts, color, 1.2, None);
    }

    fn stroke(
        &mut self,
        pts: &[(f32, f32)],
        color: [u8; 3],
        width: f32,
        dash: Option<krilla::paint::StrokeDash>,
    ) {
        if pts.len() < 2 {
            return;
        }
        let mut pb = PathBuilder::new();
        for (i, (x, y)) in pts.iter().enumerate() {
            if i == 0 {
                pb.move_to(*x, *y);
            } else {
                pb.line_to(*x, *y);
            }
        }
        if let Some(path) = pb.finish() {
            self.surface.set_fill(None);
            self.surface.set_stroke(Some(Stroke {
                paint: rgb::Color::new(color[0], color[1], color[2]).into(),
                width,
                dash,
                ..Default::default()
            }));
            self.surface.draw_path(&path);
            self.surface.set_stroke(None);
        }
    }

    fn boxed(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.line(
            &[(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)],
            [0xcc, 0xcc, 0xcc],
            0.8,
        );
    }
}

/// The report as a one-page A4 PDF, text in the embedded DejaVu Sans.
pub fn render_pdf(data: &ReportData) -> Result<Vec<u8>, ReportError> {
    let font = Font::new(krilla::Data::from(crate::codes::FONT_BYTES), 0)
        .ok_or_else(|| ReportError::Pdf("the embedded font cannot be read".into()))?;
    let mut doc = Document::new();
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| ReportError::Pdf("bad page size".into()))?;
    let mut page = doc.start_page_with(settings);
    {
        let mut pen = Pen {
            surface: page.surface(),
            font,
        };
        draw_page(&mut pen, data);
        pen.surface.finish();
    }
    page.finish();
    if conversions::any(data) {
        let settings = PageSettings::from_wh(conversions::PAGE_W, conversions::PAGE_H)
            .ok_or_else(|| ReportError::Pdf("bad page size".into()))?;
        let font = Font::new(krilla::Data::from(crate::codes::FONT_BYTES), 0)
            .ok_or_else(|| ReportError::Pdf("the embedded font cannot be read".into()))?;
        let mut page = doc.start_page_with(settings);
        {
            let mut pen = Pen {
                surface: page.surface(),
                font,
            };
            conversions::draw_page(&mut pen, data);
            pen.surface.finish();
        }
        page.finish();
    }
    doc.finish().map_err(|e| ReportError::Pdf(format!("{e:?}")))
}

fn draw_page(pen: &mut Pen<'_>, data: &ReportData) {
    let report = &data.report;
    let width = PAGE_W - 2.0 * MARGIN;
    let mut y = MARGIN + 16.0;
    pen.text(MARGIN, y, 16.0, &data.title, width, false);
    y += 18.0;
    pen.text(MARGIN, y, 10.0, &data.range_text, width, false);
    // Cards.
    y += 14.0;
    let gap = 8.0;
    let card_w = (width - gap * 3.0) / 4.0;
    let card_h = 58.0;
    for (i, card) in data.cards.iter().enumerate() {
        let x = MARGIN + i as f32 * (card_w + gap);
        pen.boxed(x, y, card_w, card_h);
        pen.text(x + 6.0, y + 14.0, 9.0, card.name, card_w - 12.0, false);
        pen.text(
            x + 6.0,
            y + 34.0,
            18.0,
            &card.value.to_string(),
            card_w - 12.0,
            false,
        );
        pen.text(
            x + 6.0,
            y + 50.0,
            7.0,
            &card.change_text,
            card_w - 12.0,
            false,
        );
    }
    y += card_h + 24.0;
    if report.groups.is_empty() {
        pen.text(MARGIN, y, 11.0, "No referrals in this range.", width, false);
        return;
    }
    pen.text(
        MARGIN,
        y,
        11.0,
        &format!(
            "Referrals per {} by {}",
            report.every,
            report.by.column_name().to_lowercase()
        ),
        width,
        false,
    );
    y += 10.0;
    y = draw_chart(pen, data, y, width);
    draw_table(pen, report, y, width);
}

/// The chart's height on the page: what the table and the legend leave
/// below `top`, so the page is filled (a fixed 170 points left its lower
/// 45% blank), between 170 and 560 points.
fn plot_height(report: &Report, top: f32) -> f32 {
    let rows = table_rows(report).len().min(TABLE_ROWS + 1) as f32;
    let table_h = (rows + 1.0) * TABLE_ROW_H + 8.0;
    // Axis labels, up to three legend lines, and the gap before the table.
    let below = 24.0 + 3.0 * 12.0 + 18.0;
    (PAGE_H - MARGIN - top - table_h - below).clamp(170.0, 560.0)
}

/// The chart from `top`; returns the y below its legend. The previous
/// period's lines are lighter and dashed, under this period's; the running
/// bucket's point is a hollow diamond reached by a dashed stub, and its
/// date says "(so far)".
fn draw_chart(pen: &mut Pen<'_>, data: &ReportData, top: f32, width: f32) -> f32 {
    let report = &data.report;
    let c = chart(
        report,
        data.previous.as_ref().map(|p| &p.0),
        data.made_at_ms,
    );
    let left = MARGIN + 30.0;
    let plot_w = width - 30.0;
    let plot_h = plot_height(report, top);
    let y_of = |v: f64| top + plot_h * (1.0 - v as f32);
    let at = |(x, y): &(f64, f64)| (left + plot_w * *x as f32, y_of(*y));
    for (v, y) in &c.y_ticks {
        let py = y_of(*y);
        pen.line(&[(left, py), (left + plot_w, py)], [0xdd, 0xdd, 0xdd], 0.5);
        pen.text(left - 4.0, py + 3.0, 7.0, &v.to_string(), 28.0, true);
    }
    for (x, label) in &c.x_labels {
        let px = left + plot_w * *x as f32;
        let w = crate::codes::text_width(label, crate::codes::em_scale(7.0));
        let px = (px - w / 2.0).clamp(left, left + plot_w - w);
        pen.text(px, top + plot_h + 10.0, 7.0, label, 120.0, false);
    }
    for (i, pts) in c.previous.iter().enumerate() {
        let pts: Vec<(f32, f32)> = pts.iter().map(at).collect();
        pen.dashed(&pts, tint(c.color(i)), 1.2);
    }
    for (i, (_, pts)) in c.series.iter().enumerate() {
        let color = c.color(i);
        let pts: Vec<(f32, f32)> = pts.iter().map(at).collect();
        let finished = match c.running {
            Some(r) if r + 1 == pts.len() => r,
            _ => pts.len(),
        };
        pen.line(&pts[..finished], color, 1.5);
        if finished < pts.len() {
            pen.dashed(&pts[finished.saturating_sub(1)..], color, 1.2);
            if let Some(&(x, y)) = pts.last() {
                pen.diamond(x, y, color);
            }
        }
    }
    draw_legend(pen, data, &c, top + plot_h + 24.0, width)
}

/// The legend below the plot, never over the data: one entry per series,
/// then the previous period's and the running bucket's keys.
fn draw_legend(pen: &mut Pen<'_>, data: &ReportData, c: &Chart, top: f32, width: f32) -> f32 {
    let mut y = top;
    let mut x = MARGIN;
    let mut place = |pen: &mut Pen<'_>, label: &str| {
        let w = crate::codes::text_width(label, crate::codes::em_scale(8.0)).min(150.0) + 20.0;
        if x + w > MARGIN + width {
            x = MARGIN;
            y += 12.0;
        }
        let spot = (x, y);
        pen.text(x + 15.0, y, 8.0, label, 150.0, false);
        x += w;
        spot
    };
    for (i, (label, _)) in c.series.iter().enumerate() {
        let (x, y) = place(pen, label);
        pen.line(&[(x, y - 3.0), (x + 12.0, y - 3.0)], c.color(i), 2.0);
    }
    if let Some(words) = previous_words(data) {
        let (x, y) = place(pen, &words);
        pen.dashed(
            &[(x, y - 3.0), (x + 12.0, y - 3.0)],
            [0x99, 0x99, 0x99],
            1.2,
        );
    }
    if c.running.is_some() {
        let (x, y) = place(pen, "so far: the period still running");
        pen.diamond(x + 6.0, y - 3.0, [0x60, 0x60, 0x60]);
    }
    y + 18.0
}

/// The table from `top`, as many rows as fit the page.
fn draw_table(pen: &mut Pen<'_>, report: &Report, top: f32, width: f32) {
    let num_w = 70.0;
    let key_w = width - 4.0 * num_w;
    let row_h = TABLE_ROW_H;
    let mut y = top;
    let header = [
        report.by.column_name(),
        "Referrals",
        "Unique people",
        "New",
        "Returning",
    ];
    pen.text(MARGIN, y, 9.0, header[0], key_w - 6.0, false);
    for (i, h) in header[1..].iter().enumerate() {
        let right = MARGIN + key_w + (i as f32 + 1.0) * num_w;
        pen.text(right, y, 9.0, h, num_w - 4.0, true);
    }
    pen.line(
        &[(MARGIN, y + 4.0), (MARGIN + width, y + 4.0)],
        [0x90, 0x90, 0x90],
        0.6,
    );
    let rows = table_rows(report);
    let fits = ((PAGE_H - MARGIN - y) / row_h).floor().max(0.0) as usize;
    for row in rows.iter().take(fits.saturating_sub(1)) {
        y += row_h;
        pen.text(MARGIN, y, 9.0, &row.key, key_w - 6.0, false);
        for (i, cell) in row.cells.iter().enumerate() {
            let right = MARGIN + key_w + (i as f32 + 1.0) * num_w;
            pen.text(right, y, 9.0, cell, num_w - 4.0, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escape_covers_markup_and_quotes() {
        assert_eq!(
            xml_escape(r#"<script>alert('x')</script>&"#),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
        assert_eq!(xml_escape(r#"a" onload="x"#), "a&quot; onload=&quot;x");
    }

    #[test]
    fn formats_come_from_the_extension() {
        assert_eq!(
            ReportFormat::from_path(Path::new("r.PDF")).unwrap(),
            ReportFormat::Pdf
        );
        assert_eq!(
            ReportFormat::from_path(Path::new("r.html")).unwrap(),
            ReportFormat::Html
        );
        let e = ReportFormat::from_path(Path::new("r.docx")).unwrap_err();
        assert_eq!(e.field, "output");
        assert!(e.rule.contains(".pdf or .html"), "{e}");
        assert!(ReportFormat::from_path(Path::new("report")).is_err());
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(1), 1);
        assert_eq!(nice_step(7), 2);
        assert_eq!(nice_step(18), 5);
        assert_eq!(nice_step(350), 100);
        assert!(nice_step(u64::MAX) > 0);
    }
}
