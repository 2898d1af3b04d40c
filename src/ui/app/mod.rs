//! The dashboard application: the panels, the worker handle and what the
//! worker last said. Panels draw from [`Shared`] and return [`Action`]s;
//! [`App::apply_action`] (in `actions.rs`) applies them in one place, and
//! `events.rs` applies the worker's events.

mod actions;
mod events;
mod health;
mod look;

pub use crate::ui::shared::{Action, CatalogItem, Message, Shared, Tab, UiState};

use super::{analytics, backend, dialogs, link_detail, links, setup, top_bar, widgets};
use crate::model::{LinkId, PageId};
use crate::stats::Report;
use crate::store::LinkRow;
use crate::ui::shared::STATE_KEY;
use crate::worker::{Job, ShortCommand, Snapshot, WorkerHandle, spawn};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long events may be drained in one frame, so a flood never freezes the UI.
pub const DRAIN_BUDGET: Duration = Duration::from_millis(4);

/// The dashboard application.
pub struct App {
    /// Screen shown.
    pub tab: Tab,
    worker: WorkerHandle,
    /// Latest data from the worker.
    pub snap: Snapshot,
    /// Whether the first snapshot arrived.
    pub loaded: bool,
    /// The status message; each action replaces the one before.
    pub message: Option<Message>,
    /// Running long job: kind, done, total.
    pub job: Option<(Job, usize, usize)>,
    /// Latest analytics report.
    pub report: Option<Report>,
    /// The report of the period before the shown one.
    pub previous: Option<Report>,
    /// The conversions of the latest report (shown only while they belong to it).
    pub conversions: Option<crate::stats::conversions::ConversionReport>,
    /// The conversions of the previous period's report.
    pub previous_conversions: Option<crate::stats::conversions::ConversionReport>,
    /// The last stats query sent; the previous period's query is made from it.
    last_query: Option<crate::stats::StatsQuery>,
    /// Whether the previous period of `last_query` was asked for already (a
    /// query may be answered twice: first without, then with unique people).
    previous_asked: bool,
    /// Events applied since start (every event the worker sent, none dropped).
    pub events_applied: u64,
    /// Why the worker stopped, when it did; shown as a banner.
    pub worker_stopped: Option<String>,
    /// The selected link.
    pub selected: Option<LinkId>,
    drain_budget: Duration,
    stats_requested: bool,
    auto_sync_mins: u32,
    last_sync: Instant,
    top_bar: top_bar::TopBar,
    links: links::LinksPanel,
    detail: link_detail::DetailPanel,
    analytics: analytics::AnalyticsPanel,
    backend: backend::BackendPanel,
    /// The Setup screen (the setup doctor).
    setup: setup::SetupPanel,
    dialogs: dialogs::Dialogs,
    rects: Vec<(&'static str, egui::Rect)>,
    copy_request: Option<String>,
    /// Light or dark as switched in the window; `None` follows the system.
    theme: Option<egui::Theme>,
    /// Whether the text sizes were set (once, on the first frame).
    styled: bool,
    /// The message on screen and when it appeared (the app's clock, seconds).
    message_since: Option<(Message, f64)>,
    /// Whether the webhook health was asked for at start.
    health_asked: bool,
}

impl App {
    /// A dashboard on the database at `db`; `ctx` is woken by the worker.
    pub fn new(ctx: &egui::Context, db: PathBuf, state: UiState) -> Self {
        let wake_ctx = ctx.clone();
        let worker = spawn(db, move || wake_ctx.request_repaint());
        Self::with_worker(worker, state)
    }

    /// A dashboard on a worker handle made elsewhere (tests and benchmarks
    /// use [`crate::worker::detached`] to feed it events).
    pub fn with_worker(worker: WorkerHandle, state: UiState) -> Self {
        let mut app = Self {
            tab: state.tab,
            worker,
            snap: Snapshot::default(),
            loaded: false,
            message: None,
            job: None,
            report: None,
            previous: None,
            conversions: None,
            previous_conversions: None,
            last_query: None,
            previous_asked: false,
            events_applied: 0,
            worker_stopped: None,
            selected: None,
            drain_budget: DRAIN_BUDGET,
            stats_requested: false,
            auto_sync_mins: state.auto_sync_mins,
            last_sync: Instant::now(),
            top_bar: top_bar::TopBar,
            links: links::LinksPanel::new(&state),
            detail: link_detail::DetailPanel::new(&state),
            analytics: analytics::AnalyticsPanel::new(&state),
            backend: backend::BackendPanel::new(&state),
            setup: setup::SetupPanel::default(),
            dialogs: dialogs::Dialogs::new(&state),
            rects: Vec::new(),
            copy_request: None,
            theme: state.theme,
            styled: false,
            message_since: None,
            health_asked: false,
        };
        app.send(ShortCommand::Load { page: state.page }.into());
        app
    }

    /// Builds the app from eframe's creation context, restoring saved choices.
    pub fn from_creation_context(cc: &eframe::CreationContext<'_>, db: PathBuf) -> Self {
        let state = cc
            .storage
            .and_then(|s| eframe::get_value::<UiState>(s, STATE_KEY))
            .unwrap_or_default();
        Self::new(&cc.egui_ctx, db, state)
    }

    /// The choices to remember, gathered from the panels.
    pub fn ui_state(&self) -> UiState {
        let mut state = UiState {
            tab: self.tab,
            page: self.snap.page,
            auto_sync_mins: self.backend.auto_sync_mins,
            webhook_quiet_mins: self.backend.webhook_quiet_mins,
            theme: self.theme,
            ..UiState::default()
        };
        self.links.save(&mut state);
        self.detail.save(&mut state);
        self.analytics.save(&mut state);
        self.dialogs.save(&mut state);
        state
    }

    /// Ctrl+N (new link), Ctrl+F (find), F5 (sync), Ctrl+C (copy the selected
    /// link), Ctrl+1 to Ctrl+4 (the tabs) and Escape (dismiss the message).
    fn shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let new_link = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
        let find = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
        let (n, f, f5) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&new_link),
                i.consume_shortcut(&find),
                i.consume_key(Modifiers::NONE, Key::F5),
            )
        });
        // Ctrl+C copies the selected link unless a text field has focus.
        let copy = ctx.input(|i| i.events.iter().any(|e| matches!(e, egui::Event::Copy)))
            && !ctx.egui_wants_keyboard_input();
        // A dialog on screen keeps what was typed in it: no second one over it.
        if n && !self.dialogs.is_open() {
            self.apply_action(Action::OpenNewLink(None));
        }
        if f {
            self.tab = Tab::Links;
            self.links.focus_filter();
        }
        if f5 {
            self.sync_now(true);
        }
        if copy && let Some(url) = self.selected_link().map(|r| r.url.clone()) {
            self.apply_action(Action::Copy(url));
        }
        self.tab_shortcuts(ctx);
        // Escape dismisses the status message (its button is out of the Tab
        // order) unless a dialog or a text field wants the key.
        if self.message.is_some()
            && !self.dialogs.is_open()
            && !ctx.egui_wants_keyboard_input()
            && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape))
        {
            self.apply_action(Action::Dismiss);
        }
    }

    /// Ctrl+1 to Ctrl+4 show Links, Analytics, Backend and Setup, in the
    /// top bar's order, so every screen is a key away.
    fn tab_shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let tabs = [
            (Key::Num1, Tab::Links),
            (Key::Num2, Tab::Analytics),
            (Key::Num3, Tab::Backend),
            (Key::Num4, Tab::Setup),
        ];
        for (key, tab) in tabs {
            let shortcut = KeyboardShortcut::new(Modifiers::COMMAND, key);
            if ctx.input_mut(|i| i.consume_shortcut(&shortcut)) {
                self.apply_action(Action::ShowTab(tab));
            }
        }
    }

    /// The page shown, if any.
    fn page(&self) -> Option<&crate::model::Page> {
        self.snap
            .pages
            .iter()
            .find(|p| Some(PageId(p.id)) == self.snap.page)
    }

    /// The row of link `id` in the snapshot.
    fn row(&self, id: LinkId) -> Option<&LinkRow> {
        self.snap.links.iter().find(|l| LinkId(l.link.id) == id)
    }

    /// The selected link's row.
    pub fn selected_link(&self) -> Option<&LinkRow> {
        self.row(self.selected?)
    }

    /// The query of the analytics screen's choices, or `None` while its
    /// custom range is invalid. The chart follows the page picker
    /// ([`crate::model::Page::event_filter`]).
    fn stats_query(&self) -> Option<crate::stats::StatsQuery> {
        let page = self
            .page()
            .map(crate::model::Page::event_filter)
            .unwrap_or_default();
        self.analytics.query(self.analytics.tz(), page)
    }

    /// Asks for the analytics report when its screen is shown and the last answer is stale.
    fn request_stats_if_needed(&mut self) {
        if self.tab == Tab::Analytics && !self.stats_requested && self.loaded {
            if let Some(q) = self.stats_query() {
                self.last_query = Some(q.clone());
                self.previous_asked = false;
                // The last range's previous period must not stand beside
                // the new range while the new one is counted.
                self.previous = None;
                self.send(ShortCommand::Stats(q).into());
            }
            self.stats_requested = true;
        }
    }

    /// The chart's screen transform in the last frame (tests aim the pointer with it).
    pub fn chart_transform(&self) -> Option<egui_plot::PlotTransform> {
        self.analytics.chart_transform()
    }

    /// The chart's plot rect (axes included) and its legend's, in the last
    /// frame (layout tests).
    pub fn chart_rects(&self) -> Option<(egui::Rect, egui::Rect)> {
        self.analytics.chart_rects()
    }

    /// Each drawn line's name and colour in the last frame (tests).
    pub fn chart_colors(&self) -> &[(String, egui::Color32)] {
        self.analytics.chart_colors()
    }

    /// The chart's hover text in the last frame, if the pointer was over a value.
    pub fn chart_hover(&self) -> Option<&str> {
        self.analytics.hover_text()
    }

    /// Rectangles of the panels drawn in the last frame, by name (layout tests).
    pub fn panel_rects(&self) -> &[(&'static str, egui::Rect)] {
        &self.rects
    }

    /// Draws the panels and the open dialog, then applies what they asked for.
    fn draw(&mut self, ui: &mut egui::Ui) {
        self.rects.clear();
        let mut actions = Vec::new();
        let qr_style = self.detail.style().clone();
        let shared = Shared {
            snap: &self.snap,
            loaded: self.loaded,
            job: self.job,
            report: self.report.as_ref(),
            previous: self.previous.as_ref(),
            conversions: self.conversions.as_ref(),
            previous_conversions: self.previous_conversions.as_ref(),
            selected: self
                .selected
                .and_then(|id| self.snap.links.iter().find(|l| LinkId(l.link.id) == id)),
            tz: self.analytics.tz(),
            message: self.message.as_ref(),
            worker_stopped: self.worker_stopped.as_deref(),
            qr_style: &qr_style,
            webhook_quiet_mins: self.backend.webhook_quiet_mins,
        };
        let r = egui::Panel::top("top_bar").show(ui, |ui| {
            actions.extend(self.top_bar.ui(ui, &shared, self.tab));
        });
        self.rects.push(("top bar", r.response.rect));
        let r = egui::Panel::bottom("status").show(ui, |ui| {
            actions.extend(widgets::status_strip(ui, &shared));
        });
        self.rects.push(("status", r.response.rect));
        match self.tab {
            Tab::Links => {
                if let Some(r) = self.links.side_panel(ui, &shared, &mut actions) {
                    self.rects.push(("side panel", r));
                }
                if let Some(row) = shared.selected {
                    let r = self.detail.ui(ui, &shared, row, &mut actions);
                    self.rects.push(("detail panel", r));
                }
                let r = egui::CentralPanel::default().show(ui, |ui| {
                    actions.extend(self.links.central(ui, &shared));
                });
                self.rects.push(("links table", r.response.rect));
            }
            Tab::Analytics => {
                let r = egui::CentralPanel::default().show(ui, |ui| {
                    actions.extend(self.analytics.ui(ui, &shared));
                });
                self.rects.push(("analytics", r.response.rect));
            }
            Tab::Backend => {
                let r = egui::CentralPanel::default().show(ui, |ui| {
                    actions.extend(self.backend.ui(ui, &shared));
                });
                self.rects.push(("backend", r.response.rect));
            }
            Tab::Setup => {
                let r = egui::CentralPanel::default().show(ui, |ui| {
                    actions.extend(self.setup.ui(ui, &shared));
                });
                self.rects.push(("setup", r.response.rect));
            }
        }
        actions.extend(self.dialogs.ui(ui.ctx(), &shared));
        if let Some(text) = self.copy_request.take() {
            ui.ctx().copy_text(text);
        }
        self.apply_all(actions);
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain(ctx);
        self.shortcuts(ctx);
        self.request_stats_if_needed();
        self.auto_sync_mins = self.backend.auto_sync_mins;
        let interval = u64::from(self.auto_sync_mins) * 60;
        if interval > 0 && !self.snap.backend_url.is_empty() {
            if self.last_sync.elapsed() >= Duration::from_secs(interval) {
                self.sync_now(false);
            }
            ctx.request_repaint_after(Duration::from_secs(30));
        }
        if self.job.is_some() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.look(ui.ctx());
        self.fade_message(ui.ctx());
        self.draw(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STATE_KEY, &self.ui_state());
    }
}
