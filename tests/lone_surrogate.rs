//! A lone surrogate (`\ud800`) in one webhook item (issue #17 item 4.3):
//! serde_json refuses it in a string, and that used to cost the whole body.
//! Only the item that carries it is refused and counted; the other items of
//! the same signed body are kept, by the relay and by `import`.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::FIXTURE_APP_SECRET as SECRET;
use common::cli::Env;
use common::relay::{PAGE_ID, post};
use refboard::messenger::sign;

const API_TOKEN: &str = "surrogate-test-api-token";
const TS: i64 = 1_764_201_600_000;

/// One signed body: a good referral, then an item whose ref holds a lone
/// surrogate escape, then a second good referral in a second entry.
fn mixed_body() -> Vec<u8> {
    format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE_ID}","time":{TS},"messaging":[
        {{"sender":{{"id":"11"}},"recipient":{{"id":"{PAGE_ID}"}},"timestamp":{TS},"referral":{{"ref":"good","source":"SHORTLINK","type":"OPEN_THREAD"}}}},
        {{"sender":{{"id":"12"}},"recipient":{{"id":"{PAGE_ID}"}},"timestamp":{TS},"referral":{{"ref":"bad\ud800","source":"SHORTLINK","type":"OPEN_THREAD"}}}}
        ]}},{{"id":"{PAGE_ID}","time":{TS},"messaging":[
        {{"sender":{{"id":"13"}},"recipient":{{"id":"{PAGE_ID}"}},"timestamp":{TS},"referral":{{"ref":"also-good","source":"SHORTLINK","type":"OPEN_THREAD"}}}}
        ]}}]}}"#
    )
    .replace('\n', "")
    .into_bytes()
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn the_relay_keeps_the_good_items_beside_a_lone_surrogate() {
    let dir = tempfile::tempdir().unwrap();
    let relay = refboard::relay::start(
        refboard::relay::RelayConfig::new(dir.path().join("relay.db"), SECRET, "v", API_TOKEN),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let url = relay.url();
    let client = reqwest::blocking::Client::new();
    let body = mixed_body();
    assert_eq!(
        post(&client, &url, &body, Some(&sign(SECRET.as_bytes(), &body))),
        200
    );
    let page: serde_json::Value = client
        .get(format!("{url}/v1/referrals?limit=100"))
        .bearer_auth(API_TOKEN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mut refs: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ref"].as_str().unwrap())
        .collect();
    refs.sort();
    assert_eq!(refs, ["also-good", "good"], "{page}");
    let text = client
        .get(format!("{url}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(
        metric(
            &text,
            "refboard_webhook_items_refused_total{reason=\"item\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "refboard_webhook_requests_total{outcome=\"malformed\"}"
        ),
        Some(0.0),
        "{text}"
    );
    relay.stop().unwrap();
}

#[test]
fn import_keeps_the_good_items_of_a_line_beside_a_lone_surrogate() {
    let env = Env::new();
    let mut ndjson = mixed_body();
    ndjson.push(b'\n');
    std::fs::write(env.path("bodies.ndjson"), ndjson).unwrap();
    let out = env
        .cmd()
        .args(["import", "bodies.ndjson"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stdout.contains("Imported 2 referral(s) from 1 body(ies)")
            && stdout.contains("0 bad line(s) skipped; 1 referral(s) refused"),
        "{stdout}"
    );
    assert!(
        stderr.contains("bodies.ndjson:1: referral refused"),
        "{stderr}"
    );
    assert!(stderr.contains("surrogate"), "{stderr}");
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["stats", "--tz", "UTC", "--by", "ref", "--json"])).unwrap();
    let mut keys: Vec<&str> = json["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    keys.sort();
    assert_eq!(keys, ["also-good", "good"]);
}

#[test]
fn the_parser_refuses_only_the_item_with_the_surrogate() {
    let parsed = refboard::messenger::parse_webhook_at(&mixed_body(), TS + 1000).unwrap();
    let refs: Vec<Option<&str>> = parsed
        .referrals
        .iter()
        .map(|r| r.ref_code.as_deref())
        .collect();
    assert_eq!(refs, [Some("good"), Some("also-good")]);
    assert_eq!(parsed.refused.len(), 1, "{:?}", parsed.refused);
    let refused = &parsed.refused[0];
    assert_eq!(refused.field, "item");
    assert!(refused.value.contains("bad\\ud800"), "{refused:?}");
    assert!(refused.rule.contains("surrogate"), "{refused:?}");
    // A surrogate in an entry's own fields refuses that entry, not the body.
    let body = format!(
        r#"{{"object":"page","entry":[{{"id":"x\udc00","time":{TS},"messaging":[]}},{{"id":"{PAGE_ID}","time":{TS},"messaging":[{{"sender":{{"id":"1"}},"timestamp":{TS},"referral":{{"ref":"kept"}}}}]}}]}}"#
    );
    let parsed = refboard::messenger::parse_webhook_at(body.as_bytes(), TS + 1000).unwrap();
    assert_eq!(parsed.referrals.len(), 1);
    assert_eq!(parsed.refused.len(), 1);
    assert_eq!(parsed.refused[0].field, "entry");
    // A valid pair stays a character, and a body that is not JSON is still refused whole.
    let pair = String::from_utf8(mixed_body())
        .unwrap()
        .replace("bad\\ud800", "pair\\ud83d\\ude00");
    let parsed = refboard::messenger::parse_webhook_at(pair.as_bytes(), TS + 1000).unwrap();
    assert_eq!(parsed.referrals.len(), 3);
    assert_eq!(parsed.referrals[1].ref_code.as_deref(), Some("pair😀"));
    assert!(refboard::messenger::parse_webhook_at(b"{\"object\":", TS).is_err());
}
