//! `refboard relay`: the bot-backend side. Receives Meta's signed webhooks,
//! keeps the referral events, and serves them over the pull API described in
//! `docs/sync-protocol.md`.
//!
//! Secrets and raw PSIDs are never logged; senders are replaced by a keyed
//! hash before anything is stored.

mod db;
mod init;
mod metrics;
mod pg;

pub use init::{ENV_FILE, InitError, init_env_file};
#[doc(hidden)]
pub use pg::QUERIES as PG_QUERIES;
pub use pg::{DATABASE_FIELD, PG_SCHEMA_VERSION, PgError, redact_url};

use crate::messenger::{SIGNATURE_HEADER, parse_webhook_at, verify_signature};
use crate::model::ValidationError;
use crate::store::StoreError;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
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
/// How long graceful shutdown waits for connections to finish.
const SHUTDOWN_GRACE_SECS: u64 = 30;

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

/// Where events live beyond the default SQLite file, and the HTTP limits.
#[derive(Clone)]
pub struct RelayOptions {
    /// PostgreSQL URL; `None` keeps the SQLite file of [`RelayConfig::data`].
    pub database: Option<String>,
    /// A connection that has not sent its request headers within this many
    /// seconds is closed (slow-header attacks, idle keep-alive).
    pub header_timeout_secs: u64,
    /// Most connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            database: None,
            header_timeout_secs: 10,
            max_connections: 1024,
        }
    }
}

impl std::fmt::Debug for RelayOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayOptions")
            .field("database", &self.database.as_deref().map(redact_url))
            .field("header_timeout_secs", &self.header_timeout_secs)
            .field("max_connections", &self.max_connections)
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
                    .map_err(|e| StoreError::Conflict(format!("open task failed: {e}")))??;
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

    async fn insert(&self, events: Vec<crate::model::ReferralEvent>) -> Result<usize, RelayError> {
        match self {
            Storage::Sqlite(s) => Ok(s.insert(events).await?),
            Storage::Postgres(p) => Ok(p.insert(&events).await?),
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

/// Reads the body up to the limit; `None` when it is larger.
async fn read_body(body: Body) -> Result<Bytes, bool> {
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => Ok(b),
        Err(e) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(s) = source {
                if s.is::<http_body_util::LengthLimitError>() {
                    return Err(true);
                }
                source = s.source();
            }
            Err(false)
        }
    }
}

async fn receive(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(true) => {
            state.metrics.count(Outcome::TooLarge);
            tracing::warn!(limit = MAX_BODY_BYTES, "webhook body too large");
            return json_error(StatusCode::PAYLOAD_TOO_LARGE, "body larger than 1 MiB");
        }
        Err(false) => {
            state.metrics.count(Outcome::Malformed);
            return json_error(StatusCode::BAD_REQUEST, "the body could not be read");
        }
    };
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
    let events: Vec<_> = referrals
        .into_iter()
        .map(|r| r.into_event(state.storage.hash_key(), now_ms))
        .collect();
    let count = events.len();
    let inserted = if events.is_empty() {
        0
    } else {
        match state.storage.insert(events).await {
            Ok(n) => n,
            Err(e) => {
                state.metrics.count(Outcome::Failed);
                tracing::error!(error = %e, "cannot store referrals");
                return json_error(StatusCode::INTERNAL_SERVER_ERROR, "cannot store referrals");
            }
        }
    };
    state.metrics.count(match (count, inserted) {
        (0, _) => Outcome::Ignored,
        (_, 0) => Outcome::Duplicate,
        _ => Outcome::Stored,
    });
    tracing::info!(
        referrals = count,
        new = inserted,
        refused = refused.len(),
        "webhook stored"
    );
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
            axum::Json(serde_json::json!({
                "status": "ok",
                "events": n,
                "last_event_at_ms": last,
                "last_event_age_secs": age,
                "bad_signatures_last_hour": state.metrics.bad_signatures_last_hour(),
            }))
            .into_response()
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "health check failed");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    let last = state.storage.last_received_ms().await.ok().flatten();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(last, state.forward_depth()),
    )
        .into_response()
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
    let state = Arc::new(AppState {
        config,
        storage,
        metrics,
        forward,
    });
    Ok(Router::new()
        .route("/webhook", get(verify).post(receive))
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

/// Serves on `listener` with default options until `shutdown` resolves.
pub async fn serve(
    config: RelayConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), RelayError> {
    serve_with(config, RelayOptions::default(), listener, shutdown).await
}

/// Serves on `listener` until `shutdown` resolves; requests in flight finish,
/// so every acknowledged event is committed. Each connection must send its
/// request headers within `header_timeout_secs`, and at most
/// `max_connections` are served at once.
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
    let limit = options.max_connections.max(1);
    metrics.connections_limit.store(
        i64::try_from(limit).unwrap_or(i64::MAX),
        std::sync::atomic::Ordering::SeqCst,
    );
    let app = router(config, &options, metrics.clone()).await?;
    tracing::info!(%addr, "relay listening");
    accept_loop(listener, app, &options, metrics, limit, shutdown).await;
    Ok(())
}

/// Accepts connections while a slot is free; each gets hyper's header-read timeout.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Router,
    options: &RelayOptions,
    metrics: Arc<Metrics>,
    limit: usize,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = Arc::new(tokio::sync::Semaphore::new(limit));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(options.header_timeout_secs.max(1)));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = &mut shutdown => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        metrics.connection_opened();
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let _ = conn.await;
            metrics.connection_closed();
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down; finishing requests in flight");
    let _ = tokio::time::timeout(
        Duration::from_secs(SHUTDOWN_GRACE_SECS),
        graceful.shutdown(),
    )
    .await;
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
    // Open a SQLite database before returning, so a bad path fails here.
    if options.database.is_none() {
        drop(db::open(&config.data)?);
    }
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
                serve_with(config, options, listener, async move {
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
