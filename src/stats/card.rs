//! The headline cards: referrals, unique people, new and returning over a
//! range, each with its change against the previous period of the same
//! length. One implementation for the dashboard's cards and the report's,
//! so the two say the same thing for the same data.

use super::{Change, Report, Totals, period_label};
use chrono::NaiveDate;

/// The names of the four figures, in card order.
pub const NAMES: [&str; 4] = ["Referrals", "Unique people", "New", "Returning"];

/// The four figures of `t`, in the order of [`NAMES`].
pub fn figures(t: &Totals) -> [u64; 4] {
    [t.referrals, t.unique_people, t.new, t.returning]
}

/// One headline figure with its change.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// "Referrals", "Unique people", "New" or "Returning".
    pub name: &'static str,
    /// The figure over the range.
    pub value: u64,
    /// The same figure over the previous period, when there is one.
    pub previous: Option<u64>,
    /// The change against it.
    pub change: Change,
    /// The card's second line, e.g. `▲ 12% vs 1–31 Oct`.
    pub change_text: String,
}

/// The headline cards of `current` against `previous` (the report of the
/// previous period and its first and last day, when that period exists).
///
/// Each figure follows the rule of [`Change::between`]: a percentage against
/// a previous figure of at least [`super::MIN_BASE`], else the count it is
/// compared with (`up from 4 in 1–10 Oct`, `new: none in 1–10 Oct`). A
/// previous period without any referral says `no data in the previous
/// period` on every card.
pub fn cards(current: &Report, previous: Option<(&Report, (NaiveDate, NaiveDate))>) -> Vec<Card> {
    let now = figures(&current.totals);
    let before = previous
        .map(|(r, range)| (figures(&r.totals), range))
        .filter(|(was, _)| was[0] > 0);
    NAMES
        .into_iter()
        .enumerate()
        .map(|(i, name)| match before {
            Some((was, range)) => card(name, now[i], was[i], range),
            None => Card {
                name,
                value: now[i],
                previous: previous.map(|(r, _)| figures(&r.totals)[i]),
                change: Change::NoPrevious,
                change_text: Change::NoPrevious.text(""),
            },
        })
        .collect()
}

/// One card against a previous period that had referrals: `was` is the
/// figure then. Also the rule of the conversion cards (`conversions::cards`).
pub(super) fn card(
    name: &'static str,
    now: u64,
    was: u64,
    (from, to): (NaiveDate, NaiveDate),
) -> Card {
    let change = Change::between(now, was);
    Card {
        name,
        value: now,
        previous: Some(was),
        change,
        change_text: change.text(&period_label(from, to)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::GroupBy;

    fn totals(referrals: u64, people: u64, new: u64, returning: u64) -> Report {
        Report {
            from: None,
            to: None,
            tz: "UTC".into(),
            every: crate::stats::Every::Day,
            by: GroupBy::Link,
            totals: crate::stats::Totals {
                referrals,
                unique_people: people,
                new,
                returning,
            },
            groups: Vec::new(),
            other: None,
            untracked_total: 0,
            untracked_offset: 0,
            untracked_refs: Vec::new(),
            unique_people_counted: true,
        }
    }

    #[test]
    fn a_figure_that_was_zero_before_says_so_without_a_percentage() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let range = (d("2026-10-01"), d("2026-10-10"));
        // Both faces of the rule on one set of cards: percentages against 20
        // and more, counts below.
        let now = totals(50, 40, 50, 0);
        let before = totals(30, 20, 0, 30);
        let c = cards(&now, Some((&before, range)));
        let texts: Vec<&str> = c.iter().map(|c| c.change_text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "▲ 67% vs 1–10 Oct",
                "▲ 100% vs 1–10 Oct",
                "new: none in 1–10 Oct",
                "▼ 100% vs 1–10 Oct"
            ]
        );
        let small = totals(3996, 2403, 2401, 1595);
        let c = cards(&small, Some((&totals(4, 4, 3, 1), range)));
        let texts: Vec<&str> = c.iter().map(|c| c.change_text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "up from 4 in 1–10 Oct",
                "up from 4 in 1–10 Oct",
                "up from 3 in 1–10 Oct",
                "up from 1 in 1–10 Oct"
            ]
        );
        let nothing = totals(0, 0, 0, 0);
        let c = cards(&now, Some((&nothing, range)));
        assert!(c.iter().all(|c| c.change == Change::NoPrevious));
        assert!(
            c.iter()
                .all(|c| c.change_text == "no data in the previous period")
        );
        let c = cards(&now, None);
        assert_eq!(c[0].change_text, "no data in the previous period");
        assert!(c.iter().all(|c| !c.change_text.contains("inf")));
    }
}
