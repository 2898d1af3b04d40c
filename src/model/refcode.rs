//! Ref code rules from Meta's m.me documentation.
//!
//! Letters, digits, `_`, `-` and `=` reach the webhook unchanged. `+ / . :`
//! were allowed by older surfaces, so they pass with a warning. Non-ASCII
//! letters pass with a warning too (they must be percent-encoded, which
//! refboard does). Everything else is refused.

use super::link::percent_encode_component;
use super::{ValidationError, Warning};

/// Messenger's limit on the percent-encoded `ref` value.
pub const MAX_REF_ENCODED_LEN: usize = 2083;
/// Longest CTA text that still fits under a QR code in a caption.
const MAX_CTA_CHARS: usize = 200;
/// Longest prefilled message refboard accepts.
const MAX_PREFILL_CHARS: usize = 1000;

/// Checks a ref code's characters and length; returns the warnings it raises.
pub fn validate_ref(code: &str) -> Result<Vec<Warning>, ValidationError> {
    let field = "ref";
    if code.is_empty() {
        return Err(ValidationError::new(
            field,
            code,
            "a ref code cannot be empty",
        ));
    }
    let mut legacy = Vec::new();
    let mut non_ascii = Vec::new();
    for (i, c) in code.chars().enumerate() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' | '=' => {}
            '+' | '/' | '.' | ':' => {
                if !legacy.contains(&c) {
                    legacy.push(c)
                }
            }
            c if c.is_alphanumeric() => {
                if !non_ascii.contains(&c) {
                    non_ascii.push(c)
                }
            }
            c => {
                return Err(ValidationError::new(
                    field,
                    code,
                    format!(
                        "character {c:?} at position {} is not allowed: use letters, digits, '_', '-' or '='",
                        i + 1
                    ),
                ));
            }
        }
    }
    let encoded_len = percent_encode_component(code).len();
    if encoded_len > MAX_REF_ENCODED_LEN {
        return Err(ValidationError::new(
            field,
            code,
            format!(
                "is {encoded_len} characters once percent-encoded; Messenger allows at most {MAX_REF_ENCODED_LEN}"
            ),
        ));
    }
    let mut warnings = Vec::new();
    if !legacy.is_empty() {
        let list: Vec<String> = legacy.iter().map(|c| format!("'{c}'")).collect();
        warnings.push(Warning::new(
            field,
            format!(
                "{} only worked on older Messenger surfaces; it is percent-encoded, but prefer letters, digits, '_', '-' or '='",
                list.join(", ")
            ),
        ));
    }
    if !non_ascii.is_empty() {
        let list: String = non_ascii.iter().collect();
        warnings.push(Warning::new(
            field,
            format!(
                "non-ASCII letters ({list}) are percent-encoded; Messenger documents only ASCII letters and digits"
            ),
        ));
    }
    Ok(warnings)
}

/// Checks that `code` is unique among a page's existing refs.
///
/// An exact match is refused; a match that differs only in letter case is
/// accepted with a warning, since refs are case-sensitive but easy to confuse.
pub fn check_ref_unique<'a>(
    code: &str,
    existing: impl IntoIterator<Item = &'a str>,
) -> Result<Option<Warning>, ValidationError> {
    let mut warning = None;
    for other in existing {
        if other == code {
            return Err(ValidationError::new(
                "ref",
                code,
                "this page already has a link with this ref code",
            ));
        }
        if warning.is_none() && other.eq_ignore_ascii_case(code) {
            warning = Some(Warning::new(
                "ref",
                format!(
                    "differs only in letter case from the existing ref {other:?}; people may mix them up"
                ),
            ));
        }
    }
    Ok(warning)
}

/// Checks the call-to-action text shown beside a link or under its QR code.
pub fn validate_cta(cta: &str) -> Result<Vec<Warning>, ValidationError> {
    if cta.chars().count() > MAX_CTA_CHARS {
        return Err(ValidationError::new(
            "cta",
            cta,
            format!("a call to action has at most {MAX_CTA_CHARS} characters"),
        ));
    }
    if cta.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "cta",
            cta,
            "a call to action is one line without control characters",
        ));
    }
    Ok(Vec::new())
}

/// Checks the optional prefilled message (`text=` on the m.me link).
pub fn validate_prefill_text(text: &str) -> Result<(), ValidationError> {
    if text.trim().is_empty() {
        return Err(ValidationError::new(
            "text",
            text,
            "a prefilled message cannot be blank; leave it out instead",
        ));
    }
    if text.chars().count() > MAX_PREFILL_CHARS {
        return Err(ValidationError::new(
            "text",
            text,
            format!("a prefilled message has at most {MAX_PREFILL_CHARS} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::suggest_ref;

    #[test]
    fn the_seed_examples_are_valid_without_warnings() {
        for code in [
            "jaspersmarketnewsletter",
            "jaspersmarketFBad",
            "freeshipping",
            "exclusiveinvite",
            "spring_sale-flyer",
            "a=b",
        ] {
            assert_eq!(validate_ref(code).unwrap(), vec![], "{code}");
        }
    }

    #[test]
    fn legacy_characters_warn() {
        let w = validate_ref("summer/2024.v1").unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].message.contains("'/', '.'"), "{}", w[0]);
    }

    #[test]
    fn non_ascii_letters_warn() {
        let w = validate_ref("münchen").unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].message.contains('ü'));
    }

    #[test]
    fn bad_characters_are_named_with_their_position() {
        let e = validate_ref("free shipping").unwrap_err();
        assert_eq!(e.field, "ref");
        assert_eq!(e.value, "free shipping");
        assert!(e.rule.contains("' ' at position 5"), "{e}");
        let e = validate_ref("a&b").unwrap_err();
        assert!(e.rule.contains("'&' at position 2"), "{e}");
        assert!(validate_ref("").unwrap_err().rule.contains("empty"));
    }

    #[test]
    fn length_is_measured_after_percent_encoding() {
        assert!(validate_ref(&"a".repeat(2083)).is_ok());
        assert!(validate_ref(&"a".repeat(2084)).is_err());
        // '/' becomes %2F: 700 of them encode to 2100 characters.
        let e = validate_ref(&"/".repeat(700)).unwrap_err();
        assert!(e.rule.contains("2100"), "{e}");
        assert!(e.value.chars().count() <= 80);
    }

    #[test]
    fn uniqueness_is_exact_with_a_case_warning() {
        let existing = ["freeshipping", "jaspersmarketFBad"];
        assert!(check_ref_unique("freeshipping", existing).is_err());
        let w = check_ref_unique("jaspersmarketfbad", existing).unwrap();
        assert!(w.unwrap().message.contains("jaspersmarketFBad"));
        assert_eq!(check_ref_unique("exclusiveinvite", existing).unwrap(), None);
    }

    #[test]
    fn cta_and_text_rules() {
        assert!(validate_cta("Get free coupon in Messenger").is_ok());
        assert!(validate_cta(&"x".repeat(201)).is_err());
        assert!(validate_cta("a\nb").is_err());
        assert!(validate_prefill_text("Hi! I want the coupon").is_ok());
        assert!(validate_prefill_text("  ").is_err());
    }

    /// Moved from link.rs: it checks a suggestion against the ref rules, and
    /// the rules live here (refcode already builds on link, not the reverse).
    #[test]
    fn suggestions() {
        assert_eq!(
            suggest_ref("Spring Sale", "Newsletter", []),
            "spring_sale-newsletter"
        );
        assert_eq!(
            suggest_ref("Spring Sale", "Newsletter", ["Spring_Sale-Newsletter"]),
            "spring_sale-newsletter-2"
        );
        assert_eq!(
            suggest_ref(
                "Spring Sale",
                "Newsletter",
                ["spring_sale-newsletter", "spring_sale-newsletter-2"]
            ),
            "spring_sale-newsletter-3"
        );
        assert_eq!(
            suggest_ref("  Black  Friday!! ", "FB ad", []),
            "black_friday-fb_ad"
        );
        assert_eq!(suggest_ref("***", "", []), "link");
        assert!(super::super::validate_ref(&suggest_ref("Été", "SMS", [])).is_ok());
    }
}
