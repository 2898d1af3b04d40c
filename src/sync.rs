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
use serde_json::value::RawValue;
use std::io::Read;
use std::time::{Duration, Instant};

/// Largest page body read from a backend; a larger one stops the sync.
pub const MAX_PAGE_BYTES: usize = 64 << 20;
/// Longest cursor accepted from a backend, in bytes; a longer one is refused
/// and never stored (it would make every later request URL unusable).
pub const MAX_CURSOR_LEN: usize = 1024;
/// Empty pages with `has_more: true` and an unchanged cursor tolerated (with
/// backoff) before the sync stops with an error.
pub const MAX_STALLED_PAGES: u32 = 5;

/// What can go wrong during a sync.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The URL or token is wrong; retrying will not help. (Every message
    /// shows URLs without their passwords, see [`crate::model::redact_urls`].)
    #[error("{}", crate::model::redact_urls(.0))]
    Config(String),
    /// The backend could not be reached or kept failing.
    #[error(
        "backend unreachable after {attempts} attempt(s) ({}): {}",
        crate::model::redact_urls(.message),
        crate::model::redact_url(.url)
    )]
    Unreachable {
        /// Attempts made.
        attempts: u32,
        /// Last error.
        message: String,
        /// The URL tried.
        url: String,
    },
    /// The backend answered something that is not the protocol.
    #[error("unexpected answer from the backend ({})", crate::model::redact_urls(.0))]
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
            .field("url", &crate::model::redact_url(&self.url))
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
    /// Events skipped because a value is outside the known sets (a new
    /// `platform` or `kind`) or a required field is missing.
    pub skipped: usize,
}

/// A page as sent: events stay raw until each is checked on its own, so one
/// odd event cannot fail its whole page.
#[derive(Deserialize)]
struct RawPage {
    events: Vec<Box<RawValue>>,
    next_cursor: String,
    has_more: bool,
}

/// One checked page of the sync API (`docs/sync-protocol.md`).
#[derive(Debug)]
pub struct Page {
    /// The events this refboard can read, oldest first.
    pub events: Vec<ReferralEvent>,
    /// Events skipped: a value outside the known sets, or a missing field.
    pub skipped: usize,
    /// Where the next page starts.
    pub next_cursor: String,
    /// Whether another page follows.
    pub has_more: bool,
}

/// Decodes a page body: the cursor's length, then each event on its own, so
/// one odd event is skipped and counted instead of failing the page.
pub fn decode_page(bytes: &[u8]) -> Result<Page, SyncError> {
    let raw: RawPage = serde_json::from_slice(bytes)
        .map_err(|e| SyncError::Protocol(format!("not a page of events: {e}")))?;
    if raw.next_cursor.len() > MAX_CURSOR_LEN {
        return Err(SyncError::Protocol(format!(
            "the backend sent a next_cursor of {} bytes; the limit is {MAX_CURSOR_LEN} bytes, so it was not stored and this page was not committed",
            raw.next_cursor.len()
        )));
    }
    let mut events = Vec::with_capacity(raw.events.len());
    let mut skipped = 0;
    for e in &raw.events {
        match serde_json::from_str::<ReferralEvent>(e.get()) {
            Ok(ev) => events.push(ev),
            Err(err) => {
                skipped += 1;
                tracing::warn!(reason = %err, "skipping an event this refboard cannot read");
            }
        }
    }
    Ok(Page {
        events,
        skipped,
        next_cursor: raw.next_cursor,
        has_more: raw.has_more,
    })
}

/// Reads a body up to [`MAX_PAGE_BYTES`] and before `deadline`.
fn read_body(
    resp: reqwest::blocking::Response,
    started: Instant,
    timeout: Duration,
) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    let mut reader = resp.take(MAX_PAGE_BYTES as u64 + 1);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if started.elapsed() >= timeout {
            return Err(BodyError::TimedOut);
        }
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.len() > MAX_PAGE_BYTES {
                    return Err(BodyError::TooLarge);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let timed_out = started.elapsed() >= timeout
                    || e.kind() == std::io::ErrorKind::TimedOut
                    || e.get_ref()
                        .and_then(|i| i.downcast_ref::<reqwest::Error>())
                        .is_some_and(reqwest::Error::is_timeout);
                return Err(if timed_out {
                    BodyError::TimedOut
                } else {
                    BodyError::Io(e.to_string())
                });
            }
        }
    }
    Ok(out)
}

/// Why a body read failed.
enum BodyError {
    TooLarge,
    TimedOut,
    Io(String),
}

/// `Retry-After` as seconds or as an HTTP date, capped at `max`.
fn retry_after(value: &str, max: Duration) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(max));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait_ms = when.timestamp_millis() - chrono::Utc::now().timestamp_millis();
    Some(Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0)).min(max))
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
    let timeout = Duration::from_secs(config.timeout_secs.max(1));
    let mut last_problem: String;
    loop {
        attempt += 1;
        let started = Instant::now();
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
                s if s.is_success() => match read_body(resp, started, timeout) {
                    Ok(b) => return decode_page(&b),
                    Err(BodyError::TooLarge) => {
                        return Err(SyncError::Protocol(format!(
                            "a page from the backend is larger than {} MiB, the most a page may be: {}",
                            MAX_PAGE_BYTES >> 20,
                            config.url
                        )));
                    }
                    Err(BodyError::TimedOut) => {
                        last_problem =
                            format!("timed out: no complete page within {} s", timeout.as_secs());
                        tracing::debug!("page read timed out; retrying");
                        None
                    }
                    Err(BodyError::Io(e)) => {
                        last_problem = format!("the page could not be read: {e}");
                        None
                    }
                },
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
                StatusCode::TOO_MANY_REQUESTS => {
                    last_problem = "the backend kept answering 429 Too Many Requests".into();
                    Some(
                        resp.headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| {
                                retry_after(v, Duration::from_millis(config.retry.max_delay_ms))
                            })
                            .unwrap_or_else(|| config.retry.delay(attempt)),
                    )
                }
                s if s.is_server_error() => {
                    last_problem = format!("the backend kept answering HTTP {}", s.as_u16());
                    None
                }
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
                last_problem = if e.is_timeout() {
                    format!("timed out after {} s", timeout.as_secs())
                } else {
                    e.without_url().to_string()
                };
                None
            }
        };
        if attempt >= config.retry.max_attempts {
            return Err(SyncError::Unreachable {
                attempts: attempt,
                message: last_problem,
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

/// Starts the source of `url` again from the beginning: its cursor is
/// cleared. No event is removed; events already stored are recognised by id.
/// Returns whether the URL had a source.
pub fn reset_source(store: &mut Store, url: &str) -> Result<bool, SyncError> {
    let changed = store
        .connection()
        .execute(
            "UPDATE sync_sources SET cursor = NULL, last_error = NULL WHERE url = ?1",
            [url.trim_end_matches('/')],
        )
        .map_err(StoreError::from)?;
    Ok(changed > 0)
}

/// Meta disables a webhook after about this long of failed deliveries.
pub const META_DISABLES_AFTER_SECS: u64 = 3600;

/// Webhook health as a backend's `/healthz` reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WebhookHealth {
    /// Events stored by the backend.
    #[serde(default)]
    pub events: i64,
    /// When the newest event was received (ms since the epoch); `None` before the first.
    #[serde(default)]
    pub last_event_at_ms: Option<i64>,
    /// Webhooks refused for their signature in the last hour (relay only).
    #[serde(default)]
    pub bad_signatures_last_hour: Option<u64>,
}

impl WebhookHealth {
    /// A warning when no event arrived within `quiet_secs` (the period the
    /// user chose), with Meta's one-hour rule; `None` when events are fresh.
    pub fn warning(&self, now_ms: i64, quiet_secs: u64) -> Option<String> {
        let quiet_ms = i64::try_from(quiet_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let note = "Meta disables a webhook after about an hour of failed deliveries: check the app's webhook settings in the App Dashboard";
        match self.last_event_at_ms {
            None => Some(format!("No webhook event has arrived yet. {note}.")),
            Some(t) if now_ms.saturating_sub(t) > quiet_ms => Some(format!(
                "No webhook event for {} min. {note}.",
                now_ms.saturating_sub(t) / 60_000
            )),
            Some(_) => None,
        }
    }
}

/// Reads a backend's `/healthz` (no token needed), within the request timeout
/// and the page size cap.
pub fn webhook_health(config: &SyncConfig) -> Result<WebhookHealth, SyncError> {
    let url = format!("{}/healthz", config.url);
    let resp = client(config)?
        .get(&url)
        .send()
        .map_err(|e| SyncError::Unreachable {
            attempts: 1,
            message: if e.is_timeout() {
                "timed out".into()
            } else {
                e.without_url().to_string()
            },
            url: config.url.clone(),
        })?;
    if !resp.status().is_success() {
        return Err(SyncError::Protocol(format!(
            "/healthz answered HTTP {}",
            resp.status().as_u16()
        )));
    }
    let timeout = Duration::from_secs(config.timeout_secs.max(1));
    let body = match read_body(resp, Instant::now(), timeout) {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return Err(SyncError::Protocol("/healthz is too large".into()));
        }
        Err(BodyError::TimedOut) => return Err(SyncError::Protocol("/healthz timed out".into())),
        Err(BodyError::Io(e)) => return Err(SyncError::Protocol(e)),
    };
    serde_json::from_slice(&body)
        .map_err(|e| SyncError::Protocol(format!("/healthz is not health JSON: {e}")))
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
            let mut stalls = 0u32;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let mut page = fetch(&client, config, cursor.as_deref(), config.page_size);
                // An empty page that claims more and keeps the cursor is no
                // progress: back off, and give up after a bound.
                if let Ok(p) = &page
                    && p.has_more
                    && p.events.is_empty()
                    && p.skipped == 0
                    && Some(p.next_cursor.as_str()) == cursor.as_deref().or(Some(""))
                {
                    stalls += 1;
                    if stalls <= MAX_STALLED_PAGES {
                        std::thread::sleep(config.retry.delay(stalls));
                        continue;
                    }
                    page = Err(SyncError::Protocol(format!(
                        "no progress: the backend answered {stalls} empty pages with has_more true and the same cursor; stopping (try again later, or `refboard sync --reset`): {}",
                        config.url
                    )));
                } else {
                    stalls = 0;
                }
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
                let events = page.events.len() + page.skipped;
                done.skipped += page.skipped;
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
