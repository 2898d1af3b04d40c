//! What panels ask for ([`Action`]) and the one place it is applied
//! ([`App::apply_action`]), with the commands it hands to the worker.

use super::App;
use crate::ui::shared::{Action, Message, Tab};
use crate::worker::{Command, Job, LongCommand, ShortCommand};
use std::path::PathBuf;
use std::time::Instant;

impl App {
    /// Hands a command to the worker; `false` (and a message saying why)
    /// when it was not taken: the worker has stopped, or a job of its kind
    /// is already queued or running.
    pub fn send(&mut self, command: Command) -> bool {
        if let Some(why) = &self.worker_stopped {
            let text = crate::worker::wording::worker_stopped(why);
            self.say(true, text);
            return false;
        }
        match self.worker.send(command) {
            Ok(()) => true,
            Err(busy @ crate::worker::SendError::Busy(_)) => {
                self.say(true, busy.to_string());
                false
            }
            Err(crate::worker::SendError::Gone) => {
                self.worker_stopped = Some("its thread ended".into());
                self.say(true, "Nothing was done: the background worker stopped.");
                false
            }
        }
    }

    /// Replaces the status message.
    pub(super) fn say(&mut self, is_error: bool, text: impl Into<String>) {
        self.message = Some(Message {
            is_error,
            text: text.into(),
        });
    }

    /// Applies one panel action; the only place panel requests change the app.
    pub fn apply_action(&mut self, action: Action) {
        match action {
            Action::Send(command) => {
                self.send(command);
            }
            Action::ShowTab(tab) => self.tab = tab,
            Action::ShowPage(page) => {
                self.selected = None;
                // The previous period of another page must not show beside this one.
                self.previous = None;
                self.send(ShortCommand::Load { page: Some(page) }.into());
                self.stats_requested = false;
            }
            Action::Select(id) => self.selected = id,
            Action::SaveReport(path) => self.save_report(path),
            open @ (Action::OpenPageForm { .. }
            | Action::OpenNewLink(_)
            | Action::OpenNewLinkLike { .. }
            | Action::OpenEditLink(_)
            | Action::OpenBulk(_)
            | Action::ConfirmRemove(_)) => self.open_dialog(open),
            Action::SyncNow => self.sync_now(true),
            Action::JobStarted(job) => self.job = Some((job, 0, 0)),
            Action::CancelJob => self.worker.cancel(),
            Action::Say(m) => self.message = Some(m),
            Action::Dismiss => self.message = None,
            Action::Copy(text) => {
                self.say(false, format!("Copied {text}"));
                self.copy_request = Some(text);
            }
            Action::RefreshStats => self.stats_requested = false,
            Action::SetTheme(theme) => self.theme = Some(theme),
            Action::FocusNew(item) => {
                self.tab = Tab::Links;
                self.links.focus_new(item);
            }
        }
    }

    /// Opens the dialog an action asks for (one at a time: see [`Dialogs`]).
    ///
    /// [`Dialogs`]: crate::ui::dialogs::Dialogs
    fn open_dialog(&mut self, action: Action) {
        match action {
            Action::OpenPageForm { edit } => {
                let page = self.page().filter(|_| edit).cloned();
                self.dialogs.open_page(page.as_ref());
            }
            Action::OpenNewLink(ref_code) => {
                self.tab = Tab::Links;
                if self.snap.page.is_none() {
                    self.dialogs.open_page(None);
                } else {
                    self.dialogs.open_new_link(&self.snap, ref_code);
                }
            }
            Action::OpenNewLinkLike { ref_code, like } => {
                self.tab = Tab::Links;
                match self.row(like).cloned() {
                    Some(row) => self.dialogs.open_new_link_like(&self.snap, ref_code, &row),
                    None => self.dialogs.open_new_link(&self.snap, Some(ref_code)),
                }
            }
            Action::OpenEditLink(id) => {
                if let Some(row) = self.row(id).cloned() {
                    // Renaming a ref that has referrals keeps the old one by default.
                    let referred = self.snap.last_7_days.get(&id).is_some_and(|n| *n > 0)
                        || self.detail.all_time(id).is_some_and(|n| n > 0);
                    self.dialogs.open_edit_link(&row, referred);
                }
            }
            Action::OpenBulk(campaign) => {
                let logo = self.detail.logo_path();
                self.dialogs.open_bulk(campaign, logo.as_deref());
            }
            Action::ConfirmRemove(id) => {
                if let Some(row) = self.row(id) {
                    let ref_code = row.link.ref_code.clone();
                    self.dialogs.confirm_remove(id, ref_code);
                }
            }
            _ => {}
        }
    }

    /// Asks the worker to write the report of the analytics range shown.
    fn save_report(&mut self, path: PathBuf) {
        let Some(query) = self.stats_query() else {
            self.say(true, "Choose a valid range before saving a report.");
            return;
        };
        let title = self.page().map(|p| p.name.clone()).unwrap_or_default();
        self.send(
            ShortCommand::WriteReport(crate::report::ReportRequest { path, query, title }).into(),
        );
    }

    /// Applies a frame's actions in order.
    pub(super) fn apply_all(&mut self, actions: Vec<Action>) {
        for a in actions {
            self.apply_action(a);
        }
    }

    /// Starts a sync with the saved backend, if there is one.
    pub fn sync_now(&mut self, by_user: bool) {
        // An automatic sync waits for a quiet moment; one the user asked for
        // goes to the worker, which queues it behind another kind of job and
        // refuses a second sync with a message of its own.
        if !by_user && self.job.is_some() {
            return;
        }
        if self.snap.backend_url.is_empty() {
            self.tab = Tab::Backend;
            self.say(
                true,
                "Connect your bot backend first: enter its URL and API token.",
            );
            return;
        }
        self.last_sync = Instant::now();
        let sync = LongCommand::Sync(crate::sync::SyncConfig::new(
            &self.snap.backend_url,
            &self.snap.backend_token,
        ));
        if !self.send(sync.into()) {
            return;
        }
        // Replaces the last sync's message, so the two places never disagree.
        if self.job.is_none() {
            self.job = Some((Job::Sync, 0, 0));
            self.say(false, "Syncing…");
        } else {
            self.say(false, crate::worker::wording::sync_queued());
        }
    }
}
