//! The Analytics screen: range presets, granularity, grouping, a time-series
//! chart, new versus returning, a sortable totals table, untracked refs and
//! CSV export of the shown table.

use super::{App, ByChoice, EveryChoice, KindView, Range, UiState, widgets};
use crate::stats::{Every, GroupStats, StatsQuery, local_tz};
use crate::worker::Command;
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};

/// Most series drawn at once; the rest are in the table.
const MAX_SERIES: usize = 50;

/// Table sort column.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Group key.
    Key,
    /// Referrals.
    #[default]
    Referrals,
    /// Unique people.
    People,
    /// New.
    New,
    /// Returning.
    Returning,
}

/// Runtime state of the analytics screen.
#[derive(Default)]
pub struct AnalyticsView {
    sort: SortBy,
    ascending: bool,
    csv_path: String,
}

/// The stats query for the current choices, or `None` while the custom range is invalid.
pub fn query_for(state: &UiState, page_id: Option<&str>) -> Option<StatsQuery> {
    let tz = local_tz();
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let (from, to) = match state.range {
        Range::All => (None, None),
        Range::Custom => {
            let f = crate::model::parse_date("from", &state.custom_from).ok()?;
            let t = crate::model::parse_date("to", &state.custom_to).ok()?;
            if t < f {
                return None;
            }
            (Some(f), Some(t))
        }
        r => {
            let days = r.days().unwrap_or(30);
            (Some(today - chrono::Duration::days(days - 1)), Some(today))
        }
    };
    Some(StatsQuery {
        from,
        to,
        tz,
        by: state.by.by(),
        every: state.every.map(EveryChoice::every),
        unique_people: true,
        page_id: page_id.map(str::to_string),
        top: crate::stats::DEFAULT_TOP,
        untracked_offset: 0,
        untracked_limit: crate::stats::DEFAULT_UNTRACKED_LIMIT,
    })
}

/// Days since the epoch of a bucket label, for the x axis.
fn bucket_x(label: &str) -> f64 {
    let (date, hour) = match label.split_once('T') {
        Some((d, h)) => (
            d.to_string(),
            h.get(..2)
                .and_then(|h| h.parse::<f64>().ok())
                .unwrap_or(0.0),
        ),
        None if label.len() == 7 => (format!("{label}-01"), 0.0),
        None => (label.to_string(), 0.0),
    };
    chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .map(|d| (d - chrono::NaiveDate::default()).num_days() as f64 + hour / 24.0)
        .unwrap_or(0.0)
}

fn x_label(x: f64, every: Every) -> String {
    let day = chrono::NaiveDate::default() + chrono::Duration::days(x.floor() as i64);
    match every {
        Every::Hour => format!(
            "{} {:02}:00",
            day,
            ((x.fract() * 24.0).round() as i64).rem_euclid(24)
        ),
        Every::Month => day.format("%Y-%m").to_string(),
        _ => day.to_string(),
    }
}

/// The choices that decide the query; a change asks for a new report.
fn choices(state: &UiState) -> (Range, Option<EveryChoice>, ByChoice, String, String) {
    (
        state.range,
        state.every,
        state.by,
        state.custom_from.clone(),
        state.custom_to.clone(),
    )
}

/// Draws the analytics screen.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    let before = choices(&app.state);
    ui.horizontal_wrapped(|ui| {
        ui.label("Range");
        for r in Range::ALL {
            if ui
                .selectable_label(app.state.range == r, r.label())
                .clicked()
            {
                app.state.range = r;
            }
        }
    });
    if app.state.range == Range::Custom {
        ui.horizontal(|ui| {
            widgets::text_field(ui, "From", &mut app.state.custom_from, "YYYY-MM-DD");
            widgets::text_field(ui, "To", &mut app.state.custom_to, "YYYY-MM-DD");
        });
        if query_for(&app.state, None).is_none() {
            widgets::error_text(
                ui,
                "Enter both dates as YYYY-MM-DD, the first not after the second.",
            );
        }
    }
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Granularity");
        let text = match app.state.every {
            None => "Automatic",
            Some(EveryChoice::Hour) => "Hour",
            Some(EveryChoice::Day) => "Day",
            Some(EveryChoice::Week) => "Week",
            Some(EveryChoice::Month) => "Month",
        };
        egui::ComboBox::from_id_salt("every")
            .selected_text(text)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut app.state.every, None, "Automatic");
                for (e, t) in [
                    (EveryChoice::Hour, "Hour"),
                    (EveryChoice::Day, "Day"),
                    (EveryChoice::Week, "Week"),
                    (EveryChoice::Month, "Month"),
                ] {
                    ui.selectable_value(&mut app.state.every, Some(e), t);
                }
            })
            .response
            .labelled_by(l.id);
        let l = ui.label("Group by");
        egui::ComboBox::from_id_salt("group_by")
            .selected_text(app.state.by.label())
            .show_ui(ui, |ui| {
                for b in ByChoice::ALL {
                    ui.selectable_value(&mut app.state.by, b, b.label());
                }
            })
            .response
            .labelled_by(l.id);
        if app.state.by == ByChoice::Kind {
            ui.selectable_value(&mut app.state.kind_view, KindView::Stacked, "Stacked bars");
            ui.selectable_value(&mut app.state.kind_view, KindView::Lines, "Two lines");
        }
        if ui.button("Refresh").clicked() {
            app.refresh_stats();
        }
    });
    let after = choices(&app.state);
    if before != after {
        app.refresh_stats();
    }
    ui.separator();
    let Some(report) = app.report.clone() else {
        ui.spinner();
        return;
    };
    if report.groups.is_empty() {
        ui.heading("No referrals in this range");
        if app.snap.backend_url.is_empty() {
            ui.label("Connect your bot backend to sync referrals, or import webhook bodies.");
            if ui.button("Connect your bot backend").clicked() {
                app.state.tab = super::Tab::Backend;
            }
        } else {
            ui.label("Try a longer range, or sync now (F5).");
        }
    } else {
        let t = &report.totals;
        ui.label(format!(
            "{} to {} ({}), per {}: {} referrals from {} people, {} new and {} returning",
            report.from.as_deref().unwrap_or("-"),
            report.to.as_deref().unwrap_or("-"),
            report.tz,
            report.every,
            t.referrals,
            t.unique_people,
            t.new,
            t.returning
        ));
        chart(app, ui, &report.groups, report.every);
    }
    ui.separator();
    totals_table(app, ui, &report);
}

fn chart(app: &App, ui: &mut egui::Ui, groups: &[GroupStats], every: Every) {
    let every_copy = every;
    let plot = Plot::new("series")
        .height(ui.available_height().clamp(160.0, 320.0))
        .legend(Legend::default())
        .x_axis_formatter(move |mark, _| x_label(mark.value, every_copy))
        .label_formatter(move |hover| {
            use egui_plot::HoverPosition;
            match hover {
                HoverPosition::NearDataPoint {
                    plot_name,
                    position,
                    ..
                } => Some(format!(
                    "{plot_name}\n{}: {}",
                    x_label(position.x, every_copy),
                    position.y.round()
                )),
                HoverPosition::Elsewhere { .. } => None,
            }
        });
    let kind_bars = app.state.by == ByChoice::Kind && app.state.kind_view == KindView::Stacked;
    plot.show(ui, |p| {
        if kind_bars {
            // Stacked: returning on top of new.
            let totals = kind_totals(groups);
            let width = match every {
                Every::Hour => 1.0 / 24.0 * 0.8,
                Every::Day => 0.8,
                Every::Week => 5.6,
                Every::Month => 24.0,
            };
            let new = BarChart::new(
                "New",
                totals
                    .iter()
                    .map(|(x, n, _)| Bar::new(*x, *n).width(width))
                    .collect(),
            );
            let ret = BarChart::new(
                "Returning",
                totals
                    .iter()
                    .map(|(x, _, r)| Bar::new(*x, *r).width(width))
                    .collect(),
            )
            .stack_on(&[&new]);
            p.bar_chart(new);
            p.bar_chart(ret);
        } else if app.state.by == ByChoice::Kind {
            let totals = kind_totals(groups);
            let new: Vec<[f64; 2]> = totals.iter().map(|(x, n, _)| [*x, *n]).collect();
            let ret: Vec<[f64; 2]> = totals.iter().map(|(x, _, r)| [*x, *r]).collect();
            p.line(Line::new("New", PlotPoints::from(new)));
            p.line(Line::new("Returning", PlotPoints::from(ret)));
        } else {
            for g in groups.iter().take(MAX_SERIES) {
                let pts: Vec<[f64; 2]> = g
                    .series
                    .iter()
                    .map(|pt| [bucket_x(&pt.bucket), pt.referrals as f64])
                    .collect();
                p.line(Line::new(g.key.clone(), PlotPoints::from(pts)));
            }
        }
    });
}

/// New and returning per bucket, summed over the groups: (x, new, returning), by x.
fn kind_totals(groups: &[GroupStats]) -> Vec<(f64, f64, f64)> {
    let mut by_x: std::collections::BTreeMap<i64, (f64, f64, f64)> =
        std::collections::BTreeMap::new();
    for pt in groups.iter().flat_map(|g| g.series.iter()) {
        let x = bucket_x(&pt.bucket);
        // Keyed by hour so float labels of the same bucket meet.
        let e = by_x
            .entry((x * 24.0).round() as i64)
            .or_insert((x, 0.0, 0.0));
        e.1 += pt.new as f64;
        e.2 += pt.returning as f64;
    }
    by_x.into_values().collect()
}

fn totals_table(app: &mut App, ui: &mut egui::Ui, report: &crate::stats::Report) {
    let mut rows: Vec<&GroupStats> = report.groups.iter().collect();
    let view = &mut app.analytics;
    rows.sort_by(|a, b| {
        let o = match view.sort {
            SortBy::Key => a.key.cmp(&b.key),
            SortBy::Referrals => a.referrals.cmp(&b.referrals),
            SortBy::People => a.unique_people.cmp(&b.unique_people),
            SortBy::New => a.new.cmp(&b.new),
            SortBy::Returning => a.returning.cmp(&b.returning),
        };
        let o = if view.ascending { o } else { o.reverse() };
        o.then_with(|| a.key.cmp(&b.key))
    });
    let mut create_ref = None;
    egui::ScrollArea::vertical()
        .id_salt("totals")
        .max_height(260.0)
        .show(ui, |ui| {
            egui::Grid::new("totals_table")
                .striped(true)
                .show(ui, |ui| {
                    for (col, name) in [
                        (SortBy::Key, app.state.by.label()),
                        (SortBy::Referrals, "Referrals"),
                        (SortBy::People, "Unique people"),
                        (SortBy::New, "New"),
                        (SortBy::Returning, "Returning"),
                    ] {
                        let arrow = if view.sort == col {
                            if view.ascending { " (asc)" } else { " (desc)" }
                        } else {
                            ""
                        };
                        if ui.button(format!("{name}{arrow}")).clicked() {
                            if view.sort == col {
                                view.ascending = !view.ascending;
                            } else {
                                view.sort = col;
                                view.ascending = col == SortBy::Key;
                            }
                        }
                    }
                    ui.end_row();
                    for g in &rows {
                        ui.label(&g.key);
                        ui.label(g.referrals.to_string());
                        ui.label(g.unique_people.to_string());
                        ui.label(g.new.to_string());
                        ui.label(g.returning.to_string());
                        ui.end_row();
                    }
                });
            if !report.untracked_refs.is_empty() {
                ui.separator();
                ui.strong("Untracked refs");
                ui.label(
                    "Refs that reached the page but match no link: typos, old or unlisted links.",
                );
                egui::Grid::new("untracked").striped(true).show(ui, |ui| {
                    for u in &report.untracked_refs {
                        ui.label(&u.ref_code);
                        ui.label(u.referrals.to_string());
                        if ui
                            .button(format!("Create link for {}", u.ref_code))
                            .clicked()
                        {
                            create_ref = Some(u.ref_code.clone());
                        }
                        ui.end_row();
                    }
                });
            }
        });
    if let Some(r) = create_ref {
        app.state.tab = super::Tab::Links;
        app.open_new_link(Some(r));
    }
    ui.horizontal(|ui| {
        widgets::text_field(
            ui,
            "CSV file",
            &mut app.analytics.csv_path,
            "/path/to/table.csv",
        );
        if ui.button("Browse…").clicked()
            && let Some(p) = rfd::FileDialog::new()
                .add_filter("CSV", &["csv"])
                .set_file_name("referrals.csv")
                .save_file()
        {
            app.analytics.csv_path = p.display().to_string();
        }
        let ok = !app.analytics.csv_path.trim().is_empty();
        if ui
            .add_enabled(ok, egui::Button::new("Export CSV"))
            .clicked()
        {
            let header = ["key", "referrals", "unique_people", "new", "returning"];
            let rows = rows
                .iter()
                .map(|g| {
                    vec![
                        g.key.clone(),
                        g.referrals.to_string(),
                        g.unique_people.to_string(),
                        g.new.to_string(),
                        g.returning.to_string(),
                    ]
                })
                .collect();
            app.send(Command::WriteCsv {
                path: app.analytics.csv_path.trim().into(),
                header: header.map(String::from).to_vec(),
                rows,
            });
        }
    });
}
