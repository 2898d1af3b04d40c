//! Meta's side of the webhook, as the relay saw it: when Meta last verified
//! the callback (the `hub.challenge` GET with the right verify token), and
//! when someone last tried a wrong verify token, with a count in the last hour.
//!
//! Both times are kept in the relay's storage (the `meta` table of SQLite,
//! `refboard_meta` of PostgreSQL), so a restart, or another relay on the same
//! PostgreSQL, still knows them. The hour's count is this process's own, like
//! `bad_signatures_last_hour`. The token tried is never logged nor stored.
//!
//! A wrong token costs a write at most once per [`BAD_TOKEN_WRITE_SECS`], so a
//! stream of guesses cannot make the relay write to disk for each one.

use super::Storage;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Storage key of the last successful verification (ms since the epoch).
const VERIFIED_KEY: &str = "meta_verified_at_ms";
/// Storage key of the last wrong verify token (ms since the epoch).
const BAD_TOKEN_KEY: &str = "bad_verify_token_at_ms";
/// A wrong token is written to storage at most this often.
const BAD_TOKEN_WRITE_SECS: i64 = 60;
/// Minutes kept for "wrong verify tokens in the last hour".
const WINDOW_MINUTES: i64 = 60;

/// What the relay knows of Meta's side, in memory; storage is the truth
/// across restarts, memory the newest this process saw.
#[derive(Default)]
pub(crate) struct MetaSide {
    /// The newest verification this process saw (0: none).
    verified_ms: AtomicI64,
    /// The newest wrong token this process saw (0: none).
    bad_token_ms: AtomicI64,
    /// When a wrong token was last written to storage (0: never).
    bad_token_written_ms: AtomicI64,
    /// Wrong tokens since the process started.
    bad_tokens_total: AtomicU64,
    /// Wrong tokens per minute: (minute since the epoch, count) in a ring.
    bad_token_minutes: Mutex<Vec<(i64, u64)>>,
}

/// Meta's side as `/healthz` and `/metrics` report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MetaReport {
    /// When Meta last verified the callback (ms).
    pub verified_at_ms: Option<i64>,
    /// When a wrong verify token was last tried (ms).
    pub bad_token_at_ms: Option<i64>,
    /// Wrong verify tokens in the 60 minutes up to now (this process).
    pub bad_tokens_last_hour: u64,
    /// Wrong verify tokens since this process started.
    pub bad_tokens_total: u64,
}

impl MetaSide {
    /// Records Meta's verification at `now_ms`, in storage too; a storage
    /// failure is logged and the memory still answers.
    pub async fn verified(&self, storage: &Storage, now_ms: i64) {
        self.verified_ms.fetch_max(now_ms, Ordering::SeqCst);
        if let Err(e) = storage.set_time(VERIFIED_KEY, now_ms).await {
            tracing::warn!(error = %e, "cannot store the time of Meta's verification");
        }
    }

    /// Records a wrong verify token at `now_ms`; written to storage only when
    /// the last write is [`BAD_TOKEN_WRITE_SECS`] old.
    pub async fn bad_token(&self, storage: &Storage, now_ms: i64) {
        self.bad_token_ms.fetch_max(now_ms, Ordering::SeqCst);
        self.bad_tokens_total.fetch_add(1, Ordering::Relaxed);
        let minute = now_ms.div_euclid(60_000);
        if let Ok(mut ring) = self.bad_token_minutes.lock() {
            if ring.is_empty() {
                ring.resize(WINDOW_MINUTES as usize, (i64::MIN, 0));
            }
            let slot = &mut ring[minute.rem_euclid(WINDOW_MINUTES) as usize];
            if slot.0 != minute {
                *slot = (minute, 0);
            }
            slot.1 += 1;
        }
        let written = self.bad_token_written_ms.load(Ordering::SeqCst);
        if now_ms.saturating_sub(written) < BAD_TOKEN_WRITE_SECS * 1000 {
            return;
        }
        // Only the request that moves the mark writes.
        if self
            .bad_token_written_ms
            .compare_exchange(written, now_ms, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
            && let Err(e) = storage.set_time(BAD_TOKEN_KEY, now_ms).await
        {
            tracing::warn!(error = %e, "cannot store the time of a wrong verify token");
        }
    }

    fn last_hour(&self, now_ms: i64) -> u64 {
        let now = now_ms.div_euclid(60_000);
        self.bad_token_minutes
            .lock()
            .map(|ring| {
                ring.iter()
                    .filter(|(m, _)| *m <= now && now.saturating_sub(*m) < WINDOW_MINUTES)
                    .map(|(_, c)| c)
                    .sum()
            })
            .unwrap_or(0)
    }

    /// The newest of storage (other processes, earlier runs) and memory.
    pub async fn report(&self, storage: &Storage, now_ms: i64) -> MetaReport {
        let stored = |key| async move {
            storage.get_time(key).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot read Meta's side from storage");
                None
            })
        };
        let newest = |a: Option<i64>, b: i64| match (a, b) {
            (Some(a), b) => Some(a.max(b)),
            (None, 0) => None,
            (None, b) => Some(b),
        };
        MetaReport {
            verified_at_ms: newest(
                stored(VERIFIED_KEY).await,
                self.verified_ms.load(Ordering::SeqCst),
            ),
            bad_token_at_ms: newest(
                stored(BAD_TOKEN_KEY).await,
                self.bad_token_ms.load(Ordering::SeqCst),
            ),
            bad_tokens_last_hour: self.last_hour(now_ms),
            bad_tokens_total: self.bad_tokens_total.load(Ordering::Relaxed),
        }
    }
}

impl MetaReport {
    /// The Prometheus lines of Meta's side.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let seconds = |ms: i64| format!("{:.3}", ms as f64 / 1000.0);
        if let Some(ms) = self.verified_at_ms {
            let _ = writeln!(
                out,
                "# HELP refboard_meta_verified_timestamp_seconds When Meta last verified the webhook callback (Unix time).\n\
                 # TYPE refboard_meta_verified_timestamp_seconds gauge\n\
                 refboard_meta_verified_timestamp_seconds {}",
                seconds(ms)
            );
        }
        if let Some(ms) = self.bad_token_at_ms {
            let _ = writeln!(
                out,
                "# HELP refboard_bad_verify_token_timestamp_seconds When a wrong verify token was last tried (Unix time).\n\
                 # TYPE refboard_bad_verify_token_timestamp_seconds gauge\n\
                 refboard_bad_verify_token_timestamp_seconds {}",
                seconds(ms)
            );
        }
        let _ = writeln!(
            out,
            "# HELP refboard_bad_verify_tokens_last_hour Webhook verifications refused for a wrong verify token in the last 60 minutes.\n\
             # TYPE refboard_bad_verify_tokens_last_hour gauge\n\
             refboard_bad_verify_tokens_last_hour {}\n\
             # HELP refboard_bad_verify_tokens_total Webhook verifications refused for a wrong verify token.\n\
             # TYPE refboard_bad_verify_tokens_total counter\n\
             refboard_bad_verify_tokens_total {}",
            self.bad_tokens_last_hour, self.bad_tokens_total
        );
    }
}

impl Storage {
    /// A time (ms) kept under `key`, `None` when never written.
    async fn get_time(&self, key: &'static str) -> Result<Option<i64>, super::RelayError> {
        let raw = match self {
            Storage::Sqlite(s) => s.get_meta(key).await?,
            Storage::Postgres(p) => p.get_meta(key).await?,
        };
        Ok(raw.and_then(|v| v.parse().ok()))
    }

    /// Keeps `ms` under `key` unless a later time is already there.
    async fn set_time(&self, key: &'static str, ms: i64) -> Result<(), super::RelayError> {
        match self {
            Storage::Sqlite(s) => Ok(s.set_meta_time(key, ms).await?),
            Storage::Postgres(p) => Ok(p.set_meta_time(key, ms).await?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hour_counts_wrong_tokens_of_the_last_60_minutes_only() {
        let side = MetaSide::default();
        let mut ring = side.bad_token_minutes.lock().unwrap();
        ring.resize(WINDOW_MINUTES as usize, (i64::MIN, 0));
        let now_minute = 1_000_000;
        ring[(now_minute % WINDOW_MINUTES) as usize] = (now_minute, 3);
        ring[((now_minute - 59) % WINDOW_MINUTES) as usize] = (now_minute - 59, 2);
        // 61 minutes ago: out of the window.
        ring[(now_minute - 61).rem_euclid(WINDOW_MINUTES) as usize] = (now_minute - 61, 7);
        drop(ring);
        assert_eq!(side.last_hour(now_minute * 60_000 + 5), 5);
    }

    #[test]
    fn only_set_times_render_as_timestamps() {
        let mut out = String::new();
        MetaReport {
            verified_at_ms: None,
            bad_token_at_ms: Some(1_764_201_600_500),
            bad_tokens_last_hour: 4,
            bad_tokens_total: 9,
        }
        .render(&mut out);
        assert!(!out.contains("refboard_meta_verified_timestamp_seconds"));
        assert!(out.contains("refboard_bad_verify_token_timestamp_seconds 1764201600.500\n"));
        assert!(out.contains("refboard_bad_verify_tokens_last_hour 4\n"));
        assert!(out.contains("refboard_bad_verify_tokens_total 9\n"));
    }
}
