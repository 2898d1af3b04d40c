//! Dialog windows: add or edit a page, new or edit link, bulk export, and
//! the remove confirmation. Esc closes them.

use super::{App, UiState, widgets};
use crate::export::{BulkOptions, Format};
use crate::model::{NewLink, NewPage, Page, suggest_ref};
use crate::store::LinkRow;
use crate::worker::{Command, Snapshot};

/// Open dialogs.
#[derive(Default)]
pub struct Dialogs {
    /// Add or edit page.
    pub page: Option<PageForm>,
    /// New or edit link.
    pub link: Option<LinkForm>,
    /// Bulk export.
    pub bulk: Option<BulkForm>,
    /// Link id and ref awaiting removal.
    pub confirm_remove: Option<(i64, String)>,
    /// Result of the last bulk export.
    pub bulk_result: Option<Result<String, String>>,
}

impl Dialogs {
    /// Closes every dialog (Esc).
    pub fn close_all(&mut self) {
        self.page = None;
        self.link = None;
        self.bulk = None;
        self.confirm_remove = None;
    }
}

/// The page form.
#[derive(Default, Clone)]
pub struct PageForm {
    /// Page being edited; `None` adds one.
    pub id: Option<i64>,
    /// Username, URL or Page ID.
    pub target: String,
    /// Display name.
    pub name: String,
    /// Numeric Page ID.
    pub page_id: String,
}

impl PageForm {
    /// A form filled from an existing page.
    pub fn edit(p: &Page) -> Self {
        Self {
            id: Some(p.id),
            target: p.target.clone(),
            name: p.name.clone(),
            page_id: p.page_id.clone().unwrap_or_default(),
        }
    }

    fn parse(&self) -> Result<NewPage, crate::model::ValidationError> {
        let name = Some(self.name.as_str()).filter(|n| !n.trim().is_empty());
        let page_id = Some(self.page_id.as_str()).filter(|n| !n.trim().is_empty());
        NewPage::parse(&self.target, name, page_id)
    }
}

/// The link form.
#[derive(Clone)]
pub struct LinkForm {
    /// Link being edited; `None` creates one.
    pub id: Option<i64>,
    /// Campaign id.
    pub campaign: Option<i64>,
    /// Channel id.
    pub channel: Option<i64>,
    /// Ref code.
    pub ref_code: String,
    /// Whether the user typed the ref (else it follows the suggestion).
    pub ref_edited: bool,
    /// CTA.
    pub cta: String,
    /// Prefilled message.
    pub text: String,
}

impl LinkForm {
    /// A new-link form, on the first campaign and channel.
    pub fn new(snap: &Snapshot, ref_code: Option<String>) -> Self {
        Self {
            id: None,
            campaign: snap.campaigns.iter().find(|c| !c.archived).map(|c| c.id),
            channel: snap.channels.iter().find(|c| !c.archived).map(|c| c.id),
            ref_edited: ref_code.is_some(),
            ref_code: ref_code.unwrap_or_default(),
            cta: String::new(),
            text: String::new(),
        }
    }

    /// A form filled from an existing link.
    pub fn edit(row: &LinkRow) -> Self {
        Self {
            id: Some(row.link.id),
            campaign: Some(row.link.campaign),
            channel: Some(row.link.channel),
            ref_code: row.link.ref_code.clone(),
            ref_edited: true,
            cta: row.link.cta.clone(),
            text: row.link.prefill_text.clone().unwrap_or_default(),
        }
    }
}

/// The bulk export form.
#[derive(Clone)]
pub struct BulkForm {
    /// Campaign, or the whole page.
    pub campaign: Option<i64>,
    /// Folder.
    pub dir: String,
    /// PNG wanted.
    pub png: bool,
    /// SVG wanted.
    pub svg: bool,
    /// Print sheet wanted.
    pub sheet: bool,
}

impl BulkForm {
    /// A form for `campaign` (or the page), in the last folder used.
    pub fn new(state: &UiState, campaign: Option<i64>) -> Self {
        Self {
            campaign,
            dir: state.export_dir.clone(),
            png: true,
            svg: false,
            sheet: true,
        }
    }
}

/// Draws the open dialogs.
pub fn show(app: &mut App, ctx: &egui::Context) {
    page_dialog(app, ctx);
    link_dialog(app, ctx);
    bulk_dialog(app, ctx);
    confirm_dialog(app, ctx);
}

fn page_dialog(app: &mut App, ctx: &egui::Context) {
    let Some(mut form) = app.dialogs.page.take() else {
        return;
    };
    let mut open = true;
    let mut save = None;
    let title = if form.id.is_some() {
        "Edit page"
    } else {
        "Add page"
    };
    egui::Window::new(title)
        .open(&mut open)
        .collapsible(false)
        .show(ctx, |ui| {
            widgets::text_field(
                ui,
                "Page username or link",
                &mut form.target,
                "JaspersMarket or https://m.me/JaspersMarket",
            );
            widgets::text_field(ui, "Display name", &mut form.name, "optional");
            widgets::text_field(
                ui,
                "Page ID",
                &mut form.page_id,
                "optional, numeric: matches webhook events",
            );
            let parsed = form.parse();
            match &parsed {
                Ok(p) => {
                    ui.label(format!("Links will open https://m.me/{}", p.target));
                }
                Err(e) if !form.target.trim().is_empty() => widgets::error_text(ui, &e.to_string()),
                Err(_) => {}
            }
            if ui
                .add_enabled(parsed.is_ok(), egui::Button::new("Save page"))
                .clicked()
            {
                save = parsed.ok();
            }
        });
    if let Some(new) = save {
        match form.id {
            Some(id) => app.send(Command::EditPage(id, new)),
            None => app.send(Command::AddPage(new)),
        }
    }
    if open {
        app.dialogs.page = Some(form);
    }
}

/// What is wrong with the link form, field by field.
struct LinkCheck {
    ref_error: Option<String>,
    ref_warnings: Vec<String>,
    other_error: Option<String>,
    new: Option<NewLink>,
}

fn check_link(form: &LinkForm, app: &App) -> LinkCheck {
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
            let others = app
                .snap
                .links
                .iter()
                .filter(|l| Some(l.link.id) != form.id)
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

fn link_dialog(app: &mut App, ctx: &egui::Context) {
    let Some(mut form) = app.dialogs.link.take() else {
        return;
    };
    let Some(page) = app.snap.page else { return };
    let mut open = true;
    let mut save = None;
    let title = if form.id.is_some() {
        "Edit link"
    } else {
        "New link"
    };
    egui::Window::new(title)
        .open(&mut open)
        .collapsible(false)
        .default_width(420.0)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                let l = ui.label("Campaign");
                let name = app
                    .snap
                    .campaigns
                    .iter()
                    .find(|c| Some(c.id) == form.campaign)
                    .map(|c| c.name.clone());
                egui::ComboBox::from_id_salt("link_campaign")
                    .selected_text(name.unwrap_or_else(|| "Choose…".into()))
                    .show_ui(ui, |ui| {
                        for c in app.snap.campaigns.iter().filter(|c| !c.archived) {
                            ui.selectable_value(&mut form.campaign, Some(c.id), &c.name);
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            ui.horizontal(|ui| {
                let l = ui.label("Channel");
                let name = app
                    .snap
                    .channels
                    .iter()
                    .find(|c| Some(c.id) == form.channel)
                    .map(|c| c.name.clone());
                egui::ComboBox::from_id_salt("link_channel")
                    .selected_text(name.unwrap_or_else(|| "Choose…".into()))
                    .show_ui(ui, |ui| {
                        for c in app.snap.channels.iter().filter(|c| !c.archived) {
                            ui.selectable_value(&mut form.channel, Some(c.id), &c.name);
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            if !form.ref_edited {
                let campaign = app
                    .snap
                    .campaigns
                    .iter()
                    .find(|c| Some(c.id) == form.campaign);
                let channel = app
                    .snap
                    .channels
                    .iter()
                    .find(|c| Some(c.id) == form.channel);
                if let (Some(cm), Some(ch)) = (campaign, channel) {
                    form.ref_code = suggest_ref(
                        &cm.name,
                        &ch.name,
                        app.snap.links.iter().map(|l| l.link.ref_code.as_str()),
                    );
                }
            }
            let before = form.ref_code.clone();
            widgets::text_field(ui, "Ref code", &mut form.ref_code, "letters, digits, _ - =");
            if form.ref_code != before {
                form.ref_edited = true;
            }
            let check = check_link(&form, app);
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
            if let Some(p) = app.snap.pages.iter().find(|p| p.id == page)
                && check.new.is_some()
            {
                let url = crate::model::link_url(
                    &p.link_target(),
                    &form.ref_code,
                    Some(form.text.as_str()).filter(|t| !t.is_empty()),
                );
                ui.label(egui::RichText::new(url).monospace().small());
            }
            if ui
                .add_enabled(check.new.is_some(), egui::Button::new("Save link"))
                .clicked()
            {
                save = check.new;
            }
        });
    if let (Some(new), Some(cm), Some(ch)) = (save, form.campaign, form.channel) {
        match form.id {
            Some(id) => app.send(Command::UpdateLink(id, cm, ch, new)),
            None => app.send(Command::AddLink(page, cm, ch, new)),
        }
    }
    if open {
        app.dialogs.link = Some(form);
    }
}

fn bulk_dialog(app: &mut App, ctx: &egui::Context) {
    let Some(mut form) = app.dialogs.bulk.take() else {
        return;
    };
    let Some(page) = app.snap.page else { return };
    let mut open = true;
    let mut start = false;
    egui::Window::new("Bulk export")
        .open(&mut open)
        .collapsible(false)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                let l = ui.label("Links of");
                let name = app
                    .snap
                    .campaigns
                    .iter()
                    .find(|c| Some(c.id) == form.campaign)
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| "the whole page".into());
                egui::ComboBox::from_id_salt("bulk_campaign")
                    .selected_text(name)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut form.campaign, None, "the whole page");
                        for c in &app.snap.campaigns {
                            ui.selectable_value(&mut form.campaign, Some(c.id), &c.name);
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            ui.horizontal(|ui| {
                widgets::text_field(ui, "Folder", &mut form.dir, "/path/to/folder");
                if ui.button("Browse…").clicked()
                    && let Some(dir) = rfd::FileDialog::new().pick_folder()
                {
                    form.dir = dir.display().to_string();
                }
            });
            ui.horizontal(|ui| {
                ui.checkbox(&mut form.png, "PNG");
                ui.checkbox(&mut form.svg, "SVG");
                ui.checkbox(&mut form.sheet, "Print sheet");
            });
            let running = matches!(app.job, Some((crate::worker::Job::Export, _, _)));
            if let Some((crate::worker::Job::Export, done, total)) = app.job {
                ui.add(
                    egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                        .text(format!("{done}/{total}")),
                );
                if ui.button("Cancel export").clicked() {
                    app.cancel_job();
                }
            }
            if let Some(result) = &app.dialogs.bulk_result {
                match result {
                    Ok(t) => ui.label(t),
                    Err(e) => ui.label(egui::RichText::new(e).color(ui.visuals().error_fg_color)),
                };
            }
            let ready =
                !form.dir.trim().is_empty() && (form.png || form.svg || form.sheet) && !running;
            if ui.add_enabled(ready, egui::Button::new("Export")).clicked() {
                start = true;
            }
        });
    if start {
        let mut formats = Vec::new();
        if form.png {
            formats.push(Format::Png);
        }
        if form.svg {
            formats.push(Format::Svg);
        }
        app.state.export_dir = form.dir.trim().to_string();
        app.dialogs.bulk_result = None;
        app.job = Some((crate::worker::Job::Export, 0, 0));
        app.send(Command::BulkExport {
            dir: form.dir.trim().into(),
            page,
            campaign: form.campaign,
            options: BulkOptions {
                formats,
                style: app.state.qr_style.clone(),
                sheet: form.sheet,
                ..BulkOptions::default()
            },
        });
    }
    if open {
        app.dialogs.bulk = Some(form);
    } else {
        app.dialogs.bulk_result = None;
    }
}

fn confirm_dialog(app: &mut App, ctx: &egui::Context) {
    let Some((id, ref_code)) = app.dialogs.confirm_remove.clone() else {
        return;
    };
    let mut open = true;
    let mut decided = None;
    egui::Window::new("Remove link?").open(&mut open).collapsible(false).show(ctx, |ui| {
        ui.label(format!(
            "Remove the link {ref_code}? Printed codes keep working in Messenger, but their referrals will show as untracked. Archiving keeps the link instead."
        ));
        ui.horizontal(|ui| {
            if ui.button("Remove link").clicked() {
                decided = Some(true);
            }
            if ui.button("Keep it").clicked() {
                decided = Some(false);
            }
        });
    });
    match decided {
        Some(true) => {
            app.send(Command::RemoveLink(id));
            app.links.selected = None;
            app.dialogs.confirm_remove = None;
        }
        Some(false) => app.dialogs.confirm_remove = None,
        None if !open => app.dialogs.confirm_remove = None,
        None => {}
    }
}
