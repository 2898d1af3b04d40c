//! The desktop dashboard (eframe/egui). One panel per file; this module
//! holds the [`App`], its persisted [`UiState`] and the runtime handles.
//!
//! The UI draws from memory and turns clicks into [`Command`]s for the
//! worker thread; it never touches SQLite, the network or files itself.

mod analytics;
mod backend;
mod dialogs;
mod link_detail;
mod links;
mod top_bar;
mod widgets;

use crate::qr::QrStyle;
use crate::stats::{Every, GroupBy, Report};
use crate::worker::{Command, Event, Job, Snapshot, WorkerHandle, spawn};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Key of the persisted UI state in eframe's storage.
const STATE_KEY: &str = "refboard-ui";
/// How long events may be drained in one frame, so a flood never freezes the UI.
const DRAIN_BUDGET: Duration = Duration::from_millis(4);

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

/// Date range presets of the analytics screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Range {
    /// Today only.
    Today,
    /// Last 7 days.
    Days7,
    /// Last 30 days.
    #[default]
    Days30,
    /// Last 90 days.
    Days90,
    /// Last 365 days.
    Days365,
    /// Everything.
    All,
    /// The custom from/to fields.
    Custom,
}

impl Range {
    /// Every preset, in menu order.
    pub const ALL: [Range; 7] = [
        Range::Today,
        Range::Days7,
        Range::Days30,
        Range::Days90,
        Range::Days365,
        Range::All,
        Range::Custom,
    ];

    /// Button text.
    pub fn label(self) -> &'static str {
        match self {
            Range::Today => "Today",
            Range::Days7 => "7 days",
            Range::Days30 => "30 days",
            Range::Days90 => "90 days",
            Range::Days365 => "365 days",
            Range::All => "All time",
            Range::Custom => "Custom",
        }
    }

    /// Days back from today, for the presets that have a fixed length.
    pub fn days(self) -> Option<i64> {
        match self {
            Range::Today => Some(1),
            Range::Days7 => Some(7),
            Range::Days30 => Some(30),
            Range::Days90 => Some(90),
            Range::Days365 => Some(365),
            Range::All | Range::Custom => None,
        }
    }
}

/// How the new-versus-returning split is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum KindView {
    /// Stacked bars.
    #[default]
    Stacked,
    /// Two lines.
    Lines,
}

/// UI choices remembered between runs (data stays in SQLite).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct UiState {
    /// Screen shown.
    pub tab: Tab,
    /// Page shown.
    pub page: Option<i64>,
    /// Analytics range preset.
    pub range: Range,
    /// Custom range start, YYYY-MM-DD.
    pub custom_from: String,
    /// Custom range end, YYYY-MM-DD.
    pub custom_to: String,
    /// Bucket size; `None` = automatic.
    pub every: Option<EveryChoice>,
    /// Grouping.
    pub by: ByChoice,
    /// New vs returning drawing.
    pub kind_view: KindView,
    /// Style of exported codes.
    pub qr_style: QrStyle,
    /// Last single-code export path.
    pub export_path: String,
    /// Last bulk export folder.
    pub export_dir: String,
    /// Auto-sync interval in minutes; 0 = off.
    pub auto_sync_mins: u32,
    /// Show archived links.
    pub show_archived: bool,
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
            by: ByChoice::Link,
            kind_view: KindView::Stacked,
            qr_style: QrStyle {
                size_px: 1024,
                ..QrStyle::default()
            },
            export_path: String::new(),
            export_dir: String::new(),
            auto_sync_mins: 15,
            show_archived: false,
        }
    }
}

/// Serializable mirror of [`Every`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EveryChoice {
    /// Hour.
    Hour,
    /// Day.
    Day,
    /// Week.
    Week,
    /// Month.
    Month,
}

impl EveryChoice {
    /// As the stats type.
    pub fn every(self) -> Every {
        match self {
            EveryChoice::Hour => Every::Hour,
            EveryChoice::Day => Every::Day,
            EveryChoice::Week => Every::Week,
            EveryChoice::Month => Every::Month,
        }
    }
}

/// Serializable mirror of the analytics groupings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ByChoice {
    /// Link.
    #[default]
    Link,
    /// Channel.
    Channel,
    /// Campaign.
    Campaign,
    /// Source.
    Source,
    /// New vs returning.
    Kind,
}

impl ByChoice {
    /// Every choice, in menu order.
    pub const ALL: [ByChoice; 5] = [
        ByChoice::Link,
        ByChoice::Channel,
        ByChoice::Campaign,
        ByChoice::Source,
        ByChoice::Kind,
    ];

    /// As the stats type.
    pub fn by(self) -> GroupBy {
        match self {
            ByChoice::Link => GroupBy::Link,
            ByChoice::Channel => GroupBy::Channel,
            ByChoice::Campaign => GroupBy::Campaign,
            ByChoice::Source => GroupBy::Source,
            ByChoice::Kind => GroupBy::Kind,
        }
    }

    /// Menu text.
    pub fn label(self) -> &'static str {
        match self {
            ByChoice::Link => "Link",
            ByChoice::Channel => "Channel",
            ByChoice::Campaign => "Campaign",
            ByChoice::Source => "Source",
            ByChoice::Kind => "New vs returning",
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

/// The dashboard application.
pub struct App {
    /// Persisted choices.
    pub state: UiState,
    worker: WorkerHandle,
    /// Latest data from the worker.
    pub snap: Snapshot,
    /// Whether the first snapshot arrived.
    pub loaded: bool,
    /// Messages, newest last.
    pub messages: Vec<Message>,
    /// Running long job: kind, done, total.
    pub job: Option<(Job, usize, usize)>,
    /// Latest analytics report.
    pub report: Option<Report>,
    stats_requested: bool,
    last_sync: Instant,
    links: links::LinksView,
    detail: link_detail::DetailView,
    analytics: analytics::AnalyticsView,
    backend: backend::BackendView,
    dialogs: dialogs::Dialogs,
}

impl App {
    /// A dashboard on the database at `db`; `ctx` is woken by the worker.
    pub fn new(ctx: &egui::Context, db: PathBuf, state: UiState) -> Self {
        let wake_ctx = ctx.clone();
        let worker = spawn(db, move || wake_ctx.request_repaint());
        worker.send(Command::Load { page: state.page });
        Self {
            state,
            worker,
            snap: Snapshot::default(),
            loaded: false,
            messages: Vec::new(),
            job: None,
            report: None,
            stats_requested: false,
            last_sync: Instant::now(),
            links: links::LinksView::default(),
            detail: link_detail::DetailView::default(),
            analytics: analytics::AnalyticsView::default(),
            backend: backend::BackendView::default(),
            dialogs: dialogs::Dialogs::default(),
        }
    }

    /// Builds the app from eframe's creation context, restoring saved choices.
    pub fn from_creation_context(cc: &eframe::CreationContext<'_>, db: PathBuf) -> Self {
        let state = cc
            .storage
            .and_then(|s| eframe::get_value::<UiState>(s, STATE_KEY))
            .unwrap_or_default();
        Self::new(&cc.egui_ctx, db, state)
    }

    /// Sends a command to the worker.
    pub fn send(&self, command: Command) {
        self.worker.send(command);
    }

    fn say(&mut self, is_error: bool, text: impl Into<String>) {
        self.messages.push(Message {
            is_error,
            text: text.into(),
        });
        if self.messages.len() > 50 {
            self.messages.remove(0);
        }
    }

    /// Drains worker events under a time budget.
    fn drain(&mut self) {
        let started = Instant::now();
        for event in self.worker.poll() {
            self.apply(event);
            if started.elapsed() > DRAIN_BUDGET {
                break;
            }
        }
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Loaded(snap) => {
                self.snap = *snap;
                self.state.page = self.snap.page;
                self.loaded = true;
                // Counts may have changed: refresh the chart.
                self.stats_requested = false;
            }
            Event::Notice(text) => self.say(false, text),
            Event::Error(text) => self.say(true, text),
            Event::Warnings(ws) => {
                for w in ws {
                    self.say(false, format!("Warning: {w}"));
                }
            }
            Event::PageSaved(_) => self.dialogs.page = None,
            Event::LinkSaved(id) => {
                self.dialogs.link = None;
                self.links.selected = Some(id);
            }
            Event::Progress(job, done, total) => self.job = Some((job, done, total)),
            Event::JobDone(_, result) => {
                self.job = None;
                match result {
                    Ok(t) => self.say(false, t),
                    Err(t) => self.say(true, t),
                }
            }
            Event::Exported(result) => {
                self.job = None;
                self.dialogs.bulk_result = Some(result.map(|r| {
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
                }));
            }
            Event::Connection(result) => self.backend.connection = Some(result),
            Event::Stats(report) => self.report = Some(*report),
        }
    }

    /// Starts a sync with the saved backend, if there is one.
    pub fn sync_now(&mut self) {
        if self.job.is_some() {
            return;
        }
        if self.snap.backend_url.is_empty() {
            self.state.tab = Tab::Backend;
            self.say(
                true,
                "Connect your bot backend first: enter its URL and API token.",
            );
            return;
        }
        self.last_sync = Instant::now();
        self.job = Some((Job::Sync, 0, 0));
        self.send(Command::Sync(crate::sync::SyncConfig::new(
            &self.snap.backend_url,
            &self.snap.backend_token,
        )));
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let new_link = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
        let find = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
        let (n, f, f5, esc) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&new_link),
                i.consume_shortcut(&find),
                i.consume_key(Modifiers::NONE, Key::F5),
                i.consume_key(Modifiers::NONE, Key::Escape),
            )
        });
        // Ctrl+C copies the selected link unless a text field has focus.
        let copy = ctx.input(|i| i.events.iter().any(|e| matches!(e, egui::Event::Copy)))
            && !ctx.egui_wants_keyboard_input();
        if n {
            self.state.tab = Tab::Links;
            self.open_new_link(None);
        }
        if f {
            self.state.tab = Tab::Links;
            self.links.focus_filter = true;
        }
        if f5 {
            self.sync_now();
        }
        if esc {
            self.dialogs.close_all();
        }
        if copy && let Some(row) = self.selected_link() {
            ctx.copy_text(row.url.clone());
            self.say(false, format!("Copied {}", row.url));
        }
    }

    /// Stops the running long job.
    pub fn cancel_job(&mut self) {
        self.worker.cancel();
    }

    /// Opens the new-link form, with a ref pre-filled when given.
    pub fn open_new_link(&mut self, ref_code: Option<String>) {
        if self.snap.page.is_none() {
            self.dialogs.page = Some(dialogs::PageForm::default());
            return;
        }
        self.dialogs.link = Some(dialogs::LinkForm::new(&self.snap, ref_code));
    }

    /// The selected link's row.
    pub fn selected_link(&self) -> Option<&crate::store::LinkRow> {
        let id = self.links.selected?;
        self.snap.links.iter().find(|l| l.link.id == id)
    }

    fn request_stats_if_needed(&mut self) {
        if self.state.tab == Tab::Analytics && !self.stats_requested && self.loaded {
            // The chart follows the page picker when the page has a Page ID.
            let page_id = self
                .snap
                .pages
                .iter()
                .find(|p| Some(p.id) == self.snap.page)
                .and_then(|p| p.numeric_id().map(str::to_string));
            if let Some(q) = analytics::query_for(&self.state, page_id.as_deref()) {
                self.send(Command::Stats(q));
            }
            self.stats_requested = true;
        }
    }

    /// Marks the chart stale so it is fetched again.
    pub fn refresh_stats(&mut self) {
        self.stats_requested = false;
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain();
        self.shortcuts(ctx);
        self.request_stats_if_needed();
        let interval = u64::from(self.state.auto_sync_mins) * 60;
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
        top_bar::show(self, ui);
        egui::Panel::bottom("status").show(ui, |ui| widgets::status_strip(self, ui));
        match self.state.tab {
            Tab::Links => {
                links::side_panel(self, ui);
                if self.selected_link().is_some() {
                    link_detail::show(self, ui);
                }
                egui::CentralPanel::default().show(ui, |ui| links::central(self, ui));
            }
            Tab::Analytics => {
                egui::CentralPanel::default().show(ui, |ui| analytics::show(self, ui));
            }
            Tab::Backend => {
                egui::CentralPanel::default().show(ui, |ui| backend::show(self, ui));
            }
        }
        dialogs::show(self, ui.ctx());
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STATE_KEY, &self.state);
    }
}

/// Opens the dashboard window on `db` and blocks until it is closed.
pub fn run(db: PathBuf, title: &str) -> Result<(), eframe::Error> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(title)
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 500.0]),
        persist_window: true,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "refboard",
        options,
        Box::new(move |cc| Ok(Box::new(App::from_creation_context(cc, db)))),
    )
}
