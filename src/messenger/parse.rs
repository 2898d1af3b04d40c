//! Parsing webhook bodies into referrals.

use super::WebhookError;
pub use crate::model::{Kind, Platform};
use serde_json::Value;

/// Who opened the link: a page-scoped id, or the chat plugin's `user_ref`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sender {
    /// `sender.id` (PSID or IGSID).
    Id(String),
    /// `sender.user_ref` from the customer chat plugin.
    UserRef(String),
}

impl Sender {
    /// The raw id. Never log or store it outside the relay.
    pub fn value(&self) -> &str {
        match self {
            Sender::Id(s) | Sender::UserRef(s) => s,
        }
    }

    /// `id` or `user_ref`, so the two id spaces never collide when hashed.
    pub fn kind_tag(&self) -> &'static str {
        match self {
            Sender::Id(_) => "id",
            Sender::UserRef(_) => "user_ref",
        }
    }
}

/// One referral carried by a webhook body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// `recipient.id`, else `entry.id`.
    pub page_id: String,
    /// The person.
    pub sender: Sender,
    /// Event time, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// New or returning.
    pub kind: Kind,
    /// The `ref` parameter, if the link had one.
    pub ref_code: Option<String>,
    /// `source` as sent (SHORTLINK, ADS, CUSTOMER_CHAT_PLUGIN, …).
    pub source: Option<String>,
    /// `type` as sent (OPEN_THREAD, …).
    pub ref_type: Option<String>,
    /// `ad_id` for ads.
    pub ad_id: Option<String>,
    /// `ads_context_data.ad_title` for ads.
    pub ad_title: Option<String>,
    /// `referer_uri` for the chat plugin.
    pub referer_uri: Option<String>,
}

/// A string or number field as a string (Meta sends both).
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A timestamp sent as a number or a string; seconds are scaled to milliseconds.
fn timestamp_ms(v: Option<&Value>) -> Option<i64> {
    let n = match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?,
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    // Some surfaces send seconds; anything before 2001 in ms is taken as seconds.
    // A hostile value far below zero must not overflow the scaling.
    if n < 1_000_000_000_000 {
        n.checked_mul(1000)
    } else {
        Some(n)
    }
}

/// Parses a webhook body and returns every referral it carries, in order.
pub fn parse_webhook(body: &[u8]) -> Result<Vec<Referral>, WebhookError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::NotJson(e.to_string()))?;
    let object = value
        .get("object")
        .and_then(Value::as_str)
        .ok_or_else(|| WebhookError::NotWebhook("missing \"object\"".into()))?;
    let platform = match object {
        "page" => Platform::Messenger,
        "instagram" => Platform::Instagram,
        other => {
            return Err(WebhookError::NotWebhook(format!(
                "\"object\" is {other:?}; expected \"page\" or \"instagram\""
            )));
        }
    };
    let entries = value
        .get("entry")
        .and_then(Value::as_array)
        .ok_or_else(|| WebhookError::NotWebhook("missing \"entry\" array".into()))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry_id = text(entry.get("id"));
        let entry_time = timestamp_ms(entry.get("time"));
        let Some(items) = entry.get("messaging").and_then(Value::as_array) else {
            continue;
        };
        for item in items {
            if let Some(r) = referral_of(platform, item, entry_id.as_deref(), entry_time) {
                out.push(r);
            }
        }
    }
    Ok(out)
}

fn referral_of(
    platform: Platform,
    item: &Value,
    entry_id: Option<&str>,
    entry_time: Option<i64>,
) -> Option<Referral> {
    let (referral, kind) = if let Some(r) = item.get("referral") {
        (r, Kind::Returning)
    } else if let Some(r) = item.get("postback").and_then(|p| p.get("referral")) {
        (r, Kind::New)
    } else if let Some(r) = item.get("message").and_then(|m| m.get("referral")) {
        (r, Kind::New)
    } else {
        return None;
    };
    if !referral.is_object() {
        return None;
    }
    let sender = item.get("sender")?;
    let sender = if let Some(id) = text(sender.get("id")) {
        Sender::Id(id)
    } else {
        Sender::UserRef(text(sender.get("user_ref"))?)
    };
    let page_id = text(item.get("recipient").and_then(|r| r.get("id")))
        .or_else(|| entry_id.map(str::to_string))?;
    let timestamp_ms = timestamp_ms(item.get("timestamp")).or(entry_time)?;
    Some(Referral {
        platform,
        page_id,
        sender,
        timestamp_ms,
        kind,
        ref_code: text(referral.get("ref")),
        source: text(referral.get("source")),
        ref_type: text(referral.get("type")),
        ad_id: text(referral.get("ad_id")),
        ad_title: text(
            referral
                .get("ads_context_data")
                .and_then(|a| a.get("ad_title")),
        ),
        referer_uri: text(referral.get("referer_uri")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_items_without_referrals_and_unknown_fields() {
        let body = br#"{"object":"page","future":1,"entry":[{"id":"1","time":5,"messaging":[
            {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":1764219590000,"message":{"text":"hi"}},
            {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":1764219590001,"referral":{"ref":"a","source":"SHORTLINK","new_field":{}}}
        ]},{"id":"2","changes":[]}]}"#;
        let r = parse_webhook(body).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].ref_code.as_deref(), Some("a"));
        assert_eq!(r[0].kind, Kind::Returning);
    }

    #[test]
    fn bad_bodies_are_errors() {
        assert!(matches!(
            parse_webhook(b"not json"),
            Err(WebhookError::NotJson(_))
        ));
        assert!(
            parse_webhook(br#"{"entry":[]}"#)
                .unwrap_err()
                .to_string()
                .contains("object")
        );
        assert!(
            parse_webhook(br#"{"object":"page"}"#)
                .unwrap_err()
                .to_string()
                .contains("entry")
        );
        assert!(parse_webhook(br#"{"object":"user","entry":[]}"#).is_err());
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let body = format!(
            r#"{{"object":"page","entry":[{{"id":"1","messaging":[
            {{"sender":{{"id":"9"}},"timestamp":{},"postback":{{"referral":{{"ref":"x"}}}}}}]}}]}}"#,
            i64::MIN
        );
        assert_eq!(parse_webhook(body.as_bytes()).unwrap().len(), 0);
    }

    #[test]
    fn seconds_and_missing_recipient() {
        let body = br#"{"object":"page","entry":[{"id":"77777","time":1764219600000,"messaging":[
            {"sender":{"id":"9"},"timestamp":1764219590,"postback":{"referral":{"ref":"x"}}}]}]}"#;
        let r = parse_webhook(body).unwrap();
        assert_eq!(r[0].page_id, "77777");
        assert_eq!(r[0].timestamp_ms, 1_764_219_590_000);
        assert_eq!(r[0].kind, Kind::New);
    }
}
