//! Charts declared in a node's meta (`meta.modelc_chart`), rendered as inline SVG.

use std::fmt::Write as _;

use modelc_core::{quote_ident, Node};
use serde_json::Value;

use super::esc;

/// The kind of a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChartKind {
    /// A grid of `x` × `y` cells coloured by `value`.
    Heatmap,
    /// One bar per `x`.
    Bar,
    /// `value` over `x`, as a line.
    Line,
}

impl ChartKind {
    /// `heatmap`, `bar`, `line`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChartKind::Heatmap => "heatmap",
            ChartKind::Bar => "bar",
            ChartKind::Line => "line",
        }
    }

    /// How many rows [`ChartSpec::query`] reads at most.
    pub fn row_limit(self) -> usize {
        match self {
            ChartKind::Heatmap => 2500,
            ChartKind::Bar => 200,
            ChartKind::Line => 5000,
        }
    }
}

/// A chart declared in a node's meta:
/// `meta: {modelc_chart: {type: heatmap|bar|line, x: col, y: col, value: col, title: ...}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartSpec {
    /// Heatmap, bar or line.
    pub kind: ChartKind,
    /// The category (bar, heatmap columns) or the horizontal axis (line).
    pub x: String,
    /// The heatmap's rows; `None` for bar and line charts.
    pub y: Option<String>,
    /// The measured column.
    pub value: String,
    /// Title shown above the chart.
    pub title: Option<String>,
}

/// A chart spec with the rows of its [`ChartSpec::query`], as text cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartData {
    /// What to draw.
    pub spec: ChartSpec,
    /// Rows: `x, y, value` for heatmaps, `x, value` otherwise.
    pub rows: Vec<Vec<Option<String>>>,
}

/// Reads `modelc_chart` from the node's meta (YAML `meta` and `config.meta`, merged
/// into the config). `None` when absent or invalid: an unknown `type`, a missing
/// `x`/`value`, or a heatmap without `y`.
pub fn chart_spec(node: &Node) -> Option<ChartSpec> {
    let meta = node.config.meta();
    let spec = meta.get("modelc_chart")?.as_object()?;
    let text = |key: &str| -> Option<String> {
        match spec.get(key)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => None,
        }
    };
    let kind = match text("type")?.to_ascii_lowercase().as_str() {
        "heatmap" => ChartKind::Heatmap,
        "bar" => ChartKind::Bar,
        "line" => ChartKind::Line,
        _ => return None,
    };
    let y = match kind {
        ChartKind::Heatmap => Some(text("y")?),
        _ => None,
    };
    Some(ChartSpec {
        kind,
        x: text("x")?,
        y,
        value: text("value")?,
        title: text("title"),
    })
}

/// Every chart to query before [`crate::write_site`]: `(unique id, spec, SQL)` for
/// each node with a valid spec and a relation (ephemeral models have none), by id.
pub fn chart_queries(project: &modelc_compile::Project) -> Vec<(String, ChartSpec, String)> {
    project
        .nodes
        .values()
        .filter_map(|n| {
            let spec = chart_spec(n)?;
            let sql = spec.query(&n.relation.as_ref()?.to_string());
            Some((n.unique_id.clone(), spec, sql))
        })
        .collect()
}

impl ChartSpec {
    /// The columns read, in order: `x[, y], value`.
    pub fn columns(&self) -> Vec<&str> {
        let mut cols = vec![self.x.as_str()];
        cols.extend(self.y.as_deref());
        cols.push(&self.value);
        cols
    }

    /// SQL reading `x[, y], value` from `relation`, ordered by `x[, y]`, limited to
    /// [`ChartKind::row_limit`] rows.
    pub fn query(&self, relation: &str) -> String {
        let select: Vec<String> = self.columns().iter().map(|c| quote_ident(c)).collect();
        let mut order = vec![quote_ident(&self.x)];
        order.extend(self.y.as_deref().map(quote_ident));
        format!(
            "select {} from {relation} order by {} limit {}",
            select.join(", "),
            order.join(", "),
            self.kind.row_limit()
        )
    }

    /// The title, or one made of the column names.
    pub fn display_title(&self) -> String {
        match (&self.title, &self.y) {
            (Some(t), _) => t.clone(),
            (None, Some(y)) => format!("{} by {} and {}", self.value, self.x, y),
            (None, None) => format!("{} by {}", self.value, self.x),
        }
    }
}

/// A number as shown in a chart: integers whole, fractions with up to 3 decimals.
pub(crate) fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    let decimals = if a >= 1000.0 || v.fract() == 0.0 {
        0
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

fn parse(cell: Option<&Option<String>>) -> Option<f64> {
    cell?.as_deref()?.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn label(cell: Option<&Option<String>>) -> String {
    match cell {
        Some(Some(s)) => s.clone(),
        _ => "null".into(),
    }
}

/// Sorts labels numerically when all are numbers, else as text.
fn sort_labels(labels: &mut [String]) {
    if labels.iter().all(|l| l.trim().parse::<f64>().is_ok()) {
        labels.sort_by(|a, b| {
            let (a, b) = (
                a.trim().parse::<f64>().unwrap_or(0.0),
                b.trim().parse::<f64>().unwrap_or(0.0),
            );
            a.total_cmp(&b)
        });
    } else {
        labels.sort();
    }
}

/// Shortens a label for an axis.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Round tick values from at or below `lo` to at or above `hi`.
fn ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return vec![lo];
    }
    let raw = (hi - lo) / count.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag);
    let scale = 10f64.powi((1.0 - step.log10().floor()).max(0.0) as i32);
    let first = (lo / step + 1e-9).floor() as i64;
    let last = (hi / step - 1e-9).ceil() as i64;
    (first..=last.min(first + 100))
        .map(|i| {
            let t = (i as f64 * step * scale).round() / scale;
            if t == 0.0 {
                0.0
            } else {
                t
            }
        })
        .collect()
}

/// Linear colour ramp from pale yellow through orange to dark red, `t` in `[0, 1]`.
fn ramp(t: f64) -> String {
    const STOPS: [(f64, [f64; 3]); 3] = [
        (0.0, [255.0, 247.0, 188.0]),
        (0.5, [253.0, 141.0, 60.0]),
        (1.0, [165.0, 15.0, 21.0]),
    ];
    let t = t.clamp(0.0, 1.0);
    let (a, b) = if t <= 0.5 {
        (STOPS[0], STOPS[1])
    } else {
        (STOPS[1], STOPS[2])
    };
    let f = (t - a.0) / (b.0 - a.0);
    let c: Vec<u8> = (0..3).map(|i| (a.1[i] + (b.1[i] - a.1[i]) * f).round() as u8).collect();
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// The chart as an `<svg>` element (or a note when there is nothing to draw).
pub fn render_chart(data: &ChartData) -> String {
    if data.rows.is_empty() {
        return "<p class=\"note\">The chart's query returned no rows.</p>".into();
    }
    match data.spec.kind {
        ChartKind::Heatmap => heatmap(data),
        ChartKind::Bar => bar(data),
        ChartKind::Line => line(data),
    }
}

const FONT: f64 = 6.6; // average glyph width at 11px

fn svg_open(out: &mut String, kind: ChartKind, w: f64, h: f64, title: &str) {
    let _ = write!(
        out,
        "<svg class=\"chart chart-{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
         viewBox=\"0 0 {w:.0} {h:.0}\" role=\"img\" aria-label=\"{}\">",
        kind.as_str(),
        esc(title)
    );
}

fn heatmap(data: &ChartData) -> String {
    let spec = &data.spec;
    let mut xs: Vec<String> = Vec::new();
    let mut ys: Vec<String> = Vec::new();
    let mut cells: std::collections::BTreeMap<(String, String), Option<String>> = Default::default();
    for r in &data.rows {
        let (x, y) = (label(r.first()), label(r.get(1)));
        if !xs.contains(&x) {
            xs.push(x.clone());
        }
        if !ys.contains(&y) {
            ys.push(y.clone());
        }
        cells.insert((x, y), r.get(2).cloned().flatten());
    }
    sort_labels(&mut xs);
    sort_labels(&mut ys);
    let values: Vec<f64> = cells
        .values()
        .filter_map(|v| v.as_deref()?.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let y_label_w = ys.iter().map(|y| clip(y, 28).chars().count()).max().unwrap_or(1) as f64 * FONT + 16.0;
    let x_label_len = xs.iter().map(|x| clip(x, 24).chars().count()).max().unwrap_or(1);
    let cell_w = (x_label_len as f64 * FONT + 12.0).clamp(56.0, 120.0);
    let rotate = x_label_len as f64 * FONT + 8.0 > cell_w;
    let cell_h = 28.0;
    let top = 36.0;
    let left = y_label_w.max(40.0) + 8.0;
    let grid_w = cell_w * xs.len() as f64;
    let grid_h = cell_h * ys.len() as f64;
    let x_axis_h = if rotate {
        x_label_len as f64 * FONT * 0.72 + 30.0
    } else {
        40.0
    };
    let legend_h = 52.0;
    let width = (left + grid_w + 24.0).max(320.0);
    let height = top + grid_h + x_axis_h + legend_h;
    let title = spec.display_title();
    let mut out = String::new();
    svg_open(&mut out, spec.kind, width, height, &title);
    let _ = write!(
        out,
        "<text class=\"chart-title\" x=\"{left:.1}\" y=\"20\">{}</text>",
        esc(&title)
    );
    let _ = write!(
        out,
        "<text class=\"axis-title\" x=\"4\" y=\"{:.1}\">{}</text>",
        top - 6.0,
        esc(spec.y.as_deref().unwrap_or(""))
    );
    for (j, y) in ys.iter().enumerate() {
        let cy = top + cell_h * j as f64 + cell_h / 2.0 + 4.0;
        let _ = write!(
            out,
            "<text class=\"y-label\" x=\"{:.1}\" y=\"{cy:.1}\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            esc(&clip(y, 28))
        );
    }
    for (i, x) in xs.iter().enumerate() {
        let cx = left + cell_w * i as f64 + cell_w / 2.0;
        let ly = top + grid_h + 16.0;
        if rotate {
            let _ = write!(
                out,
                "<text class=\"x-label\" x=\"{cx:.1}\" y=\"{ly:.1}\" text-anchor=\"end\" \
                 transform=\"rotate(-40 {cx:.1} {ly:.1})\">{}</text>",
                esc(&clip(x, 24))
            );
        } else {
            let _ = write!(
                out,
                "<text class=\"x-label\" x=\"{cx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\">{}</text>",
                esc(&clip(x, 24))
            );
        }
    }
    for (j, y) in ys.iter().enumerate() {
        for (i, x) in xs.iter().enumerate() {
            let (rx, ry) = (left + cell_w * i as f64, top + cell_h * j as f64);
            let raw = cells.get(&(x.clone(), y.clone())).cloned().flatten();
            let num = raw
                .as_deref()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite());
            let (fill, text, dark) = match (num, &raw) {
                (Some(v), _) => {
                    let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                    (ramp(t), fmt_num(v), t > 0.55)
                }
                (None, Some(s)) => ("#eeeeee".to_string(), clip(s, 10), false),
                (None, None) => ("#f4f4f4".to_string(), "–".to_string(), false),
            };
            let shown = raw.as_deref().unwrap_or("null");
            let _ = write!(
                out,
                "<g class=\"cell\" data-x=\"{}\" data-y=\"{}\"><title>{} × {}: {}</title>\
                 <rect x=\"{rx:.1}\" y=\"{ry:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\"{}>{}</text></g>",
                esc(x),
                esc(y),
                esc(x),
                esc(y),
                esc(shown),
                cell_w - 2.0,
                cell_h - 2.0,
                rx + (cell_w - 2.0) / 2.0,
                ry + cell_h / 2.0 + 3.0,
                if dark { " class=\"on-dark\"" } else { "" },
                esc(&text)
            );
        }
    }
    let _ = write!(
        out,
        "<text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        left + grid_w / 2.0,
        top + grid_h + x_axis_h - 4.0,
        esc(&spec.x)
    );
    // Colour scale.
    if lo.is_finite() && hi.is_finite() {
        let ly = top + grid_h + x_axis_h + 12.0;
        let lw = 200.0_f64.min(width - left - 8.0).max(80.0);
        out.push_str("<defs><linearGradient id=\"heat-scale\">");
        for k in 0..=4 {
            let t = k as f64 / 4.0;
            let _ = write!(out, "<stop offset=\"{:.0}%\" stop-color=\"{}\"/>", t * 100.0, ramp(t));
        }
        out.push_str("</linearGradient></defs>");
        let _ = write!(
            out,
            "<g class=\"scale\"><rect x=\"{left:.1}\" y=\"{ly:.1}\" width=\"{lw:.1}\" height=\"12\" fill=\"url(#heat-scale)\"/>\
             <text x=\"{left:.1}\" y=\"{:.1}\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            ly + 26.0,
            esc(&fmt_num(lo)),
            left + lw,
            ly + 26.0,
            esc(&fmt_num(hi)),
            left + lw + 10.0,
            ly + 10.0,
            esc(&spec.value)
        );
    }
    out.push_str("</svg>");
    out
}

/// The vertical axis of bar and line charts: ticks, grid lines, labels.
struct YAxis {
    lo: f64,
    hi: f64,
    top: f64,
    height: f64,
}

impl YAxis {
    fn new(values: &[f64], from_zero: bool, top: f64, height: f64) -> (YAxis, Vec<f64>) {
        let mut lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let mut hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() || !hi.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if from_zero {
            lo = lo.min(0.0);
            hi = hi.max(0.0);
        }
        if hi <= lo {
            hi = lo + 1.0;
        }
        let t = ticks(lo, hi, 5);
        let lo = t.first().copied().unwrap_or(lo).min(lo);
        let hi = t.last().copied().unwrap_or(hi).max(hi);
        (YAxis { lo, hi, top, height }, t)
    }

    fn y(&self, v: f64) -> f64 {
        self.top + self.height - (v - self.lo) / (self.hi - self.lo) * self.height
    }

    fn draw(&self, out: &mut String, ticks: &[f64], left: f64, right: f64) {
        for t in ticks {
            let y = self.y(*t);
            let _ = write!(
                out,
                "<line class=\"grid\" x1=\"{left:.1}\" x2=\"{right:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
                 <text class=\"y-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                left - 6.0,
                y + 4.0,
                esc(&fmt_num(*t))
            );
        }
        let _ = write!(
            out,
            "<line class=\"axis\" x1=\"{left:.1}\" x2=\"{left:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
            self.top,
            self.top + self.height
        );
    }
}

fn bar(data: &ChartData) -> String {
    let spec = &data.spec;
    let points: Vec<(String, Option<f64>, String)> = data
        .rows
        .iter()
        .map(|r| (label(r.first()), parse(r.get(1)), label(r.get(1))))
        .collect();
    let values: Vec<f64> = points.iter().filter_map(|p| p.1).collect();
    let top = 36.0;
    let plot_h = 240.0;
    let (axis, tick_values) = YAxis::new(&values, true, top, plot_h);
    let tick_w = tick_values.iter().map(|t| fmt_num(*t).len()).max().unwrap_or(1) as f64 * FONT;
    let left = tick_w + 40.0;
    let x_label_len = points.iter().map(|p| clip(&p.0, 24).chars().count()).max().unwrap_or(1);
    let slot = (x_label_len as f64 * FONT + 10.0).clamp(18.0, 72.0);
    let rotate = x_label_len as f64 * FONT + 6.0 > slot;
    let plot_w = slot * points.len() as f64;
    let x_axis_h = if rotate {
        x_label_len as f64 * FONT * 0.72 + 30.0
    } else {
        36.0
    };
    let width = (left + plot_w + 24.0).max(320.0);
    let height = top + plot_h + x_axis_h;
    let title = spec.display_title();
    let mut out = String::new();
    svg_open(&mut out, spec.kind, width, height, &title);
    let _ = write!(
        out,
        "<text class=\"chart-title\" x=\"{left:.1}\" y=\"20\">{}</text>",
        esc(&title)
    );
    axis.draw(&mut out, &tick_values, left, left + plot_w);
    let _ = write!(
        out,
        "<text class=\"axis-title\" transform=\"rotate(-90)\" x=\"{:.1}\" y=\"14\" text-anchor=\"middle\">{}</text>",
        -(top + plot_h / 2.0),
        esc(&spec.value)
    );
    let zero = axis.y(0.0);
    for (i, (x, v, raw)) in points.iter().enumerate() {
        let bx = left + slot * i as f64 + slot * 0.12;
        let bw = slot * 0.76;
        if let Some(v) = v {
            let y = axis.y(*v);
            let _ = write!(
                out,
                "<g class=\"bar\" data-x=\"{}\"><title>{}: {}</title><rect x=\"{bx:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\"/></g>",
                esc(x),
                esc(x),
                esc(raw),
                y.min(zero),
                (zero - y).abs().max(0.5)
            );
            if points.len() <= 30 {
                let _ = write!(
                    out,
                    "<text class=\"bar-value\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    bx + bw / 2.0,
                    y.min(zero) - 4.0,
                    esc(&fmt_num(*v))
                );
            }
        }
        let cx = left + slot * i as f64 + slot / 2.0;
        let ly = top + plot_h + 16.0;
        if rotate {
            let _ = write!(
                out,
                "<text class=\"x-label\" x=\"{cx:.1}\" y=\"{ly:.1}\" text-anchor=\"end\" \
                 transform=\"rotate(-40 {cx:.1} {ly:.1})\">{}</text>",
                esc(&clip(x, 24))
            );
        } else {
            let _ = write!(
                out,
                "<text class=\"x-label\" x=\"{cx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\">{}</text>",
                esc(&clip(x, 24))
            );
        }
    }
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{left:.1}\" x2=\"{:.1}\" y1=\"{zero:.1}\" y2=\"{zero:.1}\"/>",
        left + plot_w
    );
    let _ = write!(
        out,
        "<text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        left + plot_w / 2.0,
        height - 6.0,
        esc(&spec.x)
    );
    out.push_str("</svg>");
    out
}

fn line(data: &ChartData) -> String {
    let spec = &data.spec;
    let points: Vec<(String, Option<f64>)> = data.rows.iter().map(|r| (label(r.first()), parse(r.get(1)))).collect();
    let values: Vec<f64> = points.iter().filter_map(|p| p.1).collect();
    let top = 36.0;
    let plot_h = 240.0;
    let (axis, tick_values) = YAxis::new(&values, false, top, plot_h);
    let tick_w = tick_values.iter().map(|t| fmt_num(*t).len()).max().unwrap_or(1) as f64 * FONT;
    let left = tick_w + 40.0;
    let plot_w = 720.0;
    let width = left + plot_w + 40.0;
    let height = top + plot_h + 52.0;
    let n = points.len();
    let px = |i: usize| {
        if n <= 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let title = spec.display_title();
    let mut out = String::new();
    svg_open(&mut out, spec.kind, width, height, &title);
    let _ = write!(
        out,
        "<text class=\"chart-title\" x=\"{left:.1}\" y=\"20\">{}</text>",
        esc(&title)
    );
    axis.draw(&mut out, &tick_values, left, left + plot_w);
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{left:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
        left + plot_w,
        top + plot_h,
        top + plot_h
    );
    let _ = write!(
        out,
        "<text class=\"axis-title\" transform=\"rotate(-90)\" x=\"{:.1}\" y=\"14\" text-anchor=\"middle\">{}</text>",
        -(top + plot_h / 2.0),
        esc(&spec.value)
    );
    // About six x labels, evenly spread.
    let step = n.div_ceil(6).max(1);
    let mut label_idx: Vec<usize> = (0..n).step_by(step).collect();
    if label_idx.last() != Some(&(n - 1)) && n > 1 {
        if label_idx.last().is_some_and(|l| n - 1 - l < step / 2) {
            label_idx.pop();
        }
        label_idx.push(n - 1);
    }
    for i in label_idx {
        let x = px(i);
        let _ = write!(
            out,
            "<line class=\"tick\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
             <text class=\"x-label\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            top + plot_h,
            top + plot_h + 5.0,
            top + plot_h + 18.0,
            esc(&clip(&points[i].0, 24))
        );
    }
    let mut d = String::new();
    let mut pen_down = false;
    for (i, (_, v)) in points.iter().enumerate() {
        match v {
            Some(v) => {
                let _ = write!(d, "{}{:.1},{:.1}", if pen_down { "L" } else { "M" }, px(i), axis.y(*v));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let _ = write!(out, "<path class=\"line\" d=\"{d}\"/>");
    if n <= 60 {
        for (i, (x, v)) in points.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    out,
                    "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"><title>{}: {}</title></circle>",
                    px(i),
                    axis.y(*v),
                    esc(x),
                    esc(&fmt_num(*v))
                );
            }
        }
    }
    let _ = write!(
        out,
        "<text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        left + plot_w / 2.0,
        height - 6.0,
        esc(&spec.x)
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: ChartKind) -> ChartSpec {
        ChartSpec {
            kind,
            x: "x".into(),
            y: (kind == ChartKind::Heatmap).then(|| "y".into()),
            value: "v".into(),
            title: Some("T <&>".into()),
        }
    }

    fn row(cells: &[Option<&str>]) -> Vec<Option<String>> {
        cells.iter().map(|c| c.map(str::to_string)).collect()
    }

    #[test]
    fn heatmap_has_a_cell_per_pair_with_escaped_labels() {
        let rows = vec![
            row(&[Some("<b>"), Some("A"), Some("0.5")]),
            row(&[Some("<b>"), Some("B"), None]),
            row(&[Some("x&y"), Some("A"), Some("0.1")]),
            row(&[Some("x&y"), Some("B"), Some("0.9")]),
        ];
        let svg = render_chart(&ChartData {
            spec: spec(ChartKind::Heatmap),
            rows,
        });
        assert_eq!(svg.matches("<g class=\"cell\"").count(), 4);
        assert!(svg.contains("data-x=\"&lt;b&gt;\" data-y=\"A\""));
        assert!(svg.contains("data-x=\"x&amp;y\" data-y=\"B\""));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("T &lt;&amp;&gt;"));
        assert!(svg.contains(">0.5<") && svg.contains(">0.9<") && svg.contains(">–<"));
        assert!(svg.contains("linearGradient"));
    }

    #[test]
    fn bar_and_line_draw_every_point() {
        let rows: Vec<_> = (0..5)
            .map(|i| row(&[Some(&format!("d{i}")), if i == 2 { None } else { Some("3.5") }]))
            .collect();
        let b = render_chart(&ChartData {
            spec: spec(ChartKind::Bar),
            rows: rows.clone(),
        });
        assert_eq!(b.matches("<g class=\"bar\"").count(), 4);
        let l = render_chart(&ChartData {
            spec: spec(ChartKind::Line),
            rows,
        });
        // The null breaks the line into two segments.
        let d = l
            .split("class=\"line\" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(d.matches('M').count(), 2);
    }

    #[test]
    fn numbers_and_ticks() {
        assert_eq!(fmt_num(0.052631), "0.053");
        assert_eq!(fmt_num(12.0), "12");
        assert_eq!(fmt_num(1234.56), "1235");
        assert_eq!(fmt_num(1.23456), "1.23");
        assert_eq!(ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(0.0, 0.52, 5), vec![0.0, 0.2, 0.4, 0.6]);
        assert_eq!(ticks(3.2, 11.1, 5), vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
        assert_eq!(ticks(-0.3, 0.0, 3), vec![-0.3, -0.2, -0.1, 0.0]);
    }
}
