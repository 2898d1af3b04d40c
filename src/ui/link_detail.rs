//! Link detail: live QR preview, the URL with copy and open, the CTA, and
//! export to PNG, SVG or a PDF flyer, with an optional logo. Each link's
//! file is named after its ref, in the last folder used; an existing file is
//! replaced only after a confirmation that names it. After an export the
//! panel shows "Scan verified" or why the file was not written.

mod format;

use super::widgets::{self, display};
use super::{Action, Shared, UiState};
use crate::codes::{Color, Ecc, MAX_SIZE_PX, MIN_SIZE_PX, QrMatrix, QrStyle, warnings_for};
use crate::model::LinkId;
use crate::store::LinkRow;
use crate::worker::{Command, ShortCommand};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A QR texture with the inputs it was rendered from.
struct Preview {
    url: String,
    fg: [u8; 3],
    bg: [u8; 3],
    ecc: Ecc,
    quiet_zone: u32,
    with_logo: bool,
    texture: egui::TextureHandle,
}

/// A single-code export sent to the worker, kept until it answers, so that
/// "the file exists" can be confirmed and sent again.
#[derive(Debug, Clone)]
pub struct PendingExport {
    /// The file to write.
    pub path: PathBuf,
    /// The link's ref, named in the question.
    pub ref_code: String,
    /// What the file shows: URL, call to action, page name (flyers).
    item: crate::model::ExportItem,
    style: QrStyle,
    logo: Option<PathBuf>,
    /// Paper of a PDF flyer.
    paper: crate::print::Paper,
}

/// The detail panel's own state: preview cache, colour fields, export style,
/// folder and per-link paths, and the export waiting for the worker.
pub struct DetailPanel {
    texture: Option<Preview>,
    fg_text: Option<String>,
    bg_text: Option<String>,
    style: QrStyle,
    /// Folder of the last export; a link's default file goes here.
    folder: String,
    /// Paths typed for a link, by link.
    typed: HashMap<LinkId, String>,
    pending: Option<PendingExport>,
    /// The link whose glance was last asked for, and the answer when it came.
    glance_asked: Option<LinkId>,
    glance: Option<(LinkId, crate::stats::LinkGlance)>,
    /// Logo file typed or picked (the worker reads it).
    logo: String,
    /// The last single-code export: its file, and whether it scanned.
    written: Option<(PathBuf, Result<(), String>)>,
    /// Paper of PDF flyers.
    paper: crate::print::Paper,
}

impl DetailPanel {
    /// The panel with the remembered style and folder.
    pub fn new(state: &UiState) -> Self {
        let folder = if state.export_folder.trim().is_empty() {
            // $HOME, read once here; the panel reads nothing while drawing.
            directories::BaseDirs::new()
                .map(|d| d.home_dir().display().to_string())
                .unwrap_or_default()
        } else {
            state.export_folder.clone()
        };
        Self {
            texture: None,
            fg_text: None,
            bg_text: None,
            style: state.qr_style.clone(),
            folder,
            typed: HashMap::new(),
            pending: None,
            glance_asked: None,
            glance: None,
            logo: state.logo_path.clone(),
            written: None,
            paper: state.print.paper,
        }
    }

    /// The worker's answer to a glance query.
    pub fn set_glance(&mut self, id: LinkId, glance: crate::stats::LinkGlance) {
        self.glance = Some((id, glance));
    }

    /// Referrals ever of link `id`, when its glance has arrived.
    pub fn all_time(&self, id: LinkId) -> Option<u64> {
        self.glance
            .as_ref()
            .filter(|(g, _)| *g == id)
            .map(|(_, g)| g.all_time)
    }

    /// Data changed: ask for the glance again (the old one stays shown meanwhile).
    pub fn refresh_glance(&mut self) {
        self.glance_asked = None;
    }

    /// Writes the choices to remember.
    pub fn save(&self, state: &mut UiState) {
        state.qr_style = self.style.clone();
        state.export_folder = self.folder.clone();
        state.logo_path = self.logo.clone();
    }

    /// The logo file chosen for exports, if any (the bulk export offers it too).
    pub fn logo_path(&self) -> Option<PathBuf> {
        Some(self.logo.trim())
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    }

    /// A single-code export ended: remember whether its code scanned.
    pub fn written(&mut self, path: PathBuf, result: Result<(), String>) {
        if self.pending.as_ref().is_some_and(|p| p.path == path) {
            self.pending = None;
        }
        self.written = Some((path, result));
    }

    /// The export style (the bulk export uses it too).
    pub fn style(&self) -> &QrStyle {
        &self.style
    }

    /// The worker found a file at `path`: the export waiting for it, to ask
    /// before replacing the file.
    pub fn take_pending(&mut self, path: &Path) -> Option<PendingExport> {
        self.pending.take().filter(|p| p.path == path)
    }

    /// The default export path of a link: its ref as the file name, in the last folder used.
    pub fn default_path(&self, ref_code: &str) -> String {
        let file = format!("{}.png", crate::export::safe_file_stem(ref_code));
        if self.folder.is_empty() {
            file
        } else {
            Path::new(&self.folder).join(file).display().to_string()
        }
    }

    /// Draws the panel for `row`; returns its rectangle.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        row: &LinkRow,
        actions: &mut Vec<Action>,
    ) -> egui::Rect {
        let id = LinkId(row.link.id);
        if self.glance_asked != Some(id) {
            self.glance_asked = Some(id);
            actions.push(Action::Send(ShortCommand::LinkGlance(id, shared.tz).into()));
        }
        // At most 45% of the window, so the table next to it keeps its room.
        let max = (ui.available_width() * 0.45).max(200.0);
        egui::Panel::right("link_detail")
            .resizable(true)
            .default_size(340.0_f32.min(max))
            .size_range(200.0..=max)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.contents(ui, row, actions);
                    aliases(ui, shared, row, actions);
                });
            })
            .response
            .rect
    }

    /// The panel's sections in their on-screen order (long on purpose).
    fn contents(&mut self, ui: &mut egui::Ui, row: &LinkRow, actions: &mut Vec<Action>) {
        let id = LinkId(row.link.id);
        ui.horizontal(|ui| {
            if ui.small_button("Close").clicked() {
                actions.push(Action::Select(None));
            }
            ui.add(
                egui::Label::new(egui::RichText::new(display(&row.link.ref_code)).heading())
                    .truncate(),
            );
        });
        ui.label(format!(
            "{} · {}",
            display(&row.campaign_name),
            display(&row.channel_name)
        ));
        if let Some(tex) = self.preview(ui.ctx(), &row.url) {
            let side = ui.available_width().clamp(120.0, 220.0);
            ui.add(egui::Image::new(&tex).fit_to_exact_size(egui::vec2(side, side)))
                .on_hover_text("QR code preview");
        }
        ui.add(egui::Label::new(egui::RichText::new(display(&row.url)).monospace()).wrap());
        ui.horizontal_wrapped(|ui| {
            use egui_material_icons::icons::{ICON_CONTENT_COPY, ICON_OPEN_IN_NEW};
            if widgets::icon_button(ui, true, ICON_CONTENT_COPY, "Copy link", false)
                .on_hover_text("Ctrl+C")
                .clicked()
            {
                actions.push(Action::Copy(row.url.clone()));
            }
            if widgets::icon_button(ui, true, ICON_OPEN_IN_NEW, "Open link", false)
                .on_hover_text("Opens the link in your browser, as a person who scans it would")
                .clicked()
            {
                ui.ctx().open_url(egui::OpenUrl::new_tab(&row.url));
            }
        });
        ui.separator();
        ui.strong("Call to action");
        if row.link.cta.is_empty() {
            widgets::warning_text(ui, "No call to action yet.");
        } else {
            ui.label(display(&row.link.cta));
        }
        ui.label(
            egui::RichText::new(
                "Say what the person gets, e.g. \"Get daily top stories delivered directly to Messenger\".",
            )
            .small()
            .weak(),
        );
        ui.horizontal_wrapped(|ui| {
            let edit = egui_material_icons::icons::ICON_EDIT;
            if widgets::icon_button(ui, true, edit, "Edit link", false).clicked() {
                actions.push(Action::OpenEditLink(id));
            }
            let archive = if row.link.archived {
                "Restore"
            } else {
                "Archive"
            };
            if ui.button(archive).clicked() {
                actions.push(Action::Send(
                    ShortCommand::ArchiveLink(id, !row.link.archived).into(),
                ));
            }
            if ui.button("Remove…").clicked() {
                actions.push(Action::ConfirmRemove(id));
            }
        });
        ui.separator();
        self.export_form(ui, row, actions);
        // Last, so the export controls above keep their place.
        ui.separator();
        match self.glance.as_ref().filter(|(g, _)| *g == id) {
            Some((_, glance)) => super::chart::sparkline(ui, glance),
            None => {
                ui.spinner();
            }
        }
    }

    /// A texture of the code for `url` in the style, rebuilt only when they change.
    fn preview(&mut self, ctx: &egui::Context, url: &str) -> Option<egui::TextureHandle> {
        let style = &self.style;
        let with_logo = self.logo_path().is_some();
        if let Some(p) = &self.texture
            && p.url == url
            && p.fg == style.fg.0
            && p.bg == style.bg.0
            && p.ecc == style.ecc
            && p.quiet_zone == style.quiet_zone_modules
            && p.with_logo == with_logo
        {
            return Some(p.texture.clone());
        }
        // With a logo: the light pad where it goes (the UI reads no file,
        // so the logo's pixels are not drawn here).
        let matrix = if with_logo {
            QrMatrix::encode_with_pad(url, crate::codes::logo::MAX_LOGO_SHARE).ok()?
        } else {
            QrMatrix::encode(url, style.ecc).ok()?
        };
        let scale = 4usize;
        let quiet = usize::try_from(style.quiet_zone_modules).ok()?;
        let width = usize::try_from(matrix.width).ok()?;
        let side = width
            .checked_add(quiet.checked_mul(2)?)?
            .checked_mul(scale)?;
        let bg = egui::Color32::from_rgb(style.bg.0[0], style.bg.0[1], style.bg.0[2]);
        let fg = egui::Color32::from_rgb(style.fg.0[0], style.fg.0[1], style.fg.0[2]);
        let mut pixels = vec![bg; side.checked_mul(side)?];
        for y in 0..matrix.width {
            for x in 0..matrix.width {
                if matrix.is_dark(x, y) {
                    let px = (x as usize + quiet) * scale;
                    let py = (y as usize + quiet) * scale;
                    for yy in py..py + scale {
                        pixels[yy * side + px..yy * side + px + scale].fill(fg);
                    }
                }
            }
        }
        if let Some(pad) = matrix.logo {
            // Where the logo goes, as a muted square inside its light pad.
            let mark = egui::Color32::from_rgb(0x9a, 0xb0, 0xd8);
            let from = (pad.x0 as usize + quiet) * scale + scale / 2;
            let to = (pad.x0 as usize + pad.side as usize + quiet) * scale - scale / 2;
            for yy in from..to {
                if let Some(row) = pixels.get_mut(yy * side + from..yy * side + to) {
                    row.fill(mark);
                }
            }
        }
        let image = egui::ColorImage::new([side, side], pixels);
        let tex = ctx.load_texture("qr_preview", image, egui::TextureOptions::NEAREST);
        self.texture = Some(Preview {
            url: url.to_string(),
            fg: style.fg.0,
            bg: style.bg.0,
            ecc: style.ecc,
            quiet_zone: style.quiet_zone_modules,
            with_logo,
            texture: tex.clone(),
        });
        Some(tex)
    }

    /// The code's style; `pixels` shows the size in pixels (not for a PDF).
    fn style_form(&mut self, ui: &mut egui::Ui, pixels: bool) -> bool {
        let style = &mut self.style;
        ui.horizontal_wrapped(|ui| {
            if pixels {
                let l = ui.label("Size (px)");
                ui.add(
                    egui::DragValue::new(&mut style.size_px)
                        .range(MIN_SIZE_PX..=MAX_SIZE_PX)
                        .speed(16),
                )
                .labelled_by(l.id)
                .on_hover_text("Width and height of the image in pixels");
            }
            let l = ui.label("Error correction");
            egui::ComboBox::from_id_salt("ecc")
                .selected_text(ecc_words(style.ecc))
                .show_ui(ui, |ui| {
                    for e in Ecc::ALL {
                        ui.selectable_value(&mut style.ecc, e, ecc_words(e));
                    }
                })
                .response
                .labelled_by(l.id)
                .on_hover_text(
                    "How much of the code may be covered, dirty or torn and still scan. \
                     Higher levels make a denser code; a logo needs H.",
                );
        });
        let fg_text = self.fg_text.get_or_insert_with(|| style.fg.hex());
        widgets::text_field(ui, "Code colour", fg_text, "#000000")
            .on_hover_text("Dark on light scans best; refboard refuses colours too faint to scan");
        let fg_ok = Color::parse("fg", fg_text);
        match &fg_ok {
            Ok(c) => style.fg = *c,
            Err(e) => widgets::error_text(ui, &e.to_string()),
        }
        let bg_text = self.bg_text.get_or_insert_with(|| style.bg.hex());
        widgets::text_field(ui, "Background colour", bg_text, "#ffffff");
        let bg_ok = Color::parse("bg", bg_text);
        match &bg_ok {
            Ok(c) => style.bg = *c,
            Err(e) => widgets::error_text(ui, &e.to_string()),
        }
        ui.checkbox(&mut style.caption, "Caption under the code")
            .on_hover_text("The call to action and the link printed under the code in PNG and SVG");
        ui.horizontal_wrapped(|ui| {
            widgets::text_field(
                ui,
                "Logo file",
                &mut self.logo,
                "optional: logo.png or .svg",
            );
            if ui.button("Choose logo…").clicked()
                && let Some(p) = rfd::FileDialog::new()
                    .add_filter("Logo", &["png", "svg"])
                    .pick_file()
            {
                self.logo = p.display().to_string();
            }
        });
        if self.logo_path().is_some() {
            ui.label(
                egui::RichText::new(
                    "The logo sits in the centre on a light pad; the code then uses error correction H.",
                )
                .small()
                .weak(),
            );
        }
        fg_ok.is_ok() && bg_ok.is_ok()
    }

    /// "Scan verified", or why the last export of this file failed.
    fn written_line(&self, ui: &mut egui::Ui, path: &str) {
        let Some((written, result)) = &self.written else {
            return;
        };
        if written.as_path() != Path::new(path) {
            return;
        }
        match result {
            Ok(()) => {
                ui.label(
                    egui::RichText::new("Scan verified")
                        .color(egui::Color32::from_rgb(0x1e, 0x8e, 0x3e)),
                );
            }
            Err(e) => widgets::error_text(ui, &format!("Not written: {e}")),
        }
    }

    /// The export form: format, then only the fields that format uses.
    /// Long on purpose: the rows in their on-screen order.
    fn export_form(&mut self, ui: &mut egui::Ui, row: &LinkRow, actions: &mut Vec<Action>) {
        let id = LinkId(row.link.id);
        ui.strong("Export QR code");
        let mut path = self
            .typed
            .get(&id)
            .cloned()
            .unwrap_or_else(|| self.default_path(&row.link.ref_code));
        let before = path.clone();
        format::format_choice(ui, &mut path);
        let pdf = format::of_path(&path) == crate::export::Format::Pdf;
        if pdf {
            format::paper_choice(ui, &mut self.paper);
            if row.link.cta.trim().is_empty() {
                widgets::warning_text(
                    ui,
                    "This flyer has no call to action: add one with Edit link, or it prints without one.",
                );
            }
        }
        let colours_ok = self.style_form(ui, !pdf);
        let warnings = warnings_for(&row.url, &self.style);
        match &warnings {
            Ok(ws) => {
                for w in ws {
                    widgets::warning_text(ui, &w.to_string());
                }
            }
            Err(e) => widgets::error_text(ui, &crate::worker::hints::error_text(e)),
        }
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("Save to");
            ui.add(
                egui::TextEdit::singleline(&mut path)
                    .hint_text("/path/to/code.png, .svg or .pdf")
                    .desired_width(ui.available_width().clamp(120.0, 260.0)),
            )
            .labelled_by(l.id);
            if ui.button("Browse…").clicked()
                && let Some(p) = rfd::FileDialog::new()
                    .add_filter("PNG image", &["png"])
                    .add_filter("SVG image", &["svg"])
                    .add_filter("PDF flyer", &["pdf"])
                    .set_directory(&self.folder)
                    .set_file_name(format!(
                        "{}.png",
                        crate::export::safe_file_stem(&row.link.ref_code)
                    ))
                    .save_file()
            {
                path = p.display().to_string();
            }
        });
        if path != before {
            self.typed.insert(id, path.clone());
        }
        let path = path.trim().to_string();
        let path_ok = crate::export::Format::from_path(Path::new(&path));
        if !path.is_empty()
            && let Err(e) = &path_ok
        {
            widgets::error_text(ui, &e.to_string());
        }
        let can = colours_ok && warnings.is_ok() && path_ok.is_ok() && !path.is_empty();
        let icon = egui_material_icons::icons::ICON_QR_CODE;
        if widgets::icon_button(ui, can, icon, "Export QR", false)
            .on_hover_text("Writes the file and reads its code back before saying it is done")
            .clicked()
        {
            let pending = PendingExport {
                path: PathBuf::from(&path),
                ref_code: row.link.ref_code.clone(),
                item: crate::model::ExportItem::from(row.clone()),
                style: self.style.clone(),
                logo: self.logo_path(),
                paper: self.paper,
            };
            if let Some(dir) = pending.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                self.folder = dir.display().to_string();
            }
            actions.push(Action::Send(pending.command(false)));
            self.pending = Some(pending);
        }
        self.written_line(ui, &path);
    }
}

/// The link's aliases (refs that count for it), each with a Remove button.
fn aliases(ui: &mut egui::Ui, shared: &Shared<'_>, row: &LinkRow, actions: &mut Vec<Action>) {
    let mine: Vec<&crate::store::AliasRow> = shared
        .snap
        .aliases
        .iter()
        .filter(|a| a.alias.link == row.link.id)
        .collect();
    if mine.is_empty() {
        return;
    }
    ui.separator();
    ui.strong("Also counts");
    ui.label(
        egui::RichText::new("Referrals with these refs count for this link.")
            .small()
            .weak(),
    );
    for a in mine {
        ui.horizontal(|ui| {
            ui.add(egui::Label::new(display(&a.alias.ref_code)).truncate());
            if ui
                .small_button("Remove alias")
                .on_hover_text(format!(
                    "Stop counting {} for this link",
                    display(&a.alias.ref_code)
                ))
                .clicked()
            {
                actions.push(Action::Send(
                    ShortCommand::RemoveAlias(
                        crate::model::PageId(a.alias.page),
                        a.alias.ref_code.clone(),
                    )
                    .into(),
                ));
            }
        });
    }
}

/// An error-correction level in words: how much damage the code survives.
fn ecc_words(e: Ecc) -> String {
    let (share, note) = match e.to_string().as_str() {
        "L" => ("7%", ""),
        "M" => ("15%", " (default)"),
        "Q" => ("25%", ""),
        _ => ("30%", " (with a logo)"),
    };
    format!("{e}: survives {share} damage{note}")
}

impl PendingExport {
    /// The worker command that writes this code; `replace` overwrites an existing file.
    pub fn command(&self, replace: bool) -> Command {
        ShortCommand::ExportQr {
            path: self.path.clone(),
            item: self.item.clone(),
            style: self.style.clone(),
            replace,
            logo: self.logo.clone(),
            paper: self.paper,
        }
        .into()
    }
}
