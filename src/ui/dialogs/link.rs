//! The new-link and edit-link form: campaign and channel pickers, a ref
//! that follows the suggestion until typed, and every check the model makes
//! (rename, uniqueness, warnings) shown under its field.

use super::buttons;
use crate::model::{CampaignId, ChannelId, LinkId, NewLink, PageId, suggest_ref};
use crate::store::LinkRow;
use crate::ui::widgets::{self, display};
use crate::ui::{Action, Shared};
use crate::worker::{ShortCommand, Snapshot};

/// Draws the link form; returns whether it stays open. A saved form stays
/// open until the worker says the link was saved; without a page it closes.
pub(super) fn show(
    ctx: &egui::Context,
    shared: &Shared<'_>,
    form: &mut LinkForm,
    actions: &mut Vec<Action>,
) -> bool {
    let snap = shared.snap;
    let Some(page) = snap.page else {
        return false;
    };
    let mut save = None;
    let title = if form.id.is_some() {
        "Edit link"
    } else {
        "New link"
    };
    let modal = egui::Modal::new(egui::Id::unique("link_dialog")).show(ctx, |ui| {
        ui.set_max_width(520.0);
        ui.heading(title);
        form.pickers(ui, snap);
        form.follow_suggestion(snap);
        let before = form.ref_code.clone();
        widgets::text_field(ui, "Ref code", &mut form.ref_code, "letters, digits, _ - =");
        if form.ref_code != before {
            form.ref_edited = true;
        }
        let check = check_link(form, snap);
        if let Some(e) = &check.ref_error {
            widgets::error_text(ui, e);
        }
        for w in &check.ref_warnings {
            widgets::warning_text(ui, w);
        }
        widgets::text_field(
            ui,
            "Call to action",
            &mut form.cta,
            "Get free coupon in Messenger",
        );
        widgets::text_field(ui, "Prefilled message", &mut form.text, "optional");
        if let Some(e) = &check.other_error {
            widgets::error_text(ui, e);
        }
        if let Some(p) = snap.pages.iter().find(|p| PageId(p.id) == page)
            && check.new.is_some()
        {
            let url = crate::model::link_url(
                &p.link_target(),
                &form.ref_code,
                Some(form.text.as_str()).filter(|t| !t.is_empty()),
            );
            ui.add(egui::Label::new(egui::RichText::new(url).monospace().small()).wrap());
        }
        let (ok, cancel) = buttons(ui, "Save link", check.new.is_some());
        if ok {
            save = check.new;
        }
        cancel
    });
    if let (Some(new), Some(cm), Some(ch)) = (save, form.campaign, form.channel) {
        actions.push(Action::Send(match form.id {
            Some(id) => ShortCommand::UpdateLink(id, cm, ch, new).into(),
            None => ShortCommand::AddLink(page, cm, ch, new).into(),
        }));
        true
    } else {
        !(modal.inner || modal.should_close())
    }
}

/// The link form.
#[derive(Clone)]
pub struct LinkForm {
    id: Option<LinkId>,
    /// The ref when the form opened, to warn about renames.
    original_ref: Option<String>,
    campaign: Option<CampaignId>,
    channel: Option<ChannelId>,
    ref_code: String,
    /// Whether the user typed the ref (else it follows the suggestion).
    ref_edited: bool,
    cta: String,
    text: String,
}

impl LinkForm {
    /// An empty form with the first open campaign and channel, and `ref_code` when given.
    pub(super) fn new(snap: &Snapshot, ref_code: Option<String>) -> Self {
        Self {
            id: None,
            original_ref: None,
            campaign: snap
                .campaigns
                .iter()
                .find(|c| !c.archived)
                .map(|c| CampaignId(c.id)),
            channel: snap
                .channels
                .iter()
                .find(|c| !c.archived)
                .map(|c| ChannelId(c.id)),
            ref_edited: ref_code.is_some(),
            ref_code: ref_code.unwrap_or_default(),
            cta: String::new(),
            text: String::new(),
        }
    }

    /// The new-link form for an untracked ref, with the campaign and
    /// channel of `like` (its closest link) pre-selected.
    pub(super) fn like(snap: &Snapshot, ref_code: String, like: &LinkRow) -> Self {
        let mut form = Self::new(snap, Some(ref_code));
        form.campaign = Some(CampaignId(like.link.campaign));
        form.channel = Some(ChannelId(like.link.channel));
        form
    }

    /// The form filled from `row`, to edit it.
    pub(super) fn edit(row: &LinkRow) -> Self {
        Self {
            id: Some(LinkId(row.link.id)),
            original_ref: Some(row.link.ref_code.clone()),
            campaign: Some(CampaignId(row.link.campaign)),
            channel: Some(ChannelId(row.link.channel)),
            ref_code: row.link.ref_code.clone(),
            ref_edited: true,
            cta: row.link.cta.clone(),
            text: row.link.prefill_text.clone().unwrap_or_default(),
        }
    }

    /// The campaign and channel pickers (open ones only).
    fn pickers(&mut self, ui: &mut egui::Ui, snap: &Snapshot) {
        ui.horizontal(|ui| {
            let l = ui.label("Campaign");
            let name = snap
                .campaigns
                .iter()
                .find(|c| Some(CampaignId(c.id)) == self.campaign)
                .map(|c| display(&c.name));
            egui::ComboBox::from_id_salt("link_campaign")
                .selected_text(name.unwrap_or_else(|| "Choose…".into()))
                .show_ui(ui, |ui| {
                    for c in snap.campaigns.iter().filter(|c| !c.archived) {
                        ui.selectable_value(
                            &mut self.campaign,
                            Some(CampaignId(c.id)),
                            display(&c.name),
                        );
                    }
                })
                .response
                .labelled_by(l.id);
        });
        ui.horizontal(|ui| {
            let l = ui.label("Channel");
            let name = snap
                .channels
                .iter()
                .find(|c| Some(ChannelId(c.id)) == self.channel)
                .map(|c| display(&c.name));
            egui::ComboBox::from_id_salt("link_channel")
                .selected_text(name.unwrap_or_else(|| "Choose…".into()))
                .show_ui(ui, |ui| {
                    for c in snap.channels.iter().filter(|c| !c.archived) {
                        ui.selectable_value(
                            &mut self.channel,
                            Some(ChannelId(c.id)),
                            display(&c.name),
                        );
                    }
                })
                .response
                .labelled_by(l.id);
        });
    }

    /// Until the user types a ref, it follows the campaign and channel.
    fn follow_suggestion(&mut self, snap: &Snapshot) {
        if self.ref_edited {
            return;
        }
        let campaign = snap
            .campaigns
            .iter()
            .find(|c| Some(CampaignId(c.id)) == self.campaign);
        let channel = snap
            .channels
            .iter()
            .find(|c| Some(ChannelId(c.id)) == self.channel);
        if let (Some(cm), Some(ch)) = (campaign, channel) {
            self.ref_code = suggest_ref(
                &cm.name,
                &ch.name,
                snap.links.iter().map(|l| l.link.ref_code.as_str()),
            );
        }
    }
}

/// What is wrong with the link form, field by field.
struct LinkCheck {
    ref_error: Option<String>,
    ref_warnings: Vec<String>,
    other_error: Option<String>,
    new: Option<NewLink>,
}

/// Checks the form as the model would, field by field.
fn check_link(form: &LinkForm, snap: &Snapshot) -> LinkCheck {
    let text = Some(form.text.as_str()).filter(|t| !t.is_empty());
    let mut check = LinkCheck {
        ref_error: None,
        ref_warnings: Vec::new(),
        other_error: None,
        new: None,
    };
    match NewLink::parse(&form.ref_code, Some(&form.cta), text, None) {
        Ok((new, warnings)) => {
            check.ref_warnings = warnings.iter().map(|w| w.message.clone()).collect();
            if let Some(w) = form
                .original_ref
                .as_deref()
                .and_then(|old| crate::model::rename_warning(old, &new.ref_code))
            {
                check.ref_warnings.push(w.message);
            }
            let others = snap
                .links
                .iter()
                .filter(|l| Some(LinkId(l.link.id)) != form.id)
                .map(|l| l.link.ref_code.as_str());
            match new.check_unique(others) {
                Ok(w) => {
                    check.ref_warnings.extend(w.map(|w| w.message));
                    check.new = Some(new);
                }
                Err(e) => check.ref_error = Some(e.to_string()),
            }
        }
        Err(e) if e.field == "ref" => check.ref_error = Some(e.to_string()),
        Err(e) => check.other_error = Some(e.to_string()),
    }
    if form.campaign.is_none() || form.channel.is_none() {
        check.other_error =
            Some("Choose a campaign and a channel (add them in the side panel).".into());
        check.new = None;
    }
    check
}
