//! The change of a figure against the previous period ("▲ 12%").

use super::labels::format_range;
use chrono::NaiveDate;

/// The change of a figure against the previous period. A previous figure of
/// 0 has no percentage (it would be infinite): that is [`Change::NoPrevious`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Higher by this many percent (rounded, half away from zero).
    Up(u64),
    /// Lower by this many percent (rounded, half away from zero).
    Down(u64),
    /// The same figure.
    Same,
    /// The previous period had nothing to compare with.
    NoPrevious,
}

impl Change {
    /// The change from `previous` to `current`.
    pub fn between(current: u64, previous: u64) -> Self {
        if previous == 0 {
            return Change::NoPrevious;
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

    /// The card text, e.g. `▲ 12% vs 1–30 Oct`; `previous` names the
    /// previous period (see [`period_label`](super::period_label)). A change that rounds to 0%
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
    fn change_is_rounded_and_never_infinite() {
        assert_eq!(Change::between(112, 100), Change::Up(12));
        assert_eq!(Change::between(3, 2), Change::Up(50));
        assert_eq!(Change::between(1, 3), Change::Down(67));
        assert_eq!(Change::between(2, 3), Change::Down(33));
        assert_eq!(Change::between(7, 7), Change::Same);
        assert_eq!(Change::between(5, 0), Change::NoPrevious);
        assert_eq!(Change::between(0, 0), Change::NoPrevious);
        assert_eq!(Change::between(0, 9), Change::Down(100));
        assert_eq!(Change::between(1001, 1000), Change::Up(0));
        assert_eq!(Change::between(u64::MAX, 1), Change::Up(u64::MAX));
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
