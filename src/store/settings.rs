//! Typed accessors for the settings the front ends share, so that no
//! settings key is spelled outside `store/`.

use super::{Store, StoreError};

/// Where the backend (relay) URL is kept.
const BACKEND_URL: &str = "backend_url";

/// When the first QR code or sheet was exported (seconds since the epoch):
/// the setup checklist's "first export" step.
const FIRST_EXPORT_AT: &str = "first_export_at";

/// When the setup doctor last found nothing red for a page (seconds since
/// the epoch), followed by the page's store id: the checklist's "check
/// Meta's settings" step.
const DOCTOR_PASSED_AT: &str = "doctor_passed_at_page_";

impl Store {
    /// Whether the setup doctor ever found nothing red for store page `page`.
    pub fn doctor_passed(&self, page: i64) -> Result<bool, StoreError> {
        Ok(self
            .setting(&format!("{DOCTOR_PASSED_AT}{page}"))?
            .is_some())
    }

    /// Records that the doctor found nothing red for store page `page`.
    /// Returns whether this call recorded it (so the caller reloads).
    pub fn mark_doctor_passed(&mut self, page: i64) -> Result<bool, StoreError> {
        if self.doctor_passed(page)? {
            return Ok(false);
        }
        let now = chrono::Utc::now().timestamp().to_string();
        self.set_setting(&format!("{DOCTOR_PASSED_AT}{page}"), &now)?;
        Ok(true)
    }

    /// The saved backend URL, if any.
    pub fn backend_url(&self) -> Result<Option<String>, StoreError> {
        self.setting(BACKEND_URL)
    }

    /// Saves the backend URL (the token is kept apart: see `set_backend_token`).
    pub fn set_backend_url(&mut self, url: &str) -> Result<(), StoreError> {
        self.set_setting(BACKEND_URL, url)
    }

    /// Whether a code was ever exported from this database.
    pub fn exported(&self) -> Result<bool, StoreError> {
        Ok(self.setting(FIRST_EXPORT_AT)?.is_some())
    }

    /// Records the first export; later ones keep the first time. Returns
    /// whether this call recorded it (so the caller knows to reload).
    pub fn mark_exported(&mut self) -> Result<bool, StoreError> {
        if self.exported()? {
            return Ok(false);
        }
        let now = chrono::Utc::now().timestamp().to_string();
        self.set_setting(FIRST_EXPORT_AT, &now)?;
        Ok(true)
    }
}

/// Meta's Graph API host, the default of the `graph_base_url` setting.
pub const DEFAULT_GRAPH_BASE_URL: &str = "https://graph.facebook.com";
/// The Graph API version refboard was checked against: the newest in Meta's
/// changelog (developers.facebook.com/docs/graph-api/changelog), v26.0,
/// released 29 July 2026.
pub const DEFAULT_GRAPH_VERSION: &str = "v26.0";

/// Where the Graph API base URL is kept (default [`DEFAULT_GRAPH_BASE_URL`]).
const GRAPH_BASE_URL: &str = "graph_base_url";
/// Where the Graph API version is kept (default [`DEFAULT_GRAPH_VERSION`]).
const GRAPH_VERSION: &str = "graph_version";
/// Where the Get Started payload the doctor sets is kept.
const GET_STARTED_PAYLOAD: &str = "get_started_payload";
/// The payload set when the user chose none.
pub const DEFAULT_GET_STARTED_PAYLOAD: &str = "GET_STARTED";

impl Store {
    /// The Graph API base URL and version: saved, else the defaults.
    pub fn graph_settings(&self) -> Result<(String, String), StoreError> {
        Ok((
            self.setting(GRAPH_BASE_URL)?
                .unwrap_or_else(|| DEFAULT_GRAPH_BASE_URL.to_string()),
            self.setting(GRAPH_VERSION)?
                .unwrap_or_else(|| DEFAULT_GRAPH_VERSION.to_string()),
        ))
    }

    /// Saves the Graph API base URL (checked like a backend URL).
    pub fn set_graph_base_url(&mut self, url: &str) -> Result<(), StoreError> {
        self.set_setting(GRAPH_BASE_URL, url)
    }

    /// Saves the Graph API version (the caller checks it).
    pub fn set_graph_version(&mut self, version: &str) -> Result<(), StoreError> {
        self.set_setting(GRAPH_VERSION, version)
    }

    /// The payload of the Get Started button the doctor sets.
    pub fn get_started_payload(&self) -> Result<String, StoreError> {
        Ok(self
            .setting(GET_STARTED_PAYLOAD)?
            .unwrap_or_else(|| DEFAULT_GET_STARTED_PAYLOAD.to_string()))
    }

    /// Saves the Get Started payload.
    pub fn set_get_started_payload(&mut self, payload: &str) -> Result<(), StoreError> {
        self.set_setting(GET_STARTED_PAYLOAD, payload)
    }

    /// Page `page_id`'s access token, from the keyring or its 0600 file.
    pub fn page_token(&self, page_id: &str) -> Result<Option<String>, StoreError> {
        Ok(crate::secrets::load_page_token(self.path(), page_id)?)
    }

    /// Saves page `page_id`'s access token outside the database; says where it went.
    pub fn set_page_token(
        &mut self,
        page_id: &str,
        token: &str,
    ) -> Result<crate::secrets::TokenPlace, StoreError> {
        Ok(crate::secrets::save_page_token(
            self.path(),
            page_id,
            token,
        )?)
    }
}
