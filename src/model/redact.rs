//! URLs as messages may show them: without the password of their userinfo
//! (`http://user:pw@host`, `postgres://app:pw@db/x`) and without the values
//! of query or fragment parameters whose names say they are secret
//! (`?access_token=…`, `#access_token=…`).
//!
//! Every error, log line and notice that formats a URL goes through
//! [`redact_url`]; the CLI also passes whole error messages through
//! [`redact_urls`], so a URL quoted by a library error is covered too.
//!
//! The work is textual on purpose: a URL that the `url` crate cannot parse
//! (a port out of range, a bad host) is exactly the one an error quotes, and
//! it must lose its password too. Everything else is left as typed, so the
//! user recognises it.

use std::borrow::Cow;

/// What replaces a secret.
const HIDDEN: &str = "***";

/// Query parameter names (lowercase) whose values are secret, matched as
/// substrings: `access_token`, `api_key`, `password`, `sig`, `secret`, ….
const SECRET_QUERY_NAMES: [&str; 9] = [
    "token",
    "key",
    "secret",
    "pass",
    "pwd",
    "sig",
    "auth",
    "credential",
    "session",
];

/// What a text with no `scheme://` but an `@` or `=` is shown as: it may be
/// `user:password@host` or a `host=… password=…` connection string.
const NOT_A_URL: &str = "(not shown: not a URL)";

/// `url` with the password of its userinfo and secret query values shown as
/// `***`; the rest as typed. Text with no `scheme://` is returned unchanged,
/// unless it has an `@` or `=` (then it could hide a password and is not
/// shown at all).
pub fn redact_url(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        if url.contains(['@', '=']) {
            return NOT_A_URL.into();
        }
        return url.to_string();
    };
    let after = &url[start..];
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..authority_end];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..start]);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(HIDDEN);
                }
                None => out.push_str(userinfo),
            }
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    let rest = &after[authority_end..];
    let (before_fragment, fragment) = match rest.find('#') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match before_fragment.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            out.push_str(&redact_query(query));
        }
        None => out.push_str(before_fragment),
    }
    // A fragment can carry `name=value` pairs too (OAuth's implicit flow
    // puts an access_token there).
    match fragment.strip_prefix('#') {
        Some(pairs) => {
            out.push('#');
            out.push_str(&redact_query(pairs));
        }
        None => out.push_str(fragment),
    }
    out
}

/// `a=1&access_token=x` → `a=1&access_token=***`.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(name) => format!("{name}={HIDDEN}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_QUERY_NAMES.iter().any(|s| name.contains(s))
}

/// `text` with every URL in it (each `scheme://…` up to a space, quote,
/// bracket or the end) passed through [`redact_url`]. Borrows `text` when
/// it holds no `://`.
pub fn redact_urls(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let ends = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '(' | ')' | '`');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(sep) = rest.find("://") {
        // The scheme: letters, digits, `+`, `-` and `.` before the `://`.
        let scheme_start = rest[..sep]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let end = rest[sep..].find(ends).map_or(rest.len(), |i| sep + i);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&redact_url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_secret_query_values_are_hidden() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example:5432/refboard"),
            "postgres://app:***@db.example:5432/refboard"
        );
        assert_eq!(
            redact_url("http://user:pw@127.0.0.1:99999/hook?x=1#f"),
            "http://user:***@127.0.0.1:99999/hook?x=1#f"
        );
        // An @ in the password itself: the host is after the last one.
        assert_eq!(
            redact_url("https://u:p@ss@h.example/"),
            "https://u:***@h.example/"
        );
        assert_eq!(
            redact_url("https://h.example/v1?Access_Token=abc&limit=5&api_key=k#x"),
            "https://h.example/v1?Access_Token=***&limit=5&api_key=***#x"
        );
        assert_eq!(
            redact_url("https://h.example/cb#access_token=abc&state=1"),
            "https://h.example/cb#access_token=***&state=1"
        );
    }

    #[test]
    fn urls_without_secrets_stay_as_typed() {
        for url in [
            "http://127.0.0.1:8080",
            "https://bot.example.com/",
            "postgres://db/x",
            "https://user@h.example/p?limit=5",
            "not a url",
            "",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }

    #[test]
    fn every_url_in_a_message_is_redacted() {
        let msg = "backend unreachable (error sending request for url (http://u:pw1@h:1/v1/referrals?token=t2)): http://u:pw1@h:1; see \"ftp://a:pw3@x\"";
        let shown = redact_urls(msg);
        for secret in ["pw1", "t2", "pw3"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(
            shown,
            "backend unreachable (error sending request for url (http://u:***@h:1/v1/referrals?token=***)): http://u:***@h:1; see \"ftp://a:***@x\""
        );
        assert!(matches!(redact_urls("no url here"), Cow::Borrowed(_)));
        // Lone values that could hide a password are not shown at all.
        assert_eq!(redact_url("app:pw@db:5432/x"), NOT_A_URL);
        assert_eq!(redact_url("host=db password=pw"), NOT_A_URL);
        assert_eq!(redact_url("localhost:8080"), "localhost:8080");
    }
}
