//! How the window looks and what leaves it by itself: readable text sizes,
//! the light or dark theme the user switched to, and status messages that
//! fade after a few seconds unless they are errors.

use super::App;

/// Seconds a notice stays in the status strip; errors stay until dismissed.
pub const MESSAGE_SECS: f64 = 6.0;

/// Smallest size of body text, buttons and code, in points.
const BODY_PT: f32 = 13.0;
/// Smallest size of hints, warnings and errors (`RichText::small`), in points.
const SMALL_PT: f32 = 12.0;

impl App {
    /// Sets the text sizes once, in both themes, and applies the theme the
    /// user switched to.
    pub(super) fn look(&mut self, ctx: &egui::Context) {
        if !self.styled {
            // The icon font is there from the next frame on: buttons draw
            // their icons once it is (see `widgets::icons_ready`).
            egui_material_icons::initialize(ctx);
            ctx.all_styles_mut(|style| {
                for (text_style, font) in &mut style.text_styles {
                    let least = match text_style {
                        egui::TextStyle::Small => SMALL_PT,
                        _ => BODY_PT,
                    };
                    font.size = font.size.max(least);
                }
            });
            self.styled = true;
        } else {
            crate::ui::widgets::set_icons_ready(ctx);
        }
        if let Some(theme) = self.theme
            && ctx.theme() != theme
        {
            ctx.set_theme(theme);
        }
    }

    /// Clears a notice [`MESSAGE_SECS`] after it appeared, by the app's
    /// clock; an error stays. A new message starts its own time.
    pub(super) fn fade_message(&mut self, ctx: &egui::Context) {
        let now = ctx.input(|i| i.time);
        let Some(message) = &self.message else {
            self.message_since = None;
            return;
        };
        let since = match &self.message_since {
            Some((m, at)) if m == message => *at,
            _ => {
                self.message_since = Some((message.clone(), now));
                now
            }
        };
        if message.is_error {
            return;
        }
        let left = MESSAGE_SECS - (now - since);
        if left <= 0.0 {
            self.message = None;
            self.message_since = None;
        } else {
            ctx.request_repaint_after(std::time::Duration::from_secs_f64(left));
        }
    }
}
