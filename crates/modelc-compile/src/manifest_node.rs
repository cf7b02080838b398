//! A node's `manifest.json` entry, serialized straight from the node: built as a
//! tree of borrowed values, not a `serde_json::Value` (at 32,000 nodes, cloning
//! every config and building every map was most of the manifest's time).

use std::path::Path;

use std::collections::BTreeMap;

use modelc_core::{ColumnInfo, Constraint, DbConfig, JsonMap, Node, ResourceType, SourceTable};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::Project;

/// A JSON value, borrowed where it can be.
pub(crate) enum J<'a> {
    Null,
    Bool(bool),
    F64(f64),
    Str(&'a str),
    Strs(&'a [String]),
    Val(&'a Value),
    Map(&'a JsonMap),
    Owned(Value),
    Obj(Obj<'a>),
    List(Vec<J<'a>>),
}

/// A JSON object, its entries in order.
pub(crate) struct Obj<'a>(pub Vec<(&'a str, J<'a>)>);

impl Serialize for J<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            J::Null => s.serialize_unit(),
            J::Bool(b) => s.serialize_bool(*b),
            J::F64(f) => s.serialize_f64(*f),
            J::Str(t) => s.serialize_str(t),
            J::Strs(v) => v.serialize(s),
            J::Val(v) => v.serialize(s),
            J::Map(m) => m.serialize(s),
            J::Owned(v) => v.serialize(s),
            J::Obj(o) => o.serialize(s),
            J::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
        }
    }
}

impl Serialize for Obj<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

fn opt<'a>(s: Option<&'a str>) -> J<'a> {
    s.map_or(J::Null, J::Str)
}

fn empty<'a>() -> J<'a> {
    J::Obj(Obj(Vec::new()))
}

/// `{"show": true, "node_color": null}`.
fn docs_default<'a>() -> J<'a> {
    J::Obj(Obj(vec![("show", J::Bool(true)), ("node_color", J::Null)]))
}

/// `constraints` of a column, or of a model (`model_level`, with `columns`), as
/// dbt writes them.
fn constraints(list: &[Constraint], model_level: bool) -> J<'_> {
    J::List(
        list.iter()
            .map(|c| {
                let mut o = vec![
                    ("type", J::Str(c.kind.as_str())),
                    ("name", opt(c.name.as_deref())),
                    ("expression", opt(c.expression.as_deref())),
                    ("warn_unenforced", J::Bool(c.warn_unenforced)),
                    ("warn_unsupported", J::Bool(c.warn_unsupported)),
                    ("to", opt(c.to.as_deref())),
                    ("to_columns", J::Strs(&c.to_columns)),
                ];
                if model_level {
                    o.push(("columns", J::Strs(&c.columns)));
                }
                J::Obj(Obj(o))
            })
            .collect(),
    )
}

/// The columns of a node or source, as dbt writes them.
pub(crate) fn columns(cols: &[ColumnInfo]) -> J<'_> {
    J::Obj(Obj(cols
        .iter()
        .map(|c| {
            let col = Obj(vec![
                ("name", J::Str(&c.name)),
                ("description", J::Str(&c.description)),
                ("meta", J::Map(&c.meta)),
                ("data_type", opt(c.data_type.as_deref())),
                ("constraints", constraints(&c.constraints, false)),
                ("quote", J::Null),
                ("tags", J::Strs(&c.tags)),
                ("granularity", J::Null),
                (
                    "config",
                    J::Obj(Obj(vec![("meta", J::Map(&c.meta)), ("tags", J::Strs(&c.tags))])),
                ),
                ("doc_blocks", J::List(Vec::new())),
            ]);
            (c.name.as_str(), J::Obj(col))
        })
        .collect()))
}

/// Sets `key` unless the user's config has it (appended, as a map insert would).
/// Each default key is set once, so only the user's keys need checking.
fn default<'a>(c: &mut Vec<(&'a str, J<'a>)>, user: &JsonMap, key: &'a str, value: J<'a>) {
    if !user.contains_key(key) {
        c.push((key, value));
    }
}

/// dbt's hooks: `{"sql", "transaction", "index"}` objects under `pre-hook`/`post-hook`
/// (modelc keeps them under `pre_hook`/`post_hook`, as [`modelc_core::Hook::to_config`] writes them). The modelc key is
/// removed by swapping in the last entry, as `serde_json::Map::remove` does.
fn hooks<'a>(c: &mut Vec<(&'a str, J<'a>)>, key: &str, dbt_key: &'a str) {
    let removed = c.iter().position(|(k, _)| *k == key).map(|i| c.swap_remove(i).1);
    let sqls: Vec<&'a Value> = match removed {
        Some(J::Val(Value::Array(items))) => items.iter().collect(),
        Some(J::Val(Value::Null)) | None => Vec::new(),
        Some(J::Val(other)) => vec![other],
        // Only user values can be hooks.
        Some(_) => Vec::new(),
    };
    let list = J::List(
        sqls.into_iter()
            .map(|h| {
                let hook = modelc_core::Hook::from_config(h);
                J::Obj(Obj(vec![
                    ("sql", J::Owned(Value::String(hook.sql))),
                    ("transaction", J::Bool(hook.transaction)),
                    ("index", J::Null),
                ]))
            })
            .collect(),
    );
    match c.iter_mut().find(|(k, _)| *k == dbt_key) {
        Some(entry) => entry.1 = list,
        None => c.push((dbt_key, list)),
    }
}

/// The node's config as dbt writes it: every key the user set, and dbt's defaults for
/// the config class of the resource type (`ModelConfig`, `SeedConfig`, `SnapshotConfig`,
/// `TestConfig`, `NodeConfig`).
fn config(n: &Node) -> J<'_> {
    let mut c: Vec<(&str, J<'_>)> = n.config.0.iter().map(|(k, v)| (k.as_str(), J::Val(v))).collect();
    let c = &mut c;
    let user = &n.config.0;
    let test = n.resource_type == ResourceType::Test;
    if test {
        // Tests go to `<schema>_dbt_test__audit` when they store failures.
        default(c, user, "schema", J::Str("dbt_test__audit"));
    }
    default(c, user, "enabled", J::Bool(true));
    for key in ["alias", "schema", "database"] {
        if !(test && key == "schema") {
            default(c, user, key, J::Null);
        }
    }
    default(c, user, "tags", J::List(Vec::new()));
    default(c, user, "meta", empty());
    default(c, user, "group", J::Null);
    default(c, user, "materialized", J::Owned(Value::String(n.materialized())));
    if test {
        default(c, user, "severity", J::Str("ERROR"));
        for key in ["store_failures", "store_failures_as", "where", "limit"] {
            default(c, user, key, J::Null);
        }
        default(c, user, "fail_calc", J::Str("count(*)"));
        default(c, user, "warn_if", J::Str("!= 0"));
        default(c, user, "error_if", J::Str("!= 0"));
    } else {
        for key in ["incremental_strategy", "batch_size"] {
            default(c, user, key, J::Null);
        }
        default(c, user, "lookback", J::Owned(Value::from(1)));
        default(c, user, "begin", J::Null);
        for key in ["persist_docs", "quoting", "column_types"] {
            default(c, user, key, empty());
        }
        for key in ["full_refresh", "unique_key"] {
            default(c, user, key, J::Null);
        }
        default(c, user, "on_schema_change", J::Str("ignore"));
        default(c, user, "on_configuration_change", J::Str("apply"));
        default(c, user, "grants", empty());
        default(c, user, "packages", J::List(Vec::new()));
        default(c, user, "docs", docs_default());
        default(
            c,
            user,
            "contract",
            J::Obj(Obj(vec![("enforced", J::Bool(false)), ("alias_types", J::Bool(true))])),
        );
        for key in ["event_time", "concurrent_batches"] {
            default(c, user, key, J::Null);
        }
    }
    match n.resource_type {
        ResourceType::Model => {
            default(c, user, "access", J::Str("protected"));
            default(c, user, "freshness", J::Null);
        }
        ResourceType::Seed => {
            default(c, user, "delimiter", J::Str(","));
            default(c, user, "quote_columns", J::Null);
        }
        ResourceType::Snapshot => {
            for key in [
                "strategy",
                "target_schema",
                "target_database",
                "updated_at",
                "check_cols",
            ] {
                default(c, user, key, J::Null);
            }
            default(c, user, "snapshot_meta_column_names", empty());
            default(c, user, "dbt_valid_to_current", J::Null);
        }
        _ => {}
    }
    if !test || user.contains_key("pre_hook") || user.contains_key("post_hook") {
        hooks(c, "pre_hook", "pre-hook");
        hooks(c, "post_hook", "post-hook");
    }
    J::Obj(Obj(std::mem::take(c)))
}

/// What a node's manifest entry reads besides the node.
pub(crate) struct NodeCtx<'a> {
    pub root: &'a Path,
    pub db: &'a DbConfig,
    pub sources: &'a BTreeMap<String, SourceTable>,
    pub nodes: &'a BTreeMap<String, Node>,
}

impl<'a> NodeCtx<'a> {
    pub(crate) fn of(project: &'a Project) -> Self {
        NodeCtx {
            root: &project.root,
            db: &project.db,
            sources: &project.sources,
            nodes: &project.nodes,
        }
    }
}

/// What a generic test is called on, as dbt records it in `test_metadata.kwargs.model`.
fn test_model_kwarg(ctx: &NodeCtx<'_>, attached_node: &str) -> Option<String> {
    if let Some(s) = ctx.sources.get(attached_node) {
        return Some(format!(
            "{{{{ get_where_subquery(source('{}', '{}')) }}}}",
            s.source_name, s.name
        ));
    }
    let n = ctx.nodes.get(attached_node)?;
    Some(format!("{{{{ get_where_subquery(ref('{}')) }}}}", n.name))
}

/// `file_key_name` of a generic test: the YAML section and name of what it tests
/// (`models.dim_applicants`, `sources.bureau`, `seeds.raw_applicants`).
fn file_key_name(attached_node: &str) -> String {
    let parts: Vec<&str> = attached_node.split('.').collect();
    let section = match parts.first().copied().unwrap_or_default() {
        "source" => "sources",
        "seed" => "seeds",
        "snapshot" => "snapshots",
        "analysis" => "analyses",
        _ => "models",
    };
    format!("{section}.{}", parts.get(2).copied().unwrap_or_default())
}

/// A node's manifest entry as JSON text; `primary_key` is inferred from its tests.
pub(crate) fn node_json(ctx: &NodeCtx<'_>, n: &Node, primary_key: &[String]) -> String {
    let rel = n.relation.as_ref();
    let user = &n.config.0;
    let docs = match user.get("docs") {
        Some(Value::Object(d)) => J::Obj(Obj(vec![
            ("show", J::Bool(d.get("show").and_then(Value::as_bool).unwrap_or(true))),
            ("node_color", d.get("node_color").map_or(J::Null, J::Val)),
        ])),
        _ => docs_default(),
    };
    let enforced =
        matches!(user.get("contract"), Some(Value::Object(c)) if c.get("enforced") == Some(&Value::Bool(true)));
    let meta = match user.get("meta") {
        Some(m @ Value::Object(_)) => J::Val(m),
        _ => empty(),
    };
    let root_path = ctx.root.to_string_lossy();
    let mut e: Vec<(&str, J<'_>)> = vec![
        (
            "database",
            J::Str(rel.map_or(ctx.db.database.as_str(), |r| &r.database)),
        ),
        ("schema", J::Str(rel.map_or(ctx.db.schema.as_str(), |r| &r.schema))),
        ("name", J::Str(&n.name)),
        ("resource_type", J::Str(n.resource_type.as_str())),
        ("package_name", J::Str(&n.package_name)),
        ("path", J::Str(&n.path)),
        ("original_file_path", J::Str(&n.original_file_path)),
        ("unique_id", J::Str(&n.unique_id)),
        ("fqn", J::Strs(&n.fqn)),
        ("alias", J::Str(rel.map_or(n.name.as_str(), |r| &r.identifier))),
        (
            "checksum",
            J::Obj(Obj(vec![("name", J::Str("xxh3")), ("checksum", J::Str(&n.checksum))])),
        ),
        ("config", config(n)),
        ("tags", J::Owned(Value::from(n.config.tags()))),
        ("description", J::Str(&n.description)),
        ("columns", columns(&n.columns)),
        ("meta", meta),
        ("group", user.get("group").map_or(J::Null, J::Val)),
        ("docs", docs),
        ("patch_path", opt(n.patch_path.as_deref())),
        ("build_path", J::Null),
        ("unrendered_config", empty()),
        ("created_at", J::F64(0.0)),
        ("config_call_dict", empty()),
        ("unrendered_config_call_dict", empty()),
        ("relation_name", J::Owned(Value::from(rel.map(|r| r.to_string())))),
        ("raw_code", J::Str(&n.raw_code)),
        ("doc_blocks", J::List(Vec::new())),
    ];
    if n.resource_type == ResourceType::Seed {
        // A seed has no SQL: no refs, no compiled code, only macro dependencies.
        e.push(("root_path", J::Str(&root_path)));
        e.push((
            "depends_on",
            J::Obj(Obj(vec![("macros", J::Strs(&n.depends_on.macros))])),
        ));
        return serde_json::to_string(&Obj(e)).unwrap_or_default();
    }
    let refs = n
        .refs
        .iter()
        .map(|r| {
            J::Obj(Obj(vec![
                ("name", J::Str(&r.name)),
                ("package", opt(r.package.as_deref())),
                ("version", opt(r.version.as_deref())),
            ]))
        })
        .collect();
    let sources = n
        .sources
        .iter()
        .map(|(s, t)| J::List(vec![J::Str(s), J::Str(t)]))
        .collect();
    let compiled_path = n
        .compiled_code
        .as_ref()
        .map(|_| format!("target/{}", n.compiled_path()));
    e.extend([
        ("language", J::Str("sql")),
        ("refs", J::List(refs)),
        ("sources", J::List(sources)),
        ("metrics", J::List(Vec::new())),
        ("functions", J::List(Vec::new())),
        (
            "depends_on",
            J::Obj(Obj(vec![
                ("macros", J::Strs(&n.depends_on.macros)),
                ("nodes", J::Strs(&n.depends_on.nodes)),
            ])),
        ),
        ("compiled_path", J::Owned(Value::from(compiled_path))),
        ("compiled", J::Bool(n.compiled_code.is_some())),
        ("compiled_code", opt(n.compiled_code.as_deref())),
        ("extra_ctes_injected", J::Bool(true)),
        ("extra_ctes", J::List(Vec::new())),
        (
            "contract",
            J::Obj(Obj(vec![
                ("enforced", J::Bool(enforced)),
                ("alias_types", J::Bool(true)),
                ("checksum", J::Null),
            ])),
        ),
    ]);
    match n.resource_type {
        ResourceType::Model => e.extend([
            ("access", user.get("access").map_or(J::Str("protected"), J::Val)),
            ("constraints", constraints(&n.constraints, true)),
            ("version", opt(n.version.as_deref())),
            ("latest_version", opt(n.latest_version.as_deref())),
            ("deprecation_date", J::Null),
            ("primary_key", J::Strs(primary_key)),
            ("time_spine", J::Null),
        ]),
        ResourceType::Test => {
            // Generic tests (from YAML) say what they test; singular tests (SQL files) don't.
            if let Some(t) = n.test.as_ref().filter(|t| t.name.is_some()) {
                let mut kwargs: Vec<(&str, J<'_>)> = t.kwargs.iter().map(|(k, v)| (k.as_str(), J::Val(v))).collect();
                if let Some(model) = t.attached_node.as_deref().and_then(|a| test_model_kwarg(ctx, a)) {
                    default(&mut kwargs, &t.kwargs, "model", J::Owned(Value::String(model)));
                }
                e.push((
                    "test_metadata",
                    J::Obj(Obj(vec![
                        ("name", opt(t.name.as_deref())),
                        ("kwargs", J::Obj(Obj(kwargs))),
                        ("namespace", opt(t.namespace.as_deref())),
                    ])),
                ));
                e.push(("column_name", opt(t.column_name.as_deref())));
                e.push(("attached_node", opt(t.attached_node.as_deref())));
                e.push((
                    "file_key_name",
                    J::Owned(Value::from(t.attached_node.as_deref().map(file_key_name))),
                ));
            }
        }
        _ => {}
    }
    serde_json::to_string(&Obj(e)).unwrap_or_default()
}
