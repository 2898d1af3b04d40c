//! The link model: pages, channels, campaigns, links and the Messenger rules
//! that govern them (usernames, ref codes, m.me URLs).
//!
//! Pure code: no GUI, database or network. Every front end (CLI, GUI, relay)
//! validates through these functions so that they all give the same messages.

mod alias;
mod attribution;
mod backend;
mod conversion;
mod display;
mod error;
mod event;
mod event_filter;
mod export_item;
mod hint;
mod ids;
mod link;
mod page;
mod redact;
mod refcode;
mod time;
mod types;

pub use alias::{Alias, MAX_TYPO_DISTANCE, SHORT_REF_CHARS, typo_candidates, validate_alias};
pub use attribution::{
    Attribution, CreditModel, DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, MIN_WINDOW_DAYS,
    validate_window_days,
};
pub use backend::{rename_warning, validate_api_token, validate_backend_url};
pub use conversion::{
    CURRENCY_RULE, ConversionEvent, ConversionKind, GOAL_RULE, MAX_GOAL_CHARS, MICROS_PER_UNIT,
    VALUE_DECIMALS, VALUE_RULE, micros_text, parse_value_micros, validate_currency, validate_goal,
};
pub use display::{
    SAFE_TEXT_MAX_CHARS, acts_on_terminal, channel_kind_label, is_bidi_control,
    is_invisible_format, safe_display, safe_text, source_label, terminal_safe,
};
pub use error::{InternalError, ValidationError, Warning, shorten as shorten_text};
pub use event::{Kind, Platform, ReferralEvent};
pub use event_filter::EventFilter;
pub use export_item::ExportItem;
pub use hint::Hint;
pub use ids::{CampaignId, ChannelId, LinkId, PageId};
pub use link::{link_url, percent_encode_component, suggest_ref};
pub use page::{PageTarget, parse_ig_id, parse_page_id, parse_page_target};
pub use redact::{redact_url, redact_urls};
pub use refcode::{
    MAX_REF_ENCODED_LEN, check_ref_unique, validate_cta, validate_prefill_text, validate_ref,
};
pub use time::{
    EVENT_WINDOW_FUTURE_MS, EVENT_WINDOW_RULE, EVENT_WINDOW_START_MS, check_event_time, ms_to_secs,
    secs_to_ms,
};
pub use types::{
    Campaign, Channel, ChannelKind, Link, NewCampaign, NewLink, NewPage, Page, parse_date,
    validate_name, validate_notes,
};
