//! Unit tests (`unit_tests:` in YAML, dbt 1.8+): a model's SQL run on fixed input
//! rows, its output compared with the rows expected. Each is a node
//! (`unit_test.<project>.<model>.<name>`) and a child of its model in the graph, so
//! selecting the model selects it, as in dbt; `modelc-exec` runs it on a throw-away
//! in-memory DuckDB, before the model in a `build`.
//!
//! [`build`] checks each against the project (the model exists; every input is a
//! `ref` or `source` the model reads, and every one it reads is given; fixture files
//! exist) and makes its node; [`finish`] gives it the model's compiled SQL reading
//! the fixtures, and the columns known of each input.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use modelc_core::{
    did_you_mean, quote_ident, DependsOn, Diagnostic, Fixture, FixtureRows, JsonMap, Node, NodeConfig, ResourceType,
    SourceTable, UnitTestSpec,
};
use modelc_project::{RowData, Rows, UnitTestPatch};

use crate::analyze::Columns;
use crate::exposures::{parse_call, Call};
use crate::resolve::Deps;

/// Makes the unit test nodes of `files` ((property file, its unit tests)) and adds
/// them to `nodes`; problems are errors at their YAML line.
pub(crate) fn build(
    project: &str,
    (root, test_paths): (&Path, &[String]),
    files: &[(String, Vec<UnitTestPatch>)],
    nodes: &mut BTreeMap<String, Node>,
    sources: &BTreeMap<String, SourceTable>,
    deps: &HashMap<String, Deps>,
    diags: &mut Vec<Diagnostic>,
) {
    for (file, patches) in files {
        for p in patches {
            let at = |line: usize, message: String| Diagnostic::error("unit-test", message).at(file, line, 1);
            let what = format!("unit test '{}'", p.name);
            let model = nodes
                .values()
                .find(|n| n.resource_type == ResourceType::Model && n.package_name == project && n.name == p.model);
            let Some(model) = model else {
                let names = nodes
                    .values()
                    .filter(|n| n.resource_type == ResourceType::Model)
                    .map(|n| n.name.as_str());
                let mut d = at(
                    p.line,
                    format!("{what} tests model '{}', which does not exist", p.model),
                );
                if let Some(hint) = did_you_mean(&p.model, names) {
                    d = d.with_help(format!("did you mean '{hint}'?"));
                }
                diags.push(d);
                continue;
            };
            let (refs, srcs) = deps.get(&model.unique_id).cloned().unwrap_or_default();
            let mut given = Vec::new();
            let mut named = Vec::new();
            let mut ok = true;
            for (i, rows) in p.given.iter().enumerate() {
                let target = match parse_call(&rows.input) {
                    _ if rows.input.trim() == "this" => Some(model.unique_id.clone()),
                    Some(Call::Ref(package, name)) => nodes
                        .values()
                        .filter(|n| refs.contains(&n.unique_id) && n.name == name)
                        .find(|n| package.as_ref().is_none_or(|p| *p == n.package_name))
                        .map(|n| n.unique_id.clone()),
                    Some(Call::Source(source, table)) => sources
                        .values()
                        .find(|s| srcs.contains(&s.unique_id) && s.source_name == source && s.name == table)
                        .map(|s| s.unique_id.clone()),
                    None => {
                        diags.push(at(
                            rows.line,
                            format!(
                                "{what}: input '{}' is not ref('...'), source('...', '...') or this",
                                rows.input
                            ),
                        ));
                        ok = false;
                        continue;
                    }
                };
                let Some(target) = target else {
                    diags.push(at(
                        rows.line,
                        format!("{what}: model '{}' does not read {}", p.model, rows.input),
                    ));
                    ok = false;
                    continue;
                };
                let relation = nodes
                    .get(&target)
                    .and_then(|n| n.relation.clone())
                    .or_else(|| sources.get(&target).map(|s| s.relation.clone()));
                match fixture(rows, &format!("__modelc_given_{i}"), root, test_paths) {
                    Ok(f) => given.push(Fixture { relation, ..f }),
                    Err(message) => {
                        diags.push(at(rows.line, format!("{what}: {message}")));
                        ok = false;
                    }
                }
                named.push(target);
            }
            for missing in refs.iter().chain(&srcs).filter(|id| !named.contains(id)) {
                let call = match (nodes.get(missing), sources.get(missing)) {
                    (Some(n), _) => format!("ref('{}')", n.name),
                    (_, Some(s)) => format!("source('{}', '{}')", s.source_name, s.name),
                    _ => missing.clone(),
                };
                diags.push(at(
                    p.line,
                    format!(
                        "{what} gives no rows for {call}, which model '{}' reads (add it under 'given:')",
                        p.model
                    ),
                ));
                ok = false;
            }
            let map = |key: &str| match p.overrides.get(key) {
                Some(serde_json::Value::Object(m)) => m.clone(),
                _ => JsonMap::new(),
            };
            let (vars, env, mut macros) = (map("vars"), map("env_vars"), map("macros"));
            let incremental = macros
                .remove("is_incremental")
                .is_some_and(|v| v.as_bool().unwrap_or(false));
            let env_vars: BTreeMap<String, String> = env
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect();
            for key in p
                .overrides
                .keys()
                .filter(|k| !matches!(k.as_str(), "macros" | "vars" | "env_vars"))
            {
                diags.push(at(
                    p.line,
                    format!("{what}: 'overrides: {key}' is not one of macros, vars, env_vars"),
                ));
                ok = false;
            }
            let expect = match fixture(&p.expect, "__modelc_expected", root, test_paths) {
                Ok(f) => f,
                Err(message) => {
                    diags.push(at(p.expect.line, format!("{what}: {message}")));
                    continue;
                }
            };
            if !ok {
                continue;
            }
            let mut node = unit_test_node(project, file, p, model, given, expect, incremental);
            if let Some(spec) = &mut node.unit_test {
                spec.vars = vars;
                spec.env_vars = env_vars;
                spec.macros = macros;
            }
            nodes.insert(node.unique_id.clone(), node);
        }
    }
}

/// The node of a checked unit test.
fn unit_test_node(
    project: &str,
    file: &str,
    p: &UnitTestPatch,
    model: &Node,
    given: Vec<Fixture>,
    expect: Fixture,
    incremental: bool,
) -> Node {
    let mut config = p.config.clone();
    config.insert("materialized".into(), "unit".into());
    Node {
        unique_id: format!("unit_test.{project}.{}.{}", model.name, p.name),
        name: p.name.clone(),
        resource_type: ResourceType::UnitTest,
        package_name: project.to_string(),
        path: file.to_string(),
        original_file_path: file.to_string(),
        fqn: vec![project.to_string(), model.name.clone(), p.name.clone()],
        raw_code: String::new(),
        checksum: crate::nodes::checksum(&format!("{p:?}")),
        config: NodeConfig(config),
        description: p.description.clone(),
        columns: Vec::new(),
        constraints: Vec::new(),
        patch_path: None,
        refs: Vec::new(),
        sources: Vec::new(),
        depends_on: DependsOn {
            nodes: vec![model.unique_id.clone()],
            ..DependsOn::default()
        },
        relation: None,
        compiled_code: None,
        compiled_incremental_code: None,
        test: None,
        defined_at_line: p.line,
        late_render: false,
        version: None,
        latest_version: None,
        pre_hooks: Vec::new(),
        post_hooks: Vec::new(),
        unit_test: Some(Box::new(UnitTestSpec {
            model: model.unique_id.clone(),
            given,
            expect,
            incremental,
            ..UnitTestSpec::default()
        })),
    }
}

/// The rows of a `given:` entry or of `expect:`, loaded as `table`.
fn fixture(rows: &Rows, table: &str, root: &Path, test_paths: &[String]) -> Result<Fixture, String> {
    let rows_of = match &rows.data {
        RowData::Dict(dicts) => FixtureRows::Csv(dicts_to_csv(dicts)),
        RowData::Csv(text) => FixtureRows::Csv(text.clone()),
        RowData::Sql(text) => FixtureRows::Sql(text.clone()),
        RowData::Fixture { format, name } => {
            let candidates: Vec<std::path::PathBuf> = test_paths
                .iter()
                .map(|t| root.join(t).join("fixtures").join(format!("{name}.{format}")))
                .collect();
            let Some(path) = candidates.iter().find(|p| p.is_file()) else {
                let shown: Vec<String> = test_paths
                    .iter()
                    .map(|t| format!("{t}/fixtures/{name}.{format}"))
                    .collect();
                return Err(format!("fixture '{name}' not found (looked for {})", shown.join(", ")));
            };
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if format == "csv" {
                FixtureRows::Csv(text)
            } else {
                FixtureRows::Sql(text)
            }
        }
    };
    Ok(Fixture {
        input: rows.input.clone(),
        line: rows.line,
        table: table.to_string(),
        relation: None,
        rows: rows_of,
        columns: None,
    })
}

/// `format: dict` rows as CSV: the columns in the order they first appear, a
/// missing value (or `null`) an empty field.
fn dicts_to_csv(dicts: &[JsonMap]) -> String {
    let mut columns: Vec<&String> = Vec::new();
    for d in dicts {
        for k in d.keys() {
            if !columns.contains(&k) {
                columns.push(k);
            }
        }
    }
    let field = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => format!("\"{}\"", s.replace('"', "\"\"")),
        Some(other) => other.to_string(),
    };
    let mut out = columns
        .iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for d in dicts {
        out.push_str(&columns.iter().map(|c| field(d.get(*c))).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// What [`finish`] renders a model again with (for unit tests that override
/// `vars` or `env_vars`).
pub(crate) struct Renderer<'a> {
    pub(crate) jinja: &'a modelc_template::Jinja,
    pub(crate) deps: &'a HashMap<String, Deps>,
    pub(crate) sources: &'a BTreeMap<String, SourceTable>,
    pub(crate) empty: Option<crate::resolve::Empty>,
}

/// Gives each unit test its model's compiled SQL (the incremental variant when it
/// overrides `is_incremental`; rendered again when it overrides `vars`,
/// `env_vars` or other macros) reading its fixtures, its `format: sql` fixtures
/// rendered, and the known columns of each input (`columns`: the analysis's, by
/// relation).
pub(crate) fn finish(
    nodes: &mut BTreeMap<String, Node>,
    columns: &Columns,
    renderer: &Renderer<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    let ids: Vec<String> = nodes
        .values()
        .filter(|n| n.resource_type == ResourceType::UnitTest)
        .map(|n| n.unique_id.clone())
        .collect();
    for id in ids {
        let Some(test) = nodes.get(&id) else { continue };
        let Some(spec) = &test.unit_test else { continue };
        let Some(model) = nodes.get(&spec.model) else { continue };
        let compiled = if spec.incremental {
            model
                .compiled_incremental_code
                .as_ref()
                .or(model.compiled_code.as_ref())
        } else {
            model.compiled_code.as_ref()
        };
        let at = |message: String| {
            Diagnostic::error("unit-test", format!("unit test '{}': {message}", test.name)).at(
                &test.original_file_path,
                test.defined_at_line,
                1,
            )
        };
        let mut render_error = None;
        let mut sql = if spec.vars.is_empty() && spec.env_vars.is_empty() && spec.macros.is_empty() {
            compiled.cloned().unwrap_or_default()
        } else {
            match render_again(model, spec, renderer, nodes) {
                Ok(sql) => sql,
                // Only running tells (dbt renders the test then): the test's error.
                Err(message) if model.late_render => {
                    render_error = Some(message);
                    String::new()
                }
                Err(message) => {
                    diags.push(at(message));
                    continue;
                }
            }
        };
        let fixtures: Result<Vec<Option<String>>, (String, bool)> = spec
            .given
            .iter()
            .chain([&spec.expect])
            .map(|f| render_fixture(f, test, renderer.jinja))
            .collect();
        let fixtures = match fixtures {
            Ok(f) => f,
            Err((message, true)) => {
                render_error.get_or_insert(message);
                Vec::new()
            }
            Err((message, false)) => {
                diags.push(at(message));
                continue;
            }
        };
        let mut relations: Vec<(String, String)> = spec
            .given
            .iter()
            .filter_map(|f| Some((f.table.clone(), f.relation.as_ref()?.to_string())))
            .collect();
        // Longest first: no relation's text is then replaced inside another's.
        relations.sort_by_key(|(_, rel)| std::cmp::Reverse(rel.len()));
        for (table, rel) in &relations {
            sql = sql.replace(rel.as_str(), &quote_ident(table));
        }
        // An ephemeral input: its CTE reads the rows instead.
        for f in spec.given.iter().filter(|f| f.relation.is_none()) {
            let Some(Call::Ref(_, name)) = parse_call(&f.input) else {
                continue;
            };
            let rows = format!("select * from {}", quote_ident(&f.table));
            if let Some(replaced) = crate::resolve::replace_cte(&sql, &crate::resolve::cte_name(&name), &rows) {
                sql = replaced;
            }
        }
        let known: Vec<Option<Vec<String>>> = spec
            .given
            .iter()
            .map(|f| {
                let rel = f.relation.as_ref()?;
                Columns::keys(rel).iter().find_map(|k| columns.catalog.get(k)).cloned()
            })
            .collect();
        let Some(test) = nodes.get_mut(&id) else { continue };
        test.compiled_code = Some(sql);
        if let Some(spec) = &mut test.unit_test {
            for (f, cols) in spec.given.iter_mut().zip(known) {
                f.columns = cols;
            }
            for (f, rendered) in spec.given.iter_mut().chain([&mut spec.expect]).zip(fixtures) {
                if let Some(sql) = rendered {
                    f.rows = FixtureRows::Sql(sql);
                }
            }
            spec.render_error = render_error;
        }
    }
}

/// A `format: sql` fixture's query rendered (dbt compiles it as a node's SQL);
/// `None` for other fixtures and SQL without Jinja. An error says whether only
/// running can tell (the template renders in dbt's parse phase): the test's error
/// then, as in dbt.
fn render_fixture(f: &Fixture, test: &Node, jinja: &modelc_template::Jinja) -> Result<Option<String>, (String, bool)> {
    let FixtureRows::Sql(sql) = &f.rows else {
        return Ok(None);
    };
    if !sql.contains("{{") && !sql.contains("{%") {
        return Ok(None);
    }
    let what = if f.input.is_empty() {
        "the expected rows".to_string()
    } else {
        format!("the rows of {}", f.input)
    };
    let mut ctx = crate::node_context(test, false);
    let out = jinja.render(&test.original_file_path, sql, &ctx).map_err(|e| {
        ctx.parse_only = true;
        let late = jinja.render(&test.original_file_path, sql, &ctx).is_ok();
        (format!("{what}: {}", e.message), late)
    })?;
    if !out.refs.is_empty() || !out.sources.is_empty() {
        return Err((format!("{what}: a fixture's SQL cannot call ref() or source()"), false));
    }
    Ok(Some(out.sql))
}

/// A unit test's entry in `manifest.json`'s `unit_tests`, as dbt writes it.
pub(crate) fn manifest_json(n: &Node, spec: &UnitTestSpec) -> serde_json::Value {
    let rows = |f: &Fixture| match &f.rows {
        FixtureRows::Csv(text) => serde_json::json!({"format": "csv", "rows": text, "fixture": null}),
        FixtureRows::Sql(text) => serde_json::json!({"format": "sql", "rows": text, "fixture": null}),
    };
    let given: Vec<serde_json::Value> = spec
        .given
        .iter()
        .map(|f| {
            let mut v = rows(f);
            v["input"] = f.input.clone().into();
            v
        })
        .collect();
    let model = spec.model.rsplit('.').next().unwrap_or_default();
    serde_json::json!({
        "name": n.name, "resource_type": "unit_test", "package_name": n.package_name,
        "path": n.path, "original_file_path": n.original_file_path, "unique_id": n.unique_id,
        "fqn": n.fqn, "model": model, "given": given, "expect": rows(&spec.expect),
        "description": n.description,
        "overrides": overrides_json(spec),
        "depends_on": {"macros": [], "nodes": [spec.model]},
        "config": n.config, "checksum": n.checksum, "schema": null, "created_at": 0.0,
        "versions": null, "version": null,
    })
}

/// A unit test's `overrides` as written, `null` when it has none.
fn overrides_json(spec: &UnitTestSpec) -> serde_json::Value {
    let mut macros = spec.macros.clone();
    if spec.incremental {
        macros.insert("is_incremental".into(), true.into());
    }
    if macros.is_empty() && spec.vars.is_empty() && spec.env_vars.is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::json!({"macros": macros, "vars": spec.vars, "env_vars": spec.env_vars})
}

/// The model's SQL rendered with the unit test's `vars`, `env_vars` and `macros`.
fn render_again(
    model: &Node,
    spec: &UnitTestSpec,
    r: &Renderer<'_>,
    nodes: &BTreeMap<String, Node>,
) -> Result<String, String> {
    if model
        .compiled_code
        .as_deref()
        .is_some_and(|c| c.contains("__dbt__cte__"))
    {
        return Err(
            "overriding vars, env_vars or macros of a model that reads ephemeral models is not supported by modelc yet"
                .into(),
        );
    }
    let mut ctx = crate::node_context(model, spec.incremental);
    ctx.vars = spec.vars.clone();
    ctx.env_vars = spec.env_vars.clone();
    ctx.macro_overrides = spec.macros.clone();
    let out = r
        .jinja
        .render(&model.original_file_path, &model.raw_code, &ctx)
        .map_err(|e| format!("rendering model '{}' with its overrides: {}", model.name, e.message))?;
    let (refs, srcs) = r.deps.get(&model.unique_id).cloned().unwrap_or_default();
    Ok(crate::resolve::substitute(
        &out.sql,
        model,
        (&refs, &srcs),
        nodes,
        r.sources,
        r.empty,
    ))
}
