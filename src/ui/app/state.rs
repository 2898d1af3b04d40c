//! What the dashboard remembers between runs (eframe's storage) and the
//! screens it can show.

use crate::model::PageId;
use crate::qr::QrStyle;
use crate::stats::{Every, GroupBy};
use crate::ui::{KindView, Range};
use serde::{Deserialize, Serialize};

/// Key of the persisted UI state in eframe's storage.
pub(super) const STATE_KEY: &str = "refboard-ui";

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
