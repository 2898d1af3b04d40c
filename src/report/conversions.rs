//! Conversions in the shared report (issue #21): the "Conversions" and
//! "Rate" cards and the conversions table (the columns of
//! `stats::conversions::table`, as in the dashboard and the CSV), on a
//! second, landscape page of the PDF and in a section of the HTML. A range
//! without any conversion adds nothing.

use super::{MARGIN, Pen, ReportData, xml_escape};
use crate::model::safe_display;
use crate::stats::conversions::table;

/// Landscape A4, in points: the table has a column per currency and goal.
pub(super) const PAGE_W: f32 = super::PAGE_H;
/// See [`PAGE_W`].
pub(super) const PAGE_H: f32 = super::PAGE_W;
/// Longest group name shown in a cell.
const CELL_MAX_CHARS: usize = 60;

/// Whether the report has conversions to show.
pub(super) fn any(data: &ReportData) -> bool {
    let t = &data.conversions.totals.figures;
    t.conversions + t.conversations > 0
}

/// The attribution in words, e.g. `last referral in the window of 7 days
/// before; ties go to the referral stored first`.
fn attribution_text(data: &ReportData) -> String {
    let a = data.conversions.attribution;
    format!(
        "Credited to the {} of {} days before each conversion; ties go to the referral stored first. Values per currency, never added across currencies.",
        a.model.label().to_lowercase(),
        a.window_days
    )
}

/// The HTML section: heading, cards and table.
pub(super) fn html(data: &ReportData, html: &mut String) {
    if !any(data) {
        return;
    }
    html.push_str("<h2>Conversions</h2><div class=\"cards\">");
    for c in &data.conversion_cards {
        html.push_str(&format!(
            "<div class=\"card\"><div class=\"name\">{}</div><div class=\"value\">{}</div><div class=\"change\">{}</div></div>",
            xml_escape(c.card.name),
            xml_escape(&c.shown),
            xml_escape(&c.card.change_text)
        ));
    }
    html.push_str(&format!(
        "</div><p>{}</p><table><thead><tr>",
        xml_escape(&attribution_text(data))
    ));
    for h in table::header(&data.report, &data.conversions) {
        html.push_str(&format!("<th>{}</th>", xml_escape(&h)));
    }
    html.push_str("</tr></thead><tbody>");
    for row in table::rows(&data.report, &data.conversions) {
        html.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if i == 0 { "" } else { " class=\"n\"" };
            html.push_str(&format!(
                "<td{class}>{}</td>",
                xml_escape(&safe_display(cell, CELL_MAX_CHARS))
            ));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
}

/// The PDF's conversions page: title, cards, the attribution and the table.
pub(super) fn draw_page(pen: &mut Pen<'_>, data: &ReportData) {
    let width = PAGE_W - 2.0 * MARGIN;
    let mut y = MARGIN + 16.0;
    pen.text(MARGIN, y, 16.0, "Conversions", width, false);
    y += 18.0;
    pen.text(MARGIN, y, 10.0, &data.range_text, width, false);
    y += 14.0;
    let card_w = 160.0;
    let card_h = 58.0;
    for (i, c) in data.conversion_cards.iter().enumerate() {
        let x = MARGIN + i as f32 * (card_w + 8.0);
        pen.boxed(x, y, card_w, card_h);
        pen.text(x + 6.0, y + 14.0, 9.0, c.card.name, card_w - 12.0, false);
        pen.text(x + 6.0, y + 34.0, 18.0, &c.shown, card_w - 12.0, false);
        pen.text(
            x + 6.0,
            y + 50.0,
            7.0,
            &c.card.change_text,
            card_w - 12.0,
            false,
        );
    }
    y += card_h + 18.0;
    pen.text(MARGIN, y, 8.0, &attribution_text(data), width, false);
    y += 18.0;
    draw_table(pen, data, y, width);
}

/// The table, as many rows as fit the page (the Total row always last).
fn draw_table(pen: &mut Pen<'_>, data: &ReportData, top: f32, width: f32) {
    let header = table::header(&data.report, &data.conversions);
    let mut rows = table::rows(&data.report, &data.conversions);
    let columns = header.len().max(2);
    let key_w = 130.0_f32.min(width / 3.0);
    let num_w = (width - key_w) / (columns - 1) as f32;
    let row_h = 13.0;
    let cells = |pen: &mut Pen<'_>, y: f32, row: &[String], size: f32| {
        for (i, cell) in row.iter().enumerate() {
            let shown = safe_display(cell, CELL_MAX_CHARS);
            if i == 0 {
                pen.text(MARGIN, y, size, &shown, key_w - 6.0, false);
            } else {
                let right = MARGIN + key_w + i as f32 * num_w;
                pen.text(right, y, size, &shown, num_w - 4.0, true);
            }
        }
    };
    let mut y = top;
    cells(pen, y, &header, 7.0);
    pen.line(
        &[(MARGIN, y + 4.0), (MARGIN + width, y + 4.0)],
        [0x90, 0x90, 0x90],
        0.6,
    );
    let fits = ((PAGE_H - MARGIN - y) / row_h).floor().max(1.0) as usize - 1;
    if rows.len() > fits {
        // Keep the Total row: drop groups from the end of the shown ones.
        let total = rows.pop();
        rows.truncate(fits.saturating_sub(1));
        rows.extend(total);
    }
    for row in &rows {
        y += row_h;
        cells(pen, y, row, 8.0);
    }
}
