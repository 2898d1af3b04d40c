//! Parsing webhook bodies into referrals.

use super::WebhookError;
pub use super::referral::{Kind, Platform, Referral, Sender};
use crate::model::{EVENT_WINDOW_RULE, ValidationError, check_event_time, secs_to_ms};
use serde_json::Value;
use serde_json::value::RawValue;

/// A string or number field as a string (Meta sends both).
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A timestamp sent as a number or a string, in ms. Seconds (anything
/// before 2001 in ms) are scaled with checked arithmetic; fractions, values
/// beyond `i64` and products that overflow are refused, never wrapped or
/// saturated.
fn timestamp_ms(field: &'static str, v: &Value) -> Result<i64, ValidationError> {
    let refuse = |rule: &str| ValidationError::new(field, &v.to_string(), rule);
    let n = match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => i,
            None => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // `i64::MAX as f64` is 2^63: anything at or past it does not fit an i64.
                if !f.is_finite() || f.fract() != 0.0 || f.abs() >= i64::MAX as f64 {
                    return Err(refuse(
                        "use whole milliseconds or seconds since 1970 that fit 64 bits",
                    ));
                }
                f as i64
            }
        },
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| refuse("use whole milliseconds or seconds since 1970"))?,
        _ => return Err(refuse("use a number or a string of digits")),
    };
    if n < 1_000_000_000_000 {
        secs_to_ms(n).ok_or_else(|| refuse(EVENT_WINDOW_RULE))
    } else {
        Ok(n)
    }
}

/// What one webhook body carries: the referrals kept, and the items refused
/// with field, value and rule (the rest of the body is still kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedBody {
    /// Good referrals, in order.
    pub referrals: Vec<Referral>,
    /// Referral items refused, e.g. a timestamp outside the event window.
    pub refused: Vec<ValidationError>,
}

/// Parses a webhook body and returns every good referral it carries, in
/// order; refused items are dropped (see [`parse_webhook_at`] to see them).
pub fn parse_webhook(body: &[u8]) -> Result<Vec<Referral>, WebhookError> {
    parse_webhook_at(body, chrono::Utc::now().timestamp_millis()).map(|p| p.referrals)
}

/// Parses a webhook body with `now_ms` as the end of the event window. The
/// body as a whole is refused only when it is not a webhook envelope.
///
/// Entries and items are parsed one by one from raw JSON: serde_json refuses
/// a string holding a lone surrogate escape (`"\ud800"`), and such an item
/// is refused and counted (field `item`) without costing its neighbours. An
/// entry whose own `id` or `time` cannot be read is refused the same way
/// (field `entry`).
pub fn parse_webhook_at(body: &[u8], now_ms: i64) -> Result<ParsedBody, WebhookError> {
    let envelope: Envelope<'_> =
        serde_json::from_slice(body).map_err(|e| WebhookError::NotJson(e.to_string()))?;
    let object = envelope
        .object
        .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or_else(|| WebhookError::NotWebhook("missing \"object\"".into()))?;
    let platform = match object.as_str() {
        "page" => Platform::Messenger,
        "instagram" => Platform::Instagram,
        other => {
            return Err(WebhookError::NotWebhook(format!(
                "\"object\" is {other:?}; expected \"page\" or \"instagram\""
            )));
        }
    };
    let entries: Vec<&RawValue> = envelope
        .entry
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .ok_or_else(|| WebhookError::NotWebhook("missing \"entry\" array".into()))?;
    let mut out = ParsedBody::default();
    for entry in entries {
        parse_entry(platform, entry, now_ms, &mut out);
    }
    Ok(out)
}

/// A body's envelope with its entries left as raw JSON.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    object: Option<&'a RawValue>,
    #[serde(borrow, default)]
    entry: Option<&'a RawValue>,
}

/// An entry's own fields, its items left as raw JSON.
#[derive(serde::Deserialize)]
struct EntryParts<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    time: Option<&'a RawValue>,
    #[serde(borrow, default)]
    messaging: Option<&'a RawValue>,
}

/// Adds the referrals of one entry to `out`, and its refused items. An
/// entry that is not an object, or has no `messaging` array, carries none.
fn parse_entry(platform: Platform, entry: &RawValue, now_ms: i64, out: &mut ParsedBody) {
    if !entry.get().trim_start().starts_with('{') {
        return;
    }
    let parts = match serde_json::from_str::<EntryParts<'_>>(entry.get()) {
        Ok(p) => p,
        Err(e) => return out.refused.push(unreadable("entry", entry.get(), &e)),
    };
    let field = |raw: Option<&RawValue>| -> Result<Option<Value>, serde_json::Error> {
        raw.map(|r| serde_json::from_str::<Value>(r.get()))
            .transpose()
    };
    let (id, time) = match (field(parts.id), field(parts.time)) {
        (Ok(id), Ok(time)) => (id, time),
        (Err(e), _) | (_, Err(e)) => return out.refused.push(unreadable("entry", entry.get(), &e)),
    };
    let entry_id = text(id.as_ref()).filter(|s| !s.is_empty());
    let entry_time = time.as_ref().map(|t| timestamp_ms("entry.time", t));
    let Some(items) = parts
        .messaging
        .and_then(|m| serde_json::from_str::<Vec<&RawValue>>(m.get()).ok())
    else {
        return;
    };
    let ctx = EntryCtx {
        platform,
        entry_id: entry_id.as_deref(),
        entry_time: entry_time.as_ref(),
        now_ms,
    };
    for raw in items {
        let item = match serde_json::from_str::<Value>(raw.get()) {
            Ok(item) => item,
            Err(e) => {
                out.refused.push(unreadable("item", raw.get(), &e));
                continue;
            }
        };
        match referral_of(&ctx, &item) {
            Ok(Some(r)) => out.referrals.push(r),
            Ok(None) => {}
            Err(e) => out.refused.push(e),
        }
    }
}

/// The refusal of a part of a body that is JSON but cannot be read as text
/// (a lone surrogate escape, a number out of range): its value is the raw
/// JSON around where reading stopped.
fn unreadable(field: &'static str, raw: &str, e: &serde_json::Error) -> ValidationError {
    // serde_json counts lines and columns from 1, columns in bytes.
    let line_start: usize = raw
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(str::len)
        .sum();
    let at = (line_start + e.column()).min(raw.len());
    let mut from = at.saturating_sub(40);
    while !raw.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (at + 10).min(raw.len());
    while !raw.is_char_boundary(to) {
        to += 1;
    }
    ValidationError::new(
        field,
        &raw[from..to],
        format!(
            "every string must be valid Unicode, so a lone surrogate escape such as \\ud800 is refused ({e}); the rest of the body is kept"
        ),
    )
}

/// What the items of one entry share.
struct EntryCtx<'a> {
    platform: Platform,
    entry_id: Option<&'a str>,
    entry_time: Option<&'a Result<i64, ValidationError>>,
    now_ms: i64,
}

/// The referral an item carries: `Ok(None)` for items without one, an error
/// for a referral whose time cannot be trusted.
fn referral_of(ctx: &EntryCtx<'_>, item: &Value) -> Result<Option<Referral>, ValidationError> {
    let (referral, kind) = if let Some(r) = item.get("referral") {
        (r, Kind::Returning)
    } else if let Some(r) = item.get("postback").and_then(|p| p.get("referral")) {
        (r, Kind::New)
    } else if let Some(r) = item.get("message").and_then(|m| m.get("referral")) {
        (r, Kind::New)
    } else {
        return Ok(None);
    };
    if !referral.is_object() {
        return Ok(None);
    }
    let Some(sender) = item.get("sender") else {
        return Ok(None);
    };
    let sender = if let Some(id) = text(sender.get("id")) {
        Sender::Id(id)
    } else if let Some(r) = text(sender.get("user_ref")) {
        Sender::UserRef(r)
    } else {
        return Ok(None);
    };
    // An empty recipient id is no id: fall back to the entry's.
    let Some(page_id) = text(item.get("recipient").and_then(|r| r.get("id")))
        .filter(|s| !s.is_empty())
        .or_else(|| ctx.entry_id.map(str::to_string))
    else {
        return Ok(None);
    };
    // The item's own time wins; the entry's time stands in when it has none.
    let timestamp_ms = match (item.get("timestamp"), ctx.entry_time) {
        (Some(t), _) => timestamp_ms("timestamp", t)?,
        (None, Some(t)) => t.clone()?,
        (None, None) => {
            return Err(ValidationError::new(
                "timestamp",
                "",
                "a referral needs a timestamp (item or entry time)",
            ));
        }
    };
    let timestamp_ms = check_event_time("timestamp", timestamp_ms, ctx.now_ms)?;
    let r = Referral {
        platform: ctx.platform,
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
    };
    super::bounds::check(&r)?;
    Ok(Some(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_recipient_id_falls_back_to_entry_id() {
        let body = br#"{"object":"page","entry":[{"id":"77777","time":1764219600000,"messaging":[
            {"sender":{"id":"9"},"recipient":{"id":""},"timestamp":1764219590000,"postback":{"referral":{"ref":"x"}}}]}]}"#;
        let r = parse_webhook(body).unwrap();
        assert_eq!(r[0].page_id, "77777");
    }

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

    #[test]
    fn timestamps_outside_the_window_are_refused_and_the_rest_kept() {
        let now = 1_764_219_600_000;
        let item = |ts: &str| {
            format!(
                r#"{{"sender":{{"id":"9"}},"recipient":{{"id":"1"}},"timestamp":{ts},"referral":{{"ref":"r"}}}}"#
            )
        };
        let cases = [
            "1e30",
            "-18446742309507951",
            "-9223372036854775808",
            "18446744073709551615",
            "1764219590000000",
            "1.5",
            "\"soon\"",
            "-5",
        ];
        let mut items: Vec<String> = cases.iter().map(|c| item(c)).collect();
        items.push(item("1764219590000"));
        let body = format!(
            r#"{{"object":"page","entry":[{{"id":"1","time":1,"messaging":[{}]}}]}}"#,
            items.join(",")
        );
        let p = parse_webhook_at(body.as_bytes(), now).unwrap();
        assert_eq!(p.referrals.len(), 1);
        assert_eq!(p.referrals[0].timestamp_ms, 1_764_219_590_000);
        assert_eq!(p.refused.len(), cases.len());
        assert!(
            p.refused.iter().all(|e| e.field == "timestamp"),
            "{:?}",
            p.refused
        );
        assert!(p.refused[0].value.contains("1e+30"), "{:?}", p.refused[0]);
        // Seconds and a string still work; a bad entry time is refused only when needed.
        let body = br#"{"object":"page","entry":[{"id":"1","time":1e30,"messaging":[
            {"sender":{"id":"9"},"timestamp":"1764219590","referral":{"ref":"a"}},
            {"sender":{"id":"9"},"referral":{"ref":"b"}}]}]}"#;
        let p = parse_webhook_at(body, now).unwrap();
        assert_eq!(p.referrals.len(), 1);
        assert_eq!(p.referrals[0].timestamp_ms, 1_764_219_590_000);
        assert_eq!(p.refused[0].field, "entry.time");
    }
}
