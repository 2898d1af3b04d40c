//! A small client for Meta's Graph API, as the setup doctor uses it.
//!
//! The base URL and version are settings (defaults [`DEFAULT_BASE_URL`] and
//! [`DEFAULT_VERSION`]), so tests point them at a stand-in on 127.0.0.1.
//! The page access token travels only in the `Authorization: Bearer` header
//! (Meta accepts it there as well as in `access_token`), so it is never in a
//! URL, and every message kept from an answer has it redacted. Each request
//! comes back with the [`Call`] it made (method, path and query), which the
//! doctor shows to the user.

mod error;

pub use error::{Call, DEFAULT_RETRY_MINS, ErrorBody, GraphError, classify};

use reqwest::blocking::Client;
use serde_json::Value;
use std::io::Read;
use std::time::Duration;

/// Meta's Graph API host (kept with the settings it is the default of).
pub use crate::store::DEFAULT_GRAPH_BASE_URL as DEFAULT_BASE_URL;
/// The Graph API version refboard was checked against.
pub use crate::store::DEFAULT_GRAPH_VERSION as DEFAULT_VERSION;
/// How long one call may take.
pub const DEFAULT_TIMEOUT_SECS: u64 = 20;
/// Largest answer read; Graph answers to these calls are a few KiB.
const MAX_BODY_BYTES: u64 = 1 << 20;

/// Where the Graph API is and how long to wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphConfig {
    /// e.g. `https://graph.facebook.com` (no trailing slash needed).
    pub base_url: String,
    /// e.g. `v26.0`.
    pub version: String,
    /// Time limit per call.
    pub timeout_secs: u64,
}

impl Default for GraphConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            version: DEFAULT_VERSION.into(),
            timeout_secs: DEFAULT_TIMEOUT_SECS,
        }
    }
}

/// Checks a Graph API version setting: `v` then digits, a dot, digits.
pub fn validate_version(v: &str) -> Result<String, crate::model::ValidationError> {
    let t = v.trim();
    let ok = t
        .strip_prefix('v')
        .and_then(|r| r.split_once('.'))
        .is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.len() <= 3
                && b.len() <= 3
                && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
        });
    if ok {
        Ok(t.to_string())
    } else {
        Err(crate::model::ValidationError::new(
            "graph-version",
            v,
            "a Graph API version looks like v26.0",
        ))
    }
}

/// Checks a page access token before it is kept or sent: not blank, no
/// spaces or control characters (it goes into an HTTP header). The value is
/// never echoed.
pub fn validate_page_token(token: &str) -> Result<String, crate::model::ValidationError> {
    let t = token.trim();
    if t.is_empty() {
        return Err(crate::model::ValidationError::new(
            "page-token",
            "",
            "the page access token cannot be blank",
        ));
    }
    if t.chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return Err(crate::model::ValidationError::new(
            "page-token",
            "(hidden)",
            "a page access token is one line of letters and digits",
        ));
    }
    Ok(t.to_string())
}

/// One call's outcome, with the call itself for showing.
#[derive(Debug, Clone)]
pub struct Answer {
    /// What was sent (no token).
    pub call: Call,
    /// Meta's JSON, or the error in plain words.
    pub result: Result<Value, GraphError>,
}

/// A Graph API client bound to one page access token.
pub struct GraphClient {
    http: Client,
    config: GraphConfig,
    token: String,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("config", &self.config)
            .field("token", &"(hidden)")
            .finish()
    }
}

impl GraphClient {
    /// A client for `config` that sends `token` in a header.
    pub fn new(config: &GraphConfig, token: &str) -> Result<Self, GraphError> {
        let http = Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(config.timeout_secs.clamp(1, 10)))
            .user_agent(concat!("refboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GraphError::Unreachable {
                url: config.base_url.clone(),
                message: e.to_string(),
            })?;
        Ok(Self {
            http,
            config: config.clone(),
            token: token.to_string(),
        })
    }

    /// The call `method path?query` would make, for showing before it is sent.
    pub fn call_for(
        &self,
        method: &'static str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Call {
        let mut shown = format!("/{}/{}", self.config.version, path.trim_start_matches('/'));
        if !query.is_empty() {
            let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            shown.push('?');
            shown.push_str(&q.join("&"));
        }
        Call {
            method,
            path: shown,
            body: body.map(Value::to_string),
        }
    }

    /// `GET path?query`; `needs` names the permission the call is documented to need.
    pub fn get(&self, path: &str, query: &[(&str, &str)], needs: &str) -> Answer {
        let call = self.call_for("GET", path, query, None);
        let result = self.send(&call, None, needs);
        Answer { call, result }
    }

    /// `POST path?query` with a JSON body.
    pub fn post(&self, path: &str, query: &[(&str, &str)], body: &Value, needs: &str) -> Answer {
        let call = self.call_for("POST", path, query, Some(body));
        let result = self.send(&call, Some(body), needs);
        Answer { call, result }
    }

    fn send(&self, call: &Call, body: Option<&Value>, needs: &str) -> Result<Value, GraphError> {
        let base = self.config.base_url.trim_end_matches('/');
        // The shown path is the real one: the query has no secret in it.
        let url = format!("{base}{}", call.path);
        let req = match body {
            Some(b) => self.http.post(&url).json(b),
            None => self.http.get(&url),
        };
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .map_err(|e| self.transport(&e))?;
        let status = resp.status();
        let retry = error::retry_after_from_headers(resp.headers());
        let mut text = String::new();
        resp.take(MAX_BODY_BYTES)
            .read_to_string(&mut text)
            .map_err(|e| GraphError::NotJson {
                status: status.as_u16(),
                snippet: self.redact(&e.to_string()),
            })?;
        let Ok(json) = serde_json::from_str::<Value>(&text) else {
            return Err(GraphError::NotJson {
                status: status.as_u16(),
                snippet: snippet(&self.redact(&text)),
            });
        };
        if let Some(err) = json.get("error") {
            let mut parsed: ErrorBody = serde_json::from_value(err.clone()).unwrap_or_default();
            parsed.message = self.redact(&parsed.message);
            return Err(classify(parsed, needs, retry));
        }
        if !status.is_success() {
            return Err(GraphError::Other {
                code: i64::from(status.as_u16()),
                message: format!("HTTP {status} without an error object"),
                fbtrace_id: None,
            });
        }
        Ok(json)
    }

    fn transport(&self, e: &reqwest::Error) -> GraphError {
        if e.is_timeout() {
            return GraphError::Timeout {
                secs: self.config.timeout_secs,
            };
        }
        let mut message = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message = format!("{message}: {s}");
            source = s.source();
        }
        GraphError::Unreachable {
            url: self.config.base_url.clone(),
            message: self.redact(&message),
        }
    }

    /// `text` with the token replaced, for anything kept or shown.
    fn redact(&self, text: &str) -> String {
        if self.token.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.token, "(token)")
        }
    }
}

/// The first 80 characters of a body, one line, with no character that
/// acts on a terminal.
fn snippet(text: &str) -> String {
    let one: String = text
        .chars()
        .map(|c| {
            if c.is_control() || crate::model::acts_on_terminal(c) {
                ' '
            } else {
                c
            }
        })
        .take(80)
        .collect();
    let one = one.trim().to_string();
    if one.is_empty() {
        "an empty body".into()
    } else {
        format!("{one:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_tokens_are_checked() {
        assert_eq!(validate_version(" v26.0 ").unwrap(), "v26.0");
        for bad in ["26.0", "v26", "vx.0", "v26.0/../x", ""] {
            assert!(validate_version(bad).is_err(), "{bad}");
        }
        assert!(validate_page_token("EAAB x").is_err());
        let e = validate_page_token("EAAB\u{7}x").unwrap_err().to_string();
        assert!(!e.contains("EAAB"), "the token is never echoed: {e}");
        assert_eq!(validate_page_token(" EAABx\n").unwrap(), "EAABx");
    }

    #[test]
    fn shown_calls_never_hold_the_token() {
        let c = GraphClient::new(&GraphConfig::default(), "SECRETTOKEN").unwrap();
        let call = c.call_for("GET", "/me", &[("fields", "id,name")], None);
        assert_eq!(call.to_string(), "GET /v26.0/me?fields=id,name");
        assert!(!format!("{c:?}").contains("SECRETTOKEN"));
    }
}
