//! Top bar: page picker, screens, sync status and "Sync now", and the banner
//! when the background worker has stopped.

use super::{Action, Shared, Tab};
use crate::model::PageId;
use crate::worker::Job;

/// The top bar. It keeps no state of its own: everything it shows comes from
/// the snapshot.
pub struct TopBar;

impl TopBar {
    /// Draws the bar and returns what the user asked for.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>, tab: Tab) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(why) = shared.worker_stopped {
            worker_banner(ui, why);
        }
        ui.horizontal_wrapped(|ui| {
            ui.heading("refboard");
            ui.separator();
            page_picker(ui, shared, &mut actions);
            if ui.button("Add page").clicked() {
                actions.push(Action::OpenPageForm { edit: false });
            }
            if shared.snap.page.is_some() && ui.button("Edit page").clicked() {
                actions.push(Action::OpenPageForm { edit: true });
            }
            ui.separator();
            for (t, name, key) in [
                (Tab::Links, "Links", "Ctrl+1"),
                (Tab::Analytics, "Analytics", "Ctrl+2"),
                (Tab::Backend, "Backend", "Ctrl+3"),
                (Tab::Setup, "Setup", "Ctrl+4: the setup doctor"),
            ] {
                let r = ui.selectable_label(tab == t, name).on_hover_text(key);
                if r.clicked() {
                    actions.push(Action::ShowTab(t));
                }
            }
            ui.separator();
            if super::health_badge::badge(ui, shared) {
                actions.push(Action::ShowTab(Tab::Backend));
            }
            sync_status(ui, shared, &mut actions);
            ui.separator();
            super::widgets::theme_switch(ui, &mut actions);
        });
        actions
    }
}

/// A red banner that says the worker stopped and why; clicks do nothing after it.
fn worker_banner(ui: &mut egui::Ui, why: &str) {
    egui::Frame::new()
        .fill(ui.visuals().error_fg_color.gamma_multiply(0.25))
        .inner_margin(6.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(
                egui::RichText::new(format!(
                    "The background worker stopped: {why}. Nothing you do will be saved; restart refboard."
                ))
                .strong(),
            );
        });
}

fn page_picker(ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
    let label = ui.label("Page");
    let current = shared
        .snap
        .pages
        .iter()
        .find(|p| Some(PageId(p.id)) == shared.snap.page)
        .map(|p| super::widgets::display(&p.name))
        .unwrap_or_else(|| "No page yet".into());
    egui::ComboBox::from_id_salt("page_picker")
        .selected_text(current)
        .show_ui(ui, |ui| {
            for p in &shared.snap.pages {
                let id = PageId(p.id);
                if ui
                    .selectable_label(
                        Some(id) == shared.snap.page,
                        super::widgets::display(&p.name),
                    )
                    .clicked()
                {
                    actions.push(Action::ShowPage(id));
                }
            }
        })
        .response
        .labelled_by(label.id);
}

fn sync_status(ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
    let syncing = matches!(shared.job, Some((Job::Sync, _, _)));
    let snap = shared.snap;
    if syncing {
        ui.spinner();
        ui.label("Syncing…");
    } else if let Some(err) = &snap.last_sync_error {
        ui.label(
            egui::RichText::new("Sync failed")
                .color(ui.visuals().error_fg_color)
                .strong(),
        )
        .on_hover_text(err.clone());
    } else if let Some(at) = snap.last_sync_at {
        let when = chrono::DateTime::from_timestamp(at, 0)
            .map(|t| {
                t.with_timezone(&shared.tz)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default();
        ui.label(format!(
            "Last sync {when} · {} events pulled in all",
            snap.events_pulled
        ));
    } else if snap.backend_url.is_empty() {
        ui.label("Not connected");
    } else {
        ui.label("Never synced");
    }
    let icon = egui_material_icons::icons::ICON_SYNC;
    if super::widgets::icon_button(ui, !syncing, icon, "Sync now", false)
        .on_hover_text("F5")
        .clicked()
    {
        actions.push(Action::SyncNow);
    }
}
