//! Typed store ids, so a link id can never be passed where a campaign id is
//! wanted. The store keeps plain `i64` rows; the worker and the dashboard
//! speak in these types.

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

typed_id!(
    /// Row id of a Facebook Page in the store.
    PageId
);
typed_id!(
    /// Row id of a link (one ref code) in the store.
    LinkId
);
typed_id!(
    /// Row id of a campaign in the store.
    CampaignId
);
typed_id!(
    /// Row id of a promotional channel in the store.
    ChannelId
);
