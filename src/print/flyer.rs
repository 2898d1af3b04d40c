//! One-link flyers: a page per link with the page's name, a large code,
//! the call to action and the readable link.

use super::PrintError;
use super::options::PrintOptions;
use super::page::{
    GREY, Placed, TEXT_COLOR, check_code_size, footer, mm, page_label, readable_link, with_page,
};
use crate::codes::{QrMatrix, QrStyle};
use crate::model::ExportItem;
use krilla::Document;
use krilla::text::Font;

// Long on purpose: a flyer's boxes (code, CTA, link, footer) are measured against each other in one place.
#[allow(clippy::too_many_arguments)]
pub(super) fn flyers(
    doc: &mut Document,
    font: &Font,
    items: &[ExportItem],
    matrices: &[QrMatrix],
    options: &PrintOptions,
    style: &QrStyle,
    placed: &mut Placed,
) -> Result<usize, PrintError> {
    let (pw, ph) = options.paper.size_mm();
    let (pw, ph) = (mm(pw), mm(ph));
    let margin = mm(20.0);
    let inner_w = pw - 2.0 * margin;
    for (n, (item, matrix)) in items.iter().zip(matrices).enumerate() {
        let name = page_label(item);
        with_page(doc, font, options.paper, n, placed, |p| {
            let mut y = margin;
            y += p.text(
                item,
                &name,
                [margin, y, inner_w, mm(14.0)],
                26.0,
                true,
                TEXT_COLOR,
                "page name",
            )?;
            y += mm(6.0);
            // No call to action is printed as none: one made up here would
            // promise what the page may not give (the dashboard says so).
            if !item.cta.trim().is_empty() {
                y += p.text(
                    item,
                    &item.cta,
                    [margin, y, inner_w, mm(34.0)],
                    30.0,
                    true,
                    TEXT_COLOR,
                    "call to action",
                )?;
                y += mm(6.0);
            }
            let bottom_text = mm(48.0);
            let side = (ph - margin - bottom_text - y).min(mm(130.0)).min(inner_w);
            check_code_size(item, matrix, style, side, "flyer")?;
            p.code(item, matrix, style, (pw - side) / 2.0, y, side);
            y += side + mm(6.0);
            let scan = format!("Scan to chat with {name} on Messenger");
            y += p.text(
                item,
                &scan,
                [margin, y, inner_w, mm(14.0)],
                16.0,
                true,
                TEXT_COLOR,
                "scan line",
            )?;
            y += mm(2.0);
            p.text(
                item,
                &readable_link(&item.url),
                [margin, y, inner_w, mm(12.0)],
                18.0,
                true,
                TEXT_COLOR,
                "link",
            )?;
            let foot = footer(item, options.show_ref);
            p.text(
                item,
                &foot,
                [margin, ph - margin, inner_w, mm(8.0)],
                8.0,
                true,
                GREY,
                "footer",
            )?;
            if options.cut_marks {
                p.cut_marks((pw, ph), &[margin, pw - margin], &[margin, ph - margin]);
            }
            Ok(())
        })?;
    }
    Ok(items.len())
}
