//! What referred people do next, for the demo: a first message a few
//! minutes after most referrals ("conversation started"), and postbacks a
//! relay with `--goal`s counts as conversions (an order, a table booking)
//! hours to days later. Each ref converts at its own rate, so the funnel and
//! the conversion columns differ by link as they would in a real campaign.

use serde_json::{Value, json};

/// The goal patterns the demo relay uses with [`outcomes`]' payloads.
pub const DEMO_GOALS: [&str; 2] = ["order=ORDER_CONFIRMED*", "booking=BOOK_*_DONE"];

/// One referral read back from a webhook body: who, when, which ref.
struct Referred {
    sender: String,
    ts_ms: i64,
    ref_code: String,
}

/// Follow-up webhook bodies for the referrals in `bodies` (the signed
/// referral bodies already sent), none later than `end_ms`, deterministic
/// for a `seed`.
pub fn outcomes(bodies: &[Vec<u8>], page_id: &str, seed: u64, end_ms: i64) -> Vec<Vec<u8>> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut items: Vec<(i64, Value)> = Vec::new();
    for r in bodies.iter().flat_map(|b| referred_in(b)) {
        let rate = order_rate(&r.ref_code);
        if rng.f64() < 0.7 {
            let ts = r.ts_ms + rng.i64(60_000..1_200_000);
            items.push((ts, message(&r.sender, page_id, ts)));
        }
        if rng.f64() < rate {
            let ts = r.ts_ms + rng.i64(3_600_000..5 * 86_400_000);
            let payload = format!("ORDER_CONFIRMED_{}", rng.u32(10_000..99_999));
            items.push((
                ts,
                postback(&r.sender, page_id, ts, "Confirm order", &payload),
            ));
        }
        if rng.f64() < rate / 3.0 {
            let ts = r.ts_ms + rng.i64(3_600_000..3 * 86_400_000);
            items.push((
                ts,
                postback(&r.sender, page_id, ts, "Book", "BOOK_TABLE_DONE"),
            ));
        }
    }
    items.retain(|(ts, _)| *ts <= end_ms);
    items.sort_by_key(|i| i.0);
    items
        .chunks(50)
        .filter_map(|chunk| {
            let messaging: Vec<&Value> = chunk.iter().map(|i| &i.1).collect();
            let time = chunk.first().map_or(0, |i| i.0);
            let body = json!({"object": "page", "entry": [{"id": page_id, "time": time, "messaging": messaging}]});
            serde_json::to_vec(&body).ok()
        })
        .collect()
}

/// The referrals of one webhook body (referral items and Get Started
/// postbacks with a referral).
fn referred_in(body: &[u8]) -> Vec<Referred> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let items = v["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["messaging"].as_array().into_iter().flatten());
    items
        .filter_map(|m| {
            let referral = m
                .get("referral")
                .or_else(|| m["postback"].get("referral"))?;
            let ts_ms = match &m["timestamp"] {
                Value::Number(n) => n.as_i64()?,
                Value::String(s) => s.parse().ok()?,
                _ => return None,
            };
            Some(Referred {
                sender: m["sender"]["id"].as_str()?.to_string(),
                ts_ms,
                ref_code: referral["ref"].as_str()?.to_string(),
            })
        })
        .collect()
}

/// A ref's share of referrals that lead to an order: 6% to 30%, fixed per
/// ref (a hash of its text), so links differ as real ones do.
fn order_rate(ref_code: &str) -> f64 {
    let h = ref_code
        .bytes()
        .fold(7_u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    0.06 + (h % 25) as f64 / 100.0
}

/// A person's text message (its text is never stored by the relay).
fn message(sender: &str, page: &str, ts: i64) -> Value {
    json!({"sender": {"id": sender}, "recipient": {"id": page}, "timestamp": ts,
           "message": {"mid": format!("m_demo_{ts}"), "text": "Hi! Is this still on?"}})
}

/// A button press the bot receives as a postback.
fn postback(sender: &str, page: &str, ts: i64, title: &str, payload: &str) -> Value {
    json!({"sender": {"id": sender}, "recipient": {"id": page}, "timestamp": ts,
           "postback": {"title": title, "payload": payload}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_ups_come_after_their_referral_and_never_after_the_end() {
        let body = json!({"object":"page","entry":[{"id":"1","time":0,"messaging":[
            {"sender":{"id":"42"},"recipient":{"id":"1"},"timestamp":1_000_000,
             "referral":{"ref":"flyer","source":"SHORTLINK","type":"OPEN_THREAD"}},
            {"sender":{"id":"43"},"recipient":{"id":"1"},"timestamp":"2000000",
             "postback":{"payload":"GET_STARTED","referral":{"ref":"news"}}}]}]});
        let bodies = vec![serde_json::to_vec(&body).unwrap(); 200];
        let end_ms = 1_000_000 + 2 * 86_400_000;
        let out = outcomes(&bodies, "1", 7, end_ms);
        assert!(!out.is_empty());
        let mut orders = 0;
        for b in &out {
            let v: Value = serde_json::from_slice(b).unwrap();
            for m in v["entry"][0]["messaging"].as_array().unwrap() {
                let ts = m["timestamp"].as_i64().unwrap();
                assert!((1_000_000..=end_ms).contains(&ts), "{m}");
                if m["postback"]["payload"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("ORDER_CONFIRMED_"))
                {
                    orders += 1;
                }
            }
        }
        assert!(orders > 0, "some referrals lead to orders");
        assert_eq!(
            outcomes(&bodies, "1", 7, end_ms),
            out,
            "same seed, same traffic"
        );
    }
}
