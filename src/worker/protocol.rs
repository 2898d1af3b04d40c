//! What the dashboard and its worker say to each other: the commands of each
//! lane, the events that come back, and the snapshot of data the UI draws.
//!
//! Which lane runs a command is decided by its type: a [`ShortCommand`]
//! (loads, saves, stats: never more than a moment) can only reach the short
//! lane, a [`LongCommand`] (network and whole-folder work) only the long one.

use crate::codes::QrStyle;
use crate::export::{BulkOptions, ExportReport};
use crate::model::{
    Campaign, CampaignId, Channel, ChannelId, ChannelKind, LinkId, NewCampaign, NewLink, NewPage,
    Page, PageId, Warning,
};
use crate::stats::{Report, StatsQuery};
use crate::store::LinkRow;
use crate::sync::{SyncConfig, WebhookHealth};
use std::collections::HashMap;
use std::path::PathBuf;

/// Work for the short lane: each takes at most a moment, so a Save is never
/// queued behind a sync.
#[derive(Debug, Clone)]
pub enum ShortCommand {
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
        /// Target file (.png, .svg or a .pdf flyer).
        path: PathBuf,
        /// The link as the file shows it: URL, call to action, and the
        /// page's display name a flyer prints.
        item: crate::model::ExportItem,
        /// Style.
        style: QrStyle,
        /// Replace an existing file (the user confirmed); without it an
        /// existing file is left alone and [`Event::ExportExists`] is sent.
        replace: bool,
        /// A logo file for the centre of the code (read here, not by the UI).
        logo: Option<PathBuf>,
        /// Paper of a PDF flyer.
        paper: crate::print::Paper,
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
    /// Save backend URL and token.
    SaveBackend {
        /// URL.
        url: String,
        /// Token.
        token: String,
    },
    /// Run a stats query; the report is followed by its conversions
    /// ([`Event::Conversions`]).
    Stats(StatsQuery),
    /// Save the attribution window and model (validated by the store), then reload.
    SetAttribution(crate::model::Attribution),
    /// Run the query of the period before the shown one (for the change on
    /// the headline cards and the dashed previous-period lines); answered
    /// with [`Event::PreviousStats`].
    PreviousStats(StatsQuery),
    /// The link detail's glance: a 30-day daily series and totals for 7
    /// days, 30 days and all time, in `tz`; answered with [`Event::Glance`].
    LinkGlance(LinkId, chrono_tz::Tz),
    /// Replace a campaign's name, dates and notes (validated by the model).
    UpdateCampaign(CampaignId, NewCampaign),
    /// Archive (true) or restore a campaign; its links stay.
    ArchiveCampaign(CampaignId, bool),
    /// Rename a channel and set its kind (the name validated by the model).
    UpdateChannel(ChannelId, String, ChannelKind),
    /// Archive (true) or restore a channel; its links stay.
    ArchiveChannel(ChannelId, bool),
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

/// Work for the long lane: it may take minutes, reports progress and stops
/// when the shared cancel flag is set. One of each [`Job`] at a time.
#[derive(Debug, Clone)]
pub enum LongCommand {
    /// Pull events from the backend.
    Sync(SyncConfig),
    /// Import webhook bodies from files.
    Import(Vec<PathBuf>),
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
    /// Check URL and token. Network with its own timeout: it waits behind a
    /// running sync rather than holding up a Save on the short lane.
    TestConnection(SyncConfig),
    /// Run the setup doctor on a page (Graph API and relay calls), first
    /// saving a new page token if given and applying a fix the user agreed to.
    Doctor {
        /// The page.
        page: PageId,
        /// A new page access token (hidden from `Debug`).
        token: Option<crate::ops::doctor::PageToken>,
        /// The check whose fix to apply, as the user saw it.
        fix: Option<Box<crate::ops::doctor::Check>>,
    },
    /// Read the backend's webhook health alone (the dashboard asks once at
    /// start, so a database synced elsewhere, like the demo's, shows it).
    ReadHealth(SyncConfig),
}

/// Either lane's command, for code that hands both on (the UI's actions).
#[derive(Debug, Clone)]
pub enum Command {
    /// For the short lane.
    Short(ShortCommand),
    /// For the long lane.
    Long(LongCommand),
}

impl From<ShortCommand> for Command {
    fn from(c: ShortCommand) -> Self {
        Command::Short(c)
    }
}

impl From<LongCommand> for Command {
    fn from(c: LongCommand) -> Self {
        Command::Long(c)
    }
}

impl LongCommand {
    /// The long job this command is; the worker refuses a second one of the
    /// same kind while the first is queued or running.
    pub fn job(&self) -> Option<Job> {
        match self {
            LongCommand::Sync(_) => Some(Job::Sync),
            LongCommand::Import(_) => Some(Job::Import),
            LongCommand::BulkExport { .. } => Some(Job::Export),
            LongCommand::TestConnection(_)
            | LongCommand::Doctor { .. }
            | LongCommand::ReadHealth(_) => None,
        }
    }
}

/// Which long job a progress event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    /// Sync.
    Sync,
    /// Import.
    Import,
    /// Bulk export.
    Export,
}

impl Job {
    /// Every job, in a fixed order (an index for per-job flags).
    pub const ALL: [Job; 3] = [Job::Sync, Job::Import, Job::Export];

    /// This job's place in [`Job::ALL`].
    pub fn index(self) -> usize {
        match self {
            Job::Sync => 0,
            Job::Import => 1,
            Job::Export => 2,
        }
    }
}

/// A failure the worker reports, with who it is down to, so the UI can tell
/// a mistake the user can correct from a failure of the world or of refboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The user's input or choice.
    User(String),
    /// The disk, the network, the database or a backend.
    World(String),
    /// refboard itself (a bug); logged when it happens.
    Internal(String),
}

impl Failure {
    /// Describes `e`, blamed through its chain of causes ([`crate::ops::blame`]),
    /// with the library's hint in the dashboard's words.
    pub fn from_error(e: &(dyn std::error::Error + 'static)) -> Self {
        let text = super::hints::error_text(e);
        match crate::ops::blame(e) {
            crate::ops::Blame::User => Failure::User(text),
            crate::ops::Blame::World => Failure::World(text),
            crate::ops::Blame::Internal => {
                tracing::error!(error = %text, "internal error");
                Failure::Internal(text)
            }
        }
    }

    /// The text shown to the user.
    pub fn text(&self) -> &str {
        match self {
            Failure::User(t) | Failure::World(t) | Failure::Internal(t) => t,
        }
    }

    /// The same blame with other words, e.g. the file it concerns added.
    pub fn map_text(self, f: impl FnOnce(&str) -> String) -> Self {
        match &self {
            Failure::User(t) => Failure::User(f(t)),
            Failure::World(t) => Failure::World(f(t)),
            Failure::Internal(t) => Failure::Internal(f(t)),
        }
    }

    /// True for a mistake the user can correct.
    pub fn is_user(&self) -> bool {
        matches!(self, Failure::User(_))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

/// Errors of refboard's modules become failures with `?`.
impl<E: std::error::Error + 'static> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::from_error(&e)
    }
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

/// The current data, as the UI shows it.
#[derive(Clone, Default)]
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
    /// Saved token; never printed by `Debug`.
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
    /// Whether a QR code or sheet was ever exported (the setup checklist).
    pub exported: bool,
    /// Whether the setup doctor ever found nothing red for the page shown
    /// (the setup checklist).
    pub doctor_passed: bool,
    /// The attribution window and model conversions are credited with.
    pub attribution: crate::model::Attribution,
    /// Goal names seen in the stored conversions, sorted.
    pub goals: Vec<String>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of logs and panic messages: only whether one is set.
        f.debug_struct("Snapshot")
            .field("pages", &self.pages)
            .field("page", &self.page)
            .field("channels", &self.channels)
            .field("campaigns", &self.campaigns)
            .field("links", &self.links)
            .field("aliases", &self.aliases)
            .field("last_7_days", &self.last_7_days)
            .field("backend_url", &self.backend_url)
            .field("backend_token_set", &!self.backend_token.is_empty())
            .field("last_sync_at", &self.last_sync_at)
            .field("last_sync_error", &self.last_sync_error)
            .field("events_pulled", &self.events_pulled)
            .field("events_total", &self.events_total)
            .field("webhook_health", &self.webhook_health)
            .field("exported", &self.exported)
            .field("doctor_passed", &self.doctor_passed)
            .field("attribution", &self.attribution)
            .field("goals", &self.goals)
            .finish()
    }
}

/// What the worker reports.
#[derive(Debug, Clone)]
pub enum Event {
    /// Fresh data.
    Loaded(Box<Snapshot>),
    /// Something the user should read.
    Notice(String),
    /// A failure.
    Error(Failure),
    /// Warnings from a save or export.
    Warnings(Vec<Warning>),
    /// A page was added or edited.
    PageSaved(PageId),
    /// A link was created or updated.
    LinkSaved(LinkId),
    /// Progress of a long job: done and total (0 when unknown).
    Progress(Job, usize, usize),
    /// A long job ended.
    JobDone(Job, Result<String, Failure>),
    /// A bulk export ended.
    Exported(Result<ExportReport, Failure>),
    /// Connection test result.
    Connection(Result<String, Failure>),
    /// The backend's webhook health, read after a connection test or a sync.
    Health(Result<WebhookHealth, String>),
    /// Stats ready.
    Stats(Box<Report>),
    /// The previous period's stats ready (see [`ShortCommand::PreviousStats`]).
    PreviousStats(Box<Report>),
    /// The conversions of the last [`Event::Stats`] report.
    Conversions(Box<crate::stats::conversions::ConversionReport>),
    /// The conversions of the last [`Event::PreviousStats`] report.
    PreviousConversions(Box<crate::stats::conversions::ConversionReport>),
    /// A link's glance ready.
    Glance(LinkId, crate::stats::LinkGlance),
    /// A single-code export found a file at its path and left it alone.
    ExportExists(PathBuf),
    /// A single-code export ended: the file, and `Ok` when it was written
    /// and its code decoded (scan verified), else why not.
    QrWritten(PathBuf, Result<(), Failure>),
    /// The first page of a sheet, laid out and proven, or why it cannot be.
    SheetPreview(Result<Box<SheetPreview>, Failure>),
    /// A lane stopped for good; its commands will not run.
    Stopped(String),
    /// An alias was added: it can be undone.
    AliasAdded(crate::store::AliasRow),
    /// An alias was removed.
    AliasRemoved(crate::store::AliasRow),
    /// The setup doctor's run ended.
    Doctor(Box<Result<crate::ops::doctor::Outcome, Failure>>),
}
