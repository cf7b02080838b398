//! The static docs site: an interactive lineage graph (`index.html`) and one page
//! per node and source (`nodes/<id>.html`), with column lineage, tests, SQL and
//! charts declared in meta.
//!
//! Everything is embedded: the CSS and JavaScript are written next to the pages,
//! the graph data is inlined in `index.html` as JSON, charts are SVG rendered
//! here. The site works opened from `file://`, without network.
//!
//! A chart is declared in a model's meta (YAML `meta:` or `config: {meta: ...}`):
//!
//! ```yaml
//! config:
//!   meta:
//!     modelc_chart: {type: heatmap, x: risk_band, y: industry, value: default_rate, title: Default rate}
//! ```
//!
//! `type` is `heatmap` (needs `y`), `bar` or `line`. The caller runs
//! [`ChartSpec::query`] (see [`chart_queries`]) against the database and passes the
//! rows as [`ChartData`]; without rows the page says to build the project.

mod chart;
mod layout;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use modelc_compile::Project;
use modelc_core::{ColumnInfo, Node, SourceTable};
use serde_json::{json, Value};

pub use chart::{chart_queries, chart_spec, render_chart, ChartData, ChartKind, ChartSpec};

use crate::catalog::Catalog;
use crate::{lineage_graph, LineageGraph, LineageNode};

const SITE_CSS: &str = include_str!("../assets/site.css");
const GRAPH_JS: &str = include_str!("../assets/graph.js");

/// What the site is made of.
pub struct SiteInput<'a> {
    /// The compiled project.
    pub project: &'a Project,
    /// Column types from the database, when one exists.
    pub catalog: Option<&'a Catalog>,
    /// Rows of the charts declared in meta, by unique id.
    pub charts: BTreeMap<String, ChartData>,
    /// Shown in the header (e.g. an RFC 3339 timestamp).
    pub generated_at: String,
}

/// What [`write_site`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteStats {
    /// HTML pages, `index.html` included.
    pub pages: usize,
    /// Nodes in the graph (seeds, sources, models, snapshots, tests, analyses).
    pub nodes: usize,
    /// Edges in the graph.
    pub edges: usize,
}

/// HTML-escapes text for element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that is safe inside a `<script>` element: `<`, `>` and `&` are written as
/// `\u003c` etc. (valid JSON escapes inside strings, and never found outside them),
/// so the text can hold no `</script>` and no `<!--`.
pub fn script_json(v: &Value) -> String {
    let text = serde_json::to_string(v).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn fnv64(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A file-name and URL safe spelling of `s`: ASCII letters, digits, `.`, `_` and
/// `-` are kept, every other byte becomes `~XX` (so distinct ids stay distinct);
/// very long names are cut and end with a hash of the whole.
pub fn safe_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "~{b:02X}");
        }
    }
    if out.starts_with('.') {
        out.insert(0, '~');
    }
    if out.len() > 180 {
        out.truncate(160);
        let _ = write!(out, "~{:016x}", fnv64(s));
    }
    out
}

/// The page of a node or source, relative to the site folder: `nodes/<safe id>.html`.
pub fn node_page(unique_id: &str) -> String {
    format!("nodes/{}.html", safe_name(unique_id))
}

fn page_file(unique_id: &str) -> String {
    format!("{}.html", safe_name(unique_id))
}

/// The id of a column's row on its node page: `col-<safe lowercase name>`
/// (columns match case-insensitively, as in DuckDB).
fn col_anchor(column: &str) -> String {
    format!("col-{}", safe_name(&column.to_lowercase()))
}

const TYPE_ORDER: [&str; 6] = ["seed", "source", "model", "snapshot", "test", "analysis"];

fn type_rank(t: &str) -> usize {
    TYPE_ORDER.iter().position(|x| *x == t).unwrap_or(TYPE_ORDER.len())
}

/// Stroke colours for model layers (folders), in order of layer name.
const LAYER_COLORS: [&str; 8] = [
    "#1f77b4", "#9467bd", "#d62728", "#2ca02c", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
];
const NEUTRAL_STROKE: &str = "#8a8f98";

const LABEL_MAX: usize = 32;
const CHAR_W: f64 = 7.0;

fn label_of(name: &str) -> String {
    if name.chars().count() <= LABEL_MAX {
        name.to_string()
    } else {
        let mut s: String = name.chars().take(LABEL_MAX - 1).collect();
        s.push('…');
        s
    }
}

/// Everything the pages share.
struct Ctx<'a> {
    input: &'a SiteInput<'a>,
    graph: LineageGraph,
    by_id: HashMap<String, usize>,
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
    /// Tests attached to a node, by the node's id.
    tests_of: HashMap<&'a str, Vec<&'a Node>>,
}

impl<'a> Ctx<'a> {
    fn new(input: &'a SiteInput<'a>) -> Ctx<'a> {
        let graph = lineage_graph(input.project, None);
        let by_id: HashMap<String, usize> = graph.nodes.iter().enumerate().map(|(i, n)| (n.id.clone(), i)).collect();
        let n = graph.nodes.len();
        let mut parents = vec![Vec::new(); n];
        let mut children = vec![Vec::new(); n];
        for (a, b) in &graph.edges {
            if let (Some(&a), Some(&b)) = (by_id.get(a), by_id.get(b)) {
                parents[b].push(a);
                children[a].push(b);
            }
        }
        let mut tests_of: HashMap<&'a str, Vec<&'a Node>> = HashMap::new();
        for node in input.project.nodes.values() {
            if let Some(attached) = node.test.as_ref().and_then(|t| t.attached_node.as_deref()) {
                tests_of.entry(attached).or_default().push(node);
            }
        }
        Ctx {
            input,
            graph,
            by_id,
            parents,
            children,
            tests_of,
        }
    }

    fn project(&self) -> &'a Project {
        self.input.project
    }

    /// Splits `unique_id.column` at the longest known id.
    fn split_column_ref<'s>(&self, s: &'s str) -> Option<(&'s str, &'s str)> {
        s.char_indices()
            .rev()
            .filter(|(_, c)| *c == '.')
            .map(|(i, _)| (&s[..i], &s[i + 1..]))
            .find(|(id, _)| self.by_id.contains_key(*id))
    }

    fn node(&self, id: &str) -> Option<&LineageNode> {
        self.by_id.get(id).map(|&i| &self.graph.nodes[i])
    }

    /// `<a>` to a node page from another node page.
    fn link(&self, id: &str, fragment: Option<&str>) -> String {
        let name = self.node(id).map_or(id, |n| n.name.as_str());
        let frag = fragment.map(|f| format!("#{}", col_anchor(f))).unwrap_or_default();
        format!(
            "<a href=\"{}{}\" title=\"{}\">{}</a>",
            esc(&page_file(id)),
            esc(&frag),
            esc(id),
            esc(name)
        )
    }
}

fn head(out: &mut String, title: &str, css: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"{css}\">\n</head>\n",
        esc(title)
    );
}

fn count_by_type(graph: &LineageGraph) -> BTreeMap<(usize, String), usize> {
    let mut counts = BTreeMap::new();
    for n in &graph.nodes {
        *counts
            .entry((type_rank(&n.resource_type), n.resource_type.clone()))
            .or_insert(0) += 1;
    }
    counts
}

/// Model layers (folder names) with their colours, by name.
fn layer_colors(graph: &LineageGraph) -> BTreeMap<String, &'static str> {
    let names: BTreeSet<&str> = graph
        .nodes
        .iter()
        .filter(|n| n.resource_type == "model")
        .map(|n| n.layer.as_str())
        .collect();
    names
        .into_iter()
        .enumerate()
        .map(|(i, l)| (l.to_string(), LAYER_COLORS[i % LAYER_COLORS.len()]))
        .collect()
}

fn description_of(project: &Project, id: &str) -> String {
    project
        .nodes
        .get(id)
        .map(|n| n.description.clone())
        .or_else(|| project.sources.get(id).map(|s| s.description.clone()))
        .unwrap_or_default()
}

fn first_line(s: &str, max: usize) -> String {
    let line = s.trim().lines().next().unwrap_or("");
    if line.chars().count() > max {
        let mut t: String = line.chars().take(max - 1).collect();
        t.push('…');
        t
    } else {
        line.to_string()
    }
}

/// The graph data for `graph.js`: positions from the layout, edges as index pairs.
fn graph_data(ctx: &Ctx<'_>) -> Value {
    let g = &ctx.graph;
    let widths: Vec<f64> = g
        .nodes
        .iter()
        .map(|n| (label_of(&n.name).chars().count() as f64 * CHAR_W + 22.0).clamp(70.0, 260.0))
        .collect();
    let edges: Vec<(usize, usize)> = (0..g.nodes.len())
        .flat_map(|c| ctx.parents[c].iter().map(move |&p| (p, c)))
        .collect();
    let side: Vec<bool> = g.nodes.iter().map(|n| n.resource_type == "test").collect();
    let lay = layout::layout(&widths, &edges, &side);
    let layers = layer_colors(g);
    let layer_index: BTreeMap<&str, usize> = layers.keys().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
    let nodes: Vec<Value> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let layer = if n.resource_type == "model" {
                layer_index.get(n.layer.as_str()).map_or(Value::Null, |l| json!(l))
            } else {
                Value::Null
            };
            json!({
                "id": n.id,
                "name": n.name,
                "label": label_of(&n.name),
                "type": n.resource_type,
                "layer": layer,
                "mat": n.materialized,
                "x": lay.x[i],
                "y": lay.y[i],
                "w": widths[i],
                "href": node_page(&n.id),
            })
        })
        .collect();
    let mut edge_list: Vec<(usize, usize)> = g
        .edges
        .iter()
        .filter_map(|(a, b)| Some((*ctx.by_id.get(a)?, *ctx.by_id.get(b)?)))
        .collect();
    edge_list.sort_unstable();
    json!({
        "project": ctx.project().name,
        "nodes": nodes,
        "edges": edge_list.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>(),
        "layers": layers.iter().map(|(name, color)| json!({"name": name, "color": color})).collect::<Vec<_>>(),
        "neutralStroke": NEUTRAL_STROKE,
        "width": lay.width,
        "height": lay.height,
        "nodeHeight": layout::NODE_H,
    })
}

fn index_html(ctx: &Ctx<'_>) -> String {
    let project = ctx.project();
    let g = &ctx.graph;
    let mut out = String::new();
    head(&mut out, &format!("{} · modelc docs", project.name), "assets/site.css");
    out.push_str("<body class=\"index\">\n<header class=\"top\">\n");
    let _ = write!(
        out,
        "<h1><a href=\"index.html\">{}</a></h1>\n<p class=\"meta\">modelc docs · generated {} · \
         <span id=\"stat-nodes\">{}</span> nodes · <span id=\"stat-edges\">{}</span> edges</p>\n",
        esc(&project.name),
        esc(&ctx.input.generated_at),
        g.nodes.len(),
        g.edges.len()
    );
    out.push_str("</header>\n<main>\n<section class=\"graph-panel\" aria-label=\"Lineage graph\">\n");
    out.push_str(
        "<div class=\"toolbar\">\n<input type=\"search\" id=\"search\" placeholder=\"Search nodes (Enter: next)\" \
         aria-label=\"Search nodes\" autocomplete=\"off\">\n<span id=\"search-count\" class=\"muted\"></span>\n\
         <span class=\"spacer\"></span>\n<button type=\"button\" id=\"zoom-in\" title=\"Zoom in\">+</button>\n\
         <button type=\"button\" id=\"zoom-out\" title=\"Zoom out\">&minus;</button>\n\
         <button type=\"button\" id=\"fit\" title=\"Fit the graph\">Fit</button>\n</div>\n",
    );
    out.push_str("<div class=\"legend\">\n<span class=\"legend-title\">Types</span>\n");
    for ((_, t), n) in count_by_type(g) {
        let _ = writeln!(
            out,
            "<button type=\"button\" class=\"type-toggle\" data-type=\"{t}\" aria-pressed=\"true\" \
             title=\"Show or hide\"><span class=\"swatch t-{t}\"></span>{t} <span class=\"muted\">{n}</span></button>",
            t = esc(&t)
        );
    }
    let layers = layer_colors(g);
    if !layers.is_empty() {
        out.push_str("<span class=\"legend-title\">Model layers (border)</span>\n");
        for (name, color) in &layers {
            let _ = writeln!(
                out,
                "<span class=\"layer-key\"><span class=\"swatch layer\" style=\"border-color:{color}\"></span>{}</span>",
                esc(name)
            );
        }
    }
    out.push_str("</div>\n");
    out.push_str(
        "<div class=\"graph-wrap\">\n<svg id=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         aria-label=\"Lineage graph\">\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\"/></marker></defs>\n\
         <g id=\"viewport\"><g id=\"edges\"></g><g id=\"nodes\"></g></g>\n</svg>\n\
         <noscript><p class=\"note\">The graph needs JavaScript; the list below works without it.</p></noscript>\n\
         </div>\n</section>\n",
    );
    // The node list, usable without JavaScript.
    out.push_str("<section class=\"node-list\">\n<h2>Nodes</h2>\n");
    let mut by_type: BTreeMap<(usize, &str), Vec<&LineageNode>> = BTreeMap::new();
    for n in &g.nodes {
        by_type
            .entry((type_rank(&n.resource_type), n.resource_type.as_str()))
            .or_default()
            .push(n);
    }
    for ((_, t), mut nodes) in by_type {
        nodes.sort_by(|a, b| (a.layer.as_str(), a.name.as_str(), a.id.as_str()).cmp(&(&b.layer, &b.name, &b.id)));
        let _ = write!(
            out,
            "<details{} id=\"list-{}\">\n<summary>{} <span class=\"muted\">({})</span></summary>\n\
             <table class=\"nodes\">\n<thead><tr><th>Name</th><th>Layer</th><th>Materialized</th><th>Relation</th>\
             <th>Description</th></tr></thead>\n<tbody>\n",
            if t == "test" && nodes.len() > 40 { "" } else { " open" },
            esc(t),
            esc(t),
            nodes.len()
        );
        for n in nodes {
            let _ = writeln!(
                out,
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&node_page(&n.id)),
                esc(&n.name),
                esc(&n.layer),
                esc(n.materialized.as_deref().unwrap_or("")),
                esc(n.relation.as_deref().unwrap_or("")),
                esc(&first_line(&description_of(project, &n.id), 120))
            );
        }
        out.push_str("</tbody>\n</table>\n</details>\n");
    }
    out.push_str("</section>\n</main>\n");
    let _ = write!(
        out,
        "<script id=\"graph-data\" type=\"application/json\">{}</script>\n<script src=\"assets/graph.js\"></script>\n",
        script_json(&graph_data(ctx))
    );
    out.push_str("</body>\n</html>\n");
    out
}

/// A merged column: what YAML declares, what the SQL outputs, what the database holds.
struct Col<'a> {
    name: String,
    yaml: Option<&'a ColumnInfo>,
    lineage: Option<&'a crate::LineageColumn>,
}

fn merged_columns<'a>(
    id: &str,
    yaml: &'a [ColumnInfo],
    lineage: &'a [crate::LineageColumn],
    catalog: Option<&Catalog>,
) -> Vec<Col<'a>> {
    let mut cols: Vec<Col<'a>> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut add = |name: &str, cols: &mut Vec<Col<'a>>| -> usize {
        *seen.entry(name.to_lowercase()).or_insert_with(|| {
            cols.push(Col {
                name: name.to_string(),
                yaml: None,
                lineage: None,
            });
            cols.len() - 1
        })
    };
    // Database order first, then the SQL's output order, then YAML-only columns.
    if let Some(t) = catalog.and_then(|c| c.nodes.get(id).or_else(|| c.sources.get(id))) {
        for c in &t.columns {
            add(&c.name, &mut cols);
        }
    }
    for l in lineage {
        let i = add(&l.name, &mut cols);
        cols[i].lineage = Some(l);
    }
    for y in yaml {
        let i = add(&y.name, &mut cols);
        cols[i].yaml = Some(y);
    }
    cols
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn section(out: &mut String, id: &str, title: &str) {
    let _ = write!(out, "<section id=\"{id}\">\n<h2>{}</h2>\n", esc(title));
}

fn pre(out: &mut String, class: &str, text: &str) {
    let _ = writeln!(
        out,
        "<pre class=\"{class}\"><code>{}</code></pre>",
        esc(text.trim_end())
    );
}

fn fact(out: &mut String, key: &str, value_html: &str) {
    let _ = writeln!(out, "<dt>{}</dt><dd>{value_html}</dd>", esc(key));
}

fn code(s: &str) -> String {
    format!("<code>{}</code>", esc(s))
}

fn test_label(t: &Node) -> String {
    t.test
        .as_ref()
        .and_then(|i| i.name.clone())
        .unwrap_or_else(|| t.name.clone())
}

fn node_html(ctx: &Ctx<'_>, idx: usize) -> String {
    let project = ctx.project();
    let ln = &ctx.graph.nodes[idx];
    let node = project.nodes.get(&ln.id);
    let source = project.sources.get(&ln.id);
    let mut out = String::new();
    head(
        &mut out,
        &format!("{} · {}", ln.name, project.name),
        "../assets/site.css",
    );
    let _ = write!(
        out,
        "<body class=\"node-page\">\n<header class=\"top\">\n<p class=\"crumbs\"><a href=\"../index.html\">{}</a> \
         › {}</p>\n<h1>{} <span class=\"badge t-{}\">{}</span>{}</h1>\n</header>\n<main>\n",
        esc(&project.name),
        esc(&ln.resource_type),
        esc(&ln.name),
        esc(&ln.resource_type),
        esc(&ln.resource_type),
        ln.materialized
            .as_deref()
            .map(|m| format!(" <span class=\"badge mat\">{}</span>", esc(m)))
            .unwrap_or_default()
    );

    // Facts.
    out.push_str("<dl class=\"facts\">\n");
    fact(&mut out, "Unique id", &code(&ln.id));
    if let Some(m) = &ln.materialized {
        fact(&mut out, "Materialization", &esc(m));
    }
    if ln.resource_type == "model" {
        fact(&mut out, "Layer", &esc(&ln.layer));
    }
    if let Some(r) = &ln.relation {
        fact(&mut out, "Relation", &code(r));
    }
    if let Some(t) = ctx
        .input
        .catalog
        .and_then(|c| c.nodes.get(&ln.id).or_else(|| c.sources.get(&ln.id)))
    {
        fact(&mut out, "In the database", &esc(&t.table_type));
    }
    fact(&mut out, "File", &code(&ln.path));
    if let Some(n) = node {
        if let Some(p) = &n.patch_path {
            fact(&mut out, "Properties", &code(p));
        }
        let tags = n.config.tags();
        if !tags.is_empty() {
            fact(
                &mut out,
                "Tags",
                &tags
                    .iter()
                    .map(|t| format!("<span class=\"tag\">{}</span>", esc(t)))
                    .collect::<String>(),
            );
        }
    }
    if let Some(s) = source {
        source_facts(&mut out, s);
    }
    out.push_str("</dl>\n");

    let description = node
        .map(|n| n.description.as_str())
        .or(source.map(|s| s.description.as_str()));
    if let Some(d) = description.filter(|d| !d.trim().is_empty()) {
        let _ = writeln!(out, "<p class=\"description\">{}</p>", esc(d.trim()));
    }

    if let Some(n) = node {
        chart_section(ctx, &mut out, n);
        if let Some(t) = &n.test {
            section(&mut out, "test", "Test");
            out.push_str("<dl class=\"facts\">\n");
            fact(
                &mut out,
                "Test",
                &esc(t.name.as_deref().unwrap_or("singular (SQL file)")),
            );
            if let Some(a) = &t.attached_node {
                fact(&mut out, "Tested node", &ctx.link(a, t.column_name.as_deref()));
            }
            if let Some(c) = &t.column_name {
                fact(&mut out, "Column", &code(c));
            }
            out.push_str("</dl>\n");
            if !t.kwargs.is_empty() {
                out.push_str("<h3>Arguments</h3>\n");
                pre(&mut out, "json", &pretty(&Value::Object(t.kwargs.clone())));
            }
            out.push_str("</section>\n");
        }
    }

    columns_section(ctx, &mut out, ln, node, source);

    // Tests on the whole node.
    let tests = ctx.tests_of.get(ln.id.as_str()).map(Vec::as_slice).unwrap_or_default();
    if !tests.is_empty() {
        section(&mut out, "tests", "Tests");
        out.push_str("<ul class=\"links\">\n");
        let mut sorted: Vec<&&Node> = tests.iter().collect();
        sorted.sort_by(|a, b| a.unique_id.cmp(&b.unique_id));
        for t in sorted {
            let col = t
                .test
                .as_ref()
                .and_then(|i| i.column_name.as_deref())
                .map(|c| format!(" on {}", code(c)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<li>{}{col} <span class=\"muted\">{}</span></li>",
                ctx.link(&t.unique_id, None),
                esc(&test_label(t))
            );
        }
        out.push_str("</ul>\n</section>\n");
    }

    // Up- and downstream.
    out.push_str("<section id=\"dependencies\" class=\"deps\">\n");
    for (title, list) in [("Upstream", &ctx.parents[idx]), ("Downstream", &ctx.children[idx])] {
        let _ = write!(
            out,
            "<div>\n<h2>{title} <span class=\"muted\">({})</span></h2>\n<ul class=\"links\">\n",
            list.len()
        );
        let mut items: Vec<&LineageNode> = list.iter().map(|&i| &ctx.graph.nodes[i]).collect();
        items.sort_by(|a, b| {
            (type_rank(&a.resource_type), &a.name, &a.id).cmp(&(type_rank(&b.resource_type), &b.name, &b.id))
        });
        for n in items {
            let _ = writeln!(
                out,
                "<li><span class=\"swatch t-{}\"></span>{} <span class=\"muted\">{}</span></li>",
                esc(&n.resource_type),
                ctx.link(&n.id, None),
                esc(&n.resource_type)
            );
        }
        if list.is_empty() {
            out.push_str("<li class=\"muted\">none</li>\n");
        }
        out.push_str("</ul>\n</div>\n");
    }
    out.push_str("</section>\n");

    if let Some(n) = node {
        if let Some(sql) = &n.compiled_code {
            section(&mut out, "compiled-sql", "Compiled SQL");
            pre(&mut out, "sql", sql);
            if let Some(inc) = &n.compiled_incremental_code {
                out.push_str("<details>\n<summary>Compiled SQL of an incremental run</summary>\n");
                pre(&mut out, "sql", inc);
                out.push_str("</details>\n");
            }
            out.push_str("</section>\n");
        }
        if !n.raw_code.trim().is_empty() {
            section(&mut out, "raw-sql", "Source");
            out.push_str("<details>\n<summary>Raw SQL (Jinja)</summary>\n");
            pre(&mut out, "sql", &n.raw_code);
            out.push_str("</details>\n</section>\n");
        }
        section(&mut out, "config", "Config");
        config_table(&mut out, &n.config.0);
        out.push_str("</section>\n");
    }
    if let Some(s) = source {
        section(&mut out, "config", "Config");
        config_table(&mut out, &s.config.0);
        if !s.meta.is_empty() {
            out.push_str("<h3>Meta</h3>\n");
            pre(&mut out, "json", &pretty(&Value::Object(s.meta.clone())));
        }
        out.push_str("</section>\n");
    }
    let _ = write!(
        out,
        "</main>\n<footer><a href=\"../index.html\">← lineage graph</a> · generated {}</footer>\n</body>\n</html>\n",
        esc(&ctx.input.generated_at)
    );
    out
}

fn source_facts(out: &mut String, s: &SourceTable) {
    fact(out, "Source", &esc(&s.source_name));
    fact(out, "Table", &esc(&s.name));
    if !s.loader.is_empty() {
        fact(out, "Loader", &esc(&s.loader));
    }
    if let Some(loc) = &s.external_location {
        fact(out, "External location", &code(loc));
    }
    if !s.source_description.trim().is_empty() {
        fact(out, "Source description", &esc(s.source_description.trim()));
    }
    if !s.tags.is_empty() {
        fact(
            out,
            "Tags",
            &s.tags
                .iter()
                .map(|t| format!("<span class=\"tag\">{}</span>", esc(t)))
                .collect::<String>(),
        );
    }
}

/// The config as a key/value table; objects and lists as pretty JSON.
fn config_table(out: &mut String, config: &modelc_core::JsonMap) {
    if config.is_empty() {
        out.push_str("<p class=\"muted\">No config.</p>\n");
        return;
    }
    out.push_str("<table class=\"config\">\n<tbody>\n");
    let mut keys: Vec<&String> = config.keys().collect();
    keys.sort();
    for k in keys {
        let v = &config[k.as_str()];
        let shown = match v {
            Value::String(s) => code(s),
            Value::Object(_) | Value::Array(_) => format!("<pre class=\"json\"><code>{}</code></pre>", esc(&pretty(v))),
            other => code(&other.to_string()),
        };
        let _ = writeln!(out, "<tr><th>{}</th><td>{shown}</td></tr>", esc(k));
    }
    out.push_str("</tbody>\n</table>\n");
}

fn chart_section(ctx: &Ctx<'_>, out: &mut String, n: &Node) {
    let Some(spec) = chart_spec(n) else { return };
    section(out, "chart", "Chart");
    match ctx.input.charts.get(&n.unique_id) {
        Some(data) => {
            let _ = writeln!(out, "<div class=\"chart-wrap\">{}</div>", render_chart(data));
        }
        None => {
            let _ = writeln!(
                out,
                "<p class=\"note\">A {} chart of <code>{}</code> is declared in meta: build the project to see the chart.</p>",
                spec.kind.as_str(),
                esc(&spec.value)
            );
        }
    }
    let _ = writeln!(out, "<p class=\"muted small\">Query: <code>{}</code></p>", {
        let rel = n
            .relation
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_else(|| n.name.clone());
        esc(&spec.query(&rel))
    });
    out.push_str("</section>\n");
}

fn columns_section(
    ctx: &Ctx<'_>,
    out: &mut String,
    ln: &LineageNode,
    node: Option<&Node>,
    source: Option<&SourceTable>,
) {
    let yaml: &[ColumnInfo] = node
        .map(|n| n.columns.as_slice())
        .or(source.map(|s| s.columns.as_slice()))
        .unwrap_or_default();
    let cols = merged_columns(&ln.id, yaml, &ln.columns, ctx.input.catalog);
    if cols.is_empty() {
        return;
    }
    let tests = ctx.tests_of.get(ln.id.as_str()).map(Vec::as_slice).unwrap_or_default();
    section(out, "columns", "Columns");
    out.push_str(
        "<table class=\"columns\">\n<thead><tr><th>Column</th><th>Type</th><th>Description</th><th>Tests</th>\
         <th>Lineage</th></tr></thead>\n<tbody>\n",
    );
    for c in cols {
        let data_type = ctx
            .input
            .catalog
            .and_then(|cat| cat.column_type(&ln.id, &c.name))
            .map(str::to_string)
            .or_else(|| c.yaml.and_then(|y| y.data_type.clone()))
            .or_else(|| c.lineage.and_then(|l| l.data_type.clone()))
            .unwrap_or_default();
        let description = c.yaml.map(|y| y.description.trim()).unwrap_or_default();
        let mut col_tests: Vec<&&Node> = tests
            .iter()
            .filter(|t| {
                t.test
                    .as_ref()
                    .and_then(|i| i.column_name.as_deref())
                    .is_some_and(|name| same_column(name, &c.name))
            })
            .collect();
        col_tests.sort_by(|a, b| (test_label(a), &a.unique_id).cmp(&(test_label(b), &b.unique_id)));
        let tests_html: Vec<String> = col_tests
            .iter()
            .map(|t| {
                format!(
                    "<a class=\"test\" href=\"{}\" title=\"{}\">{}</a>",
                    esc(&page_file(&t.unique_id)),
                    esc(&t.name),
                    esc(&test_label(t))
                )
            })
            .collect();
        let lineage_html = c.lineage.map(|l| lineage_cell(ctx, l)).unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr id=\"{}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{lineage_html}</td></tr>",
            esc(&col_anchor(&c.name)),
            esc(&c.name),
            esc(&data_type),
            esc(description),
            tests_html.join(" ")
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// A test's `column_name` names `column`: equal ignoring ASCII case, or equal once
/// the test's double-quoted identifier is unquoted.
fn same_column(test_column: &str, column: &str) -> bool {
    let t = test_column.trim();
    if t.eq_ignore_ascii_case(column) {
        return true;
    }
    t.len() >= 2
        && t.starts_with('"')
        && t.ends_with('"')
        && t[1..t.len() - 1].replace("\"\"", "\"").eq_ignore_ascii_case(column)
}

fn lineage_cell(ctx: &Ctx<'_>, l: &crate::LineageColumn) -> String {
    let mut parts: Vec<String> = vec![format!("<span class=\"transform\">{}</span>", esc(&l.transform))];
    let sources: Vec<String> = l
        .sources
        .iter()
        .map(|s| match ctx.split_column_ref(s) {
            Some((id, col)) => {
                let name = ctx.node(id).map_or(id, |n| n.name.as_str());
                format!(
                    "<a class=\"col-ref\" href=\"{}#{}\" title=\"{}\">{}.{}</a>",
                    esc(&page_file(id)),
                    esc(&col_anchor(col)),
                    esc(s),
                    esc(name),
                    esc(col)
                )
            }
            None => code(s),
        })
        .collect();
    if !sources.is_empty() {
        parts.push(format!("← {}", sources.join(", ")));
    }
    if let Some(u) = &l.unresolved {
        parts.push(format!("<span class=\"unresolved\">unresolved: {}</span>", esc(u)));
    }
    parts.join(" ")
}

/// Writes `index.html`, `assets/` and `nodes/<id>.html` for every node and source
/// under `dir` (created if needed). Pages a previous run left for nodes that no
/// longer exist are removed; other files in `dir` are left alone.
pub fn write_site(dir: &Path, input: &SiteInput) -> io::Result<SiteStats> {
    let ctx = Ctx::new(input);
    let nodes_dir = dir.join("nodes");
    let assets_dir = dir.join("assets");
    std::fs::create_dir_all(&nodes_dir)?;
    std::fs::create_dir_all(&assets_dir)?;
    std::fs::write(assets_dir.join("site.css"), SITE_CSS)?;
    std::fs::write(assets_dir.join("graph.js"), GRAPH_JS)?;
    let mut written = BTreeSet::new();
    for (i, n) in ctx.graph.nodes.iter().enumerate() {
        let file = page_file(&n.id);
        std::fs::write(nodes_dir.join(&file), node_html(&ctx, i))?;
        written.insert(file);
    }
    for entry in std::fs::read_dir(&nodes_dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".html") && !written.contains(&name) && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    std::fs::write(dir.join("index.html"), index_html(&ctx))?;
    Ok(SiteStats {
        pages: written.len() + 1,
        nodes: ctx.graph.nodes.len(),
        edges: ctx.graph.edges.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let j = script_json(&json!({"d": "</script><!-- & \u{2028}"}));
        assert!(!j.contains('<') && !j.contains('>') && !j.contains('&'));
        let back: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(back["d"], "</script><!-- & \u{2028}");
    }

    #[test]
    fn safe_names_are_distinct_and_portable() {
        assert_eq!(safe_name("model.lending.fact_loans"), "model.lending.fact_loans");
        assert_eq!(safe_name("model.p.a b/c"), "model.p.a~20b~2Fc");
        assert_ne!(safe_name("a~20"), safe_name("a "));
        assert_eq!(safe_name("../x"), "~..~2Fx");
        let long = "test.p.".to_string() + &"x".repeat(300);
        let s = safe_name(&long);
        assert!(s.len() <= 180);
        assert_ne!(s, safe_name(&(long + "y")));
        assert_eq!(node_page("seed.p.é"), "nodes/seed.p.~C3~A9.html");
    }
}
