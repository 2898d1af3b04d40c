//! The Backend screen: URL, token and auto-sync, "Test connection", NDJSON
//! import, and a short guide to running `refboard relay`.

use super::{App, widgets};
use crate::sync::SyncConfig;
use crate::worker::Command;

/// Runtime state of the backend screen.
#[derive(Default)]
pub struct BackendView {
    url: Option<String>,
    token: Option<String>,
    import_path: String,
    /// Result of the last "Test connection".
    pub connection: Option<Result<String, String>>,
}

/// Draws the backend screen.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading("Connect your bot backend");
        ui.label("refboard pulls referral events from `refboard relay` or any backend that implements docs/sync-protocol.md.");
        let url = app.backend.url.get_or_insert_with(|| app.snap.backend_url.clone());
        widgets::text_field(ui, "Backend URL", url, "https://bot.example.com");
        let url_ok = reqwest::Url::parse(url.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !url.trim().is_empty() && !url_ok {
            widgets::error_text(ui, &format!("invalid backend URL {:?}: use an http:// or https:// URL", url.trim()));
        }
        let url = url.trim().to_string();
        let token = app.backend.token.get_or_insert_with(|| app.snap.backend_token.clone());
        ui.horizontal(|ui| {
            let l = ui.label("API token");
            ui.add(egui::TextEdit::singleline(token).password(true).desired_width(260.0))
                .labelled_by(l.id);
        });
        let token = token.trim().to_string();
        ui.horizontal(|ui| {
            let l = ui.label("Auto-sync every (minutes, 0 = off)");
            ui.add(egui::DragValue::new(&mut app.state.auto_sync_mins).range(0..=1440))
                .labelled_by(l.id);
        });
        let ready = url_ok && !token.is_empty();
        ui.horizontal(|ui| {
            if ui.add_enabled(ready, egui::Button::new("Save")).clicked() {
                app.send(Command::SaveBackend { url: url.clone(), token: token.clone() });
            }
            if ui.add_enabled(ready, egui::Button::new("Test connection")).clicked() {
                app.backend.connection = None;
                app.send(Command::TestConnection(SyncConfig::new(&url, &token)));
            }
            if ui.add_enabled(ready && app.job.is_none(), egui::Button::new("Save and sync now")).clicked() {
                app.send(Command::SaveBackend { url: url.clone(), token: token.clone() });
                app.snap.backend_url = url.clone();
                app.snap.backend_token = token.clone();
                app.sync_now();
            }
        });
        match &app.backend.connection {
            Some(Ok(t)) => {
                ui.label(t);
            }
            Some(Err(e)) => widgets::error_text(ui, e),
            None => {}
        }
        ui.separator();
        ui.heading("Import webhook bodies");
        ui.label("Files a bot has logged: one JSON body per line (NDJSON), or one body per file.");
        ui.horizontal(|ui| {
            widgets::text_field(ui, "File to import", &mut app.backend.import_path, "/path/to/webhooks.ndjson");
            if ui.button("Browse…").clicked()
                && let Some(p) = rfd::FileDialog::new().pick_file()
            {
                app.backend.import_path = p.display().to_string();
            }
        });
        let path = app.backend.import_path.trim().to_string();
        if ui.add_enabled(!path.is_empty() && app.job.is_none(), egui::Button::new("Import")).clicked() {
            app.job = Some((crate::worker::Job::Import, 0, 1));
            app.send(Command::Import(vec![path.into()]));
        }
        ui.separator();
        ui.heading("Running refboard relay");
        ui.label(
            "1. On a server Meta can reach over HTTPS, run:\n   \
             REFBOARD_APP_SECRET=… REFBOARD_VERIFY_TOKEN=… REFBOARD_API_TOKEN=… \\\n   \
             refboard relay --listen 0.0.0.0:8080 --data relay.db\n\
             2. In your app's Messenger settings, set the callback URL to https://your.host/webhook \
             and the verify token to REFBOARD_VERIFY_TOKEN.\n\
             3. Subscribe the page to the messaging_referrals and messaging_postbacks fields.\n\
             4. Here, enter https://your.host and REFBOARD_API_TOKEN, then Test connection.\n\
             Already running a bot? Add --forward https://your-bot/webhook and the relay passes every webhook on.",
        );
    });
}
