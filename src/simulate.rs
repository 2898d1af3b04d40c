//! Realistic signed webhook traffic for demos and load tests.
//!
//! Mixes postback referrals (new) and `messaging_referral`s (returning),
//! redelivers some batches as Meta does, writes some timestamps as strings,
//! and adds non-referral items (messages, deliveries, reads).

mod outcomes;
mod story;

pub use outcomes::{DEMO_GOALS, outcomes};
pub use story::{Story, StoryRef};

use crate::messenger::{SIGNATURE_HEADER, sign};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

/// What to send.
#[derive(Debug, Clone)]
pub struct SimulateConfig {
    /// Relay base URL.
    pub relay_url: String,
    /// App secret to sign with.
    pub app_secret: String,
    /// Distinct referrals to send.
    pub events: usize,
    /// Spread over this many days before `end_ms`.
    pub days: u32,
    /// Refs to use, most popular first.
    pub refs: Vec<String>,
    /// Random seed: the same seed sends the same traffic.
    pub seed: u64,
    /// Page id the events are for.
    pub page_id: String,
    /// End of the period, ms since the epoch.
    pub end_ms: i64,
    /// Parallel senders.
    pub concurrency: usize,
}

/// What was sent, after duplicates are removed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SimulateReport {
    /// Webhook requests sent (redeliveries included).
    pub requests: usize,
    /// Requests that were redeliveries of an earlier batch.
    pub redelivered: usize,
    /// Items that carried no referral.
    pub non_referral_items: usize,
    /// Distinct referrals.
    pub referrals: usize,
    /// Distinct referrals per ref and kind.
    pub per_ref: BTreeMap<String, BTreeMap<String, usize>>,
    /// Distinct people.
    pub people: usize,
}

/// What can go wrong while simulating.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// A request failed.
    #[error("the relay refused a webhook ({0})")]
    Send(String),
    /// Bad options: names the field, the value and the rule.
    #[error("{0}")]
    Invalid(#[from] crate::model::ValidationError),
    /// A body could not be serialised: refboard's fault, not the options'.
    #[error("{0}")]
    Internal(#[from] crate::model::InternalError),
}

fn timestamp(rng: &mut fastrand::Rng, ms: i64) -> Value {
    if rng.u8(..10) == 0 {
        json!(ms.to_string())
    } else {
        json!(ms)
    }
}

/// Builds the request bodies: (body, is_redelivery), plus the report.
/// The same seed gives the same bodies: the random draws stay in order.
pub fn generate(config: &SimulateConfig) -> Result<(Vec<Vec<u8>>, SimulateReport), SimulateError> {
    generate_with(config, None)
}

/// [`generate`] along a [`Story`]: its refs (`config.refs` is ignored),
/// launches, seasonal rise and weekends.
pub fn generate_story(
    config: &SimulateConfig,
    story: &Story,
) -> Result<(Vec<Vec<u8>>, SimulateReport), SimulateError> {
    let config = SimulateConfig {
        refs: story.refs.iter().map(|r| r.ref_code.clone()).collect(),
        ..config.clone()
    };
    generate_with(&config, Some(story))
}

fn generate_with(
    config: &SimulateConfig,
    story: Option<&Story>,
) -> Result<(Vec<Vec<u8>>, SimulateReport), SimulateError> {
    if config.refs.is_empty() {
        return Err(crate::model::ValidationError::new("refs", "", "give at least one ref").into());
    }
    if config.days == 0 {
        return Err(crate::model::ValidationError::new("days", "0", "give at least 1").into());
    }
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let mut report = SimulateReport::default();
    let mut items = referral_items(config, story, &mut rng, &mut report);
    items.sort_by_key(|i| i.0);
    let bodies = bodies(&items, &config.page_id, &mut rng, &mut report)?;
    report.requests = bodies.len();
    Ok((bodies, report))
}

/// The index of a ref, popular refs first: weights 1/(rank+1).
fn pick_ref(rng: &mut fastrand::Rng, refs: usize) -> usize {
    let weights: Vec<f64> = (0..refs).map(|i| 1.0 / (i as f64 + 1.0)).collect();
    let total: f64 = weights.iter().sum();
    let mut pick = rng.f64() * total;
    for (i, w) in weights.iter().enumerate() {
        if pick < *w {
            return i;
        }
        pick -= w;
    }
    0
}

/// `config.events` messaging items, each with its time, unsorted; counts
/// them, and the people, in `report`.
fn referral_items(
    config: &SimulateConfig,
    story: Option<&Story>,
    rng: &mut fastrand::Rng,
    report: &mut SimulateReport,
) -> Vec<(i64, Value)> {
    let span_ms = i64::from(config.days) * 86_400_000;
    let mut people: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let mut items: Vec<(i64, Value)> = Vec::new();
    let page = &config.page_id;
    while items.len() < config.events {
        // A story draws the day and the ref together; otherwise the ref
        // first and the time after (the draws stay in their old order, so
        // a seed sends the same traffic as before stories).
        let (ref_index, story_ts) = match story {
            Some(s) => {
                let (r, ts) = s.pick(rng, config.days, config.end_ms);
                (r, Some(ts))
            }
            None => (pick_ref(rng, config.refs.len()), None),
        };
        let Some(ref_code) = config.refs.get(ref_index) else {
            break;
        };
        let returning = !people.is_empty() && rng.u8(..10) < 4;
        let sender = if returning {
            people[rng.usize(..people.len())].clone()
        } else {
            let id = format!(
                "{}",
                6_000_000_000_000_000u64 + rng.u64(..999_999_999_999_999)
            );
            people.push(id.clone());
            id
        };
        let ts = match story_ts {
            Some(ts) => ts,
            None => {
                // More traffic in the day than at night.
                let mut ts = config.end_ms - rng.i64(0..span_ms);
                let hour = (ts / 3_600_000) % 24;
                if (0..7).contains(&hour) && rng.bool() {
                    ts += 9 * 3_600_000;
                    ts = ts.min(config.end_ms - 1);
                }
                ts
            }
        };
        let kind = if returning { "returning" } else { "new" };
        if !seen.insert((sender.clone(), ts, kind, ref_code.clone())) {
            continue;
        }
        let source = if rng.u8(..10) == 0 {
            "ADS"
        } else {
            "SHORTLINK"
        };
        let mut referral = json!({"ref": ref_code, "source": source, "type": "OPEN_THREAD"});
        if source == "ADS" {
            referral["ad_id"] = json!(format!("2385{}", rng.u64(1_000_000_000..9_999_999_999)));
        }
        let item = if returning {
            json!({"sender": {"id": sender}, "recipient": {"id": page}, "timestamp": timestamp(rng, ts), "referral": referral})
        } else {
            json!({"sender": {"id": sender}, "recipient": {"id": page}, "timestamp": timestamp(rng, ts),
                   "postback": {"title": "Get Started", "payload": "GET_STARTED", "referral": referral}})
        };
        *report
            .per_ref
            .entry(ref_code.clone())
            .or_default()
            .entry(kind.to_string())
            .or_default() += 1;
        items.push((ts, item));
    }
    report.referrals = items.len();
    report.people = people.len();
    items
}

/// Groups the sorted `items` into webhook bodies of 1 to 5, some with a
/// non-referral item among them and some delivered twice.
fn bodies(
    items: &[(i64, Value)],
    page: &str,
    rng: &mut fastrand::Rng,
    report: &mut SimulateReport,
) -> Result<Vec<Vec<u8>>, SimulateError> {
    let mut bodies = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let n = rng.usize(1..=5).min(items.len() - i);
        let mut messaging: Vec<Value> = items[i..i + n].iter().map(|x| x.1.clone()).collect();
        let ts = items[i].0;
        if rng.u8(..5) == 0 {
            let filler = filler(rng, page, ts);
            messaging.insert(rng.usize(..=messaging.len()), filler);
            report.non_referral_items += 1;
        }
        let body =
            json!({"object": "page", "entry": [{"id": page, "time": ts, "messaging": messaging}]});
        let bytes = serde_json::to_vec(&body).map_err(|e| {
            crate::model::InternalError::new(format!("cannot serialise a webhook body: {e}"))
        })?;
        if rng.u8(..20) == 0 {
            bodies.push(bytes.clone());
            report.redelivered += 1;
        }
        bodies.push(bytes);
        i += n;
    }
    Ok(bodies)
}

/// A messaging item that is no referral: a message, a delivery or a read.
fn filler(rng: &mut fastrand::Rng, page: &str, ts: i64) -> Value {
    match rng.u8(..3) {
        0 => {
            json!({"sender": {"id": "6000000000000001"}, "recipient": {"id": page}, "timestamp": ts, "message": {"mid": "m_x", "text": "Hello"}})
        }
        1 => {
            json!({"sender": {"id": "6000000000000001"}, "recipient": {"id": page}, "timestamp": ts, "delivery": {"mids": ["m_x"], "watermark": ts}})
        }
        _ => {
            json!({"sender": {"id": "6000000000000001"}, "recipient": {"id": page}, "timestamp": ts, "read": {"watermark": ts}})
        }
    }
}

/// Posts signed bodies to `{relay_url}/webhook` from `concurrency` threads;
/// a 5xx or a connection error is retried, as Meta does.
pub fn send(config: &SimulateConfig, bodies: &[Vec<u8>]) -> Result<(), SimulateError> {
    let url = format!("{}/webhook", config.relay_url.trim_end_matches('/'));
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| SimulateError::Send(e.to_string()))?;
    let next = Mutex::new(0usize);
    let failure: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..config.concurrency.max(1) {
            s.spawn(|| {
                loop {
                    let i = {
                        let Ok(mut n) = next.lock() else { return };
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(body) = bodies.get(i) else { return };
                    if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        return;
                    }
                    let sig = sign(config.app_secret.as_bytes(), body);
                    let mut attempt = 0;
                    loop {
                        attempt += 1;
                        let resp = client
                            .post(&url)
                            .header(SIGNATURE_HEADER, &sig)
                            .header("content-type", "application/json")
                            .body(body.clone())
                            .send();
                        match resp {
                            Ok(r) if r.status().is_success() => break,
                            Ok(r) if !r.status().is_server_error() || attempt >= 5 => {
                                if let Ok(mut f) = failure.lock() {
                                    *f = Some(format!("HTTP {}", r.status().as_u16()));
                                }
                                return;
                            }
                            Err(e) if attempt >= 5 => {
                                if let Ok(mut f) = failure.lock() {
                                    *f = Some(e.without_url().to_string());
                                }
                                return;
                            }
                            _ => std::thread::sleep(Duration::from_millis(50 * attempt)),
                        }
                    }
                }
            });
        }
    });
    match failure.into_inner().ok().flatten() {
        Some(e) => Err(SimulateError::Send(e)),
        None => Ok(()),
    }
}
