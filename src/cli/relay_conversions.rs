//! The `relay` flags of conversions (issue 21): the events token, the
//! relay's pages, `--goal` and forwarding to Meta. A bad one stops the relay
//! at start with its flag named (exit 2).

use crate::model::ValidationError;
use crate::relay::{ConversionOptions, EVENTS_TOKEN_ENV, Goal};

/// `Debug` by hand: the events token and the forward URL (it holds Meta's
/// access token) stay out of any debug output.
#[derive(Clone, clap::Args)]
pub(super) struct ConversionArgs {
    /// Bearer token of POST /v1/conversions (separate from the API token); the endpoint is off without it
    #[arg(long, env = EVENTS_TOKEN_ENV, hide_env_values = true)]
    events_token: Option<String>,
    /// A page (or Instagram account) id conversions may name before its first referral arrives (repeatable)
    #[arg(long = "page", value_name = "ID")]
    pages: Vec<String>,
    /// A postback or quick-reply payload glob counted as conversion NAME, e.g. order=ORDER_CONFIRMED* (repeatable)
    #[arg(long = "goal", value_name = "NAME=PATTERN")]
    goals: Vec<String>,
    /// Pass every accepted conversion body on, unchanged, to Meta's events URL (it holds the access token: prefer the environment variable)
    #[arg(
        long,
        value_name = "URL",
        env = "REFBOARD_FORWARD_CONVERSIONS",
        hide_env_values = true
    )]
    forward_conversions: Option<String>,
    /// Record each person's first message after a referral (its time only, never its text); needs the messages subscription
    #[arg(long)]
    conversations: bool,
}

impl std::fmt::Debug for ConversionArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversionArgs")
            .field("events_token", &self.events_token.as_ref().map(|_| "***"))
            .field("pages", &self.pages)
            .field("goals", &self.goals)
            .field(
                "forward_conversions",
                &self
                    .forward_conversions
                    .as_deref()
                    .map(crate::relay::redact_url),
            )
            .finish_non_exhaustive()
    }
}

impl ConversionArgs {
    /// The relay's conversion options, each bad value named by its flag.
    pub(super) fn options(&self) -> Result<ConversionOptions, ValidationError> {
        let goals = self
            .goals
            .iter()
            .map(|g| {
                Goal::parse(g).map_err(|e| ValidationError {
                    field: "--goal",
                    ..e
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let events_token = match self.events_token.as_deref() {
            None | Some("") => None,
            Some(t) => Some(
                crate::model::validate_api_token(t).map_err(|e| ValidationError {
                    field: "--events-token / REFBOARD_EVENTS_TOKEN",
                    ..e
                })?,
            ),
        };
        for p in &self.pages {
            if p.is_empty() || p.len() > 64 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ValidationError::new(
                    "--page",
                    p,
                    "a page id is 1 to 64 digits",
                ));
            }
        }
        Ok(ConversionOptions {
            events_token,
            pages: self.pages.clone(),
            goals,
            forward: self.forward_conversions.clone(),
            conversations: self.conversations,
        })
    }
}
