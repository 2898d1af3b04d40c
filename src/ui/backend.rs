//! The Backend screen: URL, token and auto-sync, "Test connection", the
//! backend's webhook health (last event, bad signatures, a warning after a
//! quiet period), NDJSON import, and a short guide to running `refboard
//! relay`. URL and token are checked by the model's rules, the same as the
//! CLI's. The health comes from the worker's snapshot; this screen only draws it.

use super::{Action, Shared, UiState, widgets};
use crate::model::{validate_api_token, validate_backend_url};
use crate::sync::SyncConfig;
use crate::worker::{Job, LongCommand, ShortCommand};

/// The backend screen's own state: the fields being edited and the last test result.
pub struct BackendPanel {
    url: Option<String>,
    token: Option<String>,
    import_path: String,
    connection: Option<Result<String, String>>,
    /// Auto-sync interval in minutes; 0 = off.
    pub auto_sync_mins: u32,
    /// Warn when no webhook event arrived for this many minutes.
    pub webhook_quiet_mins: u32,
}

impl BackendPanel {
    /// The panel with the remembered auto-sync interval.
    pub fn new(state: &UiState) -> Self {
        Self {
            url: None,
            token: None,
            import_path: String::new(),
            connection: None,
            auto_sync_mins: state.auto_sync_mins,
            webhook_quiet_mins: state.webhook_quiet_mins,
        }
    }

    /// The result of "Test connection" arrived.
    pub fn connection_result(&mut self, result: Result<String, String>) {
        self.connection = Some(result);
    }

    /// Draws the screen and returns what the user asked for.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                self.connect_form(ui, shared, &mut actions);
                ui.separator();
                self.webhook_health(ui, shared);
                ui.separator();
                self.import_form(ui, shared, &mut actions);
                ui.separator();
                relay_guide(ui);
            });
        actions
    }

    /// The backend's webhook health: last event, bad signatures, and a
    /// warning after the chosen quiet period (read by the worker after a
    /// connection test or a sync).
    fn webhook_health(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>) {
        ui.heading("Webhook health");
        ui.horizontal(|ui| {
            let l = ui.label("Warn after minutes without events");
            ui.add(egui::DragValue::new(&mut self.webhook_quiet_mins).range(1..=10_080))
                .labelled_by(l.id);
        });
        match &shared.snap.webhook_health {
            None if shared.snap.backend_url.is_empty() => {
                ui.label("Connect your bot backend to see its webhook health.");
            }
            None => {
                ui.label("Reading the backend's webhook health…");
            }
            Some(Err(e)) => widgets::error_text(ui, e),
            Some(Ok(h)) => {
                let now_ms = chrono::Utc::now().timestamp_millis();
                if let Some(t) = h.last_event_at_ms {
                    ui.label(format!(
                        "Last webhook event received: {} ({} min ago)",
                        format_ms(t, shared.tz),
                        now_ms.saturating_sub(t).max(0) / 60_000
                    ));
                }
                if let Some(n) = h.bad_signatures_last_hour {
                    ui.label(format!("Bad signatures in the last hour: {n}"));
                }
                let quiet_secs = u64::from(self.webhook_quiet_mins).saturating_mul(60);
                if let Some(w) = h.warning(now_ms, quiet_secs) {
                    health_warning(ui, &w);
                }
            }
        }
    }

    fn connect_form(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
        ui.heading("Connect your bot backend");
        ui.label("refboard pulls referral events from `refboard relay` or any backend that implements docs/sync-protocol.md.");
        let url = self
            .url
            .get_or_insert_with(|| shared.snap.backend_url.clone());
        widgets::text_field(ui, "Backend URL", url, "https://bot.example.com");
        let url_ok = validate_backend_url(url);
        if !url.trim().is_empty()
            && let Err(e) = &url_ok
        {
            widgets::error_text(ui, &e.to_string());
        }
        let token = self
            .token
            .get_or_insert_with(|| shared.snap.backend_token.clone());
        ui.horizontal(|ui| {
            let l = ui.label("API token");
            ui.add(
                egui::TextEdit::singleline(token)
                    .password(true)
                    .desired_width(ui.available_width().clamp(120.0, 260.0)),
            )
            .labelled_by(l.id);
        });
        let token_ok = validate_api_token(token);
        if !token.is_empty()
            && let Err(e) = &token_ok
        {
            widgets::error_text(ui, &e.to_string());
        }
        ui.horizontal(|ui| {
            let l = ui.label("Auto-sync every (minutes, 0 = off)");
            ui.add(egui::DragValue::new(&mut self.auto_sync_mins).range(0..=1440))
                .labelled_by(l.id);
        });
        let ready = match (url_ok, token_ok) {
            (Ok(u), Ok(t)) => Some((u, t)),
            _ => None,
        };
        self.connect_buttons(ui, shared, ready, actions);
        match &self.connection {
            Some(Ok(t)) => {
                ui.label(t);
            }
            Some(Err(e)) => widgets::error_text(ui, e),
            None => {}
        }
    }

    /// Save, Test connection, and Save and sync now, for a valid URL and token.
    fn connect_buttons(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        ready: Option<(String, String)>,
        actions: &mut Vec<Action>,
    ) {
        ui.horizontal_wrapped(|ui| {
            let save = ui
                .add_enabled(ready.is_some(), egui::Button::new("Save"))
                .clicked();
            let test = ui
                .add_enabled(ready.is_some(), egui::Button::new("Test connection"))
                .clicked();
            let save_sync = ui
                .add_enabled(
                    ready.is_some() && shared.job.is_none(),
                    egui::Button::new("Save and sync now"),
                )
                .clicked();
            let Some((url, token)) = ready else { return };
            if save || save_sync {
                actions.push(Action::Send(
                    ShortCommand::SaveBackend {
                        url: url.clone(),
                        token: token.clone(),
                    }
                    .into(),
                ));
            }
            if test {
                self.connection = None;
                actions.push(Action::Send(
                    LongCommand::TestConnection(SyncConfig::new(&url, &token)).into(),
                ));
            }
            if save_sync {
                // The lanes keep order: the short lane saves before the app
                // reads the backend back from the next snapshot.
                actions.push(Action::Send(
                    LongCommand::Sync(SyncConfig::new(&url, &token)).into(),
                ));
                actions.push(Action::JobStarted(Job::Sync));
            }
        });
    }

    fn import_form(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
        ui.heading("Import webhook bodies");
        ui.label("Files a bot has logged: one JSON body per line (NDJSON), or one body per file.");
        ui.horizontal_wrapped(|ui| {
            widgets::text_field(
                ui,
                "File to import",
                &mut self.import_path,
                "/path/to/webhooks.ndjson",
            );
            if ui.button("Browse…").clicked()
                && let Some(p) = rfd::FileDialog::new().pick_file()
            {
                self.import_path = p.display().to_string();
            }
        });
        let path = self.import_path.trim().to_string();
        if ui
            .add_enabled(
                !path.is_empty() && shared.job.is_none(),
                egui::Button::new("Import"),
            )
            .clicked()
        {
            actions.push(Action::JobStarted(Job::Import));
            actions.push(Action::Send(LongCommand::Import(vec![path.into()]).into()));
        }
    }
}

fn relay_guide(ui: &mut egui::Ui) {
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
}

/// A time in ms since the epoch as `YYYY-MM-DD HH:MM:SS` in the app's time
/// zone (resolved once at start); a value out of range (a backend may send
/// anything) is shown as the number.
fn format_ms(ms: i64, tz: chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// The webhook warning, readable (14 points, not the 9-point hint size) and
/// wrapped, in the error colour: Meta disables a webhook after about an
/// hour of failures, so it must not be missed.
fn health_warning(ui: &mut egui::Ui, text: &str) {
    ui.add(
        egui::Label::new(
            egui::RichText::new(text)
                .size(HEALTH_WARNING_SIZE)
                .color(ui.visuals().error_fg_color),
        )
        .wrap(),
    );
}

/// The size of the webhook warning's text, in points.
pub const HEALTH_WARNING_SIZE: f32 = 14.0;
