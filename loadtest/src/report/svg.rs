//! Hand-written inline SVG charts for the HTML report (the machines are
//! offline: no chart library, no CDN). Two kinds: line charts (optionally
//! stepped, with custom x ticks for percentile spectra) and grouped bars.

use std::fmt::Write as _;

const W: f64 = 760.0;
const H: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 44.0;

/// One line of a chart.
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
    /// Draw as a step function (value held until the next point).
    pub step: bool,
}

impl Series {
    pub fn line(name: &str, color: &'static str, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.to_owned(),
            color,
            points,
            dashed: false,
            step: false,
        }
    }
}

/// Escapes text for SVG/HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A "nice" tick step for a span.
fn nice_step(span: f64, ticks: f64) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / ticks;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 10.0 || v == v.trunc() {
        format!("{:.0}", v)
    } else if v.abs() >= 1.0 {
        format!("{:.1}", v)
    } else {
        format!("{:.2}", v)
    }
}

fn frame(s: &mut String, title: &str, x_label: &str, y_label: &str) {
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{}</text>
<text x="{}" y="{}" text-anchor="middle">{}</text>
<text transform="translate(14,{}) rotate(-90)" text-anchor="middle">{}</text>
"##,
        esc(title),
        LEFT + (W - LEFT - RIGHT) / 2.0,
        H - 8.0,
        esc(x_label),
        TOP + (H - TOP - BOTTOM) / 2.0,
        esc(y_label)
    );
}

/// A line chart. `x_ticks`: explicit (position, label) ticks; else nice
/// ones. The y axis starts at 0 unless `zoom`, which fits it to the data.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    x_ticks: Option<Vec<(f64, String)>>,
    zoom: bool,
) -> String {
    let mut s = String::new();
    frame(&mut s, title, x_label, y_label);
    let all = series.iter().flat_map(|se| se.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, 0.0f64);
    for &(x, y) in all {
        if x.is_finite() && y.is_finite() {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    }
    if x0 > x1 {
        s.push_str(&format!(
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#888">no data</text></svg>"##,
            W / 2.0,
            H / 2.0
        ));
        return s;
    }
    if let Some(ticks) = &x_ticks {
        for (x, _) in ticks {
            x0 = x0.min(*x);
            x1 = x1.max(*x);
        }
    }
    if x1 - x0 < 1e-9 {
        x1 = x0 + 1.0;
    }
    let ybase = if zoom && y0 < y1 { y0 } else { 0.0 };
    let ystep = nice_step((y1 - ybase).max(1e-9), 5.0);
    let ybase = (ybase / ystep).floor() * ystep;
    let ytop = ybase + ((y1 - ybase) / ystep).ceil().max(1.0) * ystep;
    let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let py = |y: f64| H - BOTTOM - (y - ybase) / (ytop - ybase) * (H - TOP - BOTTOM);
    let mut y = ybase;
    while y <= ytop + ystep * 0.01 {
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{}" y1="{py:.1}" y2="{py:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 4.0,
            py(y) + 4.0,
            fmt_num(y),
            py = py(y)
        );
        y += ystep;
    }
    let ticks = x_ticks.unwrap_or_else(|| {
        let step = nice_step(x1 - x0, 8.0);
        let mut t = (x0 / step).ceil() * step;
        let mut out = Vec::new();
        while t <= x1 + step * 0.01 {
            out.push((t, fmt_num(t)));
            t += step;
        }
        out
    });
    for (x, label) in ticks {
        let _ = write!(
            s,
            r##"<line x1="{p:.1}" x2="{p:.1}" y1="{}" y2="{}" stroke="#999"/><text x="{p:.1}" y="{}" text-anchor="middle">{}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 4.0,
            H - BOTTOM + 16.0,
            esc(&label),
            p = px(x)
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{}" stroke="#999"/><line x1="{LEFT}" x2="{}" y1="{b}" y2="{b}" stroke="#999"/>"##,
        H - BOTTOM,
        W - RIGHT,
        b = H - BOTTOM
    );
    for (i, se) in series.iter().enumerate() {
        let mut d = String::new();
        let mut last: Option<(f64, f64)> = None;
        for &(x, y) in se
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
        {
            match last {
                None => {
                    let _ = write!(d, "M{:.1},{:.1}", px(x), py(y));
                }
                Some((_, ly)) if se.step => {
                    let _ = write!(d, " L{:.1},{:.1} L{:.1},{:.1}", px(x), py(ly), px(x), py(y));
                }
                Some(_) => {
                    let _ = write!(d, " L{:.1},{:.1}", px(x), py(y));
                }
            }
            last = Some((x, y));
        }
        let dash = if se.dashed {
            r#" stroke-dasharray="5,3""#
        } else {
            ""
        };
        let _ = write!(
            s,
            r#"<path d="{d}" fill="none" stroke="{}" stroke-width="1.6"{dash}/>"#,
            se.color
        );
        let lx = LEFT + i as f64 * 140.0;
        let ly = 32.0;
        let _ = write!(
            s,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            lx + 18.0,
            se.color,
            lx + 22.0,
            ly + 4.0,
            esc(&se.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// Percentile `p` (0..=100) on the HdrHistogram spectrum axis:
/// `-log10(1 - p/100)`, so 90 → 1, 99 → 2, 99.9 → 3 …
pub fn spectrum_x(p: f64) -> f64 {
    let q = (1.0 - p / 100.0).max(1e-6);
    -q.log10()
}

/// Ticks for a spectrum axis.
pub fn spectrum_ticks() -> Vec<(f64, String)> {
    ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]
        .iter()
        .enumerate()
        .map(|(i, l)| (i as f64, (*l).to_owned()))
        .collect()
}

/// Grouped bars: one group per category, one bar per series.
pub fn bars(
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[(&str, &'static str, Vec<f64>)],
) -> String {
    let mut s = String::new();
    frame(&mut s, title, "", y_label);
    let ymax = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .fold(0.0f64, f64::max);
    let ystep = nice_step(ymax.max(1e-9), 5.0);
    let ytop = (ymax / ystep).ceil().max(1.0) * ystep;
    let py = |y: f64| H - BOTTOM - y / ytop * (H - TOP - BOTTOM);
    let mut y = 0.0;
    while y <= ytop + ystep * 0.01 {
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{}" y1="{p:.1}" y2="{p:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 4.0,
            py(y) + 4.0,
            fmt_num(y),
            p = py(y)
        );
        y += ystep;
    }
    let group_w = (W - LEFT - RIGHT) / categories.len().max(1) as f64;
    let bar_w = group_w * 0.8 / series.len().max(1) as f64;
    for (c, cat) in categories.iter().enumerate() {
        let gx = LEFT + c as f64 * group_w + group_w * 0.1;
        for (k, (_, color, values)) in series.iter().enumerate() {
            let v = values.get(c).copied().unwrap_or(0.0);
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{}</title></rect>"#,
                gx + k as f64 * bar_w,
                py(v),
                bar_w * 0.92,
                (H - BOTTOM - py(v)).max(0.0),
                fmt_num(v)
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            gx + group_w * 0.4,
            H - BOTTOM + 16.0,
            esc(cat)
        );
    }
    for (i, (name, color, _)) in series.iter().enumerate() {
        let lx = LEFT + i as f64 * 140.0;
        let ly = 32.0;
        let _ = write!(
            s,
            r#"<rect x="{lx}" y="{}" width="12" height="9" fill="{color}"/><text x="{}" y="{}">{}</text>"#,
            ly - 5.0,
            lx + 16.0,
            ly + 4.0,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_self_contained_svg() {
        let chart = line_chart(
            "Throughput <per second>",
            "s",
            "orders/s",
            &[Series::line(
                "accepted",
                "#1f77b4",
                vec![(0.0, 10.0), (1.0, 20.0)],
            )],
            None,
            false,
        );
        assert!(chart.starts_with("<svg"));
        assert!(chart.ends_with("</svg>"));
        assert!(chart.contains("&lt;per second&gt;"));
        assert!(
            !chart.contains("http://") || chart.contains("xmlns=\"http://www.w3.org/2000/svg\"")
        );
        assert!(line_chart("empty", "x", "y", &[], None, true).contains("no data"));
        let b = bars("b", "y", &["hot".into()], &[("etal", "#000", vec![5.0])]);
        assert!(b.contains("<rect"));
    }

    #[test]
    fn spectrum_axis_spreads_the_tail() {
        assert!((spectrum_x(90.0) - 1.0).abs() < 1e-9);
        assert!((spectrum_x(99.9) - 3.0).abs() < 1e-9);
        assert!(spectrum_x(100.0) <= 6.0 + 1e-9);
        assert!((nice_step(100.0, 5.0) - 20.0).abs() < 1e-9);
    }
}
