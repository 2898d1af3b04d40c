//! The webhook health the top bar's badge shows: read once when the first
//! snapshot names a backend (a database synced before the window opened,
//! like the demo's, would otherwise say nothing until the next sync), then
//! after every sync and connection test (the worker reads it then).

use super::App;
use crate::worker::LongCommand;

impl App {
    /// Asks the worker for the webhook health once, when a backend is set
    /// and nothing has been read yet.
    pub(super) fn ask_health_once(&mut self) {
        if self.health_asked
            || self.snap.backend_url.is_empty()
            || self.snap.webhook_health.is_some()
        {
            return;
        }
        self.health_asked = true;
        let config = crate::sync::SyncConfig::new(&self.snap.backend_url, &self.snap.backend_token);
        self.send(LongCommand::ReadHealth(config).into());
    }
}
