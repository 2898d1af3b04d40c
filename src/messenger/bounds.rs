//! Length bounds on the fields of a referral, checked before it is stored.
//!
//! Refs and the other fields come from strangers. Without a bound, one item
//! with a ref of a megabyte makes every page of the pull API that holds it
//! huge, and a page over a client's cap blocks the sync behind it. Each bound
//! is Meta's documented limit where there is one, else a generous multiple
//! of the longest value Meta sends; `docs/sync-protocol.md` lists them.

use super::referral::{Referral, Sender};
use crate::model::{MAX_REF_ENCODED_LEN, ValidationError};

/// Longest `ref`, in characters: Meta's m.me limit on the ref parameter
/// (2,083). Meta delivers it decoded, so a ref within the limit is never longer.
pub const MAX_REF_CHARS: usize = MAX_REF_ENCODED_LEN;
/// Longest `source` and `type`: Meta's values are short upper-case words
/// (`SHORTLINK`, `CUSTOMER_CHAT_PLUGIN`, `OPEN_THREAD`).
pub const MAX_WORD_CHARS: usize = 64;
/// Longest page id, ad id and sender id (PSID, IGSID): Meta's ids are
/// decimal numbers of up to 20 digits.
pub const MAX_ID_CHARS: usize = 64;
/// Longest chat-plugin `user_ref`: Meta's checkbox and chat plugins take at
/// most 250 characters.
pub const MAX_USER_REF_CHARS: usize = 256;
/// Longest `ads_context_data.ad_title`: ad headlines are far shorter.
pub const MAX_AD_TITLE_CHARS: usize = 1024;
/// Longest `referer_uri`: the usual URL limit, as for refs.
pub const MAX_REFERER_URI_CHARS: usize = 2083;

/// Refuses a referral with any field over its bound, naming the field, its
/// length (never the whole value) and the bound.
pub fn check(r: &Referral) -> Result<(), ValidationError> {
    let sender = match &r.sender {
        Sender::Id(id) => ("sender.id", id.as_str(), MAX_ID_CHARS),
        Sender::UserRef(u) => ("sender.user_ref", u.as_str(), MAX_USER_REF_CHARS),
    };
    let fields = [
        ("ref", r.ref_code.as_deref(), MAX_REF_CHARS),
        ("source", r.source.as_deref(), MAX_WORD_CHARS),
        ("type", r.ref_type.as_deref(), MAX_WORD_CHARS),
        ("ad_id", r.ad_id.as_deref(), MAX_ID_CHARS),
        ("ad_title", r.ad_title.as_deref(), MAX_AD_TITLE_CHARS),
        (
            "referer_uri",
            r.referer_uri.as_deref(),
            MAX_REFERER_URI_CHARS,
        ),
        ("page_id", Some(r.page_id.as_str()), MAX_ID_CHARS),
        (sender.0, Some(sender.1), sender.2),
    ];
    for (field, value, max_chars) in fields {
        let Some(value) = value else { continue };
        // Bytes bound chars from above: count chars only for long values.
        if value.len() <= max_chars {
            continue;
        }
        let chars = value.chars().count();
        if chars > max_chars {
            // The sender is a person's id: never echo it.
            let shown = if field.starts_with("sender") {
                "(hidden)"
            } else {
                value
            };
            return Err(ValidationError::new(
                field,
                shown,
                format!("is {chars} characters long; at most {max_chars} are accepted"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::parse::{Kind, Platform, Sender};
    use super::*;

    fn referral() -> Referral {
        Referral {
            platform: Platform::Messenger,
            page_id: "104729178032417".into(),
            sender: Sender::Id("6098".into()),
            timestamp_ms: 1_764_201_600_000,
            kind: Kind::New,
            ref_code: Some("summer".into()),
            source: Some("SHORTLINK".into()),
            ref_type: Some("OPEN_THREAD".into()),
            ad_id: None,
            ad_title: None,
            referer_uri: None,
        }
    }

    #[test]
    fn each_field_is_accepted_at_its_bound_and_refused_one_past_it() {
        type Set = fn(&mut Referral, String);
        let cases: [(&str, usize, Set); 9] = [
            ("ref", MAX_REF_CHARS, |r, v| r.ref_code = Some(v)),
            ("source", MAX_WORD_CHARS, |r, v| r.source = Some(v)),
            ("type", MAX_WORD_CHARS, |r, v| r.ref_type = Some(v)),
            ("ad_id", MAX_ID_CHARS, |r, v| r.ad_id = Some(v)),
            ("ad_title", MAX_AD_TITLE_CHARS, |r, v| r.ad_title = Some(v)),
            ("referer_uri", MAX_REFERER_URI_CHARS, |r, v| {
                r.referer_uri = Some(v)
            }),
            ("page_id", MAX_ID_CHARS, |r, v| r.page_id = v),
            ("sender.id", MAX_ID_CHARS, |r, v| r.sender = Sender::Id(v)),
            ("sender.user_ref", MAX_USER_REF_CHARS, |r, v| {
                r.sender = Sender::UserRef(v)
            }),
        ];
        for (field, max, set) in cases {
            // Multi-byte characters count as one: the bound is in characters.
            let mut at = referral();
            set(&mut at, "é".repeat(max));
            assert_eq!(check(&at), Ok(()), "{field} at {max}");
            let mut over = referral();
            set(&mut over, "é".repeat(max + 1));
            let e = check(&over).expect_err(field);
            assert_eq!(e.field, field);
            assert!(e.rule.contains(&format!("{} characters", max + 1)), "{e}");
            assert!(e.value.chars().count() <= 80, "the value is shortened");
            if field.starts_with("sender") {
                assert_eq!(e.value, "(hidden)");
            }
        }
    }

    #[test]
    fn metas_ref_limit_is_2083() {
        assert_eq!(MAX_REF_CHARS, 2083);
    }
}
