//! The new-link and edit-link form: campaign and channel pickers, a ref
//! that follows the suggestion until typed, and every check the model makes
//! (rename, uniqueness, warnings) shown under its field.

use super::buttons;
use crate::model::{CampaignId, ChannelId, ChannelKind, LinkId, NewLink, PageId, suggest_ref};
use crate::store::LinkRow;
use crate::ui::widgets::{self, display};
use crate::ui::{Action, Shared};
use crate::worker::{ShortCommand, Snapshot};

/// Draws the link form; returns whether it stays open. A saved form stays
/// open until the worker says the link was saved; without a page it closes.
/// Long on purpose: the form's rows in their on-screen order, top to bottom.
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
        form.adopt_new(snap);
        let inline_enter = form.pickers(ui, snap, page, actions);
        form.follow_suggestion(snap);
        let before = (form.ref_code.clone(), form.cta.clone(), form.text.clone());
        widgets::text_field(ui, "Ref code", &mut form.ref_code, "letters, digits, _ - =");
        if form.ref_code != before.0 {
            form.ref_edited = true;
        }
        let check = check_link(form, snap);
        // Nothing is called wrong before the first edit or a submit.
        let show = form.touched || form.submitted;
        if let Some(e) = check.ref_error.as_ref().filter(|_| show) {
            widgets::error_text(ui, e);
        }
        for w in &check.ref_warnings {
            widgets::warning_text(ui, w);
        }
        let renamed = form.renamed();
        if renamed.is_some() {
            ui.checkbox(&mut form.keep_alias, "Keep the old ref as an alias")
                .on_hover_text(
                    "Codes already printed with the old ref keep counting for this link",
                );
        }
        widgets::text_field(
            ui,
            "Call to action",
            &mut form.cta,
            "Get free coupon in Messenger",
        );
        widgets::text_field(ui, "Prefilled message", &mut form.text, "optional");
        if (&form.ref_code, &form.cta, &form.text) != (&before.0, &before.1, &before.2) {
            form.touched = true;
        }
        if let Some(e) = check.other_error.as_ref().filter(|_| show) {
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
        // Untouched, Save stays pressable: pressing it says what is missing.
        let valid = check.new.is_some();
        let enabled = (valid || !show) && !inline_enter;
        let (ok, cancel) = buttons(ui, "Save link", enabled);
        if ok && valid {
            save = check.new;
        } else if ok {
            form.submitted = true;
        }
        cancel
    });
    if let (Some(new), Some(cm), Some(ch)) = (save, form.campaign, form.channel) {
        let alias = form.renamed().filter(|_| form.keep_alias);
        actions.push(Action::Send(match form.id {
            Some(id) => ShortCommand::UpdateLink(id, cm, ch, new).into(),
            None => ShortCommand::AddLink(page, cm, ch, new).into(),
        }));
        // After the rename (the lane runs them in order): the old ref counts on.
        if let (Some(id), Some(old)) = (form.id, alias) {
            actions.push(Action::Send(ShortCommand::AddAlias(id, old).into()));
        }
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
    /// Whether a field was edited (validation shows from then on).
    touched: bool,
    /// Whether Save was pressed on an invalid form (validation shows).
    submitted: bool,
    /// The inline "new campaign" and "new channel" fields.
    new: NewGroups,
    /// On a rename: keep the old ref counting for this link (an alias).
    keep_alias: bool,
    /// Whether the first field was given the focus (once, when it opened).
    focused: bool,
}

/// The link form's own "New campaign…" and "New channel…" fields, and the
/// names sent to the worker, chosen in the pickers once they are saved.
#[derive(Clone)]
struct NewGroups {
    campaign: Option<String>,
    channel: Option<String>,
    kind: ChannelKind,
    focus: bool,
    pending_campaign: Option<String>,
    pending_channel: Option<String>,
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
            touched: false,
            submitted: false,
            new: NewGroups::new(),
            keep_alias: false,
            focused: false,
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

    /// The form filled from `row`, to edit it; a rename keeps the old ref
    /// as an alias by default when the link has referrals (`referred`).
    pub(super) fn edit(row: &LinkRow, referred: bool) -> Self {
        Self {
            id: Some(LinkId(row.link.id)),
            original_ref: Some(row.link.ref_code.clone()),
            campaign: Some(CampaignId(row.link.campaign)),
            channel: Some(ChannelId(row.link.channel)),
            ref_code: row.link.ref_code.clone(),
            ref_edited: true,
            cta: row.link.cta.clone(),
            text: row.link.prefill_text.clone().unwrap_or_default(),
            touched: false,
            submitted: false,
            new: NewGroups::new(),
            keep_alias: referred,
            focused: false,
        }
    }

    /// The old ref when the form renames the link.
    fn renamed(&self) -> Option<String> {
        self.original_ref
            .clone()
            .filter(|old| old.trim() != self.ref_code.trim())
    }

    /// Chooses a campaign or channel made in this form once the worker saved it.
    fn adopt_new(&mut self, snap: &Snapshot) {
        let same = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
        if let Some(name) = &self.new.pending_campaign
            && let Some(c) = snap.campaigns.iter().find(|c| same(&c.name, name))
        {
            self.campaign = Some(CampaignId(c.id));
            self.new.pending_campaign = None;
        }
        if let Some(name) = &self.new.pending_channel
            && let Some(c) = snap.channels.iter().find(|c| same(&c.name, name))
        {
            self.channel = Some(ChannelId(c.id));
            self.new.pending_channel = None;
        }
    }

    /// The campaign and channel pickers (open ones only), each with its
    /// "New …" field. Returns whether Enter was pressed in one of those
    /// (it adds the campaign or channel, and must not save the link).
    fn pickers(
        &mut self,
        ui: &mut egui::Ui,
        snap: &Snapshot,
        page: PageId,
        actions: &mut Vec<Action>,
    ) -> bool {
        let before = (self.campaign, self.channel);
        let campaigns: Vec<_> = snap
            .campaigns
            .iter()
            .filter(|c| !c.archived)
            .map(|c| (CampaignId(c.id), display(&c.name)))
            .collect();
        let channels: Vec<_> = snap
            .channels
            .iter()
            .filter(|c| !c.archived)
            .map(|c| (ChannelId(c.id), display(&c.name)))
            .collect();
        let focus_first = !std::mem::replace(&mut self.focused, true);
        let open = picker(ui, "Campaign", &mut self.campaign, &campaigns, focus_first);
        toggle(&mut self.new.campaign, &mut self.new.focus, open);
        let mut enter = false;
        if let Some(name) = &mut self.new.campaign
            && let Some(name) = new_field(ui, "Campaign", name, &mut self.new.focus, &mut enter)
        {
            let new = crate::model::NewCampaign::parse(&name, None, None, None);
            if let Ok(new) = new {
                actions.push(Action::Send(ShortCommand::AddCampaign(page, new).into()));
                self.new.pending_campaign = Some(name);
                self.new.campaign = None;
            }
        }
        let open = picker(ui, "Channel", &mut self.channel, &channels, false);
        toggle(&mut self.new.channel, &mut self.new.focus, open);
        if let Some(name) = &mut self.new.channel {
            let kind = &mut self.new.kind;
            let added = new_field(ui, "Channel", name, &mut self.new.focus, &mut enter);
            ui.horizontal(|ui| {
                let l = ui.label("Channel kind");
                egui::ComboBox::from_id_salt("link_new_channel_kind")
                    .selected_text(crate::model::channel_kind_label(*kind))
                    .show_ui(ui, |ui| {
                        for k in ChannelKind::ALL {
                            ui.selectable_value(kind, k, crate::model::channel_kind_label(k));
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            if let Some(name) = added
                && let Ok(valid) = crate::model::validate_name("name", &name)
            {
                let command = ShortCommand::AddChannel(page, valid, self.new.kind);
                actions.push(Action::Send(command.into()));
                self.new.pending_channel = Some(name);
                self.new.channel = None;
            }
        }
        if (self.campaign, self.channel) != before {
            self.touched = true;
        }
        enter
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
        check.other_error = Some(
            "Choose a campaign and a channel, or make one with New campaign… or New channel…"
                .into(),
        );
        check.new = None;
    }
    check
}

impl NewGroups {
    fn new() -> Self {
        Self {
            campaign: None,
            channel: None,
            kind: ChannelKind::Other,
            focus: false,
            pending_campaign: None,
            pending_channel: None,
        }
    }
}

/// One picker row: the label, a combo of `options` and a "New <label>…"
/// button; returns whether that button was clicked.
fn picker<T: Copy + PartialEq>(
    ui: &mut egui::Ui,
    label: &str,
    chosen: &mut Option<T>,
    options: &[(T, String)],
    focus: bool,
) -> bool {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let name = options
            .iter()
            .find(|(id, _)| Some(*id) == *chosen)
            .map(|(_, n)| n.clone());
        let empty = if options.is_empty() {
            "None yet"
        } else {
            "Choose…"
        };
        let combo = egui::ComboBox::from_id_salt(("link_picker", label))
            .selected_text(name.unwrap_or_else(|| empty.into()))
            .show_ui(ui, |ui| {
                for (id, name) in options {
                    ui.selectable_value(chosen, Some(*id), name);
                }
            })
            .response
            .labelled_by(l.id);
        if focus {
            combo.request_focus();
        }
        let what = label.to_lowercase();
        ui.button(format!("New {what}…"))
            .on_hover_text(format!("Add a {what} without leaving this form"))
            .clicked()
    })
    .inner
}

/// Opens (focused) or closes an inline "new" field when its button was clicked.
fn toggle(field: &mut Option<String>, focus: &mut bool, clicked: bool) {
    if clicked {
        *field = match field {
            Some(_) => None,
            None => Some(String::new()),
        };
        *focus = field.is_some();
    }
}

/// The inline "<what> name" field and its "Create <what>" button; returns
/// the name to add when the button was clicked or Enter pressed (then
/// `enter` is set, so the form is not saved by the same key).
fn new_field(
    ui: &mut egui::Ui,
    what: &str,
    name: &mut String,
    focus: &mut bool,
    enter: &mut bool,
) -> Option<String> {
    let lower = what.to_lowercase();
    ui.horizontal(|ui| {
        let l = ui.label(format!("{what} name"));
        let r = ui
            .add(egui::TextEdit::singleline(name).desired_width(180.0))
            .labelled_by(l.id);
        if std::mem::take(focus) {
            r.request_focus();
        }
        let pressed = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        *enter |= pressed;
        let valid = crate::model::validate_name("name", name).is_ok();
        let clicked = ui
            .add_enabled(valid, egui::Button::new(format!("Create {lower}")))
            .clicked();
        ((clicked || pressed) && valid).then(|| name.trim().to_string())
    })
    .inner
}
