//! `refboard relay`: the bot-backend side. Receives Meta's signed webhooks,
//! keeps the referral events, and serves them over the pull API described in
//! `docs/sync-protocol.md`.
//!
//! Secrets and raw PSIDs are never logged; senders are replaced by a keyed
//! hash before anything is stored.

mod acme;
mod body;
mod conversions;
mod db;
mod goals;
mod https;
mod init;
mod meta_side;
mod metrics;
mod pg;
mod server;
mod tls;

pub use acme::{
    ACME_CACHE_FIELD, ACME_EMAIL_FIELD, ACME_ROOT_FIELD, AcmeError, AcmeOptions, DOMAIN_FIELD,
    LETS_ENCRYPT_DIRECTORY,
};
pub use conversions::{
    ConversionOptions, EVENTS_TOKEN_ENV, FUTURE_SKEW_SECS, MAX_AGE_SECS, MAX_EVENTS,
    conversion_body, goal_conversions,
};
pub use goals::Goal;
pub use init::{ENV_FILE, InitError, init_env_file};
#[doc(hidden)]
pub use pg::QUERIES as PG_QUERIES;
pub use pg::{DATABASE_FIELD, PG_SCHEMA_VERSION, PgError, redact_url};
pub use tls::{CertificateSource, TLS_CERT_FIELD, TLS_KEY_FIELD, TlsOptions, load_files};

use crate::messenger::{SIGNATURE_HEADER, parse_webhook_at, verify_signature};
use crate::model::ValidationError;
use crate::store::StoreError;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::Mac;
use metrics::{Metrics, Outcome};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Largest webhook body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Default page size of `GET /v1/referrals`.
pub const DEFAULT_LIMIT: usize = 1000;
/// Largest page size of `GET /v1/referrals`; larger asks are capped.
pub const MAX_LIMIT: usize = 5000;
/// Environment variable naming a PostgreSQL URL (same as `--database`).
pub const DATABASE_ENV: &str = "REFBOARD_RELAY_DATABASE";
const FORWARD_QUEUE: usize = 1024;
const FORWARD_TIMEOUT_SECS: u64 = 10;

/// What can stop the relay from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// A required secret is missing.
    #[error("missing the {0}: the relay needs all three secrets")]
    MissingSecret(&'static str),
    /// Start-up input broke a rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The SQLite database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// PostgreSQL failed.
    #[error(transparent)]
    Postgres(#[from] PgError),
    /// The address could not be bound or served.
    #[error("cannot listen ({source}): {addr}")]
    Listen {
        /// Underlying error.
        source: std::io::Error,
        /// The address.
        addr: String,
    },
    /// No HTTPS certificate could be had from the ACME server.
    #[error(transparent)]
    Acme(#[from] AcmeError),
    /// The forward URL is not usable.
    #[error("invalid forward URL ({})", crate::model::redact_urls(.0))]
    Forward(String),
}

/// How the relay runs.
#[derive(Clone)]
pub struct RelayConfig {
    /// SQLite file for events (ignored when [`RelayOptions::database`] is set).
    pub data: PathBuf,
    /// Meta app secret: checks `X-Hub-Signature-256`.
    pub app_secret: String,
    /// Token Meta sends when verifying the webhook.
    pub verify_token: String,
    /// Bearer token of the pull API.
    pub api_token: String,
    /// Existing bot to pass every webhook on to.
    pub forward: Option<String>,
}

impl std::fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of logs and panics.
        f.debug_struct("RelayConfig")
            .field("data", &self.data)
            .field("forward", &self.forward.as_deref().map(redact_url))
            .finish_non_exhaustive()
    }
}

impl RelayConfig {
    /// A SQLite relay with the three secrets and no forwarding.
    pub fn new(data: PathBuf, app_secret: &str, verify_token: &str, api_token: &str) -> Self {
        Self {
            data,
            app_secret: app_secret.into(),
            verify_token: verify_token.into(),
            api_token: api_token.into(),
            forward: None,
        }
    }

    fn check(&self) -> Result<(), RelayError> {
        for (name, value) in [
            // Field names, not flags: the CLI checks its flags itself.
            ("app secret", &self.app_secret),
            ("verify token", &self.verify_token),
            ("API token", &self.api_token),
        ] {
            if value.is_empty() {
                return Err(RelayError::MissingSecret(name));
            }
        }
        Ok(())
    }
}

/// Where events live beyond the default SQLite file, and the HTTP limits
/// (see "Limits" in `docs/deploy.md`).
#[derive(Clone)]
pub struct RelayOptions {
    /// PostgreSQL URL; `None` keeps the SQLite file of [`RelayConfig::data`].
    pub database: Option<String>,
    /// A connection that has not sent its request headers within this many
    /// seconds is closed; this is also the idle keep-alive timeout.
    pub header_timeout_secs: u64,
    /// A request body must arrive in full within this many seconds of its
    /// headers, else `408` and the connection is closed.
    pub body_timeout_secs: u64,
    /// A request must be answered within this many seconds of its headers
    /// (body and handling together), else `408` or `503` and a close.
    pub request_timeout_secs: u64,
    /// Most connections served at once. When all are taken, the one that has
    /// waited longest without a complete request is closed for the newcomer.
    pub max_connections: usize,
    /// Most connections from one IP address; 0 for no per-address limit
    /// (behind a reverse proxy every client has the proxy's address).
    pub max_connections_per_ip: usize,
    /// Webhook body bytes buffered at once across all connections; past it,
    /// `503` with `Retry-After`.
    pub body_memory_bytes: usize,
    /// `POST /v1/conversions` and `--goal` (issue 21); off by default.
    pub conversions: ConversionOptions,
    /// HTTPS beside the plain HTTP listener (see "HTTPS" in `docs/deploy.md`).
    pub tls: Option<TlsOptions>,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            database: None,
            header_timeout_secs: 10,
            body_timeout_secs: 10,
            request_timeout_secs: 15,
            max_connections: 1024,
            max_connections_per_ip: 256,
            body_memory_bytes: 64 << 20,
            conversions: ConversionOptions::default(),
            tls: None,
        }
    }
}

impl std::fmt::Debug for RelayOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayOptions")
            .field("database", &self.database.as_deref().map(redact_url))
            .field("header_timeout_secs", &self.header_timeout_secs)
            .field("body_timeout_secs", &self.body_timeout_secs)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field("max_connections_per_ip", &self.max_connections_per_ip)
            .field("body_memory_bytes", &self.body_memory_bytes)
            .field("conversions", &self.conversions)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Where the events are: one SQLite file, or a PostgreSQL shared by relays.
enum Storage {
    Sqlite(db::Sqlite),
    Postgres(pg::Postgres),
}

/// A page of the pull API: (cursor after each row, JSON) pairs, and whether
/// the cursor sent was refused as a broken format, so the rows start from
/// the beginning (`"reset": true`, docs/sync-protocol.md).
struct PageRows {
    rows: Vec<(String, String)>,
    reset: bool,
}

impl Storage {
    async fn open(config: &RelayConfig, options: &RelayOptions) -> Result<Self, RelayError> {
        match &options.database {
            Some(url) => Ok(Storage::Postgres(pg::Postgres::open(url).await?)),
            None => {
                let data = config.data.clone();
                let sqlite = tokio::task::spawn_blocking(move || db::Sqlite::open(&data))
                    .await
                    .map_err(|e| StoreError::internal(format!("the open task failed: {e}")))??;
                Ok(Storage::Sqlite(sqlite))
            }
        }
    }

    fn hash_key(&self) -> &[u8] {
        match self {
            Storage::Sqlite(s) => s.hash_key(),
            Storage::Postgres(p) => p.hash_key(),
        }
    }

    async fn insert(&self, rows: Vec<db::Row>) -> Result<usize, RelayError> {
        match self {
            Storage::Sqlite(s) => Ok(s.insert(rows).await?),
            Storage::Postgres(p) => Ok(p.insert(rows).await?),
        }
    }

    /// The id and time of the latest referral of `sender` on `page_id`.
    async fn last_referral(
        &self,
        page_id: &str,
        sender: &str,
    ) -> Result<Option<(String, i64)>, RelayError> {
        match self {
            Storage::Sqlite(s) => {
                let (page, sender) = (page_id.to_string(), sender.to_string());
                Ok(s.read(move |conn| db::last_referral(conn, &page, &sender))
                    .await?)
            }
            Storage::Postgres(p) => Ok(p.last_referral(page_id, sender).await?),
        }
    }

    /// Whether a signed referral has come for `page_id`.
    async fn knows_page(&self, page_id: &str) -> Result<bool, RelayError> {
        match self {
            Storage::Sqlite(s) => {
                let page = page_id.to_string();
                Ok(s.read(move |conn| db::knows_page(conn, &page)).await?)
            }
            Storage::Postgres(p) => Ok(p.knows_page(page_id).await?),
        }
    }

    /// Checks `after` and reads up to `limit` rows past it.
    async fn page(
        &self,
        after: String,
        limit: usize,
    ) -> Result<Result<PageRows, ValidationError>, RelayError> {
        match self {
            Storage::Sqlite(s) => Ok(s
                .read(move |conn| {
                    let after = match db::parse_cursor(conn, &after)? {
                        Ok(n) => n,
                        Err(v) => return Ok(Err(v)),
                    };
                    let rows = db::page(conn, after, limit)?;
                    Ok(Ok(PageRows {
                        rows: rows
                            .into_iter()
                            .map(|(seq, json)| (format!("s{seq}"), json))
                            .collect(),
                        reset: false,
                    }))
                })
                .await?),
            Storage::Postgres(p) => {
                let (start, reset) = match p.parse_cursor(&after).await? {
                    Ok(pg::Cursor::After(xid, seq)) => ((xid, seq), false),
                    Ok(pg::Cursor::Reset) => {
                        tracing::info!(cursor = %after, "a cursor of the old format: serving from the beginning");
                        ((0, 0), true)
                    }
                    Err(v) => return Ok(Err(v)),
                };
                let rows = p.page(start, limit).await?;
                Ok(Ok(PageRows { rows, reset }))
            }
        }
    }

    async fn count(&self) -> Result<i64, RelayError> {
        match self {
            Storage::Sqlite(s) => Ok(s.read(db::count).await?),
            Storage::Postgres(p) => Ok(p.count().await?),
        }
    }

    async fn last_received_ms(&self) -> Result<Option<i64>, RelayError> {
        match self {
            Storage::Sqlite(s) => Ok(s.last_received_ms().await?),
            Storage::Postgres(p) => Ok(p.last_received_ms().await?),
        }
    }
}

type ForwardQueue = tokio::sync::mpsc::Sender<(Bytes, Option<String>)>;

struct AppState {
    config: RelayConfig,
    storage: Storage,
    metrics: Arc<Metrics>,
    forward: Option<ForwardQueue>,
    bodies: body::BodyBudget,
    conversions: conversions::Conversions,
    meta_side: meta_side::MetaSide,
}

impl AppState {
    fn forward_depth(&self) -> usize {
        self.forward
            .as_ref()
            .map(|tx| tx.max_capacity().saturating_sub(tx.capacity()))
            .unwrap_or(0)
    }
}

/// Constant-time equality of two secrets.
fn secret_eq(a: &str, b: &str) -> bool {
    // Comparing HMACs of both sides keeps the time independent of where they differ.
    let tag = |s: &str| {
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"refboard-compare").ok()?;
        m.update(s.as_bytes());
        Some(m.finalize().into_bytes())
    };
    match (tag(a), tag(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "error": message }).to_string(),
    )
        .into_response()
}

/// A 400 that names the field, the value and the rule, as text and as fields.
fn invalid(e: &ValidationError) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({
            "error": e.to_string(),
            "field": e.field,
            "value": e.value,
            "rule": e.rule,
        })
        .to_string(),
    )
        .into_response()
}

async fn verify(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mode = q.get("hub.mode").map(String::as_str);
    let token = q.get("hub.verify_token").map(String::as_str).unwrap_or("");
    match (mode, q.get("hub.challenge")) {
        (Some("subscribe"), Some(challenge)) if secret_eq(token, &state.config.verify_token) => {
            tracing::info!("webhook verified");
            let now_ms = chrono::Utc::now().timestamp_millis();
            state.meta_side.verified(&state.storage, now_ms).await;
            (StatusCode::OK, challenge.clone()).into_response()
        }
        _ => {
            // The token tried is never logged: it may be a near-miss of the real one.
            if q.contains_key("hub.verify_token") && !secret_eq(token, &state.config.verify_token) {
                let now_ms = chrono::Utc::now().timestamp_millis();
                state.meta_side.bad_token(&state.storage, now_ms).await;
            }
            tracing::warn!("webhook verification refused");
            (StatusCode::FORBIDDEN, "verification refused").into_response()
        }
    }
}

/// Logs refused items by field, value and rule; never the sender (no PSIDs).
/// The rest of the body is stored, and Meta still gets its 200, since a
/// redelivery would carry the same refused item.
fn log_refused(refused: &[crate::model::ValidationError]) {
    if refused.is_empty() {
        return;
    }
    for e in refused {
        tracing::warn!(field = e.field, value = %e.value, rule = %e.rule, "webhook item refused");
    }
    tracing::warn!(
        refused = refused.len(),
        "webhook items refused; the rest of the body is kept"
    );
}

/// The answer to a webhook body that was not read in full.
fn refused_body(state: &AppState, refusal: body::Refusal) -> Response {
    let (outcome, status, message) = match refusal {
        body::Refusal::TooLarge => (
            Outcome::TooLarge,
            StatusCode::PAYLOAD_TOO_LARGE,
            "body larger than 1 MiB".to_string(),
        ),
        body::Refusal::Busy => (
            Outcome::Busy,
            StatusCode::SERVICE_UNAVAILABLE,
            "the relay is receiving too many bodies at once; retry shortly".to_string(),
        ),
        body::Refusal::TimedOut => (
            Outcome::TimedOut,
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                state.bodies.timeout().as_secs()
            ),
        ),
        body::Refusal::Broken => (
            Outcome::Malformed,
            StatusCode::BAD_REQUEST,
            "the body could not be read".to_string(),
        ),
    };
    state.metrics.count(outcome);
    tracing::warn!(status = status.as_u16(), reason = %message, "webhook body refused");
    let mut resp = json_error(status, &message);
    let headers = resp.headers_mut();
    match refusal {
        body::Refusal::Busy => {
            headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        body::Refusal::TimedOut | body::Refusal::Broken => {
            headers.insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
        }
        body::Refusal::TooLarge => {}
    }
    resp
}

async fn receive(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // The header's form is checked first, so an unsigned body is never buffered.
    if let Err(reason) = body::signature_well_formed(&parts.headers) {
        body::drain(body, body::DRAIN_SMALL_BYTES);
        state.metrics.count(Outcome::BadSignature);
        tracing::warn!(reason, "webhook refused before its body");
        return json_error(StatusCode::FORBIDDEN, reason);
    }
    // The reservation lives until the answer, with the bytes it accounts for.
    let (body, _reserved) = match state.bodies.read(body).await {
        Ok(read) => read,
        Err(refusal) => return refused_body(&state, refusal),
    };
    if let Some(arrived) = parts.extensions.get::<server::BodyArrived>() {
        arrived.mark();
    }
    let headers = parts.headers;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Err(e) = verify_signature(
        state.config.app_secret.as_bytes(),
        &body,
        signature.as_deref(),
    ) {
        state.metrics.count(Outcome::BadSignature);
        tracing::warn!(bytes = body.len(), reason = %e, "webhook refused");
        return json_error(StatusCode::FORBIDDEN, &e.to_string());
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    let (referrals, refused) = match parse_webhook_at(&body, now_ms) {
        Ok(parsed) => {
            log_refused(&parsed.refused);
            let reasons: Vec<&'static str> = parsed.refused.iter().map(|e| e.field).collect();
            (parsed.referrals, reasons)
        }
        Err(e) => {
            state.metrics.count(Outcome::Malformed);
            tracing::warn!(bytes = body.len(), reason = %e, "webhook body refused");
            return json_error(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };
    state.metrics.refuse(&refused);
    let goals = state
        .conversions
        .goal_events(&body, state.storage.hash_key(), now_ms);
    if let Err(failed) = store(&state, referrals, goals, refused.len(), now_ms).await {
        return failed;
    }
    // After the referrals: a message in the same body may follow one.
    if let Err(failed) = conversions::record_conversations(&state, &body, now_ms).await {
        return failed;
    }
    if let Some(tx) = &state.forward
        && tx.try_send((body, signature)).is_err()
    {
        state
            .metrics
            .forward_dropped
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!("forward queue full; this delivery is not forwarded");
    }
    (StatusCode::OK, "EVENT_RECEIVED").into_response()
}

/// Stores a webhook's referrals and counts the outcome; the 500 Meta gets
/// (and retries) when the storage refuses them.
async fn store(
    state: &AppState,
    referrals: Vec<crate::messenger::Referral>,
    goals: Vec<crate::model::ConversionEvent>,
    refused: usize,
    now_ms: i64,
) -> Result<(), Response> {
    let events: Vec<_> = referrals
        .into_iter()
        .map(|r| r.into_event(state.storage.hash_key(), now_ms))
        .collect();
    let count = events.len() + goals.len();
    // Referrals and goal conversions of one body commit together.
    let rows = db::referral_rows(&events).and_then(|mut rows| {
        rows.extend(db::conversion_rows(&goals)?);
        Ok(rows)
    });
    let inserted = if count == 0 {
        0
    } else {
        let stored = match rows {
            Ok(rows) => state.storage.insert(rows).await,
            Err(e) => Err(e.into()),
        };
        match stored {
            Ok(n) => n,
            Err(e) => {
                state.metrics.count(Outcome::Failed);
                state.metrics.store_failed(now_ms, &public_cause(&e));
                tracing::error!(error = %e, "cannot store referrals");
                return Err(json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "cannot store referrals",
                ));
            }
        }
    };
    if count > 0 {
        state.metrics.store_ok(now_ms);
    }
    state.metrics.count(match (count, inserted) {
        (0, _) => Outcome::Ignored,
        (_, 0) => Outcome::Duplicate,
        _ => Outcome::Stored,
    });
    tracing::info!(referrals = count, new = inserted, refused, "webhook stored");
    Ok(())
}

/// Parses `limit`: absent is the default; a whole number from 1, in plain
/// digits, is accepted and capped at the largest, however many digits it has.
fn parse_limit(raw: Option<&str>) -> Result<usize, ValidationError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    let digits = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<usize>() {
        Ok(n) if digits && n >= 1 => Ok(n.min(MAX_LIMIT)),
        // Only digits, too many for usize (all zeros always fit): over the cap.
        Err(_) if digits => Ok(MAX_LIMIT),
        _ => Err(ValidationError::new(
            "limit",
            raw,
            format!("a whole number from 1 to {MAX_LIMIT} (larger asks are capped)"),
        )),
    }
}

async fn referrals(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !secret_eq(token, &state.config.api_token) {
        return json_error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let limit = match parse_limit(q.get("limit").map(String::as_str)) {
        Ok(n) => n,
        Err(e) => return invalid(&e),
    };
    let after = q.get("after").cloned().unwrap_or_default();
    let PageRows { mut rows, reset } = match state.storage.page(after.clone(), limit + 1).await {
        Ok(Ok(page)) => page,
        Ok(Err(e)) => return invalid(&e),
        Err(e) => {
            tracing::error!(error = %e, "cannot read referrals");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "cannot read referrals");
        }
    };
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    // A reset page starts from the beginning, even when it is empty.
    let next = match rows.last() {
        Some(r) => r.0.clone(),
        None if reset => String::new(),
        None => after,
    };
    // Events are stored as JSON, so a page is assembled without re-encoding.
    let mut body = String::with_capacity(rows.iter().map(|r| r.1.len() + 1).sum::<usize>() + 64);
    body.push_str("{\"events\":[");
    for (i, (_, json)) in rows.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(json);
    }
    body.push_str("],\"next_cursor\":");
    body.push_str(&serde_json::Value::String(next).to_string());
    if reset {
        body.push_str(",\"reset\":true");
    }
    body.push_str(&format!(",\"has_more\":{has_more}}}"));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let (count, last) = (
        state.storage.count().await,
        state.storage.last_received_ms().await,
    );
    match (count, last) {
        (Ok(n), Ok(last)) => {
            let now_ms = chrono::Utc::now().timestamp_millis();
            let age = last.map(|ms| (now_ms.saturating_sub(ms)).max(0) as f64 / 1000.0);
            let stores = state.metrics.store_report(now_ms);
            let reason = degraded_reason(&stores);
            let meta = state.meta_side.report(&state.storage, now_ms).await;
            axum::Json(serde_json::json!({
                "status": if reason.is_some() { "degraded" } else { "ok" },
                "reason": reason,
                "events": n,
                "last_event_at_ms": last,
                "last_event_age_secs": age,
                "bad_signatures_last_hour": state.metrics.bad_signatures_last_hour(),
                "store_failures_last_15_min": stores.failures_recent,
                "last_store_failure_at_ms": stores.last_failure.as_ref().map(|f| f.0),
                "last_store_ok_at_ms": stores.last_ok_ms,
                "meta_verified_at_ms": meta.verified_at_ms,
                "bad_verify_token_at_ms": meta.bad_token_at_ms,
                "bad_verify_tokens_last_hour": meta.bad_tokens_last_hour,
            }))
            .into_response()
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "health check failed");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// A storage error as `/healthz` shows it to anyone: the cause, without the
/// database's user, host or name (they stay in the log).
fn public_cause(e: &RelayError) -> String {
    match e {
        RelayError::Postgres(PgError::Db { message, .. }) => format!("PostgreSQL: {message}"),
        RelayError::Postgres(_) => "PostgreSQL failed (see the relay's log)".into(),
        RelayError::Store(e) => e.to_string(),
        _ => "the storage failed".into(),
    }
}

/// Why `/healthz` says "degraded": webhook stores failed in the last
/// [`metrics::STORE_FAILURE_MINUTES`]; `None` when none did.
fn degraded_reason(stores: &metrics::StoreReport) -> Option<String> {
    if stores.failures_recent == 0 {
        return None;
    }
    let (at_ms, error) = stores.last_failure.as_ref()?;
    let at = chrono::DateTime::from_timestamp_millis(*at_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    Some(format!(
        "{} webhook deliveries could not be stored in the last {} min (the last at {at}: {error})",
        stores.failures_recent,
        metrics::STORE_FAILURE_MINUTES
    ))
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    let last = state.storage.last_received_ms().await.ok().flatten();
    let mut text = state.metrics.render(last, state.forward_depth());
    state.conversions.render(&mut text);
    let now_ms = chrono::Utc::now().timestamp_millis();
    (state.meta_side.report(&state.storage, now_ms).await).render(&mut text);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Stores already-parsed referrals, then conversions, in a relay database,
/// as if they had arrived (for migrations from another backend, and for
/// benchmarks). Returns how many were new.
pub fn import_events(
    data: &std::path::Path,
    events: &[crate::model::ReferralEvent],
    conversions: &[crate::model::ConversionEvent],
) -> Result<usize, RelayError> {
    let mut conn = db::open(data)?;
    Ok(db::insert(&mut conn, events)? + db::insert_conversions(&mut conn, conversions)?)
}

/// The relay's routes over an opened database.
async fn router(
    config: RelayConfig,
    options: &RelayOptions,
    metrics: Arc<Metrics>,
) -> Result<Router, RelayError> {
    config.check()?;
    let storage = Storage::open(&config, options).await?;
    let forward = match &config.forward {
        Some(url) => Some(spawn_forwarder(url, metrics.clone())?),
        None => None,
    };
    let bodies = body::BodyBudget::new(
        options.body_memory_bytes,
        Duration::from_secs(options.body_timeout_secs.max(1)),
    );
    let conversions = conversions::Conversions::start(options.conversions.clone())?;
    let state = Arc::new(AppState {
        config,
        storage,
        metrics,
        forward,
        bodies,
        conversions,
        meta_side: meta_side::MetaSide::default(),
    });
    Ok(Router::new()
        .route("/webhook", get(verify).post(receive))
        .route("/v1/conversions", post(conversions::receive))
        .route("/v1/referrals", get(referrals))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .with_state(state))
}

/// Passes webhooks on to an existing bot in the background, so a slow or
/// failing bot never delays the relay's own answer to Meta.
fn spawn_forwarder(url: &str, metrics: Arc<Metrics>) -> Result<ForwardQueue, RelayError> {
    let refuse = |why: String| {
        RelayError::Invalid(ValidationError::new(
            "forward",
            &redact_url(url),
            format!("use the http:// or https:// URL of your bot ({why})"),
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
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Bytes, Option<String>)>(FORWARD_QUEUE);
    tokio::spawn(async move {
        while let Some((body, signature)) = rx.recv().await {
            let mut req = client
                .post(parsed.clone())
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
            if let Some(sig) = signature {
                req = req.header(SIGNATURE_HEADER, sig);
            }
            let failed = match req.send().await {
                Ok(resp) if resp.status().is_success() => false,
                Ok(resp) => {
                    tracing::warn!(status = %resp.status(), "forwarded webhook refused by the bot");
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e.without_url(), "cannot forward webhook to the bot");
                    true
                }
            };
            if failed {
                metrics
                    .forward_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    Ok(tx)
}

/// Binds `addr` (`host:port`) for [`serve_with`], with a listen backlog deep
/// enough that a flood of connects does not drop real clients' SYNs.
pub async fn bind_listener(addr: &str) -> Result<tokio::net::TcpListener, RelayError> {
    let listen_error = |source| RelayError::Listen {
        source,
        addr: addr.to_string(),
    };
    let mut last = None;
    for candidate in tokio::net::lookup_host(addr).await.map_err(listen_error)? {
        match server::bind(candidate) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(listen_error(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the name has no address")
    })))
}

/// Serves on `listener` with default options until `shutdown` resolves.
pub async fn serve(
    config: RelayConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), RelayError> {
    serve_with(config, RelayOptions::default(), listener, shutdown).await
}

/// Serves on `listener` until `shutdown` resolves; requests in flight finish,
/// so every acknowledged event is committed. The limits of `options` apply
/// (see `server.rs`): header, body and request deadlines, the connection caps
/// with shedding, and the budget of body bytes.
pub async fn serve_with(
    config: RelayConfig,
    options: RelayOptions,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), RelayError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let metrics = Arc::new(Metrics::default());
    let limits = server::Limits::new(&options);
    let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    metrics.connections_limit.store(
        gauge(options.max_connections.max(1)),
        std::sync::atomic::Ordering::SeqCst,
    );
    metrics.connections_per_ip_limit.store(
        gauge(options.max_connections_per_ip),
        std::sync::atomic::Ordering::SeqCst,
    );
    // Certificate files and ACME settings are checked before the storage opens.
    let secure = match &options.tls {
        Some(tls) => Some(https::Https::prepare(tls).await?),
        None => None,
    };
    let app = router(config, &options, metrics.clone()).await?;
    tracing::info!(%addr, "relay listening");
    match secure {
        Some(secure) => {
            secure
                .serve_both(listener, app, limits, metrics, shutdown)
                .await
        }
        None => {
            server::accept_loop(listener, None, app, limits, metrics, shutdown).await;
            Ok(())
        }
    }
}

/// A relay running on its own thread, for tests, demos and `simulate`.
pub struct RelayHandle {
    /// The bound address.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), RelayError>>>,
}

impl RelayHandle {
    /// Base URL, e.g. `http://127.0.0.1:43121`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops gracefully and waits until the server is down.
    pub fn stop(mut self) -> Result<(), RelayError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), RelayError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(RelayError::Forward("relay thread panicked".into())),
            None => Ok(()),
        }
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Starts a SQLite relay on `addr` (port 0 picks a free one) on a thread of its own.
pub fn start(config: RelayConfig, addr: SocketAddr) -> Result<RelayHandle, RelayError> {
    start_with(config, RelayOptions::default(), addr)
}

/// Starts a relay with `options` on `addr` on a thread of its own.
pub fn start_with(
    config: RelayConfig,
    options: RelayOptions,
    addr: SocketAddr,
) -> Result<RelayHandle, RelayError> {
    config.check()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| RelayError::Listen {
            source,
            addr: addr.to_string(),
        })?;
    let listen_error = |source| RelayError::Listen {
        source,
        addr: addr.to_string(),
    };
    let listener = runtime
        .block_on(async { server::bind(addr) })
        .map_err(listen_error)?;
    let bound = listener.local_addr().map_err(listen_error)?;
    // Open a SQLite database before returning, so a bad path fails here.
    if options.database.is_none() {
        drop(db::open(&config.data)?);
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("refboard-relay".into())
        .spawn(move || {
            runtime.block_on(serve_with(config, options, listener, async move {
                let _ = stop_rx.await;
            }))
        })
        .map_err(|source| RelayError::Listen {
            source,
            addr: addr.to_string(),
        })?;
    Ok(RelayHandle {
        addr: bound,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}
