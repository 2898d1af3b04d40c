//! Conversions on the Analytics screen (issue #21): the "Conversions" and
//! "Rate" headline cards, the attribution window and model, the goals of
//! the range, the conversions table (the same columns as the CSV and the
//! report: `stats::conversions::table`) and the funnel.
//!
//! Figures come from the worker ([`ConversionReport`], sent after each
//! report) and are shown only while they belong to the report on screen.

use super::cards::{append_change, change_color};
use super::funnel::Funnel;
use crate::model::{Attribution, CreditModel, MAX_WINDOW_DAYS, MIN_WINDOW_DAYS};
use crate::stats::Report;
use crate::stats::conversions::{ConversionReport, conversion_cards, table};
use crate::ui::widgets::{self, display};
use crate::ui::{Action, Shared};
use crate::worker::ShortCommand;
use egui_extras::{Column, TableBuilder};

/// The conversions sub-view: the settings being edited and the funnel.
#[derive(Debug, Default)]
pub(super) struct ConversionsView {
    /// The settings as edited, until applied; `None` follows the saved ones.
    editing: Option<Attribution>,
    funnel: Funnel,
    /// Where "Export conversions CSV" writes.
    csv_path: String,
}

/// The conversions of `report`, when they have arrived.
fn of<'a>(shared: &Shared<'a>, report: &Report) -> Option<&'a ConversionReport> {
    shared.conversions.filter(|c| c.belongs_to(report))
}

/// The two conversion cards, under the referral cards, by the same rule
/// (nothing until the conversions arrive, or when the range has none).
pub(super) fn cards(
    ui: &mut egui::Ui,
    shared: &Shared<'_>,
    report: &Report,
    previous: Option<super::Previous<'_>>,
) {
    // Only a range with conversions gets their cards; the sections above
    // and below keep their places otherwise.
    let Some(conv) = of(shared, report)
        .filter(|c| c.totals.figures.conversions + c.totals.figures.conversations > 0)
    else {
        return;
    };
    let prev = previous.and_then(|(r, range)| {
        shared
            .previous_conversions
            .filter(|c| c.belongs_to(r))
            .map(|c| (r, c, range))
    });
    let mut cards = conversion_cards(conv, prev);
    if prev.is_none() && previous.is_some() {
        for c in &mut cards {
            c.card.change_text = "comparing with the previous period…".into();
        }
    }
    ui.columns(cards.len(), |cols| {
        for (col, c) in cols.iter_mut().zip(&cards) {
            egui::Frame::group(col.style())
                .inner_margin(egui::Margin::symmetric(12, 8))
                .show(col, |ui| {
                    ui.set_width(ui.available_width());
                    let mut job = egui::text::LayoutJob::default();
                    let body = egui::TextStyle::Body.resolve(ui.style());
                    let text = ui.visuals().text_color();
                    job.append(
                        &format!("{}\n", c.card.name),
                        0.0,
                        egui::TextFormat::simple(body, text),
                    );
                    let big = egui::FontId::proportional(26.0);
                    let strong = ui.visuals().strong_text_color();
                    job.append(
                        &format!("{}\n", c.shown),
                        0.0,
                        egui::TextFormat::simple(big, strong),
                    );
                    let colour = change_color(ui, &c.card.change_text);
                    append_change(&mut job, &c.card.change_text, 12.0, colour);
                    ui.add(egui::Label::new(job).wrap());
                });
        }
    });
}

impl ConversionsView {
    /// The settings, the goals, the table and the funnel.
    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        report: &Report,
        actions: &mut Vec<Action>,
    ) {
        ui.heading("Conversions");
        self.settings(ui, shared, actions);
        let Some(conv) = of(shared, report) else {
            ui.spinner();
            return;
        };
        if conv.goals.is_empty() && conv.totals.figures.conversations == 0 {
            ui.label(
                "No conversions in this range. Conversions come from your bot (POST /v1/conversions) or from the goal patterns the relay is started with.",
            );
            return;
        }
        let goals: Vec<String> = conv.goals.iter().map(|g| display(g)).collect();
        ui.label(format!("Goals in this range: {}", goals.join(", ")));
        conversions_table(ui, report, conv);
        self.csv_export(ui, report, conv, actions);
        ui.separator();
        self.funnel.ui(ui, conv);
    }

    /// The window (1–90 days) and the model, applied with one button.
    fn settings(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
        let saved = shared.snap.attribution;
        let a = self.editing.get_or_insert(saved);
        ui.horizontal(|ui| {
            let l = ui.label("Attribution model");
            egui::ComboBox::from_id_salt("attribution_model")
                .selected_text(a.model.label())
                .show_ui(ui, |ui| {
                    for m in CreditModel::ALL {
                        ui.selectable_value(&mut a.model, m, m.label());
                    }
                })
                .response
                .labelled_by(l.id);
            ui.label("of the");
            ui.add(
                egui::DragValue::new(&mut a.window_days)
                    .range(MIN_WINDOW_DAYS..=MAX_WINDOW_DAYS)
                    .suffix(" days"),
            )
            .on_hover_text("Attribution window: 1 to 90 days before the conversion");
            ui.label("before it (ties: the referral stored first)");
            let changed = *a != saved;
            if ui
                .add_enabled(changed, egui::Button::new("Apply attribution"))
                .clicked()
            {
                actions.push(Action::Send(ShortCommand::SetAttribution(*a).into()));
                actions.push(Action::RefreshStats);
            }
        });
        // Once applied (the snapshot says so), follow the saved settings again.
        if self.editing == Some(saved) {
            self.editing = None;
        }
    }
}

impl ConversionsView {
    /// The CSV file field and "Export conversions CSV": the table's rows,
    /// each with the range, written by the worker through `csv_safe`.
    fn csv_export(
        &mut self,
        ui: &mut egui::Ui,
        report: &Report,
        conv: &ConversionReport,
        actions: &mut Vec<Action>,
    ) {
        ui.horizontal_wrapped(|ui| {
            widgets::text_field(
                ui,
                "Conversions CSV file",
                &mut self.csv_path,
                "/path/to/conversions.csv",
            );
            if ui.button("Browse conversions CSV…").clicked()
                && let Some(p) = rfd::FileDialog::new()
                    .add_filter("CSV", &["csv"])
                    .set_file_name("conversions.csv")
                    .save_file()
            {
                self.csv_path = p.display().to_string();
            }
            let ok = !self.csv_path.trim().is_empty();
            if ui
                .add_enabled(ok, egui::Button::new("Export conversions CSV"))
                .clicked()
            {
                actions.push(Action::Send(
                    ShortCommand::WriteCsv {
                        path: self.csv_path.trim().into(),
                        header: table::csv_header(report, conv),
                        rows: table::csv_rows(report, conv),
                    }
                    .into(),
                ));
            }
        });
    }
}

/// The conversions table: one row per group, then Other, no referral and Total.
fn conversions_table(ui: &mut egui::Ui, report: &Report, conv: &ConversionReport) {
    let header = table::header(report, conv);
    let rows = table::rows(report, conv);
    ui.push_id("conversions_table", |ui| {
        TableBuilder::new(ui)
            .striped(true)
            .column(Column::auto().at_least(120.0).clip(true))
            .columns(Column::auto(), header.len().saturating_sub(1))
            .max_scroll_height(320.0)
            .header(20.0, |mut h| {
                for name in &header {
                    h.col(|ui| {
                        ui.strong(name);
                    });
                }
            })
            .body(|mut body| {
                for row in &rows {
                    body.row(18.0, |mut r| {
                        for cell in row {
                            r.col(|ui| {
                                ui.label(display(cell));
                            });
                        }
                    });
                }
            });
    });
}
