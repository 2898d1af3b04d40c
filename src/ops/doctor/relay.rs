//! Check 6: the relay's `/healthz` (docs/sync-protocol.md): whether Meta
//! verified the callback, the last event's age, bad signatures and wrong
//! verify tokens in the last hour. The Meta fields are optional (older
//! relays and other backends lack them): absent means "unknown", amber.

use super::{Check, CheckId, Colour, STALE_EVENT_SECS};
use crate::ops::Blame;
use serde_json::Value;
use std::time::Duration;

/// How long the relay may take to answer `/healthz`.
const HEALTH_TIMEOUT_SECS: u64 = 10;
/// Largest `/healthz` answer read. A relay's is a few hundred bytes; the
/// backend URL is the user's, but what answers there is not, so a longer
/// answer is not read further (as the Graph client caps Meta's).
const HEALTH_MAX_BYTES: u64 = 64 * 1024;

/// Runs the relay check against `backend_url`'s `/healthz` (no token needed).
pub(super) fn check(backend_url: Option<&str>) -> Check {
    let id = CheckId::Relay;
    let Some(url) = backend_url else {
        return Check::new(
            id,
            Colour::Amber,
            "no relay is configured, so refboard cannot see whether Meta delivers; set the backend URL once (the Backend screen, or the first sync)",
        );
    };
    let health = format!("{}/healthz", url.trim_end_matches('/'));
    let shown = format!("GET {}", crate::model::redact_url(&health));
    let mut c = match fetch(&health) {
        Ok(v) => judge(&v),
        Err(why) => {
            let mut c = Check::new(
                id,
                Colour::Red,
                format!(
                    "the relay does not answer ({why}): Meta's webhooks have nowhere to go, and referrals are lost while it is down"
                ),
            );
            c.blame = Some(Blame::World);
            c
        }
    };
    c.calls.push(shown);
    c
}

fn fetch(url: &str) -> Result<Value, String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(HEALTH_TIMEOUT_SECS))
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client.get(url).send().map_err(|e| {
        if e.is_timeout() {
            format!("no answer within {HEALTH_TIMEOUT_SECS} s")
        } else {
            crate::model::redact_urls(&e.to_string()).into_owned()
        }
    })?;
    let status = resp.status();
    let mut text = String::new();
    let mut capped = std::io::Read::take(resp, HEALTH_MAX_BYTES + 1);
    std::io::Read::read_to_string(&mut capped, &mut text).map_err(|e| e.to_string())?;
    if text.len() as u64 > HEALTH_MAX_BYTES {
        return Err(format!(
            "HTTP {status}, an answer over {} KiB, not the /healthz of a relay",
            HEALTH_MAX_BYTES / 1024
        ));
    }
    serde_json::from_str(&text).map_err(|_| format!("HTTP {status}, not the JSON of /healthz"))
}

/// Words each part of a `/healthz` answer; the colour is the worst part's.
fn judge(v: &Value) -> Check {
    let mut parts: Vec<(Colour, String)> = Vec::new();
    if v.get("status").and_then(Value::as_str) == Some("degraded") {
        let reason = v
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        parts.push((
            Colour::Red,
            format!("the relay is degraded ({reason}): webhooks are not being stored"),
        ));
    }
    parts.push(verified(v));
    parts.push(last_event(v));
    let bad_sig = v
        .get("bad_signatures_last_hour")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if bad_sig > 0 {
        parts.push((Colour::Amber, format!(
            "{bad_sig} webhook(s) with a bad signature in the last hour: the relay's app secret may not be the app's (REFBOARD_APP_SECRET)"
        )));
    }
    let bad_verify = v
        .get("bad_verify_tokens_last_hour")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if bad_verify > 0 {
        parts.push((Colour::Amber, format!(
            "{bad_verify} callback verification(s) with a wrong verify token in the last hour: the token typed in Meta's App Dashboard differs from the relay's (REFBOARD_VERIFY_TOKEN)"
        )));
    }
    let colour = parts.iter().map(|(c, _)| *c).max().unwrap_or(Colour::Green);
    let text: Vec<String> = parts.into_iter().map(|(_, t)| t).collect();
    let mut c = Check::new(CheckId::Relay, colour, text.join("; "));
    if colour == Colour::Red {
        c.blame = Some(Blame::World);
    }
    c
}

fn verified(v: &Value) -> (Colour, String) {
    match v.get("meta_verified_at_ms") {
        None => (Colour::Amber, "whether Meta verified the callback is unknown (this relay is older and does not say)".into()),
        Some(Value::Null) => (Colour::Red, "Meta has not verified the callback yet: in the App Dashboard, set the callback URL https://<domain>/webhook with the relay's verify token".into()),
        Some(t) => match t.as_i64() {
            Some(ms) => (Colour::Green, format!("Meta verified the callback {}", ago(now_ms() - ms))),
            None => (Colour::Amber, "the relay's meta_verified_at_ms is not a number".into()),
        },
    }
}

fn last_event(v: &Value) -> (Colour, String) {
    match v.get("last_event_age_secs").and_then(Value::as_i64) {
        None => (Colour::Amber, "no event has arrived yet: open an m.me link of the page from an account with a role on the app to test".into()),
        Some(age) if age > STALE_EVENT_SECS => (Colour::Amber, format!("the last event arrived {}: check that the page still sends webhooks", ago(age * 1000))),
        Some(age) => (Colour::Green, format!("the last event arrived {}", ago(age * 1000))),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `3 min ago`, `2 h ago`, `5 days ago`.
fn ago(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..60 => format!("{s} s ago"),
        60..3600 => format!("{} min ago", s / 60),
        3600..86_400 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn older_relays_are_unknown_and_amber_newer_ones_can_be_green() {
        let old =
            judge(&json!({"status":"ok","last_event_age_secs":30,"bad_signatures_last_hour":0}));
        assert_eq!(old.colour, Colour::Amber);
        assert!(old.meaning.contains("unknown"), "{}", old.meaning);
        let new = judge(
            &json!({"status":"ok","last_event_age_secs":30,"bad_signatures_last_hour":0,
            "meta_verified_at_ms": now_ms() - 120_000, "bad_verify_token_at_ms": null, "bad_verify_tokens_last_hour": 0}),
        );
        assert_eq!(new.colour, Colour::Green, "{}", new.meaning);
        let never =
            judge(&json!({"status":"ok","meta_verified_at_ms": null, "last_event_age_secs": null}));
        assert_eq!(never.colour, Colour::Red);
        let degraded = judge(
            &json!({"status":"degraded","reason":"database or disk is full","meta_verified_at_ms":1}),
        );
        assert_eq!(degraded.colour, Colour::Red);
        assert!(degraded.meaning.contains("disk is full"));
    }
}
