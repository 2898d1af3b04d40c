//! Campaign dates on the Analytics screen: the chart shades them as bands,
//! and they are set in one place, the Links screen's "Campaigns & channels"
//! panel (issue 19, defect 1). This line says so and leads there.

use crate::ui::{Action, Shared, Tab};

/// One line under the chart when the page has campaigns: where their dates
/// are set, with a button that goes there.
pub(super) fn hint(ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
    if !shared.snap.campaigns.iter().any(|c| !c.archived) {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(
            egui::RichText::new(
                "Campaign dates shade the chart; they are set with Edit beside each campaign under Links.",
            )
            .weak(),
        );
        if ui
            .button("Edit campaign dates")
            .on_hover_text("Opens Links, where the side panel lists the campaigns")
            .clicked()
        {
            actions.push(Action::ShowTab(Tab::Links));
        }
    });
}
