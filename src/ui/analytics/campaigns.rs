//! Campaign start and end dates, set on the Analytics screen (the chart
//! shades them as bands).

use super::controls::date_picker;
use crate::model::NewCampaign;
use crate::ui::widgets::{self, display};
use crate::ui::{Action, Shared};
use crate::worker::ShortCommand;
use chrono_tz::Tz;

/// The campaign-dates form: which campaign, and its dates as typed.
#[derive(Default)]
pub struct CampaignDates {
    campaign: Option<i64>,
    starts: String,
    ends: String,
}

impl CampaignDates {
    /// Campaign start and end dates, set and edited here as with
    /// `refboard campaign edit`; the model validates them.
    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        tz: Tz,
        actions: &mut Vec<Action>,
    ) {
        let campaigns: Vec<&crate::model::Campaign> = shared
            .snap
            .campaigns
            .iter()
            .filter(|c| !c.archived)
            .collect();
        if campaigns.is_empty() {
            return;
        }
        egui::CollapsingHeader::new("Campaign dates")
            .id_salt("campaign_dates")
            .show(ui, |ui| {
                let form = &mut *self;
                let chosen = campaigns
                    .iter()
                    .find(|c| Some(c.id) == form.campaign)
                    .copied();
                ui.horizontal_wrapped(|ui| {
                    let l = ui.label("Campaign");
                    egui::ComboBox::from_id_salt("dates_campaign")
                        .selected_text(chosen.map_or("Choose…".into(), |c| display(&c.name)))
                        .show_ui(ui, |ui| {
                            for c in &campaigns {
                                if ui
                                    .selectable_label(form.campaign == Some(c.id), display(&c.name))
                                    .clicked()
                                {
                                    form.campaign = Some(c.id);
                                    form.starts =
                                        c.starts_on.map(|d| d.to_string()).unwrap_or_default();
                                    form.ends =
                                        c.ends_on.map(|d| d.to_string()).unwrap_or_default();
                                }
                            }
                        })
                        .response
                        .labelled_by(l.id);
                });
                let Some(c) = chosen else {
                    return;
                };
                ui.horizontal_wrapped(|ui| {
                    widgets::text_field(ui, "Starts", &mut form.starts, "YYYY-MM-DD or empty");
                    date_picker(ui, "starts_picker", &mut form.starts, tz);
                    widgets::text_field(ui, "Ends", &mut form.ends, "YYYY-MM-DD or empty");
                    date_picker(ui, "ends_picker", &mut form.ends, tz);
                });
                let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
                let (starts, ends) = (opt(&form.starts), opt(&form.ends));
                let parsed =
                    NewCampaign::parse(&c.name, starts.as_deref(), ends.as_deref(), Some(&c.notes));
                if let Err(e) = &parsed {
                    widgets::error_text(ui, &e.to_string());
                }
                if ui
                    .add_enabled(parsed.is_ok(), egui::Button::new("Save dates"))
                    .clicked()
                    && let Ok(new) = parsed
                {
                    actions.push(Action::Send(
                        ShortCommand::UpdateCampaign(crate::model::CampaignId(c.id), new).into(),
                    ));
                }
            });
    }
}
