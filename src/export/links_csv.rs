//! `links.csv`, written beside a bulk export's codes.

use super::ExportError;
use super::items::Rendered;
use crate::model::ExportItem;

/// `links.csv`: one row per link with its files and whether they were
/// proven, through the shared CSV writer that neutralises formula cells.
pub(super) fn links_csv(
    items: &[ExportItem],
    rendered: &[Rendered],
    verified: &str,
) -> Result<Vec<u8>, ExportError> {
    let rows = items.iter().zip(rendered).map(|(item, r)| {
        [
            item.campaign.clone(),
            item.channel.clone(),
            item.ref_code.clone(),
            item.url.clone(),
            item.cta.clone(),
            r.files.join(";"),
            verified.to_string(),
        ]
    });
    Ok(crate::csv_safe::to_bytes(
        &[
            "campaign", "channel", "ref", "url", "cta", "files", "verified",
        ],
        rows,
    )?)
}
