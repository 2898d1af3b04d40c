//! Referral events as stored and synced: one row per referral, with the
//! person's id replaced by a keyed hash.

use serde::{Deserialize, Serialize};

/// Which product the webhook came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// `object: "page"`.
    Messenger,
    /// `object: "instagram"`.
    Instagram,
}

impl Platform {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Messenger => "messenger",
            Platform::Instagram => "instagram",
        }
    }
}

/// Whether the link started a conversation or reopened one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The conversation was started through the link.
    New,
    /// An existing conversation was reopened.
    Returning,
}

impl Kind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::New => "new",
            Kind::Returning => "returning",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new" => Some(Kind::New),
            "returning" => Some(Kind::Returning),
            _ => None,
        }
    }
}

/// A referral event as the relay stores it and the sync API serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralEvent {
    /// Deterministic id: redeliveries of the same referral share it.
    pub event_id: String,
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The page's numeric id.
    pub page_id: String,
    /// Keyed hash of the person's id; raw PSIDs never leave the relay.
    pub sender: String,
    /// Event time, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// New or returning.
    pub kind: Kind,
    /// The `ref` parameter.
    #[serde(rename = "ref", default)]
    pub ref_code: Option<String>,
    /// `source` as sent.
    #[serde(default)]
    pub source: Option<String>,
    /// `type` as sent.
    #[serde(rename = "type", default)]
    pub ref_type: Option<String>,
    /// Ad id, for ads.
    #[serde(default)]
    pub ad_id: Option<String>,
    /// Ad title, for ads.
    #[serde(default)]
    pub ad_title: Option<String>,
    /// Referring page, for the chat plugin.
    #[serde(default)]
    pub referer_uri: Option<String>,
    /// When the backend received it, milliseconds since the Unix epoch.
    pub received_at_ms: i64,
}
