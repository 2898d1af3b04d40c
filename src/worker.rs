//! The dashboard's background work, on two lanes: a short lane for loads,
//! saves and stats, and a long lane for sync, import and bulk export. Each
//! lane is a thread with its own store connection, so a sync that is retrying
//! never holds up a Save. Lanes take [`Command`]s, send back [`Event`]s and
//! wake the UI.
//!
//! A panic inside one command is caught at the command boundary and reported
//! as an internal error; the lane goes on. A lane that cannot start (the
//! database cannot be opened) reports [`Event::Stopped`] with its reason.
//!
//! The UI thread never touches SQLite, the network or the file system; long
//! jobs report progress and stop when the shared cancel flag is set.

use crate::codes::{Caption, QrStyle};
use crate::export::{BulkOptions, ExportReport, export_bulk, export_one};
use crate::model::{
    Campaign, CampaignId, Channel, ChannelId, ChannelKind, ExportItem, LinkId, NewCampaign,
    NewLink, NewPage, Page, PageId, Warning,
};
use crate::stats::{Report, StatsQuery};
use crate::store::{LinkFilter, LinkRow, Store};
use crate::sync::{SyncConfig, WebhookHealth, sync, test_connection, webhook_health};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};

/// Settings keys shared with the CLI.
pub const BACKEND_URL: &str = "backend_url";

/// What the UI asks for.
#[derive(Debug, Clone)]
pub enum Command {
    /// Reload pages and the selected page's catalog and links.
    Load {
        /// Page to show; `None` keeps the current one, or picks the first.
        page: Option<PageId>,
    },
    /// Add a page.
    AddPage(NewPage),
    /// Replace a page's fields.
    EditPage(PageId, NewPage),
    /// Add a channel to a page.
    AddChannel(PageId, String, ChannelKind),
    /// Add a campaign to a page.
    AddCampaign(PageId, NewCampaign),
    /// Create a link: page, campaign id, channel id, fields.
    AddLink(PageId, CampaignId, ChannelId, NewLink),
    /// Replace a link: link id, campaign id, channel id, fields.
    UpdateLink(LinkId, CampaignId, ChannelId, NewLink),
    /// Archive (true) or restore a link.
    ArchiveLink(LinkId, bool),
    /// Delete a link.
    RemoveLink(LinkId),
    /// Count referrals with this ref for the link (typo rescue).
    AddAlias(LinkId, String),
    /// Stop counting this alias of the page for its link (undo).
    RemoveAlias(PageId, String),
    /// Write a shareable report (PDF or HTML, chosen by the file's extension).
    WriteReport(crate::report::ReportRequest),
    /// Write one QR code.
    ExportQr {
        /// Target file (.png or .svg).
        path: PathBuf,
        /// The link URL.
        url: String,
        /// Caption CTA.
        cta: String,
        /// Style.
        style: QrStyle,
        /// Replace an existing file (the user confirmed); without it an
        /// existing file is left alone and [`Event::ExportExists`] is sent.
        replace: bool,
        /// A logo file for the centre of the code (read here, not by the UI).
        logo: Option<PathBuf>,
    },
    /// Export many codes into a folder.
    BulkExport {
        /// Folder.
        dir: PathBuf,
        /// Page.
        page: PageId,
        /// Only this campaign.
        campaign: Option<CampaignId>,
        /// Formats, style, sheet.
        options: BulkOptions,
        /// A logo file for the centre of every code (read here, not by the UI).
        logo: Option<PathBuf>,
    },
    /// Lay out the first page of a PDF sheet, prove its codes, and send it
    /// back as [`Event::SheetPreview`]; nothing is written.
    PreviewSheet {
        /// Page.
        page: PageId,
        /// Only this campaign.
        campaign: Option<CampaignId>,
        /// Style and the sheet's print options (`options.pdf`).
        options: BulkOptions,
        /// A logo file for the centre of every code.
        logo: Option<PathBuf>,
    },
    /// Pull events from the backend.
    Sync(SyncConfig),
    /// Check URL and token.
    TestConnection(SyncConfig),
    /// Save backend URL and token.
    SaveBackend {
        /// URL.
        url: String,
        /// Token.
        token: String,
    },
    /// Import webhook bodies from files.
    Import(Vec<PathBuf>),
    /// Run a stats query.
    Stats(StatsQuery),
    /// Run the query of the period before the shown one (for the change on
    /// the headline cards and the dashed previous-period lines); answered
    /// with [`Event::PreviousStats`].
    PreviousStats(StatsQuery),
    /// The link detail's glance: a 30-day daily series and totals for 7
    /// days, 30 days and all time, in `tz`; answered with [`Event::Glance`].
    LinkGlance(LinkId, chrono_tz::Tz),
    /// Replace a campaign's name, dates and notes (validated by the model).
    UpdateCampaign(CampaignId, NewCampaign),
    /// Write a file the UI produced, atomically.
    WriteFile(PathBuf, Vec<u8>),
    /// Write a table as CSV, atomically, through [`crate::csv_safe`] (formula
    /// cells neutralised).
    WriteCsv {
        /// Target file.
        path: PathBuf,
        /// Column names.
        header: Vec<String>,
        /// Rows of cells.
        rows: Vec<Vec<String>>,
    },
    /// Panics inside the lane (unit tests of the panic boundary).
    #[cfg(test)]
    Panic,
}

/// The first page of a PDF sheet, for the bulk export window's preview.
#[derive(Debug, Clone)]
pub struct SheetPreview {
    /// Paper width and height in points.
    pub paper_pt: (f64, f64),
    /// The codes on the first page (rectangles in points, y down).
    pub codes: Vec<crate::print::PlacedCode>,
    /// The text blocks on the first page.
    pub texts: Vec<crate::print::PlacedText>,
    /// Links in the export.
    pub links: usize,
    /// `Ok` when every code on the page decodes to its link, else why not.
    pub verified: Result<(), String>,
}

/// Most links a first page can hold in any layout (6 grid columns or the
/// 5160 sheet's 30 labels); the preview lays out only these.
const PREVIEW_LINKS: usize = 30;

/// Reads the logo file into the style (the UI never reads files).
fn load_logo(style: &mut QrStyle, logo: Option<&PathBuf>) -> Result<(), String> {
    style.logo = match logo {
        Some(path) => Some(Arc::new(
            crate::codes::logo::Logo::load(path, crate::codes::logo::MAX_LOGO_SHARE, false)
                .map_err(|e| e.to_string())?,
        )),
        None => None,
    };
    Ok(())
}

/// Lays out the first page of `items` as `options` asks and proves it.
fn preview_sheet(items: &[ExportItem], options: &BulkOptions) -> Result<SheetPreview, String> {
    let print = options.pdf.clone().unwrap_or_default();
    let first = &items[..items.len().min(PREVIEW_LINKS)];
    let pdf = crate::print::render_pdf(first, &print, &options.style).map_err(|e| e.to_string())?;
    let verified = crate::export::verify_pdf(&pdf, "the preview").map_err(|e| e.to_string());
    let paper = match print.layout {
        crate::print::PrintLayout::Labels => print.label.spec().paper,
        _ => print.paper,
    };
    let (w, h) = paper.size_mm();
    let pt = 72.0 / 25.4;
    Ok(SheetPreview {
        paper_pt: (w * pt, h * pt),
        codes: pdf.codes.into_iter().filter(|c| c.page == 0).collect(),
        texts: pdf.texts.into_iter().filter(|t| t.page == 0).collect(),
        links: items.len(),
        verified,
    })
}

/// Which long job a progress event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Sync.
    Sync,
    /// Import.
    Import,
    /// Bulk export.
    Export,
}

/// The current data, as the UI shows it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every page.
    pub pages: Vec<Page>,
    /// The page shown.
    pub page: Option<PageId>,
    /// Its channels, archived included.
    pub channels: Vec<Channel>,
    /// Its campaigns, archived included.
    pub campaigns: Vec<Campaign>,
    /// Its links, archived included.
    pub links: Vec<LinkRow>,
    /// Its aliases: refs that count for one of its links (typo rescue).
    pub aliases: Vec<crate::store::AliasRow>,
    /// Referrals per link id in the last 7 days.
    pub last_7_days: HashMap<LinkId, u64>,
    /// Saved backend URL.
    pub backend_url: String,
    /// Saved token.
    pub backend_token: String,
    /// Last successful sync, seconds since the epoch.
    pub last_sync_at: Option<i64>,
    /// Last sync error.
    pub last_sync_error: Option<String>,
    /// Events pulled from the backend so far.
    pub events_pulled: i64,
    /// Events in the store.
    pub events_total: i64,
    /// The backend's webhook health as last read (after a connection test
    /// or a sync); `Err` says why it could not be read. Kept across reloads
    /// by the app.
    pub webhook_health: Option<Result<WebhookHealth, String>>,
}

/// What the worker reports.
#[derive(Debug, Clone)]
pub enum Event {
    /// Fresh data.
    Loaded(Box<Snapshot>),
    /// Something the user should read.
    Notice(String),
    /// A failure, as a readable message.
    Error(String),
    /// Warnings from a save or export.
    Warnings(Vec<Warning>),
    /// A page was added or edited.
    PageSaved(PageId),
    /// A link was created or updated.
    LinkSaved(LinkId),
    /// Progress of a long job: done and total (0 when unknown).
    Progress(Job, usize, usize),
    /// A long job ended.
    JobDone(Job, Result<String, String>),
    /// A bulk export ended.
    Exported(Result<ExportReport, String>),
    /// Connection test result.
    Connection(Result<String, String>),
    /// The backend's webhook health, read after a connection test or a sync.
    Health(Result<WebhookHealth, String>),
    /// Stats ready.
    Stats(Box<Report>),
    /// The previous period's stats ready (see [`Command::PreviousStats`]).
    PreviousStats(Box<Report>),
    /// A link's glance ready.
    Glance(LinkId, crate::stats::LinkGlance),
    /// A single-code export found a file at its path and left it alone.
    ExportExists(PathBuf),
    /// A single-code export ended: the file, and `Ok` when it was written
    /// and its code decoded (scan verified), else why not.
    QrWritten(PathBuf, Result<(), String>),
    /// The first page of a sheet, laid out and proven, or why it cannot be.
    SheetPreview(Result<Box<SheetPreview>, String>),
    /// A lane stopped for good; its commands will not run.
    Stopped(String),
    /// An alias was added: it can be undone.
    AliasAdded(crate::store::AliasRow),
    /// An alias was removed.
    AliasRemoved(crate::store::AliasRow),
}

impl Command {
    /// Whether the command runs on the long lane (it may take minutes).
    pub fn is_long(&self) -> bool {
        matches!(
            self,
            Command::Sync(_) | Command::Import(_) | Command::BulkExport { .. }
        )
    }

    /// A short name for messages about this command.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Load { .. } => "loading",
            Command::AddPage(_) | Command::EditPage(..) => "saving the page",
            Command::AddChannel(..) => "adding the channel",
            Command::AddCampaign(..) => "adding the campaign",
            Command::AddLink(..) | Command::UpdateLink(..) => "saving the link",
            Command::ArchiveLink(..) => "archiving the link",
            Command::RemoveLink(_) => "removing the link",
            Command::AddAlias(..) => "adding the alias",
            Command::RemoveAlias(..) => "removing the alias",
            Command::WriteReport(_) => "writing the report",
            Command::ExportQr { .. } => "exporting the QR code",
            Command::BulkExport { .. } => "the bulk export",
            Command::PreviewSheet { .. } => "the sheet preview",
            Command::Sync(_) => "the sync",
            Command::TestConnection(_) => "the connection test",
            Command::SaveBackend { .. } => "saving the backend",
            Command::Import(_) => "the import",
            Command::Stats(_) | Command::PreviousStats(_) => "the stats query",
            Command::LinkGlance(..) => "the link's figures",
            Command::UpdateCampaign(..) => "saving the campaign",
            Command::WriteFile(..) | Command::WriteCsv { .. } => "writing the file",
            #[cfg(test)]
            Command::Panic => "the test panic",
        }
    }

    /// The long job this command is, if it is one.
    fn job(&self) -> Option<Job> {
        match self {
            Command::Sync(_) => Some(Job::Sync),
            Command::Import(_) => Some(Job::Import),
            Command::BulkExport { .. } => Some(Job::Export),
            _ => None,
        }
    }
}

/// The UI's end of the worker: one sender per lane and the shared event queue.
pub struct WorkerHandle {
    short: Sender<Command>,
    long: Sender<Command>,
    rx: Receiver<Event>,
    cancel: Arc<AtomicBool>,
}

/// Why a command could not be handed to its lane.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the background worker has stopped")]
pub struct WorkerGone;

impl WorkerHandle {
    /// Hands a command to its lane; `Err` when that lane has stopped.
    pub fn send(&self, command: Command) -> Result<(), WorkerGone> {
        let lane = if command.is_long() {
            &self.long
        } else {
            &self.short
        };
        lane.send(command).map_err(|_| WorkerGone)
    }

    /// Asks the running long job to stop.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// The next queued event without blocking; the rest stay queued.
    pub fn try_recv(&self) -> Result<Event, TryRecvError> {
        self.rx.try_recv()
    }

    /// Waits for the next event (tests).
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<Event> {
        self.rx.recv_timeout(timeout).ok()
    }
}

/// The far end of a [`detached`] handle: events to feed the UI, and the
/// commands it sent (both lanes, in order).
pub struct WorkerPeer {
    /// Events as a lane would send them.
    pub events: Sender<Event>,
    /// Commands the UI sent.
    pub commands: Receiver<Command>,
}

/// A handle with no threads behind it, for tests and benchmarks that drive
/// the UI with events of their own.
pub fn detached() -> (WorkerHandle, WorkerPeer) {
    let (tx, commands) = channel::<Command>();
    let (events, rx) = channel::<Event>();
    let handle = WorkerHandle {
        short: tx.clone(),
        long: tx,
        rx,
        cancel: Arc::new(AtomicBool::new(false)),
    };
    (handle, WorkerPeer { events, commands })
}

/// Starts both lanes on `db`. `wake` is called after each event (the UI
/// passes `ctx.request_repaint`).
pub fn spawn(db: PathBuf, wake: impl Fn() + Send + Sync + 'static) -> WorkerHandle {
    let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(wake);
    let (events, rx) = channel::<Event>();
    let cancel = Arc::new(AtomicBool::new(false));
    let short = start_lane(Lane::Short, db.clone(), &events, &wake, &cancel);
    let long = start_lane(Lane::Long, db, &events, &wake, &cancel);
    WorkerHandle {
        short,
        long,
        rx,
        cancel,
    }
}

/// Which lane a thread serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Short,
    Long,
}

impl Lane {
    fn thread_name(self) -> &'static str {
        match self {
            Lane::Short => "refboard-short",
            Lane::Long => "refboard-long",
        }
    }
}

fn start_lane(
    lane: Lane,
    db: PathBuf,
    events: &Sender<Event>,
    wake: &Arc<dyn Fn() + Send + Sync>,
    cancel: &Arc<AtomicBool>,
) -> Sender<Command> {
    let (tx, commands) = channel::<Command>();
    let out = Out {
        events: events.clone(),
        wake: wake.clone(),
    };
    let flag = cancel.clone();
    let spawned = std::thread::Builder::new()
        .name(lane.thread_name().into())
        .spawn(move || run_lane(lane, &db, &commands, &out, &flag));
    if let Err(e) = spawned {
        let _ = events.send(Event::Stopped(format!(
            "cannot start a background thread ({e})"
        )));
        (wake)();
    }
    tx
}

/// A lane's loop: one command at a time, each behind a panic boundary.
fn run_lane(
    lane: Lane,
    db: &std::path::Path,
    commands: &Receiver<Command>,
    out: &Out,
    cancel: &AtomicBool,
) {
    let mut store = match Store::open(db) {
        Ok(s) => s,
        Err(e) => {
            out.send(Event::Stopped(format!(
                "cannot open the database {} ({e})",
                db.display()
            )));
            return;
        }
    };
    if lane == Lane::Short
        && let Some(notice) = store.token_moved().and_then(|p| p.notice())
    {
        out.send(Event::Notice(notice));
    }
    let mut state = State {
        page: None,
        token: None,
    };
    for command in commands {
        if lane == Lane::Long {
            cancel.store(false, Ordering::SeqCst);
        }
        let what = command.name();
        let job = command.job();
        let ran = catch_unwind(AssertUnwindSafe(|| {
            handle(&mut store, &mut state, command, out, cancel);
        }));
        if let Err(panic) = ran {
            let why = panic_text(panic.as_ref());
            tracing::error!(what, why, "command panicked");
            let text = format!(
                "Internal error while {what} ({why}); nothing was changed by it and refboard keeps working"
            );
            match job {
                Some(job) => out.send(Event::JobDone(job, Err(text))),
                None => out.send(Event::Error(text)),
            }
        }
    }
}

/// The message of a caught panic.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

struct Out {
    events: Sender<Event>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Out {
    fn send(&self, e: Event) {
        let _ = self.events.send(e);
        (self.wake)();
    }
}

/// What a lane remembers between commands.
struct State {
    page: Option<PageId>,
    /// The saved API token, read from the keyring once rather than per reload.
    token: Option<String>,
}

/// The saved API token ("" when none), cached in `state`.
fn saved_token(store: &Store, state: &mut State) -> Result<String, crate::store::StoreError> {
    if state.token.is_none() {
        state.token = Some(store.backend_token()?.unwrap_or_default());
    }
    Ok(state.token.clone().unwrap_or_default())
}

fn snapshot(store: &mut Store, state: &mut State) -> Result<Snapshot, String> {
    let err = |e: crate::store::StoreError| e.to_string();
    let pages = store.pages().map_err(err)?;
    let page = state
        .page
        .filter(|p| pages.iter().any(|x| x.id == p.0))
        .or_else(|| pages.first().map(|p| PageId(p.id)));
    state.page = page;
    let mut snap = Snapshot {
        backend_url: store.setting(BACKEND_URL).map_err(err)?.unwrap_or_default(),
        backend_token: saved_token(store, state).map_err(err)?,
        events_total: store.event_count().map_err(err)?,
        ..Snapshot::default()
    };
    if !snap.backend_url.is_empty() {
        let src = store.sync_source(&snap.backend_url).map_err(err)?;
        snap.last_sync_at = src.last_sync_at;
        snap.last_sync_error = src.last_error;
        snap.events_pulled = src.events_pulled;
    }
    if let Some(PageId(p)) = page {
        snap.channels = store.channels(p, true).map_err(err)?;
        snap.campaigns = store.campaigns(p, true).map_err(err)?;
        snap.links = store
            .links(&LinkFilter {
                page: Some(p),
                include_archived: true,
                ..LinkFilter::default()
            })
            .map_err(err)?;
        snap.last_7_days = last_7_days(store, &pages, p, &snap.links);
        snap.aliases = store.aliases(Some(p), None).map_err(err)?;
    }
    snap.pages = pages;
    snap.page = page;
    Ok(snap)
}

/// Referrals per link over the last 7 days (rollups, so it stays cheap).
fn last_7_days(
    store: &Store,
    pages: &[Page],
    page: i64,
    links: &[LinkRow],
) -> HashMap<LinkId, u64> {
    let mut out = HashMap::new();
    let Some(p) = pages.iter().find(|x| x.id == page) else {
        return out;
    };
    let now = chrono::Utc::now();
    // By link, so an alias's referrals count for its link here too.
    let mut q = StatsQuery::new(crate::stats::GroupBy::Link, chrono_tz::UTC);
    q.from = Some((now - chrono::Duration::days(6)).date_naive());
    q.to = Some(now.date_naive());
    q.every = Some(crate::stats::Every::Day);
    q.unique_people = false;
    // Every ref's count is needed here, not only the top ones.
    q.top = usize::MAX;
    if p.numeric_id().is_some() {
        q.set_page(p);
    }
    let Ok(report) = crate::stats::query(store, &q) else {
        return out;
    };
    let counts: HashMap<&str, u64> = report
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.referrals))
        .collect();
    for l in links {
        if let Some(n) = counts.get(l.link.ref_code.as_str()) {
            out.insert(LinkId(l.link.id), *n);
        }
    }
    out
}

fn reload(store: &mut Store, state: &mut State, out: &Out) {
    match snapshot(store, state) {
        Ok(s) => out.send(Event::Loaded(Box::new(s))),
        Err(e) => out.send(Event::Error(e)),
    }
}

/// Reports a created or updated link, with its warnings, and reloads.
fn link_saved(
    store: &mut Store,
    state: &mut State,
    out: &Out,
    saved: Result<(LinkRow, Vec<Warning>), crate::store::StoreError>,
) {
    match saved {
        Ok((row, warnings)) => {
            if warnings.is_empty() {
                out.send(Event::Notice(format!("Saved link {}", row.link.ref_code)));
            } else {
                out.send(Event::Warnings(warnings));
            }
            out.send(Event::LinkSaved(LinkId(row.link.id)));
            reload(store, state, out);
        }
        Err(e) => out.send(Event::Error(e.to_string())),
    }
}

fn handle(store: &mut Store, state: &mut State, command: Command, out: &Out, cancel: &AtomicBool) {
    match command {
        Command::Load { page } => {
            if page.is_some() {
                state.page = page;
            }
            reload(store, state, out);
        }
        Command::AddPage(new) => match store.add_page(&new) {
            Ok(p) => {
                state.page = Some(PageId(p.id));
                out.send(Event::PageSaved(PageId(p.id)));
                out.send(Event::Notice(format!("Added page {}", p.name)));
                reload(store, state, out);
            }
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::EditPage(id, new) => match store.update_page(id.0, &new) {
            Ok(p) => {
                out.send(Event::PageSaved(PageId(p.id)));
                out.send(Event::Notice(format!("Saved page {}", p.name)));
                reload(store, state, out);
            }
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::AddChannel(page, name, kind) => match store.add_channel(page.0, &name, kind) {
            Ok(c) => {
                out.send(Event::Notice(format!("Added channel {}", c.name)));
                reload(store, state, out);
            }
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::AddCampaign(page, new) => match store.add_campaign(page.0, &new) {
            Ok(c) => {
                out.send(Event::Notice(format!("Added campaign {}", c.name)));
                reload(store, state, out);
            }
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::AddLink(page, campaign, channel, new) => {
            let saved = store.add_link(page.0, campaign.0, channel.0, &new);
            link_saved(store, state, out, saved);
        }
        Command::UpdateLink(id, campaign, channel, new) => {
            let saved = store.update_link(id.0, campaign.0, channel.0, &new);
            link_saved(store, state, out, saved);
        }
        Command::ArchiveLink(id, archived) => match store.set_link_archived(id.0, archived) {
            Ok(()) => {
                let done = if archived { "Archived" } else { "Restored" };
                out.send(Event::Notice(format!("{done} the link")));
                reload(store, state, out);
            }
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::RemoveLink(id) => match store.remove_link(id.0) {
            Ok(()) => {
                out.send(Event::Notice("Removed the link".into()));
                reload(store, state, out);
            }
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::AddAlias(link, alias) => match store.add_alias(link.0, &alias) {
            Ok((row, warnings)) => {
                if !warnings.is_empty() {
                    out.send(Event::Warnings(warnings));
                }
                out.send(Event::Notice(format!(
                    "Referrals with ref {} now count for {}",
                    crate::model::safe_text(&row.alias.ref_code),
                    crate::model::safe_text(&row.link_ref)
                )));
                out.send(Event::AliasAdded(row));
                reload(store, state, out);
            }
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::RemoveAlias(page, alias) => match store.remove_alias(page.0, &alias) {
            Ok(row) => {
                out.send(Event::Notice(format!(
                    "Undone: referrals with ref {} show as untracked again",
                    crate::model::safe_text(&row.alias.ref_code)
                )));
                out.send(Event::AliasRemoved(row));
                reload(store, state, out);
            }
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::WriteReport(request) => match crate::report::write_report(store, &request) {
            Ok(path) => out.send(Event::Notice(format!(
                "Wrote the report {}",
                path.display()
            ))),
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::ExportQr {
            path,
            url,
            cta,
            mut style,
            replace,
            logo,
        } => {
            // Checked here, not in the UI: the UI touches no files.
            if !replace && path.exists() {
                return out.send(Event::ExportExists(path));
            }
            if let Err(e) = load_logo(&mut style, logo.as_ref()) {
                out.send(Event::Error(e.clone()));
                return out.send(Event::QrWritten(path, Err(e)));
            }
            let caption = Caption {
                cta: &cta,
                url: &url,
            };
            match export_one(&path, &url, Some(caption), &style) {
                Ok(w) => {
                    if !w.is_empty() {
                        out.send(Event::Warnings(w));
                    }
                    out.send(Event::Notice(format!(
                        "Wrote {} (scan verified)",
                        path.display()
                    )));
                    out.send(Event::QrWritten(path, Ok(())));
                }
                Err(e) => {
                    out.send(Event::Error(e.to_string()));
                    out.send(Event::QrWritten(path, Err(e.to_string())));
                }
            }
        }
        Command::PreviewSheet {
            page,
            campaign,
            mut options,
            logo,
        } => {
            let result = load_logo(&mut options.style, logo.as_ref()).and_then(|()| {
                let rows = store
                    .links(&LinkFilter {
                        page: Some(page.0),
                        campaign: campaign.map(|c| c.0),
                        ..LinkFilter::default()
                    })
                    .map_err(|e| e.to_string())?;
                let items: Vec<ExportItem> = rows.into_iter().map(ExportItem::from).collect();
                preview_sheet(&items, &options)
            });
            out.send(Event::SheetPreview(result.map(Box::new)));
        }
        Command::BulkExport {
            dir,
            page,
            campaign,
            mut options,
            logo,
        } => {
            if let Err(e) = load_logo(&mut options.style, logo.as_ref()) {
                return out.send(Event::Exported(Err(e)));
            }
            let rows = match store.links(&LinkFilter {
                page: Some(page.0),
                campaign: campaign.map(|c| c.0),
                ..LinkFilter::default()
            }) {
                Ok(r) => r,
                Err(e) => return out.send(Event::Exported(Err(e.to_string()))),
            };
            let items: Vec<ExportItem> = rows.into_iter().map(ExportItem::from).collect();
            let result = export_bulk(&dir, &items, &options, &mut |done, total| {
                out.send(Event::Progress(Job::Export, done, total));
                !cancel.load(Ordering::SeqCst)
            });
            out.send(Event::Exported(result.map_err(|e| e.to_string())));
        }
        Command::Sync(config) => {
            let result = sync(store, &config, &mut |p| {
                out.send(Event::Progress(Job::Sync, p.events, 0));
                !cancel.load(Ordering::SeqCst)
            });
            // Names both this sync's count and the running total the top bar
            // shows, so the two never seem to disagree.
            let pulled = store
                .sync_source(&config.url)
                .map(|s| s.events_pulled)
                .unwrap_or_default();
            let message = result
                .map(|p| {
                    format!(
                        "Synced {} events this time ({} new); {pulled} events pulled in all",
                        p.events, p.new_events
                    )
                })
                .map_err(|e| e.to_string());
            // The UI reloads on JobDone, on the short lane that knows the page.
            out.send(Event::JobDone(Job::Sync, message));
            // Manual and auto-sync alike: the health read follows each sync.
            out.send(Event::Health(read_health(&config)));
        }
        Command::TestConnection(config) => {
            // Network with its own timeout: a thread of its own, so that a
            // backend that does not answer holds up no Save.
            let out = Out {
                events: out.events.clone(),
                wake: out.wake.clone(),
            };
            let spawned = std::thread::Builder::new()
                .name("refboard-test-connection".into())
                .spawn(move || {
                    let r = test_connection(&config)
                        .map(|()| {
                            format!("Connected: the backend accepts the token ({})", config.url)
                        })
                        .map_err(|e| e.to_string());
                    out.send(Event::Connection(r));
                    out.send(Event::Health(read_health(&config)));
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the connection test");
            }
        }
        Command::SaveBackend { url, token } => {
            let saved = store
                .set_setting(BACKEND_URL, &url)
                .and_then(|()| store.set_backend_token(&token));
            match saved {
                Ok(place) => {
                    state.token = Some(token);
                    let notice = place
                        .notice()
                        .unwrap_or_else(|| format!("Saved the backend {url}"));
                    out.send(Event::Notice(notice));
                    reload(store, state, out);
                }
                Err(e) => out.send(Event::Error(e.to_string())),
            }
        }
        Command::Import(paths) => {
            let r = import(store, &paths, out, cancel);
            out.send(Event::JobDone(Job::Import, r));
        }
        Command::WriteFile(path, bytes) => match crate::export::write_atomic(&path, &bytes) {
            Ok(()) => out.send(Event::Notice(format!("Wrote {}", path.display()))),
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        #[cfg(test)]
        Command::Panic => panic!("a test panic"),
        Command::WriteCsv { path, header, rows } => {
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            let written = crate::csv_safe::to_bytes(&header, &rows)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    crate::export::write_atomic(&path, &bytes).map_err(|e| e.to_string())
                });
            match written {
                Ok(()) => out.send(Event::Notice(format!("Wrote {}", path.display()))),
                Err(e) => out.send(Event::Error(e)),
            }
        }
        Command::Stats(q) => {
            // The chart never waits for unique people: the rollup figures go
            // out first, then the same report with people counted.
            if q.unique_people {
                let rollups_only = crate::stats::StatsQuery {
                    unique_people: false,
                    ..q.clone()
                };
                match crate::stats::query(store, &rollups_only) {
                    Ok(r) => out.send(Event::Stats(Box::new(r))),
                    Err(e) => return out.send(Event::Error(e.to_string())),
                }
            }
            match crate::stats::query(store, &q) {
                Ok(r) => out.send(Event::Stats(Box::new(r))),
                Err(e) => out.send(Event::Error(e.to_string())),
            }
        }
        Command::PreviousStats(q) => match crate::stats::query(store, &q) {
            Ok(r) => out.send(Event::PreviousStats(Box::new(r))),
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::LinkGlance(id, tz) => {
            let today = chrono::Utc::now().with_timezone(&tz).date_naive();
            match crate::stats::link_glance(store, id.0, tz, today) {
                Ok(g) => out.send(Event::Glance(id, g)),
                Err(e) => out.send(Event::Error(e.to_string())),
            }
        }
        Command::UpdateCampaign(id, new) => match store.update_campaign(id.0, &new) {
            Ok(c) => {
                out.send(Event::Notice(format!("Saved campaign {}", c.name)));
                reload(store, state, out);
            }
            Err(e) => out.send(Event::Error(e.to_string())),
        },
    }
}

fn import(
    store: &mut Store,
    paths: &[PathBuf],
    out: &Out,
    cancel: &AtomicBool,
) -> Result<String, String> {
    let (mut new, mut total, mut bad) = (0, 0, 0);
    for (i, path) in paths.iter().enumerate() {
        if cancel.load(Ordering::SeqCst) {
            return Err(format!(
                "Import cancelled after {i} file(s); {new} new referral(s) kept"
            ));
        }
        let input = std::fs::File::open(path)
            .map_err(|e| format!("cannot read ({e}): {}", path.display()))?;
        let report =
            crate::import::import_reader(store, input, &mut || !cancel.load(Ordering::SeqCst))
                .map_err(|e| format!("{e}: {}", path.display()))?;
        total += report.referrals;
        new += report.new;
        bad += report.bad_line_count;
        out.send(Event::Progress(Job::Import, i + 1, paths.len()));
    }
    Ok(format!(
        "Imported {total} referral(s), {new} new; {bad} bad line(s) skipped"
    ))
}

/// Reads the backend's `/healthz` as a message the UI can show; called on a
/// worker thread, never the UI thread.
fn read_health(config: &SyncConfig) -> Result<WebhookHealth, String> {
    webhook_health(config).map_err(|e| format!("webhook health unavailable: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn next(handle: &WorkerHandle, what: &str, want: impl Fn(&Event) -> bool) -> Event {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match handle.recv_timeout(left) {
                Some(e) if want(&e) => return e,
                Some(_) => {}
                None => panic!("no {what} within 10 s"),
            }
        }
    }

    #[test]
    fn a_panicking_command_is_reported_and_the_lane_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let handle = spawn(dir.path().join("w.db"), || {});
        handle.send(Command::Panic).unwrap();
        let e = next(&handle, "internal error", |e| matches!(e, Event::Error(_)));
        let Event::Error(text) = e else {
            unreachable!()
        };
        assert!(
            text.contains("Internal error while the test panic"),
            "{text}"
        );
        assert!(text.contains("a test panic"), "{text}");
        // The same lane still answers.
        handle.send(Command::Load { page: None }).unwrap();
        next(&handle, "a snapshot after the panic", |e| {
            matches!(e, Event::Loaded(_))
        });
    }

    #[test]
    fn stats_come_first_without_people_then_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let mut store = Store::open(&db).unwrap();
        let event = |i: i64, who: &str| crate::model::ReferralEvent {
            event_id: format!("e{i}"),
            platform: crate::model::Platform::Messenger,
            page_id: "1".into(),
            sender: who.into(),
            timestamp_ms: 1_780_000_000_000 + i * 60_000,
            kind: crate::model::Kind::New,
            ref_code: Some("spring".into()),
            source: None,
            ref_type: None,
            ad_id: None,
            ad_title: None,
            referer_uri: None,
            received_at_ms: 1_780_000_000_000,
        };
        store
            .ingest(&[event(1, "a"), event(2, "b"), event(3, "a")], None)
            .unwrap();
        drop(store);
        let handle = spawn(db, || {});
        let q = StatsQuery::new(crate::stats::GroupBy::Ref, chrono_tz::UTC);
        handle.send(Command::Stats(q)).unwrap();
        let is_stats = |e: &Event| matches!(e, Event::Stats(_));
        let Event::Stats(first) = next(&handle, "the rollup report", is_stats) else {
            unreachable!()
        };
        assert!(!first.unique_people_counted);
        assert_eq!(first.totals.referrals, 3);
        let Event::Stats(second) = next(&handle, "the report with people", is_stats) else {
            unreachable!()
        };
        assert!(second.unique_people_counted);
        assert_eq!(second.totals.referrals, 3);
        assert_eq!(second.totals.unique_people, 2);
        assert_eq!(second.groups[0].unique_people, 2);
    }

    #[test]
    fn a_lane_that_cannot_open_the_database_says_so() {
        let dir = tempfile::tempdir().unwrap();
        // A folder is not a database file.
        let handle = spawn(dir.path().to_path_buf(), || {});
        let e = next(&handle, "a stop", |e| matches!(e, Event::Stopped(_)));
        let Event::Stopped(why) = e else {
            unreachable!()
        };
        assert!(why.contains("cannot open the database"), "{why}");
    }
}
