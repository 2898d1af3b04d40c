//! The export's format and paper choices of the link panel: the format
//! follows the file's extension and changing it changes the extension, so
//! the two never disagree; a PDF flyer has a paper, not a size in pixels.

use crate::export::Format;
use crate::print::Paper;
use std::path::Path;

/// Every format, as people name them.
const FORMATS: [(Format, &str); 3] = [
    (Format::Png, "PNG image"),
    (Format::Svg, "SVG image"),
    (Format::Pdf, "PDF flyer"),
];

/// The format of `path` by its extension; PNG when it has none we know.
pub(super) fn of_path(path: &str) -> Format {
    Format::from_path(Path::new(path.trim())).unwrap_or(Format::Png)
}

/// `path` with its extension replaced by `format`'s (added when it has none).
pub(super) fn with_extension(path: &str, format: Format) -> String {
    Path::new(path.trim())
        .with_extension(format.extension())
        .display()
        .to_string()
}

/// The "Format" combo; changing it rewrites the extension of `path`.
pub(super) fn format_choice(ui: &mut egui::Ui, path: &mut String) {
    let current = of_path(path);
    let mut chosen = current;
    ui.horizontal(|ui| {
        let l = ui.label("Format");
        let name = FORMATS
            .iter()
            .find(|(f, _)| *f == current)
            .map_or("PNG image", |(_, n)| n);
        egui::ComboBox::from_id_salt("export_format")
            .selected_text(name)
            .show_ui(ui, |ui| {
                for (f, n) in FORMATS {
                    ui.selectable_value(&mut chosen, f, n);
                }
            })
            .response
            .labelled_by(l.id)
            .on_hover_text("PNG for screens and chat, SVG for designers, PDF for a printed flyer");
    });
    if chosen != current {
        *path = with_extension(path, chosen);
    }
}

/// The "Flyer paper" combo of a PDF flyer.
pub(super) fn paper_choice(ui: &mut egui::Ui, paper: &mut Paper) {
    ui.horizontal(|ui| {
        let l = ui.label("Flyer paper");
        egui::ComboBox::from_id_salt("flyer_paper")
            .selected_text(paper.label())
            .show_ui(ui, |ui| {
                for p in [Paper::A4, Paper::Letter] {
                    ui.selectable_value(paper, p, p.label());
                }
            })
            .response
            .labelled_by(l.id);
    });
}
