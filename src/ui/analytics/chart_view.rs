//! The chart of the Analytics screen and the controls over it: the
//! previous period, campaign bands, a comparison of 2 to 6 groups (charted
//! alone and tabled side by side), the legend and the view's reset.

use super::cards::{append_change, change_color};
use super::colors::series_colors;
use super::{
    COMPARE_MAX, COMPARE_MIN, Figure, KindView, MAX_BANDS, MAX_SERIES, PREVIOUS_SUFFIX, Previous,
    previous_of, shown_key,
};
use crate::stats::{Change, Every, GroupBy, GroupStats, Report, period_label};
use crate::ui::Shared;
use crate::ui::chart::{self, Series, Stacked};
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// The chart's own state: what is drawn, what the legend hid, the groups
/// compared, and what the last frame learned (for tests).
#[derive(Default)]
pub struct ChartView {
    pub(super) show_previous: bool,
    show_bands: bool,
    pub(super) compare: BTreeSet<String>,
    hidden: BTreeSet<String>,
    reset_view: bool,
    pub(super) transform: Option<egui_plot::PlotTransform>,
    pub(super) hover: Option<String>,
    /// Each line's name and colour in the last frame (tests).
    pub(super) colors: Vec<(String, egui::Color32)>,
    /// The plot's rect and the legend's in the last frame (layout tests).
    pub(super) rects: Option<(egui::Rect, egui::Rect)>,
    /// Which period the range is compared with (set by the panel each frame).
    pub(super) rule: crate::stats::Compare,
}

impl ChartView {
    /// The chart with the remembered previous-period choice; bands shown.
    pub(super) fn new(show_previous: bool) -> Self {
        Self {
            show_previous,
            show_bands: true,
            ..Self::default()
        }
    }

    /// The row above the chart: previous period, comparison, bands, reset.
    pub(super) fn controls(&mut self, ui: &mut egui::Ui, report: &Report, by: GroupBy) {
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.show_previous, "Previous period")
                .on_hover_text("Draw the period before this one as dashed lines");
            ui.checkbox(&mut self.show_bands, "Shade campaigns")
                .on_hover_text("Shade each campaign's start to end");
            if matches!(by, GroupBy::Link | GroupBy::Channel | GroupBy::Campaign) {
                self.compare_menu(ui, report, by);
            }
            if ui.button("Reset view").clicked() {
                self.reset_view = true;
            }
        });
    }

    /// "Compare…": pick 2 to 6 groups of the report to chart alone.
    fn compare_menu(&mut self, ui: &mut egui::Ui, report: &Report, by: GroupBy) {
        // Picks the report no longer has are dropped (a new range or page).
        self.compare
            .retain(|k| report.groups.iter().any(|g| &g.key == k));
        let what = by.plural();
        let title = if self.compare.is_empty() {
            format!("Compare {what}…")
        } else {
            format!("Compare {what} ({} picked)…", self.compare.len())
        };
        // Stays open while picking; a click outside closes it.
        let config = egui::containers::menu::MenuConfig::new()
            .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside);
        egui::containers::menu::MenuButton::new(title)
            .config(config)
            .ui(ui, |ui| {
                ui.label(format!("Pick {COMPARE_MIN} to {COMPARE_MAX} {what}"));
                egui::ScrollArea::vertical()
                    .max_height(300.0)
                    .show(ui, |ui| {
                        for g in &report.groups {
                            let mut on = self.compare.contains(&g.key);
                            let full = self.compare.len() >= COMPARE_MAX && !on;
                            let text = crate::model::shorten_text(&shown_key(by, &g.key), 60);
                            if ui
                                .add_enabled(!full, egui::Checkbox::new(&mut on, text))
                                .changed()
                            {
                                if on {
                                    self.compare.insert(g.key.clone());
                                } else {
                                    self.compare.remove(&g.key);
                                }
                            }
                        }
                    });
            });
        if !self.compare.is_empty() {
            if self.compare.len() < COMPARE_MIN {
                ui.label("Pick one more to compare");
            }
            if ui.button("Clear comparison").clicked() {
                self.compare.clear();
            }
        }
    }

    /// The groups the chart draws: the compared ones when 2 or more are
    /// picked, else every group (up to [`MAX_SERIES`]).
    fn charted<'r>(&self, report: &'r Report) -> Vec<&'r GroupStats> {
        if self.compare.len() >= COMPARE_MIN {
            report
                .groups
                .iter()
                .filter(|g| self.compare.contains(&g.key))
                .collect()
        } else {
            report.groups.iter().take(MAX_SERIES).collect()
        }
    }

    /// Draws the chart of `report` (and its previous period when ticked).
    pub(super) fn show(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        report: &Report,
        (by, kind_view): (GroupBy, KindView),
    ) {
        let every = report.every;
        let now_ms = chrono::Utc::now().timestamp_millis();
        let shown_previous =
            previous_of(report, shared.previous, self.rule).filter(|_| self.show_previous);
        let previous = shown_previous.map(|(p, _)| p);
        let kind = by == GroupBy::Kind;
        let bars = kind && kind_view == KindView::Stacked;
        let mut drawn = Drawn::default();
        if kind {
            drawn.kind(report, previous, bars, now_ms);
        } else {
            drawn.groups(&self.charted(report), report, previous, by, now_ms);
        }
        drawn.keys(shown_previous.map(|(_, days)| days));
        let Drawn {
            lines,
            stacked,
            legend,
        } = drawn;
        let bands = if self.show_bands {
            report_bands(shared, report)
        } else {
            Vec::new()
        };
        self.colors = lines.iter().map(|s| (s.name.clone(), s.color)).collect();
        let input = chart::ChartInput {
            every,
            lines: &lines,
            bars: stacked.as_ref(),
            bands: &bands,
            hidden: &self.hidden,
            reset: std::mem::take(&mut self.reset_view),
            height: chart_height(ui.ctx().content_rect().height()),
        };
        let shown = ui.scope(|ui| chart::show(ui, &input));
        let (out, plot_rect) = (shown.inner, shown.response.rect);
        self.transform = Some(out.transform);
        self.hover = out.hover;
        let legend_rect = ui
            .scope(|ui| chart::legend(ui, &legend, &mut self.hidden))
            .response
            .rect;
        self.rects = Some((plot_rect, legend_rect));
    }

    /// The compared groups side by side: one column each.
    pub(super) fn compare_table(
        &self,
        ui: &mut egui::Ui,
        report: &Report,
        previous: Option<Previous<'_>>,
        by: GroupBy,
    ) {
        if self.compare.len() < COMPARE_MIN {
            return;
        }
        let groups = self.charted(report);
        ui.strong("Comparison");
        egui::ScrollArea::horizontal()
            .id_salt("compare_h")
            .show(ui, |ui| {
                egui::Grid::new("compare_table")
                    .striped(true)
                    .show(ui, |ui| {
                        ui.label("");
                        let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
                        for (g, color) in groups.iter().zip(series_colors(&keys)) {
                            ui.label(
                                egui::RichText::new(crate::model::shorten_text(
                                    &shown_key(by, &g.key),
                                    40,
                                ))
                                .color(color),
                            );
                        }
                        ui.end_row();
                        let rows: [Figure<GroupStats>; 4] = [
                            ("Referrals", |g| g.referrals),
                            ("Unique people", |g| g.unique_people),
                            ("New", |g| g.new),
                            ("Returning", |g| g.returning),
                        ];
                        for (name, value) in rows {
                            ui.label(name);
                            for g in &groups {
                                ui.label(value(g).to_string());
                            }
                            ui.end_row();
                        }
                        if let Some((prev, (from, to))) = previous {
                            ui.label("Change in referrals");
                            let label = period_label(from, to);
                            for g in &groups {
                                let before = prev
                                    .groups
                                    .iter()
                                    .find(|p| p.key == g.key)
                                    .map_or(0, |p| p.referrals);
                                let text = Change::between(g.referrals, before).text(&label);
                                let mut job = egui::text::LayoutJob::default();
                                let size = egui::TextStyle::Body.resolve(ui.style()).size;
                                append_change(&mut job, &text, size, change_color(ui, &text));
                                ui.label(job);
                            }
                            ui.end_row();
                        }
                    });
            });
    }
}

/// The chart's height (axes included) in a window `window_height` points
/// tall: half the window, so a small window keeps the 0 line, the dates and
/// the legend in view together (issue 19, defect 4: at 640×480 the legend
/// covered them) and a large one has no half-empty screen. The floor keeps
/// a readable data area, the ceiling leaves a 2560×1440 window room for the
/// table.
pub fn chart_height(window_height: f32) -> f32 {
    (window_height * 0.5).clamp(200.0, 760.0)
}

/// What the chart draws: lines, the stacked bars of new and returning,
/// and the legend's entries (name, colour, what it marks).
#[derive(Default)]
struct Drawn {
    lines: Vec<Series>,
    stacked: Option<Stacked>,
    legend: Vec<(String, egui::Color32, chart::Mark)>,
}

impl Drawn {
    /// New and returning: stacked bars or two lines, and the previous
    /// period's two dashed lines.
    fn kind(&mut self, report: &Report, previous: Option<&Report>, bars: bool, now_ms: i64) {
        let current = kind_series(&report.groups, report.every, now_ms);
        if bars {
            self.stacked = Some(stacked_of(&current));
        } else {
            self.lines.extend(current);
        }
        self.legend
            .push((chart::NEW.into(), chart::color(0), chart::Mark::Line));
        self.legend
            .push((chart::RETURNING.into(), chart::color(1), chart::Mark::Line));
        if let Some(prev) = previous {
            let before = kind_series(&prev.groups, prev.every, i64::MAX);
            let xs = bucket_xs(&report.groups);
            for (i, s) in before.into_iter().enumerate() {
                self.previous_line(aligned_previous(s, &xs, chart::color(i)));
            }
        }
    }

    /// One line per charted group, and each one's previous period dashed.
    fn groups(
        &mut self,
        groups: &[&GroupStats],
        report: &Report,
        previous: Option<&Report>,
        by: GroupBy,
        now_ms: i64,
    ) {
        let every = report.every;
        // Colours from the groups' keys, never from their rank (defect 5).
        let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
        let colors = series_colors(&keys);
        for (g, &color) in groups.iter().zip(&colors) {
            let name = shown_key(by, &g.key);
            let s = Series::from_points(name, color, &g.series, every, now_ms);
            self.legend
                .push((s.name.clone(), s.color, chart::Mark::Line));
            self.lines.push(s);
        }
        let Some(prev) = previous else {
            return;
        };
        let xs = bucket_xs(&report.groups);
        for (g, &color) in groups.iter().zip(&colors) {
            let Some(pg) = prev.groups.iter().find(|p| p.key == g.key) else {
                continue;
            };
            let name = shown_key(by, &g.key);
            let s = Series::from_points(name, color, &pg.series, every, i64::MAX);
            self.previous_line(aligned_previous(s, &xs, color));
        }
    }

    /// A previous period's line (its key is one legend entry for all).
    fn previous_line(&mut self, s: Series) {
        self.lines.push(s);
    }

    /// The legend's keys after the series: the previous period's lighter
    /// dashes (named with its days) and the running bucket's hollow marker.
    fn keys(&mut self, previous_days: Option<(NaiveDate, NaiveDate)>) {
        let grey = egui::Color32::from_gray(160);
        if let Some((from, to)) = previous_days
            && self.lines.iter().any(|s| s.previous)
        {
            self.legend.push((
                format!("Previous period ({})", period_label(from, to)),
                chart::previous_tint(grey),
                chart::Mark::Previous,
            ));
        }
        let running = self.lines.iter().any(|s| s.unfinished.is_some())
            || self
                .stacked
                .as_ref()
                .is_some_and(|b| b.unfinished.is_some());
        if running {
            self.legend
                .push(("So far (still running)".into(), grey, chart::Mark::Running));
        }
    }
}

/// New and returning as two series, summed over the groups.
fn kind_series(groups: &[GroupStats], every: Every, now_ms: i64) -> Vec<Series> {
    let Some(first) = groups.first() else {
        return Vec::new();
    };
    let mut new = first.series.clone();
    let mut ret = first.series.clone();
    for (i, (n, r)) in new.iter_mut().zip(ret.iter_mut()).enumerate() {
        let (sn, sr) = groups
            .iter()
            .filter_map(|g| g.series.get(i))
            .fold((0, 0), |(a, b), p| (a + p.new, b + p.returning));
        n.referrals = sn;
        r.referrals = sr;
    }
    vec![
        Series::from_points(chart::NEW.into(), chart::color(0), &new, every, now_ms),
        Series::from_points(
            chart::RETURNING.into(),
            chart::color(1),
            &ret,
            every,
            now_ms,
        ),
    ]
}

/// The stacked bars of the new and returning series.
fn stacked_of(series: &[Series]) -> Stacked {
    let (Some(new), Some(ret)) = (series.first(), series.get(1)) else {
        return Stacked::default();
    };
    Stacked {
        buckets: new
            .points
            .iter()
            .zip(&ret.points)
            .map(|(&(x, n), &(_, r))| (x, n, r))
            .collect(),
        unfinished: new.unfinished,
        labels: new.labels.clone(),
    }
}

/// The x of each bucket of the report (all groups share the buckets).
fn bucket_xs(groups: &[GroupStats]) -> Vec<f64> {
    groups
        .first()
        .map(|g| g.series.iter().map(chart::bucket_x).collect())
        .unwrap_or_default()
}

/// A previous-period series moved onto the current buckets: its bucket i is
/// drawn at the current bucket i, so a month against a month (or a week
/// across a clock change) lines up day for day.
fn aligned_previous(mut s: Series, xs: &[f64], color: egui::Color32) -> Series {
    s.points = s
        .points
        .iter()
        .zip(xs)
        .map(|(&(_, y), &x)| (x, y))
        .collect();
    s.name = format!("{}{PREVIOUS_SUFFIX}", s.name);
    s.color = color;
    s.unfinished = None;
    s.previous = true;
    s
}

/// The campaign bands of the report's range.
fn report_bands(shared: &Shared<'_>, report: &Report) -> Vec<(String, f64, f64)> {
    match report.from.zip(report.to) {
        Some((from, to)) => campaign_bands(&shared.snap.campaigns, from, to),
        None => Vec::new(),
    }
}

/// Shaded bands (name, first day x, x of the day after the last) from each
/// campaign's start to its end, open ends reaching the range's edge, for the
/// campaigns with dates that overlap `from..=to`; at most [`MAX_BANDS`].
fn campaign_bands(
    campaigns: &[crate::model::Campaign],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(String, f64, f64)> {
    let x = |d: NaiveDate| (d - NaiveDate::default()).num_days() as f64;
    campaigns
        .iter()
        .filter(|c| !c.archived && (c.starts_on.is_some() || c.ends_on.is_some()))
        .filter_map(|c| {
            let start = c.starts_on.unwrap_or(from).max(from);
            let end = c.ends_on.unwrap_or(to).min(to);
            (start <= end).then(|| (c.name.clone(), x(start), x(end) + 1.0))
        })
        .take(MAX_BANDS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(name: &str, starts: Option<&str>, ends: Option<&str>) -> crate::model::Campaign {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        crate::model::Campaign {
            id: 1,
            page: 1,
            name: name.into(),
            starts_on: starts.map(d),
            ends_on: ends.map(d),
            notes: String::new(),
            archived: false,
            created_at: 0,
        }
    }

    #[test]
    fn campaign_bands_cover_their_days_clipped_to_the_range() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let x = |s: &str| (d(s) - NaiveDate::default()).num_days() as f64;
        let campaigns = [
            campaign("inside", Some("2026-11-03"), Some("2026-11-05")),
            campaign("open end", Some("2026-11-06"), None),
            campaign("open start", None, Some("2026-11-02")),
            campaign("no dates", None, None),
            campaign("before", Some("2026-10-01"), Some("2026-10-31")),
        ];
        let bands = campaign_bands(&campaigns, d("2026-11-01"), d("2026-11-07"));
        assert_eq!(
            bands,
            vec![
                ("inside".to_string(), x("2026-11-03"), x("2026-11-06")),
                ("open end".to_string(), x("2026-11-06"), x("2026-11-08")),
                ("open start".to_string(), x("2026-11-01"), x("2026-11-03")),
            ]
        );
    }
}
