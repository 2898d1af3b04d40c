//! m.me link URLs and ref suggestions.

use super::PageTarget;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986 unreserved characters is encoded, so a ref or a
/// message survives any query parser unchanged.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one query value.
pub fn percent_encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// The m.me URL for a link: `https://m.me/<target>?ref=<ref>[&text=<message>]`.
pub fn link_url(target: &PageTarget, ref_code: &str, prefill_text: Option<&str>) -> String {
    let mut url = format!(
        "https://m.me/{}?ref={}",
        target.as_str(),
        percent_encode_component(ref_code)
    );
    if let Some(text) = prefill_text.filter(|t| !t.is_empty()) {
        url.push_str("&text=");
        url.push_str(&percent_encode_component(text));
    }
    url
}

/// Lowercase ASCII words joined by `_`, e.g. "Spring Sale!" → `spring_sale`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// Suggests a ref from campaign and channel names, e.g. "Spring Sale" +
/// "Newsletter" → `spring_sale-newsletter`, adding `-2`, `-3`, … while the
/// code is taken (compared without case, to avoid near-duplicates).
pub fn suggest_ref<'a>(
    campaign: &str,
    channel: &str,
    existing: impl IntoIterator<Item = &'a str>,
) -> String {
    let parts: Vec<String> = [slug(campaign), slug(channel)]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let base = if parts.is_empty() {
        "link".to_string()
    } else {
        parts.join("-")
    };
    let taken: Vec<String> = existing
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    if !taken.contains(&base) {
        return base;
    }
    (2u32..)
        .map(|n| format!("{base}-{n}"))
        .find(|c| !taken.contains(c))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jaspers() -> PageTarget {
        PageTarget::Username("JaspersMarket".into())
    }

    #[test]
    fn seed_links() {
        for code in [
            "jaspersmarketnewsletter",
            "jaspersmarketFBad",
            "freeshipping",
            "exclusiveinvite",
        ] {
            assert_eq!(
                link_url(&jaspers(), code, None),
                format!("https://m.me/JaspersMarket?ref={code}")
            );
        }
    }

    #[test]
    fn refs_and_messages_are_percent_encoded() {
        assert_eq!(
            link_url(&jaspers(), "a=b+c/d", Some("Hi! Coupon & more?")),
            "https://m.me/JaspersMarket?ref=a%3Db%2Bc%2Fd&text=Hi%21%20Coupon%20%26%20more%3F"
        );
        assert_eq!(
            link_url(&jaspers(), "münchen", None),
            "https://m.me/JaspersMarket?ref=m%C3%BCnchen"
        );
        assert_eq!(
            link_url(&PageTarget::PageId("104729178032417".into()), "x", Some("")),
            "https://m.me/104729178032417?ref=x"
        );
    }
}
