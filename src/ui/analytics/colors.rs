//! Series colours from the group, not from its rank (issue 19, defect 5:
//! Facebook ads turned from orange to green when a typo was counted as
//! freeshipping and the ranking changed): the slot
//! [`crate::stats::palette_slots`] gives each shown group, in the chart's
//! palette (the report uses the same slots and colours).

use crate::ui::chart::PALETTE;
use egui::Color32;

/// The colour of each of `keys` (the shown groups, in any order), in the
/// same order.
pub fn series_colors(keys: &[&str]) -> Vec<Color32> {
    crate::stats::palette_slots(keys, PALETTE.len())
        .into_iter()
        .map(|s| PALETTE[s % PALETTE.len()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colour_follows_its_group_not_its_rank() {
        let ranked = ["newsletter", "facebook-ads", "freeshipping", "website"];
        let reranked = ["freeshipping", "website", "facebook-ads", "newsletter"];
        let a = series_colors(&ranked);
        let b = series_colors(&reranked);
        for (i, key) in ranked.iter().enumerate() {
            let j = reranked.iter().position(|k| k == key).unwrap();
            assert_eq!(a[i], b[j], "{key} keeps its colour");
        }
        let distinct: std::collections::BTreeSet<[u8; 4]> =
            a.iter().map(|c| c.to_array()).collect();
        assert_eq!(distinct.len(), ranked.len());
    }
}
