//! SVG codes: one path of module runs, the caption as real `<text>`, and a
//! logo embedded as a data URL (an SVG logo stays vector).

use super::layout::{Caption, Layout};
use super::logo;
use super::text::xml_escape;
use super::{QrError, QrMatrix, QrStyle};
use std::fmt::Write as _;

/// Font family named in SVG output; viewers without DejaVu fall back.
const SVG_FONT_FAMILY: &str = "'DejaVu Sans', Verdana, Arial, sans-serif";

/// SVG path data for the dark modules, one run per row segment, scaled by
/// `module` and shifted by (`x0`, `y0`).
pub fn module_path(matrix: &QrMatrix, x0: f64, y0: f64, module: f64) -> String {
    let mut d = String::new();
    for y in 0..matrix.width {
        let mut x = 0;
        while x < matrix.width {
            if !matrix.is_dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < matrix.width && matrix.is_dark(x, y) {
                x += 1;
            }
            let _ = write!(
                d,
                "M{} {}h{}v{}h-{}z",
                fmt_num(x0 + f64::from(start) * module),
                fmt_num(y0 + f64::from(y) * module),
                fmt_num(f64::from(x - start) * module),
                fmt_num(module),
                fmt_num(f64::from(x - start) * module)
            );
        }
    }
    d
}

/// Short decimal form for SVG numbers.
fn fmt_num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The logo as an SVG `<image>` holding the file itself (a data URL), so an
/// SVG logo stays vector. The pad needs no element: its modules are light.
pub fn svg_logo(logo: &logo::Logo, rect: [f64; 4]) -> String {
    use base64::Engine as _;
    let mime = match logo.kind() {
        logo::LogoKind::Png => "image/png",
        logo::LogoKind::Svg => "image/svg+xml",
    };
    format!(
        "<image class=\"logo\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"xMidYMid meet\" href=\"data:{mime};base64,{}\"/>\n",
        fmt_num(rect[0]),
        fmt_num(rect[1]),
        fmt_num(rect[2]),
        fmt_num(rect[3]),
        base64::engine::general_purpose::STANDARD.encode(logo.bytes())
    )
}

/// Renders an SVG document; the caption is real `<text>`.
pub fn render_svg(
    data: &str,
    caption: Option<Caption<'_>>,
    style: &QrStyle,
) -> Result<String, QrError> {
    let matrix = QrMatrix::for_style(data, style)?;
    render_svg_with(data, &matrix, caption, style)
}

/// Renders an SVG document of an already encoded code; `data` is its title.
pub fn render_svg_with(
    data: &str,
    matrix: &QrMatrix,
    caption: Option<Caption<'_>>,
    style: &QrStyle,
) -> Result<String, QrError> {
    style.check_ranges()?;
    let layout = Layout::new(matrix, style, caption);
    let (w, h) = (layout.width_px, layout.height_px);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" shape-rendering="crispEdges">
<title>{}</title>
<rect width="{w}" height="{h}" fill="{}"/>
<path fill="{}" d="{}"/>"#,
        xml_escape(data),
        style.bg,
        style.fg,
        module_path(
            matrix,
            f64::from(layout.origin_px),
            f64::from(layout.origin_px),
            f64::from(layout.module_px)
        )
    );
    if let (Some(pad), Some(logo)) = (matrix.logo, &style.logo) {
        let origin = f64::from(layout.origin_px);
        svg.push_str(&svg_logo(
            logo,
            pad.logo_rect((origin, origin), f64::from(layout.module_px)),
        ));
    }
    for (text, px, baseline) in &layout.lines {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" font-family="{SVG_FONT_FAMILY}" font-size="{}" text-anchor="middle" fill="{}">{}</text>"#,
            fmt_num(f64::from(w) / 2.0),
            fmt_num(f64::from(*baseline)),
            fmt_num(f64::from(*px)),
            style.fg,
            xml_escape(text)
        );
    }
    svg.push_str("</svg>\n");
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_escapes_text() {
        let svg = render_svg(
            "https://m.me/x?ref=a",
            Some(Caption {
                cta: "Fish & <chips>",
                url: "https://m.me/x?ref=a",
            }),
            &QrStyle {
                size_px: 256,
                ..QrStyle::default()
            },
        )
        .unwrap();
        assert!(svg.contains("Fish &amp; &lt;chips&gt;</text>"));
    }
}
