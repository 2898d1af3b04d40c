//! Terminal tables and JSON output.

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

/// Prints `value` as pretty JSON on standard output.
pub(super) fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// "yes" for archived rows, empty otherwise.
pub(super) fn archived_mark(archived: bool) -> &'static str {
    if archived { "archived" } else { "" }
}
