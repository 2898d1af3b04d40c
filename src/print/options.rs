//! How a PDF is laid out: paper, layout, columns, label sheets with the
//! makers' dimensions, and the printer offsets that move a label sheet.

use crate::model::{Hint, ValidationError};

/// Paper size.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm.
    #[default]
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// Width and height in millimetres.
    pub fn size_mm(self) -> (f64, f64) {
        match self {
            Paper::A4 => (210.0, 297.0),
            Paper::Letter => (215.9, 279.4),
        }
    }

    /// Name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
        }
    }

    /// Name as people say it ("A4", "US Letter"), for the dashboard.
    pub fn label(self) -> &'static str {
        match self {
            Paper::A4 => "A4",
            Paper::Letter => "US Letter",
        }
    }
}

impl PrintLayout {
    /// Every layout.
    pub const ALL: [PrintLayout; 3] = [PrintLayout::Grid, PrintLayout::Labels, PrintLayout::Flyer];

    /// Name as people say it, for the dashboard.
    pub fn label(self) -> &'static str {
        match self {
            PrintLayout::Grid => "Grid of codes",
            PrintLayout::Labels => "Sticker sheet",
            PrintLayout::Flyer => "One flyer a page",
        }
    }
}

/// How links are arranged on the pages.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum PrintLayout {
    /// N codes a page with captions, the columns chosen by the user.
    #[default]
    Grid,
    /// One code a sticker on a sheet of labels (see [`LabelPreset`]).
    Labels,
    /// One link a page: name, call to action, a big code and the link.
    Flyer,
}

/// Sticker sheets, with dimensions from the makers' specifications.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum LabelPreset {
    /// Avery L7160, A4: 21 labels (3 × 7) of 63.5 × 38.1 mm.
    #[default]
    #[value(name = "l7160")]
    L7160,
    /// Avery L7159, A4: 24 labels (3 × 8) of 63.5 × 33.9 mm.
    #[value(name = "l7159")]
    L7159,
    /// Avery 5160, Letter: 30 labels (3 × 10) of 2.625 × 1 in.
    #[value(name = "5160")]
    Avery5160,
    /// Avery 22806, Letter: 12 square labels (3 × 4) of 2 × 2 in.
    #[value(name = "22806")]
    Avery22806,
}

/// One sticker sheet's geometry, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelSpec {
    /// The sheet's paper.
    pub paper: Paper,
    /// Labels across and down.
    pub columns: u32,
    /// Labels down.
    pub rows: u32,
    /// One label's width and height.
    pub label_w_mm: f64,
    /// One label's height.
    pub label_h_mm: f64,
    /// Page edge to the first label, left and top.
    pub left_mm: f64,
    /// Page top to the first label.
    pub top_mm: f64,
    /// Distance from one label's left edge to the next one's.
    pub pitch_x_mm: f64,
    /// Distance from one label's top edge to the next one's.
    pub pitch_y_mm: f64,
}

impl LabelPreset {
    /// Every preset.
    pub const ALL: [LabelPreset; 4] = [
        LabelPreset::L7160,
        LabelPreset::L7159,
        LabelPreset::Avery5160,
        LabelPreset::Avery22806,
    ];

    /// The sheet's geometry (docs/print.md has the table and sources).
    pub fn spec(self) -> LabelSpec {
        const IN: f64 = 25.4;
        match self {
            LabelPreset::L7160 => LabelSpec {
                paper: Paper::A4,
                columns: 3,
                rows: 7,
                label_w_mm: 63.5,
                label_h_mm: 38.1,
                left_mm: 7.21,
                top_mm: 15.15,
                pitch_x_mm: 66.04,
                pitch_y_mm: 38.1,
            },
            LabelPreset::L7159 => LabelSpec {
                paper: Paper::A4,
                columns: 3,
                rows: 8,
                label_w_mm: 63.5,
                label_h_mm: 33.9,
                left_mm: 7.21,
                top_mm: 12.9,
                pitch_x_mm: 66.04,
                pitch_y_mm: 33.9,
            },
            LabelPreset::Avery5160 => LabelSpec {
                paper: Paper::Letter,
                columns: 3,
                rows: 10,
                label_w_mm: 2.625 * IN,
                label_h_mm: IN,
                left_mm: 0.1875 * IN,
                top_mm: 0.5 * IN,
                pitch_x_mm: 2.75 * IN,
                pitch_y_mm: IN,
            },
            LabelPreset::Avery22806 => LabelSpec {
                paper: Paper::Letter,
                columns: 3,
                rows: 4,
                label_w_mm: 2.0 * IN,
                label_h_mm: 2.0 * IN,
                left_mm: 0.625 * IN,
                top_mm: 0.645 * IN,
                pitch_x_mm: 2.625 * IN,
                pitch_y_mm: 2.57 * IN,
            },
        }
    }

    /// Name as the maker prints it, with the count and paper:
    /// "Avery L7160 (21 per sheet, A4)".
    pub fn label(self) -> String {
        let maker = match self {
            LabelPreset::L7160 => "Avery L7160",
            LabelPreset::L7159 => "Avery L7159",
            LabelPreset::Avery5160 => "Avery 5160",
            LabelPreset::Avery22806 => "Avery 22806",
        };
        let spec = self.spec();
        format!(
            "{maker} ({} per sheet, {})",
            spec.columns * spec.rows,
            spec.paper.label()
        )
    }

    /// Name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            LabelPreset::L7160 => "l7160",
            LabelPreset::L7159 => "l7159",
            LabelPreset::Avery5160 => "5160",
            LabelPreset::Avery22806 => "22806",
        }
    }
}

/// The largest printer offset either way, in millimetres: a printer that
/// misses its mark does so by a millimetre or two; more means the wrong
/// sheet or the wrong paper size.
pub const MAX_OFFSET_MM: f64 = 5.0;

/// The CLI names of the two printer offsets, which errors name.
const OFFSET_FIELDS: [&str; 2] = ["offset-x-mm", "offset-y-mm"];

impl LabelPreset {
    /// The sheet with a printer offset applied: every label moved `dx_mm`
    /// right and `dy_mm` down (negative: left, up). A printer whose test
    /// print lands 1.5 mm right of the labels needs `dx_mm = -1.5`. Refused
    /// when an offset is out of range or a label would leave the paper.
    pub fn spec_shifted(self, dx_mm: f64, dy_mm: f64) -> Result<LabelSpec, ValidationError> {
        let spec = self.spec();
        let (right_mm, bottom_mm) = spec.far_margins_mm();
        let name = self.name();
        let [x_field, y_field] = OFFSET_FIELDS;
        check_offset(
            x_field,
            dx_mm,
            (spec.left_mm, "left"),
            (right_mm, "right"),
            name,
        )?;
        check_offset(
            y_field,
            dy_mm,
            (spec.top_mm, "top"),
            (bottom_mm, "bottom"),
            name,
        )?;
        Ok(LabelSpec {
            left_mm: spec.left_mm + dx_mm,
            top_mm: spec.top_mm + dy_mm,
            ..spec
        })
    }
}

impl LabelSpec {
    /// The margins right of the last column and below the last row.
    fn far_margins_mm(&self) -> (f64, f64) {
        let (pw, ph) = self.paper.size_mm();
        let last_column = f64::from(self.columns.saturating_sub(1));
        let last_row = f64::from(self.rows.saturating_sub(1));
        (
            pw - self.left_mm - last_column * self.pitch_x_mm - self.label_w_mm,
            ph - self.top_mm - last_row * self.pitch_y_mm - self.label_h_mm,
        )
    }
}

/// One printer offset: finite, within [`MAX_OFFSET_MM`], and no larger
/// than the margin it moves the labels into: `before` (margin and edge) for
/// a negative offset, `after` for a positive one.
fn check_offset(
    field: &'static str,
    offset_mm: f64,
    before: (f64, &str),
    after: (f64, &str),
    sheet: &str,
) -> Result<(), ValidationError> {
    let value = format!("{offset_mm}");
    if !offset_mm.is_finite() || offset_mm.abs() > MAX_OFFSET_MM {
        return Err(ValidationError::new(
            field,
            &value,
            format!("a printer offset is between -{MAX_OFFSET_MM} and {MAX_OFFSET_MM} mm"),
        ));
    }
    let (room_mm, edge) = if offset_mm < 0.0 { before } else { after };
    if offset_mm.abs() > room_mm + 1e-9 {
        return Err(ValidationError::new(
            field,
            &value,
            format!(
                "on sheet {sheet} the labels are {room_mm:.2} mm from the paper's {edge} edge, so an offset can move them at most {room_mm:.2} mm that way"
            ),
        ));
    }
    Ok(())
}

/// How a PDF is laid out.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrintOptions {
    /// Grid, labels or flyer.
    pub layout: PrintLayout,
    /// A4 or Letter (labels: must be the preset's paper).
    pub paper: Paper,
    /// Codes a row in a grid, 1 to [`MAX_GRID_COLUMNS`](super::MAX_GRID_COLUMNS).
    pub columns: u32,
    /// The sticker sheet of the labels layout.
    pub label: LabelPreset,
    /// Thin marks in the margins where to cut.
    pub cut_marks: bool,
    /// A title line (page and campaign) on grid and label sheets.
    pub title: bool,
    /// Print the ref code in the small footer (it is internal; off by default).
    pub show_ref: bool,
    /// Printer offset of a label sheet: what goes on the labels moves this
    /// far right (negative: left), in millimetres, to make up for a printer
    /// that prints off its mark (it prints 1.5 mm right: give -1.5).
    #[serde(default)]
    pub offset_x_mm: f64,
    /// Printer offset of a label sheet: everything moves this far down
    /// (negative: up), in millimetres.
    #[serde(default)]
    pub offset_y_mm: f64,
    /// Copies of each link on grid and label sheets, side by side (1 to
    /// [`MAX_COPIES`]): three links × 7 copies fill an L7160 sheet.
    #[serde(default = "one")]
    pub copies: u32,
}

/// Most copies of one link a sheet export makes (a few sheets of labels).
pub const MAX_COPIES: u32 = 100;

fn one() -> u32 {
    1
}

impl Default for PrintOptions {
    fn default() -> Self {
        Self {
            layout: PrintLayout::Grid,
            paper: Paper::A4,
            columns: 3,
            label: LabelPreset::L7160,
            cut_marks: false,
            title: true,
            show_ref: false,
            offset_x_mm: 0.0,
            offset_y_mm: 0.0,
            copies: 1,
        }
    }
}

impl PrintOptions {
    /// Checks the options that need no links: the printer offsets (in
    /// range, on the paper, and only with a label sheet, which they move).
    /// Exports call it before any work, so a bad offset costs nothing.
    pub fn check(&self) -> Result<(), ValidationError> {
        if !(1..=MAX_COPIES).contains(&self.copies) {
            return Err(ValidationError::new(
                "copies",
                &self.copies.to_string(),
                format!("copies per link are 1 to {MAX_COPIES}"),
            ));
        }
        if self.layout == PrintLayout::Labels {
            self.label
                .spec_shifted(self.offset_x_mm, self.offset_y_mm)
                .map(|_| ())
        } else {
            refuse_offsets(self, "a printer offset moves label sheets only")
                .map_err(|e| e.with_hint(Hint::ChooseLabelsLayout))
        }
    }
}

/// Refuses a non-zero printer offset with `rule`: for output that the
/// offsets would not move (they are never silently ignored).
pub fn refuse_offsets(options: &PrintOptions, rule: &str) -> Result<(), ValidationError> {
    let offsets = [options.offset_x_mm, options.offset_y_mm];
    for (field, offset_mm) in OFFSET_FIELDS.into_iter().zip(offsets) {
        if offset_mm != 0.0 {
            return Err(ValidationError::new(field, &format!("{offset_mm}"), rule));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sheet a preset describes fits its paper: the labels stay on
    /// the page, do not overlap, and sit as symmetrically as the makers cut
    /// them (a typo in one number breaks one of these).
    #[test]
    fn every_label_sheet_fits_its_paper_symmetrically() {
        for preset in LabelPreset::ALL {
            let s = preset.spec();
            let (right, bottom) = s.far_margins_mm();
            let name = preset.name();
            assert!(
                s.pitch_x_mm >= s.label_w_mm && s.pitch_y_mm >= s.label_h_mm,
                "{name} overlaps"
            );
            assert!(
                s.left_mm > 0.0 && s.top_mm > 0.0,
                "{name} starts off the page"
            );
            assert!(
                (right - s.left_mm).abs() < 0.5,
                "{name}: left {} right {right}",
                s.left_mm
            );
            assert!(
                (bottom - s.top_mm).abs() < 0.5,
                "{name}: top {} bottom {bottom}",
                s.top_mm
            );
        }
    }

    /// Avery 22806 (2 × 2 in, 3 × 4 on Letter) is laid out as the one
    /// catalogued sheet of that shape, OnlineLabels OL2679 in glabels 3.4.1:
    /// 5/8 in at the sides, 0.645 in at the top, pitch 2 5/8 × 2.57 in
    /// (docs/print.md says why this source).
    #[test]
    fn avery_22806_has_the_catalogued_margins_and_pitch() {
        const IN: f64 = 25.4;
        let s = LabelPreset::Avery22806.spec();
        let inches = [s.left_mm, s.top_mm, s.pitch_x_mm, s.pitch_y_mm].map(|v| v / IN);
        for (got, want) in inches.iter().zip([0.625, 0.645, 2.625, 2.57]) {
            assert!((got - want).abs() < 1e-9, "{inches:?}");
        }
    }
}
