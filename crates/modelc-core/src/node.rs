//! Nodes of a project: models, seeds, snapshots, tests, and source tables.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{JsonMap, NodeConfig, Relation};

/// The kind of a node, as dbt names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    /// A SQL model.
    Model,
    /// A CSV file loaded as a table.
    Seed,
    /// An SCD2 snapshot.
    Snapshot,
    /// A data test (generic or singular).
    Test,
    /// A source table declared in YAML.
    Source,
    /// An analysis: compiled, never run.
    Analysis,
    /// A unit test: a model's SQL run on fixed rows (`unit_tests:` in YAML).
    UnitTest,
}

impl ResourceType {
    /// The lowercase name used in unique ids, selectors and artifacts.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Model => "model",
            ResourceType::Seed => "seed",
            ResourceType::Snapshot => "snapshot",
            ResourceType::Test => "test",
            ResourceType::Source => "source",
            ResourceType::Analysis => "analysis",
            ResourceType::UnitTest => "unit_test",
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResourceType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "model" => ResourceType::Model,
            "seed" => ResourceType::Seed,
            "snapshot" => ResourceType::Snapshot,
            "test" => ResourceType::Test,
            "source" => ResourceType::Source,
            "analysis" => ResourceType::Analysis,
            "unit_test" => ResourceType::UnitTest,
            other => return Err(format!("unknown resource type '{other}'")),
        })
    }
}

/// One `ref(...)` call found while rendering a node.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RefCall {
    /// The package (project) named in the two-argument form, if any.
    pub package: Option<String>,
    /// The referenced node's name.
    pub name: String,
    /// The model version (`v=`), if any.
    pub version: Option<String>,
}

/// A column as declared in YAML (and, after analysis, as found in the SQL).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Description from YAML.
    pub description: String,
    /// Declared data type (YAML `data_type`), or the type found in the database.
    pub data_type: Option<String>,
    /// `meta` from YAML.
    pub meta: JsonMap,
    /// `tags` from YAML.
    pub tags: Vec<String>,
    /// `constraints` from YAML: put in the table's DDL when its contract is enforced.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
}

/// The kinds of constraint dbt knows (`type:` of a `constraints:` entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    /// `check (expression)`.
    Check,
    /// `not null`.
    NotNull,
    /// `unique`.
    Unique,
    /// `primary key`.
    PrimaryKey,
    /// `references ...`.
    ForeignKey,
    /// The `expression`, as written.
    Custom,
}

impl ConstraintKind {
    /// Every kind, with its name in YAML.
    pub const ALL: [(ConstraintKind, &'static str); 6] = [
        (ConstraintKind::Check, "check"),
        (ConstraintKind::NotNull, "not_null"),
        (ConstraintKind::Unique, "unique"),
        (ConstraintKind::PrimaryKey, "primary_key"),
        (ConstraintKind::ForeignKey, "foreign_key"),
        (ConstraintKind::Custom, "custom"),
    ];

    /// Its name in YAML and in the manifest.
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(k, _)| *k == self).map_or("custom", |(_, s)| s)
    }
}

/// A constraint of a column or of a model (dbt's `constraints:`), applied when
/// the model's contract is enforced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    /// What it constrains.
    pub kind: ConstraintKind,
    /// `name:`: the constraint's name in the DDL.
    pub name: Option<String>,
    /// `expression:`: a check's condition, a foreign key's `table (column)`, or
    /// a custom constraint's SQL.
    pub expression: Option<String>,
    /// A model-level constraint's `columns:`.
    pub columns: Vec<String>,
    /// A foreign key's `to:` (`ref('x')` or `source('a', 'b')`), as written; the
    /// referenced relation once resolved.
    pub to: Option<String>,
    /// A foreign key's `to_columns:`.
    pub to_columns: Vec<String>,
    /// Warn when the engine does not enforce it (`warn_unenforced:`, default true).
    pub warn_unenforced: bool,
    /// Warn when the engine does not support it (`warn_unsupported:`, default true).
    pub warn_unsupported: bool,
}

/// What a node depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependsOn {
    /// Unique ids of parent nodes and sources.
    pub nodes: Vec<String>,
    /// Unique ids of macros the node called.
    pub macros: Vec<String>,
}

/// What a test node checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestInfo {
    /// Generic test name (`not_null`, `unique`, a custom one), `None` for singular tests.
    pub name: Option<String>,
    /// Package the generic test came from, if not the project.
    pub namespace: Option<String>,
    /// Arguments of the generic test (`column_name`, `values`, `to`, `field`, ...).
    pub kwargs: JsonMap,
    /// The tested column, for column tests.
    pub column_name: Option<String>,
    /// Unique id of the node the test is attached to.
    pub attached_node: Option<String>,
}

/// A model, seed, snapshot, test or analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// `model.<project>.<name>`, `test.<project>.<name>.<hash>`, ...
    pub unique_id: String,
    /// The node's name (the file stem for models and seeds).
    pub name: String,
    /// Model, seed, snapshot, test or analysis.
    pub resource_type: ResourceType,
    /// The project (package) the node belongs to.
    pub package_name: String,
    /// Path relative to its resource folder, e.g. `staging/stg_applicants.sql`.
    pub path: String,
    /// Path relative to the project root, e.g. `models/staging/stg_applicants.sql`.
    pub original_file_path: String,
    /// dbt's fully qualified name: project, folders, name.
    pub fqn: Vec<String>,
    /// The source text (Jinja SQL; for seeds empty).
    pub raw_code: String,
    /// Content hash of the source (hex).
    pub checksum: String,
    /// The merged config.
    pub config: NodeConfig,
    /// Description from YAML.
    pub description: String,
    /// Columns declared in YAML.
    pub columns: Vec<ColumnInfo>,
    /// Model-level `constraints` from YAML (column ones are in `columns`).
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// The YAML file that described this node, if any (`<project>://models/x.yml`).
    pub patch_path: Option<String>,
    /// `ref` calls in the order made.
    pub refs: Vec<RefCall>,
    /// `source` calls: (source name, table name).
    pub sources: Vec<(String, String)>,
    /// Resolved parents.
    pub depends_on: DependsOn,
    /// Where it is materialized; `None` for ephemeral models and analyses.
    pub relation: Option<Relation>,
    /// Compiled SQL (Jinja rendered, refs resolved, ephemeral CTEs inlined).
    pub compiled_code: Option<String>,
    /// Compiled SQL for an incremental run (`is_incremental()` true), when it differs.
    pub compiled_incremental_code: Option<String>,
    /// For tests: what is tested.
    pub test: Option<TestInfo>,
    /// Where the node is defined, when it is not the whole file (YAML tests, YAML snapshots): 1-based line.
    pub defined_at_line: usize,
    /// Its template asks the database (`run_query`, `adapter.get_columns_in_relation`,
    /// ...): rendered again where the answers are known, at the latest just before it
    /// runs. Its `compiled_code` until then is dbt's parse-phase render.
    #[serde(default)]
    pub late_render: bool,
    /// A versioned model's version (`v:` in YAML), as written.
    #[serde(default)]
    pub version: Option<String>,
    /// A versioned model's latest version: what an unversioned `ref` resolves to.
    #[serde(default)]
    pub latest_version: Option<String>,
    /// The `pre_hook` statements, rendered (`this`, `ref()` and `source()` resolved):
    /// run before the node.
    #[serde(default)]
    pub pre_hooks: Vec<Hook>,
    /// The `post_hook` statements, rendered: run after the node was built.
    #[serde(default)]
    pub post_hooks: Vec<Hook>,
    /// For unit tests: the rows given and expected. Its `compiled_code` is the
    /// model's SQL reading the given rows. Boxed: a third of a node's size, and
    /// few nodes are unit tests.
    #[serde(default)]
    pub unit_test: Option<Box<UnitTestSpec>>,
}

/// What a unit test gives its model and expects of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitTestSpec {
    /// Unique id of the model tested.
    pub model: String,
    /// The rows of each input the model reads.
    pub given: Vec<Fixture>,
    /// The rows the model must return (only their columns are compared).
    pub expect: Fixture,
    /// `overrides: {macros: {is_incremental: true}}`: the model's incremental SQL.
    pub incremental: bool,
    /// `overrides: {vars: ...}`: the model is rendered again with these values.
    #[serde(default)]
    pub vars: JsonMap,
    /// `overrides: {env_vars: ...}`, likewise.
    #[serde(default)]
    pub env_vars: BTreeMap<String, String>,
    /// `overrides: {macros: ...}` but `is_incremental`: what a call of each macro
    /// returns instead of running it; the model is rendered again with them.
    #[serde(default)]
    pub macros: JsonMap,
    /// The error of rendering the model for this test, when only running it can
    /// tell (the model renders late, as its queries need the database): the
    /// test's error when it runs, as in dbt.
    #[serde(default)]
    pub render_error: Option<String>,
}

/// Fixed rows of a unit test.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fixture {
    /// The input as written (`ref('orders')`); empty for the expected rows.
    pub input: String,
    /// 1-based line of the entry in its YAML file.
    pub line: usize,
    /// The table the rows are loaded as (what the model's SQL reads instead of the
    /// input's relation).
    pub table: String,
    /// The relation the model reads the input as (none for the expected rows).
    pub relation: Option<Relation>,
    /// The rows as CSV (a header line, then rows), or the query that returns them.
    pub rows: FixtureRows,
    /// The columns the input has, where they are known: those the rows do not give
    /// are null.
    pub columns: Option<Vec<String>>,
}

/// How a fixture's rows are held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FixtureRows {
    /// CSV text (`format: dict` rows are written as CSV).
    Csv(String),
    /// A query.
    Sql(String),
}

impl Default for FixtureRows {
    fn default() -> Self {
        FixtureRows::Csv(String::new())
    }
}

impl Node {
    /// The materialization: `config.materialized`, or the resource type for seeds,
    /// snapshots and tests.
    pub fn materialized(&self) -> String {
        match self.resource_type {
            ResourceType::Seed => "seed".into(),
            ResourceType::Snapshot => "snapshot".into(),
            ResourceType::Test => "test".into(),
            _ => self.config.materialized(),
        }
    }

    /// Where dbt writes the node's compiled SQL, relative to the target folder:
    /// `compiled/<project>/<original_file_path>`, and for tests defined in YAML
    /// `compiled/<project>/<yml path>/<test name>.sql`.
    pub fn compiled_path(&self) -> String {
        let base = format!("compiled/{}/{}", self.package_name, self.original_file_path);
        if self.original_file_path.ends_with(".sql") {
            base
        } else {
            format!("{base}/{}.sql", self.name)
        }
    }

    /// `true` for a test a YAML file defines (`not_null`,
    /// `dbt_utils.expression_is_true`, ...), not a singular test's file.
    pub fn is_generic_test(&self) -> bool {
        self.resource_type == ResourceType::Test && self.test.as_ref().is_some_and(|t| t.name.is_some())
    }

    /// `true` for ephemeral models.
    pub fn is_ephemeral(&self) -> bool {
        self.resource_type == ResourceType::Model && self.config.materialized() == "ephemeral"
    }
}

/// One table of a `sources:` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceTable {
    /// `source.<project>.<source>.<table>`.
    pub unique_id: String,
    /// The source's name (`raw` in `source('raw', 'applicants')`).
    pub source_name: String,
    /// The table's name.
    pub name: String,
    /// The project.
    pub package_name: String,
    /// The YAML file, relative to the project root.
    pub original_file_path: String,
    /// 1-based line of the table entry in that file.
    pub line: usize,
    /// `[project, source, table]`.
    pub fqn: Vec<String>,
    /// Table description.
    pub description: String,
    /// Source description.
    pub source_description: String,
    /// Declared columns.
    pub columns: Vec<ColumnInfo>,
    /// Merged `meta` of source and table.
    pub meta: JsonMap,
    /// Merged tags.
    pub tags: Vec<String>,
    /// The loader named in YAML.
    pub loader: String,
    /// The relation the source reads.
    pub relation: Relation,
    /// dbt-duckdb's `external_location` (e.g. `read_csv('data/x.csv')`), already
    /// formatted: when set, `source()` renders to this expression instead of the relation.
    pub external_location: Option<String>,
    /// The table's merged config.
    pub config: NodeConfig,
}

impl SourceTable {
    /// What `source()` renders to: the external location or the relation.
    pub fn render(&self) -> String {
        match &self.external_location {
            Some(loc) => loc.clone(),
            None => self.relation.to_string(),
        }
    }
}

/// A whole `sources:` entry, before it is split into tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceDef {
    /// Source name.
    pub name: String,
    /// Its tables.
    pub tables: Vec<SourceTable>,
}

/// A `pre_hook` or `post_hook`: its SQL, and whether it runs inside the node's
/// transaction (dbt's `transaction`, true unless configured otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    /// The statement(s).
    pub sql: String,
    /// Inside the node's transaction (with its build: committed or rolled back
    /// together), or outside it: before `begin` for a pre-hook, after `commit` for
    /// a post-hook.
    pub transaction: bool,
    /// A hook whose Jinja asks the database (`adapter.drop_relation(this)`): `sql`
    /// is its parse-phase render, and it is rendered again as it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<LateHook>,
}

/// What rendering a hook again as it runs needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateHook {
    /// The hook's Jinja, as configured.
    pub template: String,
    /// Where the hook's `ref()` calls are among the node's: from this index...
    pub first_ref: usize,
    /// ...this many (as its parse-phase render made them).
    pub ref_count: usize,
    /// The same for `source()`.
    pub first_source: usize,
    /// The same for `source()`.
    pub source_count: usize,
}

impl Hook {
    /// A hook as configured: SQL; dbt's `{sql, transaction}` object; or that object
    /// as JSON text, which dbt's `before_begin()`/`after_commit()` render to.
    pub fn from_config(value: &serde_json::Value) -> Hook {
        use serde_json::Value;
        let object = |o: &serde_json::Map<String, Value>| {
            let sql = match o.get("sql") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let transaction = o.get("transaction").and_then(Value::as_bool).unwrap_or(true);
            Hook::new(sql, transaction)
        };
        match value {
            Value::Object(o) => object(o),
            Value::String(s) => match serde_json::from_str::<Value>(s.trim()) {
                Ok(Value::Object(o)) if o.contains_key("sql") => object(&o),
                _ => Hook::new(s.clone(), true),
            },
            other => Hook::new(other.to_string(), true),
        }
    }

    /// A hook rendered when the project compiles.
    pub fn new(sql: String, transaction: bool) -> Hook {
        Hook {
            sql,
            transaction,
            late: None,
        }
    }

    /// How the config keeps it: the SQL alone when it runs in the transaction (as
    /// most hooks do), else `{sql, transaction: false}`.
    pub fn to_config(&self) -> serde_json::Value {
        if self.transaction {
            serde_json::Value::String(self.sql.clone())
        } else {
            serde_json::json!({"sql": self.sql, "transaction": false})
        }
    }
}
