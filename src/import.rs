//! Importing raw webhook bodies as a bot might have logged them: one JSON
//! body per line (NDJSON), or one body per file. Shared by the CLI and the
//! dashboard.

use crate::messenger::parse_webhook_at;
use crate::store::{Store, StoreError};

/// What one import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Bodies parsed.
    pub bodies: usize,
    /// Referrals they carried.
    pub referrals: usize,
    /// Referrals new to the store.
    pub new: usize,
    /// Lines skipped: (1-based line number, reason).
    pub bad_lines: Vec<(usize, String)>,
    /// Referral items refused inside good lines, e.g. a timestamp outside
    /// the event window: (1-based line number, field, value and rule).
    pub refused: Vec<(usize, String)>,
}

/// The bodies in `text` with their line numbers: the whole text when it is
/// one JSON document, else each non-blank line.
pub fn bodies(text: &str) -> Vec<(usize, &str)> {
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        return vec![(1, text)];
    }
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect()
}

/// Imports every good body of `text` in one transaction; bad lines are
/// reported and skipped. Senders are hashed with the store's local key.
pub fn import_text(store: &mut Store, text: &str) -> Result<ImportReport, StoreError> {
    let key = store.local_hash_key()?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut report = ImportReport::default();
    let mut events = Vec::new();
    for (line, body) in bodies(text) {
        match parse_webhook_at(body.as_bytes(), now_ms) {
            Ok(parsed) => {
                report.bodies += 1;
                report
                    .refused
                    .extend(parsed.refused.iter().map(|e| (line, e.to_string())));
                events.extend(
                    parsed
                        .referrals
                        .into_iter()
                        .map(|r| r.into_event(&key, now_ms)),
                );
            }
            Err(e) => report.bad_lines.push((line, e.to_string())),
        }
    }
    report.referrals = events.len();
    report.new = store.ingest(&events, None)?;
    Ok(report)
}
