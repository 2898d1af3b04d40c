//! The files of each link in a bulk export: a stem safe on every platform
//! and distinct even on case-insensitive file systems, and what was rendered.

use crate::model::ExportItem;
use std::collections::HashSet;
use std::fmt::Write as _;

/// File names Windows refuses whatever the extension.
const RESERVED_NAMES: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];
pub(super) const MAX_STEM_CHARS: usize = 80;

/// A file stem that is safe on every platform, derived from a ref code.
///
/// Letters, digits, `_`, `-` and `=` are kept; anything else becomes `_`.
/// Long refs are cut and get a hash so that different refs keep different names.
pub fn safe_file_stem(ref_code: &str) -> String {
    let mut stem: String = ref_code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '=') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.len() > MAX_STEM_CHARS {
        stem.truncate(MAX_STEM_CHARS);
        let _ = write!(stem, "-{:08x}", fnv1a(ref_code.as_bytes()));
    }
    if stem.is_empty() || RESERVED_NAMES.contains(&stem.to_ascii_lowercase().as_str()) {
        stem.insert_str(0, "ref_");
    }
    stem
}

/// 32-bit FNV-1a, enough to tell long refs apart in file names.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// Gives each item a stem unique even on case-insensitive file systems.
pub(super) fn unique_stems(items: &[ExportItem]) -> Vec<String> {
    let mut taken = HashSet::new();
    items
        .iter()
        .map(|item| {
            let base = safe_file_stem(&item.ref_code);
            let mut stem = base.clone();
            let mut n = 2;
            while !taken.insert(stem.to_ascii_lowercase()) {
                stem = format!("{base}-{n}");
                n += 1;
            }
            stem
        })
        .collect()
}

/// One link's rendered files, already in the staging folder.
pub(super) struct Rendered {
    pub(super) files: Vec<String>,
    pub(super) warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe_and_distinct() {
        assert_eq!(safe_file_stem("freeshipping"), "freeshipping");
        assert_eq!(safe_file_stem("summer/2024.v1"), "summer_2024_v1");
        assert_eq!(safe_file_stem("münchen"), "m_nchen");
        assert_eq!(safe_file_stem("CON"), "ref_CON");
        let a = safe_file_stem(&"a".repeat(300));
        let b = safe_file_stem(&format!("{}b", "a".repeat(299)));
        assert_ne!(a, b);
        assert!(a.len() <= MAX_STEM_CHARS + 9);
        let item = |r: &str| ExportItem {
            ref_code: r.into(),
            ..ExportItem::default()
        };
        let stems = unique_stems(&[item("FBad"), item("fbad"), item("a/b"), item("a.b")]);
        assert_eq!(stems, ["FBad", "fbad-2", "a_b", "a_b-2"]);
    }
}
