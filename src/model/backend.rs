//! Rules for the bot backend a dashboard syncs from, and for renaming refs:
//! the CLI and the dashboard check through these, so they agree.

use super::{ValidationError, Warning};

/// Checks a backend URL: an absolute `http://` or `https://` URL with a host
/// (and optionally a base path), without `user:password@`, `?query` or
/// `#fragment`. Returns it trimmed, without a trailing slash.
///
/// The URL is saved in the database and shown in messages, so it must hold
/// no secret: refboard signs in with the API token (a `user:password@` would
/// even be sent as a second, Basic, Authorization header and refused), and
/// the API paths are added after the URL, so a query would break them.
pub fn validate_backend_url(url: &str) -> Result<String, ValidationError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rule = "use an http:// or https:// URL with a host, e.g. https://bot.example.com";
    // The value is shown without a password it may carry.
    let refuse = |rule: &str| ValidationError::new("backend", &super::redact_url(url), rule);
    let parsed = url::Url::parse(trimmed).map_err(|_| refuse(rule))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(refuse(rule));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse(
            "leave out user:password@: refboard signs in with the API token, and the URL is saved in the database",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(refuse(
            "leave out the ?query and #fragment: refboard adds the API's paths after the URL, and the URL is saved in the database",
        ));
    }
    Ok(trimmed.to_string())
}

/// Checks an API token: not blank, no spaces or control characters (it goes
/// into an `Authorization` header as is).
pub fn validate_api_token(token: &str) -> Result<String, ValidationError> {
    let trimmed = token.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(
            "token",
            "",
            "the API token cannot be blank",
        ));
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        // The value is a secret: never echo it.
        return Err(ValidationError::new(
            "token",
            "(hidden)",
            "an API token has no spaces or control characters",
        ));
    }
    Ok(trimmed.to_string())
}

/// The warning for changing a link's ref from `old_ref` to `new_ref`: codes
/// and links already printed keep the old ref, and their referrals will no
/// longer count for this link.
pub fn rename_warning(old_ref: &str, new_ref: &str) -> Option<Warning> {
    (old_ref != new_ref).then(|| {
        Warning::new(
            "ref",
            format!("links already printed with ref {old_ref:?} will count as untracked"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_urls() {
        assert_eq!(
            validate_backend_url(" https://bot.example.com/ ").unwrap(),
            "https://bot.example.com"
        );
        assert!(validate_backend_url("http://127.0.0.1:8080").is_ok());
        for bad in [
            "",
            "bot.example.com",
            "ftp://x.org",
            "https://",
            "file:///etc",
        ] {
            let e = validate_backend_url(bad).unwrap_err();
            assert_eq!(e.field, "backend", "{bad}");
        }
    }

    #[test]
    fn backend_urls_carry_no_credentials_query_or_fragment() {
        // A base path stays allowed: the API paths are added after it.
        assert!(validate_backend_url("https://bot.example.com/refboard").is_ok());
        for (bad, rule) in [
            ("http://user:s3cret@127.0.0.1:8080", "user:password@"),
            ("http://user@127.0.0.1:8080", "user:password@"),
            ("https://h.example/?access_token=s3cret", "?query"),
            ("https://h.example/#access_token=s3cret", "#fragment"),
        ] {
            let e = validate_backend_url(bad).unwrap_err();
            assert_eq!(e.field, "backend");
            assert!(e.rule.contains(rule), "{bad}: {e}");
            assert!(!e.to_string().contains("s3cret"), "{e}");
        }
    }

    #[test]
    fn tokens_and_renames() {
        assert_eq!(validate_api_token(" abc ").unwrap(), "abc");
        assert!(validate_api_token("  ").is_err());
        let e = validate_api_token("a b").unwrap_err();
        assert!(!e.to_string().contains("a b"));
        assert!(rename_warning("a", "a").is_none());
        assert!(
            rename_warning("old", "new")
                .unwrap()
                .message
                .contains("\"old\" will count as untracked")
        );
    }
}
