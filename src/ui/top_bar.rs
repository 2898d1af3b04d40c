//! Top bar: page picker, screens, sync status and "Sync now".

use super::{App, Tab, dialogs};

/// Draws the top bar.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::top("top_bar").show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.heading("refboard");
            ui.separator();
            let label = ui.label("Page");
            let current = app
                .snap
                .pages
                .iter()
                .find(|p| Some(p.id) == app.snap.page)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| "No page yet".into());
            let mut chosen = None;
            egui::ComboBox::from_id_salt("page_picker")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for p in &app.snap.pages {
                        if ui
                            .selectable_label(Some(p.id) == app.snap.page, &p.name)
                            .clicked()
                        {
                            chosen = Some(p.id);
                        }
                    }
                })
                .response
                .labelled_by(label.id);
            if let Some(id) = chosen {
                app.send(crate::worker::Command::Load { page: Some(id) });
                app.refresh_stats();
            }
            if ui.button("Add page").clicked() {
                app.dialogs.page = Some(dialogs::PageForm::default());
            }
            if let Some(p) = app.snap.pages.iter().find(|p| Some(p.id) == app.snap.page)
                && ui.button("Edit page").clicked()
            {
                app.dialogs.page = Some(dialogs::PageForm::edit(p));
            }
            ui.separator();
            for (tab, name) in [
                (Tab::Links, "Links"),
                (Tab::Analytics, "Analytics"),
                (Tab::Backend, "Backend"),
            ] {
                if ui.selectable_label(app.state.tab == tab, name).clicked() {
                    app.state.tab = tab;
                }
            }
            ui.separator();
            sync_status(app, ui);
        });
    });
}

fn sync_status(app: &mut App, ui: &mut egui::Ui) {
    let syncing = matches!(app.job, Some((crate::worker::Job::Sync, _, _)));
    if syncing {
        ui.spinner();
        ui.label("Syncing…");
    } else if let Some(err) = &app.snap.last_sync_error {
        ui.label(
            egui::RichText::new("Sync failed")
                .color(ui.visuals().error_fg_color)
                .strong(),
        )
        .on_hover_text(err.clone());
    } else if let Some(at) = app.snap.last_sync_at {
        let when = chrono::DateTime::from_timestamp(at, 0)
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default();
        ui.label(format!(
            "Last sync {when} · {} events pulled",
            app.snap.events_pulled
        ));
    } else if app.snap.backend_url.is_empty() {
        ui.label("Not connected");
    } else {
        ui.label("Never synced");
    }
    if ui
        .add_enabled(!syncing, egui::Button::new("Sync now"))
        .on_hover_text("F5")
        .clicked()
    {
        app.sync_now();
    }
}
