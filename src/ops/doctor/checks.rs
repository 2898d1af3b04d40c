//! The Graph API checks: token, username, webhook fields, Get Started and
//! ice breakers, Instagram. Each makes its documented call and words the
//! answer for a page admin.

use super::{Check, CheckId, Colour, DoctorInput, Fix, NEEDED_FIELDS, skip_graph};
use crate::graph::{Answer, GraphClient, GraphError};
use crate::model::PageTarget;
use crate::ops::Blame;
use serde_json::Value;

/// One Graph check: client, input, the page id, the checks so far.
type Step = fn(&GraphClient, &DoctorInput, &str, &mut Vec<Check>);

/// Runs checks 1–5 into `out`, stopping (the rest "not checked") at a token
/// that does not work or belongs elsewhere, and at a rate limit.
pub(super) fn run_graph(client: &GraphClient, input: &DoctorInput, out: &mut Vec<Check>) {
    let Some(page_id) = token_check(client, input, out) else {
        match rate_limited(out) {
            Some(mins) => skip_graph(
                out,
                &format!("Meta is rate-limiting; try again in about {mins} minute(s)"),
            ),
            None => skip_graph(out, "needs a working token for this page"),
        }
        return;
    };
    let steps: [Step; 4] = [
        username_check,
        subscriptions_check,
        instagram_check,
        get_started_check,
    ];
    for step in steps {
        step(client, input, &page_id, out);
        if let Some(mins) = rate_limited(out) {
            skip_graph(
                out,
                &format!("Meta is rate-limiting; try again in about {mins} minute(s)"),
            );
            break;
        }
    }
    out.sort_by_key(|c| c.id);
}

fn rate_limited(out: &[Check]) -> Option<u64> {
    out.iter().find_map(|c| c.retry_after_mins)
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Check 1: `GET /me?fields=id,name`. Returns the page id to check further.
fn token_check(client: &GraphClient, input: &DoctorInput, out: &mut Vec<Check>) -> Option<String> {
    let me = client.get("me", &[("fields", "id,name")], "pages_show_list");
    let id = CheckId::Token;
    let value = match me.result.clone() {
        Ok(v) => v,
        Err(e) => {
            let what = if e.is_user_error() {
                "the page access token does not work"
            } else {
                "cannot check the token"
            };
            let c = Check::failed(id, what, &e);
            out.push(with_call(c, &me.call));
            return None;
        }
    };
    let (Some(token_page), name) = (str_at(&value, "id"), str_at(&value, "name").unwrap_or("?"))
    else {
        out.push(with_call(
            Check::failed(
                id,
                "Meta's answer",
                &GraphError::Shape("`id` missing".into()),
            ),
            &me.call,
        ));
        return None;
    };
    let page = &input.page;
    match page.numeric_id() {
        Some(ours) if ours == token_page => {
            let c = Check::new(
                id,
                Colour::Green,
                format!(
                    "the token works and belongs to {name:?} ({token_page}), the page in refboard"
                ),
            );
            out.push(with_call(c, &me.call));
            Some(token_page.to_string())
        }
        Some(ours) => {
            out.push(other_page(client, page, ours, token_page, name, &me));
            None
        }
        None => {
            let mut c = Check::new(
                id,
                Colour::Amber,
                format!(
                    "the token works and belongs to {name:?} ({token_page}); refboard does not know this page's numeric id, so events from Meta cannot be matched to {:?} until it is filled in",
                    page.name
                ),
            );
            c.fix = Some(Fix::PageId {
                page_id: token_page.to_string(),
            });
            out.push(with_call(c, &me.call));
            Some(token_page.to_string())
        }
    }
}

/// The red check for a token of another page; asks Meta whether refboard's
/// page id exists at all, to say which of the two is wrong.
fn other_page(
    client: &GraphClient,
    page: &crate::model::Page,
    ours: &str,
    token_page: &str,
    name: &str,
    me: &Answer,
) -> Check {
    let probe = client.get(ours, &[("fields", "id,name")], "pages_show_list");
    let meaning = match &probe.result {
        Err(e) if e.is_missing_object() => format!(
            "Meta has no page with id {ours} (refboard's Page ID for {:?}); the token belongs to {name:?} ({token_page}). Correct the Page ID: refboard page edit",
            page.name
        ),
        _ => format!(
            "the token belongs to another page, {name:?} ({token_page}), not {:?} ({ours}); save this page's own token",
            page.name
        ),
    };
    let mut c = Check::new(CheckId::Token, Colour::Red, meaning);
    c.blame = Some(Blame::User);
    c.calls = vec![me.call.to_string(), probe.call.to_string()];
    c
}

fn with_call(mut c: Check, call: &crate::graph::Call) -> Check {
    c.calls.push(call.to_string());
    c
}

/// Check 2: `GET /{page-id}?fields=username,name,link`. Long on purpose:
/// each colour's wording sits beside the case that gives it.
fn username_check(client: &GraphClient, input: &DoctorInput, page_id: &str, out: &mut Vec<Check>) {
    let a = client.get(
        page_id,
        &[("fields", "username,name,link")],
        "pages_show_list",
    );
    let id = CheckId::Username;
    let v = match a.result {
        Ok(v) => v,
        Err(e) if e.is_missing_object() => {
            let mut c = Check::failed(id, &format!("Meta has no page with id {page_id}"), &e);
            c.blame = Some(Blame::User);
            out.push(with_call(c, &a.call));
            return;
        }
        Err(e) => {
            return out.push(with_call(
                Check::failed(id, "cannot read the page", &e),
                &a.call,
            ));
        }
    };
    let ours = input.page.link_target();
    let c = match (str_at(&v, "username"), &ours) {
        (Some(theirs), PageTarget::Username(u))
            if PageTarget::Username(theirs.into()).key() == ours.key() =>
        {
            Check::new(
                id,
                Colour::Green,
                format!("m.me/{u} opens this page (its username is {theirs})"),
            )
        }
        (Some(theirs), PageTarget::Username(u)) => {
            let mut c = Check::new(
                id,
                Colour::Red,
                format!(
                    "refboard prints m.me/{u}, but the page's username is {theirs}: those links send people to another page, or to none, and their referrals are lost"
                ),
            );
            c.fix = Some(Fix::Username {
                username: theirs.to_string(),
            });
            c
        }
        (Some(theirs), PageTarget::PageId(n)) => {
            let mut c = Check::new(
                id,
                Colour::Amber,
                format!(
                    "links use the numeric id (m.me/{n}); they work, but the page's username {theirs} reads better on print"
                ),
            );
            c.fix = Some(Fix::Username {
                username: theirs.to_string(),
            });
            c
        }
        (None, PageTarget::Username(u)) => {
            let mut c = Check::new(
                id,
                Colour::Red,
                format!(
                    "the page has no username on Facebook, so m.me/{u} leads to another page or to none; use the numeric id instead"
                ),
            );
            c.fix = Some(Fix::Username {
                username: page_id.to_string(),
            });
            c
        }
        (None, PageTarget::PageId(n)) => Check::new(
            id,
            Colour::Green,
            format!(
                "the page has no username; links use its numeric id (m.me/{n}), which opens it"
            ),
        ),
    };
    out.push(with_call(c, &a.call));
}

/// Check 3: `GET /{page-id}/subscribed_apps`. Long on purpose: each
/// colour's wording sits beside the case that gives it.
fn subscriptions_check(
    client: &GraphClient,
    _input: &DoctorInput,
    page_id: &str,
    out: &mut Vec<Check>,
) {
    let id = CheckId::Subscriptions;
    let (apps, calls) = match subscribed_apps(client, page_id) {
        Ok(found) => found,
        Err((e, calls)) => {
            let mut c = Check::failed(id, "cannot read the page's webhook subscriptions", &e);
            c.calls = calls;
            return out.push(c);
        }
    };
    let apps: Vec<&Value> = apps.iter().collect();
    let fields_of = |app: &Value| -> Vec<String> {
        app.get("subscribed_fields")
            .and_then(Value::as_array)
            .map(|f| {
                f.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    // The app with the most of the needed fields is taken to be refboard's.
    let best = apps.iter().max_by_key(|app| {
        let f = fields_of(app);
        NEEDED_FIELDS
            .iter()
            .filter(|n| f.iter().any(|x| x == *n))
            .count()
    });
    let existing = best.map(|app| fields_of(app)).unwrap_or_default();
    let app_name = best
        .and_then(|app| str_at(app, "name"))
        .unwrap_or("the app");
    let missing: Vec<&str> = NEEDED_FIELDS
        .iter()
        .copied()
        .filter(|n| !existing.iter().any(|x| x == n))
        .collect();
    let c = if best.is_none() {
        let mut c = Check::new(
            id,
            Colour::Red,
            "no app is subscribed to this page's webhooks: Meta sends no event at all, so no referral arrives",
        );
        c.fix = Some(Fix::Subscribe {
            page_id: page_id.into(),
            existing,
            missing: NEEDED_FIELDS.iter().map(|s| s.to_string()).collect(),
        });
        c
    } else if missing.is_empty() {
        Check::new(
            id,
            Colour::Green,
            format!(
                "{app_name} receives messaging_referrals (refs in existing conversations) and messaging_postbacks (refs of new people, with Get Started)"
            ),
        )
    } else {
        let why: Vec<&str> = missing.iter().map(|m| match *m {
            "messaging_referrals" => "messaging_referrals is missing: refs of people who already talk with the page are lost",
            _ => "messaging_postbacks is missing: refs of new people, which come with their Get Started tap, are lost",
        }).collect();
        let mut c = Check::new(id, Colour::Red, format!("{app_name}: {}", why.join("; ")));
        c.fix = Some(Fix::Subscribe {
            page_id: page_id.into(),
            existing,
            missing: missing.iter().map(|s| s.to_string()).collect(),
        });
        c
    };
    let mut c = c;
    if apps.len() > 1 {
        // Which app the token's is cannot be told from this edge; say which
        // one was read, so the admin can check it is the relay's (amber:
        // the referrals may go to another app's webhook).
        c.colour = c.colour.max(Colour::Amber);
        c.meaning.push_str(&format!(
            "; {} apps are subscribed to this page, and refboard read {app_name}: check in the App Dashboard that it is the relay's app",
            apps.len()
        ));
    }
    c.calls = calls;
    out.push(c);
}

/// The apps and the calls made, or the error with the calls made so far.
type AppsRead = Result<(Vec<Value>, Vec<String>), (GraphError, Vec<String>)>;

/// Most pages of `subscribed_apps` read; a page has a handful of apps.
const MAX_APP_PAGES: usize = 10;

/// Every app subscribed to the page, following the `after` cursor while
/// Meta's `paging` has a `next` (developers.facebook.com/docs/graph-api/
/// results). The `next` URL itself is not followed: Meta puts the access
/// token in it, and the token travels only in the header.
fn subscribed_apps(client: &GraphClient, page_id: &str) -> AppsRead {
    let path = format!("{page_id}/subscribed_apps");
    let (mut apps, mut calls, mut after) = (Vec::new(), Vec::new(), None::<String>);
    for _ in 0..MAX_APP_PAGES {
        let query: Vec<(&str, &str)> = after.iter().map(|a| ("after", a.as_str())).collect();
        let a = client.get(&path, &query, "pages_manage_metadata");
        calls.push(a.call.to_string());
        let v = a.result.map_err(|e| (e, calls.clone()))?;
        if let Some(d) = v.get("data").and_then(Value::as_array) {
            apps.extend(d.iter().cloned());
        }
        let paging = v.get("paging");
        after = paging
            .filter(|p| p.get("next").is_some())
            .and_then(|p| p.get("cursors"))
            .and_then(|c| str_at(c, "after"))
            .map(str::to_string);
        if after.is_none() {
            break;
        }
    }
    Ok((apps, calls))
}

/// Check 5: `GET /{page-id}?fields=instagram_business_account{id,username}`.
fn instagram_check(client: &GraphClient, input: &DoctorInput, page_id: &str, out: &mut Vec<Check>) {
    let a = client.get(
        page_id,
        &[("fields", "instagram_business_account{id,username}")],
        "instagram_basic",
    );
    let id = CheckId::Instagram;
    let v = match a.result {
        Ok(v) => v,
        Err(e) => {
            return out.push(with_call(
                Check::failed(id, "cannot read the page's Instagram account", &e),
                &a.call,
            ));
        }
    };
    let account = v.get("instagram_business_account");
    let ig = account.and_then(|acc| str_at(acc, "id"));
    let handle = account
        .and_then(|acc| str_at(acc, "username"))
        .unwrap_or("?");
    let ours = input.page.ig_id.as_deref();
    let c = match (ig, ours) {
        (None, None) => Check::new(
            id,
            Colour::Green,
            "no Instagram account is linked to this page; ig.me links do not apply",
        ),
        (None, Some(o)) => Check::new(
            id,
            Colour::Amber,
            format!(
                "refboard has Instagram account id {o} for this page, but Meta links no Instagram account to it: ig.me referrals will not arrive"
            ),
        ),
        (Some(i), Some(o)) if i == o => Check::new(
            id,
            Colour::Green,
            format!("Instagram @{handle} ({i}) is linked, and refboard matches its events"),
        ),
        (Some(i), o) => {
            let colour = if o.is_some() {
                Colour::Red
            } else {
                Colour::Amber
            };
            let mut c = Check::new(
                id,
                colour,
                format!(
                    "Instagram @{handle} ({i}) is linked to this page, but refboard has {}: its referrals cannot be matched to this page until the id is filled in",
                    o.map_or("no Instagram account id".to_string(), |o| format!("id {o}"))
                ),
            );
            c.fix = Some(Fix::InstagramId {
                ig_id: i.to_string(),
            });
            c
        }
    };
    let mut c = with_call(c, &a.call);
    c.found_id = ig.map(str::to_string);
    out.push(c);
}

/// The profile's first data entry (`{"data":[{…}]}`), or an empty object.
fn profile(v: &Value) -> Value {
    // Meta answers one entry today; merging them all keeps a property that
    // a later entry carries.
    let mut merged = serde_json::Map::new();
    for entry in v
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(o) = entry.as_object() {
            for (k, val) in o {
                merged.entry(k.clone()).or_insert_with(|| val.clone());
            }
        }
    }
    Value::Object(merged)
}

fn has_items(v: &Value, key: &str) -> bool {
    v.get(key)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

/// Whether a Messenger Profile answer holds ice breakers. Meta documents
/// the `fields=ice_breakers` answer as `{"data":[{"call_to_actions":[…],
/// "locale":…}]}` (new format) or `{"data":[{"question":…,"payload":…}]}`
/// (old), and profile properties as `{"data":[{"ice_breakers":[…]}]}`;
/// any of the three counts (developers.facebook.com/docs/messenger-platform/
/// reference/messenger-profile-api/ice-breakers).
fn has_ice_breakers(answer: &Value) -> bool {
    answer
        .get("data")
        .and_then(Value::as_array)
        .is_some_and(|d| {
            d.iter().any(|e| {
                has_items(e, "ice_breakers")
                    || has_items(e, "call_to_actions")
                    || e.get("question").is_some()
            })
        })
}

/// Check 4: `GET /me/messenger_profile?fields=get_started,ice_breakers,greeting`,
/// and for a page with Instagram the `platform=instagram` ice breakers.
fn get_started_check(
    client: &GraphClient,
    input: &DoctorInput,
    _page_id: &str,
    out: &mut Vec<Check>,
) {
    let a = client.get(
        "me/messenger_profile",
        &[("fields", "get_started,ice_breakers,greeting")],
        "pages_messaging",
    );
    let id = CheckId::GetStarted;
    let answer = match a.result {
        Ok(v) => v,
        Err(e) => {
            return out.push(with_call(
                Check::failed(id, "cannot read the page's Messenger profile", &e),
                &a.call,
            ));
        }
    };
    let v = profile(&answer);
    let payload = v.get("get_started").and_then(|g| str_at(g, "payload"));
    let mut c = if has_ice_breakers(&answer) {
        Check::new(
            id,
            Colour::Amber,
            "ice breakers are set: they take the place of Get Started for new threads, so a new person's ref arrives only when they tap an ice breaker",
        )
    } else if let Some(p) = payload {
        Check::new(
            id,
            Colour::Green,
            format!(
                "a Get Started button is set (payload {p:?}): a new person's ref arrives with their tap"
            ),
        )
    } else {
        let mut c = Check::new(
            id,
            Colour::Red,
            "no Get Started button: the ref of a new person who opens an m.me link never arrives",
        );
        c.fix = Some(Fix::GetStarted {
            payload: input.get_started_payload.clone(),
        });
        c
    };
    c.calls.push(a.call.to_string());
    let has_instagram = out
        .iter()
        .any(|x| x.id == CheckId::Instagram && x.found_id.is_some());
    if has_instagram {
        instagram_ice_breakers(client, &mut c);
    }
    out.push(c);
}

/// Adds the Instagram ice breakers to check 4: ig.me refs need them.
fn instagram_ice_breakers(client: &GraphClient, c: &mut Check) {
    let a = client.get(
        "me/messenger_profile",
        &[("fields", "ice_breakers"), ("platform", "instagram")],
        "instagram_manage_messages",
    );
    c.calls.push(a.call.to_string());
    match a.result {
        Ok(v) if has_ice_breakers(&v) => {
            c.meaning
                .push_str("; Instagram has ice breakers, so ig.me refs arrive when one is tapped");
        }
        Ok(_) => {
            c.colour = c.colour.max(Colour::Amber);
            c.meaning.push_str("; Instagram has no ice breakers, and ig.me refs arrive only through them: set some in the Instagram app or through the API");
        }
        Err(e) => {
            c.colour = c.colour.max(Colour::Amber);
            c.meaning.push_str(&format!(
                "; Instagram's ice breakers could not be read ({e})"
            ));
        }
    }
}
