//! The dashboard's worker thread: it owns its own store connection and HTTP
//! client, takes [`Command`]s, sends back [`Event`]s and wakes the UI.
//!
//! The UI thread never touches SQLite, the network or the file system; long
//! jobs (sync, import, bulk export) report progress and stop when the shared
//! cancel flag is set.

use crate::export::{BulkOptions, ExportItem, ExportReport, export_bulk, export_one};
use crate::model::{Campaign, Channel, ChannelKind, NewCampaign, NewLink, NewPage, Page, Warning};
use crate::qr::{Caption, QrStyle};
use crate::stats::{Report, StatsQuery};
use crate::store::{LinkFilter, LinkRow, Store};
use crate::sync::{SyncConfig, sync, test_connection};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

/// Settings keys shared with the CLI.
pub const BACKEND_URL: &str = "backend_url";

/// What the UI asks for.
#[derive(Debug, Clone)]
pub enum Command {
    /// Reload pages and the selected page's catalog and links.
    Load {
        /// Page to show; `None` keeps the current one, or picks the first.
        page: Option<i64>,
    },
    /// Add a page.
    AddPage(NewPage),
    /// Replace a page's fields.
    EditPage(i64, NewPage),
    /// Add a channel to a page.
    AddChannel(i64, String, ChannelKind),
    /// Add a campaign to a page.
    AddCampaign(i64, NewCampaign),
    /// Create a link: page, campaign id, channel id, fields.
    AddLink(i64, i64, i64, NewLink),
    /// Replace a link: link id, campaign id, channel id, fields.
    UpdateLink(i64, i64, i64, NewLink),
    /// Archive (true) or restore a link.
    ArchiveLink(i64, bool),
    /// Delete a link.
    RemoveLink(i64),
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
    },
    /// Export many codes into a folder.
    BulkExport {
        /// Folder.
        dir: PathBuf,
        /// Page.
        page: i64,
        /// Only this campaign.
        campaign: Option<i64>,
        /// Formats, style, sheet.
        options: BulkOptions,
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
    pub page: Option<i64>,
    /// Its channels, archived included.
    pub channels: Vec<Channel>,
    /// Its campaigns, archived included.
    pub campaigns: Vec<Campaign>,
    /// Its links, archived included.
    pub links: Vec<LinkRow>,
    /// Referrals per link id in the last 7 days.
    pub last_7_days: HashMap<i64, u64>,
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
    PageSaved(i64),
    /// A link was created or updated.
    LinkSaved(i64),
    /// Progress of a long job: done and total (0 when unknown).
    Progress(Job, usize, usize),
    /// A long job ended.
    JobDone(Job, Result<String, String>),
    /// A bulk export ended.
    Exported(Result<ExportReport, String>),
    /// Connection test result.
    Connection(Result<String, String>),
    /// Stats ready.
    Stats(Box<Report>),
}

/// The UI's end of the worker.
pub struct WorkerHandle {
    tx: Sender<Command>,
    rx: Receiver<Event>,
    cancel: Arc<AtomicBool>,
}

impl WorkerHandle {
    /// Sends a command; a dead worker is reported on the next poll.
    pub fn send(&self, command: Command) {
        let _ = self.tx.send(command);
    }

    /// Asks the running long job to stop.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Drains events without blocking.
    pub fn poll(&self) -> Vec<Event> {
        self.rx.try_iter().collect()
    }

    /// Waits for the next event (tests).
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<Event> {
        self.rx.recv_timeout(timeout).ok()
    }
}

/// Starts the worker on `db`. `wake` is called after each event (the UI
/// passes `ctx.request_repaint`).
pub fn spawn(db: PathBuf, wake: impl Fn() + Send + 'static) -> WorkerHandle {
    let (tx, commands) = channel::<Command>();
    let (events, rx) = channel::<Event>();
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let spawned = std::thread::Builder::new()
        .name("refboard-worker".into())
        .spawn(move || {
            let out = Out {
                events,
                wake: Box::new(wake),
            };
            let mut store = match Store::open(&db) {
                Ok(s) => s,
                Err(e) => {
                    out.send(Event::Error(format!("cannot open the database: {e}")));
                    return;
                }
            };
            if let Some(notice) = store.token_moved().and_then(|p| p.notice()) {
                out.send(Event::Notice(notice));
            }
            let mut state = State {
                page: None,
                token: None,
            };
            for command in commands {
                flag.store(false, Ordering::SeqCst);
                handle(&mut store, &mut state, command, &out, &flag);
            }
        });
    if spawned.is_err() {
        let _ = tx.send(Command::Load { page: None });
    }
    WorkerHandle { tx, rx, cancel }
}

struct Out {
    events: Sender<Event>,
    wake: Box<dyn Fn() + Send>,
}

impl Out {
    fn send(&self, e: Event) {
        let _ = self.events.send(e);
        (self.wake)();
    }
}

struct State {
    page: Option<i64>,
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
        .filter(|p| pages.iter().any(|x| x.id == *p))
        .or_else(|| pages.first().map(|p| p.id));
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
    if let Some(p) = page {
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
    }
    snap.pages = pages;
    snap.page = page;
    Ok(snap)
}

/// Referrals per link over the last 7 days (rollups, so it stays cheap).
fn last_7_days(store: &Store, pages: &[Page], page: i64, links: &[LinkRow]) -> HashMap<i64, u64> {
    let mut out = HashMap::new();
    let Some(p) = pages.iter().find(|x| x.id == page) else {
        return out;
    };
    let now = chrono::Utc::now();
    let mut q = StatsQuery::new(crate::stats::GroupBy::Ref, chrono_tz::UTC);
    q.from = Some((now - chrono::Duration::days(6)).date_naive());
    q.to = Some(now.date_naive());
    q.every = Some(crate::stats::Every::Day);
    q.unique_people = false;
    q.page_id = p.numeric_id().map(str::to_string);
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
            out.insert(l.link.id, *n);
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
            if !warnings.is_empty() {
                out.send(Event::Warnings(warnings));
            }
            out.send(Event::LinkSaved(row.link.id));
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
                state.page = Some(p.id);
                out.send(Event::PageSaved(p.id));
                out.send(Event::Notice(format!("Added page {}", p.name)));
                reload(store, state, out);
            }
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::EditPage(id, new) => match store.update_page(id, &new) {
            Ok(p) => {
                out.send(Event::PageSaved(p.id));
                reload(store, state, out);
            }
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::AddChannel(page, name, kind) => match store.add_channel(page, &name, kind) {
            Ok(_) => reload(store, state, out),
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::AddCampaign(page, new) => match store.add_campaign(page, &new) {
            Ok(_) => reload(store, state, out),
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::AddLink(page, campaign, channel, new) => {
            let saved = store.add_link(page, campaign, channel, &new);
            link_saved(store, state, out, saved);
        }
        Command::UpdateLink(id, campaign, channel, new) => {
            let saved = store.update_link(id, campaign, channel, &new);
            link_saved(store, state, out, saved);
        }
        Command::ArchiveLink(id, archived) => match store.set_link_archived(id, archived) {
            Ok(()) => reload(store, state, out),
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::RemoveLink(id) => match store.remove_link(id) {
            Ok(()) => reload(store, state, out),
            Err(e) => out.send(Event::Error(e.to_string())),
        },
        Command::ExportQr {
            path,
            url,
            cta,
            style,
        } => {
            let caption = Caption {
                cta: &cta,
                url: &url,
            };
            match export_one(&path, &url, Some(caption), &style) {
                Ok(w) => {
                    if !w.is_empty() {
                        out.send(Event::Warnings(w));
                    }
                    out.send(Event::Notice(format!("Wrote {}", path.display())));
                }
                Err(e) => out.send(Event::Error(e.to_string())),
            }
        }
        Command::BulkExport {
            dir,
            page,
            campaign,
            options,
        } => {
            let rows = match store.links(&LinkFilter {
                page: Some(page),
                campaign,
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
            let message = result
                .map(|p| format!("Synced {} events ({} new)", p.events, p.new_events))
                .map_err(|e| e.to_string());
            out.send(Event::JobDone(Job::Sync, message));
            reload(store, state, out);
        }
        Command::TestConnection(config) => {
            let r = test_connection(&config)
                .map(|()| format!("Connected: the backend accepts the token ({})", config.url))
                .map_err(|e| e.to_string());
            out.send(Event::Connection(r));
        }
        Command::SaveBackend { url, token } => {
            let saved = store
                .set_setting(BACKEND_URL, &url)
                .and_then(|()| store.set_backend_token(&token));
            match saved {
                Ok(place) => {
                    state.token = Some(token);
                    if let Some(notice) = place.notice() {
                        out.send(Event::Notice(notice));
                    }
                    reload(store, state, out)
                }
                Err(e) => out.send(Event::Error(e.to_string())),
            }
        }
        Command::Import(paths) => {
            let r = import(store, &paths, out, cancel);
            out.send(Event::JobDone(Job::Import, r));
            reload(store, state, out);
        }
        Command::WriteFile(path, bytes) => match crate::export::write_atomic(&path, &bytes) {
            Ok(()) => out.send(Event::Notice(format!("Wrote {}", path.display()))),
            Err(e) => out.send(Event::Error(e.to_string())),
        },
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
        Command::Stats(q) => match crate::stats::query(store, &q) {
            Ok(r) => out.send(Event::Stats(Box::new(r))),
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
