//! `refboard relay`: the bot-backend side. Receives Meta's signed webhooks,
//! keeps the referral events, and serves them over the pull API described in
//! `docs/sync-protocol.md`.
//!
//! Secrets and raw PSIDs are never logged; senders are replaced by a keyed
//! hash before anything is stored.

mod db;

use crate::messenger::{SIGNATURE_HEADER, parse_webhook_at, verify_signature};
use crate::store::StoreError;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hmac::Mac;
use rusqlite::Connection;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Largest webhook body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Default and largest page size of `GET /v1/referrals`.
pub const DEFAULT_LIMIT: usize = 1000;
/// Largest page size of `GET /v1/referrals`.
pub const MAX_LIMIT: usize = 5000;
const FORWARD_QUEUE: usize = 1024;
const FORWARD_TIMEOUT_SECS: u64 = 10;

/// What can stop the relay from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// A required secret is missing.
    #[error("missing {0}: pass it as a flag or set it in the environment")]
    MissingSecret(&'static str),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address could not be bound or served.
    #[error("cannot listen ({source}): {addr}")]
    Listen {
        /// Underlying error.
        source: std::io::Error,
        /// The address.
        addr: String,
    },
    /// The forward URL is not usable.
    #[error("invalid forward URL ({0})")]
    Forward(String),
}

/// How the relay runs.
#[derive(Clone)]
pub struct RelayConfig {
    /// SQLite file for events.
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
            .field("forward", &self.forward)
            .finish_non_exhaustive()
    }
}

impl RelayConfig {
    fn check(&self) -> Result<(), RelayError> {
        for (name, value) in [
            ("--app-secret / REFBOARD_APP_SECRET", &self.app_secret),
            ("--verify-token / REFBOARD_VERIFY_TOKEN", &self.verify_token),
            ("--api-token / REFBOARD_API_TOKEN", &self.api_token),
        ] {
            if value.is_empty() {
                return Err(RelayError::MissingSecret(name));
            }
        }
        Ok(())
    }
}

struct AppState {
    config: RelayConfig,
    hash_key: Vec<u8>,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    forward: Option<tokio::sync::mpsc::Sender<(Bytes, Option<String>)>>,
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

async fn verify(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mode = q.get("hub.mode").map(String::as_str);
    let token = q.get("hub.verify_token").map(String::as_str).unwrap_or("");
    match (mode, q.get("hub.challenge")) {
        (Some("subscribe"), Some(challenge)) if secret_eq(token, &state.config.verify_token) => {
            tracing::info!("webhook verified");
            (StatusCode::OK, challenge.clone()).into_response()
        }
        _ => {
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

async fn receive(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Err(e) = verify_signature(
        state.config.app_secret.as_bytes(),
        &body,
        signature.as_deref(),
    ) {
        tracing::warn!(bytes = body.len(), reason = %e, "webhook refused");
        return json_error(StatusCode::FORBIDDEN, &e.to_string());
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    let referrals = match parse_webhook_at(&body, now_ms) {
        Ok(parsed) => {
            log_refused(&parsed.refused);
            parsed.referrals
        }
        Err(e) => {
            tracing::warn!(bytes = body.len(), reason = %e, "webhook body refused");
            return json_error(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };
    let events: Vec<_> = referrals
        .into_iter()
        .map(|r| r.into_event(&state.hash_key, now_ms))
        .collect();
    let count = events.len();
    let st = state.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let mut conn = st.writer.lock().map_err(|_| {
            StoreError::Internal(crate::model::InternalError::new("writer lock poisoned"))
        })?;
        db::insert(&mut conn, &events)
    })
    .await;
    let inserted = match stored {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot store referrals");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "cannot store referrals");
        }
        Err(e) => {
            tracing::error!(error = %e, "store task failed");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "cannot store referrals");
        }
    };
    tracing::info!(referrals = count, new = inserted, "webhook stored");
    if let Some(tx) = &state.forward
        && tx.try_send((body, signature)).is_err()
    {
        tracing::warn!("forward queue full; this delivery is not forwarded");
    }
    (StatusCode::OK, "EVENT_RECEIVED").into_response()
}

/// Parses a cursor: empty means the beginning.
fn parse_cursor(s: Option<&str>) -> Option<i64> {
    match s {
        None | Some("") => Some(0),
        Some(c) => c.strip_prefix('s')?.parse::<i64>().ok().filter(|n| *n >= 0),
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
    let Some(after) = parse_cursor(q.get("after").map(String::as_str)) else {
        return json_error(StatusCode::BAD_REQUEST, "invalid cursor in \"after\"");
    };
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if n >= 1 => n.min(MAX_LIMIT),
        Some(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "\"limit\" must be a positive whole number",
            );
        }
    };
    let st = state.clone();
    let page = tokio::task::spawn_blocking(move || {
        let conn = st.reader.lock().map_err(|_| {
            StoreError::Internal(crate::model::InternalError::new("reader lock poisoned"))
        })?;
        db::page(&conn, after, limit + 1)
    })
    .await;
    let mut rows = match page {
        Ok(Ok(rows)) => rows,
        _ => return json_error(StatusCode::INTERNAL_SERVER_ERROR, "cannot read referrals"),
    };
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let next = rows.last().map(|r| r.0).unwrap_or(after);
    // Events are stored as JSON, so a page is assembled without re-encoding.
    let mut body = String::with_capacity(rows.iter().map(|r| r.1.len() + 1).sum::<usize>() + 64);
    body.push_str("{\"events\":[");
    for (i, (_, json)) in rows.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(json);
    }
    body.push_str(&format!(
        "],\"next_cursor\":\"s{next}\",\"has_more\":{has_more}}}"
    ));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let st = state.clone();
    let count =
        tokio::task::spawn_blocking(move || st.reader.lock().ok().and_then(|c| db::count(&c).ok()))
            .await
            .ok()
            .flatten();
    match count {
        Some(n) => axum::Json(serde_json::json!({"status": "ok", "events": n})).into_response(),
        None => json_error(StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// Stores already-parsed events in a relay database, as if they had arrived
/// by webhook (for migrations from another backend, and for benchmarks).
/// Returns how many were new.
pub fn import_events(
    data: &std::path::Path,
    events: &[crate::model::ReferralEvent],
) -> Result<usize, RelayError> {
    let mut conn = db::open(data)?;
    Ok(db::insert(&mut conn, events)?)
}

/// The relay's routes over an opened database.
fn router(config: RelayConfig) -> Result<Router, RelayError> {
    config.check()?;
    let writer = db::open(&config.data)?;
    let hash_key = db::hash_key(&writer)?;
    let reader = db::open(&config.data)?;
    let forward = match &config.forward {
        Some(url) => Some(spawn_forwarder(url)?),
        None => None,
    };
    let state = Arc::new(AppState {
        config,
        hash_key,
        writer: Mutex::new(writer),
        reader: Mutex::new(reader),
        forward,
    });
    Ok(Router::new()
        .route("/webhook", get(verify).post(receive))
        .route("/v1/referrals", get(referrals))
        .route("/healthz", get(healthz))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state))
}

/// Passes webhooks on to an existing bot in the background, so a slow or
/// failing bot never delays the relay's own answer to Meta.
fn spawn_forwarder(
    url: &str,
) -> Result<tokio::sync::mpsc::Sender<(Bytes, Option<String>)>, RelayError> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| RelayError::Forward(format!("{e}: {url}")))?;
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
            match req.send().await {
                Ok(resp) if resp.status().is_success() => {}
                Ok(resp) => {
                    tracing::warn!(status = %resp.status(), "forwarded webhook refused by the bot")
                }
                Err(e) => {
                    tracing::warn!(error = %e.without_url(), "cannot forward webhook to the bot")
                }
            }
        }
    });
    Ok(tx)
}

/// Serves on `listener` until `shutdown` resolves; requests in flight finish,
/// so every acknowledged event is committed.
pub async fn serve(
    config: RelayConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), RelayError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let app = router(config)?;
    tracing::info!(%addr, "relay listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| RelayError::Listen { source, addr })
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

/// Starts a relay on `addr` (port 0 picks a free one) on a thread of its own.
pub fn start(config: RelayConfig, addr: SocketAddr) -> Result<RelayHandle, RelayError> {
    config.check()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| RelayError::Listen {
            source,
            addr: addr.to_string(),
        })?;
    let std_listener = std::net::TcpListener::bind(addr).map_err(|source| RelayError::Listen {
        source,
        addr: addr.to_string(),
    })?;
    std_listener
        .set_nonblocking(true)
        .map_err(|source| RelayError::Listen {
            source,
            addr: addr.to_string(),
        })?;
    let bound = std_listener
        .local_addr()
        .map_err(|source| RelayError::Listen {
            source,
            addr: addr.to_string(),
        })?;
    // Open the database before returning, so a bad path fails here.
    drop(db::open(&config.data)?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("refboard-relay".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(std_listener).map_err(|source| {
                        RelayError::Listen {
                            source,
                            addr: bound.to_string(),
                        }
                    })?;
                serve(config, listener, async move {
                    let _ = stop_rx.await;
                })
                .await
            })
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
