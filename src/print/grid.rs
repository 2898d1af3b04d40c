//! Grid sheets: codes in equal cells, a chosen number of columns, with an
//! optional title and cut marks.

use super::options::PrintOptions;
use super::page::{PAGE_MARGIN_MM, Placed, TEXT_COLOR, cell, mm, title_of, with_page};
use super::{MAX_GRID_COLUMNS, PrintError};
use crate::codes::{QrMatrix, QrStyle};
use crate::model::{ExportItem, ValidationError};
use krilla::Document;
use krilla::text::Font;

// Long on purpose: the grid's geometry, title and cells are one page layout read in order; a split would pass its layout values around.
#[allow(clippy::too_many_arguments)]
pub(super) fn grid(
    doc: &mut Document,
    font: &Font,
    items: &[ExportItem],
    matrices: &[QrMatrix],
    options: &PrintOptions,
    style: &QrStyle,
    placed: &mut Placed,
) -> Result<usize, PrintError> {
    if !(1..=MAX_GRID_COLUMNS).contains(&options.columns) {
        return Err(ValidationError::new(
            "columns",
            &options.columns.to_string(),
            format!("a grid has 1 to {MAX_GRID_COLUMNS} columns"),
        )
        .into());
    }
    let (pw, ph) = options.paper.size_mm();
    let (pw, ph) = (mm(pw), mm(ph));
    let margin = mm(PAGE_MARGIN_MM);
    let title_h = if options.title { mm(10.0) } else { 0.0 };
    let cols = options.columns as usize;
    let cell_w = (pw - 2.0 * margin) / cols as f64;
    let pad = mm(2.0);
    let caption_h = mm(16.0);
    let code_side = cell_w - 2.0 * pad;
    let cell_h = code_side + caption_h + 2.0 * pad;
    let rows = ((ph - 2.0 * margin - title_h) / cell_h).floor() as usize;
    if rows == 0 {
        return Err(ValidationError::new(
            "paper",
            options.paper.name(),
            format!(
                "{cols} column(s) leave no room for a row of codes on this paper; use more columns"
            ),
        )
        .into());
    }
    let per_page = rows * cols;
    let title = title_of(items);
    let mut pages = 0;
    let ambiguous = super::page::ambiguous(items);
    for (n, chunk) in items.chunks(per_page).enumerate() {
        pages += 1;
        let base = n * per_page;
        with_page(doc, font, options.paper, n, placed, |p| {
            if options.title {
                let first = &chunk[0];
                p.text(
                    first,
                    &title,
                    [margin, margin, pw - 2.0 * margin, title_h - mm(2.0)],
                    12.0,
                    false,
                    TEXT_COLOR,
                    "title",
                )?;
            }
            let top = margin + title_h;
            for (i, item) in chunk.iter().enumerate() {
                let (c, r) = (i % cols, i / cols);
                let x = margin + c as f64 * cell_w;
                let y = top + r as f64 * cell_h;
                let inner = [x + pad, y + pad, cell_w - 2.0 * pad, cell_h - 2.0 * pad];
                cell(
                    p,
                    item,
                    &matrices[base + i],
                    style,
                    options.show_ref || ambiguous.contains(&item.url),
                    inner,
                    code_side,
                    false,
                    "grid",
                )?;
            }
            if options.cut_marks {
                let used_rows = chunk.len().div_ceil(cols);
                let xs: Vec<f64> = (0..=cols).map(|c| margin + c as f64 * cell_w).collect();
                let ys: Vec<f64> = (0..=used_rows).map(|r| top + r as f64 * cell_h).collect();
                p.cut_marks((pw, ph), &xs, &ys);
            }
            Ok(())
        })?;
    }
    Ok(pages)
}
