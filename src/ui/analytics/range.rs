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
    /// The month so far, against the same days of last month.
    ThisMonth,
    /// The whole of last month, against the whole month before.
    LastMonth,
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
    pub const ALL: [Range; 9] = [
        Range::Today,
        Range::Days7,
        Range::Days30,
        Range::ThisMonth,
        Range::LastMonth,
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
            Range::ThisMonth => "This month",
            Range::LastMonth => "Last month",
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
            Range::ThisMonth | Range::LastMonth | Range::All | Range::Custom => None,
        }
    }

    /// What the button's tooltip says the range is compared with.
    pub fn comparison(self) -> &'static str {
        match self {
            Range::ThisMonth => "Month to date, against the same days of last month",
            Range::LastMonth => "The whole of last month, against the whole month before",
            Range::Today => "Today so far, against yesterday",
            Range::All => "Every day with referrals, against as many days before",
            Range::Custom => {
                "Dates of your choice; a whole month is compared with the month before, other ranges with as many days just before"
            }
            _ => "The last days up to today, against as many days just before",
        }
    }

    /// The first and last day of the preset on `today`, and what it is
    /// compared with; `None` for All time and Custom.
    pub fn days_on(
        self,
        today: chrono::NaiveDate,
    ) -> Option<(chrono::NaiveDate, chrono::NaiveDate, crate::stats::Compare)> {
        use crate::stats::Compare;
        use chrono::Datelike;
        let first = today.with_day(1)?;
        match self {
            Range::ThisMonth => Some((first, today, Compare::SameDaysLastMonth)),
            Range::LastMonth => {
                let last = first.pred_opt()?;
                Some((last.with_day(1)?, last, Compare::Preceding))
            }
            r => {
                let back = chrono::TimeDelta::try_days(r.days()? - 1)?;
                Some((today.checked_sub_signed(back)?, today, Compare::Preceding))
            }
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
