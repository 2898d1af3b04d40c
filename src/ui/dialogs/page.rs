//! The add-page and edit-page form.

use super::buttons;
use crate::model::{NewPage, Page, PageId};
use crate::ui::Action;
use crate::ui::widgets;
use crate::worker::ShortCommand;

/// Draws the page form; returns whether it stays open. A saved form stays
/// open until the worker says the page was saved.
pub(super) fn show(ctx: &egui::Context, form: &mut PageForm, actions: &mut Vec<Action>) -> bool {
    let mut save = None;
    let title = if form.id.is_some() {
        "Edit page"
    } else {
        "Add page"
    };
    let modal = egui::Modal::new(egui::Id::unique("page_dialog")).show(ctx, |ui| {
        ui.set_max_width(480.0);
        ui.heading(title);
        let first = widgets::text_field(
            ui,
            "Page username or link",
            &mut form.target,
            "JaspersMarket or https://m.me/JaspersMarket",
        );
        if !std::mem::replace(&mut form.focused, true) {
            first.request_focus();
        }
        widgets::text_field(ui, "Display name", &mut form.name, "optional");
        widgets::text_field(
            ui,
            "Page ID",
            &mut form.page_id,
            "optional, numeric: matches webhook events",
        );
        widgets::text_field(
            ui,
            "Instagram account ID",
            &mut form.ig_id,
            "optional, numeric: matches Instagram events",
        );
        let parsed = form.parse();
        match &parsed {
            Ok(p) => {
                ui.label(format!("Links will open https://m.me/{}", p.target));
            }
            Err(e) if !form.target.trim().is_empty() => widgets::error_text(ui, &e.to_string()),
            Err(_) => {}
        }
        let (ok, cancel) = buttons(ui, "Save page", parsed.is_ok());
        if ok {
            save = parsed.ok();
        }
        cancel
    });
    if let Some(new) = save {
        actions.push(Action::Send(match form.id {
            Some(id) => ShortCommand::EditPage(id, new).into(),
            None => ShortCommand::AddPage(new).into(),
        }));
        true
    } else {
        !(modal.inner || modal.should_close())
    }
}

/// The page form.
#[derive(Default, Clone)]
pub struct PageForm {
    id: Option<PageId>,
    target: String,
    name: String,
    page_id: String,
    /// Instagram account id: Instagram events carry it instead of the Page ID.
    ig_id: String,
    /// Whether the first field was given the focus (once, when it opened).
    focused: bool,
}

impl PageForm {
    /// The form filled from `p`, to edit it.
    pub(super) fn edit(p: &Page) -> Self {
        Self {
            id: Some(PageId(p.id)),
            target: p.target.clone(),
            name: p.name.clone(),
            page_id: p.page_id.clone().unwrap_or_default(),
            ig_id: p.ig_id.clone().unwrap_or_default(),
            focused: false,
        }
    }

    /// The page as typed, checked by the model.
    fn parse(&self) -> Result<NewPage, crate::model::ValidationError> {
        let name = Some(self.name.as_str()).filter(|n| !n.trim().is_empty());
        let page_id = Some(self.page_id.as_str()).filter(|n| !n.trim().is_empty());
        let ig_id = Some(self.ig_id.as_str()).filter(|n| !n.trim().is_empty());
        NewPage::parse(&self.target, name, page_id)?.with_ig_id(ig_id)
    }
}
