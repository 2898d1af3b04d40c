//! The bulk export window: which links, the folder, the file formats, the
//! print sheet and its options, a preview of the sheet's first page laid out
//! and scanned by the worker, progress, and the export's result.

use super::buttons;
use crate::export::{BulkOptions, Format};
use crate::model::{CampaignId, PageId};
use crate::print::{
    LabelPreset, MAX_COPIES, MAX_GRID_COLUMNS, MAX_OFFSET_MM, Paper, PrintLayout, PrintOptions,
};
use crate::ui::widgets::{self, display};
use crate::ui::{Action, Shared};
use crate::worker::{Job, LongCommand, SheetPreview, ShortCommand};

/// The bulk export window's own state: the form, the last export's result
/// and the last sheet preview with the form it was made from.
pub struct BulkDialog {
    pub(super) form: BulkForm,
    result: Option<Result<String, String>>,
    preview: Option<(BulkForm, Result<Box<SheetPreview>, String>)>,
}

/// What the bulk window did this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BulkOutcome {
    /// Still open, nothing started.
    Open,
    /// An export was started; the window stays open to show its progress.
    Started,
    /// Closed (Cancel, Esc, or no page shown).
    Close,
}

impl BulkDialog {
    /// A fresh form on `dir` with the remembered print options and logo.
    pub(super) fn new(
        dir: &str,
        campaign: Option<CampaignId>,
        print: &PrintOptions,
        logo: Option<&std::path::Path>,
    ) -> Self {
        let mut form = BulkForm::new(dir, campaign);
        form.print = print.clone();
        form.logo = logo.map(|p| p.display().to_string()).unwrap_or_default();
        Self {
            form,
            result: None,
            preview: None,
        }
    }

    /// A bulk export ended.
    pub(super) fn done(&mut self, result: Result<String, String>) {
        self.result = Some(result);
    }

    /// The worker laid out (or could not lay out) the sheet's first page of `form`.
    pub(super) fn previewed(&mut self, form: BulkForm, result: Result<Box<SheetPreview>, String>) {
        self.preview = Some((form, result));
    }
}

/// Draws the bulk export window. `preview_asked` is the form a preview was
/// asked for until the worker answers (it outlives the window).
pub(super) fn show(
    ctx: &egui::Context,
    shared: &Shared<'_>,
    d: &mut BulkDialog,
    preview_asked: &mut Option<BulkForm>,
    actions: &mut Vec<Action>,
) -> BulkOutcome {
    let Some(page) = shared.snap.page else {
        return BulkOutcome::Close;
    };
    let running = matches!(shared.job, Some((Job::Export, _, _)));
    let mut start = false;
    let modal = egui::Modal::new(egui::Id::unique("bulk_dialog")).show(ctx, |ui| {
        ui.set_max_width(480.0);
        ui.heading("Bulk export");
        campaign_picker(ui, shared, &mut d.form);
        files_form(ui, &mut d.form);
        print_options(ui, &mut d.form);
        if d.form.sheet == SheetKind::Pdf {
            let can = !running && preview_asked.is_none();
            preview_section(ui, shared, d, page, can, preview_asked, actions);
        }
        progress(ui, shared, actions);
        if let Some(result) = &d.result {
            match result {
                Ok(t) => {
                    ui.label(egui::RichText::new(format!("Done: {t}")).color(widgets::OK_GREEN))
                }
                Err(e) => ui.label(egui::RichText::new(e).color(ui.visuals().error_fg_color)),
            };
        }
        if !running && matches!(d.result, Some(Ok(_))) {
            let (again, close) = done_buttons(ui, d.form.dir.trim());
            start = again;
            return close;
        }
        let form = &d.form;
        let ready = !form.dir.trim().is_empty()
            && (form.png || form.svg || form.sheet != SheetKind::None)
            && !running;
        let (ok, cancel) = buttons(ui, "Export", ready);
        start = ok;
        cancel && !running
    });
    if start {
        d.result = None;
        let form = &d.form;
        actions.push(Action::JobStarted(Job::Export));
        actions.push(Action::Send(
            LongCommand::BulkExport {
                dir: form.dir.trim().into(),
                page,
                campaign: form.campaign,
                options: form.options(shared.qr_style),
                logo: form.logo_path(),
            }
            .into(),
        ));
        BulkOutcome::Started
    } else if modal.inner || (modal.should_close() && !running) {
        BulkOutcome::Close
    } else {
        BulkOutcome::Open
    }
}

/// "Links of": a campaign of the page, or the whole page.
fn campaign_picker(ui: &mut egui::Ui, shared: &Shared<'_>, form: &mut BulkForm) {
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
}

/// The folder and the file formats.
fn files_form(ui: &mut egui::Ui, form: &mut BulkForm) {
    ui.horizontal_wrapped(|ui| {
        let first = widgets::text_field(ui, "Folder", &mut form.dir, "/path/to/folder");
        if !std::mem::replace(&mut form.focused, true) {
            first.request_focus();
        }
        if ui.button("Browse…").clicked()
            && let Some(dir) = rfd::FileDialog::new().pick_folder()
        {
            form.dir = dir.display().to_string();
        }
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut form.png, "PNG");
        ui.checkbox(&mut form.svg, "SVG");
        ui.checkbox(&mut form.caption, "Captions under the codes")
            .on_hover_text("The call to action and the link under each PNG and SVG code");
    });
}

/// "Preview first page", the spinner while the worker lays it out, and the
/// last preview (with a note when the options changed since).
fn preview_section(
    ui: &mut egui::Ui,
    shared: &Shared<'_>,
    d: &BulkDialog,
    page: PageId,
    can: bool,
    preview_asked: &mut Option<BulkForm>,
    actions: &mut Vec<Action>,
) {
    let form = &d.form;
    if ui
        .add_enabled(can, egui::Button::new("Preview first page"))
        .clicked()
    {
        *preview_asked = Some(form.clone());
        actions.push(Action::Send(
            ShortCommand::PreviewSheet {
                page,
                campaign: form.campaign,
                options: form.options(shared.qr_style),
                logo: form.logo_path(),
            }
            .into(),
        ));
    }
    if preview_asked.is_some() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Laying out page 1…");
        });
    }
    if let Some((made_from, result)) = &d.preview {
        if made_from != form {
            ui.label(
                egui::RichText::new("The options changed: preview again to see them.")
                    .small()
                    .weak(),
            );
        }
        match result {
            Ok(p) => draw_preview(ui, p, preview_height(ui.ctx())),
            Err(e) => widgets::error_text(ui, &format!("No preview: {e}")),
        }
    }
}

/// After a successful export: "Open folder" (the desktop opens it, through
/// eframe), "Export again" and "Close". Returns (export again, close).
fn done_buttons(ui: &mut egui::Ui, dir: &str) -> (bool, bool) {
    ui.separator();
    ui.horizontal(|ui| {
        let icon = egui_material_icons::icons::ICON_FOLDER_OPEN;
        let open = widgets::icon_button(ui, true, icon, "Open folder", true)
            .on_hover_text(dir.to_string());
        if open.clicked() {
            ui.ctx()
                .open_url(egui::OpenUrl::same_tab(format!("file://{dir}")));
        }
        let again = ui
            .button("Export again")
            .on_hover_text("Write the files again with the options above")
            .clicked();
        let close = ui.button("Close").on_hover_text("Esc").clicked()
            || ui.input(|i| i.key_pressed(egui::Key::Enter));
        (again, close)
    })
    .inner
}

/// The running export's progress bar and its Cancel button.
fn progress(ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
    if let Some((Job::Export, done, total)) = shared.job {
        ui.add(
            egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                .text(format!("{done}/{total}")),
        );
        if ui.button("Cancel export").clicked() {
            actions.push(Action::CancelJob);
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
            SheetKind::None => "No sheet",
            SheetKind::Svg => "SVG sheet of codes (A4)",
            SheetKind::Pdf => "PDF",
        }
    }
}

/// The bulk export form.
#[derive(Clone, PartialEq)]
pub struct BulkForm {
    campaign: Option<CampaignId>,
    pub(super) dir: String,
    png: bool,
    svg: bool,
    caption: bool,
    sheet: SheetKind,
    pub(super) print: PrintOptions,
    /// Logo file for every code (the worker reads it).
    logo: String,
    /// Whether the first field was given the focus (once, when it opened).
    focused: bool,
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
            focused: false,
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
        choose(ui, "Layout", &mut p.layout, &PrintLayout::ALL, |l| {
            l.label().to_string()
        });
        match p.layout {
            PrintLayout::Labels => {
                choose(ui, "Label sheet", &mut p.label, &LabelPreset::ALL, |l| {
                    l.label()
                })
            }
            _ => choose(
                ui,
                "Paper",
                &mut p.paper,
                &[Paper::A4, Paper::Letter],
                |p| p.label().to_string(),
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
        if p.layout != PrintLayout::Flyer {
            copies(ui, p);
        }
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut p.title, "Title line")
                .on_hover_text("The page and campaign names across the top of each sheet");
            ui.checkbox(&mut p.cut_marks, "Cut marks")
                .on_hover_text("Thin marks in the margins that show where to cut");
            ui.checkbox(&mut p.show_ref, "Ref in the footer").on_hover_text(
                "The ref code is internal and hidden by default; links that would print alike show it anyway",
            );
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

/// "Copies per link", with what a label sheet holds, so three links can
/// fill a sheet of 21.
fn copies(ui: &mut egui::Ui, p: &mut PrintOptions) {
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Copies per link");
        ui.add(egui::DragValue::new(&mut p.copies).range(1..=MAX_COPIES))
            .labelled_by(l.id)
            .on_hover_text("Each link's code printed this many times, side by side");
        if p.layout == PrintLayout::Labels {
            let spec = p.label.spec();
            ui.label(
                egui::RichText::new(format!("{} labels a sheet", spec.columns * spec.rows)).weak(),
            );
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
