//! The referral a webhook item carries, as parsed and before it is stored:
//! shared by the parser and the field bounds it applies.

pub use crate::model::{Kind, Platform};

/// Who opened the link: a page-scoped id, or the chat plugin's `user_ref`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sender {
    /// `sender.id` (PSID or IGSID).
    Id(String),
    /// `sender.user_ref` from the customer chat plugin.
    UserRef(String),
}

impl Sender {
    /// The raw id. Never log or store it outside the relay.
    pub fn value(&self) -> &str {
        match self {
            Sender::Id(s) | Sender::UserRef(s) => s,
        }
    }

    /// `id` or `user_ref`, so the two id spaces never collide when hashed.
    pub fn kind_tag(&self) -> &'static str {
        match self {
            Sender::Id(_) => "id",
            Sender::UserRef(_) => "user_ref",
        }
    }
}

/// One referral carried by a webhook body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// `recipient.id`, else `entry.id`.
    pub page_id: String,
    /// The person.
    pub sender: Sender,
    /// Event time, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// New or returning.
    pub kind: Kind,
    /// The `ref` parameter, if the link had one.
    pub ref_code: Option<String>,
    /// `source` as sent (SHORTLINK, ADS, CUSTOMER_CHAT_PLUGIN, …).
    pub source: Option<String>,
    /// `type` as sent (OPEN_THREAD, …).
    pub ref_type: Option<String>,
    /// `ad_id` for ads.
    pub ad_id: Option<String>,
    /// `ads_context_data.ad_title` for ads.
    pub ad_title: Option<String>,
    /// `referer_uri` for the chat plugin.
    pub referer_uri: Option<String>,
}
