//! The setup doctor: checks a page's Messenger settings through Meta's Graph
//! API and the relay's `/healthz`, and fixes what it can once asked.
//!
//! Each [`Check`] is green, amber or red, says what it means for referrals
//! and lists the calls it made (method and path, never the token). The
//! checks run in order; a check that cannot run because an earlier one
//! failed (no working token, a rate limit) is amber, "not checked", and
//! makes no call, so a rate-limited page is not asked again.
//!
//! Fixes ([`Fix`]) are offered by the checks and applied one at a time by
//! [`apply`] after the front end has shown [`Fix::preview`] and the user
//! agreed. A fix that needs a permission the token lacks is refused before
//! anything is sent: the check's own read needs the same permission (Meta's
//! reference: `subscribed_apps` needs `pages_manage_metadata` to read and to
//! write, `messenger_profile` needs `pages_messaging` for both), so the
//! read's error names it; see [`Check::missing_permission`].

mod checks;
mod fix;
mod relay;
mod session;

pub use fix::{Applied, DoctorError, Fix, apply, validate_payload};
pub use session::{Outcome, PageToken, session};

use super::Blame;
use crate::graph::{GraphClient, GraphConfig, GraphError};
use crate::model::Page;

/// The webhook fields a referral campaign needs.
pub const NEEDED_FIELDS: [&str; 2] = ["messaging_referrals", "messaging_postbacks"];
/// A relay whose last event is older than this is amber.
pub const STALE_EVENT_SECS: i64 = 7 * 24 * 3600;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Colour {
    /// Set up right for referrals.
    Green,
    /// Works, with a caveat, or could not be checked.
    Amber,
    /// Referrals are lost or cannot be counted until it is fixed.
    Red,
}

impl Colour {
    /// `green`, `amber` or `red`.
    pub fn word(self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Amber => "amber",
            Colour::Red => "red",
        }
    }
}

/// Which check, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CheckId {
    /// The token works and belongs to this page.
    Token,
    /// The page's username matches refboard's m.me links.
    Username,
    /// The app is subscribed to the referral fields.
    Subscriptions,
    /// A Get Started button (and ice breakers).
    GetStarted,
    /// The linked Instagram account.
    Instagram,
    /// The relay: verified by Meta, receiving events.
    Relay,
}

impl CheckId {
    /// A short title for the check.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::Token => "Page access token",
            CheckId::Username => "Page username",
            CheckId::Subscriptions => "Webhook fields",
            CheckId::GetStarted => "Get Started button",
            CheckId::Instagram => "Instagram account",
            CheckId::Relay => "Relay",
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Which check.
    pub id: CheckId,
    /// Its verdict.
    pub colour: Colour,
    /// What it means for referrals, in plain words.
    pub meaning: String,
    /// The calls made, e.g. `GET /v26.0/me?fields=id,name` (no token).
    pub calls: Vec<String>,
    /// What would put it right, if refboard can do it.
    pub fix: Option<Fix>,
    /// For a red check: whose mistake it is (the CLI's exit code).
    pub blame: Option<Blame>,
    /// The permission the token lacks, when the check's read was refused
    /// for it; the matching fix is then refused before sending anything.
    pub missing_permission: Option<String>,
    /// After a rate limit: minutes until Meta answers again.
    pub retry_after_mins: Option<u64>,
    /// The id the check read, when a later check needs it (the linked
    /// Instagram account's id, for Instagram's ice breakers).
    pub found_id: Option<String>,
}

impl Check {
    fn new(id: CheckId, colour: Colour, meaning: impl Into<String>) -> Self {
        Self {
            id,
            colour,
            meaning: meaning.into(),
            calls: Vec::new(),
            fix: None,
            blame: None,
            missing_permission: None,
            retry_after_mins: None,
            found_id: None,
        }
    }

    /// An amber "not checked" line, with the reason.
    fn skipped(id: CheckId, why: &str) -> Self {
        Self::new(id, Colour::Amber, format!("not checked: {why}"))
    }

    /// A red line from a Graph error, blamed on the user or the world.
    fn failed(id: CheckId, what: &str, e: &GraphError) -> Self {
        let mut c = Self::new(id, Colour::Red, format!("{what}: {e}"));
        c.blame = Some(if e.is_user_error() {
            Blame::User
        } else {
            Blame::World
        });
        match e {
            GraphError::Permission { permission, .. } => {
                c.missing_permission = Some(permission.clone());
            }
            GraphError::RateLimited {
                retry_after_mins, ..
            } => {
                c.retry_after_mins = Some(*retry_after_mins);
            }
            _ => {}
        }
        c
    }
}

/// What the doctor needs: the page, its token, where Meta and the relay are.
/// `Debug` by hand: the token shows as hidden.
#[derive(Clone)]
pub struct DoctorInput {
    /// The page in refboard.
    pub page: Page,
    /// Its page access token, if saved.
    pub token: Option<String>,
    /// Where the Graph API is.
    pub graph: GraphConfig,
    /// The relay (backend) URL, if configured.
    pub backend_url: Option<String>,
    /// The Get Started payload a fix would set.
    pub get_started_payload: String,
}

impl std::fmt::Debug for DoctorInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoctorInput")
            .field("page", &self.page)
            .field("token", &self.token.as_ref().map(|_| "(hidden)"))
            .field("graph", &self.graph)
            .field("backend_url", &self.backend_url)
            .field("get_started_payload", &self.get_started_payload)
            .finish()
    }
}

/// Every check's outcome, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// True when every check is green.
    pub fn all_green(&self) -> bool {
        self.checks.iter().all(|c| c.colour == Colour::Green)
    }

    /// Whose failure the report is: `User` when any red check is the
    /// user's (token for another page, unknown page id, missing permission,
    /// no token), `World` for any other red, `None` when nothing is red.
    pub fn blame(&self) -> Option<Blame> {
        let reds = self.checks.iter().filter(|c| c.colour == Colour::Red);
        reds.map(|c| c.blame.unwrap_or(Blame::World))
            .max_by_key(|b| match b {
                Blame::User => 2,
                Blame::Internal => 1,
                Blame::World => 0,
            })
    }

    /// The check with this id.
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Runs every check. Makes Graph API calls and one relay call; changes nothing.
pub fn run(input: &DoctorInput) -> Report {
    let mut out = Vec::new();
    let relay = relay::check(input.backend_url.as_deref());
    let Some(token) = input.token.as_deref() else {
        let mut c = Check::new(
            CheckId::Token,
            Colour::Red,
            "no page access token is saved for this page, so Meta's side cannot be checked; save one first",
        );
        c.blame = Some(Blame::User);
        out.push(c);
        skip_graph(&mut out, "needs a page access token");
        out.push(relay);
        return Report { checks: out };
    };
    match GraphClient::new(&input.graph, token) {
        Ok(client) => checks::run_graph(&client, input, &mut out),
        Err(e) => {
            out.push(Check::failed(
                CheckId::Token,
                "cannot start the Graph API client",
                &e,
            ));
            skip_graph(&mut out, "the Graph API client did not start");
        }
    }
    out.push(relay);
    Report { checks: out }
}

/// Adds "not checked" lines for the Graph checks not yet in `out`.
fn skip_graph(out: &mut Vec<Check>, why: &str) {
    for id in [
        CheckId::Username,
        CheckId::Subscriptions,
        CheckId::GetStarted,
        CheckId::Instagram,
    ] {
        if !out.iter().any(|c| c.id == id) {
            out.push(Check::skipped(id, why));
        }
    }
}
