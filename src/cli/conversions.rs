//! `refboard stats`'s conversions (issue #21): the attribution settings
//! for one run, the conversions table after the referrals' one, the
//! conversions in `--json`, and `--conversions-csv`.

use super::output::{cell, print_json, table};
use crate::csv_safe::SafeCsvWriter;
use crate::model::{Attribution, CreditModel, validate_window_days};
use crate::stats::Report;
use crate::stats::conversions::{ConversionReport, Money, table as conv_table};
use crate::store::Store;
use serde::Serialize;
use std::io::Write;

/// The stored attribution settings, with this run's `--window` and
/// `--model` in their place when given (not saved).
pub(super) fn attribution(
    store: &Store,
    window: Option<&str>,
    model: Option<&str>,
) -> anyhow::Result<Attribution> {
    let mut a = store.attribution()?;
    if let Some(w) = window {
        a.window_days = validate_window_days(w)?;
    }
    if let Some(m) = model {
        a.model = m.parse::<CreditModel>()?;
    }
    Ok(a)
}

/// The report as JSON with its conversions under `conversions`.
pub(super) fn json(report: &Report, conversions: &ConversionReport) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct WithConversions<'a> {
        #[serde(flatten)]
        report: &'a Report,
        conversions: &'a ConversionReport,
    }
    print_json(&WithConversions {
        report,
        conversions,
    })
}

/// The conversions table as CSV (cells neutralised), range columns last.
pub(super) fn csv(
    out: &mut dyn Write,
    report: &Report,
    conv: &ConversionReport,
) -> anyhow::Result<()> {
    let mut w = SafeCsvWriter::new(out);
    w.write_row(conv_table::csv_header(report, conv))?;
    for row in conv_table::csv_rows(report, conv) {
        w.write_row(row)?;
    }
    w.flush()?;
    Ok(())
}

/// The conversions after the referrals' table: one line of totals, then
/// the table (nothing when the range has no conversion).
pub(super) fn text(
    out: &mut dyn Write,
    report: &Report,
    conv: &ConversionReport,
) -> anyhow::Result<()> {
    let t = &conv.totals.figures;
    if t.conversions + t.conversations == 0 {
        writeln!(
            out,
            "\nNo conversions in this range ({} days' window, {}).",
            conv.attribution.window_days,
            conv.attribution.model.label().to_lowercase()
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "\nConversions ({} days' window, {}; ties go to the referral stored first):",
        conv.attribution.window_days,
        conv.attribution.model.label().to_lowercase()
    )?;
    writeln!(
        out,
        "{} conversions by {} people, {} conversations started; value: {}",
        t.conversions,
        t.converted_people,
        t.conversations,
        money_text(&t.value)
    )?;
    let header = conv_table::header(report, conv);
    let mut tab = table(&header.iter().map(String::as_str).collect::<Vec<_>>());
    for row in conv_table::rows(report, conv) {
        tab.add_row(row.iter().map(|c| cell(c)).collect::<Vec<_>>());
    }
    writeln!(out, "{tab}")?;
    Ok(())
}

/// Sums per currency, e.g. `12.50 EUR, 3.00 USD`; `none` without any.
fn money_text(value: &[Money]) -> String {
    if value.is_empty() {
        return "none".into();
    }
    value
        .iter()
        .map(Money::display)
        .collect::<Vec<_>>()
        .join(", ")
}
