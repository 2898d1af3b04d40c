//! How many events each page asks for, and when a run of empty pages ends
//! the sync.
//!
//! A page over the client's cap (or one the backend refuses with 413) is
//! asked for again with half the `limit`, down to one event; after
//! [`GROW_AFTER_PAGES`] pages in a row fit, the limit doubles back toward the
//! configured page size. One event that alone is over the cap cannot be
//! skipped: the client only learns the next cursor from a page, so the sync
//! stops and names the cursor it is stuck at (see `docs/sync-protocol.md`).

use super::{Page, SyncConfig, SyncError, fetch};
use reqwest::blocking::Client;

/// Pages in a row that must fit before the limit doubles again.
pub const GROW_AFTER_PAGES: u32 = 4;

/// The `limit` asked for: halved when a page is too large, grown back
/// gradually when pages fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PageLimit {
    current: usize,
    max: usize,
    fitted_in_row: u32,
}

impl PageLimit {
    /// Starts at `max` (at least 1).
    pub(super) fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            current: max,
            max,
            fitted_in_row: 0,
        }
    }

    /// The limit to ask for now.
    pub(super) fn current(&self) -> usize {
        self.current
    }

    /// A page at the current limit was too large: halves it. `false` when it
    /// was already 1, so there is nothing left to halve.
    pub(super) fn shrink(&mut self) -> bool {
        self.fitted_in_row = 0;
        if self.current <= 1 {
            return false;
        }
        self.current /= 2;
        true
    }

    /// A page fitted: after [`GROW_AFTER_PAGES`] in a row, doubles the limit
    /// back toward the maximum.
    pub(super) fn fitted(&mut self) {
        if self.current >= self.max {
            return;
        }
        self.fitted_in_row += 1;
        if self.fitted_in_row >= GROW_AFTER_PAGES {
            self.fitted_in_row = 0;
            self.current = self.current.saturating_mul(2).min(self.max);
        }
    }
}

/// A page body over the cap, or a 413 from the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TooLarge {
    /// The body's size when the backend said it (`Content-Length`).
    pub(super) bytes: Option<u64>,
    /// The backend answered 413 instead of a page.
    pub(super) refused_by_backend: bool,
}

/// Fetches the page after `cursor`, halving `limit` while the page does not
/// fit. One event over the cap ends in [`SyncError::EventTooLarge`].
pub(super) fn fetch_fitting(
    client: &Client,
    config: &SyncConfig,
    cursor: Option<&str>,
    limit: &mut PageLimit,
) -> Result<Page, SyncError> {
    loop {
        match fetch(client, config, cursor, limit.current())? {
            Ok(page) => {
                limit.fitted();
                return Ok(page);
            }
            Err(too_large) => {
                if !limit.shrink() {
                    return Err(SyncError::EventTooLarge {
                        after: cursor.unwrap_or("").to_string(),
                        size: match (too_large.bytes, too_large.refused_by_backend) {
                            (Some(n), _) => format!("{n} bytes"),
                            (None, true) => "a size the backend refuses to send (HTTP 413)".into(),
                            (None, false) => {
                                format!("more than {}", super::bytes_text(config.max_page_bytes))
                            }
                        },
                        cap_bytes: config.max_page_bytes,
                    });
                }
                tracing::warn!(
                    limit = limit.current(),
                    "a page was too large; asking for fewer events"
                );
            }
        }
    }
}

/// Counts pages in a row that claim more (`has_more: true`) but make no
/// progress: empty ones, whether or not their cursor moves (a backend may end
/// a page early, but not for ever), and any whose cursor stays where it was.
#[derive(Debug, Default)]
pub(super) struct StalledPages {
    in_row: u32,
}

impl StalledPages {
    /// Looks at a page fetched after `cursor`: `Some(n)` when it is the `n`th
    /// page in a row without progress; `None` (and the count restarts)
    /// otherwise.
    pub(super) fn observe(&mut self, page: &Page, cursor: Option<&str>) -> Option<u32> {
        let empty = page.events.is_empty() && page.conversions.is_empty() && page.skipped == 0;
        if page.has_more && (empty || same_cursor(page, cursor)) {
            self.in_row += 1;
            Some(self.in_row)
        } else {
            self.in_row = 0;
            None
        }
    }
}

/// The page hands back the cursor it was fetched after (none is `""`).
pub(super) fn same_cursor(page: &Page, cursor: Option<&str>) -> bool {
    page.next_cursor == cursor.unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_halves_to_one_and_grows_back_after_pages_that_fit() {
        let mut l = PageLimit::new(5000);
        let mut seen = vec![l.current()];
        while l.shrink() {
            seen.push(l.current());
        }
        assert_eq!(
            seen,
            [5000, 2500, 1250, 625, 312, 156, 78, 39, 19, 9, 4, 2, 1]
        );
        assert!(!l.shrink(), "1 cannot be halved");
        assert_eq!(l.current(), 1);
        let mut grown = Vec::new();
        for _ in 0..(GROW_AFTER_PAGES * 14) {
            l.fitted();
            grown.push(l.current());
        }
        let steps: Vec<usize> = grown
            .iter()
            .step_by(GROW_AFTER_PAGES as usize)
            .copied()
            .collect();
        // Each step holds for GROW_AFTER_PAGES pages, then doubles, to the max.
        assert_eq!(&steps[..4], &[1, 2, 4, 8], "grows gradually: {grown:?}");
        assert_eq!(*grown.last().unwrap(), 5000, "and stops at the maximum");
        // A page too large in between starts the count again.
        let mut l = PageLimit::new(8);
        l.shrink();
        for _ in 0..GROW_AFTER_PAGES - 1 {
            l.fitted();
        }
        l.shrink();
        assert_eq!(l.current(), 2);
        for _ in 0..GROW_AFTER_PAGES - 1 {
            l.fitted();
        }
        assert_eq!(l.current(), 2);
        l.fitted();
        assert_eq!(l.current(), 4);
    }

    #[test]
    fn a_limit_of_zero_is_one() {
        let mut l = PageLimit::new(0);
        assert_eq!(l.current(), 1);
        assert!(!l.shrink());
    }
}
