//! Conversions: what a referred person did next (issue 21), as the relay
//! stores them and the pull API serves them, and the rules their fields obey.
//!
//! A conversion travels in the same `events` stream as referrals, told apart
//! by `kind` (`conversion` or `conversation`, see `docs/sync-protocol.md`).
//! Its fields come from strangers (a bot's body, a webhook's postback), so
//! each is checked here, once, for the relay, sync and import alike:
//! - goal names: 1 to [`MAX_GOAL_CHARS`] ASCII letters, digits, `_`, `-`
//!   and inner single spaces (Meta's standard event names, e.g. `Purchase`,
//!   and `--goal` names such as `order` fit);
//! - values: a plain decimal, not negative, at most [`VALUE_DECIMALS`]
//!   decimals, held exactly as millionths in an `i64`, never as a float;
//! - currencies: an ISO 4217 code (the `iso_currency` crate's list).

use super::{Platform, ValidationError};
use serde::{Deserialize, Serialize};

/// Longest goal name, in characters (Meta's custom event names are under 50).
pub const MAX_GOAL_CHARS: usize = 50;
/// Most decimals a value may have: every ISO 4217 currency has at most 4,
/// and a value is stored as millionths.
pub const VALUE_DECIMALS: usize = 6;
/// Millionths in one unit: `value_micros` = value × this, exactly.
pub const MICROS_PER_UNIT: i64 = 1_000_000;
/// Longest value text, in characters, before it is even parsed.
pub const MAX_VALUE_CHARS: usize = 32;

/// The rule for goal names, in words.
pub const GOAL_RULE: &str = "a goal name is 1 to 50 characters: ASCII letters, digits, '_', '-' and single spaces between words";
/// The rule for values, in words.
pub const VALUE_RULE: &str = "a value is a plain decimal number from 0, with at most 6 decimals and below 9223372036854 (e.g. 12.50), as a JSON number or string";
/// The rule for currencies, in words.
pub const CURRENCY_RULE: &str =
    "a currency is an ISO 4217 code of three letters, e.g. USD or EUR (sent with a value)";

/// Which step of the funnel a conversion event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversionKind {
    /// The person's first message after a referral (no goal, no value).
    Conversation,
    /// A named goal reached, e.g. `order`, perhaps with a value.
    Conversion,
}

impl ConversionKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversionKind::Conversation => "conversation",
            ConversionKind::Conversion => "conversion",
        }
    }
}

/// A conversion event as the relay stores it and the pull API serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversionEvent {
    /// Deterministic id: a redelivery of the same outcome shares it.
    pub event_id: String,
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The page (or Instagram account) id.
    pub page_id: String,
    /// The same keyed hash of the person's id as their referrals carry.
    pub sender: String,
    /// When the person did it, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// Conversation or conversion.
    pub kind: ConversionKind,
    /// The goal's name; only for conversions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    /// The value as a decimal string (exact), e.g. `"12.50"`; with `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// ISO 4217 code in upper case; with `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// When the backend received it, milliseconds since the Unix epoch.
    pub received_at_ms: i64,
}

impl ConversionEvent {
    /// Checks the fields against the rules above and the contract of the
    /// store (a goal exactly for conversions, value and currency together),
    /// and returns the value in millionths (`None` without a value).
    pub fn check(&self) -> Result<Option<i64>, ValidationError> {
        match (self.kind, &self.goal) {
            (ConversionKind::Conversion, Some(g)) => validate_goal("goal", g)?,
            (ConversionKind::Conversion, None) => {
                return Err(ValidationError::new(
                    "goal",
                    "",
                    "a conversion names its goal",
                ));
            }
            (ConversionKind::Conversation, Some(g)) => {
                return Err(ValidationError::new(
                    "goal",
                    g,
                    "a conversation has no goal (only kind \"conversion\" does)",
                ));
            }
            (ConversionKind::Conversation, None) => {}
        }
        match (&self.value, &self.currency) {
            (Some(v), Some(c)) => {
                validate_currency("currency", c)?;
                if c.as_str() != c.to_ascii_uppercase() {
                    return Err(ValidationError::new(
                        "currency",
                        c,
                        "stored currencies are upper case",
                    ));
                }
                parse_value_micros("value", v).map(Some)
            }
            (None, None) => Ok(None),
            (Some(v), None) => Err(ValidationError::new(
                "currency",
                "",
                format!("{CURRENCY_RULE}; value {v} came without one"),
            )),
            (None, Some(c)) => Err(ValidationError::new(
                "value",
                "",
                format!("a currency ({c}) comes with a value"),
            )),
        }
    }
}

/// Checks a goal name ([`GOAL_RULE`]); `field` names where it came from.
pub fn validate_goal(field: &'static str, name: &str) -> Result<(), ValidationError> {
    let chars_ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' '));
    let spaces_ok = !name.starts_with(' ') && !name.ends_with(' ') && !name.contains("  ");
    if name.is_empty() || name.len() > MAX_GOAL_CHARS || !chars_ok || !spaces_ok {
        return Err(ValidationError::new(field, name, GOAL_RULE));
    }
    Ok(())
}

/// Checks an ISO 4217 code, in any letter case (Meta accepts `usd`), and
/// returns it in upper case, the one form stored.
pub fn validate_currency(field: &'static str, code: &str) -> Result<String, ValidationError> {
    let upper = code.to_ascii_uppercase();
    let known = upper.len() == 3
        && upper.bytes().all(|b| b.is_ascii_uppercase())
        && iso_currency::Currency::from_code(&upper).is_some();
    if known {
        Ok(upper)
    } else {
        Err(ValidationError::new(field, code, CURRENCY_RULE))
    }
}

/// Parses a value's decimal text into millionths, exactly: digits, then
/// optionally `.` and 1 to [`VALUE_DECIMALS`] digits. No sign, exponent or
/// float is involved, so `0.1` is exactly 100,000 micros.
pub fn parse_value_micros(field: &'static str, text: &str) -> Result<i64, ValidationError> {
    let refuse = |rule: &str| ValidationError::new(field, text, rule);
    if text.starts_with('-') {
        return Err(refuse(&format!("a value cannot be negative; {VALUE_RULE}")));
    }
    if text.len() > MAX_VALUE_CHARS {
        return Err(refuse(VALUE_RULE));
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f) || f.len() > VALUE_DECIMALS) {
        return Err(refuse(VALUE_RULE));
    }
    let mut micros: i64 = 0;
    let frac = fraction.unwrap_or("");
    let padded = format!("{frac:0<width$}", width = VALUE_DECIMALS);
    for b in whole.bytes().chain(padded.bytes()) {
        micros = micros
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
            .ok_or_else(|| refuse(VALUE_RULE))?;
    }
    Ok(micros)
}

/// A value in millionths as the shortest exact decimal text (`12.5`, `3`).
pub fn micros_text(micros: i64) -> String {
    let whole = micros.div_euclid(MICROS_PER_UNIT);
    let frac = micros.rem_euclid(MICROS_PER_UNIT);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_parsed_exactly_into_micros() {
        for (text, micros) in [
            ("0", 0),
            ("0.1", 100_000),
            ("12.50", 12_500_000),
            ("19.99", 19_990_000),
            ("0.000001", 1),
            ("999", 999_000_000),
            ("1000", 1_000_000_000),
            ("9223372036854.775807", i64::MAX),
        ] {
            assert_eq!(parse_value_micros("value", text), Ok(micros), "{text}");
        }
    }

    #[test]
    fn bad_values_are_refused_with_the_rule() {
        for bad in [
            "",
            "-1",
            "-0.5",
            "1e3",
            "1.",
            ".5",
            "1.2345678",
            "abc",
            "1,5",
            " 1",
            "+1",
            "NaN",
            "9223372036854.775808",
            "99999999999999999999",
        ] {
            let e = parse_value_micros("value", bad).unwrap_err();
            assert_eq!(e.field, "value", "{bad}");
            assert!(e.rule.contains("decimal"), "{bad}: {e}");
        }
        assert!(
            parse_value_micros("value", "-1")
                .unwrap_err()
                .rule
                .contains("negative")
        );
    }

    #[test]
    fn micros_print_back_exactly() {
        for (m, text) in [
            (0, "0"),
            (12_500_000, "12.5"),
            (1, "0.000001"),
            (3_000_000, "3"),
        ] {
            assert_eq!(micros_text(m), text);
            assert_eq!(parse_value_micros("v", text), Ok(m));
        }
    }

    #[test]
    fn currencies_are_iso_4217() {
        assert_eq!(validate_currency("currency", "USD").unwrap(), "USD");
        assert_eq!(validate_currency("currency", "eur").unwrap(), "EUR");
        assert_eq!(validate_currency("currency", "JPY").unwrap(), "JPY");
        for bad in ["", "US", "USDD", "ABC", "XYZ", "€", "U$D", "usd "] {
            let e = validate_currency("currency", bad).unwrap_err();
            assert_eq!((e.field, e.value.as_str()), ("currency", bad));
            assert!(e.rule.contains("ISO 4217"), "{e}");
        }
    }

    #[test]
    fn goal_names_are_bounded_and_plain() {
        for good in [
            "order",
            "Purchase",
            "LeadSubmitted",
            "sign-up_2",
            "Add To Cart",
        ] {
            assert_eq!(validate_goal("goal", good), Ok(()), "{good}");
        }
        let fifty = "a".repeat(MAX_GOAL_CHARS);
        assert_eq!(validate_goal("goal", &fifty), Ok(()));
        for bad in [
            String::new(),
            "a".repeat(MAX_GOAL_CHARS + 1),
            " order".into(),
            "order ".into(),
            "a  b".into(),
            "ordér".into(),
            "a\u{1b}[31m".into(),
            "a\nb".into(),
            "a*".into(),
        ] {
            let e = validate_goal("goal", &bad).unwrap_err();
            assert_eq!(e.field, "goal");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_micros_prints_and_parses_back_exactly(micros in 0i64..=i64::MAX) {
            proptest::prop_assert_eq!(parse_value_micros("v", &micros_text(micros)), Ok(micros));
        }

        #[test]
        fn any_text_parses_to_the_digits_it_shows_or_is_refused(text in "[-0-9.e+ ]{0,24}") {
            if let Ok(m) = parse_value_micros("v", &text) {
                // Independently: whole and fraction digits, scaled by hand.
                let (w, f) = text.split_once('.').unwrap_or((&text, ""));
                let want = w.parse::<i128>().unwrap() * 1_000_000
                    + format!("{f:0<6}").parse::<i128>().unwrap();
                proptest::prop_assert_eq!(i128::from(m), want);
            }
        }
    }

    fn event(kind: ConversionKind) -> ConversionEvent {
        ConversionEvent {
            event_id: "e".into(),
            platform: Platform::Messenger,
            page_id: "1".into(),
            sender: "s".into(),
            timestamp_ms: 1_764_219_590_000,
            kind,
            goal: None,
            value: None,
            currency: None,
            received_at_ms: 1_764_219_590_000,
        }
    }

    #[test]
    fn an_event_keeps_the_store_contract() {
        assert_eq!(event(ConversionKind::Conversation).check(), Ok(None));
        assert!(
            event(ConversionKind::Conversion).check().is_err(),
            "no goal"
        );
        let mut c = event(ConversionKind::Conversion);
        c.goal = Some("Purchase".into());
        assert_eq!(c.check(), Ok(None));
        c.value = Some("12.50".into());
        assert_eq!(c.check().unwrap_err().field, "currency");
        c.currency = Some("USD".into());
        assert_eq!(c.check(), Ok(Some(12_500_000)));
        c.value = None;
        assert_eq!(c.check().unwrap_err().field, "value");
        let mut talk = event(ConversionKind::Conversation);
        talk.goal = Some("order".into());
        assert_eq!(talk.check().unwrap_err().field, "goal");
    }

    #[test]
    fn the_wire_form_names_its_kind_and_leaves_out_absent_fields() {
        let json = serde_json::to_string(&event(ConversionKind::Conversation)).unwrap();
        assert!(json.contains("\"kind\":\"conversation\""), "{json}");
        assert!(!json.contains("goal") && !json.contains("value"), "{json}");
    }
}
