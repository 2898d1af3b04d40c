//! The Analytics screen: range presets and a date picker for custom
//! ranges, a time-zone picker, granularity, grouping, headline cards with
//! their change against the previous period, a time-series chart (see
//! [`crate::ui::chart`]) with the previous period and a comparison of 2 to 6
//! groups, a sortable totals table (top groups and an "Other" row),
//! untracked refs page by page, campaign dates, and CSV export of the table.
//!
//! Each sub-view is a struct that owns its state (one file each);
//! [`AnalyticsPanel`] lays them out and joins what they share (the grouping,
//! the zone and the untracked page all go into one query).

mod campaigns;
mod cards;
mod chart_view;
mod colors;
mod controls;
mod conversions;
mod files;
mod funnel;
mod range;
mod table;
mod untracked;

pub use range::{KindView, Range};

use crate::model::EventFilter;
use crate::stats::{GroupBy, Report, StatsQuery};
use crate::store::AliasRow;
use crate::ui::widgets::display;
use crate::ui::{Action, Shared, Tab, UiState};
use chrono::NaiveDate;
use chrono_tz::Tz;

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

/// A figure's name and how to read it from a row or the totals.
type Figure<T> = (&'static str, fn(&T) -> u64);

/// The analytics screen: its sub-views, each with its own state.
pub struct AnalyticsPanel {
    controls: controls::Controls,
    chart: chart_view::ChartView,
    table: table::TotalsTable,
    untracked: untracked::Untracked,
    files: files::Files,
    conversions: conversions::ConversionsView,
}

impl AnalyticsPanel {
    /// The panel with the remembered choices.
    pub fn new(state: &UiState) -> Self {
        Self {
            controls: controls::Controls::new(state),
            chart: chart_view::ChartView::new(state.show_previous),
            table: table::TotalsTable::default(),
            untracked: untracked::Untracked::default(),
            files: files::Files::default(),
            conversions: conversions::ConversionsView::default(),
        }
    }

    /// The zone of days and buckets (chosen in the picker, saved between runs).
    pub fn tz(&self) -> Tz {
        self.controls.tz
    }

    /// The chart's screen transform in the last frame (tests aim the pointer with it).
    pub fn chart_transform(&self) -> Option<egui_plot::PlotTransform> {
        self.chart.transform
    }

    /// Each drawn line's name and colour in the last frame.
    pub fn chart_colors(&self) -> &[(String, egui::Color32)] {
        &self.chart.colors
    }

    /// The plot's rect (axes included) and the legend's in the last frame.
    pub fn chart_rects(&self) -> Option<(egui::Rect, egui::Rect)> {
        self.chart.rects
    }

    /// The hover box's text in the last frame, if any.
    pub fn hover_text(&self) -> Option<&str> {
        self.chart.hover.as_deref()
    }

    /// Writes the choices to remember.
    pub fn save(&self, state: &mut UiState) {
        self.controls.save(state);
        state.show_previous = self.chart.show_previous;
    }

    /// An alias was made (typo rescue): offer to undo it.
    pub fn alias_added(&mut self, row: AliasRow) {
        self.untracked.alias_added(row);
    }

    /// An alias was removed: nothing is left to undo.
    pub fn alias_removed(&mut self, row: &AliasRow) {
        self.untracked.alias_removed(row);
    }

    /// The stats query for the current choices and untracked page, over
    /// the events `page` keeps, or `None` while the custom range is invalid.
    pub fn query(&self, tz: Tz, page: EventFilter) -> Option<StatsQuery> {
        let mut q = self.controls.query(tz, page)?;
        q.untracked_offset = self.untracked.page.saturating_mul(UNTRACKED_PER_PAGE);
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

    /// The sub-views top to bottom; a changed choice asks for a new report.
    fn contents(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
        let before = self.controls.choices();
        self.controls.ui(ui, shared, actions);
        if before != self.controls.choices() {
            self.untracked.page = 0;
            if before.2 != self.controls.by {
                self.chart.compare.clear();
            }
            actions.push(Action::RefreshStats);
        }
        ui.separator();
        let Some(report) = shared.report else {
            ui.spinner();
            return;
        };
        if report.groups.is_empty() {
            no_referrals(ui, shared, actions);
        } else {
            summary(ui, report);
            let by = self.controls.by;
            let compare = self.controls.compare();
            let previous = previous_of(report, shared.previous, compare);
            cards::cards(ui, report, previous, compare);
            conversions::cards(ui, shared, report, previous);
            self.chart.controls(ui, report, by);
            self.chart.rule = compare;
            self.chart
                .show(ui, shared, report, (by, self.controls.kind_view));
            let previous = previous_of(report, shared.previous, self.controls.compare());
            self.chart.compare_table(ui, report, previous, by);
        }
        campaigns::hint(ui, shared, actions);
        ui.separator();
        let rows = self.table.sorted_rows(report, self.controls.by);
        self.table.ui(ui, &rows, self.controls.by);
        // The "Other" row is the table's last; it is also said under the
        // table, where it is seen without scrolling to the end.
        if let Some(other) = rows.last().filter(|r| r.other) {
            ui.label(format!(
                "{}: {} referrals, {} new, {} returning",
                other.key, other.referrals, other.new, other.returning
            ));
        }
        self.untracked.ui(ui, shared, report, actions);
        ui.separator();
        self.files.csv_export(ui, report, &rows, actions);
        self.files.save_report(ui, actions);
        // Last, so the sections above keep their places.
        ui.separator();
        self.conversions.ui(ui, shared, report, actions);
    }
}

/// "No referrals in this range", with the way to get some.
fn no_referrals(ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
    ui.heading("No referrals in this range");
    if shared.snap.backend_url.is_empty() {
        ui.label("Connect your bot backend to sync referrals, or import webhook bodies.");
        if ui.button("Connect your bot backend").clicked() {
            actions.push(Action::ShowTab(Tab::Backend));
        }
    } else {
        ui.label("Try a longer range, or sync now (F5).");
    }
}

/// The line above the cards: range, zone, bucket and the totals in words.
fn summary(ui: &mut egui::Ui, report: &Report) {
    let t = &report.totals;
    let people = if report.unique_people_counted {
        t.unique_people.to_string()
    } else {
        "… (counting)".to_string()
    };
    ui.label(format!(
        "{} to {} ({}), per {}: {} referrals from {} people, {} new and {} returning",
        report.from.map_or_else(|| "-".into(), |d| d.to_string()),
        report.to.map_or_else(|| "-".into(), |d| d.to_string()),
        report.tz,
        report.every,
        t.referrals,
        people,
        t.new,
        t.returning
    ));
}

/// The previous period's report with its first and last day.
type Previous<'a> = (&'a Report, (NaiveDate, NaiveDate));

/// The previous period's report when it belongs to `report`: same
/// grouping and zone, and ending the day before `report` starts (a late
/// answer to an older query is ignored).
fn previous_of<'a>(
    report: &Report,
    previous: Option<&'a Report>,
    compare: crate::stats::Compare,
) -> Option<Previous<'a>> {
    let prev = previous?;
    let (from, to) = report.from.zip(report.to)?;
    let (pf, pt) = compare.previous(from, to)?;
    let same = prev.by == report.by
        && prev.tz == report.tz
        && prev.every == report.every
        && prev.from == Some(pf)
        && prev.to == Some(pt);
    same.then_some((prev, (pf, pt)))
}

/// A group's key as the chart and table show it: sources and kinds in
/// words, escaped.
fn shown_key(by: GroupBy, key: &str) -> String {
    display(&by.key_label(key))
}
