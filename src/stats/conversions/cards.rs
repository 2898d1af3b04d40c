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
                    card(name, values[i], was[i], range)
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
