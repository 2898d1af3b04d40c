//! The desktop dashboard (eframe/egui).
//!
//! Each panel is a struct that owns its state, draws from the worker's
//! [`Snapshot`](crate::worker::Snapshot) (through [`Shared`]) and returns
//! [`Action`]s; [`App`] applies them in one place ([`App::apply_action`]).
//! No panel changes another panel's state.
//!
//! The UI never touches SQLite, the network or files: it turns clicks into
//! [`Command`](crate::worker::Command)s for the worker lanes and drains their
//! [`Event`](crate::worker::Event)s under a time budget, leaving the rest
//! queued for the next frame.
//!
//! Layout: `app/` holds the [`App`] (`actions.rs` applies every action,
//! `events.rs` the worker's events, `state.rs` the [`UiState`] remembered
//! between runs); each panel has its file or folder (`top_bar`, `links`,
//! `link_detail`, `analytics/` with one file per sub-view, `backend`);
//! `dialogs/` holds the modal dialogs, one open at a time; `chart` and
//! `widgets` are drawn by several panels.

mod analytics;
mod app;
mod backend;
mod chart;
mod checklist;
mod dialogs;
mod health_badge;
mod link_detail;
mod links;
mod setup;
mod shared;
mod top_bar;
mod widgets;

pub use analytics::{
    COMPARE_MAX, COMPARE_MIN, KindView, PREVIOUS_SUFFIX, Range, TOP_GROUPS, UNTRACKED_PER_PAGE,
};
pub use app::{Action, App, CatalogItem, DRAIN_BUDGET, Message, Shared, Tab, UiState};
pub use chart::bucket_x;

use crate::desktop::{APP_ID, ICON_PNG};
use std::path::PathBuf;

/// The look to start in, overriding the remembered one (`refboard --theme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ThemeChoice {
    /// Dark text on a light background.
    Light,
    /// Light text on a dark background.
    Dark,
}

impl From<ThemeChoice> for egui::Theme {
    fn from(t: ThemeChoice) -> Self {
        match t {
            ThemeChoice::Light => egui::Theme::Light,
            ThemeChoice::Dark => egui::Theme::Dark,
        }
    }
}

/// Opens the dashboard window on `db` and blocks until it is closed; `theme` overrides the remembered
/// look for this start (and is remembered in turn).
pub fn run(db: PathBuf, title: &str, theme: Option<ThemeChoice>) -> Result<(), eframe::Error> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(title)
        .with_app_id(APP_ID)
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size([640.0, 480.0]);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(ICON_PNG) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        persist_window: true,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        APP_ID,
        options,
        Box::new(move |cc| {
            let mut app = App::from_creation_context(cc, db);
            if let Some(t) = theme {
                app.apply_action(Action::SetTheme(t.into()));
            }
            Ok(Box::new(app))
        }),
    )
}
