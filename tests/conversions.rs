//! Conversions end to end (issue 21): the real relay on 127.0.0.1, a "bot"
//! posting conversions in the shape of Meta's Conversions API, signed
//! postbacks and quick replies matching `--goal`s, signed referrals from the
//! same people, and the real `refboard sync` into a temp store, whose
//! `conversion_events` must equal a truth computed here, as must the
//! per-link conversions, rates and values of `refboard stats`. Then every bad
//! body (400 naming the field, nothing stored), the tokens, redeliveries,
//! goals refused at start, forwarding to Meta, and `refboard import`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::cli::Env;
use common::relay::{PAGE_ID, RelayProcess, Storage, post_signed};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

const API_TOKEN: &str = "conv-api-token";
const EVENTS_TOKEN: &str = "conv-events-token";

fn relay(data: &Path, extra: &[&str]) -> RelayProcess {
    RelayProcess::start_with_env(
        Storage::Data(data),
        "v",
        API_TOKEN,
        extra,
        &[("REFBOARD_EVENTS_TOKEN", EVENTS_TOKEN)],
    )
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// One event of Meta's Conversions API for Business Messaging.
fn capi(name: &str, time_s: i64, id: &str, psid: &str, money: Option<(Value, &str)>) -> Value {
    let mut e = json!({
        "event_name": name,
        "event_time": time_s,
        "event_id": id,
        "action_source": "business_messaging",
        "messaging_channel": "messenger",
        "user_data": {"page_id": PAGE_ID, "page_scoped_user_id": psid},
    });
    if let Some((value, currency)) = money {
        e["custom_data"] = json!({"value": value, "currency": currency});
    }
    e
}

/// Posts a conversions body with `token`; the status and the JSON answer.
fn post_conversions(url: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
    let mut req = reqwest::blocking::Client::new()
        .post(format!("{url}/v1/conversions"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

/// A signed-webhook item of `psid` at `ts` (ms): a postback or a quick reply.
fn press_body(psid: &str, ts: i64, payload: &str, quick_reply: bool) -> Vec<u8> {
    let action = if quick_reply {
        json!({"message": {"mid": format!("m{ts}"), "text": "ok", "quick_reply": {"payload": payload}}})
    } else {
        json!({"postback": {"title": "Go", "payload": payload}})
    };
    let mut item = json!({"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": ts});
    for (k, v) in action.as_object().unwrap() {
        item[k] = v.clone();
    }
    json!({"object": "page", "entry": [{"id": PAGE_ID, "time": ts, "messaging": [item]}]})
        .to_string()
        .into_bytes()
}

/// The stored events of the relay, via `/healthz`.
fn relay_events(url: &str) -> i64 {
    let h: Value = reqwest::blocking::get(format!("{url}/healthz"))
        .unwrap()
        .json()
        .unwrap();
    h["events"].as_i64().unwrap()
}

/// One expected client row: (ts_ms, goal, value_micros, currency, person).
type Row = (i64, String, Option<i64>, Option<String>, String);

/// A client row: ts_ms, kind, goal, value_micros, currency, sender_hash, page_id.
type ClientRow = (
    i64,
    String,
    String,
    Option<i64>,
    Option<String>,
    String,
    String,
);

/// Micros of a decimal text, computed here independently of refboard.
fn micros(text: &str) -> i64 {
    let (w, f) = text.split_once('.').unwrap_or((text, ""));
    w.parse::<i64>().unwrap() * 1_000_000 + format!("{f:0<6}").parse::<i64>().unwrap()
}

#[test]
fn bot_conversions_and_goal_presses_sync_into_the_store_joined_to_referrals() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(
        &dir.path().join("relay.db"),
        &[
            "--goal",
            "order=ORDER_CONFIRMED*",
            "--goal",
            "booking=BOOK_*_DONE",
        ],
    );
    let client = reqwest::blocking::Client::new();
    let base = now_ms() - 3_600_000;
    let people = ["6001", "6002", "6003", "6004", "6005"];
    // Each person opens a link; referral times are unique, so the rows are
    // told apart by time on the client.
    let mut referral_ts = BTreeMap::new();
    for (i, p) in people.iter().enumerate() {
        let ts = base + i as i64 * 1000;
        let r = if i % 2 == 0 { "flyer_a" } else { "flyer_b" };
        assert_eq!(
            post_signed(&client, &relay.url, &common::relay::referral_body(r, p, ts)),
            200
        );
        referral_ts.insert(*p, ts);
    }
    let mut truth: BTreeSet<Row> = BTreeSet::new();
    // The bot reports purchases in Meta's shape: numbers, strings, two
    // currencies, one without a value; the first body is delivered twice.
    let t = |k: i64| (base + 600_000) / 1000 + k;
    let bodies = [
        vec![
            capi("Purchase", t(1), "o-1", "6001", Some((json!(19.99), "USD"))),
            capi(
                "Purchase",
                t(2),
                "o-2",
                "6002",
                Some((json!("1000"), "eur")),
            ),
        ],
        vec![
            capi("Purchase", t(3), "o-3", "6001", Some((json!(0.1), "USD"))),
            capi("LeadSubmitted", t(4), "l-1", "6003", None),
            capi(
                "Purchase",
                t(5),
                "o-4",
                "6005",
                Some((json!("999.999999"), "JPY")),
            ),
        ],
    ];
    for (name, k, psid, money) in [
        ("Purchase", 1, "6001", Some(("19.99", "USD"))),
        ("Purchase", 2, "6002", Some(("1000", "EUR"))),
        ("Purchase", 3, "6001", Some(("0.1", "USD"))),
        ("LeadSubmitted", 4, "6003", None),
        ("Purchase", 5, "6005", Some(("999.999999", "JPY"))),
    ] {
        truth.insert((
            t(k) * 1000,
            name.into(),
            money.map(|m| micros(m.0)),
            money.map(|m| m.1.to_string()),
            psid.into(),
        ));
    }
    for (i, events) in bodies.iter().enumerate() {
        let body = json!({ "data": events }).to_string();
        let (status, answer) = post_conversions(&relay.url, Some(EVENTS_TOKEN), body.as_bytes());
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["events_received"],
            events.len(),
            "Meta's answer shape"
        );
        if i == 0 {
            // A redelivery: received again, stored once.
            let (status, again) = post_conversions(&relay.url, Some(EVENTS_TOKEN), body.as_bytes());
            assert_eq!(
                (status, again["new_events"].as_i64()),
                (200, Some(0)),
                "{again}"
            );
        }
    }
    // Signed presses: matching postbacks and quick replies are goals, others not.
    let presses = [
        ("6002", 10, "ORDER_CONFIRMED_77", false, Some("order")),
        ("6004", 11, "ORDER_CONFIRMED", true, Some("order")),
        ("6004", 12, "BOOK_table_DONE", false, Some("booking")),
        ("6003", 13, "MENU", false, None),
        ("6005", 14, "BOOK_table", true, None),
    ];
    for (psid, k, payload, quick, goal) in presses {
        let ts = base + 900_000 + k * 1000;
        let body = press_body(psid, ts, payload, quick);
        assert_eq!(post_signed(&client, &relay.url, &body), 200);
        if goal.is_some() {
            // Meta redelivers; stored once.
            assert_eq!(post_signed(&client, &relay.url, &body), 200);
        }
        if let Some(g) = goal {
            truth.insert((ts, g.into(), None, None, psid.into()));
        }
    }

    let env = Env::new();
    // The two links the referrals came through, so `stats` credits by link.
    env.ok(&["page", "add", "JaspersMarket", "--page-id", PAGE_ID]);
    env.ok(&["channel", "add", "Flyer", "--kind", "flyer"]);
    env.ok(&["campaign", "add", "Spring Sale"]);
    for r in ["flyer_a", "flyer_b"] {
        env.ok(&[
            "link",
            "add",
            "--campaign",
            "Spring Sale",
            "--channel",
            "Flyer",
            "--ref",
            r,
        ]);
    }
    env.cmd()
        .args(["sync", "--backend", &relay.url])
        .env("REFBOARD_API_TOKEN", API_TOKEN)
        .assert()
        .success();
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    // Each person's referral hash, found by the referral's unique time.
    let hash_at = |ts: i64| -> String {
        conn.query_row(
            "SELECT sender_hash FROM referral_events WHERE ts_ms = ?1",
            [ts],
            |r| r.get(0),
        )
        .unwrap()
    };
    let hash_of: BTreeMap<String, String> = referral_ts
        .iter()
        .map(|(p, ts)| (p.to_string(), hash_at(*ts)))
        .collect();
    let mut stmt = conn
        .prepare(
            "SELECT ts_ms, kind, goal, value_micros, currency, sender_hash, page_id FROM conversion_events",
        )
        .unwrap();
    let got: Vec<ClientRow> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got.len(), truth.len(), "redeliveries stored once");
    let person_of: BTreeMap<&String, &String> = hash_of.iter().map(|(p, h)| (h, p)).collect();
    let rows: BTreeSet<Row> = got
        .iter()
        .map(|(ts, kind, goal, v, c, hash, page)| {
            assert_eq!((kind.as_str(), page.as_str()), ("conversion", PAGE_ID));
            // The sender hash is the same keyed hash as the person's referral.
            let person = person_of
                .get(hash)
                .unwrap_or_else(|| panic!("{hash} joins no referral"));
            (*ts, goal.clone(), *v, c.clone(), (*person).clone())
        })
        .collect();
    assert_eq!(rows, truth);
    let per_goal = |rows: &BTreeSet<Row>| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for r in rows {
            *m.entry(r.1.clone()).or_default() += 1;
        }
        m
    };
    assert_eq!(
        per_goal(&rows),
        BTreeMap::from([
            ("LeadSubmitted".to_string(), 1),
            ("Purchase".to_string(), 4),
            ("booking".to_string(), 1),
            ("order".to_string(), 2),
        ])
    );
    stats_per_link_equal_the_truth(&env, &truth, &referral_ts);
}

/// `refboard stats --json` after the sync: each link's conversions,
/// converted and referred people, rate and value per currency equal what
/// the truth gives when each conversion goes to its person's referral (one
/// referral each, all within the default 7 days).
fn stats_per_link_equal_the_truth(
    env: &Env,
    truth: &BTreeSet<Row>,
    referral_ts: &BTreeMap<&str, i64>,
) {
    let ref_of = |person: &str| {
        let i = referral_ts.keys().position(|p| *p == person).unwrap();
        if i % 2 == 0 { "flyer_a" } else { "flyer_b" }
    };
    // link -> (conversions, converted people, referred people, micros per currency)
    type Want = (
        u64,
        BTreeSet<String>,
        BTreeSet<String>,
        BTreeMap<String, i64>,
    );
    let mut want: BTreeMap<&str, Want> = BTreeMap::new();
    for person in referral_ts.keys() {
        want.entry(ref_of(person))
            .or_default()
            .2
            .insert(person.to_string());
    }
    for (_, _, micros, currency, person) in truth {
        let w = want.entry(ref_of(person)).or_default();
        w.0 += 1;
        w.1.insert(person.clone());
        if let (Some(m), Some(c)) = (micros, currency) {
            *w.3.entry(c.clone()).or_default() += m;
        }
    }
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    let today = chrono::Utc::now().date_naive();
    let out = env.ok(&[
        "stats",
        "--json",
        "--tz",
        "UTC",
        "--from",
        &yesterday.to_string(),
        "--to",
        &today.to_string(),
    ]);
    let j: Value = serde_json::from_str(&out).unwrap();
    let groups = j["conversions"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), want.len(), "{}", j["conversions"]);
    for (link, (conversions, converted, referred, value)) in &want {
        let g = groups
            .iter()
            .find(|g| g["key"] == *link)
            .unwrap_or_else(|| panic!("no group {link} in {}", j["conversions"]));
        assert_eq!(g["conversions"], *conversions, "{link}: {g}");
        assert_eq!(g["converted_people"], converted.len(), "{link}: {g}");
        assert_eq!(g["referred_people"], referred.len(), "{link}: {g}");
        let rate = converted.len() as f64 / referred.len() as f64;
        assert_eq!(g["rate"].as_f64(), Some(rate), "{link}: {g}");
        let got: BTreeMap<String, i64> = g["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["currency"].as_str().unwrap().to_string(),
                    m["micros"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            &got, value,
            "{link}: values per currency, never added across"
        );
    }
    assert_eq!(j["conversions"]["no_referral"]["conversions"], 0);
}

/// A relay that knows [`PAGE_ID`] from one signed referral, and page 555 by `--page`.
fn relay_with_page(dir: &Path) -> RelayProcess {
    let relay = relay(&dir.join("relay.db"), &["--page", "555"]);
    let body = common::relay::referral_body("flyer", "7001", now_ms() - 60_000);
    assert_eq!(
        post_signed(&reqwest::blocking::Client::new(), &relay.url, &body),
        200
    );
    relay
}

#[test]
fn every_bad_body_is_refused_whole_with_its_field_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_with_page(dir.path());
    let stored = relay_events(&relay.url);
    let now_s = now_ms() / 1000;
    let good = capi(
        "Purchase",
        now_s - 60,
        "g-1",
        "7001",
        Some((json!(5), "USD")),
    );
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut e = good.clone();
        edit(&mut e);
        e
    };
    let cases: Vec<(&str, Value)> = vec![
        (
            "action_source",
            with(&|e| {
                e.as_object_mut()
                    .unwrap()
                    .remove("action_source")
                    .map(drop)
                    .unwrap()
            }),
        ),
        (
            "action_source",
            with(&|e| e["action_source"] = json!("website")),
        ),
        (
            "event_time",
            with(&|e| e["event_time"] = json!(now_s + 3600)),
        ),
        (
            "event_time",
            with(&|e| e["event_time"] = json!(now_s - 8 * 86_400)),
        ),
        (
            "custom_data.currency",
            with(&|e| e["custom_data"]["currency"] = json!("DOLLARS")),
        ),
        (
            "custom_data.currency",
            with(&|e| e["custom_data"]["currency"] = json!("ZZZ")),
        ),
        (
            "custom_data.value",
            with(&|e| e["custom_data"]["value"] = json!(-5)),
        ),
        (
            "custom_data.value",
            with(&|e| e["custom_data"]["value"] = json!("five")),
        ),
        (
            "user_data.page_scoped_user_id",
            with(&|e| e["user_data"] = json!({"page_id": PAGE_ID})),
        ),
        (
            "user_data.page_id",
            with(&|e| e["user_data"]["page_id"] = json!("999999")),
        ),
        (
            "messaging_channel",
            with(&|e| e["messaging_channel"] = json!("whatsapp")),
        ),
    ];
    for (field, bad) in &cases {
        // The good event first: it must not be stored either.
        let body = json!({"data": [good, bad]}).to_string();
        let (status, answer) = post_conversions(&relay.url, Some(EVENTS_TOKEN), body.as_bytes());
        assert_eq!(status, 400, "{field}: {answer}");
        assert_eq!(answer["field"], *field, "{answer}");
        assert_eq!(answer["index"], 1, "{answer}");
        assert!(
            answer["rule"].as_str().is_some_and(|r| !r.is_empty()),
            "{answer}"
        );
        assert!(
            !answer.to_string().contains("7001"),
            "the person's id is never echoed"
        );
    }
    let many = json!({"data": vec![good.clone(); 1001]}).to_string();
    let (status, answer) = post_conversions(&relay.url, Some(EVENTS_TOKEN), many.as_bytes());
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("data")),
        "{answer}"
    );
    let huge = json!({"data": [good], "pad": "x".repeat(1 << 20)}).to_string();
    let (status, answer) = post_conversions(&relay.url, Some(EVENTS_TOKEN), huge.as_bytes());
    assert_eq!(
        (status, answer["field"].as_str()),
        (413, Some("body")),
        "{answer}"
    );
    for token in [None, Some("wrong"), Some(API_TOKEN)] {
        let body = json!({"data": [good]}).to_string();
        assert_eq!(
            post_conversions(&relay.url, token, body.as_bytes()).0,
            401,
            "{token:?}"
        );
    }
    assert_eq!(
        relay_events(&relay.url),
        stored,
        "nothing of a refused body is stored"
    );
    // 1,000 events are Meta's limit and accepted; a --page is the relay's.
    let thousand: Vec<Value> = (0..1000)
        .map(|i| with(&|e| e["event_id"] = json!(format!("k-{i}"))))
        .collect();
    let body = json!({ "data": thousand }).to_string();
    assert_eq!(
        post_conversions(&relay.url, Some(EVENTS_TOKEN), body.as_bytes()).0,
        200
    );
    let listed = with(&|e| e["user_data"]["page_id"] = json!("555"));
    let body = json!({ "data": [listed] }).to_string();
    assert_eq!(
        post_conversions(&relay.url, Some(EVENTS_TOKEN), body.as_bytes()).0,
        200
    );
    assert_eq!(relay_events(&relay.url), stored + 1001);
}

#[test]
fn without_an_events_token_the_endpoint_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(Storage::Data(&dir.path().join("relay.db")), "v", API_TOKEN);
    let body = json!({"data": []}).to_string();
    let (status, answer) = post_conversions(&relay.url, Some(API_TOKEN), body.as_bytes());
    assert_eq!(status, 404);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("REFBOARD_EVENTS_TOKEN"),
        "{answer}"
    );
}

#[test]
fn goals_that_are_empty_match_everything_or_are_badly_named_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("relay.db");
    for (goal, words) in [
        ("order=", "empty"),
        ("order=*", "every payload"),
        ("order=**", "every payload"),
        ("Order Now!=X*", "goal name"),
        ("order", "NAME=PATTERN"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_refboard"))
            .args(["relay", "--listen", "127.0.0.1:0", "--data"])
            .arg(&data)
            .args(["--goal", goal])
            .env("REFBOARD_APP_SECRET", "a")
            .env("REFBOARD_VERIFY_TOKEN", "b")
            .env("REFBOARD_API_TOKEN", "c")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{goal}: {err}");
        assert!(
            err.contains("--goal") && err.contains(words),
            "{goal}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
    // A --page is a page id: digits only.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_refboard"))
        .args(["relay", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .args(["--page", "my-page"])
        .env("REFBOARD_APP_SECRET", "a")
        .env("REFBOARD_VERIFY_TOKEN", "b")
        .env("REFBOARD_API_TOKEN", "c")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--page") && err.contains("my-page") && err.contains("digits"),
        "{err}"
    );
    assert!(!data.exists(), "refused before anything was created");
}

/// Polls `/metrics` until `name` reads `want`, within 20 s.
fn wait_metric(url: &str, name: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = reqwest::blocking::get(format!("{url}/metrics"))
            .unwrap()
            .text()
            .unwrap();
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok());
        if value == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} is {value:?}, not {want}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn accepted_bodies_are_forwarded_unchanged_and_failures_counted() {
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let seen = got.clone();
    let meta = common::backend::serve(axum::Router::new().route(
        "/v21.0/123/events",
        axum::routing::post(move |body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(body.to_vec());
                axum::Json(json!({"events_received": 1}))
            }
        }),
    ));
    let dir = tempfile::tempdir().unwrap();
    let forward = format!("{}/v21.0/123/events?access_token=secret-of-meta", meta.url);
    let relay = relay(
        &dir.path().join("relay.db"),
        &["--page", PAGE_ID, "--forward-conversions", &forward],
    );
    let body = json!({"data": [capi("Purchase", now_ms() / 1000, "f-1", "8001", Some((json!("7.50"), "USD")))]})
        .to_string();
    assert_eq!(
        post_conversions(&relay.url, Some(EVENTS_TOKEN), body.as_bytes()).0,
        200
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "nothing forwarded");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        got.lock().unwrap()[0],
        body.as_bytes(),
        "forwarded unchanged"
    );
    wait_metric(
        &relay.url,
        "refboard_conversion_forward_failures_total",
        0.0,
    );
    // Meta unreachable: the failure is counted, the bot still gets its 200.
    drop(meta);
    assert_eq!(
        post_conversions(&relay.url, Some(EVENTS_TOKEN), body.as_bytes()).0,
        200
    );
    wait_metric(
        &relay.url,
        "refboard_conversion_forward_failures_total",
        1.0,
    );
}

#[test]
fn import_reads_conversion_bodies_and_goal_postbacks_joined_to_referrals() {
    let env = Env::new();
    let ts = now_ms() - 86_400_000 * 30;
    let lines = [
        String::from_utf8(common::relay::referral_body("flyer", "9001", ts)).unwrap(),
        String::from_utf8(press_body("9001", ts + 5000, "ORDER_CONFIRMED_1", false)).unwrap(),
        // A month old: import takes logs older than Meta's 7 days.
        json!({"data": [capi("Purchase", ts / 1000 + 60, "i-1", "9001", Some((json!(12.5), "EUR")))]}).to_string(),
        json!({"data": [capi("Purchase", ts / 1000 + 60, "i-2", "9001", Some((json!(1), "NOPE")))]}).to_string(),
    ];
    let file = env.dir.path().join("bodies.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = env.ok(&[
        "import",
        file.to_str().unwrap(),
        "--goal",
        "order=ORDER_CONFIRMED*",
    ]);
    assert!(
        out.contains("Imported 2 conversion event(s): 2 new"),
        "{out}"
    );
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let referral: String = conn
        .query_row("SELECT sender_hash FROM referral_events", [], |r| r.get(0))
        .unwrap();
    let rows: Vec<(String, Option<i64>, Option<String>, String)> = conn
        .prepare("SELECT goal, value_micros, currency, sender_hash FROM conversion_events ORDER BY ts_ms")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            ("order".to_string(), None, None, referral.clone()),
            (
                "Purchase".to_string(),
                Some(12_500_000),
                Some("EUR".to_string()),
                referral
            ),
        ]
    );
}

/// A signed-webhook body of a message `text` from `psid` at `ts` (ms).
fn message_body(psid: &str, ts: i64, text: &str) -> Vec<u8> {
    json!({"object": "page", "entry": [{"id": PAGE_ID, "time": ts, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": ts,
         "message": {"mid": format!("m{ts}"), "text": text}}]}]})
    .to_string()
    .into_bytes()
}

#[test]
fn the_first_message_after_each_referral_is_a_conversation_by_its_time_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("relay.db");
    let relay = relay(&data, &["--conversations"]);
    let client = reqwest::blocking::Client::new();
    let t0 = now_ms() - 3_600_000;
    let send = |body: Vec<u8>| assert_eq!(post_signed(&client, &relay.url, &body), 200);
    // A message with no referral before it starts nothing.
    send(message_body("6101", t0, "just browsing"));
    send(common::relay::referral_body("flyer", "6101", t0 + 1000));
    // Two messages in one body, the later first: the earlier one counts.
    let two = json!({"object": "page", "entry": [{"id": PAGE_ID, "messaging": [
        {"sender": {"id": "6101"}, "recipient": {"id": PAGE_ID}, "timestamp": t0 + 3000, "message": {"text": "second"}},
        {"sender": {"id": "6101"}, "recipient": {"id": PAGE_ID}, "timestamp": t0 + 2000, "message": {"text": "secret words"}}]}]})
    .to_string()
    .into_bytes();
    send(two.clone());
    send(two); // redelivered
    send(message_body("6101", t0 + 4000, "third"));
    // A new referral opens a new conversation.
    send(common::relay::referral_body("poster", "6101", t0 + 5000));
    send(message_body("6101", t0 + 6000, "again"));
    // Someone else, referred, never writes: no conversation.
    send(common::relay::referral_body("flyer", "6102", t0 + 7000));
    let env = Env::new();
    env.cmd()
        .args(["sync", "--backend", &relay.url])
        .env("REFBOARD_API_TOKEN", API_TOKEN)
        .assert()
        .success();
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let rows: Vec<(i64, String, Option<String>, String)> = conn
        .prepare("SELECT ts_ms, kind, goal, sender_hash FROM conversion_events ORDER BY ts_ms")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let hash: String = conn
        .query_row(
            "SELECT sender_hash FROM referral_events WHERE ts_ms = ?1",
            [t0 + 1000],
            |r| r.get(0),
        )
        .unwrap();
    let talk = |ts| (ts, "conversation".to_string(), None, hash.clone());
    assert_eq!(rows, [talk(t0 + 2000), talk(t0 + 6000)]);
    drop(relay);
    // The file and its write-ahead log: the relay was killed, not stopped.
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let raw = std::fs::read(file.unwrap().path()).unwrap();
        assert!(
            !raw.windows(12).any(|w| w == b"secret words"),
            "a message's text is never stored"
        );
    }
    assert!(data.exists());
}

#[test]
fn a_thousand_conversions_between_referrals_sync_once_across_small_pages() {
    use refboard::sync::{RetryPolicy, SyncConfig, sync};
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_with_page(dir.path());
    let client = reqwest::blocking::Client::new();
    let now_s = now_ms() / 1000;
    // Referrals before and after 1,000 conversions (Meta's most per body),
    // so pages of 7 mix the kinds and a page boundary falls at 999 -> 1000.
    for i in 0..3 {
        let body = common::relay::referral_body("before", &format!("72{i}"), now_ms() - 90_000 + i);
        assert_eq!(post_signed(&client, &relay.url, &body), 200);
    }
    let events: Vec<Value> = (0..1000)
        .map(|i| {
            capi(
                "Purchase",
                now_s - 30,
                &format!("b-{i}"),
                "7001",
                Some((json!(format!("{i}.01")), "USD")),
            )
        })
        .collect();
    let body = json!({ "data": events }).to_string();
    assert_eq!(
        post_conversions(&relay.url, Some(EVENTS_TOKEN), body.as_bytes()).0,
        200
    );
    for i in 0..3 {
        let body = common::relay::referral_body("after", &format!("73{i}"), now_ms() - 10_000 + i);
        assert_eq!(post_signed(&client, &relay.url, &body), 200);
    }
    let mut config = SyncConfig::new(&relay.url, API_TOKEN);
    config.page_size = 7;
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay_ms: 10,
        max_delay_ms: 100,
    };
    let mut store = refboard::store::Store::open(&dir.path().join("client.db")).unwrap();
    let done = sync(&mut store, &config, &mut |_| true).unwrap();
    assert_eq!(
        (
            done.events,
            done.conversions,
            done.new_conversions,
            done.skipped
        ),
        (1007, 1000, 1000, 0)
    );
    assert_eq!(store.conversion_count().unwrap(), 1000);
    assert_eq!(store.event_count().unwrap(), 7);
    let total: i64 = store
        .connection()
        .query_row("SELECT sum(value_micros) FROM conversion_events", [], |r| {
            r.get(0)
        })
        .unwrap();
    // sum over i of (i + 0.01) USD, in micros, exactly.
    assert_eq!(
        total,
        (0..1000i64).map(|i| i * 1_000_000 + 10_000).sum::<i64>()
    );
    // Again: nothing new, nothing counted twice.
    let again = sync(&mut store, &config, &mut |_| true).unwrap();
    assert_eq!((again.events, again.new_events), (0, 0));
    assert_eq!(store.conversion_count().unwrap(), 1000);
}

#[test]
fn instagram_conversions_join_the_referrals_of_the_same_instagram_account() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(&dir.path().join("relay.db"), &[]);
    let ig_account = "17841400000000001";
    let ts = now_ms() - 120_000;
    // An ig.me link answered by typing: message.referral on object "instagram".
    let referral = json!({"object": "instagram", "entry": [{"id": ig_account, "time": ts, "messaging": [
        {"sender": {"id": "9911"}, "recipient": {"id": ig_account}, "timestamp": ts,
         "message": {"mid": "m1", "text": "hi", "referral": {"ref": "ig_story", "source": "IGME"}}}]}]})
    .to_string();
    let client = reqwest::blocking::Client::new();
    assert_eq!(post_signed(&client, &relay.url, referral.as_bytes()), 200);
    let body = json!({"data": [{"event_name": "Purchase", "event_time": ts / 1000 + 60, "event_id": "ig-1",
        "action_source": "business_messaging", "messaging_channel": "instagram",
        "user_data": {"ig_account_id": ig_account, "ig_sid": "9911"},
        "custom_data": {"value": "15", "currency": "GBP"}}]})
    .to_string();
    let (status, answer) = post_conversions(&relay.url, Some(EVENTS_TOKEN), body.as_bytes());
    assert_eq!(status, 200, "{answer}");
    let env = Env::new();
    env.cmd()
        .args(["sync", "--backend", &relay.url])
        .env("REFBOARD_API_TOKEN", API_TOKEN)
        .assert()
        .success();
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let referral: (String, String, String) = conn
        .query_row(
            "SELECT platform, page_id, sender_hash FROM referral_events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let conversion: (String, String, String, i64, String) = conn
        .query_row(
            "SELECT platform, page_id, sender_hash, value_micros, currency FROM conversion_events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        conversion,
        (
            referral.0,
            referral.1,
            referral.2,
            15_000_000,
            "GBP".to_string()
        )
    );
}
