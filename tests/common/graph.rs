//! A stand-in for Meta's Graph API on 127.0.0.1 (random port), answering
//! the doctor's calls in the JSON shapes of Meta's reference and recording
//! every call it receives, so tests assert what a check or a fix sent.
//! Also a stand-in relay `/healthz` with chosen fields.
//!
//! Every shape below is copied from the Meta page cited above it.

use super::backend::{Server, serve};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The page the stand-in's good token belongs to.
pub const PAGE_ID: &str = "104729178032417";
/// Its username.
pub const USERNAME: &str = "JaspersMarket";
/// The token the stand-in accepts.
pub const TOKEN: &str = "EAAGstandinPageToken0123456789";
/// The linked Instagram account's id.
pub const IG_ID: &str = "17841400008460056";

/// One call the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET` or `POST`.
    pub method: String,
    /// The path after the version, e.g. `me/messenger_profile`.
    pub path: String,
    /// The version segment, e.g. `v26.0`.
    pub version: String,
    /// The raw query.
    pub query: String,
    /// The body (JSON for POSTs).
    pub body: String,
    /// The `Authorization` header.
    pub authorization: Option<String>,
}

/// A forced answer for one `METHOD path`.
#[derive(Debug, Clone)]
pub enum Forced {
    /// An HTTP status with a JSON body (Meta's error object).
    Json(u16, Value),
    /// An HTTP status with a body that is not JSON.
    Text(u16, String),
    /// No answer for this many seconds (client timeouts).
    Hang(u64),
    /// A rate-limit error with Meta's usage header.
    RateLimited(i64, u64),
}

/// The stand-in's world: one page, its apps and profile, forced failures.
#[derive(Debug)]
pub struct GraphState {
    /// The token that works.
    pub token: String,
    /// The page `/me` answers with: (id, name).
    pub me: (String, String),
    /// Page nodes by id (`username`, `name`, `link`, `instagram_business_account`).
    pub pages: HashMap<String, Value>,
    /// Apps subscribed to the page (`data` entries of subscribed_apps).
    pub apps: Vec<Value>,
    /// The Messenger profile's Get Started payload.
    pub get_started: Option<String>,
    /// Messenger ice breakers (new format entries).
    pub ice_breakers: Vec<Value>,
    /// Instagram ice breakers.
    pub ig_ice_breakers: Vec<Value>,
    /// How many apps one page of `subscribed_apps` holds.
    pub app_page_size: usize,
    /// Forced answers by `METHOD path`.
    pub forced: HashMap<String, Forced>,
    /// Every call received, in order.
    pub calls: Vec<Recorded>,
}

/// Meta's error object (developers.facebook.com/docs/graph-api/guides/error-handling):
/// `{"error":{"message","type","code","error_subcode","fbtrace_id"}}`.
pub fn error(code: i64, subcode: Option<i64>, kind: &str, message: &str) -> Value {
    let mut e =
        json!({"message": message, "type": kind, "code": code, "fbtrace_id": "EJplcsCHuLu"});
    if let Some(s) = subcode {
        e["error_subcode"] = json!(s);
    }
    json!({ "error": e })
}

impl GraphState {
    /// A page that is set up right for referrals, with no Instagram account.
    pub fn healthy() -> Self {
        let mut pages = HashMap::new();
        // https://developers.facebook.com/docs/graph-api/reference/page/ (fields id, name, username, link)
        pages.insert(
            PAGE_ID.to_string(),
            json!({"id": PAGE_ID, "name": "Jasper's Market", "username": USERNAME,
                   "link": format!("https://www.facebook.com/{USERNAME}")}),
        );
        Self {
            token: TOKEN.into(),
            me: (PAGE_ID.into(), "Jasper's Market".into()),
            pages,
            // https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps/
            // (Reading: a `data` array of apps with `category`, `link`, `name`, `id`, `subscribed_fields`)
            apps: vec![
                json!({"category": "Business", "link": "https://relay.example.com/",
                "name": "refboard relay", "id": "738495012345678",
                "subscribed_fields": ["messages", "messaging_postbacks", "messaging_referrals"]}),
            ],
            get_started: Some("GET_STARTED".into()),
            ice_breakers: Vec::new(),
            ig_ice_breakers: Vec::new(),
            app_page_size: 25,
            forced: HashMap::new(),
            calls: Vec::new(),
        }
    }

    /// A page with nothing set: no app subscribed, no Get Started.
    pub fn bare() -> Self {
        let mut s = Self::healthy();
        s.apps.clear();
        s.get_started = None;
        s
    }

    /// Links an Instagram account to the page.
    pub fn with_instagram(mut self) -> Self {
        if let Some(p) = self.pages.get_mut(PAGE_ID) {
            p["instagram_business_account"] = json!({"id": IG_ID, "username": "jaspersmarket"});
        }
        self
    }

    /// Forces `method path` to answer `f`.
    pub fn force(mut self, method_path: &str, f: Forced) -> Self {
        self.forced.insert(method_path.into(), f);
        self
    }
}

/// A running stand-in.
pub struct GraphStandIn {
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its state, shared with the handler.
    pub state: Arc<Mutex<GraphState>>,
    _server: Server,
}

impl GraphStandIn {
    /// Starts the stand-in on a free loopback port.
    pub fn start(state: GraphState) -> Self {
        let state = Arc::new(Mutex::new(state));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = serve(app);
        Self {
            url: server.url.clone(),
            state,
            _server: server,
        }
    }

    /// Every call received so far.
    pub fn calls(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().calls.clone()
    }

    /// The POSTs received so far.
    pub fn posts(&self) -> Vec<Recorded> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "POST")
            .collect()
    }

    /// Changes the state.
    pub fn with<R>(&self, f: impl FnOnce(&mut GraphState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }
}

async fn handle(
    State(state): State<Arc<Mutex<GraphState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let full = uri.path().trim_start_matches('/');
    let (version, path) = full.split_once('/').unwrap_or((full, ""));
    let rec = Recorded {
        method: method.to_string(),
        path: path.to_string(),
        version: version.to_string(),
        query: uri.query().unwrap_or("").to_string(),
        body: String::from_utf8_lossy(&body).into_owned(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let forced = {
        let mut s = state.lock().unwrap();
        s.calls.push(rec.clone());
        s.forced
            .get(&format!("{} {}", rec.method, rec.path))
            .cloned()
    };
    match forced {
        Some(Forced::Hang(secs)) => {
            tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
            return (StatusCode::OK, "{}").into_response();
        }
        Some(Forced::Json(status, v)) => return json_answer(status, v),
        Some(Forced::Text(status, t)) => {
            return (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", "text/html")],
                t,
            )
                .into_response();
        }
        Some(Forced::RateLimited(code, mins)) => {
            let usage = json!({"112233": [{"type": "pages", "call_count": 100, "total_cputime": 25,
                "total_time": 25, "estimated_time_to_regain_access": mins}]});
            let mut r = json_answer(
                400,
                error(
                    code,
                    None,
                    "OAuthException",
                    "(#4) Application request limit reached",
                ),
            );
            r.headers_mut().insert(
                "x-business-use-case-usage",
                usage.to_string().parse().unwrap(),
            );
            return r;
        }
        None => {}
    }
    let mut s = state.lock().unwrap();
    if rec.authorization.as_deref() != Some(&format!("Bearer {}", s.token)) {
        return json_answer(
            400,
            error(
                190,
                None,
                "OAuthException",
                "Invalid OAuth access token - Cannot parse access token",
            ),
        );
    }
    route(&mut s, &rec)
}

fn json_answer(status: u16, v: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn query_value(rec: &Recorded, name: &str) -> Option<String> {
    rec.query
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")).map(str::to_string))
}

fn query_has(rec: &Recorded, pair: &str) -> bool {
    rec.query.split('&').any(|p| p == pair)
}

fn route(s: &mut GraphState, rec: &Recorded) -> Response {
    let parts: Vec<&str> = rec.path.split('/').collect();
    match (rec.method.as_str(), parts.as_slice()) {
        ("GET", ["me"]) => json_answer(200, json!({"id": s.me.0, "name": s.me.1})),
        ("GET", ["me", "messenger_profile"]) => json_answer(200, profile(s, rec)),
        ("POST", ["me", "messenger_profile"]) => {
            let body: Value = serde_json::from_str(&rec.body).unwrap_or(Value::Null);
            if let Some(p) = body["get_started"]["payload"].as_str() {
                s.get_started = Some(p.to_string());
            }
            // https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api
            // (a successful POST answers {"result": "success"})
            json_answer(200, json!({"result": "success"}))
        }
        ("GET", [id]) => match s.pages.get(*id) {
            Some(node) => json_answer(200, node.clone()),
            None => missing_object(id),
        },
        ("GET", [id, "subscribed_apps"]) if s.pages.contains_key(*id) => {
            // https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps/
            // ({"data": [], "paging": {}}; paging with cursors as on every edge:
            // https://developers.facebook.com/docs/graph-api/results)
            // Pages of `app_page_size` apps; `next` (which Meta fills with a
            // URL holding the access token) only while more remain.
            let start: usize = query_value(rec, "after")
                .and_then(|c| c.strip_prefix("QVFIUm").and_then(|n| n.parse().ok()))
                .unwrap_or(0);
            let end = (start + s.app_page_size).min(s.apps.len());
            let mut paging = json!({"cursors": {"before": format!("QVFIUm{start}"), "after": format!("QVFIUm{end}")}});
            if end < s.apps.len() {
                paging["next"] = json!(format!(
                    "https://graph.facebook.com/v26.0/{id}/subscribed_apps?access_token=EAA-in-next&limit={}&after=QVFIUm{end}",
                    s.app_page_size
                ));
            }
            json_answer(
                200,
                json!({"data": s.apps[start.min(end)..end], "paging": paging}),
            )
        }
        ("POST", [id, "subscribed_apps"]) if s.pages.contains_key(*id) => {
            let body: Value = serde_json::from_str(&rec.body).unwrap_or(Value::Null);
            let fields: Vec<Value> = match &body["subscribed_fields"] {
                Value::String(f) => f.split(',').map(|x| json!(x.trim())).collect(),
                Value::Array(a) => a.clone(),
                _ => {
                    return json_answer(
                        400,
                        error(
                            100,
                            None,
                            "OAuthException",
                            "(#100) The parameter subscribed_fields is required",
                        ),
                    );
                }
            };
            // subscribed_fields replaces the app's whole set, as Meta does.
            if s.apps.is_empty() {
                s.apps.push(
                    json!({"category": "Business", "link": "https://relay.example.com/",
                    "name": "refboard relay", "id": "738495012345678", "subscribed_fields": []}),
                );
            }
            s.apps[0]["subscribed_fields"] = Value::Array(fields);
            // https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps/
            // (Creating: {"success": true})
            json_answer(200, json!({"success": true}))
        }
        (_, [id, ..]) => missing_object(id),
        _ => json_answer(
            400,
            error(100, None, "OAuthException", "(#100) Unknown path"),
        ),
    }
}

/// Meta's answer for an id that does not exist (code 100, subcode 33;
/// developers.facebook.com/docs/graph-api/guides/error-handling).
fn missing_object(id: &str) -> Response {
    json_answer(
        400,
        error(
            100,
            Some(33),
            "GraphMethodException",
            &format!(
                "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
            ),
        ),
    )
}

/// `GET /me/messenger_profile`: the properties asked for, in `data[0]`
/// (https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api);
/// with `fields=ice_breakers` alone, the ice breakers' own entries
/// (https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api/ice-breakers:
/// {"data":[{"call_to_actions":[{"question","payload"}],"locale":"default"}]}).
fn profile(s: &GraphState, rec: &Recorded) -> Value {
    let instagram = query_has(rec, "platform=instagram");
    let breakers = if instagram {
        &s.ig_ice_breakers
    } else {
        &s.ice_breakers
    };
    if query_has(rec, "fields=ice_breakers") {
        return json!({ "data": breakers });
    }
    let mut entry = json!({});
    if let Some(p) = &s.get_started {
        entry["get_started"] = json!({"payload": p});
    }
    if !breakers.is_empty() {
        entry["ice_breakers"] = json!(breakers);
    }
    if entry.as_object().is_some_and(|o| o.is_empty()) {
        return json!({"data": []});
    }
    json!({ "data": [entry] })
}

/// One new-format ice breaker entry.
pub fn ice_breaker() -> Value {
    json!({"call_to_actions": [{"question": "What are your opening hours?", "payload": "HOURS"}], "locale": "default"})
}

/// A stand-in relay whose `/healthz` answers `body`.
pub fn health(body: Value) -> Server {
    let app = Router::new().route(
        "/healthz",
        axum::routing::get(move || {
            let b = body.clone();
            async move { json_answer(200, b) }
        }),
    );
    serve(app)
}

/// A `/healthz` answering `text` as it is (for answers no relay gives).
pub fn health_raw(text: String) -> Server {
    let app = Router::new().route(
        "/healthz",
        axum::routing::get(move || {
            let t = text.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], t) }
        }),
    );
    serve(app)
}

/// A `/healthz` body of a relay Meta verified, with a recent event and the
/// new optional fields.
pub fn healthy_relay() -> Value {
    let now = chrono::Utc::now().timestamp_millis();
    json!({"status": "ok", "events": 12, "last_event_at_ms": now - 60_000, "last_event_age_secs": 60,
        "bad_signatures_last_hour": 0, "meta_verified_at_ms": now - 3_600_000,
        "bad_verify_token_at_ms": null, "bad_verify_tokens_last_hour": 0})
}
