//! The doctor's fixes: what each would send (shown before asking) and
//! sending it. Graph fixes call Meta; the others change refboard's own page
//! record, in one transaction, only after the fix is known to be right.

use super::{Check, DoctorInput};
use crate::graph::{GraphClient, GraphError};
use crate::model::{NewPage, PageTarget, ValidationError};
use crate::store::{Store, StoreError};
use serde_json::{Value, json};

/// Meta's limit on a Get Started payload (developers.facebook.com/docs/
/// messenger-platform/reference/messenger-profile-api/get-started-button).
pub const MAX_PAYLOAD_CHARS: usize = 1000;

/// Something the doctor can put right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Subscribe the app to the missing webhook fields. `subscribed_fields`
    /// replaces the whole set, so the existing fields are sent too.
    Subscribe {
        /// The page.
        page_id: String,
        /// Fields already subscribed (kept).
        existing: Vec<String>,
        /// Fields to add.
        missing: Vec<String>,
    },
    /// Set a Get Started button with this payload.
    GetStarted {
        /// The postback payload (the user may change it).
        payload: String,
    },
    /// Fill in refboard's Instagram account id for the page.
    InstagramId {
        /// Meta's id for the linked account.
        ig_id: String,
    },
    /// Set refboard's link target to the page's username (or its numeric
    /// id when it has none). Printed codes keep the old one.
    Username {
        /// The new m.me target.
        username: String,
    },
    /// Fill in refboard's numeric Page ID from the token's page.
    PageId {
        /// The page id `/me` answered.
        page_id: String,
    },
}

impl Fix {
    /// The permission Meta needs for this fix, if it calls Meta.
    pub fn needs_permission(&self) -> Option<&'static str> {
        match self {
            Fix::Subscribe { .. } => Some("pages_manage_metadata"),
            Fix::GetStarted { .. } => Some("pages_messaging"),
            _ => None,
        }
    }

    /// The subscribed fields a subscribe fix sends: existing ∪ missing, in order.
    fn fields(existing: &[String], missing: &[String]) -> Vec<String> {
        let mut all = existing.to_vec();
        for m in missing {
            if !all.contains(m) {
                all.push(m.clone());
            }
        }
        all
    }

    /// Exactly what the fix would do, for showing before asking: the Graph
    /// call with its body (no token), or the change to refboard's page,
    /// with the warning that printed codes keep the old username.
    pub fn preview(&self, input: &DoctorInput) -> String {
        self.preview_for(&input.graph.version, &input.page)
    }

    /// [`Fix::preview`] from the Graph API version and the page alone (the
    /// dashboard redraws it while the user edits a Get Started payload).
    pub fn preview_for(&self, version: &str, page: &crate::model::Page) -> String {
        let call = |method, path: &str, body: &Value| format!("{method} /{version}/{path} {body}");
        match self {
            Fix::Subscribe {
                page_id,
                existing,
                missing,
            } => call(
                "POST",
                &format!("{page_id}/subscribed_apps"),
                &json!({ "subscribed_fields": Self::fields(existing, missing).join(",") }),
            ),
            Fix::GetStarted { payload } => call(
                "POST",
                "me/messenger_profile",
                &json!({ "get_started": { "payload": payload } }),
            ),
            Fix::InstagramId { ig_id } => format!(
                "refboard (no call to Meta): set page {:?}'s Instagram account id to {ig_id}",
                page.name
            ),
            Fix::Username { username } => format!(
                "refboard (no call to Meta): make page {:?}'s links m.me/{username} instead of m.me/{}. Codes and links already printed keep m.me/{} and will not change",
                page.name, page.target, page.target
            ),
            Fix::PageId { page_id } => format!(
                "refboard (no call to Meta): set page {:?}'s Page ID to {page_id}",
                page.name
            ),
        }
    }
}

/// Why a fix was not applied.
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    /// The token lacks the permission; nothing was sent.
    #[error(
        "fix refused, nothing was sent: it needs the {permission} permission, which the page access token lacks (its check was refused for it); make a new token that grants {permission}, save it for this page, then check again"
    )]
    Refused {
        /// The permission's name.
        permission: String,
    },
    /// No page access token is saved.
    #[error("no page access token is saved for this page; save one first")]
    NoToken,
    /// Meta refused or could not be reached.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Meta answered without success.
    #[error("Meta did not confirm the change (it answered {0})")]
    NotConfirmed(String),
    /// A bad payload or page value.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// refboard's database refused.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DoctorError {
    /// True for the user's mistakes (a missing permission, a bad token or
    /// value); false for the world's.
    pub fn is_user_error(&self) -> bool {
        match self {
            DoctorError::Refused { .. } | DoctorError::NoToken | DoctorError::Invalid(_) => true,
            DoctorError::Graph(e) => e.is_user_error(),
            DoctorError::Store(e) => e.is_user_error(),
            DoctorError::NotConfirmed(_) => false,
        }
    }
}

/// What a fix did, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// e.g. `subscribed to messaging_referrals, messaging_postbacks`.
    pub done: String,
}

/// Checks a Get Started payload: not blank, at most 1,000 characters.
pub fn validate_payload(payload: &str) -> Result<String, ValidationError> {
    let p = payload.trim();
    if p.is_empty() {
        return Err(ValidationError::new(
            "payload",
            payload,
            "a Get Started payload cannot be blank",
        ));
    }
    if p.chars().count() > MAX_PAYLOAD_CHARS {
        return Err(ValidationError::new(
            "payload",
            &format!("{}…", p.chars().take(40).collect::<String>()),
            "Meta takes at most 1000 characters",
        ));
    }
    Ok(p.to_string())
}

/// Applies `fix`, offered by `check`. A Graph fix whose check was refused
/// for a permission is refused here, before anything is sent. A page fix
/// changes only the page's record, in one transaction.
pub fn apply(
    store: &mut Store,
    input: &DoctorInput,
    check: &Check,
    fix: &Fix,
) -> Result<Applied, DoctorError> {
    if let (Some(needed), Some(missing)) = (fix.needs_permission(), &check.missing_permission) {
        let permission = if missing.is_empty() {
            needed
        } else {
            missing.as_str()
        };
        return Err(DoctorError::Refused {
            permission: permission.to_string(),
        });
    }
    match fix {
        Fix::Subscribe {
            page_id,
            existing,
            missing,
        } => {
            let all = Fix::fields(existing, missing).join(",");
            let body = json!({ "subscribed_fields": all });
            let v = graph(input)?
                .post(
                    &format!("{page_id}/subscribed_apps"),
                    &[],
                    &body,
                    "pages_manage_metadata",
                )
                .result?;
            confirmed(&v, "success", &Value::Bool(true))?;
            Ok(Applied {
                done: format!("subscribed the app to {}", all.replace(',', ", ")),
            })
        }
        Fix::GetStarted { payload } => {
            let payload = validate_payload(payload)?;
            let body = json!({ "get_started": { "payload": payload } });
            let v = graph(input)?
                .post("me/messenger_profile", &[], &body, "pages_messaging")
                .result?;
            confirmed(&v, "result", &json!("success"))?;
            Ok(Applied {
                done: format!("set a Get Started button with payload {payload:?}"),
            })
        }
        Fix::InstagramId { ig_id } => {
            let ig = crate::model::parse_ig_id(ig_id)?;
            update_page(store, input, |p| p.ig_id = Some(ig.clone()))?;
            Ok(Applied {
                done: format!("filled in Instagram account id {ig}"),
            })
        }
        Fix::Username { username } => {
            let target = crate::model::parse_page_target(username)?;
            update_page(store, input, |p| p.target = target.clone())?;
            Ok(Applied {
                done: format!(
                    "links now use m.me/{target}; codes already printed keep m.me/{}",
                    input.page.target
                ),
            })
        }
        Fix::PageId { page_id } => {
            let id = crate::model::parse_page_id(page_id)?;
            update_page(store, input, |p| p.page_id = Some(id.clone()))?;
            Ok(Applied {
                done: format!("filled in Page ID {id}"),
            })
        }
    }
}

fn graph(input: &DoctorInput) -> Result<GraphClient, DoctorError> {
    let token = input.token.as_deref().ok_or(DoctorError::NoToken)?;
    Ok(GraphClient::new(&input.graph, token)?)
}

/// Meta's write answers: `{"success":true}` (subscribed_apps) and
/// `{"result":"success"}` (messenger_profile).
fn confirmed(v: &Value, key: &str, want: &Value) -> Result<(), DoctorError> {
    let got = v.get(key);
    // Some Graph writes answer "true" as a string.
    let ok = got == Some(want) || (want == &Value::Bool(true) && got == Some(&json!("true")));
    if ok {
        Ok(())
    } else {
        Err(DoctorError::NotConfirmed(v.to_string()))
    }
}

fn update_page(
    store: &mut Store,
    input: &DoctorInput,
    change: impl FnOnce(&mut NewPage),
) -> Result<(), DoctorError> {
    let page = store.page(input.page.id)?;
    let mut new = NewPage {
        name: page.name.clone(),
        target: PageTarget::from_stored(&page.target),
        page_id: page.page_id.clone(),
        ig_id: page.ig_id.clone(),
    };
    change(&mut new);
    store.update_page(page.id, &new)?;
    Ok(())
}
