//! One link as the print sheets and the exported files show it: names
//! resolved and the m.me URL built, nothing else. It sits in the model so
//! that `print` and `export` both use it without depending on each other
//! (the store fills it from a link row).

use serde::Serialize;

/// One link to export.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportItem {
    /// The page's display name, e.g. "Jasper's Market" (flyers name it).
    pub page_name: String,
    /// Campaign name.
    pub campaign: String,
    /// Channel name.
    pub channel: String,
    /// Ref code.
    #[serde(rename = "ref")]
    pub ref_code: String,
    /// The m.me URL.
    pub url: String,
    /// Call to action.
    pub cta: String,
}
