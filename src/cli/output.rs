//! Terminal tables and JSON output.
//!
//! Every string that reaches the terminal from the database goes through
//! [`cell`] or [`full`], so control and bidi characters in refs from
//! strangers show as visible escapes, bounded in length.
//!
//! Behind that, every text line the CLI writes (tables, CSV, plain lines,
//! warnings and errors that quote a value) goes out through [`Terminal`]:
//! [`outln!`] and [`errln!`] write through it, and so do `stats` and the
//! relay's logs. It shows any C0 control but the newline, DEL, C1 control
//! or bidi control still left as the same `\u{001B}`-style escape, and any
//! URL password as `***` (errors only), so a message that quotes a value
//! the user or a stranger typed cannot retitle, clear or reorder the
//! terminal.
//!
//! JSON (`--json`) is for machines and stays exact: serde_json writes every
//! control character as a `\u` escape already, and bidi characters stay
//! as they are (they are data, and JSON parsers read them back unchanged).

use crate::model::{safe_display, safe_text, terminal_safe};
use comfy_table::{ContentArrangement, Table, TableComponent, presets};
use serde::Serialize;
use std::io::Write;

/// A table that fits the terminal.
pub(super) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_style(TableComponent::HeaderLines, '─')
        .set_style(TableComponent::MiddleHeaderIntersections, '─')
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

/// Like `println!`, but a failed write to standard output (a closed pipe,
/// as in `refboard link list | head -1`) is returned as an error instead of
/// panicking; [`super::main`] then exits quietly, as ripgrep does.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!($crate::cli::output::Terminal::new(std::io::stdout().lock()), $($arg)*)?
    }};
}
pub(super) use outln;

/// Like `eprintln!`, through [`Terminal`]; a failed write to standard
/// error is ignored (there is nowhere left to report it), never a panic.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!($crate::cli::output::Terminal::new(std::io::stderr().lock()), $($arg)*);
    }};
}
pub(super) use errln;

/// A writer that passes text on with every character that acts on a
/// terminal shown as a visible escape ([`crate::model::terminal_safe`]).
///
/// Bytes that are not UTF-8 show as `\xNN`; a character split across two
/// writes is held until its end arrives, so escaping never depends on how
/// the text was cut.
pub struct Terminal<W: Write> {
    inner: W,
    /// The start of a UTF-8 character whose end has not been written yet.
    pending: Vec<u8>,
}

impl<W: Write> Terminal<W> {
    /// Escapes what is written before passing it to `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for Terminal<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let mut shown = String::with_capacity(self.pending.len());
        let mut rest: &[u8] = &self.pending;
        while !rest.is_empty() {
            let (good, bad) = match std::str::from_utf8(rest) {
                Ok(text) => (text, None),
                Err(e) => (
                    std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
                    Some((e.valid_up_to(), e.error_len())),
                ),
            };
            shown.push_str(&terminal_safe(good));
            match bad {
                None => rest = &[],
                // Not UTF-8 here: show the bytes, go on after them.
                Some((at, Some(len))) => {
                    for b in &rest[at..at + len] {
                        shown.push_str(&format!("\\x{b:02X}"));
                    }
                    rest = &rest[at + len..];
                }
                // A character cut at the end of this write: keep it.
                Some((at, None)) => {
                    rest = &rest[at..];
                    break;
                }
            }
        }
        let rest = rest.to_vec();
        self.inner.write_all(shown.as_bytes())?;
        self.pending = rest;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for Terminal<W> {
    /// A character still cut at the end is shown as its bytes.
    fn drop(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let shown: String = self.pending.iter().map(|b| format!("\\x{b:02X}")).collect();
        let _ = self.inner.write_all(shown.as_bytes());
        let _ = self.inner.flush();
    }
}

/// An error message as it is shown: URLs without their passwords or
/// secret query values, then through [`Terminal`] like every line.
pub(super) fn error_text(message: &str) -> String {
    crate::model::redact_urls(message).into_owned()
}

/// Writes `value` as pretty JSON on standard output, straight to the stream.
pub(super) fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Whether `e` comes from writing to a closed pipe.
pub(super) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<csv::Error>().is_some_and(|c| {
                matches!(c.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            })
    })
}

/// "yes" for archived rows, empty otherwise.
pub(super) fn archived_mark(archived: bool) -> &'static str {
    if archived { "archived" } else { "" }
}

/// Text for a table cell or a short line: escaped and bounded (200 characters).
pub(super) fn cell(s: &str) -> String {
    safe_text(s)
}

/// Text shown on its own line (e.g. `link show`): escaped, bounded loosely
/// enough that a ref of Messenger's full 2,083 characters shows whole.
pub(super) fn full(s: &str) -> String {
    safe_display(s, FULL_MAX_CHARS)
}

/// The longest text [`full`] shows.
const FULL_MAX_CHARS: usize = 8192;

#[cfg(test)]
mod tests {
    use super::*;

    fn through(pieces: &[&[u8]]) -> String {
        let mut out = Vec::new();
        {
            let mut t = Terminal::new(&mut out);
            for p in pieces {
                t.write_all(p).unwrap();
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_terminal_writer_escapes_whatever_way_the_text_is_cut() {
        let text = "a\u{1b}]0;t\u{7}\u{202E}é\n\u{9b}z".as_bytes();
        let whole = through(&[text]);
        assert_eq!(whole, "a\\u{001B}]0;t\\u{0007}\\u{202E}é\n\\u{009B}z");
        for cut in 1..text.len() {
            assert_eq!(
                through(&[&text[..cut], &text[cut..]]),
                whole,
                "cut at {cut}"
            );
        }
        // Bytes that are not UTF-8 (an 8-bit CSI) show as bytes; a cut end too.
        assert_eq!(through(&[b"x\x9b2J"]), "x\\x9B2J");
        assert_eq!(through(&[b"x\xc3"]), "x\\xC3");
    }
}
