//! Small shared widgets: labelled inputs, messages, safe display of text
//! that came from strangers, and the status strip.

use super::{Action, Shared};
use crate::worker::Job;

/// Longest text a label shows, in characters: room for the longest valid
/// ref or m.me URL (2,083 characters) while a stranger's megabyte stays bounded.
const DISPLAY_MAX_CHARS: usize = 2_500;

/// Text as a label may show it: control, bidi and invisible characters
/// become visible escapes (the model's [`crate::model::safe_display`]), so a
/// ref cannot reorder or hide what is around it, and the length is bounded.
pub fn display(s: &str) -> String {
    crate::model::safe_display(s, DISPLAY_MAX_CHARS)
}

/// A text field with a visible label that names it for screen readers and tests.
pub fn text_field(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    hint: &str,
) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let width = ui.available_width().clamp(120.0, 260.0);
        ui.add(
            egui::TextEdit::singleline(value)
                .hint_text(hint)
                .desired_width(width),
        )
        .labelled_by(l.id)
    })
    .inner
}

/// The green of "Scan verified" and "Done".
pub const OK_GREEN: egui::Color32 = egui::Color32::from_rgb(0x1e, 0x8e, 0x3e);

/// A field's validation message under it, red.
pub fn error_text(ui: &mut egui::Ui, message: &str) {
    ui.label(
        egui::RichText::new(message)
            .color(ui.visuals().error_fg_color)
            .small(),
    );
}

/// A field's warning under it, amber.
pub fn warning_text(ui: &mut egui::Ui, message: &str) {
    ui.label(
        egui::RichText::new(message)
            .color(ui.visuals().warn_fg_color)
            .small(),
    );
}

/// Longest message the status strip shows in full, in characters (about
/// four lines at 640 px); the rest is on hover.
const STATUS_MAX_CHARS: usize = 320;

/// "Light theme" or "Dark theme": switches to the other one (remembered).
pub fn theme_switch(ui: &mut egui::Ui, actions: &mut Vec<Action>) {
    use egui_material_icons::icons::{ICON_DARK_MODE, ICON_LIGHT_MODE};
    let (icon, text, to) = if ui.visuals().dark_mode {
        (ICON_LIGHT_MODE, "Light theme", egui::Theme::Light)
    } else {
        (ICON_DARK_MODE, "Dark theme", egui::Theme::Dark)
    };
    if icon_button(ui, true, icon, text, false)
        .on_hover_text("Switch between light and dark; refboard remembers it")
        .clicked()
    {
        actions.push(Action::SetTheme(to));
    }
}

/// The bottom strip: the running job and the latest message.
#[must_use]
pub fn status_strip(ui: &mut egui::Ui, shared: &Shared<'_>) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        if let Some((job, done, total)) = shared.job {
            ui.spinner();
            let what = match job {
                Job::Sync => "Syncing",
                Job::Import => "Importing",
                Job::Export => "Exporting",
            };
            if total > 0 {
                ui.add(
                    egui::ProgressBar::new(done as f32 / total as f32)
                        .desired_width(160.0)
                        .text(format!("{what} {done}/{total}")),
                );
            } else {
                ui.label(format!("{what}… {done} events"));
            }
            if ui.button("Cancel").clicked() {
                actions.push(Action::CancelJob);
            }
            ui.separator();
        }
        if let Some(m) = shared.message {
            let color = if m.is_error {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().text_color()
            };
            // The strip is drawn before the screen's content (egui lays out
            // the bottom panel first), so a focusable button here would be
            // the first stop after the top bar. Out of the Tab order; Escape
            // dismisses the message from the keyboard.
            let dismiss = egui::Button::new("Dismiss")
                .small()
                .sense(egui::Sense::CLICK);
            if ui.add(dismiss).on_hover_text("Or press Escape").clicked() {
                actions.push(Action::Dismiss);
            }
            // Long messages wrap (up to a few lines; the whole text on hover).
            let text = crate::model::safe_display(&m.text, STATUS_MAX_CHARS);
            ui.add(egui::Label::new(egui::RichText::new(text).color(color)).wrap())
                .on_hover_text(display(&m.text));
        } else if shared.job.is_none() {
            ui.label(format!(
                "{} referral events stored",
                shared.snap.events_total
            ));
        }
    });
    actions
}

/// Where the app notes that the icon font is loaded (egui memory).
fn icons_id() -> egui::Id {
    egui::Id::unique("refboard_icons_ready")
}

/// Notes that the icon font added on the first frame is in use.
pub fn set_icons_ready(ctx: &egui::Context) {
    ctx.data_mut(|d| d.insert_temp(icons_id(), true));
}

/// Whether the icon font is loaded (an icon drawn before would show as a
/// missing glyph).
pub fn icons_ready(ui: &egui::Ui) -> bool {
    ui.data(|d| d.get_temp::<bool>(icons_id()).unwrap_or(false))
}

/// `text` with `icon` before it once the icon font is loaded.
fn with_icon(ui: &egui::Ui, icon: egui_material_icons::MaterialIcon, text: &str) -> String {
    if icons_ready(ui) {
        format!("{}  {text}", icon.codepoint)
    } else {
        text.to_string()
    }
}

/// A button with an icon before its text, named by the text alone (for
/// screen readers and tests); `primary` fills it with the accent colour.
pub fn icon_button(
    ui: &mut egui::Ui,
    enabled: bool,
    icon: egui_material_icons::MaterialIcon,
    text: &str,
    primary: bool,
) -> egui::Response {
    let shown = with_icon(ui, icon, text);
    let button = if primary {
        primary_button(ui, &shown)
    } else {
        egui::Button::new(shown)
    };
    let response = ui.add_enabled(enabled, button);
    let name = text.to_string();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, enabled, name.clone()));
    response
}

/// The screen's primary button: filled with the accent colour, so the one
/// thing to do next stands out (one per screen).
pub fn primary_button(ui: &egui::Ui, text: &str) -> egui::Button<'static> {
    let v = ui.visuals();
    egui::Button::new(egui::RichText::new(text).color(v.selection.stroke.color))
        .fill(v.selection.bg_fill)
}
