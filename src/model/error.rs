//! Validation errors and warnings shared by every front end.

use super::Hint;
use std::fmt;

/// Input that breaks a rule. The message names the field, the value and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field} {value:?}: {rule}")]
pub struct ValidationError {
    /// Which input, e.g. `ref` or `page`.
    pub field: &'static str,
    /// The value as given (shortened when very long).
    pub value: String,
    /// What the rule is, in words.
    pub rule: String,
    /// What the user can do about it, for the front end to put in its own
    /// words; not part of this error's `Display`.
    pub hint: Option<Hint>,
}

impl ValidationError {
    /// Builds an error, shortening a very long value so the message stays one readable line.
    pub fn new(field: &'static str, value: &str, rule: impl Into<String>) -> Self {
        Self {
            field,
            value: shorten(value, 80),
            rule: rule.into(),
            hint: None,
        }
    }

    /// The same error with a way out that each front end words itself.
    #[must_use]
    pub fn with_hint(mut self, hint: Hint) -> Self {
        self.hint = Some(hint);
        self
    }
}

/// A failure inside refboard that no input can fix: a poisoned lock, a value
/// that cannot be serialised. Never reported as the user's mistake: the CLI
/// exits 1 for it, not 2, even when a validation error is also in the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal error, not caused by your input (please report it): {what}")]
pub struct InternalError {
    /// What failed, in words.
    pub what: String,
}

impl InternalError {
    /// Builds an internal error describing `what` failed.
    pub fn new(what: impl Into<String>) -> Self {
        Self { what: what.into() }
    }
}

/// Input that is accepted but deserves the user's attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Which input the warning is about.
    pub field: &'static str,
    /// What to look out for.
    pub message: String,
}

impl Warning {
    /// Builds a warning for `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Cuts `s` to at most `max_chars` characters, marking the cut with an ellipsis.
pub fn shorten(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}
