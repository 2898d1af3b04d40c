//! `relay --goal NAME=PATTERN`: postback and quick-reply payloads that count
//! as a conversion named NAME (issue 21), e.g. `--goal order=ORDER_CONFIRMED*`.
//!
//! A pattern is a glob whose only wildcard is `*` (any run of characters,
//! also none); everything else matches itself, case-sensitively, as Meta
//! delivers payloads exactly as the bot set them. Refused at start: a bad
//! name ([`crate::model::GOAL_RULE`]), an empty pattern, and a pattern of
//! only `*`, which would make every button press a conversion.

use crate::model::{ValidationError, validate_goal};

/// Longest pattern, in bytes: Meta's payloads are at most 1,000 characters.
pub const MAX_PATTERN_BYTES: usize = 1000;

/// One `--goal`: a conversion name and the payload glob that reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    /// The conversion's goal name.
    pub name: String,
    /// The payload glob (`*` only).
    pub pattern: String,
}

impl Goal {
    /// Parses `NAME=PATTERN` (the first `=` splits; a pattern may hold more).
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let Some((name, pattern)) = text.split_once('=') else {
            return Err(ValidationError::new(
                "goal",
                text,
                "write NAME=PATTERN, e.g. order=ORDER_CONFIRMED*",
            ));
        };
        validate_goal("goal", name)?;
        if pattern.is_empty() {
            return Err(ValidationError::new(
                "goal",
                text,
                "the pattern after '=' is empty; give the payload to match, e.g. ORDER_CONFIRMED*",
            ));
        }
        if pattern.bytes().all(|b| b == b'*') {
            return Err(ValidationError::new(
                "goal",
                text,
                "a pattern of only '*' matches every payload, so every button press would count; name the payload, e.g. ORDER_CONFIRMED*",
            ));
        }
        if pattern.len() > MAX_PATTERN_BYTES || pattern.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "goal",
                text,
                "a pattern is at most 1000 bytes, without control characters",
            ));
        }
        Ok(Self {
            name: name.to_string(),
            pattern: pattern.to_string(),
        })
    }

    /// Whether `payload` matches the pattern.
    pub fn matches(&self, payload: &str) -> bool {
        glob_match(self.pattern.as_bytes(), payload.as_bytes())
    }
}

/// The first goal whose pattern matches `payload`, in the order given.
pub fn first_match<'a>(goals: &'a [Goal], payload: &str) -> Option<&'a Goal> {
    goals.iter().find(|g| g.matches(payload))
}

/// `*`-only glob matching in O(pattern × text) at worst and no recursion,
/// so a hostile payload cannot make it slow (one backtrack point: the last `*`).
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_stars_and_literals() {
        let g = Goal::parse("order=ORDER_CONFIRMED*").unwrap();
        assert_eq!(g.name, "order");
        assert!(g.matches("ORDER_CONFIRMED"));
        assert!(g.matches("ORDER_CONFIRMED_1234"));
        assert!(!g.matches("order_confirmed_1"), "case-sensitive");
        assert!(!g.matches("X_ORDER_CONFIRMED"));
        let mid = Goal::parse("book=BOOK_*_DONE").unwrap();
        assert!(mid.matches("BOOK_table_DONE"));
        assert!(mid.matches("BOOK__DONE"));
        assert!(!mid.matches("BOOK_table_DONE!"));
        let exact = Goal::parse("signup=SIGN=UP").unwrap();
        assert_eq!(exact.pattern, "SIGN=UP");
        assert!(exact.matches("SIGN=UP") && !exact.matches("SIGN=UPS"));
        assert!(Goal::parse("a=*x*y*").unwrap().matches("__x__y"));
    }

    #[test]
    fn long_payloads_match_by_their_last_characters() {
        // The case that makes a backtracking matcher take minutes.
        let g = Goal::parse("g=*a*a*a*a*a*b").unwrap();
        let payload = "a".repeat(1000);
        assert!(!g.matches(&payload));
        assert!(g.matches(&format!("{payload}b")));
    }

    #[test]
    fn empty_catch_all_and_badly_named_goals_are_refused() {
        for (bad, words) in [
            ("order=", "empty"),
            ("order=*", "every payload"),
            ("order=**", "every payload"),
            ("order", "NAME=PATTERN"),
            ("=ORDER*", "goal name"),
            ("or der!=ORDER*", "goal name"),
            ("order=A\u{1b}B", "control"),
        ] {
            let e = Goal::parse(bad).unwrap_err();
            assert_eq!(e.field, "goal", "{bad}");
            assert!(e.rule.contains(words), "{bad}: {e}");
        }
    }

    #[test]
    fn the_first_goal_given_wins() {
        let goals = [
            Goal::parse("vip=ORDER_VIP*").unwrap(),
            Goal::parse("order=ORDER_*").unwrap(),
        ];
        assert_eq!(first_match(&goals, "ORDER_VIP_1").unwrap().name, "vip");
        assert_eq!(first_match(&goals, "ORDER_2").unwrap().name, "order");
        assert!(first_match(&goals, "HELLO").is_none());
    }
}
