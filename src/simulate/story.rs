//! A story for simulated traffic (the demo's): refs launched on different
//! days, a seasonal rise towards the end, busier weekends, and a few typo'd
//! refs taking a small share of their link's traffic. Without a story,
//! traffic is spread evenly over the days and every ref from the first.

/// One ref of a story.
#[derive(Debug, Clone)]
pub struct StoryRef {
    /// The ref as it reaches the page (a typo included).
    pub ref_code: String,
    /// Its share of the traffic once launched (any positive scale).
    pub weight: f64,
    /// How many days before the end it launched (0 = today); a ref has no
    /// traffic before its launch.
    pub launched_days_ago: u32,
}

/// The shape of simulated traffic over time.
#[derive(Debug, Clone)]
pub struct Story {
    /// The refs and when each launched.
    pub refs: Vec<StoryRef>,
    /// How much busier the last day is than the first (the seasonal rise),
    /// e.g. 2.0 for twice as busy; the rise is gradual, faster at the end.
    pub season_rise: f64,
}

const DAY_MS: i64 = 86_400_000;

impl Story {
    /// How busy day `ago` (days before the end) is, before the refs' shares.
    fn season(&self, ago: u32, days: u32) -> f64 {
        let t = 1.0 - f64::from(ago) / f64::from(days.max(1));
        let weekend = if ago % 7 < 2 { 1.25 } else { 1.0 };
        (1.0 + (self.season_rise - 1.0).max(0.0) * t * t) * weekend
    }

    /// The weight of day `ago`: its season times the refs launched by then.
    fn day_weight(&self, ago: u32, days: u32) -> f64 {
        let launched: f64 = self
            .refs
            .iter()
            .filter(|r| r.launched_days_ago >= ago)
            .map(|r| r.weight.max(0.0))
            .sum();
        self.season(ago, days) * launched
    }

    /// Draws a referral: its ref's index and its instant (ms, before `end_ms`).
    pub(super) fn pick(&self, rng: &mut fastrand::Rng, days: u32, end_ms: i64) -> (usize, i64) {
        let weights: Vec<f64> = (0..days).map(|d| self.day_weight(d, days)).collect();
        let ago = draw(rng, &weights).unwrap_or(0);
        let live: Vec<f64> = self
            .refs
            .iter()
            .map(|r| {
                if r.launched_days_ago >= ago as u32 {
                    r.weight.max(0.0)
                } else {
                    0.0
                }
            })
            .collect();
        let r = draw(rng, &live).unwrap_or(0);
        // Daytime is busier than night: two draws, the later hour kept.
        let within = rng.i64(0..DAY_MS).max(rng.i64(0..DAY_MS) / 2);
        let day_end = end_ms - ago as i64 * DAY_MS;
        (r, (day_end - DAY_MS + within).min(end_ms - 1))
    }
}

/// An index drawn with the given weights; `None` when all are 0.
fn draw(rng: &mut fastrand::Rng, weights: &[f64]) -> Option<usize> {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let mut pick = rng.f64() * total;
    for (i, w) in weights.iter().enumerate() {
        if pick < *w {
            return Some(i);
        }
        pick -= w;
    }
    weights.iter().rposition(|w| *w > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story() -> Story {
        let r = |code: &str, weight: f64, ago: u32| StoryRef {
            ref_code: code.into(),
            weight,
            launched_days_ago: ago,
        };
        Story {
            refs: vec![r("always", 3.0, 120), r("launch", 2.0, 20)],
            season_rise: 2.0,
        }
    }

    #[test]
    fn nothing_before_a_launch_and_more_at_the_end_than_at_the_start() {
        let s = story();
        let mut rng = fastrand::Rng::with_seed(7);
        let end = 200 * DAY_MS;
        let mut first_month = 0;
        let mut last_month = 0;
        for _ in 0..20_000 {
            let (r, ts) = s.pick(&mut rng, 120, end);
            assert!(ts < end && ts >= end - 120 * DAY_MS);
            let ago = (end - 1 - ts) / DAY_MS;
            if r == 1 {
                assert!(ago <= 20, "launched 20 days ago, drawn {ago} days ago");
            }
            if ago >= 90 {
                first_month += 1;
            } else if ago < 30 {
                last_month += 1;
            }
        }
        assert!(
            last_month > 2 * first_month,
            "{first_month} then {last_month}"
        );
    }
}
