//! Redirects from a backend: followed only within the same origin.
//!
//! A redirect to another scheme, host or port is not followed: the HTTP
//! client would drop the token on the way, and the events of whoever answers
//! there would be stored as this backend's. The sync stops and says where the
//! backend moved, without user info or query (they may hold secrets).

use crate::model::shorten_text;
use reqwest::Url;

/// Same-origin redirects followed for one request, at most.
pub const MAX_REDIRECTS: usize = 5;

/// Scheme, host and port (the default port made explicit) are the same.
pub(super) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The redirect policy of every sync request: follow within the origin, up to
/// [`MAX_REDIRECTS`]; stop at a redirect elsewhere, so the caller sees the
/// 3xx answer and can report where it points.
pub(super) fn policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let leaves = attempt
            .previous()
            .first()
            .is_some_and(|first| !same_origin(first, attempt.url()));
        if leaves {
            attempt.stop()
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(TooManyRedirects)
        } else {
            attempt.follow()
        }
    })
}

/// More than [`MAX_REDIRECTS`] redirects for one request.
#[derive(Debug)]
pub(super) struct TooManyRedirects;

impl std::fmt::Display for TooManyRedirects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the backend redirected more than {MAX_REDIRECTS} times")
    }
}

impl std::error::Error for TooManyRedirects {}

/// `location` resolved against `base`, for messages: no user info, no query
/// or fragment (marked `?…` when there was one), at most 200 characters.
pub(super) fn redacted(base: &Url, location: &str) -> String {
    let Ok(mut url) = base.join(location) else {
        return "(an address that is not a URL)".into();
    };
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let had_query = url.query().is_some();
    url.set_query(None);
    url.set_fragment(None);
    let mut shown = url.to_string();
    if had_query {
        shown.push_str("?…");
    }
    shorten_text(&shown, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(same_origin(
            &u("https://bot.example.com/v1"),
            &u("https://bot.example.com:443/v2?x")
        ));
        assert!(!same_origin(
            &u("https://bot.example.com/"),
            &u("http://bot.example.com/")
        ));
        assert!(!same_origin(
            &u("http://127.0.0.1:8080/"),
            &u("http://127.0.0.1:8081/")
        ));
        assert!(!same_origin(
            &u("https://bot.example.com/"),
            &u("https://evil.example.com/")
        ));
    }

    #[test]
    fn redirect_targets_lose_user_info_and_query() {
        let base = Url::parse("http://127.0.0.1:8080/v1/referrals?limit=5").unwrap();
        assert_eq!(
            redacted(
                &base,
                "https://u:pw@new.example.com:8443/v1/referrals?token=s3cret#f"
            ),
            "https://new.example.com:8443/v1/referrals?…"
        );
        assert_eq!(
            redacted(&base, "/moved/v1/referrals"),
            "http://127.0.0.1:8080/moved/v1/referrals"
        );
        assert_eq!(
            redacted(&base, "http://[::1"),
            "(an address that is not a URL)"
        );
        let long = format!("https://x.example.com/{}", "a".repeat(500));
        assert_eq!(redacted(&base, &long).chars().count(), 200);
    }
}
