//! The Setup screen: the setup doctor in the dashboard. It lists the checks
//! with their colour, what each means for referrals and the calls made; a
//! Fix button shows the exact call (or change) and asks before sending.
//! The worker runs the doctor ([`LongCommand::Doctor`]); this screen only
//! draws its outcome and touches no network.

use super::{Action, Shared, widgets};
use crate::ops::doctor::{Check, CheckId, Colour, Fix, Outcome, PageToken, validate_payload};
use crate::worker::{Failure, LongCommand};

/// The Setup screen's own state.
#[derive(Default)]
pub struct SetupPanel {
    /// The latest run's outcome (for the page it names), or why it failed.
    outcome: Option<Result<Outcome, String>>,
    /// A run was sent and has not answered yet.
    running: bool,
    /// The page access token being typed (sent once, then cleared).
    token: String,
    /// The check whose fix awaits the user's yes.
    confirm: Option<Check>,
    /// The Get Started payload being edited in the confirm box.
    payload: String,
}

impl SetupPanel {
    /// A run ended.
    pub fn result(&mut self, r: Result<Outcome, Failure>) {
        self.running = false;
        self.outcome = Some(r.map_err(|f| f.to_string()));
    }

    /// Whether the last fix changed refboard's own page record (the app
    /// reloads the snapshot then).
    pub fn changed_page(&self) -> bool {
        matches!(&self.outcome, Some(Ok(o)) if matches!(o.fixed, Some(Ok(_))))
    }

    /// Draws the screen and returns what the user asked for.
    #[must_use]
    pub fn ui(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            ui.heading("Setup doctor");
            ui.label("Checks this page's Messenger settings through Meta's Graph API, and the relay: each line says what it means for referrals, and shows the call it made.");
            let Some(page) = shared.snap.page else {
                ui.label("Add a page first.");
                return;
            };
            self.token_row(ui, page, &mut actions);
            if self.running {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Checking…");
                });
            } else if ui.button("Run checks").clicked() {
                actions.push(self.send(page, None, None));
            }
            ui.separator();
            self.confirm_box(ui, shared, page, &mut actions);
            self.report(ui, page, &mut actions);
        });
        actions
    }

    fn send(
        &mut self,
        page: crate::model::PageId,
        token: Option<PageToken>,
        fix: Option<Check>,
    ) -> Action {
        self.running = true;
        Action::Send(
            LongCommand::Doctor {
                page,
                token,
                fix: fix.map(Box::new),
            }
            .into(),
        )
    }

    fn token_row(
        &mut self,
        ui: &mut egui::Ui,
        page: crate::model::PageId,
        actions: &mut Vec<Action>,
    ) {
        ui.horizontal(|ui| {
            let l = ui.label("Page access token");
            ui.add(
                egui::TextEdit::singleline(&mut self.token)
                    .password(true)
                    .desired_width(260.0)
                    .hint_text("EAA…"),
            )
            .labelled_by(l.id);
            let ready = !self.token.trim().is_empty() && !self.running;
            if ui
                .add_enabled(ready, egui::Button::new("Save token and check"))
                .clicked()
            {
                let token = PageToken(std::mem::take(&mut self.token));
                actions.push(self.send(page, Some(token), None));
            }
        });
        ui.label(egui::RichText::new("Kept in the OS keyring, else in a file only you can read; saved only when Meta accepts it for this page.").small());
    }

    /// The fix awaiting a yes: its exact call, then Send or Cancel. A Get
    /// Started fix lets the user change the payload first; the call shown
    /// follows the edit.
    fn confirm_box(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        page: crate::model::PageId,
        actions: &mut Vec<Action>,
    ) {
        let Some(mut check) = self.confirm.clone() else {
            return;
        };
        let mut invalid = None;
        ui.group(|ui| {
            ui.strong(format!("Fix {}?", check.id.title()));
            if let Some(Fix::GetStarted { .. }) = &check.fix {
                widgets::text_field(ui, "Get Started payload", &mut self.payload, "GET_STARTED");
                match validate_payload(&self.payload) {
                    Ok(p) => check.fix = Some(Fix::GetStarted { payload: p }),
                    Err(e) => invalid = Some(e.to_string()),
                }
                if let Some(e) = &invalid {
                    widgets::error_text(ui, e);
                }
            }
            let preview = self.preview_of(shared, page, &check).unwrap_or_default();
            ui.label("This will send:");
            ui.monospace(widgets::display(&preview));
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(invalid.is_none(), egui::Button::new("Send"))
                    .clicked()
                {
                    self.confirm = None;
                    actions.push(self.send(page, None, Some(check.clone())));
                }
                if ui.button("Cancel").clicked() {
                    self.confirm = None;
                }
            });
        });
    }

    /// The exact call or change of `check`'s fix, as it stands in the
    /// confirm box (redrawn for an edited payload).
    fn preview_of(
        &self,
        shared: &Shared<'_>,
        page: crate::model::PageId,
        check: &Check,
    ) -> Option<String> {
        let fix = check.fix.as_ref()?;
        let version = match &self.outcome {
            Some(Ok(o)) => o.graph_version.clone(),
            _ => return None,
        };
        match shared.snap.pages.iter().find(|p| p.id == page.0) {
            Some(p) => Some(fix.preview_for(&version, p)),
            None => self.preview(check.id),
        }
    }

    fn preview(&self, id: CheckId) -> Option<String> {
        match &self.outcome {
            Some(Ok(o)) => o
                .previews
                .iter()
                .find(|(c, _)| *c == id)
                .map(|(_, p)| p.clone()),
            _ => None,
        }
    }

    fn report(&mut self, ui: &mut egui::Ui, page: crate::model::PageId, actions: &mut Vec<Action>) {
        let _ = actions;
        let outcome = match &self.outcome {
            None => {
                ui.label("Run the checks to see where referrals could be lost.");
                return;
            }
            Some(Err(e)) => return widgets::error_text(ui, e),
            Some(Ok(o)) if o.page != page.0 => {
                ui.label("Run the checks for this page.");
                return;
            }
            Some(Ok(o)) => o.clone(),
        };
        match &outcome.fixed {
            Some(Ok(done)) => {
                ui.label(format!("Fixed: {}", widgets::display(done)));
            }
            Some(Err(e)) => widgets::error_text(ui, &format!("Fix not applied: {e}")),
            None => {}
        }
        if outcome.token_saved == Some(false) {
            widgets::error_text(
                ui,
                "The token was not saved: Meta did not accept it for this page.",
            );
        }
        for check in &outcome.report.checks {
            self.check_row(ui, check);
        }
        if outcome.report.all_green() {
            ui.strong("All green: referrals of this page can arrive and be counted.");
        }
    }

    fn check_row(&mut self, ui: &mut egui::Ui, check: &Check) {
        ui.horizontal_wrapped(|ui| {
            let colour = match check.colour {
                Colour::Green => egui::Color32::from_rgb(0x2e, 0x7d, 0x32),
                Colour::Amber => ui.visuals().warn_fg_color,
                Colour::Red => ui.visuals().error_fg_color,
            };
            ui.label(
                egui::RichText::new(check.colour.word())
                    .color(colour)
                    .strong(),
            );
            ui.strong(check.id.title());
            ui.label(widgets::display(&check.meaning));
        });
        for call in &check.calls {
            ui.label(
                egui::RichText::new(format!("Call: {}", widgets::display(call)))
                    .monospace()
                    .small(),
            );
        }
        if check.colour != Colour::Green {
            if let Some(p) = &check.missing_permission {
                widgets::error_text(
                    ui,
                    &format!(
                        "No fix: the token lacks the {p} permission; nothing will be sent until a token with it is saved."
                    ),
                );
            } else if check.fix.is_some()
                && !self.running
                && ui.button(format!("Fix {}", check.id.title())).clicked()
            {
                if let Some(Fix::GetStarted { payload }) = &check.fix {
                    self.payload = payload.clone();
                }
                self.confirm = Some(check.clone());
            }
        }
        ui.add_space(6.0);
    }
}
