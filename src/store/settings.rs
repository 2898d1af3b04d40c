//! Typed accessors for the settings the front ends share, so that no
//! settings key is spelled outside `store/`.

use super::{Store, StoreError};

/// Where the backend (relay) URL is kept.
const BACKEND_URL: &str = "backend_url";

/// When the first QR code or sheet was exported (seconds since the epoch):
/// the setup checklist's "first export" step.
const FIRST_EXPORT_AT: &str = "first_export_at";

impl Store {
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
