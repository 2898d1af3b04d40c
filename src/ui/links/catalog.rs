//! The "Campaigns & channels" side panel of the Links screen: each campaign
//! and channel with its counts, a click filters the table by it, and an
//! inline editor renames, dates (campaigns) and archives it. Enter submits
//! every field here.

use super::LinksPanel;
use crate::model::{
    Campaign, CampaignId, Channel, ChannelId, ChannelKind, NewCampaign, channel_kind_label,
};
use crate::ui::widgets::{self, display};
use crate::ui::{Action, CatalogItem, Shared};
use crate::worker::ShortCommand;

/// The campaign or channel being edited in the side panel.
#[derive(Debug, Clone)]
pub(super) struct Edit {
    item: CatalogItem,
    id: i64,
    name: String,
    starts: String,
    ends: String,
    notes: String,
    kind: ChannelKind,
    archived: bool,
}

/// Whether Enter was pressed in the field `r` (it loses the focus then).
fn entered(ui: &egui::Ui, r: &egui::Response) -> bool {
    r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
}

/// "3 links · 12 referrals (7 days)" for the links matching `of`.
fn counts(shared: &Shared<'_>, of: impl Fn(&crate::store::LinkRow) -> bool) -> String {
    let rows: Vec<_> = shared.snap.links.iter().filter(|r| of(r)).collect();
    let referrals: u64 = rows
        .iter()
        .filter_map(|r| {
            shared
                .snap
                .last_7_days
                .get(&crate::model::LinkId(r.link.id))
        })
        .sum();
    let links = if rows.len() == 1 { "link" } else { "links" };
    format!(
        "{} {links} · {referrals} referrals in the last 7 days",
        rows.len()
    )
}

/// A channel as the side panel names it: its kind only when the name does
/// not say it already ("Website", not "Website · Website").
pub fn channel_text(c: &Channel) -> String {
    let kind = channel_kind_label(c.kind);
    if c.name.trim().eq_ignore_ascii_case(kind) {
        display(&c.name)
    } else {
        format!("{} · {kind}", display(&c.name))
    }
}

/// A small "Edit" button named "Edit <name>" for screen readers and tests.
fn edit_button(ui: &mut egui::Ui, name: &str) -> bool {
    let r = ui
        .small_button("Edit")
        .on_hover_text("Rename, set dates or archive");
    let label = format!("Edit {name}");
    r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, label.clone()));
    r.clicked()
}

impl LinksPanel {
    pub(super) fn campaigns(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        actions: &mut Vec<Action>,
    ) {
        ui.strong("Campaigns");
        if ui
            .selectable_label(self.campaign.is_none(), "All campaigns")
            .clicked()
        {
            self.campaign = None;
        }
        let show_archived = self.show_archived;
        for c in shared
            .snap
            .campaigns
            .iter()
            .filter(|c| !c.archived || show_archived)
        {
            let id = CampaignId(c.id);
            let mut text = display(&c.name);
            if c.archived {
                text.push_str(" (archived)");
            }
            let hover = counts(shared, |r| r.link.campaign == c.id);
            ui.horizontal(|ui| {
                if ui
                    .selectable_label(self.campaign == Some(id), text)
                    .on_hover_text(hover)
                    .clicked()
                {
                    self.campaign = Some(id);
                }
                if edit_button(ui, &display(&c.name)) {
                    self.editing = Some(Edit::campaign(c));
                }
            });
            if self.is_editing(CatalogItem::Campaign, c.id) {
                self.edit_form(ui, actions);
            }
        }
        let Some(page) = shared.snap.page else { return };
        let l = ui.label("New campaign");
        let r = ui
            .add(egui::TextEdit::singleline(&mut self.new_campaign).desired_width(f32::INFINITY))
            .labelled_by(l.id);
        if self.focus_new == Some(CatalogItem::Campaign) {
            r.request_focus();
            self.focus_new = None;
        }
        let valid = NewCampaign::parse(&self.new_campaign, None, None, None);
        let clicked = ui
            .add_enabled(valid.is_ok(), egui::Button::new("Add campaign"))
            .on_hover_text("Or press Enter in the field")
            .clicked();
        if (clicked || entered(ui, &r))
            && let Ok(new) = valid
        {
            actions.push(Action::Send(ShortCommand::AddCampaign(page, new).into()));
            self.new_campaign.clear();
        }
    }

    pub(super) fn channels(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        actions: &mut Vec<Action>,
    ) {
        ui.strong("Channels");
        if ui
            .selectable_label(self.channel.is_none(), "All channels")
            .clicked()
        {
            self.channel = None;
        }
        let show_archived = self.show_archived;
        for c in shared
            .snap
            .channels
            .iter()
            .filter(|c| !c.archived || show_archived)
        {
            let id = ChannelId(c.id);
            let mut text = channel_text(c);
            if c.archived {
                text.push_str(" (archived)");
            }
            let hover = counts(shared, |r| r.link.channel == c.id);
            ui.horizontal(|ui| {
                if ui
                    .selectable_label(self.channel == Some(id), text)
                    .on_hover_text(hover)
                    .clicked()
                {
                    self.channel = Some(id);
                }
                if edit_button(ui, &display(&c.name)) {
                    self.editing = Some(Edit::channel(c));
                }
            });
            if self.is_editing(CatalogItem::Channel, c.id) {
                self.edit_form(ui, actions);
            }
        }
        let Some(page) = shared.snap.page else { return };
        self.new_channel_fields(ui, page, actions);
    }

    fn new_channel_fields(
        &mut self,
        ui: &mut egui::Ui,
        page: crate::model::PageId,
        actions: &mut Vec<Action>,
    ) {
        let l = ui.label("New channel");
        let r = ui
            .add(egui::TextEdit::singleline(&mut self.new_channel).desired_width(f32::INFINITY))
            .labelled_by(l.id);
        if self.focus_new == Some(CatalogItem::Channel) {
            r.request_focus();
            self.focus_new = None;
        }
        ui.horizontal(|ui| {
            let l = ui.label("Kind");
            kind_combo(ui, "new_channel_kind", &mut self.new_channel_kind).labelled_by(l.id);
        });
        let valid = crate::model::validate_name("name", &self.new_channel);
        let clicked = ui
            .add_enabled(valid.is_ok(), egui::Button::new("Add channel"))
            .on_hover_text("Or press Enter in the field")
            .clicked();
        if (clicked || entered(ui, &r))
            && let Ok(name) = valid
        {
            actions.push(Action::Send(
                ShortCommand::AddChannel(page, name, self.new_channel_kind).into(),
            ));
            self.new_channel.clear();
        }
    }

    fn is_editing(&self, item: CatalogItem, id: i64) -> bool {
        self.editing
            .as_ref()
            .is_some_and(|e| e.item == item && e.id == id)
    }

    /// The inline editor of the campaign or channel in `self.editing`.
    fn edit_form(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        let Some(edit) = &mut self.editing else {
            return;
        };
        let mut close = false;
        ui.indent("catalog_edit", |ui| {
            let mut enter = false;
            let l = ui.label("Rename");
            let r = ui
                .add(egui::TextEdit::singleline(&mut edit.name).desired_width(f32::INFINITY))
                .labelled_by(l.id);
            enter |= entered(ui, &r);
            if edit.item == CatalogItem::Campaign {
                let r = widgets::text_field(ui, "Starts", &mut edit.starts, "YYYY-MM-DD or empty");
                enter |= entered(ui, &r);
                let r = widgets::text_field(ui, "Ends", &mut edit.ends, "YYYY-MM-DD or empty");
                enter |= entered(ui, &r);
            } else {
                ui.horizontal(|ui| {
                    let l = ui.label("Kind of channel");
                    kind_combo(ui, "edit_channel_kind", &mut edit.kind).labelled_by(l.id);
                });
            }
            let command = edit.command();
            if let Err(e) = &command {
                widgets::error_text(ui, e);
            }
            ui.horizontal_wrapped(|ui| {
                let save = ui
                    .add_enabled(command.is_ok(), egui::Button::new("Save changes"))
                    .clicked();
                if (save || enter)
                    && let Ok(c) = &command
                {
                    actions.push(Action::Send(c.clone().into()));
                    close = true;
                }
                let (label, hint) = if edit.archived {
                    ("Restore", "Show it in the pickers again")
                } else {
                    (
                        "Archive",
                        "Hide it from the pickers; its links keep working and counting",
                    )
                };
                if ui.button(label).on_hover_text(hint).clicked() {
                    actions.push(Action::Send(edit.archive(!edit.archived).into()));
                    close = true;
                }
                close |= ui.button("Close").on_hover_text("Esc").clicked();
            });
        });
        if close {
            self.editing = None;
        }
    }
}

fn kind_combo(ui: &mut egui::Ui, salt: &str, kind: &mut ChannelKind) -> egui::Response {
    egui::ComboBox::from_id_salt(salt)
        .selected_text(channel_kind_label(*kind))
        .show_ui(ui, |ui| {
            for k in ChannelKind::ALL {
                ui.selectable_value(kind, k, channel_kind_label(k));
            }
        })
        .response
}

impl Edit {
    fn campaign(c: &Campaign) -> Self {
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        Self {
            item: CatalogItem::Campaign,
            id: c.id,
            name: c.name.clone(),
            starts: date(c.starts_on),
            ends: date(c.ends_on),
            notes: c.notes.clone(),
            kind: ChannelKind::Other,
            archived: c.archived,
        }
    }

    fn channel(c: &Channel) -> Self {
        Self {
            item: CatalogItem::Channel,
            id: c.id,
            name: c.name.clone(),
            starts: String::new(),
            ends: String::new(),
            notes: String::new(),
            kind: c.kind,
            archived: c.archived,
        }
    }

    /// The save command, checked by the model; `Err` says what is wrong.
    fn command(&self) -> Result<ShortCommand, String> {
        match self.item {
            CatalogItem::Campaign => {
                let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
                let (starts, ends) = (opt(&self.starts), opt(&self.ends));
                NewCampaign::parse(
                    &self.name,
                    starts.as_deref(),
                    ends.as_deref(),
                    Some(&self.notes),
                )
                .map(|new| ShortCommand::UpdateCampaign(CampaignId(self.id), new))
                .map_err(|e| e.to_string())
            }
            CatalogItem::Channel => crate::model::validate_name("name", &self.name)
                .map(|n| ShortCommand::UpdateChannel(ChannelId(self.id), n, self.kind))
                .map_err(|e| e.to_string()),
        }
    }

    fn archive(&self, archived: bool) -> ShortCommand {
        match self.item {
            CatalogItem::Campaign => ShortCommand::ArchiveCampaign(CampaignId(self.id), archived),
            CatalogItem::Channel => ShortCommand::ArchiveChannel(ChannelId(self.id), archived),
        }
    }
}
