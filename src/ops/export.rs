//! Exporting codes: one file, or a page's links into a folder. The logo is
//! read and the links are chosen here, so the CLI and the dashboard export
//! the same items with the same checks.

use crate::codes::QrStyle;
use crate::codes::logo::Logo;
use crate::export::{BulkOptions, ExportError, ExportReport, OneOptions};
use crate::model::{ExportItem, ValidationError, Warning};
use crate::store::{LinkFilter, Store, StoreError};
use std::path::Path;
use std::sync::Arc;

/// Which links a bulk export or a sheet takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// The page (store id).
    pub page: i64,
    /// Only this campaign (store id).
    pub campaign: Option<i64>,
    /// Archived links too.
    pub include_archived: bool,
}

/// Reads the logo at `path` (if any) into `style`, its pad covering at most
/// `share` of the code; `force` allows a larger share.
pub fn load_logo(
    style: &mut QrStyle,
    path: Option<&Path>,
    share: f64,
    force: bool,
) -> Result<(), ValidationError> {
    style.logo = match path {
        Some(p) => Some(Arc::new(Logo::load(p, share, force)?)),
        None => None,
    };
    Ok(())
}

/// The selected links as export items, in the store's order.
pub fn items(store: &Store, selection: &Selection) -> Result<Vec<ExportItem>, StoreError> {
    let rows = store.links(&LinkFilter {
        page: Some(selection.page),
        campaign: selection.campaign,
        include_archived: selection.include_archived,
        ..LinkFilter::default()
    })?;
    Ok(rows.into_iter().map(ExportItem::from).collect())
}

/// Whether a file (or a link, even a broken one) is in the way at `path`:
/// the dashboard asks before replacing it.
pub fn in_the_way(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Writes one code, proved to scan, to `path`; returns the style warnings.
pub fn one_code(
    path: &Path,
    item: &ExportItem,
    style: &QrStyle,
    options: &OneOptions,
) -> Result<Vec<Warning>, ExportError> {
    crate::export::export_one_item(path, item, style, options)
}

/// Exports `items` into `dir` as `options` asks: all files or none.
/// `progress` gets (done, total) and stops the export when it returns false.
pub fn bulk(
    dir: &Path,
    items: &[ExportItem],
    options: &BulkOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<ExportReport, ExportError> {
    crate::export::export_bulk(dir, items, options, progress)
}
