//! Builds the nodes of a project from its files, before rendering: names, fqns,
//! folder and YAML configs, descriptions, columns, and generic test nodes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use modelc_core::{
    merge_config, ColumnInfo, DbConfig, DependsOn, Diagnostic, JsonMap, Node, NodeConfig, ResourceType, SourceTable,
    TestInfo,
};
use modelc_project::{ColumnPatch, NodePatch, ProjectInput, SourceFile, TestEntry, VersionPatch};
use modelc_template::{preprocess, TestModel};
use rayon::prelude::*;
use serde_json::Value;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use crate::configs::folder_config;

/// A node plus the template that renders it.
#[derive(Debug, Clone)]
pub struct Shell {
    /// The node, with the config known before rendering.
    pub node: Node,
    /// The Jinja source to render.
    pub template: String,
    /// For a generic test from YAML: the test's name and what it tests, for
    /// [`modelc_template::Jinja::render_builtin_test`].
    pub generic: Option<(String, TestModel)>,
    /// Where the node's YAML config was written, for errors about its values.
    pub yaml: Option<YamlSite>,
}

/// Where a node's config was written in a property file.
#[derive(Debug, Clone, Default)]
pub struct YamlSite {
    /// The property file.
    pub file: String,
    /// The 1-based line of the node's entry.
    pub line: usize,
    /// The line and column of each config key.
    pub keys: Vec<(String, usize, usize)>,
    /// The 1-based line of each declared column's entry.
    pub columns: Vec<(String, usize)>,
}

impl Shell {
    fn new(template: String, node: Node) -> Shell {
        Shell {
            node,
            template,
            generic: None,
            yaml: None,
        }
    }

    /// The shell with where its YAML entry set config.
    fn with_yaml(mut self, patch: Option<(&NodePatch, &str)>) -> Shell {
        self.yaml = patch.map(|(p, file)| YamlSite {
            file: file.to_string(),
            line: p.line,
            keys: p.config_lines.clone(),
            columns: p.columns.iter().map(|c| (c.info.name.clone(), c.line)).collect(),
        });
        self
    }
}

/// Everything built from the files.
#[derive(Debug, Default)]
pub struct Shells {
    /// Nodes to render, in a stable order.
    pub shells: Vec<Shell>,
    /// Source tables.
    pub sources: BTreeMap<String, SourceTable>,
}

pub(crate) fn checksum(text: &str) -> String {
    format!("{:016x}", xxh3_64(text.as_bytes()))
}

#[allow(clippy::too_many_arguments)]
fn new_node(
    rt: ResourceType,
    project: &str,
    name: &str,
    path: &str,
    original_file_path: &str,
    fqn: Vec<String>,
    raw_code: &str,
    config: JsonMap,
) -> Node {
    Node {
        unique_id: format!("{}.{project}.{name}", rt.as_str()),
        name: name.to_string(),
        resource_type: rt,
        package_name: project.to_string(),
        path: path.to_string(),
        original_file_path: original_file_path.to_string(),
        fqn,
        raw_code: raw_code.to_string(),
        checksum: checksum(raw_code),
        config: NodeConfig(config),
        description: String::new(),
        columns: Vec::new(),
        constraints: Vec::new(),
        patch_path: None,
        refs: Vec::new(),
        sources: Vec::new(),
        depends_on: DependsOn::default(),
        relation: None,
        compiled_code: None,
        compiled_incremental_code: None,
        test: None,
        defined_at_line: 1,
        late_render: false,
        version: None,
        latest_version: None,
        pre_hooks: Vec::new(),
        post_hooks: Vec::new(),
        unit_test: None,
    }
}

/// The folder-config trees that configure one project's nodes: its own project
/// file's, then, for a package, the root project's, which wins (as in dbt, where
/// `models: {dbt_utils: {+enabled: false}}` in the root project configures a package).
#[derive(Debug, Clone, Copy)]
struct Trees<'a> {
    own: &'a JsonMap,
    root: Option<&'a JsonMap>,
}

impl Trees<'_> {
    /// The merged folder config of a node under `key` (`models`, `seeds`, ...).
    fn config(&self, key: &str, fqn: &[String]) -> JsonMap {
        let mut config = folder_config(self.own.get(key), fqn);
        if let Some(root) = self.root {
            merge_config(&mut config, &folder_config(root.get(key), fqn));
        }
        config
    }
}

/// A node for a SQL file: named after the file, configured by its folders.
fn file_node(rt: ResourceType, project: &str, trees: Trees, key: &str, f: &SourceFile) -> Node {
    let name = f.stem();
    let fqn = fqn_of(project, f, name);
    let config = trees.config(key, &fqn);
    new_node(rt, project, name, &f.resource_path, &f.path, fqn, &f.text, config)
}

fn fqn_of(project: &str, f: &SourceFile, name: &str) -> Vec<String> {
    let mut fqn = vec![project.to_string()];
    fqn.extend(f.folders());
    fqn.push(name.to_string());
    fqn
}

struct Patches<'a> {
    by_name: HashMap<&'a str, (&'a NodePatch, &'a str)>,
    used: BTreeSet<&'a str>,
    kind: &'static str,
}

impl<'a> Patches<'a> {
    fn new(input: &'a ProjectInput, kind: &'static str, diags: &mut Vec<Diagnostic>) -> Self {
        let mut by_name: HashMap<&str, (&NodePatch, &str)> = HashMap::new();
        for pf in &input.properties {
            let list = match kind {
                "model" => &pf.models,
                "seed" => &pf.seeds,
                "snapshot" => &pf.snapshots,
                _ => &pf.analyses,
            };
            for p in list {
                if let Some((prev, prev_file)) = by_name.get(p.name.as_str()) {
                    diags.push(
                        Diagnostic::error("duplicate-patch", format!("{kind} '{}' is described twice", p.name))
                            .at(&pf.path, p.line, 1)
                            .with_help(format!("the other description is at {prev_file}:{}", prev.line)),
                    );
                    continue;
                }
                by_name.insert(&p.name, (p, &pf.path));
            }
        }
        Patches {
            by_name,
            used: BTreeSet::new(),
            kind,
        }
    }

    fn take(&mut self, name: &str) -> Option<(&'a NodePatch, &'a str)> {
        let found = self.by_name.get(name).copied();
        if let Some((p, _)) = found {
            self.used.insert(&p.name);
        }
        found
    }

    fn warn_unused(&self, diags: &mut Vec<Diagnostic>) {
        let mut unused: Vec<_> = self.by_name.iter().filter(|(n, _)| !self.used.contains(*n)).collect();
        unused.sort_by_key(|(n, _)| **n);
        for (name, (p, file)) in unused {
            if p.relation.is_some() {
                continue;
            }
            diags.push(
                Diagnostic::warning(
                    "patch-without-node",
                    format!(
                        "{} '{name}' is described in YAML but no such {} exists",
                        self.kind, self.kind
                    ),
                )
                .at(*file, p.line, 1),
            );
        }
    }
}

fn apply_patch(node: &mut Node, patch: Option<(&NodePatch, &str)>, project: &str) {
    let Some((p, file)) = patch else { return };
    node.description = p.description.clone();
    merge_config(&mut node.config.0, &p.config);
    node.patch_path = Some(format!("{project}://{file}"));
    node.constraints = p.constraints.clone();
    let declared: Vec<ColumnInfo> = p.columns.iter().map(|c| c.info.clone()).collect();
    if node.columns.is_empty() {
        node.columns = declared;
    } else {
        for c in declared {
            match node.columns.iter_mut().find(|e| e.name.eq_ignore_ascii_case(&c.name)) {
                Some(existing) => *existing = c,
                None => node.columns.push(c),
            }
        }
    }
}

/// Builds every node shell and source table, of the root project and of every
/// installed package.
pub fn build(input: &ProjectInput, db: &DbConfig, diags: &mut Vec<Diagnostic>) -> Shells {
    let mut out = Shells::default();
    build_unit(input, None, db, &mut out, diags);
    for p in &input.packages {
        build_unit(&p.input, Some(&input.config.resource_configs), db, &mut out, diags);
    }
    let mut seen: HashMap<String, String> = HashMap::new();
    out.shells.retain(|s| {
        let id = &s.node.unique_id;
        if let Some(prev) = seen.get(id) {
            let kind = s.node.resource_type;
            diags.push(
                Diagnostic::error("duplicate-name", format!("two {kind}s are named '{}'", s.node.name))
                    .at(&s.node.original_file_path, s.node.defined_at_line, 1)
                    .with_help(format!(
                        "the other one is {prev}; names must be unique within a project"
                    )),
            );
            return false;
        }
        seen.insert(id.clone(), s.node.original_file_path.clone());
        true
    });
    out
}

/// The SQL files of versioned models: file stem (`defined_in`, default
/// `<model>_v<v>`) → the model's YAML entry, the version, and the YAML file.
fn versioned_files(input: &ProjectInput) -> HashMap<String, (&NodePatch, &VersionPatch, &str)> {
    let mut out = HashMap::new();
    for pf in &input.properties {
        for p in pf.models.iter().filter(|p| !p.versions.is_empty()) {
            for v in &p.versions {
                let stem = v.defined_in.clone().unwrap_or_else(|| format!("{}_v{}", p.name, v.v));
                out.insert(stem, (p, v, pf.path.as_str()));
            }
        }
    }
    out
}

/// A version of a versioned model, as dbt builds it: named after the model,
/// `model.<project>.<name>.v<v>`, its relation `<name>_v<v>` unless aliased, the
/// model's YAML under the version's (config, columns less `exclude`, tests).
fn versioned_model(
    project: &str,
    trees: Trees,
    f: &SourceFile,
    p: &NodePatch,
    v: &VersionPatch,
    file: &str,
    tests: &mut Vec<(TestEntry, TestTarget)>,
) -> Node {
    let mut fqn = fqn_of(project, f, &p.name);
    fqn.push(format!("v{}", v.v));
    let config = trees.config("models", &fqn);
    let mut node = new_node(
        ResourceType::Model,
        project,
        &p.name,
        &f.resource_path,
        &f.path,
        fqn,
        &f.text,
        config,
    );
    node.unique_id = format!("model.{project}.{}.v{}", p.name, v.v);
    apply_patch(&mut node, Some((p, file)), project);
    merge_config(&mut node.config.0, &v.config);
    node.columns
        .retain(|c| !v.exclude.iter().any(|e| e.eq_ignore_ascii_case(&c.name)));
    for c in &v.columns {
        match node
            .columns
            .iter_mut()
            .find(|e| e.name.eq_ignore_ascii_case(&c.info.name))
        {
            Some(existing) => *existing = c.info.clone(),
            None => node.columns.push(c.info.clone()),
        }
    }
    if !node.config.0.contains_key("alias") {
        node.config.set("alias", format!("{}_v{}", p.name, v.v));
    }
    let latest = p
        .latest_version
        .clone()
        .or_else(|| p.versions.iter().map(|x| x.v.clone()).max_by(version_order));
    node.version = Some(v.v.clone());
    node.latest_version = latest;
    let label = format!("{}_v{}", p.name, v.v);
    let target = TestTarget {
        file: file.to_string(),
        attached: node.unique_id.clone(),
        call: format!(
            "ref('{}', v={})",
            p.name,
            serde_json::to_string(&v.v).unwrap_or_default()
        ),
        label,
        model: TestModel::Ref(p.name.clone()),
        column: None,
        versioned: true,
    };
    let model_tests = p.tests.iter().chain(&v.tests).map(|e| (e.clone(), None));
    let column_tests = node
        .columns
        .iter()
        .flat_map(|c| {
            p.columns
                .iter()
                .chain(&v.columns)
                .filter(|pc| pc.info.name.eq_ignore_ascii_case(&c.name))
                .flat_map(|pc| pc.tests.iter().map(|e| (e.clone(), Some(pc.info.name.clone()))))
        })
        .collect::<Vec<_>>();
    for (e, column) in model_tests.chain(column_tests) {
        tests.push((
            e,
            TestTarget {
                column,
                ..target.clone()
            },
        ));
    }
    node
}

/// Orders version numbers as numbers where they are (`10` after `9`).
fn version_order(a: &String, b: &String) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

/// Whether a model or test file is empty (or only whitespace): dbt leaves such a
/// node out of every selection, so it never runs; modelc leaves it out too and
/// says so (running it would create nothing, or fail on an empty statement).
fn is_empty(f: &SourceFile, what: &str, diags: &mut Vec<Diagnostic>) -> bool {
    if !f.text.trim().is_empty() {
        return false;
    }
    diags.push(
        Diagnostic::warning("empty-file", format!("{} is empty: no {what} is built from it", f.path))
            .in_file(&f.path)
            .with_help(format!("write the {what}'s SQL in it, or delete it")),
    );
    true
}

/// Builds the nodes of one project (the root or a package) into `out`; `root_rc`
/// is the root project's folder configs when `input` is a package.
fn build_unit(
    input: &ProjectInput,
    root_rc: Option<&JsonMap>,
    db: &DbConfig,
    out: &mut Shells,
    diags: &mut Vec<Diagnostic>,
) {
    let project = input.config.name.as_str();
    let trees = Trees {
        own: &input.config.resource_configs,
        root: root_rc,
    };
    let mut tests: Vec<(TestEntry, TestTarget)> = Vec::new();

    let mut patches = Patches::new(input, "model", diags);
    let versioned = versioned_files(input);
    for f in &input.models {
        if is_empty(f, "model", diags) {
            patches.take(f.stem());
            continue;
        }
        if let Some((p, v, file)) = versioned.get(f.stem()) {
            patches.take(&p.name);
            let node = versioned_model(project, trees, f, p, v, file, &mut tests);
            out.shells.push(Shell::new(f.text.clone(), node));
            continue;
        }
        let mut node = file_node(ResourceType::Model, project, trees, "models", f);
        let name = f.stem();
        let patch = patches.take(name);
        apply_patch(&mut node, patch, project);
        if let Some((p, file)) = patch {
            collect_tests(p, file, &node.unique_id, name, &mut tests);
        }
        out.shells.push(Shell::new(f.text.clone(), node).with_yaml(patch));
    }
    patches.warn_unused(diags);

    let mut patches = Patches::new(input, "analysis", diags);
    for f in &input.analyses {
        let mut node = file_node(ResourceType::Analysis, project, trees, "analyses", f);
        apply_patch(&mut node, patches.take(f.stem()), project);
        out.shells.push(Shell::new(f.text.clone(), node));
    }

    let mut patches = Patches::new(input, "seed", diags);
    for s in &input.seeds {
        let name = s
            .resource_path
            .rsplit('/')
            .next()
            .unwrap_or(&s.resource_path)
            .trim_end_matches(".csv");
        let mut fqn = vec![project.to_string()];
        let mut folders: Vec<String> = s.resource_path.split('/').map(str::to_owned).collect();
        folders.pop();
        fqn.extend(folders);
        fqn.push(name.to_string());
        let mut config = trees.config("seeds", &fqn);
        config.insert("materialized".into(), "seed".into());
        let mut node = new_node(
            ResourceType::Seed,
            project,
            name,
            &s.resource_path,
            &s.path,
            fqn,
            "",
            config,
        );
        node.checksum = checksum(&s.fingerprint);
        node.columns = s
            .header
            .iter()
            .map(|h| ColumnInfo {
                name: h.clone(),
                ..ColumnInfo::default()
            })
            .collect();
        let patch = patches.take(name);
        apply_patch(&mut node, patch, project);
        if let Some((p, file)) = patch {
            collect_tests(p, file, &node.unique_id, name, &mut tests);
        }
        out.shells.push(Shell::new(String::new(), node).with_yaml(patch));
    }
    patches.warn_unused(diags);

    let mut patches = Patches::new(input, "snapshot", diags);
    for f in &input.snapshots {
        let blocks = match preprocess::extract_blocks(&f.text, "snapshot") {
            Ok(b) => b,
            Err((line, msg)) => {
                diags.push(Diagnostic::error("snapshot-block", msg).at(&f.path, line, 1));
                continue;
            }
        };
        for b in blocks {
            let mut fqn = fqn_of(project, f, &b.name);
            fqn.insert(fqn.len() - 1, f.stem().to_string());
            let mut config = trees.config("snapshots", &fqn);
            config.insert("materialized".into(), "snapshot".into());
            let mut node = new_node(
                ResourceType::Snapshot,
                project,
                &b.name,
                &f.resource_path,
                &f.path,
                fqn,
                &b.body,
                config,
            );
            node.defined_at_line = b.line;
            let patch = patches.take(&b.name);
            apply_patch(&mut node, patch, project);
            if let Some((p, file)) = patch {
                collect_tests(p, file, &node.unique_id, &b.name, &mut tests);
            }
            out.shells.push(Shell::new(b.body, node).with_yaml(patch));
        }
    }
    // YAML-defined snapshots (`relation:`).
    for pf in &input.properties {
        for p in pf.snapshots.iter().filter(|p| p.relation.is_some()) {
            if out
                .shells
                .iter()
                .any(|s| s.node.resource_type == ResourceType::Snapshot && s.node.name == p.name)
            {
                continue;
            }
            let rel = p.relation.clone().unwrap_or_default();
            let template = format!("select * from {{{{ {rel} }}}}");
            let resource_path = pf.path.split_once('/').map(|(_, r)| r).unwrap_or(&pf.path).to_string();
            let mut fqn = vec![project.to_string()];
            fqn.push(p.name.clone());
            let mut config = trees.config("snapshots", &fqn);
            config.insert("materialized".into(), "snapshot".into());
            let mut node = new_node(
                ResourceType::Snapshot,
                project,
                &p.name,
                &resource_path,
                &pf.path,
                fqn,
                &template,
                config,
            );
            node.defined_at_line = p.line;
            patches.take(&p.name);
            apply_patch(&mut node, Some((p, &pf.path)), project);
            collect_tests(p, &pf.path, &node.unique_id, &p.name, &mut tests);
            out.shells
                .push(Shell::new(template, node).with_yaml(Some((p, &pf.path))));
        }
    }
    patches.warn_unused(diags);

    for f in &input.singular_tests {
        if is_empty(f, "test", diags) {
            continue;
        }
        let mut node = file_node(ResourceType::Test, project, trees, "data_tests", f);
        node.config.set("materialized", "test");
        node.test = Some(TestInfo {
            name: None,
            namespace: None,
            kwargs: JsonMap::new(),
            column_name: None,
            attached_node: None,
        });
        out.shells.push(Shell::new(f.text.clone(), node));
    }

    build_sources(input, trees, db, out, &mut tests, diags);

    // Thousands in a large project: built in parallel, kept in order.
    out.shells.par_extend(
        tests
            .into_par_iter()
            .map(|(entry, target)| generic_test(project, trees, entry, target)),
    );
}

/// A source's `schema:` or `database:` with its Jinja rendered, as dbt renders
/// them: `target` and `var()` are there (`schema: "{{ target.schema }}"`, so the
/// same source reads the target's schema on every engine).
fn render_source_property(text: &str, db: &DbConfig, vars: &JsonMap) -> Result<String, String> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(text.to_string());
    }
    let mut env = minijinja::Environment::new();
    let vars = vars.clone();
    env.add_function(
        "var",
        move |name: String, default: Option<minijinja::Value>| -> Result<minijinja::Value, minijinja::Error> {
            match (vars.get(&name), default) {
                (Some(v), _) => Ok(minijinja::Value::from(minijinja::value::Serde(v))),
                (None, Some(d)) => Ok(d),
                (None, None) => Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("var '{name}' is not set and has no default"),
                )),
            }
        },
    );
    let target = serde_json::json!({
        "schema": db.schema,
        "database": db.database,
        "name": db.target_name,
        "type": db.engine,
    });
    env.render_str(
        text,
        minijinja::context! { target => minijinja::Value::from(minijinja::value::Serde(target)) },
    )
    .map(|s| s.trim().to_string())
    .map_err(|e| e.to_string())
}

fn build_sources(
    input: &ProjectInput,
    trees: Trees,
    db: &DbConfig,
    out: &mut Shells,
    tests: &mut Vec<(TestEntry, TestTarget)>,
    diags: &mut Vec<Diagnostic>,
) {
    let project = input.config.name.as_str();
    for pf in &input.properties {
        for s in &pf.sources {
            for t in &s.tables {
                let unique_id = format!("source.{project}.{}.{}", s.name, t.name);
                if out.sources.contains_key(&unique_id) {
                    diags.push(
                        Diagnostic::error(
                            "duplicate-source",
                            format!("source table '{}.{}' is defined twice", s.name, t.name),
                        )
                        .at(&pf.path, t.line, 1),
                    );
                    continue;
                }
                let fqn = vec![project.to_string(), s.name.clone(), t.name.clone()];
                let mut config = trees.config("sources", &fqn);
                merge_config(&mut config, &s.config);
                merge_config(&mut config, &t.config);
                let config = NodeConfig(config);
                if !config.enabled() {
                    continue;
                }
                let meta = config.meta();
                let identifier = t.identifier.clone().unwrap_or_else(|| t.name.clone());
                let external_location = config
                    .get_str("external_location")
                    .or_else(|| meta.get("external_location").and_then(Value::as_str).map(str::to_owned))
                    .map(|loc| loc.replace("{name}", &t.name).replace("{identifier}", &identifier));
                let columns = t.columns.iter().map(|c| c.info.clone()).collect();
                let mut rendered = |text: Option<&String>, default: &str| -> String {
                    let text = text.map_or(default, String::as_str);
                    render_source_property(text, db, &input.config.vars).unwrap_or_else(|e| {
                        diags.push(
                            Diagnostic::error("jinja", format!("in source '{}': '{text}': {e}", s.name))
                                .at(&pf.path, s.line, 1),
                        );
                        text.to_string()
                    })
                };
                let database = rendered(s.database.as_ref(), &db.database);
                let schema = rendered(s.schema.as_ref(), &s.name);
                let table = SourceTable {
                    unique_id: unique_id.clone(),
                    source_name: s.name.clone(),
                    name: t.name.clone(),
                    package_name: project.to_string(),
                    original_file_path: pf.path.clone(),
                    line: t.line,
                    fqn,
                    description: t.description.clone(),
                    source_description: s.description.clone(),
                    columns,
                    meta,
                    tags: config.tags(),
                    loader: s.loader.clone(),
                    relation: modelc_core::Relation::new(&database, &schema, &identifier),
                    external_location,
                    config,
                };
                let target = TestTarget {
                    file: pf.path.clone(),
                    attached: unique_id.clone(),
                    label: format!("source_{}_{}", s.name, t.name),
                    call: format!("source('{}', '{}')", s.name, t.name),
                    model: TestModel::Source(s.name.clone(), t.name.clone()),
                    column: None,
                    versioned: false,
                };
                for e in &t.tests {
                    tests.push((e.clone(), target.clone()));
                }
                for c in &t.columns {
                    for e in &c.tests {
                        tests.push((
                            e.clone(),
                            TestTarget {
                                column: Some(c.info.name.clone()),
                                ..target.clone()
                            },
                        ));
                    }
                }
                out.sources.insert(unique_id, table);
            }
        }
    }
}

/// What a generic test is attached to.
#[derive(Debug, Clone)]
pub struct TestTarget {
    file: String,
    attached: String,
    label: String,
    call: String,
    model: TestModel,
    column: Option<String>,
    /// A version of a versioned model: its tests call `ref(name, v=...)`, which
    /// the built-in test shortcut does not.
    versioned: bool,
}

fn collect_tests(p: &NodePatch, file: &str, unique_id: &str, name: &str, tests: &mut Vec<(TestEntry, TestTarget)>) {
    let target = TestTarget {
        file: file.to_string(),
        attached: unique_id.to_string(),
        label: name.to_string(),
        call: format!("ref('{name}')"),
        model: TestModel::Ref(name.to_string()),
        column: None,
        versioned: false,
    };
    for e in &p.tests {
        tests.push((e.clone(), target.clone()));
    }
    for ColumnPatch {
        info, tests: col_tests, ..
    } in &p.columns
    {
        for e in col_tests {
            tests.push((
                e.clone(),
                TestTarget {
                    column: Some(info.name.clone()),
                    ..target.clone()
                },
            ));
        }
    }
}

/// dbt's test naming: `<test>_<model>_<flattened args>`, shortened with a hash past 63 characters.
fn test_names(test: &str, label: &str, args: &JsonMap) -> (String, String) {
    let mut flat = Vec::new();
    let mut keys: Vec<&String> = args.keys().collect();
    keys.sort();
    for k in keys {
        if k == "model" {
            continue;
        }
        match &args[k] {
            Value::Object(m) => flat.extend(m.values().map(value_text)),
            Value::Array(a) => flat.extend(a.iter().map(value_text)),
            v => flat.push(value_text(v)),
        }
    }
    let clean: Vec<String> = flat
        .iter()
        .map(|a| {
            let mut s = String::new();
            let mut last_us = false;
            for c in a.chars() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    s.push(c);
                    last_us = false;
                } else if !last_us {
                    s.push('_');
                    last_us = true;
                }
            }
            s
        })
        .collect();
    let ident = format!("{test}_{label}");
    let full = if clean.is_empty() {
        ident.clone()
    } else {
        format!("{ident}_{}", clean.join("__"))
    };
    let short = if full.len() >= 64 {
        let trunc: String = ident.chars().take(30).collect();
        format!("{trunc}_{:032x}", xxh3_128(full.as_bytes()))
    } else {
        full.clone()
    };
    (short, full)
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        // dbt formats arguments with Python's str(): True / False.
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// A test argument with `{{ ... }}` inside other text (`id = {{ two() }}`) as one
/// Jinja expression: the text and the expressions' values joined with `~`, the
/// string dbt renders it to. `None` for text without `{{`, or with `{%` tags.
fn interpolated(s: &str) -> Option<String> {
    if !s.contains("{{") || s.contains("{%") {
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let close = rest[open..].find("}}")? + open;
        if open > 0 {
            parts.push(serde_json::to_string(&rest[..open]).ok()?);
        }
        parts.push(format!("({})", rest[open + 2..close].trim()));
        rest = &rest[close + 2..];
    }
    if !rest.is_empty() {
        parts.push(serde_json::to_string(rest).ok()?);
    }
    Some(parts.join(" ~ "))
}

/// A Jinja literal for a JSON value; strings that look like `ref(...)`/`source(...)`/`var(...)`
/// calls are kept as expressions, as dbt does for test arguments. Text with `{% %}`
/// tags is rendered by a `{% set %}` block pushed to `blocks`, which the test's
/// template starts with, and is then the variable that block sets.
fn jinja_literal(v: &Value, key: &str, blocks: &mut Vec<String>) -> String {
    match v {
        Value::String(s) => {
            let t = s.trim();
            let looks_like_call = ["ref(", "source(", "var(", "env_var(", "doc("]
                .iter()
                .any(|p| t.starts_with(p))
                && t.ends_with(')');
            if looks_like_call && key != "column_name" {
                t.to_string()
            } else if let Some(inner) = t
                .strip_prefix("{{")
                .and_then(|r| r.strip_suffix("}}"))
                .filter(|inner| !inner.contains("{{"))
            {
                inner.trim().to_string()
            } else if let Some(concat) = interpolated(s) {
                concat
            } else if s.contains("{%") {
                let name = format!("__modelc_arg_{}", blocks.len());
                blocks.push(format!("{{% set {name} %}}{s}{{% endset %}}"));
                name
            } else {
                serde_json::to_string(s).unwrap_or_default()
            }
        }
        Value::Null => "none".into(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|x| jinja_literal(x, "", blocks))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, x)| format!(
                    "{}: {}",
                    serde_json::to_string(k).unwrap_or_default(),
                    jinja_literal(x, k, blocks)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn generic_test(project: &str, trees: Trees, entry: TestEntry, target: TestTarget) -> Shell {
    let (namespace, short_test) = match entry.test_name.rsplit_once('.') {
        Some((ns, t)) => (Some(ns.to_string()), t.to_string()),
        None => (None, entry.test_name.clone()),
    };
    let mut args = entry.args.clone();
    if let Some(c) = &target.column {
        args.insert("column_name".into(), Value::from(c.clone()));
    }
    // dbt names a namespaced test after its package too: `dbt_utils_expression_is_true_...`.
    let named = match &namespace {
        Some(ns) => format!("{ns}_{short_test}"),
        None => short_test.clone(),
    };
    let (short, full) = test_names(&named, &target.label, &args);
    let name = entry.custom_name.clone().unwrap_or(full);
    let mut call_args = vec![format!("model=get_where_subquery({})", target.call)];
    let mut blocks = Vec::new();
    for (k, v) in &args {
        call_args.push(format!("{k}={}", jinja_literal(v, k, &mut blocks)));
    }
    let namespace_prefix = namespace.as_ref().map(|ns| format!("{ns}.")).unwrap_or_default();
    let template = format!(
        "{}{{{{ {namespace_prefix}test_{short_test}({}) }}}}",
        blocks.concat(),
        call_args.join(", ")
    );
    let resource_path = target
        .file
        .split_once('/')
        .map(|(_, r)| r)
        .unwrap_or(&target.file)
        .to_string();
    let fqn = vec![project.to_string(), name.clone()];
    let mut config = trees.config("data_tests", &fqn);
    config.insert("materialized".into(), "test".into());
    merge_config(&mut config, &entry.config);
    if entry.custom_name.is_none() && !config.contains_key("alias") {
        config.insert("alias".into(), Value::from(short));
    }
    let mut node = new_node(
        ResourceType::Test,
        project,
        &name,
        &resource_path,
        &target.file,
        fqn,
        &template,
        config,
    );
    node.unique_id = format!(
        "test.{project}.{name}.{:010x}",
        xxh3_64(format!("{}{}", target.attached, template).as_bytes()) & 0xff_ffff_ffff
    );
    node.defined_at_line = entry.line;
    let generic = (namespace.is_none() && !target.versioned).then(|| (short_test.clone(), target.model.clone()));
    let yaml = Some(YamlSite {
        file: target.file.clone(),
        line: entry.line,
        keys: entry.config_lines.clone(),
        columns: Vec::new(),
    });
    node.test = Some(TestInfo {
        name: Some(short_test),
        namespace,
        kwargs: args,
        column_name: target.column.clone(),
        attached_node: Some(target.attached.clone()),
    });
    Shell {
        template,
        node,
        generic,
        yaml,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn test_names_follow_dbt() {
        let args = |v: Value| match v {
            Value::Object(m) => m,
            _ => JsonMap::new(),
        };
        assert_eq!(
            test_names("not_null", "stg_x", &args(json!({"column_name": "id"}))).0,
            "not_null_stg_x_id"
        );
        assert_eq!(
            test_names(
                "accepted_values",
                "stg_x",
                &args(json!({"column_name": "status", "values": ["a", "b c"]}))
            )
            .0,
            "accepted_values_stg_x_status__a__b_c"
        );
        assert_eq!(
            test_names(
                "relationships",
                "fact",
                &args(json!({"column_name": "aid", "to": "ref('dim')", "field": "id"}))
            )
            .1,
            "relationships_fact_aid__id__ref_dim_"
        );
        let (short, full) = test_names(
            "accepted_values",
            "a_very_long_model_name_indeed",
            &args(json!({"column_name": "status", "values": ["approved", "declined", "pending"]})),
        );
        assert!(
            full.len() >= 64 && short.len() < 64 && short.starts_with("accepted_values_a_very_long_mo_"),
            "{short}"
        );
    }

    #[test]
    fn test_arguments_become_jinja() {
        let literal = |v: Value, key: &str| jinja_literal(&v, key, &mut Vec::new());
        assert_eq!(literal(json!("ref('dim')"), "to"), "ref('dim')");
        assert_eq!(literal(json!("it's"), "x"), "\"it's\"");
        assert_eq!(literal(json!(["a", 1, null, true]), "values"), "[\"a\", 1, none, true]");
        assert_eq!(literal(json!("{{ var('v') }}"), "x"), "var('v')");
        // Jinja inside other text renders to a string, as in dbt.
        assert_eq!(
            literal(json!("cast(d as date) = {{ dbt_date.yesterday() }}"), "row_condition"),
            "\"cast(d as date) = \" ~ (dbt_date.yesterday())"
        );
        assert_eq!(
            literal(json!("{{ 'id' }} = {{ 1 + 1 }}"), "x"),
            "('id') ~ \" = \" ~ (1 + 1)"
        );
        // Tags: a `{% set %}` block renders the text, before the test's call.
        let mut blocks = Vec::new();
        assert_eq!(
            jinja_literal(
                &json!({"a": "a {% if x %}b{% endif %}", "b": ["{% for i in [1] %}{{ i }}{% endfor %}"]}),
                "x",
                &mut blocks
            ),
            "{\"a\": __modelc_arg_0, \"b\": [__modelc_arg_1]}"
        );
        assert_eq!(
            blocks,
            [
                "{% set __modelc_arg_0 %}a {% if x %}b{% endif %}{% endset %}",
                "{% set __modelc_arg_1 %}{% for i in [1] %}{{ i }}{% endfor %}{% endset %}"
            ]
        );
    }
}
