//! Link detail: live QR preview, the URL with copy and open, the CTA, and
//! export to PNG or SVG.

use super::{App, dialogs, widgets};
use crate::qr::{Color, Ecc, MAX_SIZE_PX, MIN_SIZE_PX, QrMatrix, QrStyle, warnings_for};
use crate::worker::Command;

/// A QR texture with the inputs it was rendered from.
struct Preview {
    url: String,
    fg: [u8; 3],
    bg: [u8; 3],
    ecc: Ecc,
    quiet_zone: u32,
    texture: egui::TextureHandle,
}

/// Runtime state of the detail panel.
#[derive(Default)]
pub struct DetailView {
    /// Cached preview and what it was made for.
    texture: Option<Preview>,
    fg_text: Option<String>,
    bg_text: Option<String>,
}

/// A texture of the code for `url` in `style`, rebuilt only when they change.
fn preview(
    view: &mut DetailView,
    ctx: &egui::Context,
    url: &str,
    style: &QrStyle,
) -> Option<egui::TextureHandle> {
    if let Some(p) = &view.texture
        && p.url == url
        && p.fg == style.fg.0
        && p.bg == style.bg.0
        && p.ecc == style.ecc
        && p.quiet_zone == style.quiet_zone_modules
    {
        return Some(p.texture.clone());
    }
    let matrix = QrMatrix::encode(url, style.ecc).ok()?;
    let scale = 4u32;
    let modules = matrix.width + 2 * style.quiet_zone_modules;
    let side = (modules * scale) as usize;
    let mut pixels =
        vec![egui::Color32::from_rgb(style.bg.0[0], style.bg.0[1], style.bg.0[2]); side * side];
    let fg = egui::Color32::from_rgb(style.fg.0[0], style.fg.0[1], style.fg.0[2]);
    for y in 0..matrix.width {
        for x in 0..matrix.width {
            if matrix.is_dark(x, y) {
                let (px, py) = (
                    (x + style.quiet_zone_modules) * scale,
                    (y + style.quiet_zone_modules) * scale,
                );
                for yy in py..py + scale {
                    for xx in px..px + scale {
                        pixels[yy as usize * side + xx as usize] = fg;
                    }
                }
            }
        }
    }
    let image = egui::ColorImage::new([side, side], pixels);
    let tex = ctx.load_texture("qr_preview", image, egui::TextureOptions::NEAREST);
    view.texture = Some(Preview {
        url: url.to_string(),
        fg: style.fg.0,
        bg: style.bg.0,
        ecc: style.ecc,
        quiet_zone: style.quiet_zone_modules,
        texture: tex.clone(),
    });
    Some(tex)
}

/// Draws the detail panel of the selected link.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    let Some(row) = app.selected_link().cloned() else {
        return;
    };
    egui::Panel::right("link_detail").resizable(true).default_size(360.0).show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading(&row.link.ref_code);
                if ui.small_button("Close").clicked() {
                    app.links.selected = None;
                }
            });
            ui.label(format!("{} · {}", row.campaign_name, row.channel_name));
            let style = app.state.qr_style.clone();
            if let Some(tex) = preview(&mut app.detail, ui.ctx(), &row.url, &style) {
                ui.add(egui::Image::new(&tex).fit_to_exact_size(egui::vec2(220.0, 220.0)))
                    .on_hover_text("QR code preview");
            }
            ui.label(egui::RichText::new(&row.url).monospace());
            ui.horizontal(|ui| {
                if ui.button("Copy link").on_hover_text("Ctrl+C").clicked() {
                    ui.ctx().copy_text(row.url.clone());
                    app.messages.push(super::Message { is_error: false, text: format!("Copied {}", row.url) });
                }
                if ui.button("Open link").clicked() {
                    ui.ctx().open_url(egui::OpenUrl::new_tab(&row.url));
                }
            });
            ui.separator();
            ui.strong("Call to action");
            if row.link.cta.is_empty() {
                widgets::warning_text(ui, "No call to action yet.");
            } else {
                ui.label(&row.link.cta);
            }
            ui.label(
                egui::RichText::new(
                    "Say what the person gets, e.g. \"Get daily top stories delivered directly to Messenger\".",
                )
                .small()
                .weak(),
            );
            ui.horizontal(|ui| {
                if ui.button("Edit link").clicked() {
                    app.dialogs.link = Some(dialogs::LinkForm::edit(&row));
                }
                let archive = if row.link.archived { "Restore" } else { "Archive" };
                if ui.button(archive).clicked() {
                    app.send(Command::ArchiveLink(row.link.id, !row.link.archived));
                }
                if ui.button("Remove…").clicked() {
                    app.dialogs.confirm_remove = Some((row.link.id, row.link.ref_code.clone()));
                }
            });
            ui.separator();
            export_form(app, ui, &row);
        });
    });
}

fn export_form(app: &mut App, ui: &mut egui::Ui, row: &crate::store::LinkRow) {
    ui.strong("Export QR code");
    let style = &mut app.state.qr_style;
    ui.horizontal(|ui| {
        let l = ui.label("Size (px)");
        ui.add(
            egui::DragValue::new(&mut style.size_px)
                .range(MIN_SIZE_PX..=MAX_SIZE_PX)
                .speed(16),
        )
        .labelled_by(l.id);
        let l = ui.label("Error correction");
        egui::ComboBox::from_id_salt("ecc")
            .selected_text(style.ecc.to_string())
            .show_ui(ui, |ui| {
                for e in Ecc::ALL {
                    ui.selectable_value(&mut style.ecc, e, e.to_string());
                }
            })
            .response
            .labelled_by(l.id);
    });
    let fg_text = app.detail.fg_text.get_or_insert_with(|| style.fg.hex());
    let fg_ok = Color::parse("fg", fg_text);
    widgets::text_field(ui, "Code colour", fg_text, "#000000");
    match &fg_ok {
        Ok(c) => style.fg = *c,
        Err(e) => widgets::error_text(ui, &e.to_string()),
    }
    let bg_text = app.detail.bg_text.get_or_insert_with(|| style.bg.hex());
    let bg_ok = Color::parse("bg", bg_text);
    widgets::text_field(ui, "Background colour", bg_text, "#ffffff");
    match &bg_ok {
        Ok(c) => style.bg = *c,
        Err(e) => widgets::error_text(ui, &e.to_string()),
    }
    ui.checkbox(&mut style.caption, "Caption under the code");
    let warnings = warnings_for(&row.url, style);
    match &warnings {
        Ok(ws) => {
            for w in ws {
                widgets::warning_text(ui, &w.to_string());
            }
        }
        Err(e) => widgets::error_text(ui, &e.to_string()),
    }
    ui.horizontal(|ui| {
        let l = ui.label("Save to");
        ui.add(
            egui::TextEdit::singleline(&mut app.state.export_path)
                .hint_text("/path/to/code.png or .svg")
                .desired_width(200.0),
        )
        .labelled_by(l.id);
        if ui.button("Browse…").clicked()
            && let Some(path) = rfd::FileDialog::new()
                .add_filter("PNG image", &["png"])
                .add_filter("SVG image", &["svg"])
                .set_file_name(format!(
                    "{}.png",
                    crate::export::safe_file_stem(&row.link.ref_code)
                ))
                .save_file()
        {
            app.state.export_path = path.display().to_string();
        }
    });
    let path = app.state.export_path.trim().to_string();
    let path_ok = crate::export::Format::from_path(std::path::Path::new(&path));
    if !path.is_empty()
        && let Err(e) = &path_ok
    {
        widgets::error_text(ui, &e.to_string());
    }
    let can =
        fg_ok.is_ok() && bg_ok.is_ok() && warnings.is_ok() && path_ok.is_ok() && !path.is_empty();
    if ui
        .add_enabled(can, egui::Button::new("Export QR"))
        .clicked()
    {
        app.send(Command::ExportQr {
            path: path.into(),
            url: row.url.clone(),
            cta: row.link.cta.clone(),
            style: app.state.qr_style.clone(),
        });
    }
}
