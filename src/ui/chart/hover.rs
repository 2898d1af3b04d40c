//! The hover box's text for a line chart: every shown series at the date
//! under the pointer, most referrals first (issue 19: hover named one series
//! only), the current period and the previous one in blocks of their own,
//! each headed by its own date.

use super::{ChartInput, Series, label_at};
use crate::ui::widgets::display;

/// Most series listed per block; the rest are counted in one line.
const MAX_ROWS: usize = 12;
/// Longest series name in the box, in characters (refs come from strangers).
const MAX_NAME_CHARS: usize = 48;

/// The hover text for point `point` of line `series`: the block of the
/// period it belongs to first, then the other period's block, if any series
/// of it has a point at the same x.
pub fn hover_text(input: &ChartInput<'_>, series: usize, point: usize) -> String {
    let Some(hit) = input.lines.get(series) else {
        return String::new();
    };
    let Some(&(x, _)) = hit.points.get(point) else {
        return String::new();
    };
    let blocks = [hit.previous, !hit.previous];
    blocks
        .iter()
        .filter_map(|&previous| block(input, x, previous))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One period's block: its date, then `name: count` per shown series with a
/// point at `x`.
fn block(input: &ChartInput<'_>, x: f64, previous: bool) -> Option<String> {
    let at = |s: &Series| s.points.iter().position(|p| (p.0 - x).abs() < 1e-9);
    let mut head = None;
    let mut rows: Vec<(u64, String)> = Vec::new();
    for s in input
        .lines
        .iter()
        .filter(|s| s.previous == previous && !input.hidden.contains(&s.name))
    {
        let Some(i) = at(s) else {
            continue;
        };
        head.get_or_insert_with(|| {
            let so_far = if s.unfinished == Some(i) {
                " (so far)"
            } else {
                ""
            };
            let date = label_at(&s.labels, i, x, input.every);
            if previous {
                format!("Previous period: {date}")
            } else {
                format!("{date}{so_far}")
            }
        });
        let count = s.points[i].1;
        let name = crate::model::shorten_text(&display(&s.name), MAX_NAME_CHARS);
        rows.push((count, name));
    }
    let head = head?;
    rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut lines = vec![head];
    lines.extend(
        rows.iter()
            .take(MAX_ROWS)
            .map(|(count, name)| format!("{name}: {count}")),
    );
    if rows.len() > MAX_ROWS {
        lines.push(format!("… and {} more", rows.len() - MAX_ROWS));
    }
    Some(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Every;
    use egui::Color32;
    use std::collections::BTreeSet;

    fn line(name: &str, ys: &[u64], previous: bool) -> Series {
        Series {
            name: name.into(),
            color: Color32::WHITE,
            points: ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect(),
            unfinished: None,
            previous,
            labels: (0..ys.len())
                .map(|i| format!("2026-11-0{}", i + 1))
                .collect(),
        }
    }

    #[test]
    fn hover_lists_every_shown_series_at_the_date_most_first() {
        let mut lines = vec![
            line("newsletter", &[5, 9], false),
            line("freeshipping", &[7, 1], false),
            line("website", &[2, 2], false),
            line("newsletter (previous period)", &[4, 4], true),
        ];
        lines[3].labels = vec!["2026-10-01".into(), "2026-10-02".into()];
        let mut hidden = BTreeSet::new();
        hidden.insert("website".to_string());
        let input = ChartInput {
            every: Every::Day,
            lines: &lines,
            bars: None,
            bands: &[],
            hidden: &hidden,
            reset: false,
            height: 200.0,
        };
        assert_eq!(
            hover_text(&input, 0, 0),
            "2026-11-01\nfreeshipping: 7\nnewsletter: 5\nPrevious period: 2026-10-01\nnewsletter (previous period): 4"
        );
        assert_eq!(
            hover_text(&input, 3, 1),
            "Previous period: 2026-10-02\nnewsletter (previous period): 4\n2026-11-02\nnewsletter: 9\nfreeshipping: 1"
        );
    }
}
