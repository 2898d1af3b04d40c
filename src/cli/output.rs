//! Terminal tables and JSON output.
//!
//! Every string that reaches the terminal from the database goes through
//! [`cell`] or [`full`], so control and bidi characters in refs from
//! strangers show as visible escapes. JSON stays exact.

use crate::model::{safe_display, safe_text};
use comfy_table::{ContentArrangement, Table, TableComponent, presets};
use serde::Serialize;

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
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}
pub(super) use outln;

/// Writes `value` as pretty JSON on standard output, straight to the stream.
pub(super) fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    use std::io::Write as _;
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
