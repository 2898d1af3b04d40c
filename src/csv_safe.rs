//! The one CSV writer every refboard CSV goes through (`stats --csv`,
//! `links.csv` in exports, the dashboard's table export).
//!
//! Refs come from strangers, and a spreadsheet runs a cell such as
//! `=HYPERLINK("http://evil.example","click")` as a formula. As OWASP advises
//! for CSV injection, a cell that begins with `=`, `+`, `-`, `@`, a tab or a
//! carriage return gets a single quote in front, so the spreadsheet shows it
//! as text. Quoting and embedded quotes are left to the `csv` crate.
//!
//! A ref may also carry ESC sequences, a bell, NUL or a right-to-left
//! override. `stats --csv` goes to a terminal as often as to a file, and a
//! spreadsheet or a `cat` of the file is a display too, so every cell, in
//! every CSV (standard output or file), shows control, bidi and invisible
//! formatting characters as the same visible escapes as the terminal tables
//! (`\u{001B}`, `\r`, `\u{202E}`, a backslash doubled; see
//! [`crate::model::safe_display`]), uncut. Machines that need the exact
//! bytes read `--json`.

use std::borrow::Cow;
use std::io::Write;

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as a spreadsheet will show it literally: a leading `'` when it
/// begins with `=`, `+`, `-`, `@`, tab or carriage return; unchanged otherwise.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `cell` as every CSV cell is written: [`neutralise`]d, then with control,
/// bidi and invisible formatting characters shown as visible escapes, whole.
pub fn safe_cell(cell: &str) -> String {
    crate::model::safe_display(&neutralise(cell), usize::MAX)
}

/// A CSV writer whose every cell goes through [`safe_cell`].
pub struct SafeCsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> SafeCsvWriter<W> {
    /// A writer onto `out` (header rows are written like any other row).
    pub fn new(out: W) -> Self {
        Self {
            inner: csv::Writer::from_writer(out),
        }
    }

    /// Writes one row, each cell through [`safe_cell`].
    pub fn write_row<I, S>(&mut self, cells: I) -> Result<(), csv::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.inner
            .write_record(cells.into_iter().map(|c| safe_cell(c.as_ref())))
    }

    /// Flushes buffered rows to the underlying writer.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> Result<W, std::io::Error> {
        self.inner
            .into_inner()
            .map_err(|e| std::io::Error::other(e.error().to_string()))
    }
}

/// `rows` under `header` as CSV bytes, every cell neutralised.
pub fn to_bytes<R, S>(header: &[&str], rows: R) -> Result<Vec<u8>, csv::Error>
where
    R: IntoIterator,
    R::Item: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut w = SafeCsvWriter::new(Vec::new());
    w.write_row(header)?;
    for row in rows {
        w.write_row(row)?;
    }
    Ok(w.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(bytes: &[u8]) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes)
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn every_formula_prefix_gets_a_quote() {
        for cell in [
            "=HYPERLINK(\"http://evil.example\",\"click\")",
            "+A1",
            "-2+3",
            "@SUM(1)",
            "\tcmd",
            "\rcmd",
        ] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn other_cells_are_unchanged() {
        for cell in [
            "freeshipping",
            "2025-11-27",
            "12",
            "",
            "a=b",
            "a-b",
            " =x",
            "'q",
        ] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn written_rows_read_back_neutralised_and_quoted() {
        let bytes = to_bytes(
            &["ref", "n"],
            [
                vec!["=1+1", "3"],
                vec!["a,\"b\"", "4"],
                vec!["-x\ny", "5"],
                vec!["\tcmd\u{1b}]0;t\u{7}\u{202E}", "6"],
            ],
        )
        .unwrap();
        assert_eq!(
            read_back(&bytes),
            [
                vec!["ref", "n"],
                vec!["'=1+1", "3"],
                vec!["a,\"b\"", "4"],
                vec!["'-x\\ny", "5"],
                vec!["'\\tcmd\\u{001B}]0;t\\u{0007}\\u{202E}", "6"],
            ]
        );
    }
}
