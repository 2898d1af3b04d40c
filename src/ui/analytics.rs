//! The Analytics screen: range presets and a date picker for custom
//! ranges, a time-zone picker, granularity, grouping, headline cards with
//! their change against the previous period, a time-series chart (see
//! [`super::chart`]) with the previous period and a comparison of 2 to 6
//! groups, a sortable totals table (top groups and an "Other" row),
//! untracked refs page by page, campaign dates, and CSV export of the table.

use super::chart::{self, Series, Stacked};
use super::links::sort_header;
use super::widgets::{self, display};
use super::{Action, Shared, Tab, UiState};
use crate::model::{LinkId, NewCampaign, PageId};
use crate::stats::{Change, Every, GroupBy, GroupStats, Report, StatsQuery, Totals};
use crate::store::{AliasRow, LinkRow};
use crate::worker::ShortCommand;
use chrono::NaiveDate;
use chrono_tz::Tz;
use egui_extras::{Column, TableBuilder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Most series drawn at once; the rest are in the table.
const MAX_SERIES: usize = 50;
/// Groups the stats query returns with their series; the rest come summed
/// in the report's "Other" row.
pub const TOP_GROUPS: usize = MAX_SERIES;
/// Untracked refs shown per page of that list.
pub const UNTRACKED_PER_PAGE: usize = 20;
/// Fewest and most groups a comparison charts.
pub const COMPARE_MIN: usize = 2;
/// See [`COMPARE_MIN`].
pub const COMPARE_MAX: usize = 6;
/// Most campaign bands drawn on the chart.
const MAX_BANDS: usize = 6;
/// Most zones the time-zone picker lists at once (the search narrows them).
const MAX_ZONES_LISTED: usize = 60;
/// Suffix of a previous-period series' name.
pub const PREVIOUS_SUFFIX: &str = " (previous period)";

/// Date range presets of the analytics screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Range {
    /// Today only.
    Today,
    /// Last 7 days.
    Days7,
    /// Last 30 days.
    #[default]
    Days30,
    /// Last 90 days.
    Days90,
    /// Last 365 days.
    Days365,
    /// Everything.
    All,
    /// The custom from/to fields.
    Custom,
}

impl Range {
    /// Every preset, in menu order.
    pub const ALL: [Range; 7] = [
        Range::Today,
        Range::Days7,
        Range::Days30,
        Range::Days90,
        Range::Days365,
        Range::All,
        Range::Custom,
    ];

    /// Button text.
    pub fn label(self) -> &'static str {
        match self {
            Range::Today => "Today",
            Range::Days7 => "7 days",
            Range::Days30 => "30 days",
            Range::Days90 => "90 days",
            Range::Days365 => "365 days",
            Range::All => "All time",
            Range::Custom => "Custom",
        }
    }

    /// Days back from today, for the presets that have a fixed length.
    pub fn days(self) -> Option<i64> {
        match self {
            Range::Today => Some(1),
            Range::Days7 => Some(7),
            Range::Days30 => Some(30),
            Range::Days90 => Some(90),
            Range::Days365 => Some(365),
            Range::All | Range::Custom => None,
        }
    }
}

/// How the new-versus-returning split is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum KindView {
    /// Stacked bars.
    #[default]
    Stacked,
    /// Two lines.
    Lines,
}

/// Table sort column.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
enum SortBy {
    Key,
    #[default]
    Referrals,
    People,
    New,
    Returning,
}

/// The analytics screen's own state: the query choices, the table sort,
/// the untracked-refs page and the CSV path.
pub struct AnalyticsPanel {
    range: Range,
    custom_from: String,
    custom_to: String,
    every: Option<Every>,
    by: GroupBy,
    kind_view: KindView,
    sort: SortBy,
    ascending: bool,
    untracked_page: usize,
    csv_path: String,
    tz: Tz,
    zone_search: String,
    show_previous: bool,
    show_bands: bool,
    compare: BTreeSet<String>,
    hidden: BTreeSet<String>,
    reset_view: bool,
    transform: Option<egui_plot::PlotTransform>,
    hover: Option<String>,
    campaign_form: CampaignDates,
    /// The alias the user just made from a typo, until undone or replaced.
    undo: Option<AliasRow>,
    /// Where "Save report…" writes (.pdf or .html).
    report_path: String,
    /// The closest link of each shown untracked ref, kept while the refs
    /// and the links stay the same (not recomputed every frame).
    typos: TypoCache,
}

/// A figure's name and how to read it from a row or the totals.
type Figure<T> = (&'static str, fn(&T) -> u64);

/// The campaign-dates form: which campaign, and its dates as typed.
#[derive(Default)]
struct CampaignDates {
    campaign: Option<i64>,
    starts: String,
    ends: String,
}

/// [`typo_of`] for one page of untracked refs, with what it was computed from.
#[derive(Default)]
struct TypoCache {
    /// Hash of the untracked refs and the links (ids and refs).
    key: u64,
    /// The closest link's id per untracked ref, in report order.
    near: Vec<Option<i64>>,
}

impl TypoCache {
    /// The closest link of each untracked ref of `report`, recomputed only
    /// when the refs or the links changed.
    fn near(&mut self, report: &Report, shared: &Shared<'_>) -> &[Option<i64>] {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        shared.snap.page.map(|p| p.0).hash(&mut h);
        for u in &report.untracked_refs {
            (&u.ref_code, &u.page_id).hash(&mut h);
        }
        for l in &shared.snap.links {
            (l.link.id, &l.link.ref_code).hash(&mut h);
        }
        let key = h.finish();
        if key != self.key || self.near.len() != report.untracked_refs.len() {
            let page = shared
                .snap
                .pages
                .iter()
                .find(|p| Some(PageId(p.id)) == shared.snap.page);
            self.near = report
                .untracked_refs
                .iter()
                .map(|u| {
                    // Only the shown page's links can be the ref's intended link.
                    page.filter(|p| on_page(p, &u.page_id))
                        .and_then(|_| typo_of(&shared.snap.links, &u.ref_code))
                        .map(|l| l.link.id)
                })
                .collect();
            self.key = key;
        }
        &self.near
    }
}

/// The choices that decide the query; a change asks for a new report.
type Choices = (Range, Option<Every>, GroupBy, String, String, Tz);

impl AnalyticsPanel {
    /// The panel with the remembered choices.
    pub fn new(state: &UiState) -> Self {
        Self {
            range: state.range,
            custom_from: state.custom_from.clone(),
            custom_to: state.custom_to.clone(),
            every: state.every,
            by: state.by,
            kind_view: state.kind_view,
            sort: SortBy::Referrals,
            ascending: false,
            untracked_page: 0,
            csv_path: String::new(),
            tz: crate::stats::parse_tz(&state.tz).unwrap_or_else(|_| crate::stats::local_tz()),
            zone_search: String::new(),
            show_previous: state.show_previous,
            show_bands: true,
            compare: BTreeSet::new(),
            hidden: BTreeSet::new(),
            reset_view: false,
            transform: None,
            hover: None,
            campaign_form: CampaignDates::default(),
            undo: None,
            report_path: String::new(),
            typos: TypoCache::default(),
        }
    }

    /// The zone of days and buckets (chosen in the picker, saved between runs).
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The chart's screen transform in the last frame (tests aim the pointer with it).
    pub fn chart_transform(&self) -> Option<egui_plot::PlotTransform> {
        self.transform
    }

    /// The hover box's text in the last frame, if any.
    pub fn hover_text(&self) -> Option<&str> {
        self.hover.as_deref()
    }

    /// Writes the choices to remember.
    pub fn save(&self, state: &mut UiState) {
        state.range = self.range;
        state.custom_from = self.custom_from.clone();
        state.custom_to = self.custom_to.clone();
        state.every = self.every;
        state.by = self.by;
        state.kind_view = self.kind_view;
        state.tz = self.tz.name().to_string();
        state.show_previous = self.show_previous;
    }

    /// An alias was made (typo rescue): offer to undo it.
    pub fn alias_added(&mut self, row: AliasRow) {
        self.undo = Some(row);
    }

    /// An alias was removed: nothing is left to undo.
    pub fn alias_removed(&mut self, row: &AliasRow) {
        if self
            .undo
            .as_ref()
            .is_some_and(|u| u.alias.id == row.alias.id)
        {
            self.undo = None;
        }
    }

    fn choices(&self) -> Choices {
        (
            self.range,
            self.every,
            self.by,
            self.custom_from.clone(),
            self.custom_to.clone(),
            self.tz,
        )
    }

    /// The stats query for the current choices, or `None` while the custom range is invalid.
    pub fn query(&self, tz: Tz, page_id: Option<&str>) -> Option<StatsQuery> {
        let today = chrono::Utc::now().with_timezone(&tz).date_naive();
        let (from, to) = match self.range {
            Range::All => (None, None),
            Range::Custom => {
                let f = crate::model::parse_date("from", &self.custom_from).ok()?;
                let t = crate::model::parse_date("to", &self.custom_to).ok()?;
                if t < f {
                    return None;
                }
                (Some(f), Some(t))
            }
            r => {
                let days = r.days().unwrap_or(30);
                let back = chrono::TimeDelta::try_days(days - 1)?;
                (today.checked_sub_signed(back), Some(today))
            }
        };
        let mut q = StatsQuery::new(self.by, tz);
        q.from = from;
        q.to = to;
        q.every = self.every;
        q.unique_people = true;
        q.page_id = page_id.map(str::to_string);
        q.top = TOP_GROUPS;
        q.untracked_offset = self.untracked_page.saturating_mul(UNTRACKED_PER_PAGE);
        q.untracked_limit = UNTRACKED_PER_PAGE;
        Some(q)
    }

    /// Draws the screen and returns what the user asked for.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        egui::ScrollArea::vertical()
            .id_salt("analytics_scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| self.contents(ui, shared, &mut actions));
        actions
    }

    fn contents(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
        let before = self.choices();
        self.controls(ui, shared, actions);
        if before != self.choices() {
            self.untracked_page = 0;
            if before.2 != self.by {
                self.compare.clear();
            }
            actions.push(Action::RefreshStats);
        }
        ui.separator();
        let Some(report) = shared.report else {
            ui.spinner();
            return;
        };
        if report.groups.is_empty() {
            ui.heading("No referrals in this range");
            if shared.snap.backend_url.is_empty() {
                ui.label("Connect your bot backend to sync referrals, or import webhook bodies.");
                if ui.button("Connect your bot backend").clicked() {
                    actions.push(Action::ShowTab(Tab::Backend));
                }
            } else {
                ui.label("Try a longer range, or sync now (F5).");
            }
        } else {
            let t = &report.totals;
            let people = if report.unique_people_counted {
                t.unique_people.to_string()
            } else {
                "… (counting)".to_string()
            };
            ui.label(format!(
                "{} to {} ({}), per {}: {} referrals from {} people, {} new and {} returning",
                report.from.as_deref().unwrap_or("-"),
                report.to.as_deref().unwrap_or("-"),
                report.tz,
                report.every,
                t.referrals,
                people,
                t.new,
                t.returning
            ));
            cards(ui, report, previous_of(report, shared.previous));
            self.chart_controls(ui, report);
            self.chart(ui, shared, report);
            self.compare_table(ui, report, previous_of(report, shared.previous));
        }
        self.campaign_dates(ui, shared, actions);
        ui.separator();
        let rows = self.sorted_rows(report);
        self.totals_table(ui, &rows);
        // The "Other" row is the table's last; it is also said under the
        // table, where it is seen without scrolling to the end.
        if let Some(other) = rows.last().filter(|r| r.other) {
            ui.label(format!(
                "{}: {} referrals, {} new, {} returning",
                other.key, other.referrals, other.new, other.returning
            ));
        }
        self.untracked(ui, shared, report, actions);
        ui.separator();
        self.csv_export(ui, report, &rows, actions);
        self.save_report(ui, actions);
    }

    fn controls(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Range");
            for r in Range::ALL {
                if ui.selectable_label(self.range == r, r.label()).clicked() {
                    self.range = r;
                }
            }
        });
        if self.range == Range::Custom {
            ui.horizontal_wrapped(|ui| {
                widgets::text_field(ui, "From", &mut self.custom_from, "YYYY-MM-DD");
                date_picker(ui, "from_picker", &mut self.custom_from, self.tz);
                widgets::text_field(ui, "To", &mut self.custom_to, "YYYY-MM-DD");
                date_picker(ui, "to_picker", &mut self.custom_to, self.tz);
            });
            if self.query(shared.tz, None).is_none() {
                widgets::error_text(
                    ui,
                    "Enter both dates as YYYY-MM-DD, the first not after the second.",
                );
            }
        }
        ui.horizontal_wrapped(|ui| {
            self.zone_picker(ui);
            let l = ui.label("Granularity");
            egui::ComboBox::from_id_salt("every")
                .selected_text(self.every.map_or("Automatic", Every::label))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.every, None, "Automatic");
                    for e in Every::ALL {
                        ui.selectable_value(&mut self.every, Some(e), e.label());
                    }
                })
                .response
                .labelled_by(l.id);
            let l = ui.label("Group by");
            egui::ComboBox::from_id_salt("group_by")
                .selected_text(self.by.label())
                .show_ui(ui, |ui| {
                    for b in GroupBy::ALL {
                        ui.selectable_value(&mut self.by, b, b.label());
                    }
                })
                .response
                .labelled_by(l.id);
            if self.by == GroupBy::Kind {
                ui.selectable_value(&mut self.kind_view, KindView::Stacked, "Stacked bars");
                ui.selectable_value(&mut self.kind_view, KindView::Lines, "Two lines");
            }
            if ui.button("Refresh").clicked() {
                actions.push(Action::RefreshStats);
            }
        });
    }

    /// The time-zone picker: a menu with a search field over every IANA zone.
    fn zone_picker(&mut self, ui: &mut egui::Ui) {
        let l = ui.label("Time zone");
        egui::ComboBox::from_id_salt("time_zone")
            .selected_text(self.tz.name())
            .height(320.0)
            .show_ui(ui, |ui| {
                let l = ui.label("Find a zone");
                ui.add(
                    egui::TextEdit::singleline(&mut self.zone_search)
                        .hint_text("e.g. Berlin")
                        .desired_width(200.0),
                )
                .labelled_by(l.id);
                let wanted = self.zone_search.trim().to_lowercase();
                let matches = chrono_tz::TZ_VARIANTS
                    .iter()
                    .filter(|z| wanted.is_empty() || z.name().to_lowercase().contains(&wanted));
                for zone in matches.take(MAX_ZONES_LISTED) {
                    ui.selectable_value(&mut self.tz, *zone, zone.name());
                }
            })
            .response
            .labelled_by(l.id);
    }

    /// The row above the chart: previous period, comparison, bands, reset.
    fn chart_controls(&mut self, ui: &mut egui::Ui, report: &Report) {
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.show_previous, "Previous period")
                .on_hover_text("Draw the period before this one as dashed lines");
            ui.checkbox(&mut self.show_bands, "Shade campaigns")
                .on_hover_text("Shade each campaign's start to end");
            if matches!(
                self.by,
                GroupBy::Link | GroupBy::Channel | GroupBy::Campaign
            ) {
                self.compare_menu(ui, report);
            }
            if ui.button("Reset view").clicked() {
                self.reset_view = true;
            }
        });
    }

    /// "Compare…": pick 2 to 6 groups of the report to chart alone.
    fn compare_menu(&mut self, ui: &mut egui::Ui, report: &Report) {
        // Picks the report no longer has are dropped (a new range or page).
        self.compare
            .retain(|k| report.groups.iter().any(|g| &g.key == k));
        let what = self.by.plural();
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
                            let text = crate::model::shorten_text(&shown_key(self.by, &g.key), 60);
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

    fn chart(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>, report: &Report) {
        let every = report.every;
        let now_ms = chrono::Utc::now().timestamp_millis();
        let previous = previous_of(report, shared.previous).filter(|_| self.show_previous);
        let kind = self.by == GroupBy::Kind;
        let bars = kind && self.kind_view == KindView::Stacked;
        let mut lines: Vec<Series> = Vec::new();
        let mut stacked = None;
        let mut legend: Vec<(String, egui::Color32, bool)> = Vec::new();
        if kind {
            let current = kind_series(&report.groups, every, now_ms);
            if bars {
                stacked = Some(stacked_of(&current));
            } else {
                lines.extend(current);
            }
            legend.push((chart::NEW.into(), chart::color(0), false));
            legend.push((chart::RETURNING.into(), chart::color(1), false));
            if let Some(prev) = previous {
                let before = kind_series(&prev.groups, prev.every, i64::MAX);
                let xs = bucket_xs(&report.groups);
                for (i, s) in before.into_iter().enumerate() {
                    let s = aligned_previous(s, &xs, chart::color(i));
                    legend.push((s.name.clone(), s.color, true));
                    lines.push(s);
                }
            }
        } else {
            let groups = self.charted(report);
            for (i, g) in groups.iter().enumerate() {
                let s = Series::from_points(
                    shown_key(self.by, &g.key),
                    chart::color(i),
                    &g.series,
                    every,
                    now_ms,
                );
                legend.push((s.name.clone(), s.color, false));
                lines.push(s);
            }
            if let Some(prev) = previous {
                let xs = bucket_xs(&report.groups);
                for (i, g) in groups.iter().enumerate() {
                    let Some(pg) = prev.groups.iter().find(|p| p.key == g.key) else {
                        continue;
                    };
                    let s = Series::from_points(
                        shown_key(self.by, &g.key),
                        chart::color(i),
                        &pg.series,
                        every,
                        i64::MAX,
                    );
                    let s = aligned_previous(s, &xs, chart::color(i));
                    legend.push((s.name.clone(), s.color, true));
                    lines.push(s);
                }
            }
        }
        let bands = if self.show_bands {
            report_bands(shared, report)
        } else {
            Vec::new()
        };
        let input = chart::ChartInput {
            every,
            lines: &lines,
            bars: stacked.as_ref(),
            bands: &bands,
            hidden: &self.hidden,
            reset: std::mem::take(&mut self.reset_view),
            height: ui.available_height().clamp(160.0, 320.0),
        };
        let out = chart::show(ui, &input);
        self.transform = Some(out.transform);
        self.hover = out.hover;
        chart::legend(ui, &legend, &mut self.hidden);
    }

    /// The compared groups side by side: one column each.
    fn compare_table(&self, ui: &mut egui::Ui, report: &Report, previous: Option<&Report>) {
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
                        for (i, g) in groups.iter().enumerate() {
                            ui.label(
                                egui::RichText::new(crate::model::shorten_text(
                                    &shown_key(self.by, &g.key),
                                    40,
                                ))
                                .color(chart::color(i)),
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
                        if let Some(prev) = previous {
                            ui.label("Change in referrals");
                            let label = previous_label(prev);
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

    /// The groups in table order, then the report's "Other" row (the
    /// groups past the top ones, summed by the stats engine).
    fn sorted_rows(&self, report: &Report) -> Vec<TableRow> {
        let mut rows: Vec<&GroupStats> = report.groups.iter().collect();
        rows.sort_by(|a, b| {
            let o = match self.sort {
                SortBy::Key => a.key.cmp(&b.key),
                SortBy::Referrals => a.referrals.cmp(&b.referrals),
                SortBy::People => a.unique_people.cmp(&b.unique_people),
                SortBy::New => a.new.cmp(&b.new),
                SortBy::Returning => a.returning.cmp(&b.returning),
            };
            let o = if self.ascending { o } else { o.reverse() };
            o.then_with(|| a.key.cmp(&b.key))
        });
        let mut out: Vec<TableRow> = rows
            .iter()
            .map(|g| TableRow {
                key: self.by.key_label(&g.key),
                label: shown_key(self.by, &g.key),
                other: false,
                referrals: g.referrals,
                people: report.unique_people_counted.then_some(g.unique_people),
                new: g.new,
                returning: g.returning,
            })
            .collect();
        if let Some(o) = &report.other {
            out.push(TableRow {
                key: o.label(report.by),
                label: o.label(report.by),
                other: true,
                referrals: o.referrals,
                people: report.unique_people_counted.then_some(o.unique_people),
                new: o.new,
                returning: o.returning,
            });
        }
        out
    }

    fn header(&mut self, ui: &mut egui::Ui, col: SortBy, name: &str, right: bool) {
        let clicked = if right {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                sort_header(ui, name, self.sort == col, self.ascending)
            })
            .inner
        } else {
            sort_header(ui, name, self.sort == col, self.ascending)
        };
        if clicked {
            if self.sort == col {
                self.ascending = !self.ascending;
            } else {
                self.sort = col;
                self.ascending = col == SortBy::Key;
            }
        }
    }

    fn totals_table(&mut self, ui: &mut egui::Ui, rows: &[TableRow]) {
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        let key_name = self.by.column_name();
        egui::ScrollArea::horizontal()
            .id_salt("totals_h")
            .show(ui, |ui| {
                TableBuilder::new(ui)
                    .id_salt("totals_table")
                    .striped(true)
                    .resizable(true)
                    .vscroll(true)
                    .max_scroll_height(320.0)
                    .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                    .column(Column::initial(220.0).at_least(100.0).clip(true))
                    .columns(Column::initial(110.0).at_least(90.0), 4)
                    .header(row_height, |mut h| {
                        h.col(|ui| self.header(ui, SortBy::Key, key_name, false));
                        h.col(|ui| self.header(ui, SortBy::Referrals, "Referrals", true));
                        h.col(|ui| self.header(ui, SortBy::People, "Unique people", true));
                        h.col(|ui| self.header(ui, SortBy::New, "New", true));
                        h.col(|ui| self.header(ui, SortBy::Returning, "Returning", true));
                    })
                    .body(|body| {
                        body.rows(row_height, rows.len(), |mut row| {
                            let r = &rows[row.index()];
                            row.col(|ui| {
                                let text = if r.other {
                                    egui::RichText::new(&r.label).italics()
                                } else {
                                    egui::RichText::new(&r.label)
                                };
                                ui.add(egui::Label::new(text).truncate());
                            });
                            let people = match r.people {
                                _ if r.other => "-".to_string(),
                                // Counted after the chart is drawn.
                                None => "…".to_string(),
                                Some(n) => n.to_string(),
                            };
                            for n in [
                                r.referrals.to_string(),
                                people,
                                r.new.to_string(),
                                r.returning.to_string(),
                            ] {
                                row.col(|ui| {
                                    ui.with_layout(
                                        egui::Layout::right_to_left(egui::Align::Center),
                                        |ui| ui.label(n),
                                    );
                                });
                            }
                        });
                    });
            });
    }

    fn untracked(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        report: &Report,
        actions: &mut Vec<Action>,
    ) {
        // Before the early return: undoing the last rescued ref is offered
        // even when it was the only untracked one.
        self.undo_line(ui, actions);
        let total = report.untracked_total;
        if total == 0 {
            return;
        }
        ui.separator();
        ui.strong("Untracked refs");
        ui.label("Refs that reached the page but match no link: typos, old or unlisted links.");
        let pages = total.div_ceil(UNTRACKED_PER_PAGE);
        let page = report.untracked_offset / UNTRACKED_PER_PAGE;
        let near_ids = self.typos.near(report, shared).to_vec();
        egui::Grid::new("untracked").striped(true).show(ui, |ui| {
            for (u, near_id) in report.untracked_refs.iter().zip(near_ids) {
                // A grid cell has no width to truncate into: shorten instead.
                ui.label(crate::model::shorten_text(&display(&u.ref_code), 60))
                    .on_hover_text(display(&u.ref_code));
                ui.label(u.referrals.to_string());
                let near = near_id
                    .and_then(|id| shared.snap.links.iter().find(|l| l.link.id == id));
                match near {
                    Some(link) => {
                        let name = crate::model::shorten_text(&display(&link.link.ref_code), 60);
                        ui.label(format!("looks like a typo of {name}"));
                        if ui
                            .button(format!("Count as {name}"))
                            .on_hover_text(
                                "Makes this ref an alias of the link: its referrals, past and future, count for the link",
                            )
                            .clicked()
                        {
                            actions.push(Action::Send(ShortCommand::AddAlias(
                                LinkId(link.link.id),
                                u.ref_code.clone(),
                            ).into()));
                        }
                    }
                    None => {
                        ui.label("");
                        ui.label("");
                    }
                }
                if ui
                    .button("Create link")
                    .on_hover_text(format!("Create link for {}", display(&u.ref_code)))
                    .clicked()
                {
                    actions.push(match near {
                        Some(link) => Action::OpenNewLinkLike {
                            ref_code: u.ref_code.clone(),
                            like: LinkId(link.link.id),
                        },
                        None => Action::OpenNewLink(Some(u.ref_code.clone())),
                    });
                }
                ui.end_row();
            }
        });
        if pages > 1 {
            ui.horizontal(|ui| {
                // Each page is its own query: only one page is ever in memory.
                if ui
                    .add_enabled(page > 0, egui::Button::new("Previous"))
                    .clicked()
                {
                    self.untracked_page = page.saturating_sub(1);
                    actions.push(Action::RefreshStats);
                }
                ui.label(format!(
                    "Page {} of {pages} ({total} untracked refs)",
                    page + 1
                ));
                if ui
                    .add_enabled(page + 1 < pages, egui::Button::new("Next"))
                    .clicked()
                {
                    self.untracked_page = page + 1;
                    actions.push(Action::RefreshStats);
                }
            });
        }
    }

    fn csv_export(
        &mut self,
        ui: &mut egui::Ui,
        report: &Report,
        rows: &[TableRow],
        actions: &mut Vec<Action>,
    ) {
        ui.horizontal_wrapped(|ui| {
            widgets::text_field(ui, "CSV file", &mut self.csv_path, "/path/to/table.csv");
            if ui.button("Browse…").clicked()
                && let Some(p) = rfd::FileDialog::new()
                    .add_filter("CSV", &["csv"])
                    .set_file_name("referrals.csv")
                    .save_file()
            {
                self.csv_path = p.display().to_string();
            }
            let ok = !self.csv_path.trim().is_empty();
            if ui
                .add_enabled(ok, egui::Button::new("Export CSV"))
                .clicked()
            {
                // Written by the worker through crate::csv_safe, the one CSV
                // writer, which also neutralises formula cells.
                actions.push(Action::Send(
                    ShortCommand::WriteCsv {
                        path: self.csv_path.trim().into(),
                        header: crate::stats::table_csv_header(report.by),
                        rows: rows
                            .iter()
                            .map(|r| {
                                let mut cells = r.cells();
                                cells.extend(crate::stats::range_cells(report));
                                cells
                            })
                            .collect(),
                    }
                    .into(),
                ));
            }
        });
    }
}

impl AnalyticsPanel {
    /// "Counting X as Y. Undo" after a typo rescue.
    fn undo_line(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        let Some(row) = &self.undo else { return };
        let (alias, link) = (row.alias.ref_code.clone(), row.link_ref.clone());
        let page = PageId(row.alias.page);
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Referrals with ref {} count as {}.",
                crate::model::shorten_text(&display(&alias), 60),
                crate::model::shorten_text(&display(&link), 60)
            ));
            if ui.button("Undo").clicked() {
                actions.push(Action::Send(
                    ShortCommand::RemoveAlias(page, alias.clone()).into(),
                ));
            }
        });
    }

    /// The report file field and "Save report…": the worker writes a PDF or
    /// HTML report of the range shown.
    fn save_report(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        ui.horizontal_wrapped(|ui| {
            widgets::text_field(
                ui,
                "Report file",
                &mut self.report_path,
                "/path/to/report.pdf or .html",
            );
            if ui.button("Browse report…").clicked()
                && let Some(p) = rfd::FileDialog::new()
                    .add_filter("PDF or HTML", &["pdf", "html"])
                    .set_file_name("report.pdf")
                    .save_file()
            {
                self.report_path = p.display().to_string();
            }
            let ok = !self.report_path.trim().is_empty();
            if ui
                .add_enabled(ok, egui::Button::new("Save report…"))
                .clicked()
            {
                actions.push(Action::SaveReport(self.report_path.trim().into()));
            }
        });
    }
}

/// Whether an event's page id (Page ID or Instagram account id) is `page`'s;
/// a page without a Page ID matches every event, as in the stats.
fn on_page(page: &crate::model::Page, event_page_id: &str) -> bool {
    match page.numeric_id() {
        None => true,
        Some(id) => id == event_page_id || page.ig_id.as_deref() == Some(event_page_id),
    }
}

/// The link an untracked ref most likely meant (see [`crate::model::typo_candidates`]).
fn typo_of<'a>(links: &'a [LinkRow], untracked_ref: &str) -> Option<&'a LinkRow> {
    let near = crate::model::typo_candidates(
        untracked_ref,
        links.iter().map(|l| l.link.ref_code.as_str()),
    )?;
    links.iter().find(|l| l.link.ref_code == near)
}

/// A group's key as the chart and table show it: sources and kinds in
/// words, escaped.
fn shown_key(by: GroupBy, key: &str) -> String {
    display(&by.key_label(key))
}

/// One row of the totals table.
struct TableRow {
    /// The group's key in words (sources and kinds), for CSV and sorting.
    key: String,
    /// The key as the table shows it: in words and escaped.
    label: String,
    other: bool,
    referrals: u64,
    /// `None` while unique people are still being counted.
    people: Option<u64>,
    new: u64,
    returning: u64,
}

impl TableRow {
    /// The row as CSV cells; the "Other" row has no people count (a sum would overcount).
    fn cells(&self) -> Vec<String> {
        let people = match self.people {
            Some(n) if !self.other => n.to_string(),
            _ => String::new(),
        };
        vec![
            self.key.clone(),
            self.referrals.to_string(),
            people,
            self.new.to_string(),
            self.returning.to_string(),
        ]
    }
}

/// The previous period's report when it belongs to `report`: same
/// grouping and zone, and ending the day before `report` starts (a late
/// answer to an older query is ignored).
fn previous_of<'a>(report: &Report, previous: Option<&'a Report>) -> Option<&'a Report> {
    let prev = previous?;
    let from = day(report.from.as_deref())?;
    let to = day(report.to.as_deref())?;
    let (pf, pt) = crate::stats::previous_range(from, to)?;
    let same = prev.by == report.by
        && prev.tz == report.tz
        && prev.every == report.every
        && day(prev.from.as_deref()) == Some(pf)
        && day(prev.to.as_deref()) == Some(pt);
    same.then_some(prev)
}

fn day(s: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s?, "%Y-%m-%d").ok()
}

/// The previous period as the cards name it, e.g. `1–30 Oct`.
fn previous_label(prev: &Report) -> String {
    match (day(prev.from.as_deref()), day(prev.to.as_deref())) {
        (Some(f), Some(t)) => crate::stats::format_range(f, t),
        _ => "the previous period".into(),
    }
}

/// The headline cards: referrals, unique people, new and returning, each
/// with its change against the previous period. Each card is one label, so
/// a screen reader reads name, figure and change together.
fn cards(ui: &mut egui::Ui, report: &Report, previous: Option<&Report>) {
    let label = previous.map(previous_label);
    let has_previous = match (day(report.from.as_deref()), day(report.to.as_deref())) {
        (Some(f), Some(t)) => crate::stats::previous_range(f, t).is_some(),
        _ => false,
    };
    let figures: [Figure<Totals>; 4] = [
        ("Referrals", |t| t.referrals),
        ("Unique people", |t| t.unique_people),
        ("New", |t| t.new),
        ("Returning", |t| t.returning),
    ];
    let jobs: Vec<egui::text::LayoutJob> = figures
        .into_iter()
        .map(|(name, value)| {
            let now = value(&report.totals);
            let change = match (previous, &label) {
                (Some(p), Some(l)) => Change::between(now, value(&p.totals)).text(l),
                // Before the event window there is no previous period to ask for.
                _ if !has_previous => Change::NoPrevious.text(""),
                _ => "comparing with the previous period…".into(),
            };
            card_job(ui, name, now, &change)
        })
        .collect();
    // Four in a row where they fit, else two rows of two.
    let per_row = if ui.available_width() >= 4.0 * CARD_MIN_WIDTH {
        4
    } else {
        2
    };
    for row in jobs.chunks(per_row) {
        ui.columns(per_row, |cols| {
            for (col, job) in cols.iter_mut().zip(row) {
                egui::Frame::group(col.style())
                    .inner_margin(egui::Margin::symmetric(12, 8))
                    .show(col, |ui| {
                        ui.set_width(ui.available_width());
                        ui.add(egui::Label::new(job.clone()).wrap());
                    });
            }
        });
    }
}

/// Narrowest a headline card may be before the cards go two to a row.
const CARD_MIN_WIDTH: f32 = 170.0;

/// A card's text: the figure's name, the figure large, and its change.
fn card_job(ui: &egui::Ui, name: &str, now: u64, change: &str) -> egui::text::LayoutJob {
    let mut job = egui::text::LayoutJob::default();
    let style = ui.style();
    let fmt = |s: egui::TextStyle, size: Option<f32>, c: egui::Color32| {
        let mut f = s.resolve(style);
        if let Some(size) = size {
            f.size = size;
        }
        egui::TextFormat::simple(f, c)
    };
    let visuals = ui.visuals();
    job.append(
        &format!("{name}\n"),
        0.0,
        fmt(egui::TextStyle::Body, None, visuals.text_color()),
    );
    job.append(
        &format!("{now}\n"),
        0.0,
        fmt(
            egui::TextStyle::Heading,
            Some(26.0),
            visuals.strong_text_color(),
        ),
    );
    append_change(&mut job, change, 12.0, change_color(ui, change));
    job
}

/// Appends a change text: its arrow in the monospace font (only Hack has
/// ▲ and ▼), the words in the proportional one.
fn append_change(job: &mut egui::text::LayoutJob, change: &str, size: f32, color: egui::Color32) {
    let (arrow, words) = match change.chars().next() {
        Some(c @ ('▲' | '▼')) => (Some(c), &change[c.len_utf8()..]),
        _ => (None, change),
    };
    if let Some(c) = arrow {
        let mono = egui::TextFormat::simple(egui::FontId::monospace(size), color);
        job.append(&c.to_string(), 0.0, mono);
    }
    let text = egui::TextFormat::simple(egui::FontId::proportional(size), color);
    job.append(words, 0.0, text);
}

/// The colour of a change: green up, red down, grey otherwise.
fn change_color(ui: &egui::Ui, change: &str) -> egui::Color32 {
    if change.starts_with('▲') {
        egui::Color32::from_rgb(46, 160, 67)
    } else if change.starts_with('▼') {
        ui.visuals().error_fg_color
    } else {
        ui.visuals().weak_text_color()
    }
}

/// A date picker button beside a YYYY-MM-DD field; a date picked is written
/// back into the field (an unreadable field starts the picker at today).
fn date_picker(ui: &mut egui::Ui, id: &str, field: &mut String, tz: Tz) {
    let shown = crate::model::parse_date("date", field)
        .ok()
        .unwrap_or_else(|| chrono::Utc::now().with_timezone(&tz).date_naive());
    let Some(mut date) = to_jiff(shown) else {
        return;
    };
    let before = date;
    ui.add(
        egui_extras::DatePickerButton::new(&mut date)
            .id_salt(id)
            .show_icon(false),
    )
    .on_hover_text("Pick a date");
    if date != before
        && let Some(d) = from_jiff(date)
    {
        *field = d.to_string();
    }
}

fn to_jiff(d: NaiveDate) -> Option<jiff::civil::Date> {
    use chrono::Datelike;
    jiff::civil::Date::new(
        i16::try_from(d.year()).ok()?,
        i8::try_from(d.month()).ok()?,
        i8::try_from(d.day()).ok()?,
    )
    .ok()
}

fn from_jiff(d: jiff::civil::Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        i32::from(d.year()),
        u32::try_from(d.month()).ok()?,
        u32::try_from(d.day()).ok()?,
    )
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
    match (day(report.from.as_deref()), day(report.to.as_deref())) {
        (Some(from), Some(to)) => campaign_bands(&shared.snap.campaigns, from, to),
        _ => Vec::new(),
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

impl AnalyticsPanel {
    /// Campaign start and end dates, set and edited here as with
    /// `refboard campaign edit`; the model validates them.
    fn campaign_dates(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        actions: &mut Vec<Action>,
    ) {
        let campaigns: Vec<&crate::model::Campaign> = shared
            .snap
            .campaigns
            .iter()
            .filter(|c| !c.archived)
            .collect();
        if campaigns.is_empty() {
            return;
        }
        egui::CollapsingHeader::new("Campaign dates")
            .id_salt("campaign_dates")
            .show(ui, |ui| {
                let form = &mut self.campaign_form;
                let chosen = campaigns
                    .iter()
                    .find(|c| Some(c.id) == form.campaign)
                    .copied();
                ui.horizontal_wrapped(|ui| {
                    let l = ui.label("Campaign");
                    egui::ComboBox::from_id_salt("dates_campaign")
                        .selected_text(chosen.map_or("Choose…".into(), |c| display(&c.name)))
                        .show_ui(ui, |ui| {
                            for c in &campaigns {
                                if ui
                                    .selectable_label(form.campaign == Some(c.id), display(&c.name))
                                    .clicked()
                                {
                                    form.campaign = Some(c.id);
                                    form.starts =
                                        c.starts_on.map(|d| d.to_string()).unwrap_or_default();
                                    form.ends =
                                        c.ends_on.map(|d| d.to_string()).unwrap_or_default();
                                }
                            }
                        })
                        .response
                        .labelled_by(l.id);
                });
                let Some(c) = chosen else {
                    return;
                };
                ui.horizontal_wrapped(|ui| {
                    widgets::text_field(ui, "Starts", &mut form.starts, "YYYY-MM-DD or empty");
                    date_picker(ui, "starts_picker", &mut form.starts, self.tz);
                    widgets::text_field(ui, "Ends", &mut form.ends, "YYYY-MM-DD or empty");
                    date_picker(ui, "ends_picker", &mut form.ends, self.tz);
                });
                let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
                let (starts, ends) = (opt(&form.starts), opt(&form.ends));
                let parsed =
                    NewCampaign::parse(&c.name, starts.as_deref(), ends.as_deref(), Some(&c.notes));
                if let Err(e) = &parsed {
                    widgets::error_text(ui, &e.to_string());
                }
                if ui
                    .add_enabled(parsed.is_ok(), egui::Button::new("Save dates"))
                    .clicked()
                    && let Ok(new) = parsed
                {
                    actions.push(Action::Send(
                        ShortCommand::UpdateCampaign(crate::model::CampaignId(c.id), new).into(),
                    ));
                }
            });
    }
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
