//! Every warning for rendering a link in a style: the style's own, plus
//! modules too small to print and scan at the chosen size.

use super::layout::Layout;
use super::{QrError, QrMatrix, QrStyle};
use crate::model::Warning;

/// Modules smaller than this many pixels are hard to print and scan.
const MIN_MODULE_PX: u32 = 3;

/// Every warning for rendering `data` in `style`: the style's own, plus
/// modules too small to print and scan at this size.
pub fn warnings_for(data: &str, style: &QrStyle) -> Result<Vec<Warning>, QrError> {
    warnings_for_forced(data, style, false)
}

/// Like [`warnings_for`]; with `force`, a contrast below the hard floor is
/// only a warning.
pub fn warnings_for_forced(
    data: &str,
    style: &QrStyle,
    force: bool,
) -> Result<Vec<Warning>, QrError> {
    let mut warnings = style.check_forced(force)?;
    let matrix = QrMatrix::for_style(data, style)?;
    warnings.extend(module_size_warning(&matrix, style));
    Ok(warnings)
}

/// The warning for modules too small to print and scan in a PNG of `style`,
/// from an already encoded code (a bulk export does not encode twice).
pub fn module_size_warning(matrix: &QrMatrix, style: &QrStyle) -> Option<Warning> {
    let module_px = Layout::new(matrix, style, None).module_px;
    (module_px < MIN_MODULE_PX).then(|| {
        Warning::new(
            "size",
            format!(
                "each module is only {module_px} px ({} modules across); use a larger size, a lower error correction or a shorter ref",
                matrix.width
            ),
        )
    })
}
