//! Series colours from the group, not from its rank (issue 19, defect 5:
//! Facebook ads turned from orange to green when a typo was counted as
//! freeshipping and the ranking changed).
//!
//! A group's colour is a hash of its key into the palette (FNV-1a, the same
//! on every machine and run). Two shown groups that hash to the same colour
//! are told apart: groups are placed in key order, and one whose colour is
//! taken gets the next free one. Re-ranking never changes a colour; only a
//! group appearing or leaving can move one that collided with it. Past the
//! palette's size colours repeat (the legend still names each line).

use crate::ui::chart::PALETTE;
use egui::Color32;

/// FNV-1a, 64 bits: small, stable across platforms and releases (std's
/// hasher is not promised to be).
fn fnv1a(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The palette slot a key prefers.
fn preferred(key: &str) -> usize {
    let n = PALETTE.len() as u64;
    usize::try_from(fnv1a(key) % n).unwrap_or(0)
}

/// The colour of each of `keys` (the shown groups, in any order), in the
/// same order.
pub fn series_colors(keys: &[&str]) -> Vec<Color32> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(keys[b]));
    let mut taken = [false; PALETTE.len()];
    let mut slots = vec![0; keys.len()];
    for i in order {
        let want = preferred(keys[i]);
        let slot = (0..PALETTE.len())
            .map(|k| (want + k) % PALETTE.len())
            .find(|&s| !taken[s])
            .unwrap_or(want);
        taken[slot] = true;
        slots[i] = slot;
    }
    slots.into_iter().map(|s| PALETTE[s]).collect()
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
        // Shown groups never share a colour while the palette lasts.
        let many: Vec<String> = (0..PALETTE.len()).map(|i| format!("ref{i}")).collect();
        let keys: Vec<&str> = many.iter().map(String::as_str).collect();
        let colors = series_colors(&keys);
        let distinct: std::collections::BTreeSet<[u8; 4]> =
            colors.iter().map(|c| c.to_array()).collect();
        assert_eq!(distinct.len(), PALETTE.len());
        // The same key gets the same colour on its own as among others
        // when nothing collides with it.
        assert_eq!(
            series_colors(&["newsletter"])[0],
            PALETTE[preferred("newsletter")]
        );
    }
}
