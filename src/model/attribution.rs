//! How conversions are credited to referrals: the window before a
//! conversion in which a referral counts, and which referral of that window
//! gets the credit. Pure rules, shared by the store (which keeps them), the
//! stats (which apply them) and every front end (which sets them).

use super::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Fewest days a window may span.
pub const MIN_WINDOW_DAYS: u32 = 1;
/// Most days a window may span.
pub const MAX_WINDOW_DAYS: u32 = 90;
/// The window when the admin has not chosen one.
pub const DEFAULT_WINDOW_DAYS: u32 = 7;
/// One day in milliseconds (windows are whole 24-hour days, not local days,
/// so a clock change never makes a window shorter or longer).
const DAY_MS: i64 = 86_400_000;

/// Which referral inside the window is credited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CreditModel {
    /// The person's latest referral at or before the conversion (the default).
    #[default]
    Last,
    /// The person's earliest referral inside the window.
    First,
}

impl CreditModel {
    /// Both models, in menu order.
    pub const ALL: [CreditModel; 2] = [CreditModel::Last, CreditModel::First];

    /// The name used in settings, on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditModel::Last => "last",
            CreditModel::First => "first",
        }
    }

    /// The name shown in menus, e.g. "Last referral in the window".
    pub fn label(self) -> &'static str {
        match self {
            CreditModel::Last => "Last referral in the window",
            CreditModel::First => "First referral in the window",
        }
    }
}

impl fmt::Display for CreditModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CreditModel {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        CreditModel::ALL
            .into_iter()
            .find(|m| m.as_str() == wanted)
            .ok_or_else(|| ValidationError::new("attribution model", s, "use last or first"))
    }
}

/// The attribution settings: window and model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attribution {
    /// Days before a conversion in which a referral can be credited
    /// ([`MIN_WINDOW_DAYS`]..=[`MAX_WINDOW_DAYS`]).
    pub window_days: u32,
    /// Which referral of the window gets the credit.
    pub model: CreditModel,
}

impl Default for Attribution {
    fn default() -> Self {
        Self {
            window_days: DEFAULT_WINDOW_DAYS,
            model: CreditModel::Last,
        }
    }
}

impl Attribution {
    /// Settings checked against the window's bounds.
    pub fn new(window_days: u32, model: CreditModel) -> Result<Self, ValidationError> {
        validate_window_days(&window_days.to_string())?;
        Ok(Self { window_days, model })
    }

    /// The window in milliseconds.
    pub fn window_ms(&self) -> i64 {
        i64::from(self.window_days) * DAY_MS
    }
}

/// Parses a window in days, e.g. `7`, checking it lies within
/// [`MIN_WINDOW_DAYS`]..=[`MAX_WINDOW_DAYS`].
pub fn validate_window_days(s: &str) -> Result<u32, ValidationError> {
    let rule = || format!("a whole number of days from {MIN_WINDOW_DAYS} to {MAX_WINDOW_DAYS}");
    let days: u32 = s
        .trim()
        .parse()
        .map_err(|_| ValidationError::new("attribution window", s, rule()))?;
    if !(MIN_WINDOW_DAYS..=MAX_WINDOW_DAYS).contains(&days) {
        return Err(ValidationError::new("attribution window", s, rule()));
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_days_are_checked_at_both_ends() {
        assert_eq!(validate_window_days("1").unwrap(), 1);
        assert_eq!(validate_window_days(" 90 ").unwrap(), 90);
        for bad in ["0", "91", "-1", "7.5", "", "seven", "99999999999"] {
            let e = validate_window_days(bad).unwrap_err();
            assert_eq!(e.field, "attribution window");
            assert!(e.rule.contains("from 1 to 90"), "{}", e.rule);
        }
        assert!(Attribution::new(0, CreditModel::Last).is_err());
        assert_eq!(Attribution::default().window_ms(), 7 * DAY_MS);
    }

    #[test]
    fn models_parse_by_name_and_refuse_others() {
        assert_eq!("LAST".parse::<CreditModel>().unwrap(), CreditModel::Last);
        assert_eq!(" first".parse::<CreditModel>().unwrap(), CreditModel::First);
        let e = "linear".parse::<CreditModel>().unwrap_err();
        assert_eq!((e.field, e.value.as_str()), ("attribution model", "linear"));
    }
}
