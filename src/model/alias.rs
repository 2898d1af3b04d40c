//! Aliases: an extra ref that counts for an existing link, and the typo
//! rescue that proposes one.
//!
//! People retype printed links and ad managers mistype refs: `freeshiping`
//! arrives where `freeshipping` was meant. An alias credits such a ref to
//! its link in every statistic, past and future, without touching the
//! events. Aliases follow the ref rules ([`validate_ref`]) and are unique
//! per page among link refs and other aliases, so a ref never counts twice.

use super::{ValidationError, Warning, validate_ref};
use serde::Serialize;

/// The longest edit distance [`typo_candidates`] accepts.
pub const MAX_TYPO_DISTANCE: usize = 2;
/// Link refs shorter than this many characters accept only one edit: two
/// edits turn most short codes into most others (`ab` → `xy`).
pub const SHORT_REF_CHARS: usize = 6;

/// An extra ref of a page that counts as one of its links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alias {
    /// Store id.
    pub id: i64,
    /// The page both the alias and its link belong to (store id).
    pub page: i64,
    /// The ref that arrives in referrals, e.g. `freeshiping`.
    #[serde(rename = "alias")]
    pub ref_code: String,
    /// The link it counts for (store id).
    pub link: i64,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
}

/// Checks a new alias: the ref rules, then uniqueness among the page's link
/// refs and aliases (exact; refs are case-sensitive, so `FreeShipping` may
/// be an alias of `freeshipping`). Returns the ref's warnings.
pub fn validate_alias<'a>(
    alias: &str,
    link_refs: impl IntoIterator<Item = &'a str>,
    aliases: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Warning>, ValidationError> {
    let warnings = validate_ref(alias).map_err(|e| ValidationError {
        field: "alias",
        ..e
    })?;
    if link_refs.into_iter().any(|r| r == alias) {
        return Err(ValidationError::new(
            "alias",
            alias,
            "a link of this page already has this ref; an alias must be a ref no link uses",
        ));
    }
    if aliases.into_iter().any(|a| a == alias) {
        return Err(ValidationError::new(
            "alias",
            alias,
            "this page already has this alias; remove it first to point it at another link",
        ));
    }
    Ok(warnings)
}

/// The link ref an untracked ref most likely meant, if any: a ref that
/// differs only in letter case, else the nearest ref within
/// [`MAX_TYPO_DISTANCE`] edits (insert, delete or replace one character,
/// letter case ignored; one edit only for refs shorter than
/// [`SHORT_REF_CHARS`]). Ties go to the ref that sorts first.
///
/// Untracked refs come from strangers and may be 2,083 characters long:
/// refs whose lengths differ by more than the distance are skipped without
/// comparing, and each comparison stops once the distance is exceeded, so a
/// call costs at most a few operations per character per link.
pub fn typo_candidates<'a>(
    untracked_ref: &str,
    links: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted: Vec<char> = untracked_ref.chars().flat_map(char::to_lowercase).collect();
    let mut best: Option<(usize, &'a str)> = None;
    for link in links {
        if link == untracked_ref {
            // The ref is tracked: nothing to rescue.
            return None;
        }
        let limit = if link.chars().count() < SHORT_REF_CHARS {
            1
        } else {
            MAX_TYPO_DISTANCE
        };
        let Some(d) = bounded_distance(&wanted, link, limit) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((bd, br)) => d < bd || (d == bd && link < br),
        };
        if better {
            best = Some((d, link));
        }
    }
    best.map(|(_, r)| r)
}

/// The Levenshtein distance between `a` (already lowercased) and `b`
/// (lowercased here) when it is at most `max`, else `None`. Only the band of
/// width `2 * max + 1` around the diagonal is computed.
fn bounded_distance(a: &[char], b: &str, max: usize) -> Option<usize> {
    // Most links differ in length by more than `max`: count before allocating.
    let b_len = b.chars().flat_map(char::to_lowercase).count();
    if a.len().abs_diff(b_len) > max {
        return None;
    }
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    let big = max + 1;
    // prev[j] is the distance between a[..i] and b[..j], capped at `big`.
    let mut prev: Vec<usize> = (0..=b.len()).map(|j| j.min(big)).collect();
    let mut cur = vec![big; b.len() + 1];
    for i in 1..=a.len() {
        let lo = i.saturating_sub(max).max(1);
        let hi = (i + max).min(b.len());
        cur.fill(big);
        cur[0] = i.min(big);
        let mut row_min = cur[0];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let v = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            cur[j] = v.min(big);
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LINKS: [&str; 4] = [
        "freeshipping",
        "jaspersmarketnewsletter",
        "jaspersmarketFBad",
        "exclusiveinvite",
    ];

    #[test]
    fn a_near_ref_is_a_typo_of_its_link() {
        assert_eq!(typo_candidates("freeshiping", LINKS), Some("freeshipping"));
        assert_eq!(typo_candidates("freeshippin", LINKS), Some("freeshipping"));
        assert_eq!(typo_candidates("fre_shiping", LINKS), Some("freeshipping"));
        assert_eq!(typo_candidates("freshpng", LINKS), None, "four edits");
        assert_eq!(typo_candidates("spring", LINKS), None);
    }

    #[test]
    fn a_case_only_difference_is_a_typo() {
        assert_eq!(
            typo_candidates("JaspersMarketFBAD", LINKS),
            Some("jaspersmarketFBad")
        );
        assert_eq!(typo_candidates("FREESHIPPING", LINKS), Some("freeshipping"));
    }

    #[test]
    fn a_tracked_ref_is_no_typo() {
        assert_eq!(typo_candidates("freeshipping", LINKS), None);
    }

    #[test]
    fn the_nearest_wins_and_ties_go_to_the_first_ref() {
        let links = ["promo_b", "promo_a", "promo_ab"];
        assert_eq!(
            typo_candidates("promo_ab", ["promo_abc", "promo_a"]),
            Some("promo_a")
        );
        assert_eq!(typo_candidates("promo_c", links), Some("promo_a"));
    }

    #[test]
    fn short_refs_accept_one_edit_only() {
        assert_eq!(typo_candidates("ab", ["xy"]), None);
        assert_eq!(typo_candidates("ax", ["ab"]), Some("ab"));
        assert_eq!(typo_candidates("fly", ["flyer"]), None);
    }

    #[test]
    fn a_huge_ref_is_skipped_by_length() {
        let huge = "a".repeat(2083);
        assert_eq!(typo_candidates(&huge, LINKS), None);
        let near = format!("{}b", "a".repeat(2082));
        let long_link = "a".repeat(2083);
        assert_eq!(
            typo_candidates(&near, [long_link.as_str()]),
            Some(long_link.as_str())
        );
    }

    #[test]
    fn alias_rules() {
        let refs = ["freeshipping"];
        assert!(validate_alias("freeshiping", refs, []).unwrap().is_empty());
        assert!(
            validate_alias("FreeShipping", refs, []).is_ok(),
            "case differs"
        );
        let e = validate_alias("freeshipping", refs, []).unwrap_err();
        assert_eq!((e.field, e.value.as_str()), ("alias", "freeshipping"));
        assert!(e.rule.contains("already has this ref"), "{e}");
        let e = validate_alias("freeshiping", refs, ["freeshiping"]).unwrap_err();
        assert!(e.rule.contains("already has this alias"), "{e}");
        let e = validate_alias("free shipping", refs, []).unwrap_err();
        assert_eq!(e.field, "alias");
        assert!(e.rule.contains("' ' at position 5"), "{e}");
        assert!(validate_alias("", refs, []).is_err());
    }

    /// The textbook distance, for the property test.
    fn levenshtein(a: &[char], b: &[char]) -> usize {
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for i in 1..=a.len() {
            let mut cur = vec![i; b.len() + 1];
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                cur[j] = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }

    proptest! {
        #[test]
        fn bounded_distance_agrees_with_levenshtein(
            a in "[a-dA-D_]{0,12}",
            b in "[a-dA-D_]{0,12}",
            max in 0usize..4,
        ) {
            let la: Vec<char> = a.to_lowercase().chars().collect();
            let lb: Vec<char> = b.to_lowercase().chars().collect();
            let full = levenshtein(&la, &lb);
            let bounded = bounded_distance(&la, &b, max);
            prop_assert_eq!(bounded, (full <= max).then_some(full));
        }

        #[test]
        fn a_candidate_is_always_a_near_link(
            r in "[a-e]{1,10}",
            links in proptest::collection::vec("[a-e]{1,10}", 0..6),
        ) {
            let refs: Vec<&str> = links.iter().map(String::as_str).collect();
            if let Some(c) = typo_candidates(&r, refs.iter().copied()) {
                prop_assert!(refs.contains(&c));
                prop_assert!(c != r);
                let d = levenshtein(
                    &r.chars().collect::<Vec<_>>(),
                    &c.chars().collect::<Vec<_>>(),
                );
                prop_assert!(d <= MAX_TYPO_DISTANCE);
            }
        }
    }
}
