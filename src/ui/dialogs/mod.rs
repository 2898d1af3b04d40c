//! The modal dialogs: add or edit a page, new or edit link, bulk export,
//! the remove confirmation and the "replace the existing file?" question.
//! Each is centred over a dimmed window; Enter submits, Esc cancels.
//!
//! One [`Modal`] is open at a time: a request to open another while one is
//! open (Ctrl+N over a form, a late "file exists" answer) leaves the open
//! one and what the user typed in it alone.

mod bulk;
mod link;
mod page;

use crate::model::{CampaignId, LinkId, Page};
use crate::print::PrintOptions;
use crate::store::LinkRow;
use crate::ui::link_detail::PendingExport;
use crate::ui::widgets::display;
use crate::ui::{Action, Message, Shared, UiState};
use crate::worker::{SheetPreview, ShortCommand, Snapshot};
use bulk::{BulkDialog, BulkForm, BulkOutcome};
use link::LinkForm;
use page::PageForm;

/// The modal dialog on screen, with what it holds.
pub enum Modal {
    /// Add a page, or edit one.
    Page(PageForm),
    /// A new link, or edit one.
    Link(LinkForm),
    /// Bulk export.
    Bulk(Box<BulkDialog>),
    /// Ask before removing a link.
    Remove {
        /// The link.
        id: LinkId,
        /// Its ref, named in the question.
        ref_code: String,
    },
    /// A single-code export found its file: replace it?
    Overwrite(PendingExport),
}

/// The open modal, and what the bulk export remembers between openings.
pub struct Dialogs {
    modal: Option<Modal>,
    /// Folder of the last bulk export, for the next one.
    bulk_dir: String,
    /// Print options of the last bulk export, for the next one.
    bulk_print: PrintOptions,
    /// The bulk form a sheet preview was asked for, until the worker answers
    /// (kept when the window closes, so an answer is never taken for a newer ask).
    preview_asked: Option<BulkForm>,
}

impl Dialogs {
    /// No dialog open; the bulk form starts in the remembered folder.
    pub fn new(state: &UiState) -> Self {
        Self {
            modal: None,
            bulk_dir: state.export_dir.clone(),
            bulk_print: state.print.clone(),
            preview_asked: None,
        }
    }

    /// Writes the choices to remember.
    pub fn save(&self, state: &mut UiState) {
        state.export_dir = self.bulk_dir.clone();
        state.print = self.bulk_print.clone();
    }

    /// Whether a modal dialog is open.
    pub fn is_open(&self) -> bool {
        self.modal.is_some()
    }

    /// Opens `modal` unless one is open already; returns whether it opened.
    fn open(&mut self, modal: Modal) -> bool {
        if self.modal.is_some() {
            return false;
        }
        self.modal = Some(modal);
        true
    }

    /// Opens the page form: empty, or filled from `page` to edit it.
    pub fn open_page(&mut self, page: Option<&Page>) {
        self.open(Modal::Page(page.map(PageForm::edit).unwrap_or_default()));
    }

    /// Opens the new-link form, with a ref when given.
    pub fn open_new_link(&mut self, snap: &Snapshot, ref_code: Option<String>) {
        self.open(Modal::Link(LinkForm::new(snap, ref_code)));
    }

    /// Opens the new-link form for an untracked ref, with the campaign and
    /// channel of `like` (its closest link) pre-selected.
    pub fn open_new_link_like(&mut self, snap: &Snapshot, ref_code: String, like: &LinkRow) {
        self.open(Modal::Link(LinkForm::like(snap, ref_code, like)));
    }

    /// Opens the edit form of a link; `referred`: it has referrals, so a
    /// rename keeps the old ref as an alias unless the user says not to.
    pub fn open_edit_link(&mut self, row: &LinkRow, referred: bool) {
        self.open(Modal::Link(LinkForm::edit(row, referred)));
    }

    /// Opens the bulk export form in the last folder, with the last print options.
    pub fn open_bulk(&mut self, campaign: Option<CampaignId>, logo: Option<&std::path::Path>) {
        let dialog = BulkDialog::new(&self.bulk_dir, campaign, &self.bulk_print, logo);
        self.open(Modal::Bulk(Box::new(dialog)));
    }

    /// Asks before removing a link.
    pub fn confirm_remove(&mut self, id: LinkId, ref_code: String) {
        self.open(Modal::Remove { id, ref_code });
    }

    /// Asks before replacing the file of `pending`; returns whether the
    /// question is shown (not when another dialog is open).
    pub fn confirm_overwrite(&mut self, pending: PendingExport) -> bool {
        self.open(Modal::Overwrite(pending))
    }

    /// The page was saved: close its form.
    pub fn page_saved(&mut self) {
        if matches!(self.modal, Some(Modal::Page(_))) {
            self.modal = None;
        }
    }

    /// The link was saved: close its form.
    pub fn link_saved(&mut self) {
        if matches!(self.modal, Some(Modal::Link(_))) {
            self.modal = None;
        }
    }

    /// A bulk export ended: its window shows the result.
    pub fn bulk_done(&mut self, result: Result<String, String>) {
        if let Some(Modal::Bulk(d)) = &mut self.modal {
            d.done(result);
        }
    }

    /// The worker laid out (or could not lay out) the sheet's first page.
    pub fn sheet_preview(&mut self, result: Result<Box<SheetPreview>, String>) {
        if let Some(form) = self.preview_asked.take()
            && let Some(Modal::Bulk(d)) = &mut self.modal
        {
            d.previewed(form, result);
        }
    }

    /// Draws the open dialog and returns what the user asked for.
    #[must_use]
    pub fn ui(&mut self, ctx: &egui::Context, shared: &Shared<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(modal) = &mut self.modal else {
            return actions;
        };
        let open = match modal {
            Modal::Page(form) => page::show(ctx, form, &mut actions),
            Modal::Link(form) => link::show(ctx, shared, form, &mut actions),
            Modal::Bulk(d) => {
                match bulk::show(ctx, shared, d, &mut self.preview_asked, &mut actions) {
                    BulkOutcome::Open => true,
                    BulkOutcome::Started => {
                        self.bulk_dir = d.form.dir.trim().to_string();
                        self.bulk_print = d.form.print.clone();
                        true
                    }
                    BulkOutcome::Close => false,
                }
            }
            Modal::Remove { id, ref_code } => remove(ctx, *id, ref_code, &mut actions),
            Modal::Overwrite(pending) => overwrite(ctx, pending, &mut actions),
        };
        if !open {
            self.modal = None;
        }
        actions
    }
}

/// "Remove link?"; returns whether it stays open.
fn remove(ctx: &egui::Context, id: LinkId, ref_code: &str, actions: &mut Vec<Action>) -> bool {
    let mut remove = false;
    let modal = egui::Modal::new(egui::Id::unique("remove_dialog")).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading("Remove link?");
        ui.label(format!(
            "Remove the link {}? Printed codes keep working in Messenger, but their referrals will show as untracked. Archiving keeps the link instead.",
            display(ref_code)
        ));
        let (ok, cancel) = buttons(ui, "Remove link", true);
        remove = ok;
        cancel
    });
    if remove {
        actions.push(Action::Send(ShortCommand::RemoveLink(id).into()));
        actions.push(Action::Select(None));
        false
    } else {
        !(modal.inner || modal.should_close())
    }
}

/// "Replace the existing file?" after a single-code export found its file;
/// returns whether it stays open.
fn overwrite(ctx: &egui::Context, pending: &PendingExport, actions: &mut Vec<Action>) -> bool {
    let mut decided = None;
    let modal = egui::Modal::new(egui::Id::unique("confirm_overwrite")).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading("Replace the existing file?");
        ui.label(format!(
            "{} already exists. Replace it with the QR code of {}?",
            display(&pending.path.display().to_string()),
            display(&pending.ref_code)
        ));
        ui.horizontal(|ui| {
            if ui.button("Replace file").clicked() {
                decided = Some(true);
            }
            if ui.button("Keep existing file").clicked() {
                decided = Some(false);
            }
        });
        if ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            decided = Some(true);
        }
    });
    if decided.is_none() && modal.should_close() {
        decided = Some(false);
    }
    match decided {
        Some(true) => {
            actions.push(Action::Send(pending.command(true)));
            false
        }
        Some(false) => {
            actions.push(Action::Say(kept(pending)));
            false
        }
        None => true,
    }
}

/// "Kept <file>": the existing file was left as it was.
pub fn kept(pending: &PendingExport) -> Message {
    Message {
        is_error: false,
        text: format!("Kept {}", pending.path.display()),
    }
}

/// The submit and Cancel buttons of a dialog. Enter submits when `enabled`.
/// Returns (submit, cancel).
fn buttons(ui: &mut egui::Ui, submit: &str, enabled: bool) -> (bool, bool) {
    ui.separator();
    let mut ok = false;
    let mut cancel = false;
    ui.horizontal(|ui| {
        // The dialog's one primary button.
        let button = crate::ui::widgets::primary_button(ui, submit);
        ok = ui.add_enabled(enabled, button).clicked();
        cancel = ui.button("Cancel").on_hover_text("Esc").clicked();
    });
    let enter = ui.input(|i| i.key_pressed(egui::Key::Enter) && !i.modifiers.shift);
    (ok || (enabled && enter), cancel)
}
