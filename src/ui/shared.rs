//! What every panel shares with the app: the data it may read ([`Shared`]),
//! what it may ask for ([`Action`]), the status line ([`Message`]), the
//! screens ([`Tab`]) and what the dashboard remembers between runs
//! ([`UiState`]). A leaf of `ui/`: panels and the app both use it, and it
//! uses neither, so no import cycle forms between them.

use crate::codes::QrStyle;
use crate::model::{CampaignId, LinkId, PageId};
use crate::stats::Report;
use crate::stats::{Every, GroupBy};
use crate::store::LinkRow;
use crate::ui::analytics::{KindView, Range};
use crate::worker::{Command, Job, Snapshot};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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
    /// The conversions of a report (see `ConversionReport::belongs_to`).
    pub conversions: Option<&'a crate::stats::conversions::ConversionReport>,
    /// The conversions of the previous period's report.
    pub previous_conversions: Option<&'a crate::stats::conversions::ConversionReport>,
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
    /// Minutes without a webhook event before the health turns amber.
    pub webhook_quiet_mins: u32,
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
    OpenBulk(Option<CampaignId>),
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
    /// Show the Links screen's side panel with the field that adds this
    /// kind of item focused (the setup checklist's steps).
    FocusNew(CatalogItem),
    /// Switch to the light or dark theme (remembered).
    SetTheme(egui::Theme),
}

/// A kind of item of the "Campaigns & channels" side panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogItem {
    /// A campaign.
    Campaign,
    /// A channel.
    Channel,
}

/// Key of the persisted UI state in eframe's storage.
pub(crate) const STATE_KEY: &str = "refboard-ui";

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
    /// The setup doctor: the page's Messenger settings and the relay.
    Setup,
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
    /// Light or dark, as switched in the top bar; `None` follows the system.
    pub theme: Option<egui::Theme>,
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
            theme: None,
        }
    }
}
