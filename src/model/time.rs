//! The window of event times refboard accepts, and checked conversions
//! between seconds and milliseconds.
//!
//! Events enter through the webhook parser, sync and import. A timestamp far
//! outside the window (microseconds taken for milliseconds, `1e30`, a wrapped
//! negative number) would otherwise stretch every chart over thousands of
//! years, so each entry point refuses it with field, value and rule.

use super::ValidationError;

/// First instant an event may have: 2004-01-01T00:00:00Z, in ms since the
/// Unix epoch (Facebook started in 2004; nothing can be referred earlier).
pub const EVENT_WINDOW_START_MS: i64 = 1_072_915_200_000;
/// How far past "now" an event may be, in ms (one day, for clock skew).
pub const EVENT_WINDOW_FUTURE_MS: i64 = 86_400_000;

/// The rule, in words, for messages and docs.
pub const EVENT_WINDOW_RULE: &str =
    "event times must lie between 2004-01-01T00:00:00Z and one day after now";

/// `secs` in milliseconds, or `None` when that does not fit an `i64`.
pub fn secs_to_ms(secs: i64) -> Option<i64> {
    secs.checked_mul(1000)
}

/// `ms` in whole seconds (rounded towards minus infinity); never overflows.
pub fn ms_to_secs(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

/// Refuses an event time outside [`EVENT_WINDOW_START_MS`] ..= `now_ms` +
/// [`EVENT_WINDOW_FUTURE_MS`]; `field` names where it came from.
pub fn check_event_time(
    field: &'static str,
    timestamp_ms: i64,
    now_ms: i64,
) -> Result<i64, ValidationError> {
    let latest = now_ms.saturating_add(EVENT_WINDOW_FUTURE_MS);
    if (EVENT_WINDOW_START_MS..=latest).contains(&timestamp_ms) {
        Ok(timestamp_ms)
    } else {
        Err(ValidationError::new(
            field,
            &timestamp_ms.to_string(),
            EVENT_WINDOW_RULE,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_never_wrap() {
        assert_eq!(secs_to_ms(1_764_219_590), Some(1_764_219_590_000));
        assert_eq!(secs_to_ms(-18_446_742_309_507_951), None);
        assert_eq!(secs_to_ms(i64::MIN), None);
        assert_eq!(secs_to_ms(i64::MAX), None);
        assert_eq!(ms_to_secs(i64::MIN), i64::MIN.div_euclid(1000));
        assert_eq!(ms_to_secs(-1), -1);
    }

    #[test]
    fn the_window_is_2004_to_tomorrow() {
        let now = 1_764_219_590_000;
        assert!(check_event_time("timestamp", now, now).is_ok());
        assert!(check_event_time("timestamp", EVENT_WINDOW_START_MS, now).is_ok());
        assert!(check_event_time("timestamp", EVENT_WINDOW_START_MS - 1, now).is_err());
        assert!(check_event_time("timestamp", now + EVENT_WINDOW_FUTURE_MS + 1, now).is_err());
        let e = check_event_time("timestamp", i64::MAX, now).unwrap_err();
        assert_eq!(e.field, "timestamp");
        assert!(e.to_string().contains("2004-01-01"));
    }
}
