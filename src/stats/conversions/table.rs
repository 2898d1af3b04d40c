//! The conversions table as text cells: one definition of its columns and
//! rows for the terminal (`stats`), CSV files (`stats --conversions-csv`
//! and the dashboard's export) and the PDF report, so all say the same.
//!
//! Columns: the group, referrals, referred people, conversations,
//! conversions, converted people, rate, one value column per currency
//! (never added across currencies), median time to convert, then one
//! column per goal (its conversions). Rows: the shown groups in the
//! report's order, Other, [`NO_REFERRAL_LABEL`] and Total.

use super::figures::{duration_text, micros_text, rate_text};
use super::{ConversionFigures, ConversionGroup, ConversionReport, NO_REFERRAL_LABEL};
use crate::stats::Report;

/// The table's header.
pub fn header(report: &Report, conv: &ConversionReport) -> Vec<String> {
    let mut h: Vec<String> = [
        report.by.column_name(),
        "Referrals",
        "Referred people",
        "Conversations",
        "Conversions",
        "Converted people",
        "Rate",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    h.extend(conv.currencies.iter().map(|c| format!("Value {c}")));
    h.push("Median time to convert".into());
    h.extend(conv.goals.iter().map(|g| format!("Goal: {g}")));
    h
}

/// The table's rows, as text (the group names raw: the caller makes them
/// safe for where it writes them).
pub fn rows(report: &Report, conv: &ConversionReport) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for g in &conv.groups {
        out.push(row(
            conv,
            &report.by.key_label(g.name()),
            Some(g),
            &g.figures,
        ));
    }
    if let Some(o) = &conv.other {
        let label = report
            .other
            .as_ref()
            .map_or_else(|| "Other".to_string(), |r| r.label(report.by));
        out.push(row(conv, &label, Some(o), &o.figures));
    }
    if conv.no_referral.conversions + conv.no_referral.conversations > 0 {
        out.push(row(conv, NO_REFERRAL_LABEL, None, &conv.no_referral));
    }
    out.push(row(conv, "Total", Some(&conv.totals), &conv.totals.figures));
    out
}

fn row(
    conv: &ConversionReport,
    label: &str,
    group: Option<&ConversionGroup>,
    f: &ConversionFigures,
) -> Vec<String> {
    let count = |n: Option<u64>| n.map_or_else(|| "–".to_string(), |n| n.to_string());
    let mut r = vec![
        label.to_string(),
        count(group.map(|g| g.referrals)),
        count(group.map(|g| g.referred_people)),
        f.conversations.to_string(),
        f.conversions.to_string(),
        f.converted_people.to_string(),
        rate_text(group.and_then(|g| g.rate)),
    ];
    r.extend(conv.currencies.iter().map(|c| micros_text(f.value_in(c))));
    r.push(duration_text(f.median_ms_to_convert));
    r.extend(
        conv.goals
            .iter()
            .map(|g| f.goal(g).map_or(0, |g| g.conversions).to_string()),
    );
    r
}

/// The header as CSV: the table's columns, then From, To and Time zone
/// (as every stats CSV, so a row read alone says what it covers).
pub fn csv_header(report: &Report, conv: &ConversionReport) -> Vec<String> {
    let mut h = header(report, conv);
    h.extend(["From", "To", "Time zone"].map(String::from));
    h
}

/// The rows as CSV, each closed by the range and zone cells.
pub fn csv_rows(report: &Report, conv: &ConversionReport) -> Vec<Vec<String>> {
    let range = crate::stats::range_cells(report);
    rows(report, conv)
        .into_iter()
        .map(|mut r| {
            r.extend(range.iter().cloned());
            r
        })
        .collect()
}
