//! The desktop dashboard (eframe/egui).
//!
//! Each panel is a struct that owns its state, draws from the worker's
//! [`Snapshot`] (through [`Shared`]) and returns [`Action`]s; [`App`] applies
//! them in one place ([`App::apply_action`]). No panel changes another
//! panel's state.
//!
//! The UI never touches SQLite, the network or files: it turns clicks into
//! [`Command`]s for the worker lanes and drains their [`Event`]s under a time
//! budget, leaving the rest queued for the next frame.

mod analytics;
mod backend;
mod chart;
mod dialogs;
mod link_detail;
mod links;
mod top_bar;
mod widgets;

use crate::codes::QrStyle;
use crate::desktop::{APP_ID, ICON_PNG};
use crate::model::{LinkId, PageId};
use crate::stats::{Every, GroupBy, Report};
use crate::store::LinkRow;
use crate::worker::{Command, Event, Job, Snapshot, WorkerHandle, spawn};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::mpsc::TryRecvError;
use std::time::{Duration, Instant};

pub use analytics::{
    COMPARE_MAX, COMPARE_MIN, KindView, PREVIOUS_SUFFIX, Range, TOP_GROUPS, UNTRACKED_PER_PAGE,
};
pub use chart::bucket_x;

/// Key of the persisted UI state in eframe's storage.
const STATE_KEY: &str = "refboard-ui";
/// How long events may be drained in one frame, so a flood never freezes the UI.
pub const DRAIN_BUDGET: Duration = Duration::from_millis(4);

/// The screens of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Tab {
    /// Links, with detail and QR.
    #[default]
    Links,
    /// Charts and totals.
    Analytics,
    /// Backend connection and import.
    Backend,
}

/// UI choices remembered between runs (data stays in SQLite). Each panel
/// takes its part at start and gives it back when eframe saves.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct UiState {
    /// Screen shown.
    pub tab: Tab,
    /// Page shown.
    pub page: Option<PageId>,
    /// Analytics range preset.
    pub range: Range,
    /// Custom range start, YYYY-MM-DD.
    pub custom_from: String,
    /// Custom range end, YYYY-MM-DD.
    pub custom_to: String,
    /// Bucket size; `None` = automatic.
    pub every: Option<Every>,
    /// Grouping.
    pub by: GroupBy,
    /// New vs returning drawing.
    pub kind_view: KindView,
    /// Style of exported codes.
    pub qr_style: QrStyle,
    /// Folder of the last single-code export; each link's file is named after its ref.
    pub export_folder: String,
    /// Last bulk export folder.
    pub export_dir: String,
    /// Logo file for exported codes (empty: none); the worker reads it.
    pub logo_path: String,
    /// Auto-sync interval in minutes; 0 = off.
    pub auto_sync_mins: u32,
    /// Warn on the Backend screen when no webhook event arrived for this many minutes.
    pub webhook_quiet_mins: u32,
    /// Show archived links.
    pub show_archived: bool,
    /// Whether the side panel of the Links screen is shown.
    pub side_panel_open: bool,
    /// Time zone of the analytics screen (IANA name); empty = the machine's.
    pub tz: String,
    /// Draw the previous period on the chart.
    pub show_previous: bool,
    /// Print sheet options of the last bulk export, printer offset
    /// included: an offset belongs to the printer, not to one export.
    pub print: crate::print::PrintOptions,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            tab: Tab::Links,
            page: None,
            range: Range::Days30,
            custom_from: String::new(),
            custom_to: String::new(),
            every: None,
            by: GroupBy::Link,
            kind_view: KindView::Stacked,
            qr_style: QrStyle {
                size_px: 1024,
                ..QrStyle::default()
            },
            export_folder: String::new(),
            export_dir: String::new(),
            logo_path: String::new(),
            auto_sync_mins: 15,
            webhook_quiet_mins: 30,
            show_archived: false,
            side_panel_open: true,
            tz: String::new(),
            show_previous: false,
            print: crate::print::PrintOptions::default(),
        }
    }
}

/// A message shown in the status strip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Error (red) or not.
    pub is_error: bool,
    /// Text.
    pub text: String,
}

/// What a panel asks the app to do. Panels return these; [`App`] applies
/// them in one place, so no panel reaches into another.
#[must_use = "an action does nothing until App applies it"]
#[derive(Debug, Clone)]
pub enum Action {
    /// Hand a command to the worker.
    Send(Command),
    /// Show another screen.
    ShowTab(Tab),
    /// Show another page (reloads and refreshes the chart).
    ShowPage(PageId),
    /// Select a link (or none) on the Links screen.
    Select(Option<LinkId>),
    /// Open the add-page form, or the edit form of the shown page.
    OpenPageForm {
        /// Edit the shown page instead of adding one.
        edit: bool,
    },
    /// Open the new-link form, with a ref pre-filled when given.
    OpenNewLink(Option<String>),
    /// Open the new-link form for an untracked ref, with the campaign and
    /// channel of the link it most resembles pre-selected.
    OpenNewLinkLike {
        /// The ref to pre-fill.
        ref_code: String,
        /// The closest existing link.
        like: LinkId,
    },
    /// Write the shareable report of the analytics range shown to this file.
    SaveReport(PathBuf),
    /// Open the edit form of a link.
    OpenEditLink(LinkId),
    /// Open the bulk export form for a campaign (or the whole page).
    OpenBulk(Option<crate::model::CampaignId>),
    /// Ask before removing a link.
    ConfirmRemove(LinkId),
    /// Start a sync with the saved backend.
    SyncNow,
    /// A long job was handed to the worker: show its progress.
    JobStarted(Job),
    /// Stop the running long job.
    CancelJob,
    /// Replace the status message.
    Say(Message),
    /// Clear the status message.
    Dismiss,
    /// Copy text to the clipboard, and say so.
    Copy(String),
    /// Fetch the analytics report again.
    RefreshStats,
}

/// What every panel may read: the worker's data and the app's status.
pub struct Shared<'a> {
    /// Latest data from the worker.
    pub snap: &'a Snapshot,
    /// Whether the first snapshot arrived.
    pub loaded: bool,
    /// Running long job: kind, done, total.
    pub job: Option<(Job, usize, usize)>,
    /// Latest analytics report.
    pub report: Option<&'a Report>,
    /// The report of the period before it (headline changes, dashed lines).
    pub previous: Option<&'a Report>,
    /// The selected link's row.
    pub selected: Option<&'a LinkRow>,
    /// The local time zone, resolved once at start.
    pub tz: Tz,
    /// The status message.
    pub message: Option<&'a Message>,
    /// Why the worker stopped, when it did.
    pub worker_stopped: Option<&'a str>,
    /// The style of exported codes (single and bulk).
    pub qr_style: &'a QrStyle,
}

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
    dialogs: dialogs::Dialogs,
    rects: Vec<(&'static str, egui::Rect)>,
    copy_request: Option<String>,
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
            dialogs: dialogs::Dialogs::new(&state),
            rects: Vec::new(),
            copy_request: None,
        };
        app.send(Command::Load { page: state.page });
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
            ..UiState::default()
        };
        self.links.save(&mut state);
        self.detail.save(&mut state);
        self.analytics.save(&mut state);
        self.dialogs.save(&mut state);
        state
    }

    /// Hands a command to the worker; when the worker has stopped, says why
    /// nothing will happen.
    pub fn send(&mut self, command: Command) {
        if let Some(why) = &self.worker_stopped {
            let text = format!(
                "Nothing was done: the background worker stopped ({why}). Restart refboard."
            );
            self.say(true, text);
            return;
        }
        if self.worker.send(command).is_err() {
            self.worker_stopped = Some("its thread ended".into());
            self.say(true, "Nothing was done: the background worker stopped.");
        }
    }

    fn say(&mut self, is_error: bool, text: impl Into<String>) {
        self.message = Some(Message {
            is_error,
            text: text.into(),
        });
    }

    /// Sets how long one frame may spend applying events (tests and benchmarks).
    pub fn set_drain_budget(&mut self, budget: Duration) {
        self.drain_budget = budget;
    }

    /// Applies queued worker events until the budget is spent; the rest stay
    /// queued and a repaint is requested so the next frame goes on.
    pub fn drain(&mut self, ctx: &egui::Context) {
        let started = Instant::now();
        loop {
            if started.elapsed() >= self.drain_budget {
                ctx.request_repaint();
                return;
            }
            match self.worker.try_recv() {
                Ok(event) => {
                    self.apply(event);
                    self.events_applied += 1;
                }
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    if self.worker_stopped.is_none() {
                        self.worker_stopped = Some("its threads ended".into());
                    }
                    return;
                }
            }
        }
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Loaded(snap) => {
                // The health comes from its own event; a reload keeps it.
                let health = self.snap.webhook_health.take();
                self.snap = *snap;
                self.snap.webhook_health = health;
                self.loaded = true;
                if self.selected.is_some_and(|id| self.row(id).is_none()) {
                    self.selected = None;
                }
                // Counts may have changed: refresh the chart.
                self.stats_requested = false;
                self.detail.refresh_glance();
            }
            Event::Notice(text) => self.say(false, text),
            Event::Error(text) => self.say(true, text),
            Event::Warnings(ws) => {
                let text = ws
                    .iter()
                    .map(|w| format!("Warning: {w}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                self.say(false, text);
            }
            Event::PageSaved(_) => self.dialogs.page_saved(),
            Event::LinkSaved(id) => {
                self.dialogs.link_saved();
                self.selected = Some(id);
            }
            Event::Progress(job, done, total) => self.job = Some((job, done, total)),
            Event::JobDone(_, result) => {
                self.job = None;
                match result {
                    Ok(t) => self.say(false, t),
                    Err(t) => self.say(true, t),
                }
                // Long jobs change data; the short lane knows the page shown.
                self.send(Command::Load { page: None });
            }
            Event::Exported(result) => {
                self.job = None;
                let text = result.map(|r| {
                    format!(
                        "Exported {} link(s): {} file(s) written{}",
                        r.links,
                        r.files.len(),
                        if r.warnings.is_empty() {
                            String::new()
                        } else {
                            format!("; {}", r.warnings.join("; "))
                        }
                    )
                });
                match &text {
                    Ok(t) => self.say(false, t.clone()),
                    Err(e) => self.say(true, e.clone()),
                }
                self.dialogs.bulk_done(text);
            }
            Event::Connection(result) => self.backend.connection_result(result),
            Event::Health(result) => self.snap.webhook_health = Some(result),
            Event::Stats(report) => {
                self.ask_previous(&report);
                self.report = Some(*report);
            }
            Event::PreviousStats(report) => self.previous = Some(*report),
            Event::Glance(id, glance) => self.detail.set_glance(id, glance),
            Event::ExportExists(path) => self.detail.confirm_overwrite(path),
            Event::QrWritten(path, result) => self.detail.written(path, result),
            Event::SheetPreview(result) => self.dialogs.sheet_preview(result),
            Event::Stopped(why) => {
                self.say(true, format!("The background worker stopped: {why}"));
                self.worker_stopped.get_or_insert(why);
            }
            Event::AliasAdded(row) => self.analytics.alias_added(row),
            Event::AliasRemoved(row) => self.analytics.alias_removed(&row),
        }
    }

    /// Applies one panel action; the only place panel requests change the app.
    pub fn apply_action(&mut self, action: Action) {
        match action {
            Action::Send(command) => self.send(command),
            Action::ShowTab(tab) => self.tab = tab,
            Action::ShowPage(page) => {
                self.selected = None;
                // The previous period of another page must not show beside this one.
                self.previous = None;
                self.send(Command::Load { page: Some(page) });
                self.stats_requested = false;
            }
            Action::Select(id) => self.selected = id,
            Action::OpenPageForm { edit } => {
                let page = self
                    .snap
                    .pages
                    .iter()
                    .find(|p| Some(PageId(p.id)) == self.snap.page);
                self.dialogs.open_page(page.filter(|_| edit));
            }
            Action::OpenNewLink(ref_code) => {
                self.tab = Tab::Links;
                if self.snap.page.is_none() {
                    self.dialogs.open_page(None);
                } else {
                    self.dialogs.open_new_link(&self.snap, ref_code);
                }
            }
            Action::OpenNewLinkLike { ref_code, like } => {
                self.tab = Tab::Links;
                match self.row(like).cloned() {
                    Some(row) => self.dialogs.open_new_link_like(&self.snap, ref_code, &row),
                    None => self.dialogs.open_new_link(&self.snap, Some(ref_code)),
                }
            }
            Action::SaveReport(path) => match self.stats_query() {
                Some(query) => {
                    let title = self
                        .snap
                        .pages
                        .iter()
                        .find(|p| Some(PageId(p.id)) == self.snap.page)
                        .map(|p| p.name.clone())
                        .unwrap_or_default();
                    self.send(Command::WriteReport(crate::report::ReportRequest {
                        path,
                        query,
                        title,
                    }));
                }
                None => self.say(true, "Choose a valid range before saving a report."),
            },
            Action::OpenEditLink(id) => {
                if let Some(row) = self.row(id).cloned() {
                    self.dialogs.open_edit_link(&row);
                }
            }
            Action::OpenBulk(campaign) => {
                let logo = self.detail.logo_path();
                self.dialogs.open_bulk(campaign, logo.as_deref());
            }
            Action::ConfirmRemove(id) => {
                if let Some(row) = self.row(id) {
                    let ref_code = row.link.ref_code.clone();
                    self.dialogs.confirm_remove(id, ref_code);
                }
            }
            Action::SyncNow => self.sync_now(),
            Action::JobStarted(job) => self.job = Some((job, 0, 0)),
            Action::CancelJob => self.worker.cancel(),
            Action::Say(m) => self.message = Some(m),
            Action::Dismiss => self.message = None,
            Action::Copy(text) => {
                self.say(false, format!("Copied {text}"));
                self.copy_request = Some(text);
            }
            Action::RefreshStats => self.stats_requested = false,
        }
    }

    fn apply_all(&mut self, actions: Vec<Action>) {
        for a in actions {
            self.apply_action(a);
        }
    }

    /// Starts a sync with the saved backend, if there is one.
    pub fn sync_now(&mut self) {
        if self.job.is_some() {
            return;
        }
        if self.snap.backend_url.is_empty() {
            self.tab = Tab::Backend;
            self.say(
                true,
                "Connect your bot backend first: enter its URL and API token.",
            );
            return;
        }
        self.last_sync = Instant::now();
        self.job = Some((Job::Sync, 0, 0));
        // Replaces the last sync's message, so the two places never disagree.
        self.say(false, "Syncing…");
        self.send(Command::Sync(crate::sync::SyncConfig::new(
            &self.snap.backend_url,
            &self.snap.backend_token,
        )));
    }

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
        if n {
            self.apply_action(Action::OpenNewLink(None));
        }
        if f {
            self.tab = Tab::Links;
            self.links.focus_filter();
        }
        if f5 {
            self.sync_now();
        }
        if copy && let Some(url) = self.selected_link().map(|r| r.url.clone()) {
            self.apply_action(Action::Copy(url));
        }
    }

    fn row(&self, id: LinkId) -> Option<&LinkRow> {
        self.snap.links.iter().find(|l| LinkId(l.link.id) == id)
    }

    /// The selected link's row.
    pub fn selected_link(&self) -> Option<&LinkRow> {
        self.row(self.selected?)
    }

    /// The query of the analytics screen's choices, or `None` while its
    /// custom range is invalid. The chart follows the page picker when the
    /// page has a Page ID; its Instagram events carry the Instagram account
    /// id instead.
    fn stats_query(&self) -> Option<crate::stats::StatsQuery> {
        let page = self
            .snap
            .pages
            .iter()
            .find(|p| Some(PageId(p.id)) == self.snap.page);
        let page_id = page.and_then(|p| p.numeric_id().map(str::to_string));
        let ig_id = page.and_then(|p| p.ig_id.clone());
        let mut q = self
            .analytics
            .query(self.analytics.tz(), page_id.as_deref())?;
        if q.page_id.is_some() {
            q.ig_id = ig_id;
        }
        Some(q)
    }

    fn request_stats_if_needed(&mut self) {
        if self.tab == Tab::Analytics && !self.stats_requested && self.loaded {
            if let Some(q) = self.stats_query() {
                self.last_query = Some(q.clone());
                self.previous_asked = false;
                // The last range's previous period must not stand beside
                // the new range while the new one is counted.
                self.previous = None;
                self.send(Command::Stats(q));
            }
            self.stats_requested = true;
        }
    }

    /// Asks for the period before `report`'s, with the same query otherwise
    /// (the range is the resolved one, so "All time" has a previous period too).
    ///
    /// A report of an older query (the user kept typing a date while it was
    /// counted) is not asked about: its previous period would stand beside
    /// the newer report.
    fn ask_previous(&mut self, report: &Report) {
        if self.previous_asked {
            return;
        }
        let day = |s: Option<&str>| chrono::NaiveDate::parse_from_str(s?, "%Y-%m-%d").ok();
        let (Some(from), Some(to)) = (day(report.from.as_deref()), day(report.to.as_deref()))
        else {
            return;
        };
        let Some(q) = self.last_query.clone() else {
            return;
        };
        let asked =
            |want: Option<chrono::NaiveDate>, got: chrono::NaiveDate| want.is_none_or(|w| w == got);
        if !asked(q.from, from) || !asked(q.to, to) || q.by != report.by {
            return;
        }
        let Some((pf, pt)) = crate::stats::previous_range(from, to) else {
            return;
        };
        let q = crate::stats::StatsQuery {
            from: Some(pf),
            to: Some(pt),
            every: Some(report.every),
            untracked_offset: 0,
            untracked_limit: 0,
            ..q
        };
        self.previous_asked = true;
        self.send(Command::PreviousStats(q));
    }

    /// The chart's screen transform in the last frame (tests aim the pointer with it).
    pub fn chart_transform(&self) -> Option<egui_plot::PlotTransform> {
        self.analytics.chart_transform()
    }

    /// The chart's hover text in the last frame, if the pointer was over a value.
    pub fn chart_hover(&self) -> Option<&str> {
        self.analytics.hover_text()
    }

    /// Rectangles of the panels drawn in the last frame, by name (layout tests).
    pub fn panel_rects(&self) -> &[(&'static str, egui::Rect)] {
        &self.rects
    }

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
            selected: self
                .selected
                .and_then(|id| self.snap.links.iter().find(|l| LinkId(l.link.id) == id)),
            tz: self.analytics.tz(),
            message: self.message.as_ref(),
            worker_stopped: self.worker_stopped.as_deref(),
            qr_style: &qr_style,
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
        }
        actions.extend(self.dialogs.ui(ui.ctx(), &shared));
        actions.extend(self.detail.overwrite_dialog(ui.ctx()));
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
                self.sync_now();
            }
            ctx.request_repaint_after(Duration::from_secs(30));
        }
        if self.job.is_some() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STATE_KEY, &self.ui_state());
    }
}

/// Opens the dashboard window on `db` and blocks until it is closed.
pub fn run(db: PathBuf, title: &str) -> Result<(), eframe::Error> {
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
        Box::new(move |cc| Ok(Box::new(App::from_creation_context(cc, db)))),
    )
}
