//! The webhook health badge in the top bar, on every screen (issue 19,
//! defect 8: the health showed only on the Backend tab, as a small line,
//! and only after "Test connection").
//!
//! Green while the last webhook event is within the quiet period chosen on
//! the Backend tab; amber past it; red from an hour without events (Meta
//! disables a webhook after about an hour of failed deliveries), when no
//! event ever arrived, or when the backend's health cannot be read. A click
//! opens the Backend tab, where the details are.

use super::Shared;
use crate::sync::{META_DISABLES_AFTER_SECS, WebhookHealth};

/// How the webhook looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Events are arriving.
    Green,
    /// Quiet for longer than the chosen period.
    Amber,
    /// Quiet for an hour or more, never heard from, or unreadable.
    Red,
    /// Not read yet.
    Unknown,
}

/// "just now", "4 min ago", "3 h ago", "2 days ago".
pub fn age_words(age_ms: i64) -> String {
    let mins = age_ms.max(0) / 60_000;
    match mins {
        0 => "just now".into(),
        1..=119 => format!("{mins} min ago"),
        120..=2879 => format!("{} h ago", mins / 60),
        _ => format!("{} days ago", mins / 1440),
    }
}

/// The badge's level and words for a health read (`None`: not read yet).
pub fn level(
    health: Option<&Result<WebhookHealth, String>>,
    now_ms: i64,
    quiet_mins: u32,
) -> (Level, String) {
    let quiet_ms = i64::from(quiet_mins).saturating_mul(60_000);
    let red_ms = quiet_ms.max(i64::try_from(META_DISABLES_AFTER_SECS * 1000).unwrap_or(i64::MAX));
    match health {
        None => (Level::Unknown, "Webhook: checking…".into()),
        Some(Err(_)) => (Level::Red, "Webhook: health unreadable".into()),
        Some(Ok(h)) => match h.last_event_at_ms {
            None => (Level::Red, "Webhook: no event yet".into()),
            Some(t) => {
                let age = now_ms.saturating_sub(t);
                let level = if age >= red_ms {
                    Level::Red
                } else if age > quiet_ms {
                    Level::Amber
                } else {
                    Level::Green
                };
                (level, format!("Webhook: last event {}", age_words(age)))
            }
        },
    }
}

/// The colour of a level.
pub fn color(ui: &egui::Ui, level: Level) -> egui::Color32 {
    match level {
        Level::Green => egui::Color32::from_rgb(46, 160, 67),
        Level::Amber => egui::Color32::from_rgb(230, 160, 20),
        Level::Red => ui.visuals().error_fg_color,
        Level::Unknown => ui.visuals().weak_text_color(),
    }
}

/// Draws the badge (nothing before a backend is set); true when clicked.
pub fn badge(ui: &mut egui::Ui, shared: &Shared<'_>) -> bool {
    if shared.snap.backend_url.is_empty() {
        return false;
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    let health = shared.snap.webhook_health.as_ref();
    let (level, words) = level(health, now_ms, shared.webhook_quiet_mins);
    let c = color(ui, level);
    let mut job = egui::text::LayoutJob::default();
    let size = egui::TextStyle::Body.resolve(ui.style()).size;
    // The dot in the monospace font (Hack has it), the words in the body one.
    job.append(
        "● ",
        0.0,
        egui::TextFormat::simple(egui::FontId::monospace(size), c),
    );
    job.append(
        &words,
        0.0,
        egui::TextFormat::simple(egui::FontId::proportional(size), ui.visuals().text_color()),
    );
    let hover = match health {
        Some(Ok(h)) => h
            .warning(now_ms, u64::from(shared.webhook_quiet_mins) * 60)
            .unwrap_or_else(|| "Webhook events are arriving. Click for the details.".into()),
        Some(Err(e)) => format!("{e}. Click for the details."),
        None => "Reading the backend's webhook health…".into(),
    };
    ui.add(egui::Button::new(job))
        .on_hover_text(hover)
        .clicked()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(last: Option<i64>) -> Option<Result<WebhookHealth, String>> {
        Some(Ok(WebhookHealth {
            events: 10,
            last_event_at_ms: last,
            bad_signatures_last_hour: Some(0),
        }))
    }

    #[test]
    fn green_then_amber_past_the_quiet_period_then_red_from_an_hour() {
        let now = 10_000_000_000;
        let min = 60_000;
        let at = |age: i64, quiet: u32| level(read(Some(now - age)).as_ref(), now, quiet);
        assert_eq!(
            at(0, 30),
            (Level::Green, "Webhook: last event just now".into())
        );
        assert_eq!(at(30 * min, 30).0, Level::Green);
        assert_eq!(
            at(31 * min, 30),
            (Level::Amber, "Webhook: last event 31 min ago".into())
        );
        assert_eq!(at(59 * min, 30).0, Level::Amber);
        assert_eq!(at(60 * min, 30).0, Level::Red);
        assert_eq!(at(3 * 60 * min, 30).1, "Webhook: last event 3 h ago");
        // A quiet period past the hour: red only then.
        assert_eq!(at(90 * min, 120).0, Level::Green);
        assert_eq!(at(121 * min, 120).0, Level::Red);
        assert_eq!(level(read(None).as_ref(), now, 30).0, Level::Red);
        assert_eq!(level(Some(&Err("down".into())), now, 30).0, Level::Red);
        assert_eq!(level(None, now, 30).0, Level::Unknown);
        assert_eq!(age_words(3 * 1440 * min), "3 days ago");
    }
}
