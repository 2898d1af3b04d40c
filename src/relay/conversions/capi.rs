//! Reading a body of Meta's Conversions API for Business Messaging into
//! conversion events, all or none: every field rule of the endpoint, each
//! refusal naming the field, the value, the rule and the event's index in
//! `data` (see the parent module for the sources of these rules).

use super::{FUTURE_SKEW_SECS, MAX_AGE_SECS, MAX_EVENT_ID_BYTES, MAX_EVENTS, id_of};
use crate::messenger::{Sender, bounds::MAX_ID_CHARS, hash_sender};
use crate::model::{
    ConversionEvent, ConversionKind, Platform, ValidationError, parse_value_micros,
    validate_currency, validate_goal,
};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// Why a body was refused: the rule broken, and which event of `data`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Refused {
    /// The rule broken.
    pub(super) error: ValidationError,
    /// The event of `data` that broke it, when one did.
    pub(super) index: Option<usize>,
}

impl Refused {
    pub(super) fn at(index: usize) -> impl Fn(ValidationError) -> Refused {
        move |error| Refused {
            error,
            index: Some(index),
        }
    }
}

impl From<ValidationError> for Refused {
    fn from(error: ValidationError) -> Self {
        Refused { error, index: None }
    }
}

#[derive(Deserialize)]
struct CapiBody<'a> {
    #[serde(borrow, default)]
    data: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct CapiEvent<'a> {
    #[serde(default)]
    event_name: Option<Value>,
    #[serde(default)]
    event_time: Option<Value>,
    #[serde(default)]
    event_id: Option<Value>,
    #[serde(default)]
    action_source: Option<Value>,
    #[serde(default)]
    messaging_channel: Option<Value>,
    #[serde(default)]
    user_data: Option<UserData>,
    #[serde(borrow, default)]
    custom_data: Option<CustomData<'a>>,
}

#[derive(Deserialize, Default)]
struct UserData {
    #[serde(default)]
    page_id: Option<Value>,
    #[serde(default)]
    page_scoped_user_id: Option<Value>,
    #[serde(default)]
    ig_account_id: Option<Value>,
    #[serde(default)]
    ig_sid: Option<Value>,
}

#[derive(Deserialize, Default)]
struct CustomData<'a> {
    /// Raw, so a JSON number's digits are read as written, never via f64.
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
    #[serde(default)]
    currency: Option<Value>,
}

/// A string or whole number as text; `None` for anything else.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Which event times a body may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    /// Meta's: at most 7 days old, at most [`FUTURE_SKEW_SECS`] ahead.
    Meta,
    /// refboard's event window ([`crate::model::check_event_time`]), for
    /// importing logged bodies of any age.
    Import,
}

/// Reads a conversions body as `refboard import` does: every rule of the
/// endpoint except Meta's 7 days (a log may be older), senders hashed with
/// `hash_key`. The error names the field, the value and the rule.
pub fn conversion_body(
    body: &[u8],
    now_ms: i64,
    hash_key: &[u8],
) -> Result<Vec<ConversionEvent>, ValidationError> {
    parse_body_in(body, now_ms, hash_key, Window::Import).map_err(|r| match r.index {
        Some(i) => ValidationError {
            rule: format!("{} (data[{i}])", r.error.rule),
            ..r.error
        },
        None => r.error,
    })
}

/// Parses a body into conversion events, all or none. Pages are checked by
/// the caller (they need the storage).
pub(super) fn parse_body(
    body: &[u8],
    now_ms: i64,
    hash_key: &[u8],
) -> Result<Vec<ConversionEvent>, Refused> {
    parse_body_in(body, now_ms, hash_key, Window::Meta)
}

fn parse_body_in(
    body: &[u8],
    now_ms: i64,
    hash_key: &[u8],
    window: Window,
) -> Result<Vec<ConversionEvent>, Refused> {
    let parsed: CapiBody<'_> = serde_json::from_slice(body).map_err(|e| {
        ValidationError::new(
            "body",
            &e.to_string(),
            "a JSON object with a \"data\" array of events, as Meta's Conversions API takes",
        )
    })?;
    let data = parsed.data.ok_or_else(|| {
        ValidationError::new("data", "", "the body needs a \"data\" array of events")
    })?;
    if data.is_empty() || data.len() > MAX_EVENTS {
        return Err(ValidationError::new(
            "data",
            &format!("{} events", data.len()),
            format!("1 to {MAX_EVENTS} events per request (Meta's limit)"),
        )
        .into());
    }
    data.iter()
        .enumerate()
        .map(|(i, raw)| parse_event(raw, now_ms, hash_key, window).map_err(Refused::at(i)))
        .collect()
}

/// One event of `data`.
fn parse_event(
    raw: &RawValue,
    now_ms: i64,
    hash_key: &[u8],
    window: Window,
) -> Result<ConversionEvent, ValidationError> {
    let e: CapiEvent<'_> = serde_json::from_str(raw.get()).map_err(|err| {
        ValidationError::new(
            "data[]",
            &err.to_string(),
            "each event is a JSON object of Meta's shape",
        )
    })?;
    let source = text(e.action_source.as_ref()).unwrap_or_default();
    if source != "business_messaging" {
        return Err(ValidationError::new(
            "action_source",
            &source,
            "must be \"business_messaging\" (events from a Messenger or Instagram conversation)",
        ));
    }
    let name = text(e.event_name.as_ref()).unwrap_or_default();
    validate_goal("event_name", &name)?;
    let timestamp_ms = match window {
        Window::Meta => event_time_ms(e.event_time.as_ref(), now_ms)?,
        Window::Import => any_event_time_ms(e.event_time.as_ref(), now_ms)?,
    };
    let (platform, page_id, person) = who(&e)?;
    let sender = hash_sender(hash_key, &Sender::Id(person));
    let (value, currency) = money(e.custom_data.as_ref())?;
    let bot_id = match &e.event_id {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            text(Some(v))
                .filter(|s| !s.is_empty() && s.len() <= MAX_EVENT_ID_BYTES)
                .ok_or_else(|| {
                    ValidationError::new(
                        "event_id",
                        &v.to_string(),
                        "a string of 1 to 256 bytes (or a whole number)",
                    )
                })?,
        ),
    };
    let event_id = match &bot_id {
        Some(id) => id_of(&["capi", platform.as_str(), &page_id, &name, id]),
        None => id_of(&[
            "capi-derived",
            platform.as_str(),
            &page_id,
            &name,
            &sender,
            &timestamp_ms.to_string(),
            value.as_deref().unwrap_or(""),
            currency.as_deref().unwrap_or(""),
        ]),
    };
    Ok(ConversionEvent {
        event_id,
        platform,
        page_id,
        sender,
        timestamp_ms,
        kind: ConversionKind::Conversion,
        goal: Some(name),
        value,
        currency,
        received_at_ms: now_ms,
    })
}

/// `event_time`: whole seconds since 1970, within Meta's 7 days and the skew.
fn event_time_ms(v: Option<&Value>, now_ms: i64) -> Result<i64, ValidationError> {
    let rule = format!(
        "whole seconds since 1970, at most 7 days ago (Meta's limit) and at most {FUTURE_SKEW_SECS} s ahead of the relay's clock"
    );
    let shown = v.map(ToString::to_string).unwrap_or_default();
    let secs = text(v)
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| ValidationError::new("event_time", &shown, rule.as_str()))?;
    let now_secs = now_ms.div_euclid(1000);
    if secs > now_secs.saturating_add(FUTURE_SKEW_SECS) {
        return Err(ValidationError::new(
            "event_time",
            &shown,
            format!("is in the future; {rule}"),
        ));
    }
    if secs < now_secs.saturating_sub(MAX_AGE_SECS) {
        return Err(ValidationError::new(
            "event_time",
            &shown,
            format!("is older than 7 days; {rule}"),
        ));
    }
    crate::model::secs_to_ms(secs).ok_or_else(|| ValidationError::new("event_time", &shown, rule))
}

/// `event_time` in refboard's event window (import).
fn any_event_time_ms(v: Option<&Value>, now_ms: i64) -> Result<i64, ValidationError> {
    let shown = v.map(ToString::to_string).unwrap_or_default();
    let rule = crate::model::EVENT_WINDOW_RULE;
    let ms = text(v)
        .and_then(|t| t.parse::<i64>().ok())
        .and_then(crate::model::secs_to_ms)
        .ok_or_else(|| ValidationError::new("event_time", &shown, rule))?;
    crate::model::check_event_time("event_time", ms, now_ms)
}

/// The channel, the page and the person's raw id (hashed at once by the caller).
fn who(e: &CapiEvent<'_>) -> Result<(Platform, String, String), ValidationError> {
    let channel = text(e.messaging_channel.as_ref()).unwrap_or_default();
    let (platform, page_field, person_field) = match channel.as_str() {
        "messenger" => (
            Platform::Messenger,
            "user_data.page_id",
            "user_data.page_scoped_user_id",
        ),
        "instagram" => (
            Platform::Instagram,
            "user_data.ig_account_id",
            "user_data.ig_sid",
        ),
        _ => {
            return Err(ValidationError::new(
                "messaging_channel",
                &channel,
                "\"messenger\" or \"instagram\" (refboard's referrals come from these two)",
            ));
        }
    };
    let empty = UserData::default();
    let u = e.user_data.as_ref().unwrap_or(&empty);
    let (page, person) = match platform {
        Platform::Messenger => (&u.page_id, &u.page_scoped_user_id),
        Platform::Instagram => (&u.ig_account_id, &u.ig_sid),
    };
    let page = text(page.as_ref())
        .filter(|p| !p.is_empty() && p.len() <= MAX_ID_CHARS)
        .ok_or_else(|| {
            ValidationError::new(
                page_field,
                &page.as_ref().map(ToString::to_string).unwrap_or_default(),
                "the page's id (1 to 64 characters) is required",
            )
        })?;
    // The person's id is never echoed, not even in a refusal.
    let person = text(person.as_ref())
        .filter(|p| !p.is_empty() && p.len() <= MAX_ID_CHARS)
        .ok_or_else(|| {
            let shown = if person.is_some() { "(hidden)" } else { "" };
            ValidationError::new(
                person_field,
                shown,
                "the person's page-scoped id (1 to 64 characters) is required, so the conversion joins their referrals",
            )
        })?;
    Ok((platform, page, person))
}

/// `custom_data.value` and `.currency`: both or neither, exact.
fn money(c: Option<&CustomData<'_>>) -> Result<(Option<String>, Option<String>), ValidationError> {
    let Some(c) = c else {
        return Ok((None, None));
    };
    let value = match c.value.map(RawValue::get) {
        None | Some("null") => None,
        Some(raw) if raw.starts_with('"') => {
            Some(serde_json::from_str::<String>(raw).map_err(|_| {
                ValidationError::new("custom_data.value", raw, crate::model::VALUE_RULE)
            })?)
        }
        Some(raw) => Some(raw.to_string()),
    };
    let currency = match &c.currency {
        None | Some(Value::Null) => None,
        Some(v) => Some(text(Some(v)).unwrap_or_else(|| v.to_string())),
    };
    match (value, currency) {
        (None, None) => Ok((None, None)),
        (Some(v), Some(cur)) => {
            parse_value_micros("custom_data.value", &v)?;
            let cur = validate_currency("custom_data.currency", &cur)?;
            Ok((Some(v), Some(cur)))
        }
        (Some(v), None) => Err(ValidationError::new(
            "custom_data.currency",
            "",
            format!("{}; value {v} needs one", crate::model::CURRENCY_RULE),
        )),
        (None, Some(cur)) => Err(ValidationError::new(
            "custom_data.value",
            "",
            format!("a currency ({cur}) comes with a value"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messenger::{Sender, hash_sender};

    const NOW_MS: i64 = 1_764_219_600_000;
    const KEY: &[u8] = b"key";

    fn event(extra: &str) -> String {
        format!(
            r#"{{"event_name":"Purchase","event_time":1764219000,"event_id":"o-1","action_source":"business_messaging","messaging_channel":"messenger","user_data":{{"page_id":"77","page_scoped_user_id":"9"}},"custom_data":{{"value":12.50,"currency":"usd"}}{extra}}}"#
        )
    }

    #[test]
    fn metas_shape_becomes_a_conversion_with_the_referral_hash() {
        let body = format!(r#"{{"data":[{}]}}"#, event(""));
        let got = parse_body(body.as_bytes(), NOW_MS, KEY).unwrap();
        assert_eq!(got.len(), 1);
        let c = &got[0];
        assert_eq!(c.goal.as_deref(), Some("Purchase"));
        assert_eq!(c.value.as_deref(), Some("12.50"), "the digits as written");
        assert_eq!(c.currency.as_deref(), Some("USD"));
        assert_eq!(c.timestamp_ms, 1_764_219_000_000);
        assert_eq!(c.sender, hash_sender(KEY, &Sender::Id("9".into())));
        assert_eq!(c.check(), Ok(Some(12_500_000)));
    }

    #[test]
    fn the_stored_id_follows_metas_deduplication_key() {
        let one = parse_body(
            format!(r#"{{"data":[{}]}}"#, event("")).as_bytes(),
            NOW_MS,
            KEY,
        )
        .unwrap();
        let again = parse_body(
            format!(r#"{{"data":[{}]}}"#, event(""))
                .replace("1764219000", "1764219100")
                .as_bytes(),
            NOW_MS,
            KEY,
        )
        .unwrap();
        assert_eq!(one[0].event_id, again[0].event_id, "same event_id and name");
        let other = parse_body(
            format!(r#"{{"data":[{}]}}"#, event(""))
                .replace("o-1", "o-2")
                .as_bytes(),
            NOW_MS,
            KEY,
        )
        .unwrap();
        assert_ne!(one[0].event_id, other[0].event_id);
    }

    #[test]
    fn every_rule_names_its_field_and_the_event() {
        let cases: [(&str, &str, &str); 10] = [
            ("business_messaging", "website", "action_source"),
            ("1764219000", "1764229000", "event_time"),
            ("1764219000", "1763500000", "event_time"),
            ("\"usd\"", "\"usdollar\"", "custom_data.currency"),
            ("12.50", "-3", "custom_data.value"),
            ("12.50", "\"ten\"", "custom_data.value"),
            (
                "\"page_scoped_user_id\":\"9\"",
                "\"x\":\"9\"",
                "user_data.page_scoped_user_id",
            ),
            ("\"messenger\"", "\"whatsapp\"", "messaging_channel"),
            ("\"Purchase\"", "\"Buy\\nnow\"", "event_name"),
            ("\"o-1\"", "{}", "event_id"),
        ];
        for (from, to, field) in cases {
            let body = format!(
                r#"{{"data":[{},{}]}}"#,
                event(""),
                event("").replacen(from, to, 1)
            );
            let r = parse_body(body.as_bytes(), NOW_MS, KEY).unwrap_err();
            assert_eq!(
                (r.error.field, r.index),
                (field, Some(1)),
                "{from} -> {to}: {:?}",
                r.error
            );
        }
        let r = parse_body(
            format!(r#"{{"data":[{}]}}"#, event(""))
                .replace("\"9\"", "\"123456\"")
                .replace("page_scoped_user_id", "psid")
                .as_bytes(),
            NOW_MS,
            KEY,
        )
        .unwrap_err();
        assert!(
            !r.error.value.contains("123456"),
            "the person's id is never echoed"
        );
    }

    #[test]
    fn the_count_of_events_is_bounded() {
        let one = event("");
        for (n, ok) in [
            (0, false),
            (1, true),
            (MAX_EVENTS, true),
            (MAX_EVENTS + 1, false),
        ] {
            let body = format!(r#"{{"data":[{}]}}"#, vec![one.as_str(); n].join(","));
            let got = parse_body(body.as_bytes(), NOW_MS, KEY);
            assert_eq!(got.is_ok(), ok, "{n} events");
            if let Err(r) = got {
                assert_eq!(r.error.field, "data");
            }
        }
    }

    #[test]
    fn the_time_window_is_seven_days_and_five_minutes() {
        let now = NOW_MS / 1000;
        for (secs, ok) in [
            (now, true),
            (now + FUTURE_SKEW_SECS, true),
            (now + FUTURE_SKEW_SECS + 1, false),
            (now - MAX_AGE_SECS, true),
            (now - MAX_AGE_SECS - 1, false),
        ] {
            let got = event_time_ms(Some(&Value::from(secs)), NOW_MS);
            assert_eq!(got.is_ok(), ok, "{secs}");
        }
        assert!(event_time_ms(Some(&Value::from(1.5)), NOW_MS).is_err());
        assert!(event_time_ms(None, NOW_MS).is_err());
    }

    #[test]
    fn instagram_uses_its_own_ids_and_values_may_be_absent() {
        let body = r#"{"data":[{"event_name":"LeadSubmitted","event_time":"1764219000","action_source":"business_messaging","messaging_channel":"instagram","user_data":{"ig_account_id":"1784","ig_sid":"55"}}]}"#;
        let got = parse_body(body.as_bytes(), NOW_MS, KEY).unwrap();
        assert_eq!(
            (got[0].platform, got[0].page_id.as_str()),
            (Platform::Instagram, "1784")
        );
        assert_eq!(
            (got[0].value.as_ref(), got[0].currency.as_ref()),
            (None, None)
        );
    }
}
