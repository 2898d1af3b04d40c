//! The analytics screen's choices that are remembered between runs: the
//! range preset and how new versus returning is drawn. A leaf, so the
//! remembered state can name them without depending on the panel.

use serde::{Deserialize, Serialize};

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
