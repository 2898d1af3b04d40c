//! The Links screen: a collapsible side panel of campaigns and channels with
//! a filter (`catalog.rs` edits them), the setup checklist, and the table
//! of links.

mod catalog;

use super::widgets::{self, display};
use super::{Action, CatalogItem, Shared, UiState};
use crate::model::{CampaignId, ChannelId, ChannelKind, LinkId};
use crate::store::LinkRow;
use egui_extras::{Column, TableBuilder};

/// Table sort column of the links table.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
enum SortBy {
    #[default]
    Ref,
    Channel,
    Campaign,
    Referrals,
}

/// The Links screen's own state: filters, sorting, side panel, new-item fields.
pub struct LinksPanel {
    filter: String,
    focus_filter: bool,
    campaign: Option<CampaignId>,
    channel: Option<ChannelId>,
    new_campaign: String,
    new_channel: String,
    new_channel_kind: ChannelKind,
    show_archived: bool,
    side_open: bool,
    sort: SortBy,
    ascending: bool,
    /// The side-panel field to focus on the next frame (checklist steps).
    focus_new: Option<CatalogItem>,
    /// The campaign or channel being edited in the side panel.
    editing: Option<catalog::Edit>,
}

impl LinksPanel {
    /// The panel with the remembered choices.
    pub fn new(state: &UiState) -> Self {
        Self {
            filter: String::new(),
            focus_filter: false,
            campaign: None,
            channel: None,
            new_campaign: String::new(),
            new_channel: String::new(),
            new_channel_kind: ChannelKind::Other,
            show_archived: state.show_archived,
            side_open: state.side_panel_open,
            sort: SortBy::Ref,
            ascending: true,
            focus_new: None,
            editing: None,
        }
    }

    /// Writes the choices to remember.
    pub fn save(&self, state: &mut UiState) {
        state.show_archived = self.show_archived;
        state.side_panel_open = self.side_open;
    }

    /// Shows the side panel and focuses the filter on the next frame (Ctrl+F).
    pub fn focus_filter(&mut self) {
        self.side_open = true;
        self.focus_filter = true;
    }

    /// Shows the side panel and focuses the field that adds `item`.
    pub fn focus_new(&mut self, item: CatalogItem) {
        self.side_open = true;
        self.focus_new = Some(item);
    }

    /// The side panel, when open; returns its rectangle.
    pub fn side_panel(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        actions: &mut Vec<Action>,
    ) -> Option<egui::Rect> {
        if !self.side_open {
            return None;
        }
        // Never more than a third of the window, so the table keeps its room.
        let max = (ui.available_width() / 3.0).max(160.0);
        let r = egui::Panel::left("catalog")
            .resizable(true)
            .default_size(220.0_f32.min(max))
            .size_range(140.0..=max)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.side_contents(ui, shared, actions));
            });
        Some(r.response.rect)
    }

    fn side_contents(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
        ui.horizontal(|ui| {
            ui.strong("Campaigns & channels");
            if ui
                .small_button("Hide")
                .on_hover_text("Hide this panel")
                .clicked()
            {
                self.side_open = false;
            }
        });
        let label = ui.label("Filter");
        let filter = ui
            .add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text("ref, channel, campaign (Ctrl+F)")
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        if self.focus_filter {
            filter.request_focus();
            self.focus_filter = false;
        }
        ui.separator();
        self.campaigns(ui, shared, actions);
        ui.separator();
        self.channels(ui, shared, actions);
        ui.separator();
        ui.checkbox(&mut self.show_archived, "Show archived");
    }

    /// The toolbar, the links table and the empty states.
    #[must_use]
    pub fn central(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        if !shared.loaded {
            ui.spinner();
            return actions;
        }
        if shared.snap.pages.is_empty() {
            egui::ScrollArea::vertical().show(ui, |ui| {
                empty_state(
                    ui,
                    "Welcome to refboard",
                    "refboard makes m.me links for a Facebook Page. Start with its username, link or Page ID.",
                );
                super::checklist::ui(ui, shared, &mut actions);
            });
            return actions;
        }
        super::checklist::ui(ui, shared, &mut actions);
        ui.horizontal_wrapped(|ui| {
            if !self.side_open
                && ui
                    .button("Show campaigns & channels")
                    .on_hover_text("Filter, add, rename and archive them")
                    .clicked()
            {
                self.side_open = true;
            }
            use egui_material_icons::icons::{ICON_ADD_LINK, ICON_PRINT};
            if widgets::icon_button(ui, true, ICON_ADD_LINK, "New link", false)
                .on_hover_text("Ctrl+N")
                .clicked()
            {
                actions.push(Action::OpenNewLink(None));
            }
            if widgets::icon_button(ui, true, ICON_PRINT, "Bulk export…", false)
                .on_hover_text(
                    "Codes and print sheets of a campaign or the whole page, in one folder",
                )
                .clicked()
            {
                actions.push(Action::OpenBulk(self.campaign));
            }
        });
        ui.separator();
        if shared.snap.links.is_empty() {
            egui::ScrollArea::vertical().show(ui, |ui| {
                empty_state(
                    ui,
                    "No links yet",
                    "A link is an m.me URL with a ref code. Put each on one flyer, newsletter, ad or web page to see where conversations come from.",
                );
            });
            return actions;
        }
        let rows = self.rows(shared);
        if rows.is_empty() {
            ui.label("No link matches the filter.");
            return actions;
        }
        let moved =
            arrow_step(ui.ctx()).and_then(|step| step_selection(&rows, shared.selected, step));
        if let Some(i) = moved {
            actions.push(Action::Select(Some(LinkId(rows[i].link.id))));
        }
        self.table(ui, shared, &rows, moved, &mut actions);
        actions
    }

    /// The rows that pass the filters, sorted.
    fn rows<'a>(&self, shared: &Shared<'a>) -> Vec<&'a LinkRow> {
        let needle = self.filter.trim().to_lowercase();
        // A pasted link (https://m.me/Page?ref=code) finds its ref.
        let pasted_ref = ref_of_url(&needle);
        let referrals = |r: &LinkRow| {
            shared
                .snap
                .last_7_days
                .get(&LinkId(r.link.id))
                .copied()
                .unwrap_or(0)
        };
        let mut rows: Vec<&LinkRow> = shared
            .snap
            .links
            .iter()
            .filter(|r| self.show_archived || !r.link.archived)
            .filter(|r| self.campaign.is_none_or(|c| r.link.campaign == c.0))
            .filter(|r| self.channel.is_none_or(|c| r.link.channel == c.0))
            .filter(|r| {
                needle.is_empty()
                    || pasted_ref
                        .as_deref()
                        .is_some_and(|p| r.link.ref_code.to_lowercase() == p)
                    || r.url.to_lowercase().contains(&needle)
                    || r.link.ref_code.to_lowercase().contains(&needle)
                    || r.campaign_name.to_lowercase().contains(&needle)
                    || r.channel_name.to_lowercase().contains(&needle)
                    || r.link.cta.to_lowercase().contains(&needle)
            })
            .collect();
        rows.sort_by(|a, b| {
            let o = match self.sort {
                SortBy::Ref => a.link.ref_code.cmp(&b.link.ref_code),
                SortBy::Channel => a.channel_name.cmp(&b.channel_name),
                SortBy::Campaign => a.campaign_name.cmp(&b.campaign_name),
                SortBy::Referrals => referrals(a).cmp(&referrals(b)),
            };
            let o = if self.ascending { o } else { o.reverse() };
            o.then_with(|| a.link.ref_code.cmp(&b.link.ref_code))
        });
        rows
    }

    fn header(&mut self, ui: &mut egui::Ui, col: SortBy, name: &str) {
        if sort_header(ui, name, self.sort == col, self.ascending) {
            if self.sort == col {
                self.ascending = !self.ascending;
            } else {
                self.sort = col;
                self.ascending = col != SortBy::Referrals;
            }
        }
    }

    fn table(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        rows: &[&LinkRow],
        scroll_to: Option<usize>,
        actions: &mut Vec<Action>,
    ) {
        let selected = shared.selected.map(|r| LinkId(r.link.id));
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        egui::ScrollArea::horizontal().show(ui, |ui| {
            let mut builder = TableBuilder::new(ui);
            if let Some(i) = scroll_to {
                builder = builder.scroll_to_row(i, None);
            }
            builder
                .id_salt("links_table")
                .striped(true)
                .resizable(true)
                .sense(egui::Sense::click())
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                .column(Column::initial(180.0).at_least(80.0).clip(true))
                .column(Column::initial(110.0).at_least(70.0).clip(true))
                .column(Column::initial(110.0).at_least(70.0).clip(true))
                .column(Column::initial(130.0).at_least(120.0))
                .column(Column::remainder().at_least(120.0).clip(true))
                .header(row_height, |mut h| {
                    h.col(|ui| self.header(ui, SortBy::Ref, "Ref"));
                    h.col(|ui| self.header(ui, SortBy::Channel, "Channel"));
                    h.col(|ui| self.header(ui, SortBy::Campaign, "Campaign"));
                    h.col(|ui| {
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            self.header(ui, SortBy::Referrals, "Referrals (7 days)");
                        });
                    });
                    h.col(|ui| {
                        ui.strong("URL");
                    });
                })
                .body(|body| {
                    body.rows(row_height, rows.len(), |mut row| {
                        let r = rows[row.index()];
                        let id = LinkId(r.link.id);
                        row.set_selected(selected == Some(id));
                        let n = shared.snap.last_7_days.get(&id).copied().unwrap_or(0);
                        let clicked = link_cells(&mut row, r, selected == Some(id), n);
                        if clicked || row.response().clicked() {
                            actions.push(Action::Select(Some(id)));
                        }
                    });
                });
        });
    }
}

/// The ref of a pasted link (`https://m.me/Page?ref=code`), lower case.
fn ref_of_url(text: &str) -> Option<String> {
    let with_scheme = if text.contains("://") {
        text.to_string()
    } else {
        format!("https://{text}")
    };
    let url = url::Url::parse(&with_scheme).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == "ref")
        .map(|(_, v)| v.to_lowercase())
}

/// Up (-1) or down (+1) when an arrow key was pressed and no text field or
/// dialog takes the keyboard.
fn arrow_step(ctx: &egui::Context) -> Option<i64> {
    if ctx.egui_wants_keyboard_input() || ctx.memory(|m| m.top_modal_layer().is_some()) {
        return None;
    }
    ctx.input_mut(|i| {
        if i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown) {
            Some(1)
        } else if i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp) {
            Some(-1)
        } else {
            None
        }
    })
}

/// The row index the selection moves to by `step`: the first (down) or last
/// (up) row when none of `rows` is selected, and it stops at either end.
fn step_selection(rows: &[&LinkRow], selected: Option<&LinkRow>, step: i64) -> Option<usize> {
    let last = rows.len().checked_sub(1)?;
    let at = selected.and_then(|s| rows.iter().position(|r| r.link.id == s.link.id));
    Some(match at {
        None if step > 0 => 0,
        None => last,
        Some(i) => (i as i64 + step).clamp(0, last as i64) as usize,
    })
}

/// The cells of one link's row: ref (a selectable button), channel,
/// campaign, referrals of the last 7 days and the URL. Returns whether the
/// ref was clicked.
fn link_cells(
    row: &mut egui_extras::TableRow<'_, '_>,
    r: &LinkRow,
    is_selected: bool,
    last_7_days: u64,
) -> bool {
    let mut text = display(&r.link.ref_code);
    if r.link.archived {
        text.push_str(" (archived)");
    }
    let mut clicked = false;
    row.col(|ui| {
        clicked |= ui
            .add(egui::Button::selectable(is_selected, text).truncate())
            .clicked();
    });
    row.col(|ui| {
        ui.add(egui::Label::new(display(&r.channel_name)).truncate());
    });
    row.col(|ui| {
        ui.add(egui::Label::new(display(&r.campaign_name)).truncate());
    });
    row.col(|ui| {
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(last_7_days.to_string());
        });
    });
    row.col(|ui| {
        ui.add(
            egui::Label::new(egui::RichText::new(display(&r.url)).monospace().small()).truncate(),
        );
    });
    clicked
}

/// A clickable column header with a sort arrow (drawn, so it needs no
/// font glyph) when it is the sort column. Returns whether it was clicked.
pub fn sort_header(ui: &mut egui::Ui, name: &str, sorted: bool, ascending: bool) -> bool {
    let direction = if ascending { "ascending" } else { "descending" };
    let text = if sorted {
        format!("{name}, sorted {direction}")
    } else {
        name.to_string()
    };
    let response = ui
        .add(egui::Button::new(egui::RichText::new(name).strong()).frame(false))
        .on_hover_text(format!("Sort by {name}"));
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, text.clone()));
    if sorted {
        let h = ui.text_style_height(&egui::TextStyle::Body) * 0.5;
        let (rect, _) = ui.allocate_exact_size(egui::vec2(h, h), egui::Sense::hover());
        let c = rect.center();
        let d = h * 0.5;
        let points = if ascending {
            vec![
                c + egui::vec2(-d, d * 0.6),
                c + egui::vec2(d, d * 0.6),
                c + egui::vec2(0.0, -d * 0.7),
            ]
        } else {
            vec![
                c + egui::vec2(-d, -d * 0.6),
                c + egui::vec2(d, -d * 0.6),
                c + egui::vec2(0.0, d * 0.7),
            ]
        };
        ui.painter().add(egui::Shape::convex_polygon(
            points,
            ui.visuals().strong_text_color(),
            egui::Stroke::NONE,
        ));
    }
    response.clicked()
}

fn empty_state(ui: &mut egui::Ui, title: &str, text: &str) {
    ui.add_space(24.0);
    ui.heading(title);
    ui.label(text);
    ui.add_space(8.0);
    let _ = widgets::error_text;
}
