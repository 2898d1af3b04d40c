//! What a person did in a webhook body besides a referral (issue 21):
//! postback and quick-reply payloads, which `relay --goal` turns into
//! conversions, and messages, whose first after a referral is the step
//! "conversation started" (`relay --conversations`). Only who, where and
//! when leave this module: never a message's text.
//!
//! Read only when the relay has goals or records conversations: the body is
//! parsed a second time, leniently. An item without a sender, a page or a usable time is skipped
//! (it cannot be joined to a referral); a page's own echoes are skipped.

use super::bounds::{MAX_ID_CHARS, MAX_USER_REF_CHARS};
use super::referral::{Platform, Sender};
use crate::model::check_event_time;
use serde_json::Value;

/// Longest payload matched: Meta's postback and quick-reply payloads take
/// at most 1,000 characters.
pub const MAX_PAYLOAD_CHARS: usize = 1000;

/// A payload a person sent by pressing a button or a quick reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Press {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// `recipient.id`, else `entry.id`.
    pub page_id: String,
    /// The person.
    pub sender: Sender,
    /// Event time, ms since the Unix epoch.
    pub timestamp_ms: i64,
    /// The payload, as the bot set it.
    pub payload: String,
}

/// A message a person sent (its text is not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// `recipient.id`, else `entry.id`.
    pub page_id: String,
    /// The person.
    pub sender: Sender,
    /// Event time, ms since the Unix epoch.
    pub timestamp_ms: i64,
}

/// Every message a person sent in a webhook body (not the page's echoes),
/// in order.
pub fn messages(body: &[u8], now_ms: i64) -> Vec<Said> {
    items(body, |platform, entry_id, item| {
        item.get("message")?;
        let (page_id, sender, timestamp_ms) = origin(entry_id, item, now_ms)?;
        Some(Said {
            platform,
            page_id,
            sender,
            timestamp_ms,
        })
    })
}

/// Every postback and quick-reply payload in a webhook body, in order.
pub fn presses(body: &[u8], now_ms: i64) -> Vec<Press> {
    items(body, |platform, entry_id, item| {
        press_of(platform, entry_id, item, now_ms)
    })
}

/// `f` of every messaging item of a body that is not the page's own echo.
fn items<T>(body: &[u8], f: impl Fn(Platform, Option<&str>, &Value) -> Option<T>) -> Vec<T> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let platform = match v.get("object").and_then(Value::as_str) {
        Some("page") => Platform::Messenger,
        Some("instagram") => Platform::Instagram,
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for entry in v
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let entry_id = text(entry.get("id"));
        for item in entry
            .get("messaging")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let echo = item
                .get("message")
                .and_then(|m| m.get("is_echo"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if let Some(p) = f(platform, entry_id.as_deref(), item).filter(|_| !echo) {
                out.push(p);
            }
        }
    }
    out
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn press_of(
    platform: Platform,
    entry_id: Option<&str>,
    item: &Value,
    now_ms: i64,
) -> Option<Press> {
    let payload = item
        .get("postback")
        .and_then(|p| p.get("payload"))
        .or_else(|| item.get("message")?.get("quick_reply")?.get("payload"))
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty() && p.chars().count() <= MAX_PAYLOAD_CHARS)?;
    let (page_id, sender, timestamp_ms) = origin(entry_id, item, now_ms)?;
    Some(Press {
        platform,
        page_id,
        sender,
        timestamp_ms,
        payload: payload.to_string(),
    })
}

/// The page, the person and the time of an item, each bounded and checked.
fn origin(entry_id: Option<&str>, item: &Value, now_ms: i64) -> Option<(String, Sender, i64)> {
    let sender = item.get("sender")?;
    let sender = match (text(sender.get("id")), text(sender.get("user_ref"))) {
        (Some(id), _) if id.len() <= MAX_ID_CHARS => Sender::Id(id),
        (None, Some(r)) if r.len() <= MAX_USER_REF_CHARS => Sender::UserRef(r),
        _ => return None,
    };
    let page_id = text(item.get("recipient").and_then(|r| r.get("id")))
        .filter(|s| !s.is_empty())
        .or_else(|| entry_id.map(str::to_string))
        .filter(|p| p.len() <= MAX_ID_CHARS)?;
    let ts = item.get("timestamp").and_then(Value::as_i64)?;
    // Meta sends milliseconds; seconds (before 2001 in ms) are scaled.
    let ts = if ts < 1_000_000_000_000 {
        ts.checked_mul(1000)?
    } else {
        ts
    };
    let timestamp_ms = check_event_time("timestamp", ts, now_ms).ok()?;
    Some((page_id, sender, timestamp_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_219_600_000;

    #[test]
    fn postbacks_and_quick_replies_are_presses_and_echoes_are_not() {
        let body = br#"{"object":"page","entry":[{"id":"77","time":1,"messaging":[
            {"sender":{"id":"9"},"recipient":{"id":"77"},"timestamp":1764219590000,"postback":{"title":"Buy","payload":"ORDER_CONFIRMED_1"}},
            {"sender":{"id":"8"},"recipient":{"id":"77"},"timestamp":1764219591000,"message":{"mid":"m","text":"Yes","quick_reply":{"payload":"BOOKED"}}},
            {"sender":{"id":"77"},"recipient":{"id":"9"},"timestamp":1764219592000,"message":{"is_echo":true,"quick_reply":{"payload":"BOOKED"}}},
            {"sender":{"id":"7"},"recipient":{"id":"77"},"timestamp":1764219593000,"message":{"text":"hi"}},
            {"sender":{"id":"6"},"timestamp":1764219594000,"postback":{"payload":"P"}}
        ]}]}"#;
        let p = presses(body, NOW);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].payload, "ORDER_CONFIRMED_1");
        assert_eq!(p[0].sender, Sender::Id("9".into()));
        assert_eq!(p[1].payload, "BOOKED");
        assert_eq!(p[2].page_id, "77", "the entry's id stands in");
        assert_eq!(p[2].timestamp_ms, 1_764_219_594_000);
    }

    #[test]
    fn messages_are_who_where_and_when_and_echoes_are_not_messages() {
        let body = br#"{"object":"page","entry":[{"id":"77","messaging":[
            {"sender":{"id":"9"},"recipient":{"id":"77"},"timestamp":1764219590000,"message":{"mid":"a","text":"hello"}},
            {"sender":{"id":"77"},"recipient":{"id":"9"},"timestamp":1764219591000,"message":{"is_echo":true,"text":"hi"}},
            {"sender":{"id":"9"},"recipient":{"id":"77"},"timestamp":1764219592000,"postback":{"payload":"P"}},
            {"sender":{"id":"8"},"recipient":{"id":"77"},"timestamp":1764219593000,"message":{"mid":"b","attachments":[]}}]}]}"#;
        let m = messages(body, NOW);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].sender.value(), m[0].timestamp_ms),
            ("9", 1_764_219_590_000)
        );
        assert_eq!(m[1].sender.value(), "8");
    }

    #[test]
    fn odd_items_are_skipped() {
        let long = "P".repeat(MAX_PAYLOAD_CHARS + 1);
        let body = format!(
            r#"{{"object":"instagram","entry":[{{"id":"77","messaging":[
            {{"sender":{{"id":"9"}},"timestamp":1764219590000,"postback":{{"payload":"{long}"}}}},
            {{"sender":{{"id":"9"}},"timestamp":99999999999999999,"postback":{{"payload":"P"}}}},
            {{"recipient":{{"id":"77"}},"timestamp":1764219590000,"postback":{{"payload":"P"}}}},
            {{"sender":{{"id":"9"}},"timestamp":1764219590,"postback":{{"payload":"OK"}}}}
            ]}}]}}"#
        );
        let p = presses(body.as_bytes(), NOW);
        assert_eq!(p.len(), 1);
        assert_eq!(
            (p[0].platform, p[0].payload.as_str()),
            (Platform::Instagram, "OK")
        );
        assert!(presses(b"not json", NOW).is_empty());
    }
}
