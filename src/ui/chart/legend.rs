//! The chart's legend, outside the plot: a toggle per series in its colour,
//! and keys (not toggles) for the previous period's lighter dashed lines and
//! for the running bucket's hollow marker, so neither is guessed at.

use crate::ui::widgets::display;
use egui::Color32;
use std::collections::BTreeSet;

/// What a legend entry stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A series: a toggle that shows or hides its line.
    Line,
    /// The previous period's lines (the "Previous period" box above turns
    /// them on and off).
    Previous,
    /// The bucket still running: a dashed stub to a hollow marker.
    Running,
}

/// The legend: one toggle per series, then the keys.
pub fn legend(
    ui: &mut egui::Ui,
    entries: &[(String, Color32, Mark)],
    hidden: &mut BTreeSet<String>,
) {
    ui.horizontal_wrapped(|ui| {
        for (name, color, mark) in entries {
            let text = entry_text(ui, name, *color, *mark);
            match mark {
                Mark::Line => {
                    let mut shown = !hidden.contains(name);
                    if ui.checkbox(&mut shown, text).changed() {
                        if shown {
                            hidden.remove(name);
                        } else {
                            hidden.insert(name.clone());
                        }
                    }
                }
                Mark::Previous => {
                    ui.label(text).on_hover_text(
                        "Lighter dashed lines: the same series in the period compared with, drawn day for day under this one",
                    );
                }
                Mark::Running => {
                    ui.label(text).on_hover_text(
                        "The last point is the bucket still running: its count is so far, not final",
                    );
                }
            }
        }
    });
}

/// An entry's text: its mark in the monospace font (only Hack has the box
/// drawing and shape marks), its name in the proportional one.
fn entry_text(ui: &egui::Ui, name: &str, color: Color32, mark: Mark) -> egui::text::LayoutJob {
    let symbol = match mark {
        Mark::Line => "━ ",
        Mark::Previous => "╌ ",
        Mark::Running => "○ ",
    };
    let size = egui::TextStyle::Body.resolve(ui.style()).size;
    let mut text = egui::text::LayoutJob::default();
    text.append(
        symbol,
        0.0,
        egui::TextFormat::simple(egui::FontId::monospace(size), color),
    );
    text.append(
        &display(name),
        0.0,
        egui::TextFormat::simple(egui::FontId::proportional(size), ui.visuals().text_color()),
    );
    text
}
