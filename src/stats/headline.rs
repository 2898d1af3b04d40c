//! The change of a figure against the previous period ("▲ 12%"), and the
//! rule that decides when a percentage means something.
//!
//! The rule: a change is a percentage only when the previous figure was at
//! least [`MIN_BASE`] (20). Below that, one referral more or less moves the
//! percentage by 5 points or more, so a percentage would be noise dressed up
//! as news ("▲ 99800%" against 4). The figure then names the count it is
//! compared with instead: `up from 4 in 1–30 Oct`, `down from 19 in …`,
//! `same as in … (7)`, and `new: none in …` when the previous figure was 0.
//! One implementation, used by the dashboard's cards, its compare table and
//! the report.

use super::labels::format_range;
use chrono::NaiveDate;

/// The smallest previous figure a percentage is computed against.
pub const MIN_BASE: u64 = 20;

/// The change of a figure against the previous period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Higher by this many percent (rounded, half away from zero).
    Up(u64),
    /// Lower by this many percent (rounded, half away from zero).
    Down(u64),
    /// The same figure (a previous figure of at least [`MIN_BASE`]).
    Same,
    /// The previous figure was below [`MIN_BASE`] (0 included): both counts,
    /// no percentage.
    Few {
        /// The figure in the previous period.
        previous: u64,
        /// The figure now.
        current: u64,
    },
    /// There was no previous period, or it had no data at all.
    NoPrevious,
}

impl Change {
    /// The change from `previous` to `current`, by the rule of this module.
    pub fn between(current: u64, previous: u64) -> Self {
        if previous < MIN_BASE {
            return Change::Few { previous, current };
        }
        let (diff, up) = if current >= previous {
            (current - previous, true)
        } else {
            (previous - current, false)
        };
        if diff == 0 {
            return Change::Same;
        }
        // u128: no overflow for any u64 counts.
        let pct = (u128::from(diff) * 200 + u128::from(previous)) / (u128::from(previous) * 2);
        let pct = u64::try_from(pct).unwrap_or(u64::MAX);
        if up {
            Change::Up(pct)
        } else {
            Change::Down(pct)
        }
    }

    /// The card line with the previous period named in full, e.g.
    /// `▲ 12% vs 1–30 Oct 2026` (see [`format_range`]).
    pub fn describe(self, previous: (NaiveDate, NaiveDate)) -> String {
        self.text(&format_range(previous.0, previous.1))
    }

    /// The card text, e.g. `▲ 12% vs 1–30 Oct` or `up from 4 in 1–30 Oct`;
    /// `previous` names the previous period (see
    /// [`period_label`](super::period_label)). A change that rounds to 0%
    /// reads `<1%`, so a change never looks like none.
    pub fn text(self, previous: &str) -> String {
        let pct = |p: u64| {
            if p == 0 {
                "<1%".to_string()
            } else {
                format!("{p}%")
            }
        };
        match self {
            Change::Up(p) => format!("▲ {} vs {previous}", pct(p)),
            Change::Down(p) => format!("▼ {} vs {previous}", pct(p)),
            Change::Same => format!("no change vs {previous}"),
            Change::Few {
                previous: 0,
                current: 0,
            } => format!("none in {previous} either"),
            Change::Few { previous: 0, .. } => format!("new: none in {previous}"),
            Change::Few {
                previous: was,
                current,
            } => match current.cmp(&was) {
                std::cmp::Ordering::Greater => format!("up from {was} in {previous}"),
                std::cmp::Ordering::Less => format!("down from {was} in {previous}"),
                std::cmp::Ordering::Equal => format!("same as in {previous} ({was})"),
            },
            Change::NoPrevious => "no data in the previous period".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_small_previous_figure_is_named_not_turned_into_a_percentage() {
        // Issue 19, defect 2: 4000 against 4 read "▲ 99900%".
        let oct = "1–30 Oct";
        assert_eq!(Change::between(3996, 4).text(oct), "up from 4 in 1–30 Oct");
        assert_eq!(Change::between(2, 19).text(oct), "down from 19 in 1–30 Oct");
        assert_eq!(Change::between(7, 7).text(oct), "same as in 1–30 Oct (7)");
        assert_eq!(Change::between(12, 0).text(oct), "new: none in 1–30 Oct");
        assert_eq!(Change::between(0, 0).text(oct), "none in 1–30 Oct either");
        // From the base up, a percentage.
        assert_eq!(Change::between(40, MIN_BASE), Change::Up(100));
        assert_eq!(
            Change::between(40, MIN_BASE).text(oct),
            "▲ 100% vs 1–30 Oct"
        );
        assert_eq!(
            Change::between(40, MIN_BASE - 1),
            Change::Few {
                previous: MIN_BASE - 1,
                current: 40
            }
        );
    }

    #[test]
    fn change_is_rounded_and_never_infinite() {
        assert_eq!(Change::between(112, 100), Change::Up(12));
        assert_eq!(Change::between(30, 20), Change::Up(50));
        assert_eq!(Change::between(10, 30), Change::Down(67));
        assert_eq!(Change::between(20, 30), Change::Down(33));
        assert_eq!(Change::between(70, 70), Change::Same);
        assert_eq!(Change::between(0, 90), Change::Down(100));
        assert_eq!(Change::between(1001, 1000), Change::Up(0));
        assert_eq!(Change::between(u64::MAX, 20), Change::Up(u64::MAX));
        let oct = format_range(day("2026-10-01"), day("2026-10-30"));
        assert_eq!(oct, "1–30 Oct 2026");
        assert_eq!(Change::Up(12).text(&oct), "▲ 12% vs 1–30 Oct 2026");
        assert_eq!(Change::Down(5).text(&oct), "▼ 5% vs 1–30 Oct 2026");
        assert_eq!(Change::Up(0).text(&oct), "▲ <1% vs 1–30 Oct 2026");
        assert_eq!(Change::Same.text(&oct), "no change vs 1–30 Oct 2026");
        assert_eq!(
            Change::NoPrevious.text(&oct),
            "no data in the previous period"
        );
        assert_eq!(
            Change::Up(12).describe((day("2026-10-01"), day("2026-10-30"))),
            "▲ 12% vs 1–30 Oct 2026"
        );
    }
}
