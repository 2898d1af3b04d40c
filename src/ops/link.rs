//! Saving a link, created or updated, with the warnings both front ends show.

use crate::model::{NewLink, Warning, rename_warning};
use crate::store::{LinkRow, Store, StoreError};

/// Which link a save writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTarget {
    /// A new link on this page (store id).
    New {
        /// The page.
        page: i64,
    },
    /// The link with this store id.
    Existing(i64),
}

/// A saved link and what deserves the user's attention.
#[derive(Debug, Clone)]
pub struct SavedLink {
    /// The link as stored.
    pub row: LinkRow,
    /// The rename warning (printed codes keep the old ref) first, if the ref
    /// changed, then the store's warnings about the ref.
    pub warnings: Vec<Warning>,
}

/// Creates or updates a link in `campaign` and `channel` (store ids). An
/// update that changes the ref warns that codes already printed with the
/// old ref will count as untracked.
pub fn save_link(
    store: &mut Store,
    target: LinkTarget,
    campaign: i64,
    channel: i64,
    new: &NewLink,
) -> Result<SavedLink, StoreError> {
    match target {
        LinkTarget::New { page } => {
            let (row, warnings) = store.add_link(page, campaign, channel, new)?;
            Ok(SavedLink { row, warnings })
        }
        LinkTarget::Existing(id) => {
            let old_ref = store.link(id)?.link.ref_code;
            let (row, more) = store.update_link(id, campaign, channel, new)?;
            let mut warnings: Vec<Warning> = rename_warning(&old_ref, &new.ref_code)
                .into_iter()
                .collect();
            warnings.extend(more);
            Ok(SavedLink { row, warnings })
        }
    }
}
