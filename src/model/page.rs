//! Page link targets: vanity usernames and numeric Page IDs, parsed from
//! whatever a user pastes (`@name`, `m.me/name`, a facebook.com URL, …).

use super::ValidationError;
use std::fmt;

/// Domain endings that Facebook refuses at the end of a username.
const DOMAIN_ENDINGS: &[&str] = &[
    ".com", ".net", ".org", ".info", ".biz", ".edu", ".gov", ".co", ".io", ".me",
];

/// Hosts whose first path segment names a page.
const PAGE_HOSTS: &[&str] = &[
    "m.me",
    "facebook.com",
    "fb.com",
    "fb.me",
    "messenger.com",
    "business.facebook.com",
];

/// Facebook's limit on username length.
const MAX_USERNAME_LEN: usize = 50;
const MIN_USERNAME_LEN: usize = 5;

/// What an m.me link points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PageTarget {
    /// A vanity username, as the user spelled it (case and periods kept).
    Username(String),
    /// A numeric Page ID.
    PageId(String),
}

impl PageTarget {
    /// The text that goes after `https://m.me/`.
    pub fn as_str(&self) -> &str {
        match self {
            PageTarget::Username(s) | PageTarget::PageId(s) => s,
        }
    }

    /// Identity of the page: usernames differing only in case or periods are the same page.
    pub fn key(&self) -> String {
        match self {
            PageTarget::Username(s) => s.replace('.', "").to_ascii_lowercase(),
            PageTarget::PageId(id) => format!("id:{id}"),
        }
    }

    /// Parses a stored target (already validated) without re-normalising.
    pub fn from_stored(s: &str) -> Self {
        if is_page_id(s) {
            PageTarget::PageId(s.to_string())
        } else {
            PageTarget::Username(s.to_string())
        }
    }
}

impl fmt::Display for PageTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_page_id(s: &str) -> bool {
    (5..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// Validates a numeric Page ID (as used in webhook `recipient.id`).
pub fn parse_page_id(input: &str) -> Result<String, ValidationError> {
    let s = input.trim();
    if is_page_id(s) {
        Ok(s.to_string())
    } else {
        Err(ValidationError::new(
            "page-id",
            input,
            "a Page ID is 5 to 20 digits",
        ))
    }
}

/// Validates an Instagram account id (the `page_id` that Instagram
/// messaging events carry instead of the Facebook Page ID).
pub fn parse_ig_id(input: &str) -> Result<String, ValidationError> {
    let s = input.trim();
    if is_page_id(s) {
        Ok(s.to_string())
    } else {
        Err(ValidationError::new(
            "ig-id",
            input,
            "an Instagram account ID is 5 to 20 digits",
        ))
    }
}

/// Normalises user input into a page target.
///
/// Accepts `JaspersMarket`, `@JaspersMarket`, `m.me/JaspersMarket`,
/// `https://m.me/JaspersMarket?ref=x`, `https://www.facebook.com/JaspersMarket/`,
/// `fb.com/JaspersMarket`, `facebook.com/profile.php?id=123…` and numeric IDs.
pub fn parse_page_target(input: &str) -> Result<PageTarget, ValidationError> {
    let field = "page";
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(
            field,
            input,
            "enter a Page username, an m.me or facebook.com link, or a numeric Page ID",
        ));
    }
    let candidate = extract_candidate(trimmed)
        .ok_or_else(|| {
            ValidationError::new(
                field,
                input,
                "not a page: use a username, a numeric Page ID, or an m.me or facebook.com link that names the page",
            )
        })?;
    if is_page_id(&candidate) {
        return Ok(PageTarget::PageId(candidate));
    }
    validate_username(&candidate).map_err(|rule| ValidationError::new(field, input, rule))?;
    Ok(PageTarget::Username(candidate))
}

/// Pulls the username or id out of a URL-ish input; plain names pass through.
fn extract_candidate(input: &str) -> Option<String> {
    let s = input.strip_prefix('@').unwrap_or(input);
    let lower = s.to_ascii_lowercase();
    let without_scheme = if let Some(i) = lower.find("://") {
        &s[i + 3..]
    } else {
        s
    };
    let (host_part, rest) = match without_scheme.find('/') {
        Some(i) => (&without_scheme[..i], &without_scheme[i + 1..]),
        None => (without_scheme, ""),
    };
    let mut host = host_part.to_ascii_lowercase();
    for prefix in ["www.", "web.", "mobile."] {
        if let Some(h) = host.strip_prefix(prefix) {
            host = h.to_string();
        }
    }
    if host == "m.facebook.com" {
        host = "facebook.com".to_string();
    }
    if !PAGE_HOSTS.contains(&host.as_str()) {
        // Not a known link: the whole input is the candidate (e.g. "JaspersMarket").
        return if without_scheme.len() == s.len() && !s.contains('/') && !s.contains('?') {
            Some(s.to_string())
        } else {
            None
        };
    }
    let (path, query) = match rest.find(['?', '#']) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let segments: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match segments.as_slice() {
        ["profile.php", ..] => query
            .split('&')
            .find_map(|kv| kv.strip_prefix("id="))
            .map(str::to_string),
        // facebook.com/pages/Some-Name/123456789 and /pg/Name/…
        ["pages", _, id, ..] => Some((*id).to_string()),
        ["pg", name, ..] => Some((*name).to_string()),
        // messenger.com/t/Name
        ["t", name, ..] => Some((*name).to_string()),
        [first, ..] => Some((*first).to_string()),
        [] => None,
    }
}

/// Facebook Help's username rules; returns the broken rule in words.
fn validate_username(name: &str) -> Result<(), String> {
    if let Some((i, c)) = name
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '.'))
    {
        return Err(format!(
            "character {c:?} at position {} is not allowed: a Page username uses only letters, digits and periods",
            i + 1
        ));
    }
    let significant = name.chars().filter(|c| *c != '.').count();
    if significant < MIN_USERNAME_LEN {
        return Err(format!(
            "a Page username needs at least {MIN_USERNAME_LEN} letters or digits"
        ));
    }
    if name.len() > MAX_USERNAME_LEN {
        return Err(format!(
            "a Page username has at most {MAX_USERNAME_LEN} characters"
        ));
    }
    let lower = name.to_ascii_lowercase();
    if let Some(ending) = DOMAIN_ENDINGS.iter().find(|e| lower.ends_with(*e)) {
        return Err(format!(
            "a Page username cannot end in a domain ending such as {ending}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_form_gives_the_username() {
        for input in [
            "JaspersMarket",
            "@JaspersMarket",
            "m.me/JaspersMarket",
            "https://m.me/JaspersMarket?ref=x",
            "https://www.facebook.com/JaspersMarket/",
            "fb.com/JaspersMarket",
            "  http://facebook.com/JaspersMarket#about ",
            "https://m.facebook.com/JaspersMarket",
            "https://www.messenger.com/t/JaspersMarket",
        ] {
            assert_eq!(
                parse_page_target(input).unwrap(),
                PageTarget::Username("JaspersMarket".into()),
                "{input}"
            );
        }
    }

    #[test]
    fn numeric_ids_and_profile_links_give_page_ids() {
        assert_eq!(
            parse_page_target("104729178032417").unwrap(),
            PageTarget::PageId("104729178032417".into())
        );
        assert_eq!(
            parse_page_target("https://www.facebook.com/profile.php?id=104729178032417").unwrap(),
            PageTarget::PageId("104729178032417".into())
        );
        assert_eq!(
            parse_page_target("https://m.me/104729178032417?ref=abc").unwrap(),
            PageTarget::PageId("104729178032417".into())
        );
    }

    #[test]
    fn case_and_periods_do_not_make_a_different_page() {
        let a = parse_page_target("JaspersMarket").unwrap();
        let b = parse_page_target("jaspers.market").unwrap();
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), parse_page_target("jaspersmarket2").unwrap().key());
    }

    #[test]
    fn bad_usernames_name_the_rule() {
        let e = parse_page_target("Jasp").unwrap_err();
        assert_eq!(e.field, "page");
        assert!(e.rule.contains("at least 5"), "{e}");
        let e = parse_page_target("jaspers_market").unwrap_err();
        assert!(e.rule.contains("'_' at position 8"), "{e}");
        let e = parse_page_target("jaspersmarket.com").unwrap_err();
        assert!(e.rule.contains(".com"), "{e}");
        let e = parse_page_target("jaspers.net").unwrap_err();
        assert!(e.rule.contains(".net"), "{e}");
        assert!(parse_page_target("").is_err());
        assert!(parse_page_target("https://example.org/JaspersMarket").is_err());
        assert!(parse_page_target("https://m.me/").is_err());
        let long = "a".repeat(51);
        assert!(
            parse_page_target(&long)
                .unwrap_err()
                .rule
                .contains("at most 50")
        );
    }

    #[test]
    fn page_id_rule() {
        assert_eq!(
            parse_page_id(" 104729178032417 ").unwrap(),
            "104729178032417"
        );
        assert_eq!(parse_page_id("12ab").unwrap_err().field, "page-id");
    }
}
