//! Importing raw webhook bodies as a bot might have logged them: one JSON
//! body per line (NDJSON), or one body per file. Shared by the CLI and the
//! dashboard.
//!
//! Conversions (issue 21) come in too: a body in the shape of Meta's
//! Conversions API (`{"data": [...]}`, as `POST /v1/conversions` takes it)
//! is read with the endpoint's rules, except Meta's 7 days (a log may be
//! older), all of a body or none of it; with goals
//! ([`import_reader_with_goals`]), postback and quick-reply payloads of
//! webhook bodies become conversions as `relay --goal` makes them. Senders
//! of both are hashed with the store's one local key, so they join.
//!
//! Input is streamed: a line longer than the relay's body limit is skipped
//! and reported by its line number without being held in memory, and events
//! are stored in batches, so memory stays flat however large the file.

use crate::messenger::{WebhookError, parse_webhook_at};
use crate::model::{ConversionEvent, ReferralEvent};
use crate::relay::Goal;
use crate::store::{Store, StoreError};
use std::io::{BufRead, BufReader, Read};

/// The longest body, in bytes: the relay refuses larger webhook bodies too.
pub const MAX_LINE_BYTES: usize = crate::relay::MAX_BODY_BYTES;
/// Events parsed before they are stored, bounding what an import holds.
const EVENTS_PER_BATCH: usize = 5000;
/// Bad lines kept in a report; the rest are only counted.
pub const MAX_BAD_LINES_KEPT: usize = 100;

/// What can stop an import (bad lines only skip).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The input could not be read; bodies before `line` are stored.
    #[error("cannot read line {line} ({source}); the bodies before it are imported")]
    Read {
        /// 1-based line where reading failed.
        line: usize,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Bodies parsed.
    pub bodies: usize,
    /// Referrals they carried.
    pub referrals: usize,
    /// Referrals new to the store.
    pub new: usize,
    /// Conversion events the bodies carried (conversions bodies and goals).
    pub conversions: usize,
    /// Conversion events new to the store.
    pub new_conversions: usize,
    /// The first [`MAX_BAD_LINES_KEPT`] lines skipped: (1-based line number, reason).
    pub bad_lines: Vec<(usize, String)>,
    /// Every line skipped, including those not kept in `bad_lines`.
    pub bad_line_count: usize,
    /// The first [`MAX_BAD_LINES_KEPT`] referral items refused inside good
    /// lines, e.g. a timestamp outside the event window: (1-based line
    /// number, field, value and rule).
    pub refused: Vec<(usize, String)>,
    /// Every referral item refused, including those not kept in `refused`.
    pub refused_count: usize,
}

impl ImportReport {
    fn skip(&mut self, line: usize, reason: String) {
        self.bad_line_count += 1;
        if self.bad_lines.len() < MAX_BAD_LINES_KEPT {
            self.bad_lines.push((line, reason));
        }
    }

    /// Adds another file's report to this one.
    pub fn add(&mut self, other: ImportReport) {
        self.bodies += other.bodies;
        self.referrals += other.referrals;
        self.new += other.new;
        self.conversions += other.conversions;
        self.new_conversions += other.new_conversions;
        self.bad_line_count += other.bad_line_count;
        let room = MAX_BAD_LINES_KEPT.saturating_sub(self.bad_lines.len());
        self.bad_lines
            .extend(other.bad_lines.into_iter().take(room));
        self.refused_count += other.refused_count;
        let room = MAX_BAD_LINES_KEPT.saturating_sub(self.refused.len());
        self.refused.extend(other.refused.into_iter().take(room));
    }

    fn refuse(&mut self, line: usize, reason: String) {
        self.refused_count += 1;
        if self.refused.len() < MAX_BAD_LINES_KEPT {
            self.refused.push((line, reason));
        }
    }
}

/// One line from a [`LineReader`].
#[derive(Debug, PartialEq, Eq)]
pub enum ReadLine<'a> {
    /// Line number (1-based) and its bytes, without the newline.
    Body(usize, &'a [u8]),
    /// Line number of a line longer than the cap; its bytes were skipped.
    TooLong(usize),
}

/// Reads `\n`-separated lines, holding at most `cap` bytes of one line.
pub struct LineReader<R> {
    inner: R,
    cap: usize,
    buf: Vec<u8>,
    line: usize,
}

impl<R: BufRead> LineReader<R> {
    /// Lines of `inner`, each at most `cap` bytes long.
    pub fn new(inner: R, cap: usize) -> Self {
        Self {
            inner,
            cap,
            buf: Vec::new(),
            line: 0,
        }
    }

    /// The next line, or `None` at the end. A final line without a newline counts.
    pub fn next_line(&mut self) -> std::io::Result<Option<ReadLine<'_>>> {
        self.buf.clear();
        let mut too_long = false;
        let mut read_any = false;
        loop {
            let available = self.inner.fill_buf()?;
            if available.is_empty() {
                break;
            }
            read_any = true;
            let newline = available.iter().position(|&b| b == b'\n');
            let piece = &available[..newline.unwrap_or(available.len())];
            if !too_long && self.buf.len() + piece.len() <= self.cap {
                self.buf.extend_from_slice(piece);
            } else {
                too_long = true;
                self.buf = Vec::new();
            }
            let used = newline.map_or(available.len(), |i| i + 1);
            self.inner.consume(used);
            if newline.is_some() {
                break;
            }
        }
        if !read_any {
            return Ok(None);
        }
        self.line += 1;
        Ok(Some(if too_long {
            ReadLine::TooLong(self.line)
        } else {
            ReadLine::Body(self.line, &self.buf)
        }))
    }

    /// The number of the last line read.
    pub fn line(&self) -> usize {
        self.line
    }
}

/// Imports the bodies of `input`: the whole input when it is one JSON
/// document of at most [`MAX_LINE_BYTES`], else each non-blank line. Bad
/// lines are reported and skipped; senders are hashed with the store's
/// local key. Events are stored in short transactions as they are read;
/// `keep_going` is asked between batches and stops the import when false.
pub fn import_reader(
    store: &mut Store,
    input: impl Read,
    keep_going: &mut dyn FnMut() -> bool,
) -> Result<ImportReport, ImportError> {
    import_reader_with_goals(store, input, &[], keep_going)
}

/// What has been parsed and not yet stored.
#[derive(Default)]
struct Pending {
    referrals: Vec<ReferralEvent>,
    conversions: Vec<ConversionEvent>,
}

impl Pending {
    fn len(&self) -> usize {
        self.referrals.len() + self.conversions.len()
    }

    /// Stores everything pending into the report's counts, then forgets it.
    fn flush(&mut self, store: &mut Store, report: &mut ImportReport) -> Result<(), ImportError> {
        let new = store.ingest_all(&self.referrals, &self.conversions, None)?;
        report.new += new.referrals;
        report.new_conversions += new.conversions;
        self.referrals.clear();
        self.conversions.clear();
        Ok(())
    }
}

/// [`import_reader`] where postback and quick-reply payloads matching
/// `goals` are stored as conversions too.
pub fn import_reader_with_goals(
    store: &mut Store,
    mut input: impl Read,
    goals: &[Goal],
    keep_going: &mut dyn FnMut() -> bool,
) -> Result<ImportReport, ImportError> {
    let key = store.local_hash_key()?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut report = ImportReport::default();
    let mut events = Pending::default();
    let ctx = BodyCtx {
        key: &key,
        goals,
        now_ms,
    };
    // One body spread over several lines (a pretty-printed file) is read
    // whole; it fits under the cap, so memory stays bounded.
    let mut head = Vec::new();
    (&mut input)
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_to_end(&mut head)
        .map_err(|source| ImportError::Read { line: 1, source })?;
    if head.len() <= MAX_LINE_BYTES
        && serde_json::from_slice::<serde::de::IgnoredAny>(&head).is_ok()
    {
        add_body(&mut report, &mut events, 1, &head, &ctx);
        events.flush(store, &mut report)?;
        return Ok(report);
    }
    let mut lines = LineReader::new(
        BufReader::with_capacity(64 * 1024, std::io::Cursor::new(head).chain(input)),
        MAX_LINE_BYTES,
    );
    loop {
        let upcoming = lines.line() + 1;
        let next = lines.next_line().map_err(|source| ImportError::Read {
            line: upcoming,
            source,
        })?;
        match next {
            None => break,
            Some(ReadLine::TooLong(line)) => report.skip(
                line,
                format!(
                    "longer than {MAX_LINE_BYTES} bytes, the relay's limit for one webhook body"
                ),
            ),
            Some(ReadLine::Body(_, body)) if body.trim_ascii().is_empty() => {}
            Some(ReadLine::Body(line, body)) => {
                add_body(&mut report, &mut events, line, body, &ctx)
            }
        }
        if events.len() >= EVENTS_PER_BATCH {
            events.flush(store, &mut report)?;
            if !keep_going() {
                return Ok(report);
            }
        }
    }
    events.flush(store, &mut report)?;
    Ok(report)
}

/// What every body of one import shares.
struct BodyCtx<'a> {
    key: &'a [u8],
    goals: &'a [Goal],
    now_ms: i64,
}

/// Parses one body into `events`, or records why the line was skipped.
fn add_body(
    report: &mut ImportReport,
    events: &mut Pending,
    line: usize,
    body: &[u8],
    ctx: &BodyCtx<'_>,
) {
    match parse_webhook_at(body, ctx.now_ms) {
        Ok(parsed) => {
            report.bodies += 1;
            report.referrals += parsed.referrals.len();
            for refusal in &parsed.refused {
                report.refuse(line, refusal.to_string());
            }
            events.referrals.extend(
                parsed
                    .referrals
                    .into_iter()
                    .map(|r| r.into_event(ctx.key, ctx.now_ms)),
            );
            let goals = crate::relay::goal_conversions(ctx.goals, body, ctx.key, ctx.now_ms);
            report.conversions += goals.len();
            events.conversions.extend(goals);
        }
        // Not a webhook: perhaps a conversions body, all of it or none.
        Err(WebhookError::NotWebhook(why)) => {
            match crate::relay::conversion_body(body, ctx.now_ms, ctx.key) {
                Ok(conversions) => {
                    report.bodies += 1;
                    report.conversions += conversions.len();
                    events.conversions.extend(conversions);
                }
                Err(e) if is_conversions_body(body) => report.skip(line, e.to_string()),
                Err(_) => report.skip(line, format!("not a webhook body: {why}")),
            }
        }
        Err(e) => report.skip(line, e.to_string()),
    }
}

/// Whether a body that is no webhook meant to be a conversions body (it has
/// `data`), so its refusal is the one to report.
fn is_conversions_body(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        data: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(body).is_ok_and(|p| p.data.is_some())
}

/// [`import_reader`] over text already in memory.
pub fn import_text(store: &mut Store, text: &str) -> Result<ImportReport, ImportError> {
    import_reader(store, text.as_bytes(), &mut || true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(input: &[u8], cap: usize) -> Vec<(usize, Option<Vec<u8>>)> {
        let mut r = LineReader::new(input, cap);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(match l {
                ReadLine::Body(n, b) => (n, Some(b.to_vec())),
                ReadLine::TooLong(n) => (n, None),
            });
        }
        out
    }

    #[test]
    fn lines_are_numbered_and_long_ones_named_not_kept() {
        assert_eq!(
            lines_of(b"ab\n\ncdefgh\nij", 4),
            [
                (1, Some(b"ab".to_vec())),
                (2, Some(Vec::new())),
                (3, None),
                (4, Some(b"ij".to_vec())),
            ]
        );
        assert_eq!(lines_of(b"", 4), []);
        assert_eq!(lines_of(b"abcd\n", 4), [(1, Some(b"abcd".to_vec()))]);
    }

    #[test]
    fn a_long_line_across_small_buffer_reads_is_still_one_line() {
        let input = [b"x".repeat(100), b"\nok".to_vec()].concat();
        let mut r = LineReader::new(BufReader::with_capacity(7, &input[..]), 50);
        assert_eq!(r.next_line().unwrap(), Some(ReadLine::TooLong(1)));
        assert_eq!(r.next_line().unwrap(), Some(ReadLine::Body(2, b"ok")));
        assert_eq!(r.next_line().unwrap(), None);
    }
}
