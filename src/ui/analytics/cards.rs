//! The headline cards of the Analytics screen: referrals, unique people,
//! new and returning, each with its change against the previous period.

use super::Previous;
use crate::stats::Report;

/// The headline cards: referrals, unique people, new and returning, each
/// with its change against the previous period, in the words of
/// [`crate::stats::cards`] (the report's too). Each card is one label, so a
/// screen reader reads name, figure and change together.
pub(super) fn cards(
    ui: &mut egui::Ui,
    report: &Report,
    previous: Option<Previous<'_>>,
    compare: crate::stats::Compare,
) {
    let mut cards = crate::stats::cards(report, previous);
    let has_previous = report
        .from
        .zip(report.to)
        .is_some_and(|(f, t)| compare.previous(f, t).is_some());
    // Before the event window there is no previous period to ask for (the
    // cards say so); otherwise it is being counted.
    if previous.is_none() && has_previous {
        for card in &mut cards {
            card.change_text = "comparing with the previous period…".into();
        }
    }
    let jobs: Vec<egui::text::LayoutJob> = cards
        .iter()
        .map(|c| card_job(ui, c.name, c.value, &c.change_text))
        .collect();
    // Four in a row where they fit, else two rows of two.
    let per_row = if ui.available_width() >= 4.0 * CARD_MIN_WIDTH {
        4
    } else {
        2
    };
    for row in jobs.chunks(per_row) {
        ui.columns(per_row, |cols| {
            for (col, job) in cols.iter_mut().zip(row) {
                egui::Frame::group(col.style())
                    .inner_margin(egui::Margin::symmetric(12, 8))
                    .show(col, |ui| {
                        ui.set_width(ui.available_width());
                        ui.add(egui::Label::new(job.clone()).wrap());
                    });
            }
        });
    }
}

/// Narrowest a headline card may be before the cards go two to a row.
const CARD_MIN_WIDTH: f32 = 170.0;

/// A card's text: the figure's name, the figure large, and its change.
fn card_job(ui: &egui::Ui, name: &str, now: u64, change: &str) -> egui::text::LayoutJob {
    let mut job = egui::text::LayoutJob::default();
    let style = ui.style();
    let fmt = |s: egui::TextStyle, size: Option<f32>, c: egui::Color32| {
        let mut f = s.resolve(style);
        if let Some(size) = size {
            f.size = size;
        }
        egui::TextFormat::simple(f, c)
    };
    let visuals = ui.visuals();
    job.append(
        &format!("{name}\n"),
        0.0,
        fmt(egui::TextStyle::Body, None, visuals.text_color()),
    );
    job.append(
        &format!("{now}\n"),
        0.0,
        fmt(
            egui::TextStyle::Heading,
            Some(26.0),
            visuals.strong_text_color(),
        ),
    );
    append_change(&mut job, change, 12.0, change_color(ui, change));
    job
}

/// Appends a change text: its arrow in the monospace font (only Hack has
/// ▲ and ▼), the words in the proportional one.
pub(super) fn append_change(
    job: &mut egui::text::LayoutJob,
    change: &str,
    size: f32,
    color: egui::Color32,
) {
    let (arrow, words) = match change.chars().next() {
        Some(c @ ('▲' | '▼')) => (Some(c), &change[c.len_utf8()..]),
        _ => (None, change),
    };
    if let Some(c) = arrow {
        let mono = egui::TextFormat::simple(egui::FontId::monospace(size), color);
        job.append(&c.to_string(), 0.0, mono);
    }
    let text = egui::TextFormat::simple(egui::FontId::proportional(size), color);
    job.append(words, 0.0, text);
}

/// The colour of a change: green up, red down, grey otherwise.
pub(super) fn change_color(ui: &egui::Ui, change: &str) -> egui::Color32 {
    if change.starts_with('▲') {
        egui::Color32::from_rgb(46, 160, 67)
    } else if change.starts_with('▼') {
        ui.visuals().error_fg_color
    } else {
        ui.visuals().weak_text_color()
    }
}
