//! Typed accessors for the settings the front ends share, so that no
//! settings key is spelled outside `store/`.

use super::{Store, StoreError};

/// Where the backend (relay) URL is kept.
const BACKEND_URL: &str = "backend_url";

impl Store {
    /// The saved backend URL, if any.
    pub fn backend_url(&self) -> Result<Option<String>, StoreError> {
        self.setting(BACKEND_URL)
    }

    /// Saves the backend URL (the token is kept apart: see `set_backend_token`).
    pub fn set_backend_url(&mut self, url: &str) -> Result<(), StoreError> {
        self.set_setting(BACKEND_URL, url)
    }
}
