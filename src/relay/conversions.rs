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

use super::goals::{Goal, first_match};
use super::metrics::Outcome;
use super::{AppState, RelayError, db, invalid, json_error, secret_eq};
use crate::messenger::{Sender, actions, bounds::MAX_ID_CHARS, hash_sender};
use crate::model::{
    ConversionEvent, ConversionKind, Platform, ValidationError, parse_value_micros,
    validate_currency, validate_goal,
};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
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

/// Why a body was refused: the rule broken, and which event of `data`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Refused {
    error: ValidationError,
    index: Option<usize>,
}

impl Refused {
    fn at(index: usize) -> impl Fn(ValidationError) -> Refused {
        move |error| Refused {
            error,
            index: Some(index),
        }
    }
}

impl From<ValidationError> for Refused {
    fn from(error: ValidationError) -> Self {
        Refused { error, index: None }
    }
}

#[derive(Deserialize)]
struct CapiBody<'a> {
    #[serde(borrow, default)]
    data: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct CapiEvent<'a> {
    #[serde(default)]
    event_name: Option<Value>,
    #[serde(default)]
    event_time: Option<Value>,
    #[serde(default)]
    event_id: Option<Value>,
    #[serde(default)]
    action_source: Option<Value>,
    #[serde(default)]
    messaging_channel: Option<Value>,
    #[serde(default)]
    user_data: Option<UserData>,
    #[serde(borrow, default)]
    custom_data: Option<CustomData<'a>>,
}

#[derive(Deserialize, Default)]
struct UserData {
    #[serde(default)]
    page_id: Option<Value>,
    #[serde(default)]
    page_scoped_user_id: Option<Value>,
    #[serde(default)]
    ig_account_id: Option<Value>,
    #[serde(default)]
    ig_sid: Option<Value>,
}

#[derive(Deserialize, Default)]
struct CustomData<'a> {
    /// Raw, so a JSON number's digits are read as written, never via f64.
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
    #[serde(default)]
    currency: Option<Value>,
}

/// A string or whole number as text; `None` for anything else.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Which event times a body may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    /// Meta's: at most 7 days old, at most [`FUTURE_SKEW_SECS`] ahead.
    Meta,
    /// refboard's event window ([`crate::model::check_event_time`]), for
    /// importing logged bodies of any age.
    Import,
}

/// Reads a conversions body as `refboard import` does: every rule of the
/// endpoint except Meta's 7 days (a log may be older), senders hashed with
/// `hash_key`. The error names the field, the value and the rule.
pub fn conversion_body(
    body: &[u8],
    now_ms: i64,
    hash_key: &[u8],
) -> Result<Vec<ConversionEvent>, ValidationError> {
    parse_body_in(body, now_ms, hash_key, Window::Import).map_err(|r| match r.index {
        Some(i) => ValidationError {
            rule: format!("{} (data[{i}])", r.error.rule),
            ..r.error
        },
        None => r.error,
    })
}

/// Parses a body into conversion events, all or none. Pages are checked by
/// the caller (they need the storage).
pub(super) fn parse_body(
    body: &[u8],
    now_ms: i64,
    hash_key: &[u8],
) -> Result<Vec<ConversionEvent>, Refused> {
    parse_body_in(body, now_ms, hash_key, Window::Meta)
}

fn parse_body_in(
    body: &[u8],
    now_ms: i64,
    hash_key: &[u8],
    window: Window,
) -> Result<Vec<ConversionEvent>, Refused> {
    let parsed: CapiBody<'_> = serde_json::from_slice(body).map_err(|e| {
        ValidationError::new(
            "body",
            &e.to_string(),
            "a JSON object with a \"data\" array of events, as Meta's Conversions API takes",
        )
    })?;
    let data = parsed.data.ok_or_else(|| {
        ValidationError::new("data", "", "the body needs a \"data\" array of events")
    })?;
    if data.is_empty() || data.len() > MAX_EVENTS {
        return Err(ValidationError::new(
            "data",
            &format!("{} events", data.len()),
            format!("1 to {MAX_EVENTS} events per request (Meta's limit)"),
        )
        .into());
    }
    data.iter()
        .enumerate()
        .map(|(i, raw)| parse_event(raw, now_ms, hash_key, window).map_err(Refused::at(i)))
        .collect()
}

/// One event of `data`.
fn parse_event(
    raw: &RawValue,
    now_ms: i64,
    hash_key: &[u8],
    window: Window,
) -> Result<ConversionEvent, ValidationError> {
    let e: CapiEvent<'_> = serde_json::from_str(raw.get()).map_err(|err| {
        ValidationError::new(
            "data[]",
            &err.to_string(),
            "each event is a JSON object of Meta's shape",
        )
    })?;
    let source = text(e.action_source.as_ref()).unwrap_or_default();
    if source != "business_messaging" {
        return Err(ValidationError::new(
            "action_source",
            &source,
            "must be \"business_messaging\" (events from a Messenger or Instagram conversation)",
        ));
    }
    let name = text(e.event_name.as_ref()).unwrap_or_default();
    validate_goal("event_name", &name)?;
    let timestamp_ms = match window {
        Window::Meta => event_time_ms(e.event_time.as_ref(), now_ms)?,
        Window::Import => any_event_time_ms(e.event_time.as_ref(), now_ms)?,
    };
    let (platform, page_id, person) = who(&e)?;
    let sender = hash_sender(hash_key, &Sender::Id(person));
    let (value, currency) = money(e.custom_data.as_ref())?;
    let bot_id = match &e.event_id {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            text(Some(v))
                .filter(|s| !s.is_empty() && s.len() <= MAX_EVENT_ID_BYTES)
                .ok_or_else(|| {
                    ValidationError::new(
                        "event_id",
                        &v.to_string(),
                        "a string of 1 to 256 bytes (or a whole number)",
                    )
                })?,
        ),
    };
    let event_id = match &bot_id {
        Some(id) => id_of(&["capi", platform.as_str(), &page_id, &name, id]),
        None => id_of(&[
            "capi-derived",
            platform.as_str(),
            &page_id,
            &name,
            &sender,
            &timestamp_ms.to_string(),
            value.as_deref().unwrap_or(""),
            currency.as_deref().unwrap_or(""),
        ]),
    };
    Ok(ConversionEvent {
        event_id,
        platform,
        page_id,
        sender,
        timestamp_ms,
        kind: ConversionKind::Conversion,
        goal: Some(name),
        value,
        currency,
        received_at_ms: now_ms,
    })
}

/// `event_time`: whole seconds since 1970, within Meta's 7 days and the skew.
fn event_time_ms(v: Option<&Value>, now_ms: i64) -> Result<i64, ValidationError> {
    let rule = format!(
        "whole seconds since 1970, at most 7 days ago (Meta's limit) and at most {FUTURE_SKEW_SECS} s ahead of the relay's clock"
    );
    let shown = v.map(ToString::to_string).unwrap_or_default();
    let secs = text(v)
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| ValidationError::new("event_time", &shown, rule.as_str()))?;
    let now_secs = now_ms.div_euclid(1000);
    if secs > now_secs.saturating_add(FUTURE_SKEW_SECS) {
        return Err(ValidationError::new(
            "event_time",
            &shown,
            format!("is in the future; {rule}"),
        ));
    }
    if secs < now_secs.saturating_sub(MAX_AGE_SECS) {
        return Err(ValidationError::new(
            "event_time",
            &shown,
            format!("is older than 7 days; {rule}"),
        ));
    }
    crate::model::secs_to_ms(secs).ok_or_else(|| ValidationError::new("event_time", &shown, rule))
}

/// `event_time` in refboard's event window (import).
fn any_event_time_ms(v: Option<&Value>, now_ms: i64) -> Result<i64, ValidationError> {
    let shown = v.map(ToString::to_string).unwrap_or_default();
    let rule = crate::model::EVENT_WINDOW_RULE;
    let ms = text(v)
        .and_then(|t| t.parse::<i64>().ok())
        .and_then(crate::model::secs_to_ms)
        .ok_or_else(|| ValidationError::new("event_time", &shown, rule))?;
    crate::model::check_event_time("event_time", ms, now_ms)
}

/// The channel, the page and the person's raw id (hashed at once by the caller).
fn who(e: &CapiEvent<'_>) -> Result<(Platform, String, String), ValidationError> {
    let channel = text(e.messaging_channel.as_ref()).unwrap_or_default();
    let (platform, page_field, person_field) = match channel.as_str() {
        "messenger" => (
            Platform::Messenger,
            "user_data.page_id",
            "user_data.page_scoped_user_id",
        ),
        "instagram" => (
            Platform::Instagram,
            "user_data.ig_account_id",
            "user_data.ig_sid",
        ),
        _ => {
            return Err(ValidationError::new(
                "messaging_channel",
                &channel,
                "\"messenger\" or \"instagram\" (refboard's referrals come from these two)",
            ));
        }
    };
    let empty = UserData::default();
    let u = e.user_data.as_ref().unwrap_or(&empty);
    let (page, person) = match platform {
        Platform::Messenger => (&u.page_id, &u.page_scoped_user_id),
        Platform::Instagram => (&u.ig_account_id, &u.ig_sid),
    };
    let page = text(page.as_ref())
        .filter(|p| !p.is_empty() && p.len() <= MAX_ID_CHARS)
        .ok_or_else(|| {
            ValidationError::new(
                page_field,
                &page.as_ref().map(ToString::to_string).unwrap_or_default(),
                "the page's id (1 to 64 characters) is required",
            )
        })?;
    // The person's id is never echoed, not even in a refusal.
    let person = text(person.as_ref())
        .filter(|p| !p.is_empty() && p.len() <= MAX_ID_CHARS)
        .ok_or_else(|| {
            let shown = if person.is_some() { "(hidden)" } else { "" };
            ValidationError::new(
                person_field,
                shown,
                "the person's page-scoped id (1 to 64 characters) is required, so the conversion joins their referrals",
            )
        })?;
    Ok((platform, page, person))
}

/// `custom_data.value` and `.currency`: both or neither, exact.
fn money(c: Option<&CustomData<'_>>) -> Result<(Option<String>, Option<String>), ValidationError> {
    let Some(c) = c else {
        return Ok((None, None));
    };
    let value = match c.value.map(RawValue::get) {
        None | Some("null") => None,
        Some(raw) if raw.starts_with('"') => {
            Some(serde_json::from_str::<String>(raw).map_err(|_| {
                ValidationError::new("custom_data.value", raw, crate::model::VALUE_RULE)
            })?)
        }
        Some(raw) => Some(raw.to_string()),
    };
    let currency = match &c.currency {
        None | Some(Value::Null) => None,
        Some(v) => Some(text(Some(v)).unwrap_or_else(|| v.to_string())),
    };
    match (value, currency) {
        (None, None) => Ok((None, None)),
        (Some(v), Some(cur)) => {
            parse_value_micros("custom_data.value", &v)?;
            let cur = validate_currency("custom_data.currency", &cur)?;
            Ok((Some(v), Some(cur)))
        }
        (Some(v), None) => Err(ValidationError::new(
            "custom_data.currency",
            "",
            format!("{}; value {v} needs one", crate::model::CURRENCY_RULE),
        )),
        (None, Some(cur)) => Err(ValidationError::new(
            "custom_data.value",
            "",
            format!("a currency ({cur}) comes with a value"),
        )),
    }
}

/// A refusal as a response, with the event's index in `data` when known.
fn refused(state: &AppState, r: &Refused) -> Response {
    state
        .conversions
        .counters
        .refused
        .fetch_add(1, Ordering::Relaxed);
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
                "not a page of this relay: no signed referral has come for it and it is not a --page",
            ))));
        }
        checked.push(page);
    }
    Ok(Ok(()))
}

/// `POST /v1/conversions`.
pub(super) async fn receive(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Some(token) = state.conversions.options.events_token.as_deref() else {
        return json_error(
            StatusCode::NOT_FOUND,
            "conversions are off on this relay: set REFBOARD_EVENTS_TOKEN to accept them",
        );
    };
    let sent = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !secret_eq(sent, token) {
        state
            .conversions
            .counters
            .refused
            .fetch_add(1, Ordering::Relaxed);
        return json_error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token (the events token, not the API token)",
        );
    }
    let (body, _reserved) = match state.bodies.read(body).await {
        Ok(read) => read,
        Err(super::body::Refusal::TooLarge) => {
            state
                .conversions
                .counters
                .refused
                .fetch_add(1, Ordering::Relaxed);
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

    const NOW_MS: i64 = 1_764_219_600_000;
    const KEY: &[u8] = b"key";

    fn event(extra: &str) -> String {
        format!(
            r#"{{"event_name":"Purchase","event_time":1764219000,"event_id":"o-1","action_source":"business_messaging","messaging_channel":"messenger","user_data":{{"page_id":"77","page_scoped_user_id":"9"}},"custom_data":{{"value":12.50,"currency":"usd"}}{extra}}}"#
        )
    }

    #[test]
    fn metas_shape_becomes_a_conversion_with_the_referral_hash() {
        let body = format!(r#"{{"data":[{}]}}"#, event(""));
        let got = parse_body(body.as_bytes(), NOW_MS, KEY).unwrap();
        assert_eq!(got.len(), 1);
        let c = &got[0];
        assert_eq!(c.goal.as_deref(), Some("Purchase"));
        assert_eq!(c.value.as_deref(), Some("12.50"), "the digits as written");
        assert_eq!(c.currency.as_deref(), Some("USD"));
        assert_eq!(c.timestamp_ms, 1_764_219_000_000);
        assert_eq!(c.sender, hash_sender(KEY, &Sender::Id("9".into())));
        assert_eq!(c.check(), Ok(Some(12_500_000)));
    }

    #[test]
    fn the_stored_id_follows_metas_deduplication_key() {
        let one = parse_body(
            format!(r#"{{"data":[{}]}}"#, event("")).as_bytes(),
            NOW_MS,
            KEY,
        )
        .unwrap();
        let again = parse_body(
            format!(r#"{{"data":[{}]}}"#, event(""))
                .replace("1764219000", "1764219100")
                .as_bytes(),
            NOW_MS,
            KEY,
        )
        .unwrap();
        assert_eq!(one[0].event_id, again[0].event_id, "same event_id and name");
        let other = parse_body(
            format!(r#"{{"data":[{}]}}"#, event(""))
                .replace("o-1", "o-2")
                .as_bytes(),
            NOW_MS,
            KEY,
        )
        .unwrap();
        assert_ne!(one[0].event_id, other[0].event_id);
    }

    #[test]
    fn every_rule_names_its_field_and_the_event() {
        let cases: [(&str, &str, &str); 10] = [
            ("business_messaging", "website", "action_source"),
            ("1764219000", "1764229000", "event_time"),
            ("1764219000", "1763500000", "event_time"),
            ("\"usd\"", "\"usdollar\"", "custom_data.currency"),
            ("12.50", "-3", "custom_data.value"),
            ("12.50", "\"ten\"", "custom_data.value"),
            (
                "\"page_scoped_user_id\":\"9\"",
                "\"x\":\"9\"",
                "user_data.page_scoped_user_id",
            ),
            ("\"messenger\"", "\"whatsapp\"", "messaging_channel"),
            ("\"Purchase\"", "\"Buy\\nnow\"", "event_name"),
            ("\"o-1\"", "{}", "event_id"),
        ];
        for (from, to, field) in cases {
            let body = format!(
                r#"{{"data":[{},{}]}}"#,
                event(""),
                event("").replacen(from, to, 1)
            );
            let r = parse_body(body.as_bytes(), NOW_MS, KEY).unwrap_err();
            assert_eq!(
                (r.error.field, r.index),
                (field, Some(1)),
                "{from} -> {to}: {:?}",
                r.error
            );
        }
        let r = parse_body(
            format!(r#"{{"data":[{}]}}"#, event(""))
                .replace("\"9\"", "\"123456\"")
                .replace("page_scoped_user_id", "psid")
                .as_bytes(),
            NOW_MS,
            KEY,
        )
        .unwrap_err();
        assert!(
            !r.error.value.contains("123456"),
            "the person's id is never echoed"
        );
    }

    #[test]
    fn the_count_of_events_is_bounded() {
        let one = event("");
        for (n, ok) in [
            (0, false),
            (1, true),
            (MAX_EVENTS, true),
            (MAX_EVENTS + 1, false),
        ] {
            let body = format!(r#"{{"data":[{}]}}"#, vec![one.as_str(); n].join(","));
            let got = parse_body(body.as_bytes(), NOW_MS, KEY);
            assert_eq!(got.is_ok(), ok, "{n} events");
            if let Err(r) = got {
                assert_eq!(r.error.field, "data");
            }
        }
    }

    #[test]
    fn the_time_window_is_seven_days_and_five_minutes() {
        let now = NOW_MS / 1000;
        for (secs, ok) in [
            (now, true),
            (now + FUTURE_SKEW_SECS, true),
            (now + FUTURE_SKEW_SECS + 1, false),
            (now - MAX_AGE_SECS, true),
            (now - MAX_AGE_SECS - 1, false),
        ] {
            let got = event_time_ms(Some(&Value::from(secs)), NOW_MS);
            assert_eq!(got.is_ok(), ok, "{secs}");
        }
        assert!(event_time_ms(Some(&Value::from(1.5)), NOW_MS).is_err());
        assert!(event_time_ms(None, NOW_MS).is_err());
    }

    #[test]
    fn instagram_uses_its_own_ids_and_values_may_be_absent() {
        let body = r#"{"data":[{"event_name":"LeadSubmitted","event_time":"1764219000","action_source":"business_messaging","messaging_channel":"instagram","user_data":{"ig_account_id":"1784","ig_sid":"55"}}]}"#;
        let got = parse_body(body.as_bytes(), NOW_MS, KEY).unwrap();
        assert_eq!(
            (got[0].platform, got[0].page_id.as_str()),
            (Platform::Instagram, "1784")
        );
        assert_eq!(
            (got[0].value.as_ref(), got[0].currency.as_ref()),
            (None, None)
        );
    }

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
