//! The Analytics screen: range presets, granularity, grouping, a time-series
//! chart, new versus returning, a sortable totals table (top groups and an
//! "Other" row), untracked refs page by page, and CSV export of the table.

use super::links::sort_header;
use super::widgets::{self, display};
use super::{Action, Shared, Tab, UiState};
use crate::model::{LinkId, PageId};
use crate::stats::{Every, GroupBy, GroupStats, Point, Report, StatsQuery};
use crate::store::{AliasRow, LinkRow};
use crate::worker::Command;
use chrono_tz::Tz;
use egui_extras::{Column, TableBuilder};
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};
use serde::{Deserialize, Serialize};

/// Most series drawn at once; the rest are in the table.
const MAX_SERIES: usize = 50;
/// Groups the stats query returns with their series; the rest come summed
/// in the report's "Other" row.
pub const TOP_GROUPS: usize = MAX_SERIES;
/// Untracked refs shown per page of that list.
pub const UNTRACKED_PER_PAGE: usize = 20;
/// Plot x values are days since 1970-01-01; past this many days either way
/// (about 27,000 years) the axis shows no dates.
const MAX_AXIS_DAYS: f64 = 10_000_000.0;

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
    /// The alias the user just made from a typo, until undone or replaced.
    undo: Option<AliasRow>,
    /// Where "Save report…" writes (.pdf or .html).
    report_path: String,
    /// The closest link of each shown untracked ref, kept while the refs
    /// and the links stay the same (not recomputed every frame).
    typos: TypoCache,
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
type Choices = (Range, Option<Every>, GroupBy, String, String);

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
            undo: None,
            report_path: String::new(),
            typos: TypoCache::default(),
        }
    }

    /// Writes the choices to remember.
    pub fn save(&self, state: &mut UiState) {
        state.range = self.range;
        state.custom_from = self.custom_from.clone();
        state.custom_to = self.custom_to.clone();
        state.every = self.every;
        state.by = self.by;
        state.kind_view = self.kind_view;
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
            self.chart(ui, &report.groups, report.every);
        }
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
                widgets::text_field(ui, "To", &mut self.custom_to, "YYYY-MM-DD");
            });
            if self.query(shared.tz, None).is_none() {
                widgets::error_text(
                    ui,
                    "Enter both dates as YYYY-MM-DD, the first not after the second.",
                );
            }
        }
        ui.horizontal_wrapped(|ui| {
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

    fn chart(&self, ui: &mut egui::Ui, groups: &[GroupStats], every: Every) {
        let plot = Plot::new("series")
            .height(ui.available_height().clamp(160.0, 320.0))
            .legend(Legend::default())
            .x_axis_formatter(move |mark, _| x_label(mark.value, every))
            .label_formatter(move |hover| {
                use egui_plot::HoverPosition;
                match hover {
                    HoverPosition::NearDataPoint {
                        plot_name,
                        position,
                        ..
                    } => Some(format!(
                        "{}\n{}: {}",
                        display(plot_name),
                        x_label(position.x, every),
                        position.y.round()
                    )),
                    HoverPosition::Elsewhere { .. } => None,
                }
            });
        let kind = self.by == GroupBy::Kind;
        let bars = kind && self.kind_view == KindView::Stacked;
        plot.show(ui, |p| {
            if bars {
                // Stacked: returning on top of new.
                let totals = kind_totals(groups);
                let width = match every {
                    Every::Hour => 1.0 / 24.0 * 0.8,
                    Every::Day => 0.8,
                    Every::Week => 5.6,
                    Every::Month => 24.0,
                };
                let new = BarChart::new(
                    "New",
                    totals
                        .iter()
                        .map(|(x, n, _)| Bar::new(*x, *n).width(width))
                        .collect(),
                );
                let ret = BarChart::new(
                    "Returning",
                    totals
                        .iter()
                        .map(|(x, _, r)| Bar::new(*x, *r).width(width))
                        .collect(),
                )
                .stack_on(&[&new]);
                p.bar_chart(new);
                p.bar_chart(ret);
            } else if kind {
                let totals = kind_totals(groups);
                let new: Vec<[f64; 2]> = totals.iter().map(|(x, n, _)| [*x, *n]).collect();
                let ret: Vec<[f64; 2]> = totals.iter().map(|(x, _, r)| [*x, *r]).collect();
                p.line(Line::new("New", PlotPoints::from(new)));
                p.line(Line::new("Returning", PlotPoints::from(ret)));
            } else {
                for g in groups.iter().take(MAX_SERIES) {
                    let pts: Vec<[f64; 2]> = g
                        .series
                        .iter()
                        .map(|pt| [bucket_x(pt), pt.referrals as f64])
                        .collect();
                    p.line(Line::new(shown_key(self.by, &g.key), PlotPoints::from(pts)));
                }
            }
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
                            actions.push(Action::Send(Command::AddAlias(
                                LinkId(link.link.id),
                                u.ref_code.clone(),
                            )));
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
                actions.push(Action::Send(Command::WriteCsv {
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
                }));
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
                actions.push(Action::Send(Command::RemoveAlias(page, alias.clone())));
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

/// The x of a bucket: local days since 1970-01-01, from its start instant
/// and UTC offset (labels are never parsed back into dates).
fn bucket_x(pt: &Point) -> f64 {
    let local_ms = pt
        .start_ms
        .saturating_add(i64::from(pt.utc_offset_secs).saturating_mul(1000));
    local_ms as f64 / 86_400_000.0
}

/// The axis text of plot x (days since 1970-01-01); empty where no date
/// exists (zoomed far out), never a panic.
pub fn x_label(x: f64, every: Every) -> String {
    if !x.is_finite() || x.abs() > MAX_AXIS_DAYS {
        return String::new();
    }
    // In range by the check above, so the cast is exact enough and cannot saturate.
    let days = x.floor() as i64;
    let Some(day) = chrono::TimeDelta::try_days(days)
        .and_then(|d| chrono::NaiveDate::default().checked_add_signed(d))
    else {
        return String::new();
    };
    match every {
        Every::Hour => format!(
            "{} {:02}:00",
            day,
            ((x.fract() * 24.0).round() as i64).rem_euclid(24)
        ),
        Every::Month => day.format("%Y-%m").to_string(),
        _ => day.to_string(),
    }
}

/// New and returning per bucket, summed over the groups: (x, new, returning), by x.
fn kind_totals(groups: &[GroupStats]) -> Vec<(f64, f64, f64)> {
    let mut by_x: std::collections::BTreeMap<i64, (f64, f64, f64)> =
        std::collections::BTreeMap::new();
    for pt in groups.iter().flat_map(|g| g.series.iter()) {
        let x = bucket_x(pt);
        // Keyed by hour so float labels of the same bucket meet.
        let e = by_x
            .entry((x * 24.0).round() as i64)
            .or_insert((x, 0.0, 0.0));
        e.1 += pt.new as f64;
        e.2 += pt.returning as f64;
    }
    by_x.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            for every in [Every::Hour, Every::Day, Every::Week, Every::Month] {
                let _ = x_label(x, every);
            }
        }
        assert_eq!(x_label(0.0, Every::Day), "1970-01-01");
        assert_eq!(x_label(1e12, Every::Day), "");
    }
}
