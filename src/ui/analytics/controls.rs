//! The query choices of the Analytics screen: range presets, custom dates
//! with date pickers, the time zone, granularity and grouping.

use super::{KindView, MAX_ZONES_LISTED, Range, TOP_GROUPS, UNTRACKED_PER_PAGE};
use crate::model::EventFilter;
use crate::stats::{Compare, Every, GroupBy, StatsQuery};
use crate::ui::widgets;
use crate::ui::{Action, Shared, UiState};
use chrono::NaiveDate;
use chrono_tz::Tz;

/// The choices that decide the query; a change asks for a new report.
pub(super) type Choices = (Range, Option<Every>, GroupBy, String, String, Tz);

/// The query choices, as typed and picked.
pub struct Controls {
    pub(super) range: Range,
    custom_from: String,
    custom_to: String,
    every: Option<Every>,
    pub(super) by: GroupBy,
    pub(super) kind_view: KindView,
    pub(super) tz: Tz,
    zone_search: String,
}

impl Controls {
    /// The remembered choices; an unknown zone falls back to the machine's.
    pub(super) fn new(state: &UiState) -> Self {
        Self {
            range: state.range,
            custom_from: state.custom_from.clone(),
            custom_to: state.custom_to.clone(),
            every: state.every,
            by: state.by,
            kind_view: state.kind_view,
            tz: crate::stats::parse_tz(&state.tz).unwrap_or_else(|_| crate::stats::local_tz()),
            zone_search: String::new(),
        }
    }

    /// Writes the choices to remember.
    pub(super) fn save(&self, state: &mut UiState) {
        state.range = self.range;
        state.custom_from = self.custom_from.clone();
        state.custom_to = self.custom_to.clone();
        state.every = self.every;
        state.by = self.by;
        state.kind_view = self.kind_view;
        state.tz = self.tz.name().to_string();
    }

    /// The choices as one value, to see whether a frame changed them.
    pub(super) fn choices(&self) -> Choices {
        (
            self.range,
            self.every,
            self.by,
            self.custom_from.clone(),
            self.custom_to.clone(),
            self.tz,
        )
    }

    /// The stats query for the current choices (first page of untracked
    /// refs), or `None` while the custom range is invalid.
    pub(super) fn query(&self, tz: Tz, page: EventFilter) -> Option<StatsQuery> {
        let today = chrono::Utc::now().with_timezone(&tz).date_naive();
        let (from, to, compare) = match self.range {
            Range::All => (None, None, Compare::Preceding),
            Range::Custom => {
                let f = crate::model::parse_date("from", &self.custom_from).ok()?;
                let t = crate::model::parse_date("to", &self.custom_to).ok()?;
                if t < f {
                    return None;
                }
                (Some(f), Some(t), Compare::Preceding)
            }
            r => {
                let (f, t, compare) = r.days_on(today)?;
                (Some(f), Some(t), compare)
            }
        };
        let mut q = StatsQuery::new(self.by, tz);
        q.from = from;
        q.to = to;
        q.compare = compare;
        q.every = self.every;
        q.unique_people = true;
        q.page = page;
        q.top = TOP_GROUPS;
        q.untracked_limit = UNTRACKED_PER_PAGE;
        Some(q)
    }

    /// Which period the current range is compared with.
    pub(super) fn compare(&self) -> Compare {
        match self.range {
            Range::ThisMonth => Compare::SameDaysLastMonth,
            _ => Compare::Preceding,
        }
    }

    /// Draws the choices; Refresh asks for the report again.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, shared: &Shared<'_>, actions: &mut Vec<Action>) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Range");
            for r in Range::ALL {
                let button = ui
                    .selectable_label(self.range == r, r.label())
                    .on_hover_text(r.comparison());
                if button.clicked() && self.range != r {
                    if r == Range::Custom {
                        self.prefill_custom(shared);
                    }
                    self.range = r;
                }
            }
        });
        if self.range == Range::Custom {
            ui.horizontal_wrapped(|ui| {
                widgets::text_field(ui, "From", &mut self.custom_from, "YYYY-MM-DD");
                date_picker(ui, "from_picker", &mut self.custom_from, self.tz);
                widgets::text_field(ui, "To", &mut self.custom_to, "YYYY-MM-DD");
                date_picker(ui, "to_picker", &mut self.custom_to, self.tz);
            });
            if self.query(shared.tz, EventFilter::every()).is_none() {
                widgets::error_text(
                    ui,
                    "Enter both dates as YYYY-MM-DD, the first not after the second.",
                );
            }
        }
        ui.horizontal_wrapped(|ui| {
            self.zone_picker(ui);
            let l = ui.label("Granularity");
            egui::ComboBox::from_id_salt("every")
                .selected_text(self.every.map_or("Automatic", Every::label))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.every, None, "Automatic");
                    for e in Every::ALL {
                        ui.selectable_value(&mut self.every, Some(e), e.label());
                    }
                })
                .response
                .labelled_by(l.id);
            let l = ui.label("Group by");
            egui::ComboBox::from_id_salt("group_by")
                .selected_text(self.by.label())
                .show_ui(ui, |ui| {
                    for b in GroupBy::ALL {
                        ui.selectable_value(&mut self.by, b, b.label());
                    }
                })
                .response
                .labelled_by(l.id);
            if self.by == GroupBy::Kind {
                ui.selectable_value(&mut self.kind_view, KindView::Stacked, "Stacked bars");
                ui.selectable_value(&mut self.kind_view, KindView::Lines, "Two lines");
            }
            if ui.button("Refresh").clicked() {
                actions.push(Action::RefreshStats);
            }
        });
    }

    /// Custom starts from the range on screen (the report's days, which for
    /// All time are the first and last day with referrals), so a small
    /// change to it is one edit.
    fn prefill_custom(&mut self, shared: &Shared<'_>) {
        let shown = shared.report.and_then(|r| r.from.zip(r.to));
        let today = chrono::Utc::now().with_timezone(&self.tz).date_naive();
        let days = shown.or_else(|| self.range.days_on(today).map(|(f, t, _)| (f, t)));
        if let Some((from, to)) = days {
            self.custom_from = from.to_string();
            self.custom_to = to.to_string();
        }
    }

    /// The time-zone picker: a menu with a search field over every IANA zone.
    fn zone_picker(&mut self, ui: &mut egui::Ui) {
        let l = ui.label("Time zone");
        egui::ComboBox::from_id_salt("time_zone")
            .selected_text(self.tz.name())
            .height(320.0)
            .show_ui(ui, |ui| {
                let l = ui.label("Find a zone");
                ui.add(
                    egui::TextEdit::singleline(&mut self.zone_search)
                        .hint_text("e.g. Berlin")
                        .desired_width(200.0),
                )
                .labelled_by(l.id);
                let wanted = self.zone_search.trim().to_lowercase();
                let matches = chrono_tz::TZ_VARIANTS
                    .iter()
                    .filter(|z| wanted.is_empty() || z.name().to_lowercase().contains(&wanted));
                for zone in matches.take(MAX_ZONES_LISTED) {
                    ui.selectable_value(&mut self.tz, *zone, zone.name());
                }
            })
            .response
            .labelled_by(l.id);
    }
}

/// A date picker button beside a YYYY-MM-DD field; the date its Save applies
/// is written back into the field, even when it is the one the picker
/// opened on (an empty or unreadable field opens it at today, and Save then
/// means today: issue 19, defect 3).
pub(super) fn date_picker(ui: &mut egui::Ui, id: &str, field: &mut String, tz: Tz) {
    let shown = crate::model::parse_date("date", field)
        .ok()
        .unwrap_or_else(|| chrono::Utc::now().with_timezone(&tz).date_naive());
    let Some(mut date) = to_jiff(shown) else {
        return;
    };
    let saved = ui
        .add(
            egui_extras::DatePickerButton::new(&mut date)
                .id_salt(id)
                .show_icon(false),
        )
        .on_hover_text("Pick a date")
        .changed();
    if saved && let Some(d) = from_jiff(date) {
        *field = d.to_string();
    }
}

/// A chrono date as the date picker's (jiff) date.
fn to_jiff(d: NaiveDate) -> Option<jiff::civil::Date> {
    use chrono::Datelike;
    jiff::civil::Date::new(
        i16::try_from(d.year()).ok()?,
        i8::try_from(d.month()).ok()?,
        i8::try_from(d.day()).ok()?,
    )
    .ok()
}

/// The date picker's date as chrono's.
fn from_jiff(d: jiff::civil::Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        i32::from(d.year()),
        u32::try_from(d.month()).ok()?,
        u32::try_from(d.day()).ok()?,
    )
}
