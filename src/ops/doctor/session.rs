//! One doctor run for the dashboard's worker: the page's saved settings,
//! an optional new token (saved only when Meta accepts it for this page, as
//! the CLI does), an optional fix the user agreed to, then the checks.

use super::{Check, CheckId, Colour, DoctorInput, Fix, Report, apply, run};
use crate::graph::GraphConfig;
use crate::store::{Store, StoreError};

/// A page access token on its way to the worker; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PageToken(pub String);

impl std::fmt::Debug for PageToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageToken(hidden)")
    }
}

/// What a run gives the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The page's store id.
    pub page: i64,
    /// The checks, after the fix if one was asked for.
    pub report: Report,
    /// Each offered fix's exact call or change, by check.
    pub previews: Vec<(CheckId, String)>,
    /// What the fix did, or why it was refused or failed.
    pub fixed: Option<Result<String, String>>,
    /// Whether a new token was saved (`None`: none was given).
    pub token_saved: Option<bool>,
    /// The Graph API version the calls used (for redrawing a preview).
    pub graph_version: String,
}

/// Runs the doctor on store page `page`, first saving `new_token` when Meta
/// accepts it and applying `fix` (the check as the user saw it).
pub fn session(
    store: &mut Store,
    page: i64,
    new_token: Option<&PageToken>,
    fix: Option<&Check>,
) -> Result<Outcome, StoreError> {
    let key = page.to_string();
    let given = match new_token {
        Some(t) => Some(crate::graph::validate_page_token(&t.0).map_err(StoreError::Invalid)?),
        None => None,
    };
    let (base_url, version) = store.graph_settings()?;
    let mut input = DoctorInput {
        page: store.page(page)?,
        token: given.clone().or(store.page_token(&key)?),
        graph: GraphConfig {
            base_url,
            version,
            ..GraphConfig::default()
        },
        backend_url: store.backend_url()?,
        get_started_payload: store.get_started_payload()?,
    };
    let mut fixed = None;
    if let Some((check, f)) = fix.and_then(|c| c.fix.as_ref().map(|f| (c, f))) {
        let done = apply(store, &input, check, f);
        // A payload the user chose is the default next time, as `--payload` is.
        if let (Ok(_), Fix::GetStarted { payload }) = (&done, f) {
            store.set_get_started_payload(payload.trim())?;
        }
        fixed = Some(done.map(|a| a.done).map_err(|e| e.to_string()));
    }
    input.page = store.page(page)?;
    let report = run(&input);
    let token_saved = match &given {
        Some(t)
            if report
                .check(CheckId::Token)
                .is_some_and(|c| c.colour != Colour::Red) =>
        {
            store.set_page_token(&key, t)?;
            Some(true)
        }
        Some(_) => Some(false),
        None => None,
    };
    let previews = report
        .checks
        .iter()
        .filter_map(|c| c.fix.as_ref().map(|f| (c.id, f.preview(&input))))
        .collect();
    Ok(Outcome {
        page,
        report,
        previews,
        fixed,
        token_saved,
        graph_version: input.graph.version,
    })
}
