//! The setup doctor (issue #20) against a Graph API stand-in on 127.0.0.1
//! and a stand-in relay `/healthz`: every check in every colour, every fix
//! (keeping the existing subscribed fields), every listed Graph error, and
//! the bad inputs (a token for another page, a page id that does not exist,
//! a token without the permission a fix needs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::graph::{
    Forced, GraphStandIn, GraphState, IG_ID, PAGE_ID, TOKEN, USERNAME, error, health,
    healthy_relay, ice_breaker,
};
use refboard::graph::GraphConfig;
use refboard::model::NewPage;
use refboard::ops::Blame;
use refboard::ops::doctor::{self, CheckId, Colour, DoctorError, DoctorInput, Fix, Report};
use refboard::store::Store;
use serde_json::json;

/// A store with one page, and the doctor's input pointed at the stand-ins.
struct World {
    _dir: tempfile::TempDir,
    store: Store,
    graph: GraphStandIn,
    relay: Option<common::backend::Server>,
}

impl World {
    fn new(state: GraphState, target: &str, page_id: Option<&str>, ig: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("r.db")).unwrap();
        let page = NewPage::parse(target, Some("Jasper's Market"), page_id)
            .unwrap()
            .with_ig_id(ig)
            .unwrap();
        store.add_page(&page).unwrap();
        Self {
            _dir: dir,
            store,
            graph: GraphStandIn::start(state),
            relay: Some(health(healthy_relay())),
        }
    }

    fn healthy(state: GraphState) -> Self {
        Self::new(state, USERNAME, Some(PAGE_ID), None)
    }

    fn input(&self) -> DoctorInput {
        DoctorInput {
            page: self.store.pages().unwrap().remove(0),
            token: Some(TOKEN.into()),
            graph: GraphConfig {
                base_url: self.graph.url.clone(),
                version: "v26.0".into(),
                timeout_secs: 2,
            },
            backend_url: self.relay.as_ref().map(|r| r.url.clone()),
            get_started_payload: "GET_STARTED".into(),
        }
    }

    fn run(&self) -> Report {
        doctor::run(&self.input())
    }

    /// Applies the fix offered by check `id`.
    fn fix(&mut self, id: CheckId) -> Result<doctor::Applied, DoctorError> {
        let input = self.input();
        let report = doctor::run(&input);
        let check = report.check(id).unwrap().clone();
        let fix = check.fix.clone().unwrap_or_else(|| {
            // A refused check offers no fix; the front end still tries the
            // one its user asked for, and it must be refused unsent.
            match id {
                CheckId::Subscriptions => Fix::Subscribe {
                    page_id: PAGE_ID.into(),
                    existing: vec![],
                    missing: vec!["messaging_referrals".into()],
                },
                _ => Fix::GetStarted {
                    payload: "GET_STARTED".into(),
                },
            }
        });
        doctor::apply(&mut self.store, &input, &check, &fix)
    }
}

fn colour(r: &Report, id: CheckId) -> Colour {
    r.check(id).unwrap().colour
}

fn meaning(r: &Report, id: CheckId) -> String {
    r.check(id).unwrap().meaning.clone()
}

#[test]
fn a_page_set_up_right_is_green_everywhere_and_the_token_never_leaves_the_header() {
    let mut state = GraphState::healthy().with_instagram();
    state.ig_ice_breakers = vec![ice_breaker()];
    let w = World::new(state, USERNAME, Some(PAGE_ID), Some(IG_ID));
    let r = w.run();
    for c in &r.checks {
        assert_eq!(c.colour, Colour::Green, "{:?}: {}", c.id, c.meaning);
        assert!(!c.calls.is_empty(), "{:?} shows its call", c.id);
    }
    assert!(r.all_green());
    assert_eq!(r.blame(), None);
    assert_eq!(
        r.check(CheckId::Token).unwrap().calls,
        vec!["GET /v26.0/me?fields=id,name"]
    );
    assert_eq!(
        r.check(CheckId::Username).unwrap().calls,
        vec![format!("GET /v26.0/{PAGE_ID}?fields=username,name,link")]
    );
    assert_eq!(
        r.check(CheckId::Subscriptions).unwrap().calls,
        vec![format!("GET /v26.0/{PAGE_ID}/subscribed_apps")]
    );
    assert_eq!(
        r.check(CheckId::GetStarted).unwrap().calls,
        vec![
            "GET /v26.0/me/messenger_profile?fields=get_started,ice_breakers,greeting".to_string(),
            "GET /v26.0/me/messenger_profile?fields=ice_breakers&platform=instagram".to_string()
        ]
    );
    let calls = w.graph.calls();
    assert_eq!(calls.len(), 6, "{calls:?}");
    for c in calls {
        assert_eq!(c.version, "v26.0");
        assert_eq!(
            c.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert!(
            !c.query.contains(TOKEN) && !c.query.contains("access_token"),
            "{c:?}"
        );
    }
    let shown = format!("{r:?}");
    assert!(!shown.contains(TOKEN), "the report never holds the token");
}

#[test]
fn no_saved_token_is_red_the_users_to_fix_and_sends_nothing() {
    let w = World::healthy(GraphState::healthy());
    let mut input = w.input();
    input.token = None;
    let r = doctor::run(&input);
    assert_eq!(colour(&r, CheckId::Token), Colour::Red);
    assert!(meaning(&r, CheckId::Token).contains("save one first"));
    assert_eq!(colour(&r, CheckId::Username), Colour::Amber);
    assert!(meaning(&r, CheckId::Username).starts_with("not checked"));
    assert_eq!(r.blame(), Some(Blame::User));
    assert!(w.graph.calls().is_empty());
}

#[test]
fn a_token_for_another_page_is_the_users_mistake_and_names_both_pages() {
    let mut state = GraphState::healthy();
    state.me = ("200000000000001".into(), "Someone Else's Shop".into());
    state.pages.insert(
        "200000000000001".into(),
        json!({"id": "200000000000001", "name": "Someone Else's Shop"}),
    );
    let w = World::healthy(state);
    let r = w.run();
    assert_eq!(colour(&r, CheckId::Token), Colour::Red);
    let m = meaning(&r, CheckId::Token);
    assert!(
        m.contains("another page") && m.contains("Someone Else's Shop") && m.contains(PAGE_ID),
        "{m}"
    );
    assert_eq!(r.blame(), Some(Blame::User));
    assert!(meaning(&r, CheckId::Subscriptions).starts_with("not checked"));
}

#[test]
fn a_page_id_that_does_not_exist_is_named_and_blamed_on_the_user() {
    let w = World::new(GraphState::healthy(), USERNAME, Some("999999999999"), None);
    let r = w.run();
    let m = meaning(&r, CheckId::Token);
    assert!(m.contains("Meta has no page with id 999999999999"), "{m}");
    assert_eq!(r.blame(), Some(Blame::User));
    let calls = w.graph.calls();
    assert_eq!(
        calls[1].path, "999999999999",
        "the doctor asked whether the id exists"
    );
}

#[test]
fn a_page_without_its_numeric_id_is_amber_and_the_fix_fills_it_in() {
    let mut w = World::new(GraphState::healthy(), USERNAME, None, None);
    let r = w.run();
    assert_eq!(
        colour(&r, CheckId::Token),
        Colour::Amber,
        "{}",
        meaning(&r, CheckId::Token)
    );
    assert_eq!(
        colour(&r, CheckId::Username),
        Colour::Green,
        "the checks go on with the token's page"
    );
    w.fix(CheckId::Token).unwrap();
    assert_eq!(
        w.store.pages().unwrap()[0].page_id.as_deref(),
        Some(PAGE_ID)
    );
    assert_eq!(colour(&w.run(), CheckId::Token), Colour::Green);
}

#[test]
fn token_errors_are_in_plain_words_expired_password_invalid() {
    for (sub, words) in [
        (Some(463), "has expired"),
        (Some(460), "password"),
        (None, "invalid or was revoked"),
    ] {
        let state = GraphState::healthy().force(
            "GET me",
            Forced::Json(
                400,
                error(190, sub, "OAuthException", "Error validating access token"),
            ),
        );
        let w = World::healthy(state);
        let r = w.run();
        assert_eq!(colour(&r, CheckId::Token), Colour::Red);
        assert!(
            meaning(&r, CheckId::Token).contains(words),
            "{}",
            meaning(&r, CheckId::Token)
        );
        assert_eq!(r.blame(), Some(Blame::User));
    }
    // A wrong token: the stand-in itself answers 190.
    let w = World::healthy(GraphState::healthy());
    let mut input = w.input();
    input.token = Some("EAAwrongtoken".into());
    let r = doctor::run(&input);
    assert!(
        meaning(&r, CheckId::Token).contains("invalid"),
        "{}",
        meaning(&r, CheckId::Token)
    );
}

#[test]
fn the_username_check_in_every_colour_and_its_fix_warns_about_printed_codes() {
    let w = World::healthy(GraphState::healthy());
    assert_eq!(colour(&w.run(), CheckId::Username), Colour::Green);

    let mut w = World::new(GraphState::healthy(), "OldJaspers", Some(PAGE_ID), None);
    let r = w.run();
    assert_eq!(colour(&r, CheckId::Username), Colour::Red);
    let fix = r.check(CheckId::Username).unwrap().fix.clone().unwrap();
    assert!(
        fix.preview(&w.input())
            .contains("already printed keep m.me/OldJaspers")
    );
    let done = w.fix(CheckId::Username).unwrap();
    assert!(done.done.contains("keep m.me/OldJaspers"), "{}", done.done);
    assert_eq!(w.store.pages().unwrap()[0].target, USERNAME);
    assert_eq!(colour(&w.run(), CheckId::Username), Colour::Green);
    assert!(
        w.graph.posts().is_empty(),
        "a refboard-side fix calls nothing"
    );

    let w = World::new(GraphState::healthy(), PAGE_ID, Some(PAGE_ID), None);
    assert_eq!(colour(&w.run(), CheckId::Username), Colour::Amber);

    let mut state = GraphState::healthy();
    state
        .pages
        .get_mut(PAGE_ID)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("username");
    let w = World::healthy(state);
    let r = w.run();
    assert_eq!(colour(&r, CheckId::Username), Colour::Red);
    assert!(meaning(&r, CheckId::Username).contains("no username"));
}

#[test]
fn subscriptions_red_when_none_and_the_fix_subscribes_both_fields() {
    let mut w = World::healthy(GraphState::bare());
    let r = w.run();
    assert_eq!(colour(&r, CheckId::Subscriptions), Colour::Red);
    assert!(meaning(&r, CheckId::Subscriptions).contains("no app is subscribed"));
    w.fix(CheckId::Subscriptions).unwrap();
    let posts = w.graph.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].path, format!("{PAGE_ID}/subscribed_apps"));
    let body: serde_json::Value = serde_json::from_str(&posts[0].body).unwrap();
    assert_eq!(
        body["subscribed_fields"],
        "messaging_referrals,messaging_postbacks"
    );
    assert_eq!(colour(&w.run(), CheckId::Subscriptions), Colour::Green);
}

#[test]
fn the_subscribe_fix_keeps_every_field_already_subscribed() {
    let mut state = GraphState::healthy();
    state.apps[0]["subscribed_fields"] = json!([
        "messages",
        "messaging_optins",
        "message_reads",
        "messaging_postbacks"
    ]);
    let mut w = World::healthy(state);
    let r = w.run();
    assert_eq!(colour(&r, CheckId::Subscriptions), Colour::Red);
    assert!(meaning(&r, CheckId::Subscriptions).contains("messaging_referrals is missing"));
    let preview = r
        .check(CheckId::Subscriptions)
        .unwrap()
        .fix
        .clone()
        .unwrap()
        .preview(&w.input());
    assert_eq!(
        preview,
        format!(
            "POST /v26.0/{PAGE_ID}/subscribed_apps {{\"subscribed_fields\":\"messages,messaging_optins,message_reads,messaging_postbacks,messaging_referrals\"}}"
        )
    );
    w.fix(CheckId::Subscriptions).unwrap();
    let after = w.graph.with(|s| s.apps[0]["subscribed_fields"].clone());
    assert_eq!(
        after,
        json!([
            "messages",
            "messaging_optins",
            "message_reads",
            "messaging_postbacks",
            "messaging_referrals"
        ])
    );
}

#[test]
fn with_several_apps_the_one_with_the_referral_fields_is_read_named_and_amber() {
    let mut state = GraphState::healthy();
    state.apps.insert(
        0,
        json!({"category": "Business", "link": "https://bot.example.com/", "name": "Shop bot",
        "id": "111111111111111", "subscribed_fields": ["messages"]}),
    );
    let r = World::healthy(state).run();
    assert_eq!(colour(&r, CheckId::Subscriptions), Colour::Amber);
    let m = meaning(&r, CheckId::Subscriptions);
    assert!(
        m.contains("2 apps are subscribed") && m.contains("refboard read refboard relay"),
        "{m}"
    );
}

#[test]
fn subscribed_apps_are_read_page_by_page_with_the_after_cursor() {
    let mut state = GraphState::healthy();
    for n in 0..3 {
        state.apps.insert(0, json!({"category": "Business", "link": "https://bot.example.com/",
            "name": format!("Other app {n}"), "id": format!("11111111111111{n}"), "subscribed_fields": ["feed"]}));
    }
    state.app_page_size = 2;
    let w = World::healthy(state);
    let r = w.run();
    let c = r.check(CheckId::Subscriptions).unwrap();
    assert!(
        c.meaning.contains("4 apps are subscribed")
            && c.meaning.contains("refboard read refboard relay"),
        "{}",
        c.meaning
    );
    assert_eq!(
        c.calls,
        vec![
            format!("GET /v26.0/{PAGE_ID}/subscribed_apps"),
            format!("GET /v26.0/{PAGE_ID}/subscribed_apps?after=QVFIUm2"),
        ]
    );
    let asked: Vec<_> = w
        .graph
        .calls()
        .into_iter()
        .filter(|c| c.path.ends_with("subscribed_apps"))
        .collect();
    assert!(
        asked.iter().all(|c| !c.query.contains("access_token")),
        "the next URL's token is never sent back: {asked:?}"
    );
}

#[test]
fn a_fix_needing_a_permission_the_token_lacks_is_refused_and_nothing_is_sent() {
    let state = GraphState::bare().force(
        &format!("GET {PAGE_ID}/subscribed_apps"),
        Forced::Json(
            403,
            error(
                200,
                None,
                "OAuthException",
                "(#200) Requires pages_manage_metadata permission to manage the object",
            ),
        ),
    );
    let mut w = World::healthy(state);
    let r = w.run();
    let c = r.check(CheckId::Subscriptions).unwrap();
    assert_eq!(c.colour, Colour::Red);
    assert_eq!(
        c.missing_permission.as_deref(),
        Some("pages_manage_metadata")
    );
    assert_eq!(r.blame(), Some(Blame::User));
    let e = w.fix(CheckId::Subscriptions).unwrap_err();
    assert!(
        e.to_string().contains("pages_manage_metadata")
            && e.to_string().contains("nothing was sent"),
        "{e}"
    );
    assert!(e.is_user_error());
    assert!(w.graph.posts().is_empty(), "{:?}", w.graph.posts());

    // Code 10 on the profile: pages_messaging, named from Meta's message or
    // from what the call needs.
    let state = GraphState::bare().force(
        "GET me/messenger_profile",
        Forced::Json(
            403,
            error(10, None, "OAuthException", "(#10) Permission denied"),
        ),
    );
    let mut w = World::healthy(state);
    let e = w.fix(CheckId::GetStarted).unwrap_err();
    assert!(e.to_string().contains("pages_messaging"), "{e}");
    assert!(w.graph.posts().is_empty());
}

#[test]
fn get_started_in_every_colour_and_the_fix_sends_the_chosen_payload() {
    let w = World::healthy(GraphState::healthy());
    assert_eq!(colour(&w.run(), CheckId::GetStarted), Colour::Green);

    let mut state = GraphState::healthy();
    state.ice_breakers = vec![ice_breaker()];
    let w = World::healthy(state);
    let r = w.run();
    assert_eq!(colour(&r, CheckId::GetStarted), Colour::Amber);
    assert!(
        meaning(&r, CheckId::GetStarted).contains("take the place of Get Started for new threads")
    );

    let mut state = GraphState::healthy();
    state.get_started = None;
    let mut w = World::healthy(state);
    let r = w.run();
    assert_eq!(colour(&r, CheckId::GetStarted), Colour::Red);
    let input = DoctorInput {
        get_started_payload: "REFBOARD_START".into(),
        ..w.input()
    };
    let report = doctor::run(&input);
    let check = report.check(CheckId::GetStarted).unwrap();
    let fix = check.fix.clone().unwrap();
    assert_eq!(
        fix.preview(&input),
        r#"POST /v26.0/me/messenger_profile {"get_started":{"payload":"REFBOARD_START"}}"#
    );
    doctor::apply(&mut w.store, &input, check, &fix).unwrap();
    let post = &w.graph.posts()[0];
    assert_eq!(post.path, "me/messenger_profile");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&post.body).unwrap(),
        json!({"get_started": {"payload": "REFBOARD_START"}})
    );
    assert_eq!(colour(&w.run(), CheckId::GetStarted), Colour::Green);

    // Instagram without ice breakers: ig.me refs need them.
    let w = World::new(
        GraphState::healthy().with_instagram(),
        USERNAME,
        Some(PAGE_ID),
        Some(IG_ID),
    );
    let r = w.run();
    assert_eq!(colour(&r, CheckId::GetStarted), Colour::Amber);
    assert!(meaning(&r, CheckId::GetStarted).contains("Instagram has no ice breakers"));
}

#[test]
fn instagram_in_every_colour_and_the_fix_fills_in_the_id() {
    let w = World::healthy(GraphState::healthy());
    assert_eq!(colour(&w.run(), CheckId::Instagram), Colour::Green);

    let mut w = World::healthy(GraphState::healthy().with_instagram());
    let r = w.run();
    assert_eq!(colour(&r, CheckId::Instagram), Colour::Amber);
    assert_eq!(
        r.check(CheckId::Instagram).unwrap().calls,
        vec![format!(
            "GET /v26.0/{PAGE_ID}?fields=instagram_business_account{{id,username}}"
        )]
    );
    w.fix(CheckId::Instagram).unwrap();
    assert_eq!(w.store.pages().unwrap()[0].ig_id.as_deref(), Some(IG_ID));
    assert_eq!(colour(&w.run(), CheckId::Instagram), Colour::Green);

    let w = World::new(
        GraphState::healthy().with_instagram(),
        USERNAME,
        Some(PAGE_ID),
        Some("11111111111"),
    );
    assert_eq!(colour(&w.run(), CheckId::Instagram), Colour::Red);

    let w = World::new(
        GraphState::healthy(),
        USERNAME,
        Some(PAGE_ID),
        Some("11111111111"),
    );
    assert_eq!(colour(&w.run(), CheckId::Instagram), Colour::Amber);
}

#[test]
fn the_relay_check_in_every_colour_reading_old_and_new_healthz() {
    let mut w = World::healthy(GraphState::healthy());
    assert_eq!(
        colour(&w.run(), CheckId::Relay),
        Colour::Green,
        "{}",
        meaning(&w.run(), CheckId::Relay)
    );

    w.relay = Some(health(
        json!({"status": "ok", "events": 3, "last_event_at_ms": 1, "last_event_age_secs": 60, "bad_signatures_last_hour": 0}),
    ));
    let r = w.run();
    assert_eq!(colour(&r, CheckId::Relay), Colour::Amber);
    assert!(meaning(&r, CheckId::Relay).contains("unknown"));

    let mut never = healthy_relay();
    never["meta_verified_at_ms"] = json!(null);
    never["bad_verify_tokens_last_hour"] = json!(3);
    w.relay = Some(health(never));
    let r = w.run();
    assert_eq!(colour(&r, CheckId::Relay), Colour::Red);
    let m = meaning(&r, CheckId::Relay);
    assert!(
        m.contains("not verified")
            && m.contains("3 callback verification(s) with a wrong verify token"),
        "{m}"
    );

    let mut bad = healthy_relay();
    bad["bad_signatures_last_hour"] = json!(5);
    w.relay = Some(health(bad));
    assert_eq!(colour(&w.run(), CheckId::Relay), Colour::Amber);

    let gone = common::relay::free_port();
    let mut input = w.input();
    input.backend_url = Some(format!("http://127.0.0.1:{gone}"));
    let r = doctor::run(&input);
    assert_eq!(colour(&r, CheckId::Relay), Colour::Red);
    assert_eq!(r.blame(), Some(Blame::World));
    input.backend_url = None;
    assert_eq!(colour(&doctor::run(&input), CheckId::Relay), Colour::Amber);
}

/// A backend's answer is a stranger's input: a `/healthz` of 1 MiB (here
/// valid JSON behind a run of spaces, which an unbounded read would accept)
/// is not read past 64 KiB, and the check says so in red.
#[test]
fn a_huge_healthz_answer_is_not_read_past_its_cap() {
    let mut w = World::healthy(GraphState::healthy());
    let mut body = " ".repeat(1 << 20);
    body.push_str(&healthy_relay().to_string());
    w.relay = Some(common::graph::health_raw(body));
    let r = w.run();
    assert_eq!(colour(&r, CheckId::Relay), Colour::Red);
    let m = meaning(&r, CheckId::Relay);
    assert!(m.contains("over 64 KiB"), "{m}");
    // Just under the cap, the same answer is read.
    let mut body = " ".repeat(60 * 1024);
    body.push_str(&healthy_relay().to_string());
    w.relay = Some(common::graph::health_raw(body));
    assert_eq!(colour(&w.run(), CheckId::Relay), Colour::Green);
}

#[test]
fn the_real_relay_without_the_new_fields_is_read_as_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let relay = common::relay::RelayProcess::start(
        common::relay::Storage::Data(&dir.path().join("relay.db")),
        "verify-me",
        "api-token-0123456789abcdef",
    );
    let mut w = World::healthy(GraphState::healthy());
    w.relay = None;
    let mut input = w.input();
    input.backend_url = Some(relay.url.clone());
    let r = doctor::run(&input);
    let c = r.check(CheckId::Relay).unwrap();
    assert_ne!(c.colour, Colour::Green, "{}", c.meaning);
    assert!(
        c.meaning.contains("no event has arrived yet"),
        "{}",
        c.meaning
    );
}

#[test]
fn permission_errors_name_the_permission() {
    for (code, msg, want) in [
        (
            200,
            "(#200) Requires pages_messaging permission to manage the object",
            "pages_messaging",
        ),
        (
            10,
            "(#10) This endpoint requires the 'pages_manage_metadata' permission",
            "pages_manage_metadata",
        ),
    ] {
        let state = GraphState::healthy().force(
            "GET me/messenger_profile",
            Forced::Json(403, error(code, None, "OAuthException", msg)),
        );
        let w = World::healthy(state);
        let r = w.run();
        let c = r.check(CheckId::GetStarted).unwrap();
        assert_eq!(c.colour, Colour::Red);
        assert_eq!(c.missing_permission.as_deref(), Some(want));
        assert!(c.meaning.contains(want), "{}", c.meaning);
    }
}

#[test]
fn rate_limits_stop_the_calls_and_say_when_to_retry() {
    for code in [4, 17, 32, 613] {
        let state =
            GraphState::healthy().force(&format!("GET {PAGE_ID}"), Forced::RateLimited(code, 12));
        let w = World::healthy(state);
        let r = w.run();
        let m = meaning(&r, CheckId::Username);
        assert!(
            m.contains("rate-limiting") && m.contains("about 12 minute"),
            "{code}: {m}"
        );
        assert!(meaning(&r, CheckId::Subscriptions).contains("try again in about 12 minute"));
        assert_eq!(
            w.graph.calls().len(),
            2,
            "no call after the rate limit ({code})"
        );
        assert_eq!(r.blame(), Some(Blame::World));
    }
}

#[test]
fn a_bad_parameter_a_timeout_and_a_non_json_answer_are_in_plain_words() {
    let state = GraphState::healthy().force(
        &format!("GET {PAGE_ID}/subscribed_apps"),
        Forced::Json(
            400,
            error(
                100,
                None,
                "OAuthException",
                "(#100) Param fields must be non-empty",
            ),
        ),
    );
    let r = World::healthy(state).run();
    assert!(
        meaning(&r, CheckId::Subscriptions)
            .contains("Meta refused a parameter: (#100) Param fields must be non-empty")
    );

    let state = GraphState::healthy().force("GET me/messenger_profile", Forced::Hang(5));
    let r = World::healthy(state).run();
    assert!(
        meaning(&r, CheckId::GetStarted).contains("did not answer within 2 s"),
        "{}",
        meaning(&r, CheckId::GetStarted)
    );
    assert_eq!(r.blame(), Some(Blame::World));

    let state = GraphState::healthy().force(
        "GET me",
        Forced::Text(
            502,
            "<html><body>\u{1b}[31mBad Gateway</body></html>".into(),
        ),
    );
    let r = World::healthy(state).run();
    let m = meaning(&r, CheckId::Token);
    assert!(
        m.contains("HTTP 502") && m.contains("not JSON") && !m.contains('\u{1b}'),
        "{m}"
    );
    assert!(
        m.starts_with("cannot check the token"),
        "not blamed on the token: {m}"
    );
    assert_eq!(r.blame(), Some(Blame::World));
}

#[test]
fn a_blank_or_overlong_payload_is_refused_before_sending() {
    let mut w = World::healthy(GraphState::bare());
    let mut input = w.input();
    input.get_started_payload = "x".repeat(1001);
    let report = doctor::run(&input);
    let check = report.check(CheckId::GetStarted).unwrap();
    let e = doctor::apply(&mut w.store, &input, check, check.fix.as_ref().unwrap()).unwrap_err();
    assert!(
        e.to_string().contains("payload") && e.to_string().contains("1000"),
        "{e}"
    );
    assert!(w.graph.posts().is_empty());
    assert!(doctor::validate_payload(&"y".repeat(1000)).is_ok());
}

#[test]
fn the_dashboards_session_saves_a_token_only_when_meta_accepts_it_for_this_page() {
    use refboard::ops::doctor::{PageToken, session};
    let mut state = GraphState::healthy();
    state.me = ("200000000000001".into(), "Someone Else's Shop".into());
    state
        .pages
        .insert("200000000000001".into(), json!({"id": "200000000000001"}));
    let mut w = World::healthy(state);
    w.store.set_graph_base_url(&w.graph.url).unwrap();
    let page = w.store.pages().unwrap()[0].id;
    let token = PageToken(TOKEN.into());
    assert_eq!(format!("{token:?}"), "PageToken(hidden)");
    let out = session(&mut w.store, page, Some(&token), None).unwrap();
    assert_eq!(out.token_saved, Some(false));
    assert_eq!(
        w.store.page_token(&page.to_string()).unwrap(),
        None,
        "nothing saved"
    );

    w.graph
        .with(|s| s.me = (PAGE_ID.into(), "Jasper's Market".into()));
    let out = session(&mut w.store, page, Some(&token), None).unwrap();
    assert_eq!(out.token_saved, Some(true));
    assert_eq!(out.graph_version, "v26.0");
    assert_eq!(
        w.store.page_token(&page.to_string()).unwrap().as_deref(),
        Some(TOKEN)
    );
    // A blank token is the user's mistake, named, and changes nothing.
    let e = session(&mut w.store, page, Some(&PageToken("  ".into())), None).unwrap_err();
    assert!(e.to_string().contains("page-token"), "{e}");
}

// ---- `refboard doctor` on the command line ----

/// A CLI environment with one page and the relay stand-in saved as backend.
fn cli_env(graph: &GraphStandIn, relay: &common::backend::Server) -> common::cli::Env {
    let env = common::cli::Env::new();
    let mut store = Store::open(&env.db).unwrap();
    store
        .add_page(&NewPage::parse(USERNAME, Some("Jasper's Market"), Some(PAGE_ID)).unwrap())
        .unwrap();
    store.set_backend_url(&relay.url).unwrap();
    drop(store);
    let _ = graph;
    env
}

fn doctor_cmd(env: &common::cli::Env, graph: &GraphStandIn, extra: &[&str]) -> assert_cmd::Command {
    let mut c = env.cmd();
    c.env("REFBOARD_SECRET_STORE", "file")
        .args([
            "doctor",
            "--graph-url",
            &graph.url,
            "--graph-version",
            "v26.0",
        ])
        .args(extra);
    c
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn cli_saves_the_token_from_standard_input_and_all_green_exits_0() {
    let graph = GraphStandIn::start(GraphState::healthy());
    let relay = health(healthy_relay());
    let env = cli_env(&graph, &relay);
    let out = doctor_cmd(&env, &graph, &["--save-token"])
        .write_stdin(format!("{TOKEN}\n"))
        .assert()
        .success();
    let stdout = text(&out.get_output().stdout);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stdout.contains("green  Page access token: the token works"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[GET /v26.0/me?fields=id,name]"),
        "{stdout}"
    );
    assert!(stdout.contains("All green"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("green")).count(),
        6,
        "{stdout}"
    );
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token is never printed"
    );
    let store = Store::open(&env.db).unwrap();
    let page = store.pages().unwrap().remove(0);
    let file = refboard::secrets::page_token_file(&env.db, &page.id.to_string());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), TOKEN);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(
        store.graph_settings().unwrap(),
        (graph.url.clone(), "v26.0".to_string())
    );
    // The saved token and settings serve the next run.
    env.cmd()
        .env("REFBOARD_SECRET_STORE", "file")
        .arg("doctor")
        .assert()
        .success();
}

#[test]
fn cli_a_token_for_another_page_exits_2_and_saves_nothing() {
    let mut state = GraphState::healthy();
    state.me = ("200000000000001".into(), "Someone Else's Shop".into());
    state
        .pages
        .insert("200000000000001".into(), json!({"id": "200000000000001"}));
    let graph = GraphStandIn::start(state);
    let relay = health(healthy_relay());
    let env = cli_env(&graph, &relay);
    let out = doctor_cmd(&env, &graph, &["--save-token", "--payload", "HELLO"])
        .write_stdin(TOKEN)
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("error: 1 check(s) are red: Page access token"),
        "{stderr}"
    );
    assert!(text(&out.get_output().stdout).contains("another page"));
    assert!(
        stderr.contains("hint: save the page's access token from standard input"),
        "{stderr}"
    );
    let store = Store::open(&env.db).unwrap();
    let page = store.pages().unwrap().remove(0);
    assert!(!refboard::secrets::page_token_file(&env.db, &page.id.to_string()).exists());
    assert_eq!(
        store.graph_settings().unwrap().0,
        "https://graph.facebook.com",
        "settings as they were"
    );
    assert_eq!(store.get_started_payload().unwrap(), "GET_STARTED");
}

#[test]
fn cli_fix_yes_puts_a_bare_page_right_and_exits_0() {
    let graph = GraphStandIn::start(GraphState::bare());
    let relay = health(healthy_relay());
    let env = cli_env(&graph, &relay);
    let out = doctor_cmd(
        &env,
        &graph,
        &[
            "--save-token",
            "--fix",
            "--yes",
            "--payload",
            "START_FROM_LINK",
        ],
    )
    .write_stdin(TOKEN)
    .assert()
    .success();
    let stdout = text(&out.get_output().stdout);
    assert!(
        stdout.contains(&format!(
            "Fix for Webhook fields: POST /v26.0/{PAGE_ID}/subscribed_apps"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("done: set a Get Started button with payload \"START_FROM_LINK\""),
        "{stdout}"
    );
    assert_eq!(graph.posts().len(), 2);
    let after = stdout.split("After the fixes:").nth(1).unwrap();
    assert!(!after.lines().any(|l| l.starts_with("red")), "{after}");
}

#[test]
fn cli_fix_asks_first_and_no_sends_nothing() {
    let graph = GraphStandIn::start(GraphState::bare());
    let relay = health(healthy_relay());
    let env = cli_env(&graph, &relay);
    doctor_cmd(&env, &graph, &["--save-token"])
        .write_stdin(TOKEN)
        .assert()
        .code(1);
    let out = doctor_cmd(&env, &graph, &["--fix"])
        .write_stdin("n\nno\n")
        .assert()
        .code(1);
    assert!(text(&out.get_output().stderr).contains("Send it? [y/N]"));
    assert_eq!(text(&out.get_output().stdout).matches("skipped").count(), 2);
    assert!(graph.posts().is_empty());
}

#[test]
fn cli_a_fix_without_its_permission_is_refused_exit_2_nothing_sent() {
    let state = GraphState::bare().force(
        &format!("GET {PAGE_ID}/subscribed_apps"),
        Forced::Json(
            403,
            error(
                200,
                None,
                "OAuthException",
                "(#200) Requires pages_manage_metadata permission to manage the object",
            ),
        ),
    );
    let graph = GraphStandIn::start(state);
    let relay = health(healthy_relay());
    let env = cli_env(&graph, &relay);
    let out = doctor_cmd(&env, &graph, &["--save-token", "--fix", "--yes"])
        .write_stdin(TOKEN)
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("fix refused for Webhook fields, nothing was sent: the page access token lacks the pages_manage_metadata permission"), "{stderr}");
    assert!(
        graph
            .posts()
            .iter()
            .all(|p| !p.path.ends_with("subscribed_apps")),
        "{:?}",
        graph.posts()
    );
}

#[test]
fn cli_bad_settings_exit_2_naming_the_field_and_the_world_exits_1() {
    let graph = GraphStandIn::start(GraphState::healthy());
    let relay = health(healthy_relay());
    let env = cli_env(&graph, &relay);
    let out = doctor_cmd(&env, &graph, &["--graph-version", "26"])
        .assert()
        .code(2);
    assert!(text(&out.get_output().stderr).contains("graph-version"));
    let out = doctor_cmd(&env, &graph, &["--save-token"])
        .write_stdin("two words")
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("page-token") && !stderr.contains("two words"),
        "{stderr}"
    );
    let out = doctor_cmd(&env, &graph, &["--save-token", "--fix"])
        .write_stdin(TOKEN)
        .assert()
        .code(2);
    assert!(text(&out.get_output().stderr).contains("--yes"));

    let limited =
        GraphStandIn::start(GraphState::healthy().force("GET me", Forced::RateLimited(613, 5)));
    let out = doctor_cmd(&env, &limited, &["--save-token"])
        .write_stdin(TOKEN)
        .assert()
        .code(1);
    assert!(text(&out.get_output().stdout).contains("about 5 minute"));
}

#[test]
fn a_token_echoed_in_metas_message_is_redacted() {
    let state = GraphState::healthy().force(
        &format!("GET {PAGE_ID}/subscribed_apps"),
        Forced::Json(
            400,
            error(
                100,
                None,
                "OAuthException",
                &format!("(#100) Bad token {TOKEN} in request"),
            ),
        ),
    );
    let r = World::healthy(state).run();
    let m = meaning(&r, CheckId::Subscriptions);
    assert!(
        m.contains("Bad token (token) in request") && !m.contains(TOKEN),
        "{m}"
    );
}

#[test]
fn cli_a_page_id_meta_does_not_know_exits_2_and_says_so() {
    let graph = GraphStandIn::start(GraphState::healthy());
    let relay = health(healthy_relay());
    let env = common::cli::Env::new();
    let mut store = Store::open(&env.db).unwrap();
    store
        .add_page(&NewPage::parse(USERNAME, Some("Jasper's Market"), Some("999999999999")).unwrap())
        .unwrap();
    store.set_backend_url(&relay.url).unwrap();
    drop(store);
    let out = doctor_cmd(&env, &graph, &["--save-token"])
        .write_stdin(TOKEN)
        .assert()
        .code(2);
    let stdout = text(&out.get_output().stdout);
    assert!(
        stdout.contains("red    Page access token: Meta has no page with id 999999999999"),
        "{stdout}"
    );
    let store = Store::open(&env.db).unwrap();
    let page = store.pages().unwrap().remove(0);
    assert_eq!(
        store.page_token(&page.id.to_string()).unwrap(),
        None,
        "the token is not saved"
    );
}
