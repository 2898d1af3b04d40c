//! What conversions add to a report: per group the conversations, the
//! conversions, converted people, value per currency and the median time
//! to convert, per goal too; and the accumulator that counts them.
//!
//! Money is exact: integer micros (value × 1,000,000) summed in `i128`, so
//! no sum of `i64` values can overflow or round, and one entry per currency, never added
//! across currencies.

use super::credit::median_ms;
use roaring::RoaringBitmap;
use serde::Serialize;

/// A sum of values in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Money {
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
    /// The exact sum × 1,000,000.
    pub micros: i128,
}

impl Money {
    /// The sum as a decimal without trailing zeros past the cents, e.g.
    /// `12.50 EUR`, `0.125 BHD`: exact, from the integer micros.
    pub fn display(&self) -> String {
        format!("{} {}", micros_text(self.micros), self.currency)
    }
}

/// Integer micros as a decimal with at least two decimals, e.g. `12.50`.
pub fn micros_text(micros: i128) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    let whole = abs / 1_000_000;
    let mut frac = format!("{:06}", abs % 1_000_000);
    while frac.len() > 2 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{sign}{whole}.{frac}")
}

/// One goal's figures in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoalFigures {
    /// The goal's name, as the bot or the relay's `--goal` named it.
    pub goal: String,
    /// Conversions.
    pub conversions: u64,
    /// Distinct people who reached it.
    pub people: u64,
    /// Value per currency.
    pub value: Vec<Money>,
}

/// The conversion figures of one group (or of the totals).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConversionFigures {
    /// "Conversation started" events (first message after a referral).
    pub conversations: u64,
    /// Distinct people who started a conversation.
    pub conversation_people: u64,
    /// Conversions (goals reached).
    pub conversions: u64,
    /// Distinct people with at least one conversion.
    pub converted_people: u64,
    /// Value per currency, currencies in alphabetical order.
    pub value: Vec<Money>,
    /// Median time from the credited referral to the conversion, ms
    /// (`None` without a credited conversion).
    pub median_ms_to_convert: Option<i64>,
    /// Per goal, goals in alphabetical order.
    pub goals: Vec<GoalFigures>,
}

impl ConversionFigures {
    /// The value in `currency` (0 when none).
    pub fn value_in(&self, currency: &str) -> i128 {
        self.value
            .iter()
            .find(|m| m.currency == currency)
            .map_or(0, |m| m.micros)
    }

    /// The figures of `goal`, when reached in this group.
    pub fn goal(&self, goal: &str) -> Option<&GoalFigures> {
        self.goals.iter().find(|g| g.goal == goal)
    }
}

/// Converted people ÷ referred people, `None` without referred people.
pub fn rate(converted: u64, referred: u64) -> Option<f64> {
    // Display only: the two counts stay exact in the report.
    #[allow(clippy::cast_precision_loss)]
    (referred > 0).then(|| converted as f64 / referred as f64)
}

/// A rate as a percentage with one decimal, e.g. `12.5%`; `–` without one.
pub fn rate_text(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_string(), |r| format!("{:.1}%", r * 100.0))
}

/// A duration in words for tables, e.g. `3 h 20 min`, `2 d 4 h`, `45 s`.
pub fn duration_text(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "–".to_string();
    };
    let secs = ms.max(0) / 1000;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) => format!("{m} min"),
        (0, _, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

/// Sums per currency number: a short list (a range has few currencies),
/// searched in place, cheaper per conversion than a map.
type Sums = Vec<(u32, i128)>;

fn add_to(sums: &mut Sums, currency: u32, micros: i64) {
    match sums.iter_mut().find(|(c, _)| *c == currency) {
        Some((_, v)) => *v += i128::from(micros),
        None => sums.push((currency, i128::from(micros))),
    }
}

/// One goal's counts in a group.
#[derive(Debug, Default, Clone)]
struct GoalAcc {
    conversions: u64,
    people: RoaringBitmap,
    value: Sums,
}

/// Counts one group's conversions as they are credited. People are dense
/// numbers, so their sets are roaring bitmaps (a few nanoseconds per
/// insert, a bit per person at most).
#[derive(Debug, Default, Clone)]
pub(super) struct Acc {
    conversations: u64,
    conversation_people: RoaringBitmap,
    conversions: u64,
    people: RoaringBitmap,
    value: Sums,
    delays_ms: Vec<i64>,
    goals: Vec<(u32, GoalAcc)>,
}

/// One conversion event as the accumulator needs it: the person's number,
/// the goal's and the currency's (numbers the report's name lists resolve),
/// the value and the delay since the credited referral.
#[derive(Debug, Clone, Copy)]
pub(super) struct Counted {
    pub(super) person: u32,
    pub(super) goal: Option<u32>,
    pub(super) value: Option<(u32, i64)>,
    pub(super) delay_ms: Option<i64>,
}

impl Acc {
    /// Whether nothing was counted.
    pub(super) fn is_empty(&self) -> bool {
        self.conversations == 0 && self.conversions == 0
    }

    pub(super) fn add(&mut self, c: &Counted) {
        let Some(goal) = c.goal else {
            self.conversations += 1;
            self.conversation_people.insert(c.person);
            return;
        };
        self.conversions += 1;
        self.people.insert(c.person);
        self.delays_ms.extend(c.delay_ms);
        let g = match self.goals.iter().position(|(n, _)| *n == goal) {
            Some(i) => &mut self.goals[i].1,
            None => {
                self.goals.push((goal, GoalAcc::default()));
                let last = self.goals.len() - 1;
                &mut self.goals[last].1
            }
        };
        g.conversions += 1;
        g.people.insert(c.person);
        if let Some((currency, micros)) = c.value {
            add_to(&mut self.value, currency, micros);
            add_to(&mut g.value, currency, micros);
        }
    }

    /// Adds another group's counts (the Other row).
    pub(super) fn merge(&mut self, other: Acc) {
        self.conversations += other.conversations;
        self.conversation_people |= other.conversation_people;
        self.conversions += other.conversions;
        self.people |= other.people;
        for (c, v) in other.value {
            add_sum(&mut self.value, c, v);
        }
        self.delays_ms.extend(other.delays_ms);
        for (goal, g) in other.goals {
            match self.goals.iter_mut().find(|(n, _)| *n == goal) {
                Some((_, mine)) => {
                    mine.conversions += g.conversions;
                    mine.people |= g.people;
                    for (c, v) in g.value {
                        add_sum(&mut mine.value, c, v);
                    }
                }
                None => self.goals.push((goal, g)),
            }
        }
    }

    /// The figures, naming goals and currencies by their numbers' names,
    /// both lists sorted by name.
    pub(super) fn finish(mut self, goals: &[String], currencies: &[String]) -> ConversionFigures {
        let money = |value: Sums| {
            let mut m = value
                .into_iter()
                .map(|(c, micros)| Money {
                    currency: currencies.get(c as usize).cloned().unwrap_or_default(),
                    micros,
                })
                .collect::<Vec<_>>();
            m.sort_by(|a, b| a.currency.cmp(&b.currency));
            m
        };
        let mut f = ConversionFigures {
            conversations: self.conversations,
            conversation_people: self.conversation_people.len(),
            conversions: self.conversions,
            converted_people: self.people.len(),
            value: money(std::mem::take(&mut self.value)),
            median_ms_to_convert: median_ms(&mut self.delays_ms),
            goals: self
                .goals
                .into_iter()
                .map(|(g, acc)| GoalFigures {
                    goal: goals.get(g as usize).cloned().unwrap_or_default(),
                    conversions: acc.conversions,
                    people: acc.people.len(),
                    value: money(acc.value),
                })
                .collect(),
        };
        f.goals.sort_by(|a, b| a.goal.cmp(&b.goal));
        f
    }
}

fn add_sum(sums: &mut Sums, currency: u32, v: i128) {
    match sums.iter_mut().find(|(c, _)| *c == currency) {
        Some((_, mine)) => *mine += v,
        None => sums.push((currency, v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_shown_exactly_from_micros() {
        assert_eq!(micros_text(0), "0.00");
        assert_eq!(micros_text(12_500_000), "12.50");
        assert_eq!(micros_text(125_000), "0.125");
        assert_eq!(micros_text(1), "0.000001");
        assert_eq!(
            micros_text(i128::from(i64::MAX) * 3),
            "27670116110564.327421"
        );
        assert_eq!(micros_text(-1_500_000), "-1.50");
        assert_eq!(rate_text(rate(1, 8)), "12.5%");
        assert_eq!(rate_text(rate(1, 0)), "–");
        assert_eq!(duration_text(Some(45_000)), "45 s");
        assert_eq!(duration_text(Some(12_000_000)), "3 h 20 min");
        assert_eq!(duration_text(Some(187_200_000)), "2 d 4 h");
    }
}
