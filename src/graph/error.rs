//! Meta's Graph API errors in plain words.
//!
//! Meta answers a failed call with `{"error":{"message","type","code",
//! "error_subcode","fbtrace_id"}}` (developers.facebook.com/docs/graph-api/
//! guides/error-handling). The codes that matter to a page admin are mapped
//! here; each variant's text says what happened and what to do, never the
//! token (the client redacts it from every message it keeps).

use std::fmt;

/// A Graph API call that failed, in the words shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Code 190: the token is expired, revoked or invalid.
    #[error("{}", token_words(*subcode))]
    Token {
        /// `error_subcode`: 463 expired, 460 password changed, others.
        subcode: Option<i64>,
    },
    /// Codes 10 and 200–299: the token lacks a permission.
    #[error(
        "the page access token lacks the {permission} permission; make a new token that grants it (Meta App Dashboard > Graph API Explorer, or your app's login), then save it again"
    )]
    Permission {
        /// The permission's name, from Meta's message or the call's known need.
        permission: String,
        /// Meta's code (10 or 200–299).
        code: i64,
    },
    /// Codes 4, 17, 32 and 613: too many calls.
    #[error(
        "Meta is rate-limiting these calls (code {code}); refboard stopped asking. Try again in about {retry_after_mins} minute(s)"
    )]
    RateLimited {
        /// Meta's code.
        code: i64,
        /// When to try again, from Meta's usage header, else a safe default.
        retry_after_mins: u64,
    },
    /// Code 100: a bad parameter, e.g. an object id that does not exist.
    #[error("Meta refused a parameter: {message}")]
    BadParameter {
        /// Meta's message (the token redacted).
        message: String,
        /// `error_subcode` (33: the object does not exist or cannot be read).
        subcode: Option<i64>,
    },
    /// Any other Graph error.
    #[error("Meta answered with error {code}: {message}{}", trace(.fbtrace_id))]
    Other {
        /// Meta's code.
        code: i64,
        /// Meta's message (the token redacted).
        message: String,
        /// Meta's support id, for a bug report.
        fbtrace_id: Option<String>,
    },
    /// No answer within the time limit.
    #[error("Meta's Graph API did not answer within {secs} s; check the network and try again")]
    Timeout {
        /// The limit.
        secs: u64,
    },
    /// The connection failed.
    #[error("cannot reach Meta's Graph API at {url} ({message}); check the network")]
    Unreachable {
        /// The base URL (no token: it travels in a header).
        url: String,
        /// The cause.
        message: String,
    },
    /// The answer was not JSON (a proxy's page, an outage).
    #[error(
        "Meta's Graph API answered HTTP {status} with something that is not JSON ({snippet}); try again later, or check a proxy between here and Meta"
    )]
    NotJson {
        /// HTTP status.
        status: u16,
        /// The start of the body, made safe to show.
        snippet: String,
    },
    /// JSON without the fields the call needs.
    #[error("Meta's answer lacked what refboard needs ({0})")]
    Shape(String),
}

fn trace(id: &Option<String>) -> String {
    id.as_ref()
        .map(|t| format!(" (fbtrace_id {t})"))
        .unwrap_or_default()
}

fn token_words(subcode: Option<i64>) -> String {
    let why = match subcode {
        Some(463) => "has expired",
        Some(460) => "stopped working because the password of the account that made it changed",
        Some(458) => "was removed: the app is no longer installed for that account",
        Some(464) => "belongs to an account that must log in to Facebook first",
        Some(467) => "is invalid (the account logged out or the token was revoked)",
        _ => "is invalid or was revoked",
    };
    format!("the page access token {why}; make a new one and save it for this page")
}

impl GraphError {
    /// True when the user can fix it by changing their own input (the token,
    /// a permission, a page id); false for the world's failures.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            GraphError::Token { .. }
                | GraphError::Permission { .. }
                | GraphError::BadParameter { .. }
        )
    }

    /// True when Meta said the object (e.g. the page id) does not exist.
    pub fn is_missing_object(&self) -> bool {
        matches!(
            self,
            GraphError::BadParameter {
                subcode: Some(33),
                ..
            }
        ) || matches!(self, GraphError::Other { code: 803, .. })
    }
}

/// The body of Meta's error object.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ErrorBody {
    /// Human-readable description.
    #[serde(default)]
    pub message: String,
    /// e.g. `OAuthException`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Error code.
    #[serde(default)]
    pub code: i64,
    /// Additional detail.
    #[serde(default)]
    pub error_subcode: Option<i64>,
    /// Support id.
    #[serde(default)]
    pub fbtrace_id: Option<String>,
}

/// Default wait after a rate limit when Meta's usage header says nothing:
/// the Messenger Profile API allows 10 calls per 10 minutes per page.
pub const DEFAULT_RETRY_MINS: u64 = 10;

/// Maps Meta's error object to a [`GraphError`]. `needs` names the
/// permission the call is documented to need, used when Meta's message does
/// not name one; `retry_after_mins` comes from the usage headers.
pub fn classify(body: ErrorBody, needs: &str, retry_after_mins: Option<u64>) -> GraphError {
    match body.code {
        190 | 102 => GraphError::Token {
            subcode: body.error_subcode,
        },
        10 | 200..=299 => GraphError::Permission {
            permission: named_permission(&body.message).unwrap_or_else(|| needs.to_string()),
            code: body.code,
        },
        4 | 17 | 32 | 613 => GraphError::RateLimited {
            code: body.code,
            retry_after_mins: retry_after_mins.unwrap_or(DEFAULT_RETRY_MINS).max(1),
        },
        100 => GraphError::BadParameter {
            message: body.message,
            subcode: body.error_subcode,
        },
        code => GraphError::Other {
            code,
            message: body.message,
            fbtrace_id: body.fbtrace_id,
        },
    }
}

/// The first permission name in Meta's message, e.g. `pages_messaging` in
/// "(#200) Requires pages_messaging permission to manage the object".
fn named_permission(message: &str) -> Option<String> {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| {
            ["pages_", "instagram_", "business_"]
                .iter()
                .any(|p| w.starts_with(p) && w.len() > p.len())
        })
        .map(str::to_string)
}

/// The minutes until access returns, from Meta's `X-Business-Use-Case-Usage`
/// header (`{"<id>":[{"estimated_time_to_regain_access":M,…}]}`) or
/// `X-Page-Usage`; `None` when neither says.
pub fn retry_after_from_headers(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let mut best: Option<u64> = None;
    for name in ["x-business-use-case-usage", "x-page-usage", "x-app-usage"] {
        let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(v) else {
            continue;
        };
        find_regain(&json, &mut best);
    }
    best
}

fn find_regain(v: &serde_json::Value, best: &mut Option<u64>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map {
                if k == "estimated_time_to_regain_access"
                    && let Some(m) = val.as_u64()
                {
                    *best = Some(best.map_or(m, |b| b.max(m)));
                } else {
                    find_regain(val, best);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| find_regain(i, best)),
        _ => {}
    }
}

/// A shown Graph API call: method, path and query, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// `/v26.0/me?fields=id,name`.
    pub path: String,
    /// The JSON body sent, if any.
    pub body: Option<String>,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(b) = &self.body {
            write!(f, " {b}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: i64, sub: Option<i64>, message: &str) -> ErrorBody {
        ErrorBody {
            message: message.into(),
            kind: "OAuthException".into(),
            code,
            error_subcode: sub,
            fbtrace_id: Some("EJplcsCHuLu".into()),
        }
    }

    #[test]
    fn permission_names_come_from_the_message_else_from_the_call() {
        let e = classify(
            body(
                200,
                None,
                "(#200) Requires pages_messaging permission to manage the object",
            ),
            "pages_manage_metadata",
            None,
        );
        assert_eq!(
            e,
            GraphError::Permission {
                permission: "pages_messaging".into(),
                code: 200
            }
        );
        let e = classify(
            body(10, None, "(#10) Permission denied"),
            "pages_manage_metadata",
            None,
        );
        assert!(e.to_string().contains("pages_manage_metadata"), "{e}");
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        for code in [4, 17, 32, 613] {
            let e = classify(body(code, None, "limit"), "", Some(7));
            assert!(e.to_string().contains("about 7 minute"), "{e}");
            let e = classify(body(code, None, "limit"), "", None);
            assert!(e.to_string().contains("about 10 minute"), "{e}");
        }
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            "x-business-use-case-usage",
            r#"{"112233":[{"type":"pages","call_count":100,"estimated_time_to_regain_access":23}]}"#
                .parse()
                .unwrap(),
        );
        assert_eq!(retry_after_from_headers(&h), Some(23));
    }

    #[test]
    fn token_subcodes_have_their_own_words() {
        let expired = classify(body(190, Some(463), "x"), "", None).to_string();
        assert!(expired.contains("has expired"), "{expired}");
        let password = classify(body(190, Some(460), "x"), "", None).to_string();
        assert!(password.contains("password"), "{password}");
        assert!(classify(body(190, None, "x"), "", None).is_user_error());
    }
}
