//! Pulling referral events from a backend (the relay, or any bot backend
//! that implements `docs/sync-protocol.md`) into the local store.
//!
//! Each page of events is committed in short transactions, the last of which
//! moves the cursor (see [`Store::ingest`]), so an interrupted sync resumes
//! where it stopped, with nothing lost and nothing counted twice, and other
//! writers get their turn between transactions.

use crate::model::{ReferralEvent, check_event_time};
use crate::store::{Store, StoreError, SyncStep};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde::Deserialize;
use std::time::Duration;

/// What can go wrong during a sync.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The URL or token is wrong; retrying will not help.
    #[error("{0}")]
    Config(String),
    /// The backend could not be reached or kept failing.
    #[error("backend unreachable after {attempts} attempt(s) ({message}): {url}")]
    Unreachable {
        /// Attempts made.
        attempts: u32,
        /// Last error.
        message: String,
        /// The URL tried.
        url: String,
    },
    /// The backend answered something that is not the protocol.
    #[error("unexpected answer from the backend ({0})")]
    Protocol(String),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The caller cancelled; what was committed so far stays.
    #[error("sync cancelled")]
    Cancelled,
}

/// Retries with exponential backoff and jitter.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First delay.
    pub base_delay_ms: u64,
    /// Longest delay (also caps `Retry-After`).
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay_ms: 250,
            max_delay_ms: 30_000,
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `attempt` (1-based): base·2^(attempt-1), capped, times a jitter in [0.5, 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
        let capped = exp.min(self.max_delay_ms);
        Duration::from_millis(capped / 2 + fastrand::u64(0..=capped / 2))
    }
}

/// Where to sync from.
#[derive(Clone)]
pub struct SyncConfig {
    /// Backend base URL, e.g. `https://bot.example.com`.
    pub url: String,
    /// Bearer token.
    pub token: String,
    /// Events per page asked for.
    pub page_size: usize,
    /// Per-request timeout.
    pub timeout_secs: u64,
    /// Retry behaviour.
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for SyncConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncConfig")
            .field("url", &self.url)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl SyncConfig {
    /// A config with default paging, timeout and retries.
    pub fn new(url: &str, token: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            page_size: 5000,
            timeout_secs: 30,
            retry: RetryPolicy::default(),
        }
    }
}

/// Progress so far, passed to the callback after each page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Events received.
    pub events: usize,
    /// Events that were new to the store.
    pub new_events: usize,
    /// Pages received.
    pub pages: usize,
    /// Events refused because their time lies outside the event window
    /// (see [`crate::model::check_event_time`]); the cursor moves past them.
    pub refused: usize,
}

/// One page of the sync API (`docs/sync-protocol.md`).
#[derive(Debug, Deserialize)]
pub struct Page {
    /// The events, oldest first.
    pub events: Vec<ReferralEvent>,
    /// Where the next page starts.
    pub next_cursor: String,
    /// Whether another page follows.
    pub has_more: bool,
}

/// Decodes a page body; anything else is a protocol error that says why.
pub fn decode_page(body: &[u8]) -> Result<Page, SyncError> {
    serde_json::from_slice::<Page>(body)
        .map_err(|e| SyncError::Protocol(format!("not a page of events: {e}")))
}

fn client(config: &SyncConfig) -> Result<Client, SyncError> {
    Client::builder()
        .timeout(Duration::from_secs(config.timeout_secs))
        .build()
        .map_err(|e| SyncError::Config(format!("cannot build the HTTP client: {e}")))
}

/// Fetches one page, retrying what is worth retrying.
fn fetch(
    client: &Client,
    config: &SyncConfig,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page, SyncError> {
    let url = format!("{}/v1/referrals", config.url);
    let parsed = reqwest::Url::parse(&url)
        .map_err(|e| SyncError::Config(format!("invalid backend URL ({e}): {}", config.url)))?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut page_url = parsed.clone();
        page_url
            .query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        if let Some(c) = cursor {
            page_url.query_pairs_mut().append_pair("after", c);
        }
        let req = client.get(page_url).bearer_auth(&config.token);
        let retry_after = match req.send() {
            Ok(resp) => match resp.status() {
                s if s.is_success() => {
                    let bytes = resp
                        .bytes()
                        .map_err(|e| SyncError::Protocol(e.without_url().to_string()));
                    match bytes {
                        Ok(b) => {
                            return decode_page(b.as_ref());
                        }
                        Err(e) if attempt < config.retry.max_attempts => {
                            tracing::debug!(error = %e, "body read failed; retrying");
                            None
                        }
                        Err(e) => return Err(e),
                    }
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    return Err(SyncError::Config(format!(
                        "the backend refused the API token (HTTP {}); check the token: {}",
                        resp.status().as_u16(),
                        config.url
                    )));
                }
                StatusCode::NOT_FOUND => {
                    return Err(SyncError::Config(format!(
                        "no sync API at this URL (HTTP 404 for /v1/referrals); check the backend URL: {}",
                        config.url
                    )));
                }
                StatusCode::TOO_MANY_REQUESTS => Some(
                    resp.headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|s| {
                            Duration::from_secs(s)
                                .min(Duration::from_millis(config.retry.max_delay_ms))
                        })
                        .unwrap_or_else(|| config.retry.delay(attempt)),
                ),
                s if s.is_server_error() => None,
                s => {
                    let text = resp.text().unwrap_or_default();
                    return Err(SyncError::Protocol(format!(
                        "HTTP {}: {}",
                        s.as_u16(),
                        text.trim()
                    )));
                }
            },
            Err(e) if e.is_builder() => {
                return Err(SyncError::Config(format!(
                    "invalid backend URL: {}",
                    config.url
                )));
            }
            Err(e) => {
                if attempt >= config.retry.max_attempts {
                    return Err(SyncError::Unreachable {
                        attempts: attempt,
                        message: e.without_url().to_string(),
                        url: config.url.clone(),
                    });
                }
                None
            }
        };
        if attempt >= config.retry.max_attempts {
            return Err(SyncError::Unreachable {
                attempts: attempt,
                message: "the backend kept answering with errors".into(),
                url: config.url.clone(),
            });
        }
        let delay = retry_after.unwrap_or_else(|| config.retry.delay(attempt));
        tracing::debug!(
            attempt,
            delay_ms = delay.as_millis() as u64,
            "retrying sync request"
        );
        std::thread::sleep(delay);
    }
}

/// Keeps the events whose time lies in the event window and counts the rest.
/// Refusals are logged by event id, field, value and rule, never by person.
fn keep_in_window(events: Vec<ReferralEvent>, now_ms: i64) -> (Vec<ReferralEvent>, usize) {
    let before = events.len();
    let kept: Vec<ReferralEvent> = events
        .into_iter()
        .filter(
            |e| match check_event_time("timestamp_ms", e.timestamp_ms, now_ms) {
                Ok(_) => true,
                Err(err) => {
                    tracing::warn!(event_id = %e.event_id, reason = %err, "synced event refused");
                    false
                }
            },
        )
        .collect();
    let refused = before - kept.len();
    (kept, refused)
}

/// Checks the URL and token with a one-event request.
pub fn test_connection(config: &SyncConfig) -> Result<(), SyncError> {
    let quick = SyncConfig {
        retry: RetryPolicy {
            max_attempts: 1,
            ..config.retry.clone()
        },
        timeout_secs: config.timeout_secs.min(10),
        ..config.clone()
    };
    fetch(&client(&quick)?, &quick, None, 1).map(|_| ())
}

/// Pulls every event after the stored cursor. `progress` runs after each
/// committed page; returning `false` cancels (committed pages stay).
pub fn sync(
    store: &mut Store,
    config: &SyncConfig,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Progress, SyncError> {
    let source = store.sync_source(&config.url)?;
    let result = run(store, config, source.id, source.cursor, progress);
    let error = result.as_ref().err().map(|e| e.to_string());
    store.finish_sync(source.id, error.as_deref())?;
    result
}

fn run(
    store: &mut Store,
    config: &SyncConfig,
    source: i64,
    cursor: Option<String>,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Progress, SyncError> {
    let client = client(config)?;
    // A fetcher thread downloads the next page while this one commits the
    // last, so the network and SQLite overlap. Pages stay in order.
    // Each page travels with the cursor it was fetched after, so the commit
    // can check that no other sync has stored it already.
    type Fetched = (Option<String>, Result<Page, SyncError>);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Fetched>(2);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let stop = &stop;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut cursor = cursor;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let page = fetch(&client, config, cursor.as_deref(), config.page_size);
                let next = match &page {
                    Ok(p) if p.has_more => Some(p.next_cursor.clone()),
                    _ => None,
                };
                if tx.send((cursor.clone(), page)).is_err() {
                    return;
                }
                match next {
                    Some(c) => cursor = Some(c),
                    None => return,
                }
            }
        });
        // Owning the receiver here drops it before the scope joins the
        // fetcher, so a fetcher blocked on a full channel is released.
        let rx = rx;
        let result = (|| {
            let mut done = Progress::default();
            for (after, page) in rx.iter() {
                let page = page?;
                let events = page.events.len();
                let (kept, refused) =
                    keep_in_window(page.events, chrono::Utc::now().timestamp_millis());
                let step = SyncStep {
                    source,
                    after: after.as_deref(),
                    next: &page.next_cursor,
                };
                let new = store.ingest(&kept, Some(step))?;
                done.events += events;
                done.refused += refused;
                done.new_events += new;
                done.pages += 1;
                if !progress(&done) {
                    return Err(SyncError::Cancelled);
                }
                if !page.has_more {
                    return Ok(done);
                }
            }
            Err(SyncError::Protocol("the page stream ended early".into()))
        })();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        drop(rx);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Platform};

    fn event(id: &str, ts: i64) -> ReferralEvent {
        ReferralEvent {
            event_id: id.into(),
            platform: Platform::Messenger,
            page_id: "1".into(),
            sender: "s".into(),
            timestamp_ms: ts,
            kind: Kind::New,
            ref_code: None,
            source: None,
            ref_type: None,
            ad_id: None,
            ad_title: None,
            referer_uri: None,
            received_at_ms: ts,
        }
    }

    #[test]
    fn synced_events_outside_the_window_are_refused_and_counted() {
        let now = 1_764_219_600_000;
        let events = vec![
            event("far", i64::MAX),
            event("ok", now - 1000),
            event("old", -18_446_742_309_507),
            event("min", i64::MIN),
        ];
        let (kept, refused) = keep_in_window(events, now);
        assert_eq!(refused, 3);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].event_id, "ok");
    }
}
