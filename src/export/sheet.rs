//! SVG print sheets of a bulk export: A4 pages of 3 × 4 codes, each with
//! its call to action, ref and link.

use crate::codes::{QrError, QrMatrix, QrStyle, module_path, xml_escape};
use crate::model::ExportItem;
use std::fmt::Write as _;

/// A4 portrait in millimetres, 3 × 4 codes a sheet.
const SHEET_W_MM: f64 = 210.0;
const SHEET_H_MM: f64 = 297.0;
pub(super) const SHEET_COLS: usize = 3;
pub(super) const SHEET_ROWS: usize = 4;
const SHEET_MARGIN_MM: f64 = 10.0;

/// Print sheets: a grid of codes with their CTA, ref and link, as SVG pages.
pub fn sheets(items: &[ExportItem], style: &QrStyle) -> Result<Vec<String>, QrError> {
    let cell_w = (SHEET_W_MM - 2.0 * SHEET_MARGIN_MM) / SHEET_COLS as f64;
    let cell_h = (SHEET_H_MM - 2.0 * SHEET_MARGIN_MM) / SHEET_ROWS as f64;
    let code_mm = cell_w.min(cell_h - 18.0) - 6.0;
    let font = "'DejaVu Sans', Verdana, Arial, sans-serif";
    let mut pages = Vec::new();
    for chunk in items.chunks(SHEET_COLS * SHEET_ROWS) {
        let mut svg = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{SHEET_W_MM}mm" height="{SHEET_H_MM}mm" viewBox="0 0 {SHEET_W_MM} {SHEET_H_MM}" shape-rendering="crispEdges">
<rect width="{SHEET_W_MM}" height="{SHEET_H_MM}" fill="{}"/>
"#,
            style.bg
        );
        for (i, item) in chunk.iter().enumerate() {
            let matrix = QrMatrix::encode(&item.url, style.ecc)?;
            let modules = f64::from(matrix.width + 2 * style.quiet_zone_modules);
            let module = code_mm / modules;
            let x = SHEET_MARGIN_MM + (i % SHEET_COLS) as f64 * cell_w + (cell_w - code_mm) / 2.0;
            let y = SHEET_MARGIN_MM + (i / SHEET_COLS) as f64 * cell_h;
            let q = f64::from(style.quiet_zone_modules) * module;
            let cx = SHEET_MARGIN_MM + (i % SHEET_COLS) as f64 * cell_w + cell_w / 2.0;
            let _ = writeln!(
                svg,
                r#"<path fill="{}" d="{}"/>"#,
                style.fg,
                module_path(&matrix, x + q, y + q, module)
            );
            let mut ty = y + code_mm + 4.0;
            for (text, size) in [
                (item.cta.as_str(), 3.4),
                (item.ref_code.as_str(), 2.8),
                (item.url.as_str(), 2.2),
            ] {
                if text.is_empty() {
                    continue;
                }
                let shown = crate::model::shorten_text(text, 60);
                let _ = writeln!(
                    svg,
                    r#"<text x="{cx:.2}" y="{ty:.2}" font-family="{font}" font-size="{size}" text-anchor="middle" fill="{}">{}</text>"#,
                    style.fg,
                    xml_escape(&shown)
                );
                ty += size * 1.4;
            }
        }
        svg.push_str("</svg>\n");
        pages.push(svg);
    }
    Ok(pages)
}
