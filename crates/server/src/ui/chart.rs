//! Charts drawn on the server as SVG: per-minute bars and a line, with the
//! scale written on them. Only numbers go in (formatted here), never user data.

use std::fmt::Write;

const W: f64 = 600.0;
const H: f64 = 150.0;
const PAD: f64 = 24.0;

fn frame(body: &str, top_label: &str, label: &str) -> String {
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{label}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <line x1=\"{PAD}\" y1=\"{b}\" x2=\"{W}\" y2=\"{b}\" stroke=\"#c5ccd8\"/>\
         <text x=\"{PAD}\" y=\"12\" font-size=\"11\" fill=\"#5e6778\">{top_label}</text>\
         <text x=\"{PAD}\" y=\"{H}\" font-size=\"11\" fill=\"#5e6778\">60 min ago</text>\
         <text x=\"{W}\" y=\"{H}\" font-size=\"11\" fill=\"#5e6778\" text-anchor=\"end\">now</text>{body}</svg>",
        b = H - PAD
    )
}

/// Stacked bars: `ok` in `color`, `bad` in red on top, one per minute.
pub fn bars(ok: &[u64], bad: &[u64], color: &str, label: &str) -> String {
    let n = ok.len().max(1) as f64;
    let max = ok
        .iter()
        .zip(bad)
        .map(|(a, b)| a + b)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (plot_h, slot) = (H - PAD - 16.0, (W - PAD) / n);
    let mut body = String::new();
    for (i, (a, b)) in ok.iter().zip(bad).enumerate() {
        let x = PAD + i as f64 * slot + 1.0;
        let (ha, hb) = (*a as f64 / max * plot_h, *b as f64 / max * plot_h);
        let base = H - PAD;
        let _ = write!(
            body,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{ha:.1}\" fill=\"{color}\"><title>{a} ok, {b} failed</title></rect>",
            base - ha,
            (slot - 2.0).max(1.0)
        );
        if *b > 0 {
            let _ = write!(
                body,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{hb:.1}\" fill=\"#e03131\"/>",
                base - ha - hb,
                (slot - 2.0).max(1.0)
            );
        }
    }
    frame(&body, &format!("max {max:.0}/min"), label)
}

/// A line through the minutes that have a value; gaps where none.
pub fn line(values: &[Option<f64>], unit: &str, fixed_max: Option<f64>, label: &str) -> String {
    let n = values.len().max(1) as f64;
    let max = fixed_max
        .unwrap_or_else(|| values.iter().flatten().fold(0.0_f64, |m, v| m.max(*v)))
        .max(1e-9);
    let (plot_h, slot) = (H - PAD - 16.0, (W - PAD) / n);
    let mut body = String::new();
    let mut path = String::new();
    for (i, v) in values.iter().enumerate() {
        let Some(v) = v else {
            continue;
        };
        let x = PAD + (i as f64 + 0.5) * slot;
        let y = H - PAD - v / max * plot_h;
        let _ = write!(
            path,
            "{}{x:.1},{y:.1} ",
            if path.is_empty() { "M" } else { "L" }
        );
        let _ = write!(body, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2.5\" fill=\"#3b5bdb\"><title>{v:.1}{unit}</title></circle>");
    }
    if !path.is_empty() {
        body.insert_str(
            0,
            &format!("<path d=\"{path}\" fill=\"none\" stroke=\"#3b5bdb\" stroke-width=\"1.5\"/>"),
        );
    } else {
        let _ = write!(body, "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#5e6778\" text-anchor=\"middle\">no data yet</text>", W / 2.0, H / 2.0);
    }
    frame(&body, &format!("max {max:.1}{unit}"), label)
}

#[cfg(test)]
mod tests {
    #[test]
    fn charts_are_svg_with_their_scale() {
        let b = super::bars(&[1, 2, 3], &[0, 1, 0], "#2b8a3e", "received");
        assert!(b.starts_with("<svg") && b.ends_with("</svg>"));
        assert!(b.contains("max 3/min"), "{b}");
        assert_eq!(b.matches("<rect").count(), 4, "three bars and one failure");
        let l = super::line(&[None, Some(50.0), Some(100.0)], "%", Some(100.0), "rate");
        assert!(l.contains("<path d=\"M"), "{l}");
        assert!(super::line(&[None], " ms", None, "x").contains("no data yet"));
    }
}
