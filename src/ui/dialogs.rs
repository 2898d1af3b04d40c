//! Dialogs: add or edit a page, new or edit link, bulk export, and the
//! remove confirmation. Each is modal and centred over a dimmed window;
//! Enter submits, Esc cancels.

use super::widgets::{self, display};
use super::{Action, Shared, UiState};
use crate::export::{BulkOptions, Format};
use crate::model::{CampaignId, ChannelId, LinkId, NewLink, NewPage, Page, PageId, suggest_ref};
use crate::print::{
    LabelPreset, MAX_GRID_COLUMNS, MAX_OFFSET_MM, Paper, PrintLayout, PrintOptions,
};
use crate::store::LinkRow;
use crate::worker::SheetPreview;
use crate::worker::{Command, Job, Snapshot};

/// The open dialogs and what they hold.
pub struct Dialogs {
    page: Option<PageForm>,
    link: Option<LinkForm>,
    bulk: Option<BulkForm>,
    remove: Option<(LinkId, String)>,
    bulk_result: Option<Result<String, String>>,
    bulk_dir: String,
    /// Print options of the last bulk export, for the next one.
    bulk_print: PrintOptions,
    /// The last sheet preview, with the form it was made from.
    preview: Option<(BulkForm, Result<Box<SheetPreview>, String>)>,
    /// The form a preview was asked for, until the worker answers.
    preview_asked: Option<BulkForm>,
}

impl Dialogs {
    /// No dialog open; the bulk form starts in the remembered folder.
    pub fn new(state: &UiState) -> Self {
        Self {
            page: None,
            link: None,
            bulk: None,
            remove: None,
            bulk_result: None,
            bulk_dir: state.export_dir.clone(),
            bulk_print: state.print.clone(),
            preview: None,
            preview_asked: None,
        }
    }

    /// The worker laid out (or could not lay out) the sheet's first page.
    pub fn sheet_preview(&mut self, result: Result<Box<SheetPreview>, String>) {
        if let Some(form) = self.preview_asked.take() {
            self.preview = Some((form, result));
        }
    }

    /// Writes the choices to remember.
    pub fn save(&self, state: &mut UiState) {
        state.export_dir = self.bulk_dir.clone();
        state.print = self.bulk_print.clone();
    }

    /// Opens the page form: empty, or filled from `page` to edit it.
    pub fn open_page(&mut self, page: Option<&Page>) {
        self.page = Some(page.map(PageForm::edit).unwrap_or_default());
    }

    /// Opens the new-link form, with a ref when given.
    pub fn open_new_link(&mut self, snap: &Snapshot, ref_code: Option<String>) {
        self.link = Some(LinkForm::new(snap, ref_code));
    }

    /// Opens the new-link form for an untracked ref, with the campaign and
    /// channel of `like` (its closest link) pre-selected.
    pub fn open_new_link_like(&mut self, snap: &Snapshot, ref_code: String, like: &LinkRow) {
        let mut form = LinkForm::new(snap, Some(ref_code));
        form.campaign = Some(CampaignId(like.link.campaign));
        form.channel = Some(ChannelId(like.link.channel));
        self.link = Some(form);
    }

    /// Opens the edit form of a link.
    pub fn open_edit_link(&mut self, row: &LinkRow) {
        self.link = Some(LinkForm::edit(row));
    }

    /// Opens the bulk export form.
    pub fn open_bulk(&mut self, campaign: Option<CampaignId>, logo: Option<&std::path::Path>) {
        let mut form = BulkForm::new(&self.bulk_dir, campaign);
        form.print = self.bulk_print.clone();
        form.logo = logo.map(|p| p.display().to_string()).unwrap_or_default();
        self.bulk = Some(form);
        self.bulk_result = None;
        self.preview = None;
    }

    /// Asks before removing a link.
    pub fn confirm_remove(&mut self, id: LinkId, ref_code: String) {
        self.remove = Some((id, ref_code));
    }

    /// The page was saved: close its form.
    pub fn page_saved(&mut self) {
        self.page = None;
    }

    /// The link was saved: close its form.
    pub fn link_saved(&mut self) {
        self.link = None;
    }

    /// A bulk export ended.
    pub fn bulk_done(&mut self, result: Result<String, String>) {
        self.bulk_result = Some(result);
    }

    /// Draws the open dialog and returns what the user asked for.
    #[must_use]
    pub fn ui(&mut self, ctx: &egui::Context, shared: &Shared<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        self.page_dialog(ctx, &mut actions);
        self.link_dialog(ctx, shared, &mut actions);
        self.bulk_dialog(ctx, shared, &mut actions);
        self.remove_dialog(ctx, &mut actions);
        actions
    }

    fn page_dialog(&mut self, ctx: &egui::Context, actions: &mut Vec<Action>) {
        let Some(form) = &mut self.page else { return };
        let mut save = None;
        let title = if form.id.is_some() {
            "Edit page"
        } else {
            "Add page"
        };
        let modal = egui::Modal::new(egui::Id::unique("page_dialog")).show(ctx, |ui| {
            ui.set_max_width(480.0);
            ui.heading(title);
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
                Some(id) => Command::EditPage(id, new),
                None => Command::AddPage(new),
            }));
        } else if modal.inner || modal.should_close() {
            self.page = None;
        }
    }

    fn link_dialog(&mut self, ctx: &egui::Context, shared: &Shared<'_>, actions: &mut Vec<Action>) {
        let Some(form) = &mut self.link else { return };
        let snap = shared.snap;
        let Some(page) = snap.page else {
            self.link = None;
            return;
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
                Some(id) => Command::UpdateLink(id, cm, ch, new),
                None => Command::AddLink(page, cm, ch, new),
            }));
        } else if modal.inner || modal.should_close() {
            self.link = None;
        }
    }

    fn bulk_dialog(&mut self, ctx: &egui::Context, shared: &Shared<'_>, actions: &mut Vec<Action>) {
        let Some(form) = &mut self.bulk else { return };
        let Some(page) = shared.snap.page else {
            self.bulk = None;
            return;
        };
        let running = matches!(shared.job, Some((Job::Export, _, _)));
        let mut start = false;
        let modal = egui::Modal::new(egui::Id::unique("bulk_dialog")).show(ctx, |ui| {
            ui.set_max_width(480.0);
            ui.heading("Bulk export");
            ui.horizontal(|ui| {
                let l = ui.label("Links of");
                let name = shared
                    .snap
                    .campaigns
                    .iter()
                    .find(|c| Some(CampaignId(c.id)) == form.campaign)
                    .map(|c| display(&c.name))
                    .unwrap_or_else(|| "the whole page".into());
                egui::ComboBox::from_id_salt("bulk_campaign")
                    .selected_text(name)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut form.campaign, None, "the whole page");
                        for c in &shared.snap.campaigns {
                            ui.selectable_value(
                                &mut form.campaign,
                                Some(CampaignId(c.id)),
                                display(&c.name),
                            );
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            ui.horizontal_wrapped(|ui| {
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
                ui.checkbox(&mut form.caption, "Captions under the codes");
            });
            print_options(ui, form);
            if form.sheet == SheetKind::Pdf {
                let can = !running && self.preview_asked.is_none();
                if ui
                    .add_enabled(can, egui::Button::new("Preview first page"))
                    .clicked()
                {
                    self.preview_asked = Some(form.clone());
                    actions.push(Action::Send(Command::PreviewSheet {
                        page,
                        campaign: form.campaign,
                        options: form.options(shared.qr_style),
                        logo: form.logo_path(),
                    }));
                }
                if self.preview_asked.is_some() {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Laying out page 1…");
                    });
                }
                if let Some((made_from, result)) = &self.preview {
                    if made_from != form {
                        ui.label(
                            egui::RichText::new("The options changed: preview again to see them.")
                                .small()
                                .weak(),
                        );
                    }
                    match result {
                        Ok(p) => draw_preview(ui, p, preview_height(ctx)),
                        Err(e) => widgets::error_text(ui, &format!("No preview: {e}")),
                    }
                }
            }
            if let Some((Job::Export, done, total)) = shared.job {
                ui.add(
                    egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                        .text(format!("{done}/{total}")),
                );
                if ui.button("Cancel export").clicked() {
                    actions.push(Action::CancelJob);
                }
            }
            if let Some(result) = &self.bulk_result {
                match result {
                    Ok(t) => ui.label(t),
                    Err(e) => ui.label(egui::RichText::new(e).color(ui.visuals().error_fg_color)),
                };
            }
            let ready = !form.dir.trim().is_empty()
                && (form.png || form.svg || form.sheet != SheetKind::None)
                && !running;
            let (ok, cancel) = buttons(ui, "Export", ready);
            start = ok;
            cancel && !running
        });
        if start {
            self.bulk_dir = form.dir.trim().to_string();
            self.bulk_print = form.print.clone();
            self.bulk_result = None;
            actions.push(Action::JobStarted(Job::Export));
            actions.push(Action::Send(Command::BulkExport {
                dir: form.dir.trim().into(),
                page,
                campaign: form.campaign,
                options: form.options(shared.qr_style),
                logo: form.logo_path(),
            }));
        } else if modal.inner || (modal.should_close() && !running) {
            self.bulk = None;
            self.bulk_result = None;
        }
    }

    fn remove_dialog(&mut self, ctx: &egui::Context, actions: &mut Vec<Action>) {
        let Some((id, ref_code)) = &self.remove else {
            return;
        };
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
            actions.push(Action::Send(Command::RemoveLink(*id)));
            actions.push(Action::Select(None));
            self.remove = None;
        } else if modal.inner || modal.should_close() {
            self.remove = None;
        }
    }
}

/// The submit and Cancel buttons of a dialog. Enter submits when `enabled`.
/// Returns (submit, cancel).
fn buttons(ui: &mut egui::Ui, submit: &str, enabled: bool) -> (bool, bool) {
    ui.separator();
    let mut ok = false;
    let mut cancel = false;
    ui.horizontal(|ui| {
        ok = ui.add_enabled(enabled, egui::Button::new(submit)).clicked();
        cancel = ui.button("Cancel").on_hover_text("Esc").clicked();
    });
    let enter = ui.input(|i| i.key_pressed(egui::Key::Enter) && !i.modifiers.shift);
    (ok || (enabled && enter), cancel)
}

/// The page form.
#[derive(Default, Clone)]
struct PageForm {
    id: Option<PageId>,
    target: String,
    name: String,
    page_id: String,
    /// Instagram account id: Instagram events carry it instead of the Page ID.
    ig_id: String,
}

impl PageForm {
    fn edit(p: &Page) -> Self {
        Self {
            id: Some(PageId(p.id)),
            target: p.target.clone(),
            name: p.name.clone(),
            page_id: p.page_id.clone().unwrap_or_default(),
            ig_id: p.ig_id.clone().unwrap_or_default(),
        }
    }

    fn parse(&self) -> Result<NewPage, crate::model::ValidationError> {
        let name = Some(self.name.as_str()).filter(|n| !n.trim().is_empty());
        let page_id = Some(self.page_id.as_str()).filter(|n| !n.trim().is_empty());
        let ig_id = Some(self.ig_id.as_str()).filter(|n| !n.trim().is_empty());
        NewPage::parse(&self.target, name, page_id)?.with_ig_id(ig_id)
    }
}

/// The link form.
#[derive(Clone)]
struct LinkForm {
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
    fn new(snap: &Snapshot, ref_code: Option<String>) -> Self {
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

    fn edit(row: &LinkRow) -> Self {
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

/// Which print sheet a bulk export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SheetKind {
    /// None.
    None,
    /// `sheet.svg`: an A4 grid.
    Svg,
    /// `sheet.pdf` in the chosen layout.
    Pdf,
}

impl SheetKind {
    fn label(self) -> &'static str {
        match self {
            SheetKind::None => "none",
            SheetKind::Svg => "SVG grid",
            SheetKind::Pdf => "PDF",
        }
    }
}

/// The bulk export form.
#[derive(Clone, PartialEq)]
struct BulkForm {
    campaign: Option<CampaignId>,
    dir: String,
    png: bool,
    svg: bool,
    caption: bool,
    sheet: SheetKind,
    print: PrintOptions,
    /// Logo file for every code (the worker reads it).
    logo: String,
}

impl BulkForm {
    fn new(dir: &str, campaign: Option<CampaignId>) -> Self {
        Self {
            campaign,
            dir: dir.to_string(),
            png: true,
            svg: false,
            caption: true,
            sheet: SheetKind::Pdf,
            print: PrintOptions::default(),
            logo: String::new(),
        }
    }

    fn logo_path(&self) -> Option<std::path::PathBuf> {
        Some(self.logo.trim())
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
    }

    /// The export's options, in the style of the detail panel.
    fn options(&self, style: &crate::codes::QrStyle) -> BulkOptions {
        let mut formats = Vec::new();
        if self.png {
            formats.push(Format::Png);
        }
        if self.svg {
            formats.push(Format::Svg);
        }
        let mut print = self.print.clone();
        if print.layout == PrintLayout::Labels {
            // A label sheet is printed on its own paper.
            print.paper = print.label.spec().paper;
        } else {
            // The offset fields show with labels only; the form keeps their
            // values for when labels are chosen again.
            (print.offset_x_mm, print.offset_y_mm) = (0.0, 0.0);
        }
        BulkOptions {
            formats,
            style: crate::codes::QrStyle {
                caption: self.caption,
                ..style.clone()
            },
            sheet: self.sheet == SheetKind::Svg,
            pdf: (self.sheet == SheetKind::Pdf).then_some(print),
            ..BulkOptions::default()
        }
    }
}

/// A labelled combo box choosing one of `choices`.
fn choose<T: PartialEq + Copy>(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut T,
    choices: &[T],
    name: impl Fn(T) -> String,
) {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        egui::ComboBox::from_id_salt(label)
            .selected_text(name(*value))
            .show_ui(ui, |ui| {
                for c in choices {
                    ui.selectable_value(value, *c, name(*c));
                }
            })
            .response
            .labelled_by(l.id);
    });
}

/// The print sheet's options: kind, layout, paper, label sheet, columns,
/// captions' footer, title, cut marks and the logo.
fn print_options(ui: &mut egui::Ui, form: &mut BulkForm) {
    choose(
        ui,
        "Print sheet",
        &mut form.sheet,
        &[SheetKind::None, SheetKind::Svg, SheetKind::Pdf],
        |k| k.label().to_string(),
    );
    if form.sheet == SheetKind::Pdf {
        let p = &mut form.print;
        choose(
            ui,
            "Layout",
            &mut p.layout,
            &[PrintLayout::Grid, PrintLayout::Labels, PrintLayout::Flyer],
            |l| format!("{l:?}").to_lowercase(),
        );
        match p.layout {
            PrintLayout::Labels => {
                choose(ui, "Label sheet", &mut p.label, &LabelPreset::ALL, |l| {
                    let spec = l.spec();
                    format!(
                        "{} ({} × {}, {})",
                        l.name(),
                        spec.columns,
                        spec.rows,
                        spec.paper.name()
                    )
                })
            }
            _ => choose(
                ui,
                "Paper",
                &mut p.paper,
                &[Paper::A4, Paper::Letter],
                |p| p.name().to_string(),
            ),
        }
        if p.layout == PrintLayout::Labels {
            printer_offset(ui, p);
        }
        if p.layout == PrintLayout::Grid {
            ui.horizontal(|ui| {
                let l = ui.label("Codes per row");
                ui.add(egui::DragValue::new(&mut p.columns).range(1..=MAX_GRID_COLUMNS))
                    .labelled_by(l.id);
            });
        }
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut p.title, "Title line");
            ui.checkbox(&mut p.cut_marks, "Cut marks");
            ui.checkbox(&mut p.show_ref, "Ref in the footer");
        });
    }
    ui.horizontal_wrapped(|ui| {
        widgets::text_field(
            ui,
            "Logo for all codes",
            &mut form.logo,
            "optional: logo.png or .svg",
        );
        if ui.button("Browse for a logo…").clicked()
            && let Some(p) = rfd::FileDialog::new()
                .add_filter("Logo", &["png", "svg"])
                .pick_file()
        {
            form.logo = p.display().to_string();
        }
    });
}

/// The printer offset of a label sheet, in millimetres either way, for a
/// printer that does not print where the sheet expects it.
fn printer_offset(ui: &mut egui::Ui, p: &mut PrintOptions) {
    let range = -MAX_OFFSET_MM..=MAX_OFFSET_MM;
    ui.horizontal_wrapped(|ui| {
        for (label, value) in [
            ("Printer offset right (mm)", &mut p.offset_x_mm),
            ("Printer offset down (mm)", &mut p.offset_y_mm),
        ] {
            let l = ui.label(label);
            ui.add(
                egui::DragValue::new(value)
                    .range(range.clone())
                    .speed(0.1)
                    .fixed_decimals(2),
            )
            .labelled_by(l.id);
        }
    })
    .response
    .on_hover_text(
        "Print a sheet on plain paper with cut marks and hold it against the labels. \
         If it lands 1.5 mm right of them, set right to -1.5.",
    );
}

/// Widest the sheet preview is drawn, in points.
const PREVIEW_WIDTH_PX: f32 = 260.0;
/// Height of the bulk export window without its preview (form, verdict,
/// buttons and margins), in points, measured at 640×480.
const BULK_FORM_PX: f32 = 380.0;

/// How tall the preview may be so that the whole bulk export window, its
/// Export and Cancel buttons included, fits the app's window (at 640×480
/// the page shrinks to a thumbnail; the verdict under it says the rest).
fn preview_height(ctx: &egui::Context) -> f32 {
    (ctx.content_rect().height() - BULK_FORM_PX).max(60.0)
}

/// Draws the first page of a sheet: the paper, every code's modules, the
/// logos' places and the text, with the proof's verdict under it.
fn draw_preview(ui: &mut egui::Ui, p: &SheetPreview, max_height: f32) {
    ui.label(format!("Preview of page 1 ({} link(s) in all)", p.links));
    let (paper_w, paper_h) = (p.paper_pt.0.max(1.0) as f32, p.paper_pt.1.max(1.0) as f32);
    let width = PREVIEW_WIDTH_PX.min(max_height * paper_w / paper_h);
    let scale = width / paper_w;
    let size = egui::vec2(width, p.paper_pt.1 as f32 * scale);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, egui::Color32::WHITE);
    let at = |x: f64, y: f64| rect.min + egui::vec2(x as f32 * scale, y as f32 * scale);
    for code in &p.codes {
        for r in &code.rects {
            let box_ = egui::Rect::from_min_max(at(r[0], r[1]), at(r[0] + r[2], r[1] + r[3]));
            painter.rect_filled(box_, 0.0, egui::Color32::BLACK);
        }
        if let Some((r, _)) = &code.logo {
            let box_ = egui::Rect::from_min_max(at(r[0], r[1]), at(r[0] + r[2], r[1] + r[3]));
            painter.rect_filled(box_, 0.0, egui::Color32::from_rgb(0x9a, 0xb0, 0xd8));
        }
    }
    for t in &p.texts {
        let px = (t.size_pt as f32 * scale).max(1.0);
        for (i, line) in t.lines.iter().enumerate() {
            let y = t.bbox[1] + i as f64 * t.size_pt * 1.2;
            painter.text(
                at(t.bbox[0], y),
                egui::Align2::LEFT_TOP,
                line,
                egui::FontId::proportional(px),
                egui::Color32::from_gray(0x20),
            );
        }
    }
    match &p.verified {
        Ok(()) => {
            ui.label(
                egui::RichText::new("Scan verified: every code on page 1 decodes to its link")
                    .color(egui::Color32::from_rgb(0x1e, 0x8e, 0x3e)),
            );
        }
        Err(e) => widgets::error_text(ui, &format!("Scan failed: {e}")),
    }
}

/// What is wrong with the link form, field by field.
struct LinkCheck {
    ref_error: Option<String>,
    ref_warnings: Vec<String>,
    other_error: Option<String>,
    new: Option<NewLink>,
}

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
