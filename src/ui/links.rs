//! The Links screen: a side panel of campaigns and channels with a filter,
//! and the table of links.

use super::{App, dialogs, widgets};
use crate::model::ChannelKind;
use crate::worker::Command;

/// Runtime state of the links screen.
#[derive(Default)]
pub struct LinksView {
    /// Selected link id.
    pub selected: Option<i64>,
    /// Filter text.
    pub filter: String,
    /// Focus the filter on the next frame (Ctrl+F).
    pub focus_filter: bool,
    /// Only this campaign.
    pub campaign: Option<i64>,
    /// Only this channel.
    pub channel: Option<i64>,
    new_campaign: String,
    new_channel: String,
    new_channel_kind: Option<ChannelKind>,
}

/// The side panel.
pub fn side_panel(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::left("catalog")
        .resizable(true)
        .default_size(230.0)
        .show(ui, |ui| {
            let label = ui.label("Filter");
            let filter = ui.add(
                egui::TextEdit::singleline(&mut app.links.filter)
                    .hint_text("ref, channel, campaign (Ctrl+F)")
                    .desired_width(f32::INFINITY),
            );
            let filter = filter.labelled_by(label.id);
            if app.links.focus_filter {
                filter.request_focus();
                app.links.focus_filter = false;
            }
            ui.separator();
            ui.strong("Campaigns");
            if ui
                .selectable_label(app.links.campaign.is_none(), "All campaigns")
                .clicked()
            {
                app.links.campaign = None;
            }
            let mut pick = None;
            for c in app
                .snap
                .campaigns
                .iter()
                .filter(|c| !c.archived || app.state.show_archived)
            {
                let text = if c.archived {
                    format!("{} (archived)", c.name)
                } else {
                    c.name.clone()
                };
                if ui
                    .selectable_label(app.links.campaign == Some(c.id), text)
                    .clicked()
                {
                    pick = Some(c.id);
                }
            }
            if pick.is_some() {
                app.links.campaign = pick;
            }
            if let Some(page) = app.snap.page {
                ui.horizontal(|ui| {
                    let l = ui.label("New campaign");
                    ui.add(
                        egui::TextEdit::singleline(&mut app.links.new_campaign)
                            .desired_width(110.0),
                    )
                    .labelled_by(l.id);
                    let valid =
                        crate::model::NewCampaign::parse(&app.links.new_campaign, None, None, None);
                    if ui
                        .add_enabled(valid.is_ok(), egui::Button::new("Add campaign"))
                        .clicked()
                        && let Ok(new) = valid
                    {
                        app.send(Command::AddCampaign(page, new));
                        app.links.new_campaign.clear();
                    }
                });
            }
            ui.separator();
            ui.strong("Channels");
            if ui
                .selectable_label(app.links.channel.is_none(), "All channels")
                .clicked()
            {
                app.links.channel = None;
            }
            let mut pick = None;
            for c in app
                .snap
                .channels
                .iter()
                .filter(|c| !c.archived || app.state.show_archived)
            {
                if ui
                    .selectable_label(
                        app.links.channel == Some(c.id),
                        format!("{} · {}", c.name, c.kind),
                    )
                    .clicked()
                {
                    pick = Some(c.id);
                }
            }
            if pick.is_some() {
                app.links.channel = pick;
            }
            if let Some(page) = app.snap.page {
                ui.horizontal(|ui| {
                    let l = ui.label("New channel");
                    ui.add(
                        egui::TextEdit::singleline(&mut app.links.new_channel).desired_width(110.0),
                    )
                    .labelled_by(l.id);
                });
                ui.horizontal(|ui| {
                    let l = ui.label("Kind");
                    let kind = app.links.new_channel_kind.unwrap_or(ChannelKind::Other);
                    egui::ComboBox::from_id_salt("new_channel_kind")
                        .selected_text(kind.as_str())
                        .show_ui(ui, |ui| {
                            for k in ChannelKind::ALL {
                                ui.selectable_value(
                                    &mut app.links.new_channel_kind,
                                    Some(k),
                                    k.as_str(),
                                );
                            }
                        })
                        .response
                        .labelled_by(l.id);
                    let valid = crate::model::validate_name("name", &app.links.new_channel).is_ok();
                    if ui
                        .add_enabled(valid, egui::Button::new("Add channel"))
                        .clicked()
                    {
                        app.send(Command::AddChannel(
                            page,
                            app.links.new_channel.trim().to_string(),
                            kind,
                        ));
                        app.links.new_channel.clear();
                    }
                });
            }
            ui.separator();
            ui.checkbox(&mut app.state.show_archived, "Show archived");
        });
}

/// The links table and its empty states.
pub fn central(app: &mut App, ui: &mut egui::Ui) {
    if !app.loaded {
        ui.spinner();
        return;
    }
    if app.snap.pages.is_empty() {
        empty_state(
            ui,
            "Welcome to refboard",
            "refboard makes m.me links for a Facebook Page. Start with its username, link or Page ID.",
        );
        if ui.button("Add your page").clicked() {
            app.dialogs.page = Some(dialogs::PageForm::default());
        }
        return;
    }
    ui.horizontal(|ui| {
        if ui.button("New link").on_hover_text("Ctrl+N").clicked() {
            app.open_new_link(None);
        }
        if ui.button("Bulk export…").clicked() {
            app.dialogs.bulk = Some(dialogs::BulkForm::new(&app.state, app.links.campaign));
        }
        if app.snap.backend_url.is_empty() && !app.snap.links.is_empty() {
            ui.separator();
            if ui.link("Connect your bot backend").clicked() {
                app.state.tab = super::Tab::Backend;
            }
        }
    });
    ui.separator();
    if app.snap.links.is_empty() {
        empty_state(
            ui,
            "No links yet",
            "A link is an m.me URL with a ref code. Put each on one flyer, newsletter, ad or web page to see where conversations come from.",
        );
        if ui.button("Create your first link").clicked() {
            app.open_new_link(None);
        }
        return;
    }
    let needle = app.links.filter.to_lowercase();
    let rows: Vec<usize> = app
        .snap
        .links
        .iter()
        .enumerate()
        .filter(|(_, r)| app.state.show_archived || !r.link.archived)
        .filter(|(_, r)| app.links.campaign.is_none_or(|c| r.link.campaign == c))
        .filter(|(_, r)| app.links.channel.is_none_or(|c| r.link.channel == c))
        .filter(|(_, r)| {
            needle.is_empty()
                || r.link.ref_code.to_lowercase().contains(&needle)
                || r.campaign_name.to_lowercase().contains(&needle)
                || r.channel_name.to_lowercase().contains(&needle)
                || r.link.cta.to_lowercase().contains(&needle)
        })
        .map(|(i, _)| i)
        .collect();
    if rows.is_empty() {
        ui.label("No link matches the filter.");
        return;
    }
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new("links_table")
                .striped(true)
                .num_columns(5)
                .show(ui, |ui| {
                    for h in ["Ref", "Channel", "Campaign", "URL", "Referrals (7 days)"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for i in rows {
                        let r = &app.snap.links[i];
                        let selected = app.links.selected == Some(r.link.id);
                        let text = if r.link.archived {
                            format!("{} (archived)", r.link.ref_code)
                        } else {
                            r.link.ref_code.clone()
                        };
                        if ui.selectable_label(selected, text).clicked() {
                            app.links.selected = Some(r.link.id);
                        }
                        ui.label(&r.channel_name);
                        ui.label(&r.campaign_name);
                        ui.label(egui::RichText::new(&r.url).monospace().small());
                        ui.label(
                            app.snap
                                .last_7_days
                                .get(&r.link.id)
                                .copied()
                                .unwrap_or(0)
                                .to_string(),
                        );
                        ui.end_row();
                    }
                });
        });
}

fn empty_state(ui: &mut egui::Ui, title: &str, text: &str) {
    ui.add_space(24.0);
    ui.heading(title);
    ui.label(text);
    ui.add_space(8.0);
    let _ = widgets::error_text;
}
