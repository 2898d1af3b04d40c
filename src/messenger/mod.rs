//! Meta's Messenger Platform webhooks: signature checks and referral parsing.
//!
//! A referral reaches a page's bot in one of three shapes:
//! - a `referral` object on a messaging item (`messaging_referral`): an
//!   existing conversation reopened by a link → *returning*;
//! - `postback.referral`: Get Started tapped after opening a link → *new*;
//! - `message.referral` (Instagram ig.me links answered by typing) → *new*.
//!
//! Everything else (messages, deliveries, reads, postbacks without a
//! referral) is skipped, and unknown fields are ignored.

pub mod actions;
pub mod bounds;
mod parse;
mod referral;
mod signature;

pub use parse::{Kind, ParsedBody, Platform, Referral, Sender, parse_webhook, parse_webhook_at};
pub use signature::{SIGNATURE_HEADER, sign, verify_signature};

use sha2::{Digest, Sha256};

/// What can go wrong with a webhook body.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Not JSON at all.
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not a webhook envelope.
    #[error("not a webhook body: {0}")]
    NotWebhook(String),
    /// The signature header is missing or does not match.
    #[error("{0}")]
    BadSignature(&'static str),
}

/// A keyed hash of a person's id (PSID or chat-plugin user_ref), so that raw
/// ids never leave the relay: 32 lowercase hex characters of HMAC-SHA256.
pub fn hash_sender(key: &[u8], sender: &Sender) -> String {
    use hmac::Mac;
    let mut mac = match hmac::Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm is never taken.
        Err(_) => return String::new(),
    };
    mac.update(sender.kind_tag().as_bytes());
    mac.update(b":");
    mac.update(sender.value().as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// The deterministic id of a referral event: the same referral redelivered by
/// Meta gets the same id, so it is stored once.
///
/// 32 hex characters: the timestamp (12) then a hash of the fields (20). The
/// time prefix keeps ids of recent events together, so a store's unique index
/// takes near-sequential inserts instead of random ones.
pub fn event_id(
    platform: Platform,
    page_id: &str,
    sender_hash: &str,
    timestamp_ms: i64,
    kind: Kind,
    ref_code: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    for part in [
        platform.as_str(),
        page_id,
        sender_hash,
        &timestamp_ms.to_string(),
        kind.as_str(),
        ref_code.unwrap_or(""),
    ] {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    let ts = u64::try_from(timestamp_ms).unwrap_or(0) & 0xffff_ffff_ffff;
    format!("{ts:012x}{}", hex::encode(&h.finalize()[..10]))
}

impl Referral {
    /// The stored form: the sender replaced by its keyed hash, and an event id.
    pub fn into_event(self, hash_key: &[u8], received_at_ms: i64) -> crate::model::ReferralEvent {
        let sender = hash_sender(hash_key, &self.sender);
        crate::model::ReferralEvent {
            event_id: event_id(
                self.platform,
                &self.page_id,
                &sender,
                self.timestamp_ms,
                self.kind,
                self.ref_code.as_deref(),
            ),
            platform: self.platform,
            page_id: self.page_id,
            sender,
            timestamp_ms: self.timestamp_ms,
            kind: self.kind,
            ref_code: self.ref_code,
            source: self.source,
            ref_type: self.ref_type,
            ad_id: self.ad_id,
            ad_title: self.ad_title,
            referer_uri: self.referer_uri,
            received_at_ms,
        }
    }
}
