//! Small shared widgets: labelled inputs and the status strip.

use super::App;
use crate::worker::Job;

/// A text field with a visible label that names it for screen readers and tests.
pub fn text_field(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    hint: &str,
) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        ui.add(
            egui::TextEdit::singleline(value)
                .hint_text(hint)
                .desired_width(260.0),
        )
        .labelled_by(l.id)
    })
    .inner
}

/// A field's validation message under it, red.
pub fn error_text(ui: &mut egui::Ui, message: &str) {
    ui.label(
        egui::RichText::new(message)
            .color(ui.visuals().error_fg_color)
            .small(),
    );
}

/// A field's warning under it, amber.
pub fn warning_text(ui: &mut egui::Ui, message: &str) {
    ui.label(
        egui::RichText::new(message)
            .color(ui.visuals().warn_fg_color)
            .small(),
    );
}

/// The bottom strip: the latest message and the running job.
pub fn status_strip(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        if let Some((job, done, total)) = app.job {
            ui.spinner();
            let what = match job {
                Job::Sync => "Syncing",
                Job::Import => "Importing",
                Job::Export => "Exporting",
            };
            if total > 0 {
                ui.add(
                    egui::ProgressBar::new(done as f32 / total as f32)
                        .desired_width(160.0)
                        .text(format!("{what} {done}/{total}")),
                );
            } else {
                ui.label(format!("{what}… {done} events"));
            }
            if ui.button("Cancel").clicked() {
                app.cancel_job();
            }
            ui.separator();
        }
        if let Some(m) = app.messages.last() {
            let color = if m.is_error {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().text_color()
            };
            ui.label(egui::RichText::new(&m.text).color(color));
            if ui.small_button("Dismiss").clicked() {
                app.messages.clear();
            }
        } else if app.job.is_none() {
            ui.label(format!("{} referral events stored", app.snap.events_total));
        }
    });
}
