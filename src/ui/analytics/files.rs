//! The files the Analytics screen writes through the worker: the table as
//! CSV, and the shareable report (PDF or HTML) of the range shown.

use super::table::TableRow;
use crate::stats::Report;
use crate::ui::Action;
use crate::ui::widgets;
use crate::worker::ShortCommand;

/// The paths typed for the CSV file and the report.
#[derive(Default)]
pub struct Files {
    csv_path: String,
    /// Where "Save report…" writes (.pdf or .html).
    report_path: String,
}

impl Files {
    /// The CSV file field and "Export CSV": the table's rows, each with the range.
    pub(super) fn csv_export(
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

    /// The report file field and "Save report…": the worker writes a PDF or
    /// HTML report of the range shown.
    pub(super) fn save_report(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
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
