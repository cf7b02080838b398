//! The static docs site: pages of the example project, embedded graph data, chart
//! specs of the finance marts, and escaping of hostile project text.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use modelc_compile::{compile, CompileOptions, Project};
use modelc_docs::site::{node_page, render_chart};
use modelc_docs::{chart_spec, write_site, ChartData, ChartKind, SiteInput};

fn example() -> Project {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    compile(&root, &CompileOptions::default())
        .project
        .expect("example compiles")
}

/// A fresh folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "modelc-site-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn input(project: &Project) -> SiteInput<'_> {
    SiteInput {
        project,
        catalog: None,
        charts: BTreeMap::new(),
        generated_at: "2025-01-01T00:00:00Z".into(),
    }
}

/// The JSON inlined in `index.html` for the graph.
fn graph_data(index: &str) -> serde_json::Value {
    let start = index
        .find("<script id=\"graph-data\" type=\"application/json\">")
        .unwrap();
    let body = &index[start..];
    let body = &body[body.find('>').unwrap() + 1..];
    let end = body.find("</script>").unwrap();
    serde_json::from_str(&body[..end]).unwrap()
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn site_of_the_example_project() {
    let p = example();
    let g = modelc_docs::lineage_graph(&p, None);
    let tmp = TempDir::new("example");
    // A page a previous run left for a node that no longer exists.
    std::fs::create_dir_all(tmp.0.join("nodes")).unwrap();
    std::fs::write(tmp.0.join("nodes/model.lending.gone.html"), "stale").unwrap();
    std::fs::write(tmp.0.join("keep.txt"), "not ours").unwrap();

    let stats = write_site(&tmp.0, &input(&p)).unwrap();
    assert_eq!(stats.nodes, g.nodes.len());
    assert_eq!(stats.edges, g.edges.len());
    // A page per node, source and exposure, and the index.
    assert_eq!(stats.pages, p.nodes.len() + p.sources.len() + p.exposures.len() + 1);
    assert!(!tmp.0.join("nodes/model.lending.gone.html").exists());
    assert!(tmp.0.join("keep.txt").exists());
    assert!(tmp.0.join("assets/site.css").exists() && tmp.0.join("assets/graph.js").exists());
    for id in p.nodes.keys().chain(p.sources.keys()) {
        assert!(tmp.0.join(node_page(id)).is_file(), "no page for {id}");
    }

    let index = read(&tmp.0, "index.html");
    let data = graph_data(&index);
    let nodes = data["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), g.nodes.len());
    assert_eq!(data["edges"].as_array().unwrap().len(), g.edges.len());
    for n in nodes {
        let page = n["href"].as_str().unwrap();
        assert!(tmp.0.join(page).is_file(), "{page}");
    }
    // Every edge points right: parents are in earlier layers.
    for e in data["edges"].as_array().unwrap() {
        let (a, b) = (
            &nodes[e[0].as_u64().unwrap() as usize],
            &nodes[e[1].as_u64().unwrap() as usize],
        );
        assert!(
            a["x"].as_f64().unwrap() < b["x"].as_f64().unwrap(),
            "{} -> {}",
            a["id"],
            b["id"]
        );
    }
    assert!(index.contains("<svg id=\"graph\""));
    assert!(index.contains("<script src=\"assets/graph.js\"></script>"));
    assert!(index.contains("2025-01-01T00:00:00Z"));
    // The list works without JavaScript.
    assert!(index.contains("<a href=\"nodes/model.lending.fact_loans.html\">fact_loans</a>"));

    // A mart: compiled SQL, column lineage linking to the upstream column, chart note.
    let mart = read(&tmp.0, "nodes/model.lending.default_rate_by_industry_risk_band.html");
    let node = &p.nodes["model.lending.default_rate_by_industry_risk_band"];
    let compiled = node.compiled_code.as_deref().unwrap();
    assert!(mart.contains(&modelc_docs::site::esc(compiled.trim_end())));
    assert!(mart.contains("href=\"model.lending.fact_loans.html#col-industry\""));
    assert!(mart.contains("<tr id=\"col-default_rate\">"));
    assert!(mart.contains("build the project to see the chart"));
    assert!(mart.contains("href=\"../index.html\""));
    // Upstream and downstream.
    assert!(mart.contains("<a href=\"model.lending.fact_loans.html\""));
    assert!(mart.contains("test.lending.unique_combination_"));

    // Column tests on a core model.
    let facts = read(&tmp.0, "nodes/model.lending.fact_loans.html");
    let not_null = p
        .nodes
        .values()
        .find(|n| {
            n.test.as_ref().is_some_and(|t| {
                t.name.as_deref() == Some("not_null")
                    && t.attached_node.as_deref() == Some("model.lending.fact_loans")
                    && t.column_name.as_deref() == Some("risk_band")
            })
        })
        .unwrap();
    let row = facts
        .split("<tr id=\"col-risk_band\">")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(row.contains(&format!("href=\"{}.html\"", not_null.unique_id)), "{row}");
    assert!(row.contains(">not_null</a>"));

    // A source page.
    let (sid, _) = p.sources.iter().next().unwrap();
    let source = read(&tmp.0, &node_page(sid));
    assert!(source.contains("badge t-source"));

    // Deterministic: a second run writes the same bytes.
    let again = TempDir::new("again");
    write_site(&again.0, &input(&p)).unwrap();
    assert_eq!(read(&again.0, "index.html"), index);
    assert_eq!(read(&again.0, "nodes/model.lending.fact_loans.html"), facts);
}

#[test]
fn chart_specs_of_the_finance_marts() {
    let p = example();
    let mut specs = Vec::new();
    for n in p.nodes.values() {
        if let Some(spec) = chart_spec(n) {
            let rel = n.relation.as_ref().unwrap().to_string();
            specs.push(format!(
                "{} [{}] {}\n  {}",
                n.name,
                spec.kind.as_str(),
                spec.display_title(),
                spec.query(&rel)
            ));
        }
    }
    insta::assert_snapshot!("chart_specs", specs.join("\n"));
    let heat = chart_spec(&p.nodes["model.lending.default_rate_by_industry_risk_band"]).unwrap();
    assert_eq!(heat.kind, ChartKind::Heatmap);
    assert_eq!((heat.x.as_str(), heat.y.as_deref()), ("risk_band", Some("industry")));
    assert_eq!(
        chart_spec(&p.nodes["model.lending.daily_loan_applications"]).map(|s| s.kind),
        Some(ChartKind::Line)
    );
    assert_eq!(
        chart_spec(&p.nodes["model.lending.default_rate_by_risk_band"]).map(|s| s.kind),
        Some(ChartKind::Bar)
    );
    assert!(chart_spec(&p.nodes["model.lending.fact_loans"]).is_none());
    let queries = modelc_docs::chart_queries(&p);
    assert_eq!(queries.len(), 4);
    assert!(queries
        .iter()
        .all(|(id, spec, sql)| specs.iter().any(|s| s.contains(sql.as_str()))
            && *spec == chart_spec(&p.nodes[id]).unwrap()));
}

#[test]
fn charts_with_data_are_drawn_on_the_page() {
    let p = example();
    let id = "model.lending.default_rate_by_industry_risk_band";
    let spec = chart_spec(&p.nodes[id]).unwrap();
    let mut rows = Vec::new();
    for band in ["A", "B", "C", "D", "E"] {
        for (i, industry) in ["Construction", "Healthcare", "Retail & <Wholesale>"]
            .iter()
            .enumerate()
        {
            let rate = if band == "E" && i == 0 {
                None
            } else {
                Some(format!("0.0{i}{}", band.len()))
            };
            rows.push(vec![Some(band.to_string()), Some(industry.to_string()), rate]);
        }
    }
    let mut site = input(&p);
    site.charts.insert(id.into(), ChartData { spec, rows });
    let tmp = TempDir::new("chart");
    write_site(&tmp.0, &site).unwrap();
    let page = read(&tmp.0, &node_page(id));
    assert!(!page.contains("build the project to see the chart"));
    assert_eq!(page.matches("<g class=\"cell\"").count(), 15);
    assert!(page.contains("data-x=\"A\" data-y=\"Retail &amp; &lt;Wholesale&gt;\""));
    assert!(!page.contains("<Wholesale>"));
    let svg = render_chart(&site.charts[id]);
    assert!(page.contains(&svg));
}

/// A small project whose text tries to break out of the HTML and the script data.
fn write_hostile_project(dir: &Path) {
    let files = [
        ("project.yml", "name: evil\nduckdb:\n  path: evil.duckdb\n"),
        (
            "models/payload.sql",
            "-- </script><script>alert(3)</script>\nselect 1 as \"\"\"<b>\", '<script>alert(4)</script>' as txt\n",
        ),
        (
            "models/downstream.sql",
            "select \"\"\"<b>\" as copied from {{ ref('payload') }}\n",
        ),
        (
            "models/schema.yml",
            r#"version: 2
models:
  - name: payload
    description: "<script>alert(1)</script> & 'quotes' \"double\""
    config:
      meta:
        owner: "</script><script>alert(2)</script>"
        modelc_chart: {type: bar, x: '"<b>', value: txt, title: "<script>alert(5)</script>"}
    columns:
      - name: '"<b>'
        description: "<img src=x onerror=alert(6)>"
        data_type: "<i>int</i>"
        data_tests: [not_null]
"#,
        ),
    ];
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

#[test]
fn hostile_text_is_escaped_everywhere() {
    let proj_dir = TempDir::new("hostile-project");
    write_hostile_project(&proj_dir.0);
    let compiled = compile(&proj_dir.0, &CompileOptions::default());
    let p = compiled.project.unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
    let id = "model.evil.payload";
    let spec = chart_spec(&p.nodes[id]).expect("chart spec");
    let mut site = input(&p);
    site.charts.insert(
        id.into(),
        ChartData {
            spec,
            rows: vec![vec![Some("<script>alert(7)</script>".into()), Some("1".into())]],
        },
    );
    let out = TempDir::new("hostile-site");
    let stats = write_site(&out.0, &site).unwrap();
    assert_eq!(stats.pages, p.nodes.len() + 1);

    let mut files = vec![out.0.join("index.html")];
    for e in std::fs::read_dir(out.0.join("nodes")).unwrap() {
        files.push(e.unwrap().path());
    }
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for bad in ["<script>alert", "<b>", "<img", "<i>int", "alert(1)</script>"] {
            assert!(!text.contains(bad), "{} contains {bad}", f.display());
        }
        // The only script elements are ours.
        let scripts = text.matches("<script").count();
        let expected = if f.ends_with("index.html") { 2 } else { 0 };
        assert_eq!(scripts, expected, "{}", f.display());
    }
    let page = read(&out.0, &node_page(id));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;quotes&#39; &quot;double&quot;"));
    assert!(page.contains("<code>&quot;&lt;b&gt;</code>"));
    assert!(page.contains("&lt;img src=x onerror=alert(6)&gt;"));
    assert!(page.contains("&lt;i&gt;int&lt;/i&gt;"));
    assert!(page.contains("&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(page.contains("&lt;script&gt;alert(5)&lt;/script&gt;"));
    assert!(page.contains("&lt;script&gt;alert(7)&lt;/script&gt;"));
    // The column's test is listed on its row.
    let row = page
        .split("<tr id=\"col-")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(row.contains(">not_null</a>"), "{row}");

    // The graph data cannot close its script element, and still parses.
    let index = read(&out.0, "index.html");
    let start = index.find("<script id=\"graph-data\"").unwrap();
    let end = start + index[start..].find("</script>").unwrap();
    let embedded = &index[start..end];
    assert!(!embedded[1..].contains("</script") && !embedded[1..].contains("<!--"));
    let data = graph_data(&index);
    assert_eq!(data["nodes"].as_array().unwrap().len(), p.nodes.len());
}

#[test]
fn column_types_come_from_the_catalog() {
    use modelc_docs::catalog::{Catalog, ColumnRow};
    let p = example();
    let id = "model.lending.fact_loans";
    let rel = p.nodes[id].relation.clone().unwrap();
    let row = |column: &str, index: u32, data_type: &str| ColumnRow {
        database: rel.database.clone(),
        schema: rel.schema.clone(),
        table: rel.identifier.clone(),
        table_type: "BASE TABLE".into(),
        column: column.into(),
        index,
        data_type: data_type.into(),
    };
    let catalog = Catalog::from_rows(
        &p,
        &[row("only_in_db", 1, "DECIMAL(14,2)"), row("RISK_BAND", 2, "VARCHAR")],
    );
    assert!(catalog.nodes.contains_key(id));
    let mut site = input(&p);
    site.catalog = Some(&catalog);
    let tmp = TempDir::new("catalog");
    write_site(&tmp.0, &site).unwrap();
    let page = read(&tmp.0, &node_page(id));
    assert!(page.contains("<dt>In the database</dt><dd>BASE TABLE</dd>"));
    let row_of = |col: &str| {
        page.split(&format!("<tr id=\"col-{col}\">"))
            .nth(1)
            .unwrap_or_else(|| panic!("no row {col}"))
            .split("</tr>")
            .next()
            .unwrap()
            .to_string()
    };
    assert!(row_of("risk_band").contains("<td>VARCHAR</td>"));
    assert!(row_of("only_in_db").contains("<td>DECIMAL(14,2)</td>"));
    // Database order first.
    assert!(page.find("col-only_in_db").unwrap() < page.find("col-risk_band").unwrap());
}
