//! The totals table of the Analytics screen: one row per group, sortable
//! by any column, with the stats engine's "Other" row last.

use super::shown_key;
use crate::stats::{GroupBy, GroupStats, Report};
use crate::ui::links::sort_header;
use egui_extras::{Column, TableBuilder};

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

/// The table's own state: its sort.
#[derive(Default)]
pub struct TotalsTable {
    sort: SortBy,
    ascending: bool,
}

impl TotalsTable {
    /// The groups in table order, then the report's "Other" row (the
    /// groups past the top ones, summed by the stats engine).
    pub(super) fn sorted_rows(&self, report: &Report, by: GroupBy) -> Vec<TableRow> {
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
                key: by.key_label(&g.key),
                label: shown_key(by, &g.key),
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

    /// A column header; a click sorts by it, a second click reverses the order.
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

    /// Draws the table of `rows`; a click on a header sorts by it.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, rows: &[TableRow], by: GroupBy) {
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        let key_name = by.column_name();
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
                    // The names take the width the figures leave (a wide
                    // window showed a 700-point table beside empty space).
                    .column(Column::remainder().at_least(160.0).clip(true))
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
}

/// One row of the totals table.
pub struct TableRow {
    /// The group's key in words (sources and kinds), for CSV and sorting.
    pub(super) key: String,
    /// The key as the table shows it: in words and escaped.
    label: String,
    pub(super) other: bool,
    pub(super) referrals: u64,
    /// `None` while unique people are still being counted.
    people: Option<u64>,
    pub(super) new: u64,
    pub(super) returning: u64,
}

impl TableRow {
    /// The row as CSV cells; the "Other" row has no people count (a sum would overcount).
    pub(super) fn cells(&self) -> Vec<String> {
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
