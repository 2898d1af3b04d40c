//! The analytics chart: lines per group (or new versus returning as stacked
//! bars), the previous period as dashed lines, the current unfinished bucket
//! drawn apart, campaign dates as shaded bands, a legend outside the data
//! and a hover box naming the date, the series and the count.
//!
//! The decisions are plain functions that tests call without egui: where
//! ticks go ([`x_ticks`], [`y_ticks`]), which buckets are finished
//! ([`split_unfinished`]), how the view is kept above zero ([`clamp_y`]) and
//! what the pointer is over ([`nearest`]).

use super::widgets::display;
use crate::stats::{Every, Point};
use egui::Color32;
use egui_plot::{Bar, BarChart, GridMark, Line, LineStyle, MarkerShape, Plot, PlotPoints, Points};
use std::collections::BTreeSet;

mod hover;
mod legend;

pub use hover::hover_text;
pub use legend::{Mark, legend};

/// Plot x values are local days since 1970-01-01; past this many days either
/// way (about 27,000 years) the axis shows no dates.
pub const MAX_AXIS_DAYS: f64 = 10_000_000.0;
/// Hours in a day, as a float for plot x.
const HOURS: f64 = 24.0;
/// How near (in points) the pointer must be to a line's point for the hover box.
const HOVER_RADIUS: f32 = 24.0;
/// Most marks on an axis.
const MAX_X_MARKS: usize = 10;
const MAX_Y_MARKS: usize = 6;

/// Colours of the series, in order; a series keeps its colour in the legend
/// and in its previous-period line.
pub const PALETTE: [Color32; 10] = [
    Color32::from_rgb(31, 119, 180),
    Color32::from_rgb(255, 127, 14),
    Color32::from_rgb(44, 160, 44),
    Color32::from_rgb(214, 39, 40),
    Color32::from_rgb(148, 103, 189),
    Color32::from_rgb(140, 86, 75),
    Color32::from_rgb(227, 119, 194),
    Color32::from_rgb(127, 127, 127),
    Color32::from_rgb(188, 189, 34),
    Color32::from_rgb(23, 190, 207),
];

/// The colour of series number `i`.
pub fn color(i: usize) -> Color32 {
    PALETTE[i % PALETTE.len()]
}

/// Which buckets of a series are finished: the first `finished` ones; the
/// one at `finished` is still running when `unfinished` is set; every later
/// one lies in the future and is not drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// Buckets that ended before now.
    pub finished: usize,
    /// The bucket holding now (index `finished`), if the range reaches now.
    pub unfinished: Option<usize>,
}

/// Splits buckets (their start instants, ascending, and the end of the last
/// one) at `now_ms`. A bucket ends where the next starts.
pub fn split_unfinished(starts_ms: &[i64], last_end_ms: i64, now_ms: i64) -> Split {
    let end = |i: usize| starts_ms.get(i + 1).copied().unwrap_or(last_end_ms);
    let finished = (0..starts_ms.len())
        .take_while(|&i| end(i) <= now_ms)
        .count();
    let unfinished = starts_ms
        .get(finished)
        .filter(|&&start| start <= now_ms && now_ms < end(finished))
        .map(|_| finished);
    Split {
        finished,
        unfinished,
    }
}

/// The nominal end of a bucket starting at `start_ms` (the last bucket of a
/// series has no next start to end at). Days and longer are measured in
/// local days by the stats engine; a nominal length only decides whether the
/// last bucket is still running, so a clock change's hour does not matter.
pub fn nominal_end_ms(start_ms: i64, every: Every) -> i64 {
    let hours: i64 = match every {
        Every::Hour => 1,
        Every::Day => 24,
        Every::Week => 7 * 24,
        Every::Month => 31 * 24,
    };
    start_ms.saturating_add(hours * 3_600_000)
}

/// Keeps the y view at or above zero: a view dragged or scrolled below zero
/// is moved up with its height kept.
pub fn clamp_y(min: f64, max: f64) -> (f64, f64) {
    if !(min.is_finite() && max.is_finite()) || min >= 0.0 {
        return (min, max);
    }
    (0.0, (max - min).max(1.0))
}

/// X marks (local days) for the visible `view` clipped to the data range
/// `data`: whole hours on the hourly view, midnights by the day, Mondays by
/// the week and firsts of months by the month, thinned to at most
/// `max_marks`. The first mark is inside both ranges.
pub fn x_ticks(view: (f64, f64), data: (f64, f64), every: Every, max_marks: usize) -> Vec<f64> {
    let lo = view.0.max(data.0);
    let hi = view.1.min(data.1);
    if !(lo.is_finite() && hi.is_finite()) || hi < lo || lo.abs() > MAX_AXIS_DAYS {
        return Vec::new();
    }
    let hi = hi.min(MAX_AXIS_DAYS);
    if every == Every::Month {
        return month_ticks(lo, hi, max_marks);
    }
    // Steps in whole hours; weeks (and longer) start on Mondays.
    let steps: &[i64] = match every {
        Every::Hour => &[1, 2, 3, 6, 12, 24, 48, 168, 336, 672],
        Every::Day => &[24, 48, 168, 336, 672, 1344, 2688, 8736],
        _ => &[168, 336, 672, 1344, 2688, 8736, 17472, 43680],
    };
    // In range by the check above, so the casts cannot saturate.
    // A hair of slack, so 01:00 computed in floats still counts as 01:00.
    let lo_h = (lo * HOURS - 1e-6).ceil() as i64;
    let hi_h = (hi * HOURS + 1e-6).floor() as i64;
    // 1970-01-05 was a Monday.
    const MONDAY_H: i64 = 4 * 24;
    let most = max_marks.max(1) as i64;
    let last_step = steps.last().copied().unwrap_or(24);
    for &step in steps {
        let offset = if step >= 168 { MONDAY_H } else { 0 };
        let r = (lo_h - offset).rem_euclid(step);
        let first = if r == 0 { lo_h } else { lo_h + step - r };
        if first > hi_h {
            if step == last_step {
                return Vec::new();
            }
            continue;
        }
        let count = (hi_h - first) / step + 1;
        if count <= most || step == last_step {
            return (0..count.min(most))
                .map(|k| (first + k * step) as f64 / HOURS)
                .collect();
        }
    }
    Vec::new()
}

/// Firsts of months between `lo` and `hi` (local days), every k months.
fn month_ticks(lo: f64, hi: f64, max_marks: usize) -> Vec<f64> {
    let day = |x: f64| {
        chrono::TimeDelta::try_days(x.floor() as i64)
            .and_then(|d| chrono::NaiveDate::default().checked_add_signed(d))
    };
    let (Some(a), Some(b)) = (day(lo), day(hi)) else {
        return Vec::new();
    };
    use chrono::Datelike;
    let index = |d: chrono::NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
    let mut first = index(a);
    if a.day() != 1 || lo.fract() > 0.0 {
        first += 1;
    }
    let last = index(b);
    if last < first {
        return Vec::new();
    }
    let months = last - first + 1;
    let k = [1, 2, 3, 6, 12, 24, 60, 120, 600, 1200]
        .into_iter()
        .find(|k| months / k < max_marks.max(1) as i64)
        .unwrap_or(1200);
    let first = first + (k - first.rem_euclid(k)).rem_euclid(k);
    (first..=last)
        .step_by(usize::try_from(k).unwrap_or(1))
        .filter_map(|m| {
            let d = chrono::NaiveDate::from_ymd_opt(
                i32::try_from(m.div_euclid(12)).ok()?,
                u32::try_from(m.rem_euclid(12) + 1).ok()?,
                1,
            )?;
            Some((d - chrono::NaiveDate::default()).num_days() as f64)
        })
        .take(max_marks.max(1))
        .collect()
}

/// Y marks for counts: whole numbers from 0 in steps of 1, 2 or 5 × 10ⁿ, at
/// most `max_marks` up to `max`.
pub fn y_ticks(max: f64, max_marks: usize) -> Vec<f64> {
    if !max.is_finite() || max <= 0.0 {
        return vec![0.0];
    }
    let max = max.min(1e15);
    let marks = max_marks.max(2) as f64;
    let mut step = 1.0_f64;
    'find: loop {
        for m in [1.0, 2.0, 5.0] {
            if max / (step * m) < marks {
                step *= m;
                break 'find;
            }
        }
        step *= 10.0;
    }
    let n = (max / step).floor() as usize;
    (0..=n).map(|k| k as f64 * step).collect()
}

/// The axis text of plot x (local days since 1970-01-01); empty where no
/// date exists (zoomed far out), never a panic.
pub fn x_label(x: f64, every: Every) -> String {
    if !x.is_finite() || x.abs() > MAX_AXIS_DAYS {
        return String::new();
    }
    // Rounded to the minute first, so 13:00 never reads 12:59.
    let minutes = (x * 1440.0).round() as i64;
    let days = minutes.div_euclid(1440);
    let Some(day) = chrono::TimeDelta::try_days(days)
        .and_then(|d| chrono::NaiveDate::default().checked_add_signed(d))
    else {
        return String::new();
    };
    match every {
        Every::Hour => format!("{} {:02}:00", day, minutes.rem_euclid(1440) / 60),
        Every::Month => day.format("%Y-%m").to_string(),
        _ => day.to_string(),
    }
}

/// The short text under an x tick: on the hourly view the hour, and the
/// date at midnight; otherwise as [`x_label`].
pub fn axis_label(x: f64, every: Every) -> String {
    let full = x_label(x, every);
    if every != Every::Hour {
        return full;
    }
    match full.split_once(' ') {
        Some((day, "00:00")) => day.to_string(),
        Some((_, hour)) => hour.to_string(),
        None => full,
    }
}

/// The x of a bucket: local days since 1970-01-01, from its start instant
/// and UTC offset (labels are never parsed back into dates).
pub fn bucket_x(pt: &Point) -> f64 {
    let local_ms = pt
        .start_ms
        .saturating_add(i64::from(pt.utc_offset_secs).saturating_mul(1000));
    local_ms as f64 / 86_400_000.0
}

/// Something the pointer may be over, in screen points: a line's point
/// (`half_width` 0) or a bar from `base` up to `top` (screen y grows down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// Centre x.
    pub x: f32,
    /// The value's y (a bar's top).
    pub top: f32,
    /// A bar's bottom; equal to `top` for a point.
    pub base: f32,
    /// Half a bar's width; 0 for a point.
    pub half_width: f32,
}

/// The target under or nearest to the pointer, within `radius` points; a bar
/// counts only when the pointer is inside it.
pub fn nearest(targets: &[Target], pointer: [f32; 2], radius: f32) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, t) in targets.iter().enumerate() {
        let dist = if t.half_width > 0.0 {
            let (y0, y1) = (t.top.min(t.base), t.top.max(t.base));
            let inside =
                (pointer[0] - t.x).abs() <= t.half_width && pointer[1] >= y0 && pointer[1] <= y1;
            if !inside {
                continue;
            }
            0.0
        } else {
            ((pointer[0] - t.x).powi(2) + (pointer[1] - t.top).powi(2)).sqrt()
        };
        if dist <= radius && best.is_none_or(|(_, d)| dist < d) {
            best = Some((i, dist));
        }
    }
    best.map(|(i, _)| i)
}

/// One series to draw: its name, colour and points (x in local days).
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend and hover name.
    pub name: String,
    /// Colour.
    pub color: Color32,
    /// (x, count) per bucket, future buckets left out.
    pub points: Vec<(f64, u64)>,
    /// Index in `points` of the bucket still running, drawn apart.
    pub unfinished: Option<usize>,
    /// The previous period (dashed).
    pub previous: bool,
    /// Each point's bucket as the hover box names it (see [`hover_date`]).
    pub labels: Vec<String>,
}

/// A bucket's label as the hover box shows it: `2026-11-25`,
/// `2026-11-25 13:00`, and for the repeated hour of a clock change
/// `2026-10-25 02:00+01:00`, so its two hours stay apart.
pub fn hover_date(bucket: &str) -> String {
    bucket.replacen('T', " ", 1)
}

impl Series {
    /// A series from a stats series, cut at now: future buckets dropped,
    /// the running one marked.
    pub fn from_points(
        name: String,
        color: Color32,
        pts: &[Point],
        every: Every,
        now_ms: i64,
    ) -> Self {
        let starts: Vec<i64> = pts.iter().map(|p| p.start_ms).collect();
        let last_end = starts
            .last()
            .map_or(i64::MIN, |&s| nominal_end_ms(s, every));
        let split = split_unfinished(&starts, last_end, now_ms);
        let keep = split.finished + usize::from(split.unfinished.is_some());
        Self {
            name,
            color,
            points: pts
                .iter()
                .take(keep)
                .map(|p| (bucket_x(p), p.referrals))
                .collect(),
            unfinished: split.unfinished,
            previous: false,
            labels: pts
                .iter()
                .take(keep)
                .map(|p| hover_date(&p.bucket))
                .collect(),
        }
    }
}

/// New and returning as stacked bars: (x, new, returning) per bucket, and
/// which bucket is still running.
#[derive(Debug, Clone, Default)]
pub struct Stacked {
    /// (x, new, returning), future buckets left out.
    pub buckets: Vec<(f64, u64, u64)>,
    /// Each bucket as the hover box names it.
    pub labels: Vec<String>,
    /// The running bucket's index.
    pub unfinished: Option<usize>,
}

/// What the chart draws this frame.
pub struct ChartInput<'a> {
    /// Bucket size.
    pub every: Every,
    /// Lines (current and previous period).
    pub lines: &'a [Series],
    /// Stacked bars instead of lines for the current period, if any.
    pub bars: Option<&'a Stacked>,
    /// Campaign bands: name, first day x, day after the last x.
    pub bands: &'a [(String, f64, f64)],
    /// Series the legend turned off, by name.
    pub hidden: &'a BTreeSet<String>,
    /// Forget zoom and panning this frame.
    pub reset: bool,
    /// Height of the plot.
    pub height: f32,
}

/// What the chart learned this frame: the hover text (shown in a box at the
/// pointer) and the plot's transform (tests aim the pointer with it).
pub struct ChartOutput {
    /// The text of the hover box, if the pointer is over a value.
    pub hover: Option<String>,
    /// Screen from plot coordinates.
    pub transform: egui_plot::PlotTransform,
}

/// Draws the chart.
pub fn show(ui: &mut egui::Ui, input: &ChartInput<'_>) -> ChartOutput {
    let every = input.every;
    let mut plot = plot(input);
    if input.reset {
        plot = plot.reset();
    }
    let mut targets: Vec<(Target, Hit)> = Vec::new();
    let resp = plot.show(ui, |p| {
        let (lo, hi) = (p.plot_bounds().min()[1], p.plot_bounds().max()[1]);
        let (clo, chi) = clamp_y(lo, hi);
        if (clo, chi) != (lo, hi) {
            p.set_plot_bounds_y(clo..=chi);
        }
        for (name, a, b) in input.bands {
            p.span(
                egui_plot::Span::new(display(name), *a..=*b)
                    .fill(Color32::from_rgba_unmultiplied(120, 160, 220, 28))
                    .border_width(0.0),
            );
        }
        if let Some(bars) = input.bars {
            draw_bars(p, bars, every, input.hidden);
        }
        for s in input
            .lines
            .iter()
            .filter(|s| !input.hidden.contains(&s.name))
        {
            draw_line(p, s);
        }
    });
    let transform = resp.transform;
    if let Some(bars) = input.bars {
        bar_targets(&mut targets, bars, every, &transform, input.hidden);
    }
    line_targets(&mut targets, input, &transform);
    let hover = resp.response.hover_pos().and_then(|at| {
        let only: Vec<Target> = targets.iter().map(|t| t.0).collect();
        nearest(&only, [at.x, at.y], HOVER_RADIUS).map(|i| match &targets[i].1 {
            Hit::Bar(text) => text.clone(),
            Hit::Line(series, point) => hover_text(input, *series, *point),
        })
    });
    if let (Some(text), Some(at)) = (&hover, resp.response.hover_pos()) {
        hover_box(ui.ctx(), ui.scope_id().with("chart_hover"), at, text);
    }
    ChartOutput { hover, transform }
}

/// The plot: its height, the y axis from 0 with headroom, the date axis
/// and the grid marks of [`x_ticks`] and [`y_ticks`].
fn plot(input: &ChartInput<'_>) -> Plot<'static> {
    let every = input.every;
    let data = data_range(input);
    // No margin under 0 (the y axis starts at 0); headroom above the top value.
    let top = top_value(input);
    Plot::new("series")
        .height(input.height)
        .set_margin_fraction(egui::vec2(0.04, 0.0))
        .include_y(0.0)
        .include_y(top * 1.1 + 1.0)
        .show_x(false)
        .show_y(false)
        .allow_double_click_reset(true)
        .x_axis_formatter(move |mark, _| axis_label(mark.value, every))
        .y_axis_formatter(|mark, _| {
            if mark.value >= 0.0 && mark.value.fract() == 0.0 {
                format!("{}", mark.value as u64)
            } else {
                String::new()
            }
        })
        .x_grid_spacer(move |input| {
            x_ticks(input.bounds, data, every, MAX_X_MARKS)
                .into_iter()
                .map(|value| GridMark {
                    value,
                    step_size: input.base_step_size.max(1.0 / HOURS) * 100.0,
                })
                .collect()
        })
        .y_grid_spacer(|input| {
            let ticks = y_ticks(input.bounds.1, MAX_Y_MARKS);
            let step = ticks.get(1).copied().unwrap_or(1.0);
            ticks
                .into_iter()
                .map(|value| GridMark {
                    value,
                    step_size: step,
                })
                .collect()
        })
}

/// What a hover target is: a bar's part with its text, or a line's point
/// (series and point index; the text lists every shown series there).
enum Hit {
    Bar(String),
    Line(usize, usize),
}

/// Hover targets of the lines' points: where each is on screen.
fn line_targets(
    targets: &mut Vec<(Target, Hit)>,
    input: &ChartInput<'_>,
    transform: &egui_plot::PlotTransform,
) {
    for (n, s) in input.lines.iter().enumerate() {
        if input.hidden.contains(&s.name) {
            continue;
        }
        for (i, &(x, y)) in s.points.iter().enumerate() {
            let pos = transform.position_from_point(&egui_plot::PlotPoint::new(x, y as f64));
            targets.push((
                Target {
                    x: pos.x,
                    top: pos.y,
                    base: pos.y,
                    half_width: 0.0,
                },
                Hit::Line(n, i),
            ));
        }
    }
}

/// The hover name of bucket `i`: its label, or the date of its x.
fn label_at(labels: &[String], i: usize, x: f64, every: Every) -> String {
    labels
        .get(i)
        .filter(|l| !l.is_empty())
        .cloned()
        .unwrap_or_else(|| x_label(x, every))
}

/// The hover box: a small frame beside the pointer holding the text (a
/// label, so screen readers and tests read it). Lines are never wrapped (a
/// ref broken mid-word reads as two refs: issue 19, defect 4); the box opens
/// on the side of the pointer with more room, so it stays on screen.
fn hover_box(ctx: &egui::Context, id: egui::Id, at: egui::Pos2, text: &str) {
    let screen = ctx.content_rect();
    let right = at.x < screen.center().x;
    let below = at.y < screen.center().y;
    let pivot = match (right, below) {
        (true, true) => egui::Align2::LEFT_TOP,
        (true, false) => egui::Align2::LEFT_BOTTOM,
        (false, true) => egui::Align2::RIGHT_TOP,
        (false, false) => egui::Align2::RIGHT_BOTTOM,
    };
    let offset = egui::vec2(
        if right { 14.0 } else { -14.0 },
        if below { 14.0 } else { -14.0 },
    );
    egui::Area::new(id)
        .order(egui::Order::Tooltip)
        .interactable(false)
        .pivot(pivot)
        .fixed_pos(at + offset)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.add(egui::Label::new(text).extend());
            });
        });
}

/// The highest value drawn (a stacked bar counts whole).
fn top_value(input: &ChartInput<'_>) -> f64 {
    let lines = input
        .lines
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1));
    let bars = input
        .bars
        .iter()
        .flat_map(|b| b.buckets.iter().map(|&(_, n, r)| n.saturating_add(r)));
    lines.chain(bars).max().unwrap_or(0) as f64
}

/// The x span of the data, so ticks stay where there is data.
fn data_range(input: &ChartInput<'_>) -> (f64, f64) {
    let xs = input
        .lines
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(
            input
                .bars
                .iter()
                .flat_map(|b| b.buckets.iter().map(|p| p.0)),
        );
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in xs {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    (lo, hi)
}

fn draw_line(p: &mut egui_plot::PlotUi<'_>, s: &Series) {
    // The previous period: a lighter tint of the series' colour, thinner
    // and loosely dashed, so it is not read as the running bucket's dense
    // dashes to a hollow marker.
    let style = if s.previous {
        LineStyle::dashed_loose()
    } else {
        LineStyle::Solid
    };
    let color = if s.previous {
        previous_tint(s.color)
    } else {
        s.color
    };
    let width = if s.previous { 1.5 } else { 2.0 };
    let finished = s.unfinished.unwrap_or(s.points.len());
    let solid: Vec<[f64; 2]> = s.points[..finished]
        .iter()
        .map(|&(x, y)| [x, y as f64])
        .collect();
    p.line(
        Line::new(s.name.clone(), PlotPoints::from(solid))
            .color(color)
            .style(style)
            .width(width),
    );
    // The running bucket: a dashed stub to a hollow marker, never a drop.
    if let Some(u) = s.unfinished
        && let Some(&(x, y)) = s.points.get(u)
    {
        let mut stub = Vec::new();
        if let Some(&(px, py)) = u.checked_sub(1).and_then(|i| s.points.get(i)) {
            stub.push([px, py as f64]);
        }
        stub.push([x, y as f64]);
        p.line(
            Line::new(format!("{} (so far)", s.name), PlotPoints::from(stub))
                .color(color)
                .style(LineStyle::dashed_dense())
                .width(1.5),
        );
        p.points(
            Points::new(
                format!("{} (so far)", s.name),
                PlotPoints::from(vec![[x, y as f64]]),
            )
            .shape(MarkerShape::Circle)
            .filled(false)
            .radius(4.0)
            .color(color),
        );
    }
}

/// The lighter tint of a previous period's line (and its legend mark): the
/// colour a quarter of the way to grey, at 60% opacity, so it keeps its hue.
pub fn previous_tint(c: Color32) -> Color32 {
    let mix = |v: u8| ((3 * u16::from(v) + 128) / 4) as u8;
    Color32::from_rgba_unmultiplied(mix(c.r()), mix(c.g()), mix(c.b()), 155)
}

/// Bar width in days.
fn bar_width(every: Every) -> f64 {
    match every {
        Every::Hour => 1.0 / HOURS * 0.8,
        Every::Day => 0.8,
        Every::Week => 5.6,
        Every::Month => 24.0,
    }
}

/// Names of the two stacked series.
pub const NEW: &str = "New";
/// See [`NEW`].
pub const RETURNING: &str = "Returning";

fn draw_bars(p: &mut egui_plot::PlotUi<'_>, s: &Stacked, every: Every, hidden: &BTreeSet<String>) {
    let width = bar_width(every);
    let shade = |c: Color32, i: usize| {
        if s.unfinished == Some(i) {
            // Hollow: the running bucket is outlined, not filled.
            (Color32::TRANSPARENT, egui::Stroke::new(1.5, c))
        } else {
            (c, egui::Stroke::new(1.0, c))
        }
    };
    let show_new = !hidden.contains(NEW);
    let show_ret = !hidden.contains(RETURNING);
    let new = BarChart::new(
        NEW,
        s.buckets
            .iter()
            .enumerate()
            .map(|(i, &(x, n, _))| {
                let (fill, stroke) = shade(color(0), i);
                let n = if show_new { n as f64 } else { 0.0 };
                Bar::new(x, n).width(width).fill(fill).stroke(stroke)
            })
            .collect(),
    )
    .color(color(0));
    let ret = BarChart::new(
        RETURNING,
        s.buckets
            .iter()
            .enumerate()
            .map(|(i, &(x, _, r))| {
                let (fill, stroke) = shade(color(1), i);
                let r = if show_ret { r as f64 } else { 0.0 };
                Bar::new(x, r).width(width).fill(fill).stroke(stroke)
            })
            .collect(),
    )
    .color(color(1))
    .stack_on(&[&new]);
    p.bar_chart(new);
    p.bar_chart(ret);
}

fn bar_targets(
    out: &mut Vec<(Target, Hit)>,
    s: &Stacked,
    every: Every,
    t: &egui_plot::PlotTransform,
    hidden: &BTreeSet<String>,
) {
    let half = bar_width(every) / 2.0;
    for (i, &(x, n, r)) in s.buckets.iter().enumerate() {
        let so_far = if s.unfinished == Some(i) {
            " (so far)"
        } else {
            ""
        };
        let n = if hidden.contains(NEW) { 0 } else { n };
        let r = if hidden.contains(RETURNING) { 0 } else { r };
        // Either part of a bar names both shown series of its date.
        let mut text = format!("{}{so_far}", label_at(&s.labels, i, x, every));
        for (name, count) in [(NEW, n), (RETURNING, r)] {
            if !hidden.contains(name) {
                text.push_str(&format!("\n{name}: {count}"));
            }
        }
        for (lo, hi, count) in [(0, n, n), (n, n + r, r)] {
            if count == 0 {
                continue;
            }
            let a = t.position_from_point(&egui_plot::PlotPoint::new(x - half, lo as f64));
            let b = t.position_from_point(&egui_plot::PlotPoint::new(x + half, hi as f64));
            out.push((
                Target {
                    x: (a.x + b.x) / 2.0,
                    top: b.y,
                    base: a.y,
                    half_width: ((b.x - a.x) / 2.0).abs(),
                },
                Hit::Bar(text.clone()),
            ));
        }
    }
}

/// A link's last 30 days as a small line, with its 7-day, 30-day and
/// all-time totals as text.
pub fn sparkline(ui: &mut egui::Ui, glance: &crate::stats::LinkGlance) {
    ui.label(format!(
        "Referrals: {} in 7 days · {} in 30 days · {} all time",
        glance.last_7_days, glance.last_30_days, glance.all_time
    ));
    let width = ui.available_width().clamp(120.0, 320.0);
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, 36.0), egui::Sense::hover());
    let max = glance.daily.iter().copied().max().unwrap_or(0).max(1) as f32;
    let n = glance.daily.len().max(2) - 1;
    let points: Vec<egui::Pos2> = glance
        .daily
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            egui::pos2(
                rect.left() + rect.width() * i as f32 / n as f32,
                rect.bottom() - (rect.height() - 2.0) * v as f32 / max,
            )
        })
        .collect();
    let painter = ui.painter_at(rect);
    painter.line_segment(
        [rect.left_bottom(), rect.right_bottom()],
        egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
    );
    painter.add(egui::Shape::line(points, egui::Stroke::new(1.5, color(0))));
    let first = glance.first_day.map(|d| d.to_string()).unwrap_or_default();
    response.on_hover_text(format!(
        "Referrals per day since {first}: {}",
        glance
            .daily
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn the_running_bucket_is_apart_and_future_ones_are_dropped() {
        let starts: Vec<i64> = (0..24).map(|h| h * H).collect();
        // 13:20: 13 hours are done, 13:00 runs, 14:00 on lies ahead.
        let s = split_unfinished(&starts, 24 * H, 13 * H + 20 * 60_000);
        assert_eq!(
            s,
            Split {
                finished: 13,
                unfinished: Some(13)
            }
        );
        // Exactly on a boundary: the bucket that just began runs.
        let s = split_unfinished(&starts, 24 * H, 5 * H);
        assert_eq!((s.finished, s.unfinished), (5, Some(5)));
        // A range in the past: everything finished.
        let s = split_unfinished(&starts, 24 * H, 30 * H);
        assert_eq!((s.finished, s.unfinished), (24, None));
        // A range in the future: nothing drawn.
        let s = split_unfinished(&starts, 24 * H, -1);
        assert_eq!((s.finished, s.unfinished), (0, None));
        assert_eq!(split_unfinished(&[], 0, 5).finished, 0);
    }

    #[test]
    fn a_series_stops_at_now_and_never_drops_to_zero() {
        let pts: Vec<Point> = (0..5)
            .map(|d| Point {
                bucket: String::new(),
                start_ms: d * 24 * H,
                utc_offset_secs: 0,
                referrals: 10,
                new: 10,
                returning: 0,
            })
            .collect();
        let s = Series::from_points("a".into(), color(0), &pts, Every::Day, 2 * 24 * H + H);
        assert_eq!(s.points.len(), 3, "today is the last point drawn");
        assert_eq!(s.unfinished, Some(2));
    }

    #[test]
    fn hourly_ticks_sit_on_whole_hours_and_start_inside_the_range() {
        // View 20000.03 .. 20001.0 (from 00:43), data from 01:00.
        let view = (20_000.03, 20_001.0);
        let data = (20_000.0 + 1.0 / 24.0, 20_000.99);
        let ticks = x_ticks(view, data, Every::Hour, 10);
        assert!(!ticks.is_empty());
        assert!(ticks.len() <= 10);
        for t in &ticks {
            let h = t * 24.0;
            assert!((h - h.round()).abs() < 1e-6, "{t} is on a whole hour");
            assert!(*t >= data.0 - 1e-9 && *t <= data.1, "{t} inside");
        }
        assert!(ticks[0] >= view.0 && ticks[0] >= data.0);
        assert_eq!(x_label(ticks[0], Every::Hour), "2024-10-04 03:00");
        assert_eq!(axis_label(ticks[0], Every::Hour), "03:00");
        assert_eq!(axis_label(20_001.0, Every::Hour), "2024-10-05");
        assert_eq!(axis_label(20_001.0, Every::Day), "2024-10-05");
    }

    #[test]
    fn day_week_and_month_ticks_are_midnights_mondays_and_firsts() {
        let view = (19_999.5, 20_030.5);
        for t in x_ticks(view, view, Every::Day, 10) {
            assert_eq!(t.fract(), 0.0);
            assert!(t >= view.0);
        }
        for t in x_ticks((19_990.0, 20_200.0), (19_990.0, 20_200.0), Every::Week, 8) {
            let d = chrono::NaiveDate::default() + chrono::TimeDelta::days(t as i64);
            assert_eq!(chrono::Datelike::weekday(&d), chrono::Weekday::Mon);
        }
        let months = x_ticks((19_990.5, 20_400.0), (19_990.5, 20_400.0), Every::Month, 6);
        assert!(!months.is_empty() && months.len() <= 6);
        for t in months {
            assert!(t >= 19_990.5);
            assert!(x_label(t, Every::Day).ends_with("-01"), "{t}");
        }
        assert!(x_ticks((f64::NAN, 1.0), (f64::NAN, 1.0), Every::Day, 5).is_empty());
        assert!(x_ticks((1e12, 2e12), (1e12, 2e12), Every::Hour, 5).is_empty());
    }

    #[test]
    fn y_ticks_are_readable_whole_numbers_from_zero() {
        assert_eq!(y_ticks(3.4, 6), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(y_ticks(17.0, 6), vec![0.0, 5.0, 10.0, 15.0]);
        assert_eq!(y_ticks(230.0, 6), vec![0.0, 50.0, 100.0, 150.0, 200.0]);
        assert_eq!(y_ticks(0.4, 6), vec![0.0]);
        assert_eq!(y_ticks(-5.0, 6), vec![0.0]);
        assert_eq!(y_ticks(f64::NAN, 6), vec![0.0]);
        assert!(y_ticks(1e300, 6).len() <= 7);
    }

    #[test]
    fn the_view_never_goes_below_zero() {
        assert_eq!(clamp_y(-3.0, 7.0), (0.0, 10.0));
        assert_eq!(clamp_y(2.0, 7.0), (2.0, 7.0));
        assert_eq!(clamp_y(-9.0, -4.0), (0.0, 5.0));
        let (a, b) = clamp_y(f64::NAN, 1.0);
        assert!(a.is_nan() && b == 1.0);
    }

    #[test]
    fn hover_finds_the_point_near_and_the_bar_under_the_pointer() {
        let t = [
            Target {
                x: 100.0,
                top: 50.0,
                base: 50.0,
                half_width: 0.0,
            },
            Target {
                x: 130.0,
                top: 80.0,
                base: 80.0,
                half_width: 0.0,
            },
            Target {
                x: 300.0,
                top: 40.0,
                base: 200.0,
                half_width: 10.0,
            },
        ];
        assert_eq!(nearest(&t, [104.0, 53.0], 24.0), Some(0));
        assert_eq!(nearest(&t, [126.0, 75.0], 24.0), Some(1));
        assert_eq!(nearest(&t, [100.0, 200.0], 24.0), None);
        assert_eq!(nearest(&t, [305.0, 120.0], 24.0), Some(2));
        assert_eq!(nearest(&t, [315.0, 120.0], 24.0), None, "beside the bar");
        assert_eq!(nearest(&t, [300.0, 30.0], 24.0), None, "above the bar");
    }

    #[test]
    fn axis_labels_never_panic() {
        for x in [
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NAN,
            1e12,
            -1e12,
            MAX_AXIS_DAYS,
            -MAX_AXIS_DAYS,
        ] {
            for every in Every::ALL {
                let _ = x_label(x, every);
            }
        }
        assert_eq!(x_label(0.0, Every::Day), "1970-01-01");
        assert_eq!(x_label(1e12, Every::Day), "");
        // Hover names a repeated hour with its offset.
        assert_eq!(
            hover_date("2026-10-25T02:00+01:00"),
            "2026-10-25 02:00+01:00"
        );
        assert_eq!(hover_date("2026-11-25"), "2026-11-25");
        // 13:00 computed from a float just under it still reads 13:00.
        assert_eq!(x_label(13.0 / 24.0 - 1e-9, Every::Hour), "1970-01-01 13:00");
    }
}
