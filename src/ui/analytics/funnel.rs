//! The funnel of the Analytics screen (issue #21): referred people →
//! people who started a conversation → people who reached each goal, for
//! all referrals or for one link, channel or campaign (the screen's
//! grouping). Each step is one bar and one label that says its figure and
//! its share of the referred people, so a screen reader (and a test) reads
//! the whole step.

use crate::stats::GroupBy;
use crate::stats::conversions::{ConversionFigures, ConversionReport};
use crate::ui::widgets::display;

/// The funnel's choice: all referrals, or one group by name.
#[derive(Debug, Default)]
pub(super) struct Funnel {
    /// `None`: all referrals credited in the range.
    group: Option<String>,
}

/// One step: its name and its people.
pub(super) type Step = (String, u64);

/// The steps of one funnel: referred people, conversations, then each
/// goal of the range (a goal no one reached here shows 0).
pub(super) fn steps(referred: u64, f: &ConversionFigures, goals: &[String]) -> Vec<Step> {
    let mut out = vec![
        ("Referred people".to_string(), referred),
        ("Started a conversation".to_string(), f.conversation_people),
    ];
    out.extend(
        goals
            .iter()
            .map(|g| (format!("Goal: {g}"), f.goal(g).map_or(0, |x| x.people))),
    );
    out
}

/// A step's words: `Goal: order: 12 people (8.0% of referred people)`.
pub(super) fn step_text(name: &str, people: u64, referred: u64) -> String {
    let share =
        crate::stats::conversions::rate_text(crate::stats::conversions::rate(people, referred));
    format!("{name}: {people} people ({share} of referred people)")
}

impl Funnel {
    /// Draws the picker and the funnel of the chosen group.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, conv: &ConversionReport) {
        ui.heading("Funnel");
        let per_group = matches!(
            conv.by,
            GroupBy::Link | GroupBy::Channel | GroupBy::Campaign
        );
        if !per_group {
            self.group = None;
        }
        if self
            .group
            .as_ref()
            .is_some_and(|g| !conv.groups.iter().any(|x| x.name() == g))
        {
            self.group = None;
        }
        if per_group {
            let shown = self
                .group
                .as_deref()
                .map_or("All referrals".into(), display);
            let l = ui.label(format!("Funnel of one {}", conv.by.label().to_lowercase()));
            egui::ComboBox::from_id_salt("funnel_group")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.group, None, "All referrals");
                    for g in &conv.groups {
                        let name = g.name().to_string();
                        ui.selectable_value(&mut self.group, Some(name.clone()), display(&name));
                    }
                })
                .response
                .labelled_by(l.id);
        } else {
            ui.weak("Group by link, channel or campaign to see the funnel of one of them.");
        }
        let (referred, figures) = match self
            .group
            .as_ref()
            .and_then(|g| conv.groups.iter().find(|x| x.name() == g))
        {
            Some(g) => (g.referred_people, &g.figures),
            None => (conv.totals.referred_people, &conv.credited),
        };
        draw_steps(ui, &steps(referred, figures, &conv.goals), referred);
    }
}

/// The steps as bars, each as wide as its share of the first step.
fn draw_steps(ui: &mut egui::Ui, steps: &[Step], referred: u64) {
    let full = ui.available_width().clamp(120.0, 520.0);
    let top = steps.first().map_or(0, |s| s.1).max(1);
    let fill = ui.visuals().selection.bg_fill;
    for (name, people) in steps {
        // Display only: a bar's width needs no exact count.
        #[allow(clippy::cast_precision_loss)]
        let share = (*people as f32 / top as f32).clamp(0.0, 1.0);
        let (rect, _) = ui.allocate_exact_size(egui::vec2(full, 14.0), egui::Sense::hover());
        let bar = egui::Rect::from_min_size(rect.min, egui::vec2((full * share).max(2.0), 14.0));
        ui.painter().rect_filled(bar, 3.0, fill);
        ui.label(display(&step_text(name, *people, referred)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_name_every_goal_and_share_of_referred_people() {
        let f = ConversionFigures {
            conversation_people: 5,
            ..ConversionFigures::default()
        };
        let s = steps(10, &f, &["order".into()]);
        assert_eq!(
            s,
            [
                ("Referred people".to_string(), 10),
                ("Started a conversation".to_string(), 5),
                ("Goal: order".to_string(), 0)
            ]
        );
        assert_eq!(
            step_text("Started a conversation", 5, 10),
            "Started a conversation: 5 people (50.0% of referred people)"
        );
    }
}
