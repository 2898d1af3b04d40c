//! Webhook health counters, rendered as Prometheus text on `/metrics`.
//!
//! Plain atomics: a request bumps one counter, so counting never slows the
//! answer Meta waits for. Counters are per relay process; a Prometheus server
//! sums them over the relays behind a load balancer.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// How a webhook request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    /// At least one new event was committed.
    Stored,
    /// Every referral in it was already stored (a redelivery).
    Duplicate,
    /// Signed and well-formed, but it carried no referral.
    Ignored,
    /// Missing or wrong `X-Hub-Signature-256`.
    BadSignature,
    /// Signed, but not a webhook body.
    Malformed,
    /// Over the body limit.
    TooLarge,
    /// The database refused the write (answered 500, Meta retries).
    Failed,
}

impl Outcome {
    const ALL: [Outcome; 7] = [
        Outcome::Stored,
        Outcome::Duplicate,
        Outcome::Ignored,
        Outcome::BadSignature,
        Outcome::Malformed,
        Outcome::TooLarge,
        Outcome::Failed,
    ];

    fn label(self) -> &'static str {
        match self {
            Outcome::Stored => "stored",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored => "ignored",
            Outcome::BadSignature => "bad_signature",
            Outcome::Malformed => "malformed",
            Outcome::TooLarge => "too_large",
            Outcome::Failed => "failed",
        }
    }
}

/// Minutes kept for "bad signatures in the last hour".
const WINDOW_MINUTES: usize = 60;

/// Every counter of one relay process.
#[derive(Default)]
pub(crate) struct Metrics {
    outcomes: [AtomicU64; 7],
    refused: Mutex<BTreeMap<&'static str, u64>>,
    /// Bad signatures per minute: (minute since the epoch, count) in a ring.
    bad_signature_minutes: Mutex<Vec<(i64, u64)>>,
    /// Webhooks that could not be passed on to the bot.
    pub forward_failures: AtomicU64,
    /// Webhooks dropped because the forward queue was full.
    pub forward_dropped: AtomicU64,
    /// Open HTTP connections now.
    pub connections_open: AtomicI64,
    /// Most HTTP connections open at once since start.
    pub connections_peak: AtomicI64,
    /// The connection cap.
    pub connections_limit: AtomicI64,
}

impl Metrics {
    /// Counts one webhook request.
    pub fn count(&self, outcome: Outcome) {
        if let Some(i) = Outcome::ALL.iter().position(|o| *o == outcome) {
            self.outcomes[i].fetch_add(1, Ordering::Relaxed);
        }
        if outcome == Outcome::BadSignature {
            let minute = chrono::Utc::now().timestamp().div_euclid(60);
            if let Ok(mut ring) = self.bad_signature_minutes.lock() {
                if ring.len() < WINDOW_MINUTES {
                    ring.resize(WINDOW_MINUTES, (i64::MIN, 0));
                }
                let slot = &mut ring[minute.rem_euclid(WINDOW_MINUTES as i64) as usize];
                if slot.0 != minute {
                    *slot = (minute, 0);
                }
                slot.1 += 1;
            }
        }
    }

    /// Counts referral items refused inside an accepted body.
    pub fn refuse(&self, reasons: &[&'static str]) {
        if reasons.is_empty() {
            return;
        }
        if let Ok(mut map) = self.refused.lock() {
            for r in reasons {
                *map.entry(r).or_default() += 1;
            }
        }
    }

    /// Bad signatures in the 60 minutes up to now.
    pub fn bad_signatures_last_hour(&self) -> u64 {
        let now = chrono::Utc::now().timestamp().div_euclid(60);
        self.bad_signature_minutes
            .lock()
            .map(|ring| {
                ring.iter()
                    .filter(|(m, _)| *m <= now && now.saturating_sub(*m) < WINDOW_MINUTES as i64)
                    .map(|(_, c)| c)
                    .sum()
            })
            .unwrap_or(0)
    }

    /// A connection opened; keeps the peak.
    pub fn connection_opened(&self) {
        let open = self.connections_open.fetch_add(1, Ordering::SeqCst) + 1;
        self.connections_peak.fetch_max(open, Ordering::SeqCst);
    }

    /// A connection closed.
    pub fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::SeqCst);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self, last_event_ms: Option<i64>, forward_depth: usize) -> String {
        let mut out = String::with_capacity(2048);
        self.render_labelled(&mut out);
        // (name, help, type, value) of each metric without labels, in order.
        let mut single: Vec<(&str, &str, &str, String)> = Vec::new();
        if let Some(ms) = last_event_ms {
            single.push((
                "refboard_last_event_received_seconds",
                "When the newest stored event was received (Unix time).",
                "gauge",
                format!("{:.3}", ms as f64 / 1000.0),
            ));
        }
        let load = |a: &AtomicI64| a.load(Ordering::SeqCst).to_string();
        single.extend([
            (
                "refboard_bad_signatures_last_hour",
                "Webhooks refused for their signature in the last 60 minutes.",
                "gauge",
                self.bad_signatures_last_hour().to_string(),
            ),
            (
                "refboard_forward_queue_depth",
                "Webhooks waiting to be forwarded to the bot.",
                "gauge",
                forward_depth.to_string(),
            ),
            (
                "refboard_forward_failures_total",
                "Webhooks the bot refused or that could not reach it.",
                "counter",
                self.forward_failures.load(Ordering::Relaxed).to_string(),
            ),
            (
                "refboard_forward_dropped_total",
                "Webhooks not forwarded because the queue was full.",
                "counter",
                self.forward_dropped.load(Ordering::Relaxed).to_string(),
            ),
            (
                "refboard_http_connections_open",
                "HTTP connections open now.",
                "gauge",
                load(&self.connections_open),
            ),
            (
                "refboard_http_connections_peak",
                "Most HTTP connections open at once since start.",
                "gauge",
                load(&self.connections_peak),
            ),
            (
                "refboard_http_connections_limit",
                "The connection cap (--max-connections).",
                "gauge",
                load(&self.connections_limit),
            ),
        ]);
        for (name, help, kind, value) in single {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }

    /// The two counters with a label: requests by outcome, items refused by reason.
    fn render_labelled(&self, out: &mut String) {
        out.push_str("# HELP refboard_webhook_requests_total Webhook POSTs by outcome.\n");
        out.push_str("# TYPE refboard_webhook_requests_total counter\n");
        for (i, o) in Outcome::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "refboard_webhook_requests_total{{outcome=\"{}\"}} {}",
                o.label(),
                self.outcomes[i].load(Ordering::Relaxed)
            );
        }
        out.push_str(
            "# HELP refboard_webhook_items_refused_total Referral items refused inside accepted bodies, by reason.\n",
        );
        out.push_str("# TYPE refboard_webhook_items_refused_total counter\n");
        if let Ok(map) = self.refused.lock() {
            for (reason, n) in map.iter() {
                let _ = writeln!(
                    out,
                    "refboard_webhook_items_refused_total{{reason=\"{reason}\"}} {n}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_as_prometheus_text() {
        let m = Metrics::default();
        m.count(Outcome::Stored);
        m.count(Outcome::BadSignature);
        m.refuse(&["no_sender", "no_sender"]);
        let text = m.render(Some(1_764_201_600_000), 3);
        assert!(text.contains("refboard_webhook_requests_total{outcome=\"stored\"} 1\n"));
        assert!(text.contains("refboard_webhook_items_refused_total{reason=\"no_sender\"} 2\n"));
        assert!(text.contains("refboard_last_event_received_seconds 1764201600.000\n"));
        assert!(text.contains("refboard_forward_queue_depth 3\n"));
        assert_eq!(m.bad_signatures_last_hour(), 1);
    }
}
