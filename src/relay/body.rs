//! Webhook bodies under limits: the signature header's form is checked before
//! any body byte is read, the bytes every connection buffers at once share one
//! budget, and a body must arrive within its deadline.
//!
//! The budget is a semaphore of bytes. A body with a `Content-Length`
//! reserves that many bytes before its first byte is read; a chunked body
//! reserves one read buffer ahead of what it has received. When the budget is
//! spent the request gets `503` with `Retry-After` at once, so memory stays
//! bounded whatever the peers send. A quarter of the budget is kept for
//! bodies up to [`SMALL_BODY_BYTES`] (Meta's deliveries are a few KiB), so
//! floods of 1 MiB bodies cannot crowd out real webhooks.

use super::MAX_BODY_BYTES;
use super::server::MAX_BUF_BYTES;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::HeaderMap;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bodies up to this size may also use the reserved quarter of the budget.
pub(crate) const SMALL_BODY_BYTES: usize = 64 * 1024;
/// How long a refused body is still read (and thrown away) after the answer,
/// so a client that is still sending gets the answer instead of a reset.
const DRAIN_SECS: u64 = 2;
/// Bytes of an unsigned or over-budget body read before the connection is
/// closed: none. Reading a flood of them takes CPU that real requests need,
/// and an honest small body has usually arrived with its headers.
pub(crate) const DRAIN_SMALL_BYTES: usize = 0;

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Larger than [`MAX_BODY_BYTES`] (declared or received).
    TooLarge,
    /// The budget of body bytes is spent; retry later.
    Busy,
    /// The body did not arrive within the body deadline.
    TimedOut,
    /// The connection broke or the framing was invalid.
    Broken,
}

/// Bytes reserved for one body; given back when dropped.
pub(crate) struct Reservation {
    permits: Vec<OwnedSemaphorePermit>,
    bytes: usize,
}

/// The shared budget of body bytes and the body deadline.
pub(crate) struct BodyBudget {
    general: Arc<Semaphore>,
    small: Arc<Semaphore>,
    timeout: Duration,
}

impl BodyBudget {
    /// A budget of `total_bytes` (from 2 MiB, so the largest body fits the
    /// general three quarters, to 4 GiB) and a deadline of `timeout`.
    pub(crate) fn new(total_bytes: usize, timeout: Duration) -> Self {
        let total = total_bytes.clamp(2 * MAX_BODY_BYTES, u32::MAX as usize);
        let small = total / 4;
        Self {
            general: Arc::new(Semaphore::new(total - small)),
            small: Arc::new(Semaphore::new(small)),
            timeout,
        }
    }

    /// The body deadline.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Reserves `bytes` more for `r`: from the general pool, else (for a
    /// small body) from the reserved one.
    fn reserve(&self, r: &mut Reservation, bytes: usize, small: bool) -> Result<(), Refusal> {
        let n = u32::try_from(bytes).map_err(|_| Refusal::TooLarge)?;
        let permit = match self.general.clone().try_acquire_many_owned(n) {
            Ok(p) => p,
            Err(_) if small => self
                .small
                .clone()
                .try_acquire_many_owned(n)
                .map_err(|_| Refusal::Busy)?,
            Err(_) => return Err(Refusal::Busy),
        };
        r.permits.push(permit);
        r.bytes += bytes;
        Ok(())
    }

    /// Reads the whole body within the budget and the deadline. The bytes
    /// stay reserved while the returned [`Reservation`] lives.
    pub(crate) async fn read(&self, mut body: Body) -> Result<(Bytes, Reservation), Refusal> {
        let declared = body
            .size_hint()
            .exact()
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            // Read to the end: a signed client that overshot gets its 413.
            drain(body, MAX_BODY_BYTES + MAX_BUF_BYTES);
            return Err(Refusal::TooLarge);
        }
        let mut held = Reservation {
            permits: Vec::new(),
            bytes: 0,
        };
        let first = declared.unwrap_or(MAX_BUF_BYTES);
        if let Err(e) = self.reserve(&mut held, first, first <= SMALL_BODY_BYTES) {
            drain(body, DRAIN_SMALL_BYTES);
            return Err(e);
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut buf: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0));
        loop {
            let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => return Err(Refusal::TimedOut),
                Ok(None) => break,
                Ok(Some(Err(_))) => return Err(Refusal::Broken),
                Ok(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            let total = buf.len() + data.len();
            if total > MAX_BODY_BYTES {
                return Err(Refusal::TooLarge);
            }
            // A chunked body keeps one read buffer reserved ahead of itself.
            let ahead = (total + MAX_BUF_BYTES).min(MAX_BODY_BYTES + MAX_BUF_BYTES);
            if declared.is_none() && ahead > held.bytes {
                let more = ahead - held.bytes;
                self.reserve(&mut held, more, false)?;
            }
            buf.extend_from_slice(&data);
        }
        Ok((Bytes::from(buf), held))
    }
}

/// Reads and throws away up to `most` bytes of a refused body for a short
/// while, off the request, so the answer goes out first and the client reads
/// it rather than a connection reset. Nothing is kept.
pub(crate) fn drain(mut body: Body, most: usize) {
    if most == 0 {
        return;
    }
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(DRAIN_SECS);
        let mut left = most;
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await {
            let n = frame.data_ref().map_or(0, Bytes::len);
            left = match left.checked_sub(n) {
                Some(l) => l,
                None => break,
            };
        }
    });
}

/// Checks that `X-Hub-Signature-256` is present and looks like Meta's
/// (`sha256=` and 64 hexadecimal digits), before any body byte is read. The
/// full check against the body is `messenger::verify_signature`.
pub(crate) fn signature_well_formed(headers: &HeaderMap) -> Result<(), &'static str> {
    let Some(value) = headers.get(crate::messenger::SIGNATURE_HEADER) else {
        return Err("missing X-Hub-Signature-256 header");
    };
    let digits = value
        .to_str()
        .ok()
        .map(str::trim)
        .and_then(|v| v.strip_prefix("sha256="));
    match digits {
        Some(d) if d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(()),
        _ => Err("X-Hub-Signature-256 must be sha256= and 64 hexadecimal digits"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn only_sha256_and_64_hex_digits_pass_the_form_check() {
        let check = |v: Option<&str>| {
            let mut h = HeaderMap::new();
            if let Some(v) = v {
                h.insert(
                    crate::messenger::SIGNATURE_HEADER,
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            signature_well_formed(&h)
        };
        let good = format!("sha256={}", "aB".repeat(32));
        assert_eq!(check(Some(&good)), Ok(()));
        for bad in [
            None,
            Some(""),
            Some("sha256="),
            Some("sha256=00"),
            Some(&"ab".repeat(32)),
            Some(&format!("sha1={}", "ab".repeat(32))),
            Some(&format!("sha256={}", "ab".repeat(33))),
            Some(&format!("sha256={}g", "ab".repeat(31))),
        ] {
            assert!(check(bad.map(|s| s as &str)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_budget_refuses_past_its_bytes_and_keeps_a_quarter_for_small_bodies() {
        let budget = BodyBudget::new(8 << 20, Duration::from_secs(1));
        let mut large = Vec::new();
        loop {
            let mut r = Reservation {
                permits: Vec::new(),
                bytes: 0,
            };
            match budget.reserve(&mut r, MAX_BODY_BYTES, false) {
                Ok(()) => large.push(r),
                Err(e) => {
                    assert_eq!(e, Refusal::Busy);
                    break;
                }
            }
        }
        assert_eq!(large.len(), 6, "6 MiB of 8 for large bodies");
        let mut small = Reservation {
            permits: Vec::new(),
            bytes: 0,
        };
        assert_eq!(budget.reserve(&mut small, SMALL_BODY_BYTES, true), Ok(()));
        large.pop();
        let mut again = Reservation {
            permits: Vec::new(),
            bytes: 0,
        };
        assert_eq!(budget.reserve(&mut again, MAX_BODY_BYTES, false), Ok(()));
    }
}
