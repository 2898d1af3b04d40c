//! Which colour of a palette each shown group gets, from the group's key and
//! never from its rank, so a series keeps its colour when the ranking
//! changes (issue 19, defect 5), and the dashboard and the report agree.
//!
//! A key's slot is a hash of the key (FNV-1a, the same on every machine and
//! run) modulo the palette's size. Two shown groups that hash to the same
//! slot are told apart: groups are placed in key order, and one whose slot
//! is taken gets the next free one. Only a group appearing or leaving can
//! move one that collided with it; past the palette's size slots repeat.

/// FNV-1a, 64 bits: small, stable across platforms and releases (std's
/// hasher is not promised to be).
fn fnv1a(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The slot a key prefers in a palette of `len` colours.
pub fn preferred_slot(key: &str, len: usize) -> usize {
    let n = len.max(1) as u64;
    usize::try_from(fnv1a(key) % n).unwrap_or(0)
}

/// The palette slot of each of `keys` (the shown groups, in any order), in
/// the same order, for a palette of `len` colours.
pub fn palette_slots(keys: &[&str], len: usize) -> Vec<usize> {
    let len = len.max(1);
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(keys[b]));
    let mut taken = vec![false; len];
    let mut slots = vec![0; keys.len()];
    for i in order {
        let want = preferred_slot(keys[i], len);
        let slot = (0..len)
            .map(|k| (want + k) % len)
            .find(|&s| !taken[s])
            .unwrap_or(want);
        taken[slot] = true;
        slots[i] = slot;
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_follows_its_key_not_its_rank_and_shown_keys_differ() {
        let ranked = ["newsletter", "facebook-ads", "freeshipping", "website"];
        let reranked = ["freeshipping", "website", "facebook-ads", "newsletter"];
        let a = palette_slots(&ranked, 10);
        let b = palette_slots(&reranked, 10);
        for (i, key) in ranked.iter().enumerate() {
            let j = reranked.iter().position(|k| k == key).unwrap();
            assert_eq!(a[i], b[j], "{key} keeps its slot");
        }
        let many: Vec<String> = (0..10).map(|i| format!("ref{i}")).collect();
        let keys: Vec<&str> = many.iter().map(String::as_str).collect();
        let distinct: std::collections::BTreeSet<usize> =
            palette_slots(&keys, 10).into_iter().collect();
        assert_eq!(distinct.len(), 10);
        assert_eq!(
            palette_slots(&["newsletter"], 10)[0],
            preferred_slot("newsletter", 10)
        );
        assert_eq!(palette_slots(&[], 10), Vec::<usize>::new());
        assert_eq!(palette_slots(&["a", "b"], 0), vec![0, 0]);
    }
}
