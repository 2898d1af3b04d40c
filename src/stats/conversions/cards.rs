//! The headline cards of conversions: "Conversions" and "Rate", with their
//! change against the previous period by the very rule (and words) of the
//! other cards (`stats::card`), so all six read alike.

use super::ConversionReport;
use super::figures::rate_text;
use crate::stats::card::card;
use crate::stats::{Card, Change, Report};
use chrono::NaiveDate;

/// The names of the conversion cards, in card order.
pub const NAMES: [&str; 2] = ["Conversions", "Rate"];

/// A conversion card: the shared [`Card`] (its `value` for the Rate card
/// is the rate in basis points, so its change is computed on integers)
/// and the figure as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversionCard {
    /// Name, value and change, by the rule of every card.
    pub card: Card,
    /// The figure as shown: `42`, `12.5%`.
    pub shown: String,
}

/// The rate in basis points (1 = 0.01%), rounded half up; 0 without referred people.
fn basis_points(conv: &ConversionReport) -> u64 {
    let t = &conv.totals;
    let Some(num) = credited_people(conv).checked_mul(20_000) else {
        return u64::MAX;
    };
    if t.referred_people == 0 {
        return 0;
    }
    (num / t.referred_people).div_ceil(2)
}

/// People credited to a referral: the rate's numerator in total.
fn credited_people(conv: &ConversionReport) -> u64 {
    conv.credited_people
}

/// The Rate card's change in percentage points, never a percentage of a
/// percentage ("▲ 17%" of a rate reads as 17 points): `▲ 3.1 pts vs …`.
/// A previous period with fewer than [`crate::stats::MIN_BASE`] referred
/// people had too few to compare with, so its rate is named instead:
/// `was 12.5% in …`. The direction (and colour) stays the shared rule's.
fn rate_card(mut c: Card, referred_then: u64, (from, to): (NaiveDate, NaiveDate)) -> Card {
    let period = crate::stats::period_label(from, to);
    let was = c.previous.unwrap_or(0);
    let pct = |bp: u64| rate_text(Some(bp as f64 / 10_000.0));
    c.change_text = if referred_then < crate::stats::MIN_BASE {
        c.change = Change::Few {
            previous: was,
            current: c.value,
        };
        format!("was {} in {period}", pct(was))
    } else {
        let pts = |bp: u64| format!("{:.1} pts", bp as f64 / 100.0);
        match c.value.cmp(&was) {
            std::cmp::Ordering::Greater => format!("▲ {} vs {period}", pts(c.value - was)),
            std::cmp::Ordering::Less => format!("▼ {} vs {period}", pts(was - c.value)),
            std::cmp::Ordering::Equal => format!("no change vs {period}"),
        }
    };
    c
}

/// The two cards of `now` against `previous` (the previous period's report,
/// its conversions and its days, when it exists).
pub fn conversion_cards(
    now: &ConversionReport,
    previous: Option<(&Report, &ConversionReport, (NaiveDate, NaiveDate))>,
) -> Vec<ConversionCard> {
    let values = [now.totals.figures.conversions, basis_points(now)];
    let shown = [
        now.totals.figures.conversions.to_string(),
        rate_text(now.totals.rate),
    ];
    NAMES
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let card = match previous {
                // A previous period without referrals is "no data", as on
                // the referral cards.
                Some((report, conv, range)) if report.totals.referrals > 0 => {
                    let was = [conv.totals.figures.conversions, basis_points(conv)];
                    let c = card(name, values[i], was[i], range);
                    if i == 1 {
                        rate_card(c, conv.totals.referred_people, range)
                    } else {
                        c
                    }
                }
                _ => Card {
                    name,
                    value: values[i],
                    previous: None,
                    change: Change::NoPrevious,
                    change_text: Change::NoPrevious.text(""),
                },
            };
            ConversionCard {
                card,
                shown: shown[i].clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(now_bp: u64, was_bp: u64, referred_then: u64) -> Card {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let range = (d("2026-10-01"), d("2026-10-10"));
        rate_card(card("Rate", now_bp, was_bp, range), referred_then, range)
    }

    #[test]
    fn the_rate_changes_in_points_and_names_a_rate_on_too_few_people() {
        // 60.0% now against 66.7% of 30 people: points, not "▼ 10%".
        let c = rate(6000, 6667, 30);
        assert_eq!(c.change_text, "▼ 6.7 pts vs 1–10 Oct");
        assert!(matches!(c.change, Change::Down(_)));
        assert_eq!(rate(3100, 2500, 400).change_text, "▲ 6.0 pts vs 1–10 Oct");
        assert_eq!(rate(2500, 2500, 400).change_text, "no change vs 1–10 Oct");
        // Of 5 people then, one more or less moved the rate by 20 points.
        let few = rate(6000, 6667, 5);
        assert_eq!(few.change_text, "was 66.7% in 1–10 Oct");
        assert!(matches!(few.change, Change::Few { .. }));
    }
}
