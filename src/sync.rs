//! Pulling referral events from a backend (the relay, or any bot backend
//! that implements `docs/sync-protocol.md`) into the local store.
//!
//! Each page of events is committed in short transactions, the last of which
//! moves the cursor (see [`Store::ingest`]), so an interrupted sync resumes
//! where it stopped, with nothing lost and nothing counted twice, and other
//! writers get their turn between transactions.

mod paging;
mod redirect;

pub use paging::GROW_AFTER_PAGES;
pub use redirect::MAX_REDIRECTS;

use crate::model::{ConversionEvent, ReferralEvent, check_event_time};
use crate::store::{Store, StoreError, SyncStep};
use paging::TooLarge;
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::io::Read;
use std::time::{Duration, Instant};

/// Largest page body read from a backend; a larger page is asked for again
/// with half the events, down to one.
pub const MAX_PAGE_BYTES: usize = 64 << 20;
/// Longest cursor accepted from a backend, in bytes; a longer one is refused
/// and never stored (it would make every later request URL unusable).
pub const MAX_CURSOR_LEN: usize = 1024;
/// Pages in a row with `has_more: true` that are empty (whether their cursor
/// moves or not) or keep the cursor, tolerated with backoff before the sync
/// stops with an error.
pub const MAX_EMPTY_PAGES: u32 = 6;

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
    /// Even a page of one event is larger than the page cap: the sync cannot
    /// move past `after`, the cursor of the event before it.
    #[error(
        "sync is stuck {}: the next event alone makes a page of {size}, over the cap of {}; the events before it are stored. Ask the backend's operator to remove or shorten that event (a refboard relay refuses such events at the webhook)",
        if after.is_empty() { "at the start".to_string() } else { format!("after cursor {after:?}") },
        bytes_text(*cap_bytes)
    )]
    EventTooLarge {
        /// The cursor sync is stuck at (empty: the start).
        after: String,
        /// How big the one-event page is, e.g. `70000000 bytes`, or `more than N bytes`.
        size: String,
        /// The page cap in force.
        cap_bytes: usize,
    },
    /// The backend redirected to another scheme, host or port; the events
    /// there are not pulled (the token would not go with them).
    #[error(
        "the backend moved: it answered HTTP {status} with a redirect to {location}; refboard follows redirects only within the same scheme, host and port. If the new address is yours, use it as the backend URL"
    )]
    Moved {
        /// The redirect status, e.g. 301.
        status: u16,
        /// Where it points, without user info or query.
        location: String,
    },
}

/// `n` bytes in words: whole MiB as such, else bytes.
fn bytes_text(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
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
    /// Largest page body read; a larger page is asked for again with fewer
    /// events. [`MAX_PAGE_BYTES`] unless a test makes it small.
    pub max_page_bytes: usize,
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
            max_page_bytes: MAX_PAGE_BYTES,
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
    /// `platform` or `kind`) or a required field is missing, and conversion
    /// events that break a rule (goal name, value, currency).
    pub skipped: usize,
    /// Conversion events received (counted in `events` too).
    pub conversions: usize,
    /// Conversion events new to the store (counted in `new_events` too).
    pub new_conversions: usize,
    /// Times the backend answered that the cursor sent was of an old or
    /// broken format and served a page from the beginning instead (see
    /// "Cursor reset" in `docs/sync-protocol.md`). Events already stored are
    /// recognised by id, so none counts twice.
    pub cursor_resets: usize,
}

/// A page as sent: events stay raw until each is checked on its own, so one
/// odd event cannot fail its whole page.
#[derive(Deserialize)]
struct RawPage {
    events: Vec<Box<RawValue>>,
    next_cursor: String,
    has_more: bool,
    /// Absent in most pages; backends without resets never send it.
    #[serde(default)]
    reset: bool,
}

/// One checked page of the sync API (`docs/sync-protocol.md`).
#[derive(Debug)]
pub struct Page {
    /// The referral events this refboard can read, oldest first.
    pub events: Vec<ReferralEvent>,
    /// The conversion events (kinds `conversion` and `conversation`) that
    /// keep their rules, oldest first.
    pub conversions: Vec<ConversionEvent>,
    /// Events skipped: a value outside the known sets, or a missing field.
    pub skipped: usize,
    /// Where the next page starts.
    pub next_cursor: String,
    /// Whether another page follows.
    pub has_more: bool,
    /// The backend refused the cursor sent as one of an old or broken format
    /// and this page starts from the beginning instead.
    pub reset: bool,
}

/// Decodes a page body: the cursor's length, then each event on its own, so
/// one odd event is skipped and counted instead of failing the page. An
/// event that is not a referral is read as a conversion (issue 21); one that
/// is neither (a kind this refboard does not know) is skipped, as refboards
/// before conversions skip conversions.
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
    let mut conversions = Vec::new();
    let mut skipped = 0;
    for e in &raw.events {
        // Referrals first: they are most events, and parse as before.
        let err = match serde_json::from_str::<ReferralEvent>(e.get()) {
            Ok(ev) => {
                events.push(ev);
                continue;
            }
            Err(err) => err,
        };
        match serde_json::from_str::<ConversionEvent>(e.get()) {
            Ok(c) => match c.check() {
                Ok(_) => conversions.push(c),
                Err(why) => {
                    skipped += 1;
                    tracing::warn!(event_id = %c.event_id, reason = %why, "skipping a conversion that breaks a rule");
                }
            },
            Err(_) => {
                skipped += 1;
                tracing::warn!(reason = %err, "skipping an event this refboard cannot read");
            }
        }
    }
    Ok(Page {
        events,
        conversions,
        skipped,
        next_cursor: raw.next_cursor,
        has_more: raw.has_more,
        reset: raw.reset,
    })
}

/// Reads a body up to `cap_bytes` and before `deadline`.
fn read_body(
    resp: reqwest::blocking::Response,
    started: Instant,
    timeout: Duration,
    cap_bytes: usize,
) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    let mut reader = resp.take(cap_bytes as u64 + 1);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if started.elapsed() >= timeout {
            return Err(BodyError::TimedOut);
        }
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.len() > cap_bytes {
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
        .redirect(redirect::policy())
        .build()
        .map_err(|e| SyncError::Config(format!("cannot build the HTTP client: {e}")))
}

/// What one request for a page came to.
enum Attempt {
    /// A page that fits.
    Page(Page),
    /// Over the cap, or refused by the backend with 413.
    TooLarge(TooLarge),
    /// Worth another try: the problem, and the backend's `Retry-After`.
    Retry(String, Option<Duration>),
}

/// Fetches one page at `limit`, retrying what is worth retrying. A page too
/// large is not retried at the same limit: it comes back as `Ok(Err(_))`.
fn fetch(
    client: &Client,
    config: &SyncConfig,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Result<Page, TooLarge>, SyncError> {
    let url = format!("{}/v1/referrals", config.url);
    let mut page_url = reqwest::Url::parse(&url)
        .map_err(|e| SyncError::Config(format!("invalid backend URL ({e}): {}", config.url)))?;
    page_url
        .query_pairs_mut()
        .append_pair("limit", &limit.to_string());
    if let Some(c) = cursor {
        page_url.query_pairs_mut().append_pair("after", c);
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (problem, retry_after) = match request(client, config, &page_url, attempt)? {
            Attempt::Page(page) => return Ok(Ok(page)),
            Attempt::TooLarge(t) => return Ok(Err(t)),
            Attempt::Retry(problem, retry_after) => (problem, retry_after),
        };
        if attempt >= config.retry.max_attempts {
            return Err(SyncError::Unreachable {
                attempts: attempt,
                message: problem,
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

/// One request for a page, and what its answer means.
fn request(
    client: &Client,
    config: &SyncConfig,
    page_url: &reqwest::Url,
    attempt: u32,
) -> Result<Attempt, SyncError> {
    let started = Instant::now();
    let timeout = Duration::from_secs(config.timeout_secs.max(1));
    let resp = match client
        .get(page_url.clone())
        .bearer_auth(&config.token)
        .send()
    {
        Ok(resp) => resp,
        Err(e) if e.is_builder() => {
            return Err(SyncError::Config(format!(
                "invalid backend URL: {}",
                config.url
            )));
        }
        Err(e) if e.is_redirect() => {
            // The policy's own reason (a loop), else reqwest's.
            let why = std::error::Error::source(&e)
                .map(ToString::to_string)
                .unwrap_or_else(|| e.without_url().to_string());
            return Err(SyncError::Protocol(why));
        }
        Err(e) => {
            let problem = if e.is_timeout() {
                format!("timed out after {} s", timeout.as_secs())
            } else {
                e.without_url().to_string()
            };
            return Ok(Attempt::Retry(problem, None));
        }
    };
    match resp.status() {
        s if s.is_success() => page_of(resp, config, started, timeout),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(SyncError::Config(format!(
            "the backend refused the API token (HTTP {}); check the token: {}",
            resp.status().as_u16(),
            config.url
        ))),
        StatusCode::NOT_FOUND => Err(SyncError::Config(format!(
            "no sync API at this URL (HTTP 404 for /v1/referrals); check the backend URL: {}",
            config.url
        ))),
        StatusCode::PAYLOAD_TOO_LARGE => Ok(Attempt::TooLarge(TooLarge {
            bytes: None,
            refused_by_backend: true,
        })),
        StatusCode::TOO_MANY_REQUESTS => {
            let wait = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, Duration::from_millis(config.retry.max_delay_ms)))
                .unwrap_or_else(|| config.retry.delay(attempt));
            Ok(Attempt::Retry(
                "the backend kept answering 429 Too Many Requests".into(),
                Some(wait),
            ))
        }
        // The redirect policy stops at a redirect to another origin.
        s if s.is_redirection() => Err(moved(&resp)),
        s if s.is_server_error() => Ok(Attempt::Retry(
            format!("the backend kept answering HTTP {}", s.as_u16()),
            None,
        )),
        s => {
            let text = resp.text().unwrap_or_default();
            Err(SyncError::Protocol(format!(
                "HTTP {}: {}",
                s.as_u16(),
                text.trim()
            )))
        }
    }
}

/// Reads and decodes a 200 answer. A body announced or found over the cap is
/// [`Attempt::TooLarge`] (an announced one is not downloaded).
fn page_of(
    resp: reqwest::blocking::Response,
    config: &SyncConfig,
    started: Instant,
    timeout: Duration,
) -> Result<Attempt, SyncError> {
    let announced = resp.content_length();
    let too_large = Attempt::TooLarge(TooLarge {
        bytes: announced,
        refused_by_backend: false,
    });
    if announced.is_some_and(|n| n > config.max_page_bytes as u64) {
        return Ok(too_large);
    }
    Ok(
        match read_body(resp, started, timeout, config.max_page_bytes) {
            // Not retried when it does not decode: the same bytes would come again.
            Ok(b) => Attempt::Page(decode_page(&b)?),
            Err(BodyError::TooLarge) => too_large,
            Err(BodyError::TimedOut) => {
                tracing::debug!("page read timed out; retrying");
                Attempt::Retry(
                    format!("timed out: no complete page within {} s", timeout.as_secs()),
                    None,
                )
            }
            Err(BodyError::Io(e)) => {
                Attempt::Retry(format!("the page could not be read: {e}"), None)
            }
        },
    )
}

/// The error for a redirect the policy did not follow: where it points,
/// redacted.
fn moved(resp: &reqwest::blocking::Response) -> SyncError {
    let status = resp.status().as_u16();
    match resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(location) => SyncError::Moved {
            status,
            location: redirect::redacted(resp.url(), location),
        },
        None => SyncError::Protocol(format!("HTTP {status} without a Location to follow")),
    }
}

/// An event of either kind, as the event window sees it.
trait Timed {
    fn id(&self) -> &str;
    fn time_ms(&self) -> i64;
}

impl Timed for ReferralEvent {
    fn id(&self) -> &str {
        &self.event_id
    }
    fn time_ms(&self) -> i64 {
        self.timestamp_ms
    }
}

impl Timed for ConversionEvent {
    fn id(&self) -> &str {
        &self.event_id
    }
    fn time_ms(&self) -> i64 {
        self.timestamp_ms
    }
}

/// Keeps the events whose time lies in the event window and counts the rest.
/// Refusals are logged by event id, field, value and rule, never by person.
fn keep_in_window<E: Timed>(events: Vec<E>, now_ms: i64) -> (Vec<E>, usize) {
    let before = events.len();
    let kept: Vec<E> = events
        .into_iter()
        .filter(
            |e| match check_event_time("timestamp_ms", e.time_ms(), now_ms) {
                Ok(_) => true,
                Err(err) => {
                    tracing::warn!(event_id = %e.id(), reason = %err, "synced event refused");
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

/// Logs a backend's cursor reset: the cursor it refused, and why the sync
/// now starts from the beginning. The page that follows replaces the stored
/// cursor in the same transaction as its events, so an interrupted sync
/// simply starts from the beginning again.
fn note_cursor_reset(refused: Option<&str>) {
    tracing::warn!(
        cursor = refused.unwrap_or(""),
        "the backend no longer accepts this cursor (an old or broken format that may have skipped events); pulling again from the beginning, events already stored are not counted twice"
    );
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
    let body = match read_body(resp, Instant::now(), timeout, config.max_page_bytes) {
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
    // The sync's own error comes first: when recording it fails too (a
    // full disk fails both), that second failure is only logged.
    match (result, store.finish_sync(source.id, error.as_deref())) {
        (Err(e), Err(also)) => {
            tracing::warn!(error = %also, "cannot record how the sync ended");
            Err(e)
        }
        (Ok(_), Err(e)) => Err(e.into()),
        (result, Ok(())) => result,
    }
}

/// A page, with the cursor it was fetched after.
type Fetched = (Option<String>, Result<Page, SyncError>);

/// The fetcher thread: pages in order after `cursor`, each at a limit that
/// fits, until the last page, an error, or `stop`. A run of pages that claim
/// more but are empty or keep the cursor is no progress: it backs off, and
/// gives up after [`MAX_EMPTY_PAGES`].
fn fetch_pages(
    client: &Client,
    config: &SyncConfig,
    cursor: Option<String>,
    stop: &std::sync::atomic::AtomicBool,
    tx: std::sync::mpsc::SyncSender<Fetched>,
) {
    let mut cursor = cursor;
    let mut limit = paging::PageLimit::new(config.page_size);
    let mut stalled_pages = paging::StalledPages::default();
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let mut page = paging::fetch_fitting(client, config, cursor.as_deref(), &mut limit);
        let stalled = match &page {
            Ok(p) => stalled_pages.observe(p, cursor.as_deref()),
            Err(_) => None,
        };
        if let Some(n) = stalled {
            if n > MAX_EMPTY_PAGES {
                page = Err(SyncError::Protocol(format!(
                    "no progress: the backend answered {n} pages in a row with has_more true that were empty or kept the cursor; stopping (try again later): {}",
                    config.url
                )));
            } else {
                std::thread::sleep(config.retry.delay(n));
                // An empty page that keeps the cursor has nothing to commit.
                if let Ok(p) = &page
                    && p.events.is_empty()
                    && p.conversions.is_empty()
                    && paging::same_cursor(p, cursor.as_deref())
                {
                    continue;
                }
            }
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
    let (tx, rx) = std::sync::mpsc::sync_channel::<Fetched>(2);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let stop = &stop;
    std::thread::scope(|scope| {
        scope.spawn(move || fetch_pages(&client, config, cursor, stop, tx));
        // Owning the receiver here drops it before the scope joins the
        // fetcher, so a fetcher blocked on a full channel is released.
        let rx = rx;
        let result = (|| {
            let mut done = Progress::default();
            for (after, page) in rx.iter() {
                let page = page?;
                if page.reset {
                    note_cursor_reset(after.as_deref());
                    done.cursor_resets += 1;
                }
                let events = page.events.len() + page.conversions.len() + page.skipped;
                done.skipped += page.skipped;
                done.conversions += page.conversions.len();
                let now_ms = chrono::Utc::now().timestamp_millis();
                let (kept, refused) = keep_in_window(page.events, now_ms);
                let (outcomes, late) = keep_in_window(page.conversions, now_ms);
                let step = SyncStep {
                    source,
                    after: after.as_deref(),
                    next: &page.next_cursor,
                };
                let new = store.ingest_all(&kept, &outcomes, Some(step))?;
                done.events += events;
                done.refused += refused + late;
                done.new_events += new.referrals + new.conversions;
                done.new_conversions += new.conversions;
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

    /// A page with every kind of event: a referral, a conversion with a
    /// value, a conversation, a kind from the future and a conversion whose
    /// currency is not ISO 4217.
    const MIXED_PAGE: &str = r#"{"events":[
        {"event_id":"r1","platform":"messenger","page_id":"77","sender":"h","timestamp_ms":1764219590000,"kind":"new","ref":"flyer","received_at_ms":1764219590001},
        {"event_id":"c1","platform":"messenger","page_id":"77","sender":"h","timestamp_ms":1764219591000,"kind":"conversion","goal":"Purchase","value":"12.50","currency":"USD","received_at_ms":1764219591001},
        {"event_id":"c2","platform":"messenger","page_id":"77","sender":"h","timestamp_ms":1764219592000,"kind":"conversation","received_at_ms":1764219592001},
        {"event_id":"f1","platform":"messenger","page_id":"77","sender":"h","timestamp_ms":1764219593000,"kind":"refund","received_at_ms":1764219593001},
        {"event_id":"c3","platform":"messenger","page_id":"77","sender":"h","timestamp_ms":1764219594000,"kind":"conversion","goal":"Purchase","value":"1","currency":"ZZZ","received_at_ms":1764219594001}
    ],"next_cursor":"s5","has_more":false}"#;

    #[test]
    fn conversions_are_read_and_unknown_kinds_and_bad_values_skipped_and_counted() {
        let page = decode_page(MIXED_PAGE.as_bytes()).unwrap();
        assert_eq!(page.events.len(), 1);
        let ids: Vec<&str> = page
            .conversions
            .iter()
            .map(|c| c.event_id.as_str())
            .collect();
        assert_eq!(ids, ["c1", "c2"]);
        assert_eq!(page.conversions[0].check(), Ok(Some(12_500_000)));
        assert_eq!(page.skipped, 2, "the unknown kind and the bad currency");
    }

    #[test]
    fn a_refboard_before_conversions_skips_them_as_unknown_kinds() {
        // Such a refboard reads every event as a ReferralEvent and skips
        // (and counts) what does not read: so conversions, whatever their
        // fields, never turn into referrals there.
        let raw: serde_json::Value = serde_json::from_str(MIXED_PAGE).unwrap();
        let old: Vec<bool> = raw["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| serde_json::from_value::<ReferralEvent>(e.clone()).is_ok())
            .collect();
        assert_eq!(old, [true, false, false, false, false]);
    }

    #[test]
    fn a_page_says_reset_only_when_the_backend_sends_it() {
        let plain = br#"{"events":[],"next_cursor":"s0","has_more":false}"#;
        assert!(!decode_page(plain).unwrap().reset);
        let reset = br#"{"events":[],"next_cursor":"","reset":true,"has_more":false}"#;
        assert!(decode_page(reset).unwrap().reset);
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
