//! `POST /v1/conversions`: outcomes from the page's bot, in the body shape of
//! Meta's Conversions API for Business Messaging (issue 21), so a bot that
//! reports events to Meta can send refboard the same body.
//!
//! The shape and its field rules are Meta's:
//! <https://developers.facebook.com/docs/marketing-api/conversions-api/business-messaging/>
//! (`data[]` of `event_name`, `event_time` in seconds, `event_id`,
//! `action_source: "business_messaging"`, `messaging_channel`,
//! `user_data.page_id` + `user_data.page_scoped_user_id`, or for Instagram
//! `user_data.ig_account_id` + `user_data.ig_sid`, and `custom_data.value` +
//! `custom_data.currency`), and the server-event parameters
//! <https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/server-event>:
//! `event_time` at most 7 days old, at most 1,000 events per request. Meta
//! answers `{"events_received": N, "messages": [], ...}`; so does refboard.
//!
//! The whole body is refused (400, naming the field, the value and the rule,
//! and the index of the event in `data`) when any event breaks a rule, so
//! nothing of it is stored. The person's id is replaced by the same keyed
//! hash their referrals carry, so the two join; the raw id is never stored.
//! A redelivery is stored once: the stored id is derived from the page, the
//! `event_name` and the bot's `event_id` (Meta's own deduplication key), or,
//! without an `event_id`, from every field of the event.

mod capi;

pub use capi::conversion_body;

use super::goals::{Goal, first_match};
use super::metrics::Outcome;
use super::{AppState, RelayError, db, invalid, json_error, secret_eq};
use crate::messenger::{actions, bounds::MAX_ID_CHARS, hash_sender};
use crate::model::{ConversionEvent, ConversionKind, Platform, ValidationError};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use capi::{Refused, parse_body};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Environment variable holding the bearer token of `POST /v1/conversions`.
pub const EVENTS_TOKEN_ENV: &str = "REFBOARD_EVENTS_TOKEN";
/// Most events in one body (Meta's limit per request).
pub const MAX_EVENTS: usize = 1000;
/// Oldest `event_time` accepted, in seconds before now (Meta's 7 days).
pub const MAX_AGE_SECS: i64 = 7 * 86_400;
/// How far ahead of the relay's clock an `event_time` may be (clock skew).
pub const FUTURE_SKEW_SECS: i64 = 300;
/// Longest `event_id`, in bytes.
pub const MAX_EVENT_ID_BYTES: usize = 256;
/// Bodies waiting to be forwarded to Meta; past it one is dropped and counted.
const FORWARD_QUEUE: usize = 256;
const FORWARD_TIMEOUT_SECS: u64 = 10;

/// The conversion settings of a relay (inside [`super::RelayOptions`]).
#[derive(Clone, Default)]
pub struct ConversionOptions {
    /// Bearer token of `POST /v1/conversions`; `None` turns the endpoint off.
    pub events_token: Option<String>,
    /// Pages (or Instagram accounts) the relay serves besides those its
    /// signed referrals show.
    pub pages: Vec<String>,
    /// `--goal`: payloads that count as conversions.
    pub goals: Vec<Goal>,
    /// Meta's events URL to pass every accepted body on to, unchanged.
    pub forward: Option<String>,
    /// Record each person's first message after a referral as the step
    /// "conversation started" (needs the page's `messages` subscription).
    pub conversations: bool,
}

impl std::fmt::Debug for ConversionOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversionOptions")
            .field("events_token", &self.events_token.as_ref().map(|_| "***"))
            .field("pages", &self.pages)
            .field("goals", &self.goals)
            .field("forward", &self.forward.as_deref().map(super::redact_url))
            .field("conversations", &self.conversations)
            .finish()
    }
}

/// Counters of the conversions endpoint, on `/metrics`.
#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    stored: AtomicU64,
    forward_failures: AtomicU64,
    forward_dropped: AtomicU64,
}

/// The conversion side of a running relay.
pub(super) struct Conversions {
    options: ConversionOptions,
    forward: Option<tokio::sync::mpsc::Sender<Bytes>>,
    counters: Arc<Counters>,
}

impl Conversions {
    /// Checks the options and starts the forwarder (inside the runtime).
    pub(super) fn start(options: ConversionOptions) -> Result<Self, RelayError> {
        if let Some(t) = &options.events_token {
            crate::model::validate_api_token(t).map_err(|e| ValidationError {
                field: "events token",
                ..e
            })?;
        }
        for p in &options.pages {
            if p.is_empty() || p.len() > MAX_ID_CHARS || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ValidationError::new("page", p, "a page id is 1 to 64 digits").into());
            }
        }
        let counters = Arc::new(Counters::default());
        let forward = match &options.forward {
            Some(url) => Some(spawn_forwarder(url, counters.clone())?),
            None => None,
        };
        Ok(Self {
            options,
            forward,
            counters,
        })
    }

    /// The goals' conversions in a signed webhook body (none without goals).
    pub(super) fn goal_events(
        &self,
        body: &[u8],
        hash_key: &[u8],
        now_ms: i64,
    ) -> Vec<ConversionEvent> {
        goal_conversions(&self.options.goals, body, hash_key, now_ms)
    }

    /// The endpoint's lines of `/metrics`.
    pub(super) fn render(&self, out: &mut String) {
        let depth = self
            .forward
            .as_ref()
            .map(|tx| tx.max_capacity().saturating_sub(tx.capacity()))
            .unwrap_or(0);
        let c = &self.counters;
        let lines = [
            (
                "refboard_conversion_bodies_accepted_total",
                "counter",
                "Conversion bodies accepted.",
                c.accepted.load(Ordering::Relaxed),
            ),
            (
                "refboard_conversion_bodies_refused_total",
                "counter",
                "Conversion bodies refused (400, 401, 413).",
                c.refused.load(Ordering::Relaxed),
            ),
            (
                "refboard_conversion_events_stored_total",
                "counter",
                "Conversion events new to the relay (from bodies and goals).",
                c.stored.load(Ordering::Relaxed),
            ),
            (
                "refboard_conversion_forward_queue_depth",
                "gauge",
                "Conversion bodies waiting to be forwarded to Meta.",
                depth as u64,
            ),
            (
                "refboard_conversion_forward_failures_total",
                "counter",
                "Conversion bodies Meta refused or that could not reach it.",
                c.forward_failures.load(Ordering::Relaxed),
            ),
            (
                "refboard_conversion_forward_dropped_total",
                "counter",
                "Conversion bodies not forwarded because the queue was full.",
                c.forward_dropped.load(Ordering::Relaxed),
            ),
        ];
        for (name, kind, help, value) in lines {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        }
    }

    /// Counts a refused conversions body.
    fn count_refused(&self) {
        self.counters.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts conversion events new to the relay.
    pub(super) fn count_stored(&self, n: usize) {
        self.counters.stored.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The conversions `goals` make of a webhook body's postback and quick-reply
/// payloads (the first goal matching wins), with the person's keyed hash and
/// an id that a redelivery of the body repeats. None without goals.
pub fn goal_conversions(
    goals: &[Goal],
    body: &[u8],
    hash_key: &[u8],
    now_ms: i64,
) -> Vec<ConversionEvent> {
    if goals.is_empty() {
        return Vec::new();
    }
    actions::presses(body, now_ms)
        .into_iter()
        .filter_map(|p| {
            let goal = first_match(goals, &p.payload)?;
            let sender = hash_sender(hash_key, &p.sender);
            let ts = p.timestamp_ms.to_string();
            Some(ConversionEvent {
                event_id: id_of(&[
                    "goal",
                    p.platform.as_str(),
                    &p.page_id,
                    &sender,
                    &ts,
                    &goal.name,
                ]),
                platform: p.platform,
                page_id: p.page_id,
                sender,
                timestamp_ms: p.timestamp_ms,
                kind: ConversionKind::Conversion,
                goal: Some(goal.name.clone()),
                value: None,
                currency: None,
                received_at_ms: now_ms,
            })
        })
        .collect()
}

/// With `--conversations`: stores the first message of each person after
/// their latest referral on the page as a `conversation` event. Its id is
/// derived from that referral's, so later messages (and redeliveries) are
/// the same event and stored once; a new referral opens a new conversation.
/// Only the message's time is kept, never its text.
pub(super) async fn record_conversations(
    state: &AppState,
    body: &[u8],
    now_ms: i64,
) -> Result<(), Response> {
    if !state.conversions.options.conversations {
        return Ok(());
    }
    let mut said = actions::messages(body, now_ms);
    // The earliest message of a person wins within a body too.
    said.sort_by_key(|m| m.timestamp_ms);
    let key = state.storage.hash_key();
    let mut events = Vec::new();
    for m in said {
        let sender = hash_sender(key, &m.sender);
        let latest = match state.storage.last_referral(&m.page_id, &sender).await {
            Ok(l) => l,
            Err(e) => return Err(store_failed(state, &e, now_ms)),
        };
        let Some((referral_id, referral_ms)) = latest else {
            continue;
        };
        if referral_ms > m.timestamp_ms {
            continue;
        }
        events.push(ConversionEvent {
            event_id: id_of(&["conversation", &referral_id]),
            platform: m.platform,
            page_id: m.page_id,
            sender,
            timestamp_ms: m.timestamp_ms,
            kind: ConversionKind::Conversation,
            goal: None,
            value: None,
            currency: None,
            received_at_ms: now_ms,
        });
    }
    if events.is_empty() {
        return Ok(());
    }
    let stored = match db::conversion_rows(&events) {
        Ok(rows) => state.storage.insert(rows).await,
        Err(e) => Err(e.into()),
    };
    match stored {
        Ok(n) => {
            state.conversions.count_stored(n);
            Ok(())
        }
        Err(e) => Err(store_failed(state, &e, now_ms)),
    }
}

/// 32 hex characters of a hash over length-prefixed parts.
fn id_of(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// A refusal as a response, with the event's index in `data` when known.
fn refused(state: &AppState, r: &Refused) -> Response {
    state.conversions.count_refused();
    tracing::warn!(field = r.error.field, value = %r.error.value, rule = %r.error.rule, index = ?r.index, "conversion body refused");
    let mut resp = invalid(&r.error);
    if let Some(i) = r.index {
        let body = serde_json::json!({
            "error": format!("data[{i}]: {}", r.error),
            "field": r.error.field,
            "value": r.error.value,
            "rule": r.error.rule,
            "index": i,
        });
        resp = (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    resp
}

/// Refuses the body unless every page is the relay's: a `--page`, or one
/// its signed referrals came for.
async fn check_pages(
    state: &AppState,
    events: &[ConversionEvent],
) -> Result<Result<(), Refused>, RelayError> {
    let mut checked: Vec<&str> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let page = e.page_id.as_str();
        if checked.contains(&page) || state.conversions.options.pages.iter().any(|p| p == page) {
            continue;
        }
        if !state.storage.knows_page(page).await? {
            let field = match e.platform {
                Platform::Messenger => "user_data.page_id",
                Platform::Instagram => "user_data.ig_account_id",
            };
            return Ok(Err(Refused::at(i)(ValidationError::new(
                field,
                page,
                "not a page of this relay: no signed referral has come for it and it is not among the pages the relay was started with",
            ))));
        }
        checked.push(page);
    }
    Ok(Ok(()))
}

/// The events token's check, before any body byte is read: the refusal,
/// `404` when the relay has no token, `401` when the bearer token is missing
/// or wrong; `None` when the request may go on.
fn unauthorized(state: &AppState, headers: &axum::http::HeaderMap) -> Option<Response> {
    let Some(token) = state.conversions.options.events_token.as_deref() else {
        return Some(json_error(
            StatusCode::NOT_FOUND,
            "conversions are off on this relay: set REFBOARD_EVENTS_TOKEN to accept them",
        ));
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if secret_eq(sent, token) {
        return None;
    }
    state.conversions.count_refused();
    Some(json_error(
        StatusCode::UNAUTHORIZED,
        "missing or wrong bearer token (the events token, not the API token)",
    ))
}

/// `POST /v1/conversions`.
pub(super) async fn receive(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if let Some(refused) = unauthorized(&state, &parts.headers) {
        return refused;
    }
    let (body, _reserved) = match state.bodies.read(body).await {
        Ok(read) => read,
        Err(super::body::Refusal::TooLarge) => {
            state.conversions.count_refused();
            let e = ValidationError::new(
                "body",
                "over 1 MiB",
                "a conversion body is at most 1 MiB (1,000 events fit well within it)",
            );
            let mut resp = invalid(&e);
            *resp.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return resp;
        }
        Err(refusal) => return super::refused_body(&state, refusal),
    };
    if let Some(arrived) = parts.extensions.get::<super::server::BodyArrived>() {
        arrived.mark();
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    let events = match parse_body(&body, now_ms, state.storage.hash_key()) {
        Ok(events) => events,
        Err(r) => return refused(&state, &r),
    };
    match check_pages(&state, &events).await {
        Ok(Ok(())) => {}
        Ok(Err(r)) => return refused(&state, &r),
        Err(e) => return store_failed(&state, &e, now_ms),
    }
    let received = events.len();
    let rows = match db::conversion_rows(&events) {
        Ok(rows) => rows,
        Err(e) => return store_failed(&state, &e.into(), now_ms),
    };
    let new = match state.storage.insert(rows).await {
        Ok(n) => n,
        Err(e) => return store_failed(&state, &e, now_ms),
    };
    state.metrics.store_ok(now_ms);
    state
        .conversions
        .counters
        .accepted
        .fetch_add(1, Ordering::Relaxed);
    state.conversions.count_stored(new);
    tracing::info!(events = received, new, "conversions stored");
    if let Some(tx) = &state.conversions.forward
        && tx.try_send(body).is_err()
    {
        state
            .conversions
            .counters
            .forward_dropped
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!("conversion forward queue full; this body is not forwarded");
    }
    axum::Json(serde_json::json!({
        "events_received": received,
        "messages": [],
        "new_events": new,
    }))
    .into_response()
}

fn store_failed(state: &AppState, e: &RelayError, now_ms: i64) -> Response {
    state.metrics.count(Outcome::Failed);
    state.metrics.store_failed(now_ms, &super::public_cause(e));
    tracing::error!(error = %e, "cannot store conversions");
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "cannot store conversions; send the body again",
    )
}

/// Passes accepted bodies on to Meta in the background, unchanged.
fn spawn_forwarder(
    url: &str,
    counters: Arc<Counters>,
) -> Result<tokio::sync::mpsc::Sender<Bytes>, RelayError> {
    let refuse = |why: String| {
        RelayError::Invalid(ValidationError::new(
            "forward conversions",
            &super::redact_url(url),
            format!("use the https:// events URL of your dataset at Meta ({why})"),
        ))
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| refuse(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(refuse(format!("not {}://", parsed.scheme())));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(FORWARD_TIMEOUT_SECS))
        .build()
        .map_err(|e| RelayError::Forward(e.to_string()))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(FORWARD_QUEUE);
    tokio::spawn(async move {
        while let Some(body) = rx.recv().await {
            let sent = client
                .post(parsed.clone())
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await;
            let failed = match sent {
                Ok(resp) if resp.status().is_success() => false,
                Ok(resp) => {
                    tracing::warn!(status = %resp.status(), "Meta refused forwarded conversions");
                    true
                }
                Err(e) => {
                    // Without the URL: Meta's carries the access token.
                    tracing::warn!(error = %e.without_url(), "cannot forward conversions to Meta");
                    true
                }
            };
            if failed {
                counters.forward_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    Ok(tx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messenger::Sender;

    const NOW_MS: i64 = 1_764_219_600_000;
    const KEY: &[u8] = b"key";

    #[test]
    fn goal_presses_become_conversions_with_stable_ids() {
        let conv = Conversions {
            options: ConversionOptions {
                goals: vec![Goal::parse("order=ORDER_CONFIRMED*").unwrap()],
                ..ConversionOptions::default()
            },
            forward: None,
            counters: Arc::default(),
        };
        let body = br#"{"object":"page","entry":[{"id":"77","messaging":[
            {"sender":{"id":"9"},"recipient":{"id":"77"},"timestamp":1764219590000,"postback":{"payload":"ORDER_CONFIRMED_5"}},
            {"sender":{"id":"9"},"recipient":{"id":"77"},"timestamp":1764219591000,"postback":{"payload":"MENU"}}]}]}"#;
        let got = conv.goal_events(body, KEY, NOW_MS);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].goal.as_deref(), Some("order"));
        assert_eq!(got[0].sender, hash_sender(KEY, &Sender::Id("9".into())));
        assert_eq!(got[0].check(), Ok(None));
        assert_eq!(
            conv.goal_events(body, KEY, NOW_MS + 5)[0].event_id,
            got[0].event_id
        );
    }
}
