//! Sticker sheets: one link per label at the sheet's catalogued geometry,
//! moved by the printer offsets; the code beside the text on wide labels.

use super::options::PrintOptions;
use super::page::{GREY, LINE_HEIGHT, Placed, cell, mm, title_of, with_page};
use super::{LABEL_SAFE_MM, MIN_TEXT_PT, PrintError};
use crate::codes::{QrMatrix, QrStyle};
use crate::model::{ExportItem, Hint, ValidationError};
use krilla::Document;
use krilla::text::Font;

// Long on purpose: one sheet read top to bottom (paper check, offset geometry, title, labels, cut marks) shares a dozen layout values a split would pass around.
#[allow(clippy::too_many_arguments)]
pub(super) fn labels(
    doc: &mut Document,
    font: &Font,
    items: &[ExportItem],
    matrices: &[QrMatrix],
    options: &PrintOptions,
    style: &QrStyle,
    placed: &mut Placed,
) -> Result<usize, PrintError> {
    let sheet = options.label.spec();
    if sheet.paper != options.paper {
        return Err(ValidationError::new(
            "paper",
            options.paper.name(),
            format!(
                "label sheet {} is printed on {} paper",
                options.label.name(),
                sheet.paper.name(),
            ),
        )
        .with_hint(Hint::ChoosePaper(sheet.paper.name()))
        .into());
    }
    // The printer offset moves what goes on the labels and the cut marks;
    // the title stays in the sheet's own top margin.
    let spec = options
        .label
        .spec_shifted(options.offset_x_mm, options.offset_y_mm)?;
    let (pw, ph) = spec.paper.size_mm();
    let (pw, ph) = (mm(pw), mm(ph));
    let (lw, lh) = (mm(spec.label_w_mm), mm(spec.label_h_mm));
    let beside = spec.label_w_mm > spec.label_h_mm * 1.3;
    let per_page = (spec.columns * spec.rows) as usize;
    let title = title_of(items);
    let mut pages = 0;
    let ambiguous = super::page::ambiguous(items);
    for (n, chunk) in items.chunks(per_page).enumerate() {
        pages += 1;
        let base = n * per_page;
        with_page(doc, font, spec.paper, n, placed, |p| {
            if options.title {
                // Above the labels wherever the offset put them.
                let band = mm(sheet.top_mm.min(spec.top_mm)) - mm(3.0);
                if band >= MIN_TEXT_PT * LINE_HEIGHT {
                    p.text(
                        &chunk[0],
                        &title,
                        [
                            mm(sheet.left_mm),
                            mm(2.0),
                            pw - 2.0 * mm(sheet.left_mm),
                            band.min(mm(6.0)),
                        ],
                        9.0,
                        true,
                        GREY,
                        "title",
                    )?;
                }
            }
            for (i, item) in chunk.iter().enumerate() {
                let c = (i % spec.columns as usize) as f64;
                let r = (i / spec.columns as usize) as f64;
                let x = mm(spec.left_mm + c * spec.pitch_x_mm);
                let y = mm(spec.top_mm + r * spec.pitch_y_mm);
                // The quiet zone may reach the label's edge; the symbol stays
                // inside the safe area because the quiet zone is wider.
                let (code_side, inner) = if beside {
                    (lh, [x, y, lw, lh])
                } else {
                    let text_h = mm(16.0);
                    (lh - text_h, [x, y, lw, lh - mm(LABEL_SAFE_MM)])
                };
                cell(
                    p,
                    item,
                    &matrices[base + i],
                    style,
                    options.show_ref || ambiguous.contains(&item.url),
                    inner,
                    code_side,
                    beside,
                    options.label.name(),
                )?;
            }
            if options.cut_marks {
                let xs: Vec<f64> = (0..spec.columns)
                    .flat_map(|c| {
                        let x = mm(spec.left_mm + f64::from(c) * spec.pitch_x_mm);
                        [x, x + lw]
                    })
                    .collect();
                let ys: Vec<f64> = (0..spec.rows)
                    .flat_map(|r| {
                        let y = mm(spec.top_mm + f64::from(r) * spec.pitch_y_mm);
                        [y, y + lh]
                    })
                    .collect();
                p.cut_marks((pw, ph), &xs, &ys);
            }
            Ok(())
        })?;
    }
    let _ = ph;
    Ok(pages)
}
