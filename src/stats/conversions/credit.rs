//! The crediting rule, on one person's referrals: which referral (if any)
//! a conversion at a given instant is credited to. Pure, so the proptest
//! can compare it with a brute-force search.
//!
//! A referral at `t_r` is in the window of a conversion at `t_c` when
//! `t_c - window_ms <= t_r <= t_c`: both ends are included, and a referral
//! at the very instant of the conversion counts. Under [`CreditModel::Last`]
//! the latest such referral is credited, under [`CreditModel::First`] the
//! earliest. **Ties** (several referrals at the credited instant) go to the
//! referral stored first: the smallest row id, which is the order the
//! events reached this store.

use crate::model::CreditModel;

/// A referral as the rule sees it: its time, its row id (the tie-breaker)
/// and whatever the caller needs back (`T`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch<T> {
    /// When, ms since the Unix epoch.
    pub ts_ms: i64,
    /// Row id: among equal times, the smallest wins.
    pub id: i64,
    /// The caller's data, e.g. where the referral counts.
    pub data: T,
}

/// Sorts one person's referrals into the order [`credited`] expects.
pub fn sort_touches<T>(touches: &mut [Touch<T>]) {
    touches.sort_unstable_by_key(|t| (t.ts_ms, t.id));
}

/// The index of the referral credited with a conversion at `at_ms`, in
/// `touches` sorted by [`sort_touches`]; `None` when none is in the window.
/// Two binary searches: O(log n) per conversion.
pub fn credited<T>(
    touches: &[Touch<T>],
    at_ms: i64,
    window_ms: i64,
    model: CreditModel,
) -> Option<usize> {
    let start = at_ms.saturating_sub(window_ms);
    match model {
        CreditModel::First => {
            let i = touches.partition_point(|t| t.ts_ms < start);
            touches.get(i).filter(|t| t.ts_ms <= at_ms).map(|_| i)
        }
        CreditModel::Last => {
            let end = touches.partition_point(|t| t.ts_ms <= at_ms);
            let last = touches.get(end.checked_sub(1)?)?;
            if last.ts_ms < start {
                return None;
            }
            // The first of the referrals at that instant: stored first.
            Some(touches[..end].partition_point(|t| t.ts_ms < last.ts_ms))
        }
    }
}

/// The median of `values` (reordered here, in linear time): the middle
/// one, or for an even count the mean of the two middle ones rounded down.
/// `None` when empty.
pub fn median_ms(values: &mut [i64]) -> Option<i64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (below, &mut upper, _) = values.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return Some(upper);
    }
    // The lower middle is the largest of the half below the upper one.
    let lower = below.iter().copied().max().unwrap_or(upper);
    i64::try_from((i128::from(lower) + i128::from(upper)).div_euclid(2)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touches(times: &[(i64, i64)]) -> Vec<Touch<()>> {
        let mut v: Vec<Touch<()>> = times
            .iter()
            .map(|&(ts_ms, id)| Touch {
                ts_ms,
                id,
                data: (),
            })
            .collect();
        sort_touches(&mut v);
        v
    }

    #[test]
    fn window_ends_are_inclusive_and_ties_go_to_the_referral_stored_first() {
        let t = touches(&[(100, 5), (100, 2), (50, 9), (10, 1)]);
        // Sorted: (10,1) (50,9) (100,2) (100,5).
        assert_eq!(credited(&t, 100, 50, CreditModel::Last), Some(2));
        assert_eq!(credited(&t, 100, 50, CreditModel::First), Some(1));
        assert_eq!(credited(&t, 100, 49, CreditModel::First), Some(2));
        assert_eq!(credited(&t, 99, 49, CreditModel::Last), Some(1));
        assert_eq!(credited(&t, 9, 100, CreditModel::Last), None);
        assert_eq!(credited(&t, 200, 99, CreditModel::Last), None);
        assert_eq!(credited(&t, 200, 100, CreditModel::Last), Some(2));
        assert_eq!(credited::<()>(&[], 5, 5, CreditModel::First), None);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median_ms(&mut []), None);
        assert_eq!(median_ms(&mut [5, 1, 3]), Some(3));
        assert_eq!(median_ms(&mut [4, 1, 2, 3]), Some(2));
        assert_eq!(median_ms(&mut [i64::MAX, i64::MAX]), Some(i64::MAX));
    }
}
