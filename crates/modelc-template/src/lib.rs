//! The Jinja environment of modelc: dbt's template context on minijinja.
//!
//! One [`Jinja`] is built per compile from the project's macro files and shared
//! by all threads. [`Jinja::render`] renders one node and captures what dbt's parse
//! phase captures: `ref`/`source` calls, `config(...)` values, macros and vars used.
//! Relations render as placeholders (see [`placeholder`]) that the compiler resolves
//! once every node's config is known.

/// `fn is_true` for an [`minijinja::value::Object`] Python takes as true:
/// minijinja's default takes an object that does not enumerate for an empty map,
/// so `{% if modules.re.match(...) %}` or `{% if column %}` would be false.
macro_rules! truthy {
    () => {
        fn is_true(self: &std::sync::Arc<Self>) -> bool {
            true
        }
    };
}

pub mod database;
mod mutable;
mod objects;
pub mod placeholder;
pub mod preprocess;
mod pyfuncs;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use minijinja::value::Value;
use minijinja::{Environment, UndefinedBehavior};
use modelc_core::{Diagnostic, JsonMap, RefCall};

use objects::{Capture, ConfigObj, RelObj};
pub use placeholder::{Part, Target};

/// The built-in macros (dbt's, for DuckDB: schema and alias names, generic tests,
/// and the cross-database and type macros), overridable by project macros.
pub const BUILTINS: &str = concat!(include_str!("builtins.sql"), "\n", include_str!("crossdb.sql"));
/// Template name of the built-in macro file.
pub const BUILTINS_NAME: &str = "<modelc builtins>";

/// Each engine's own versions of the cross-database macros whose SQL differs from
/// DuckDB's (`crossdb.sql`): dbt's `<engine>__<name>` implementations.
const ENGINE_MACROS: &[(&str, &str)] = &[
    ("postgres", include_str!("engines/postgres.sql")),
    ("spark", include_str!("engines/spark.sql")),
];

/// The built-in macros on `engine` (dbt's `target.type`): [`BUILTINS`], with the
/// engine's versions of the cross-database macros in place of DuckDB's.
pub fn builtins(engine: &str) -> &'static str {
    static MERGED: std::sync::OnceLock<Vec<(&'static str, String)>> = std::sync::OnceLock::new();
    let merged = MERGED.get_or_init(|| {
        ENGINE_MACROS
            .iter()
            .map(|(name, overlay)| {
                let (_, replaced) = preprocess::rewrite_macro_file(overlay);
                let (_, base) = preprocess::rewrite_macro_file(BUILTINS);
                let mut text = BUILTINS.to_string();
                for def in base.iter().filter(|d| replaced.iter().any(|r| r.name == d.name)) {
                    text = text.replacen(&def.sql, "", 1);
                }
                text.push('\n');
                text.push_str(overlay);
                (*name, text)
            })
            .collect()
    });
    merged
        .iter()
        .find(|(name, _)| *name == engine)
        .map_or(BUILTINS, |(_, text)| text.as_str())
}

/// Project-wide values every template sees.
#[derive(Debug, Clone, Default)]
pub struct ProjectContext {
    /// The project's name.
    pub project_name: String,
    /// Effective vars: `--vars` over the project's own.
    pub vars: JsonMap,
    /// dbt's `target`: name, schema, database, type, threads, path, profile_name.
    pub target: JsonMap,
    /// `invocation_id`.
    pub invocation_id: String,
    /// `run_started_at`, ISO 8601.
    pub run_started_at: String,
    /// `flags.FULL_REFRESH`.
    pub full_refresh: bool,
    /// Effective vars of each installed package's nodes (`vars` serves the root project's).
    pub package_vars: BTreeMap<String, JsonMap>,
    /// The project's `dispatch:` config: a macro namespace and its search order.
    pub dispatch: Vec<(String, Vec<String>)>,
    /// `{% docs %}` blocks by name, for `doc()` in descriptions.
    pub docs: BTreeMap<String, String>,
}

impl ProjectContext {
    /// The engine: `target.type` (`duckdb` when unset).
    pub fn adapter_type(&self) -> &str {
        self.target.get("type").and_then(|v| v.as_str()).unwrap_or("duckdb")
    }
}

/// What a generic test's `model` argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestModel {
    /// `ref('<name>')`.
    Ref(String),
    /// `source('<source>', '<table>')`.
    Source(String, String),
}

/// A macro file of the project or of an installed package.
#[derive(Debug, Clone)]
pub struct MacroFile {
    /// Path relative to the project root.
    pub path: String,
    /// Contents.
    pub text: String,
    /// The package that defines it; `None` for the root project.
    pub package: Option<String>,
}

/// A macro known to the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroInfo {
    /// The name it is called by.
    pub name: String,
    /// `macro.<package>.<name>`.
    pub unique_id: String,
    /// The file defining it.
    pub file: String,
    /// 1-based line of the definition.
    pub line: usize,
    /// `true` for `{% test %}` definitions.
    pub is_test: bool,
    /// `true` for modelc's built-ins.
    pub builtin: bool,
    /// Its source, from `{% macro %}` (or `{% test %}`) to the closing tag.
    pub sql: String,
}

/// The node being rendered.
#[derive(Debug, Clone, Default)]
pub struct NodeContext {
    /// Name (`model.name`).
    pub name: String,
    /// Unique id.
    pub unique_id: String,
    /// `model`, `test`, `snapshot`, ...
    pub resource_type: String,
    /// File the SQL comes from, relative to the project root.
    pub original_file_path: String,
    /// Config known before rendering (project file and YAML levels).
    pub config: JsonMap,
    /// Whether `is_incremental()` returns true.
    pub is_incremental: bool,
    /// The package the node belongs to (the root project's name for its own nodes).
    pub package: String,
    /// dbt's parse phase: `execute` is false, queries answer nothing.
    pub parse_only: bool,
    /// What answers the render's database questions; `None`: nothing does (a
    /// question is then an error carrying [`database::NEEDS_DATABASE`]).
    pub database: Option<Arc<dyn database::Database>>,
    /// `var()` values this render sees over the project's (a unit test's
    /// `overrides: vars`).
    pub vars: JsonMap,
    /// `env_var()` values this render sees over the environment's.
    pub env_vars: BTreeMap<String, String>,
    /// What a call of a macro returns instead of running it, by its name or
    /// `package.name` (a unit test's `overrides: macros`).
    pub macro_overrides: JsonMap,
    /// More names the template sees (`results` and `schemas` for `on-run-end`).
    pub globals: JsonMap,
}

/// What rendering a node produced.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RenderOutput {
    /// The SQL, with relation placeholders.
    pub sql: String,
    /// `ref` calls, indexed by the placeholders.
    pub refs: Vec<RefCall>,
    /// `source` calls, indexed by the placeholders.
    pub sources: Vec<(String, String)>,
    /// Values set with `config(...)`, merged in call order.
    pub config: JsonMap,
    /// Unique ids of the macros called.
    pub macros: BTreeSet<String>,
    /// `true` if `is_incremental()` was called.
    pub uses_is_incremental: bool,
    /// Names of the vars read.
    pub vars: BTreeSet<String>,
    /// Names of the environment variables read.
    pub env_vars: BTreeSet<String>,
}

/// A template error, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    /// The file where the error is (a macro file when it happened inside a macro).
    pub file: String,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

impl RenderError {
    /// As a diagnostic.
    pub fn to_diagnostic(&self, rendering: &str) -> Diagnostic {
        let mut d = Diagnostic::error("jinja", self.message.clone()).at(&self.file, self.line, 1);
        if self.file != rendering {
            d = d.with_help(format!("while rendering {rendering}"));
        }
        d
    }
}

/// The shared environment.
pub struct Jinja {
    env: Environment<'static>,
    /// Every macro, by unique id.
    macros: BTreeMap<String, MacroInfo>,
    /// The flat namespace (modelc's built-ins, then the root project's macros and the
    /// generic tests of packages): name → unique id.
    globals: BTreeMap<String, String>,
}

impl std::fmt::Debug for Jinja {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jinja").field("macros", &self.macros.len()).finish()
    }
}

impl Jinja {
    /// Builds the environment from the macro files of the project and its packages.
    /// Syntax errors and duplicate macro names are returned as diagnostics.
    ///
    /// Macros live in namespaces as in dbt: `dbt` (modelc's built-ins), the root
    /// project, and each package (`dbt_utils.star(...)`). Unqualified names resolve
    /// to the calling macro's own package first, then to the flat namespace: the
    /// built-ins, overridden by the root project's macros. Generic tests of packages
    /// are found unqualified too, as dbt finds them.
    pub fn new(ctx: ProjectContext, files: &[MacroFile]) -> (Jinja, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        // dbt never escapes; minijinja would JSON-escape templates named `*.yml`
        // (generic tests are named after their YAML file).
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_unknown_method_callback(mutable::unknown_method);
        let shared = Arc::new(ctx);
        objects::register_globals(&mut env, &shared);

        let mut macros: BTreeMap<String, MacroInfo> = BTreeMap::new();
        let mut globals: BTreeMap<String, String> = BTreeMap::new();
        let mut namespaces: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        let builtin = MacroFile {
            path: BUILTINS_NAME.to_string(),
            text: builtins(shared.adapter_type()).to_string(),
            package: Some(objects::DBT_NAMESPACE.to_string()),
        };
        // Built-ins first, then packages, then the root project: later files win
        // the flat namespace.
        let mut ordered: Vec<(&MacroFile, bool)> = vec![(&builtin, true)];
        ordered.extend(files.iter().filter(|f| f.package.is_some()).map(|f| (f, false)));
        ordered.extend(files.iter().filter(|f| f.package.is_none()).map(|f| (f, false)));
        for (file, is_builtin) in ordered {
            if let Some((line, _)) = preprocess::overlong_chain(&file.text) {
                diags.push(overlong_chain_error(&file.path, line).to_diagnostic(&file.path));
                continue;
            }
            let (text, defs) = preprocess::rewrite_macro_file(&file.text);
            if let Err(e) = env.add_template_owned(file.path.clone(), text) {
                diags.push(error_diag(&e, &file.path));
                continue;
            }
            let package = file.package.as_deref().unwrap_or(shared.project_name.as_str());
            let in_package = file.package.is_some() && !is_builtin;
            for def in defs {
                let unique_id = format!("macro.{package}.{}", def.name);
                if let Some(prev) = macros.get(&unique_id) {
                    diags.push(
                        Diagnostic::error("duplicate-macro", format!("macro '{}' is defined twice", def.name))
                            .at(&file.path, def.line, 1)
                            .with_help(format!("the other definition is at {}:{}", prev.file, prev.line)),
                    );
                    continue;
                }
                // Calling a macro evaluates its template first; the built-ins are one
                // file of many macros, so each gets a template of its own: a call to
                // `test_not_null` then defines one macro, not all of them.
                let template = if is_builtin {
                    let name = format!("{BUILTINS_NAME}#{}", def.name);
                    let (own, _) = preprocess::rewrite_macro_file(&def.sql);
                    if let Err(e) = env.add_template_owned(name.clone(), own) {
                        diags.push(error_diag(&e, &file.path));
                    }
                    name
                } else {
                    file.path.clone()
                };
                let value = objects::macro_value(
                    &def.name,
                    &template,
                    &unique_id,
                    in_package.then_some(package),
                    def.params.clone(),
                );
                namespaces
                    .entry(package.to_string())
                    .or_default()
                    .insert(def.name.clone(), value.clone());
                if !in_package || (def.is_test && !globals.contains_key(&def.name)) {
                    env.add_global(def.name.clone(), value);
                    globals.insert(def.name.clone(), unique_id.clone());
                }
                macros.insert(
                    unique_id.clone(),
                    MacroInfo {
                        unique_id,
                        name: def.name,
                        file: file.path.clone(),
                        line: def.line,
                        is_test: def.is_test,
                        builtin: is_builtin,
                        sql: def.sql,
                    },
                );
            }
        }
        let packages: Vec<String> = files.iter().filter_map(|f| f.package.clone()).collect();
        objects::register_namespaces(&mut env, &shared, namespaces, &packages);
        (Jinja { env, macros, globals }, diags)
    }

    /// Every macro, by unique id.
    pub fn macros(&self) -> &BTreeMap<String, MacroInfo> {
        &self.macros
    }

    /// The macro an unqualified call to `name` reaches from the root project.
    fn global(&self, name: &str) -> Option<&MacroInfo> {
        self.globals.get(name).and_then(|id| self.macros.get(id))
    }

    /// dbt's built-in `not_null` and `unique` tests, rendered without the template
    /// engine: exactly what their macros in `builtins.sql` render (a test compares
    /// the two), at a fraction of the cost — a large project has tens of thousands.
    /// `None` when the project overrides the macro or a function it calls, or the
    /// arguments need the engine (anything but a plain `column_name`).
    pub fn render_builtin_test(
        &self,
        test: &str,
        model: &TestModel,
        args: &JsonMap,
        config: &JsonMap,
    ) -> Option<RenderOutput> {
        let macro_name = format!("test_{test}");
        let info = self.global(&macro_name).filter(|m| m.builtin)?;
        if !matches!(test, "not_null" | "unique")
            || ["get_where_subquery", "should_store_failures"]
                .iter()
                .any(|f| self.globals.contains_key(*f))
            || args.len() != 1
        {
            return None;
        }
        let column = args.get("column_name")?.as_str()?;
        if column.is_empty() || column.contains(['{', '}', '"', '\'', '\\', '\n']) {
            return None;
        }
        let mut out = RenderOutput::default();
        let relation = match model {
            TestModel::Ref(name) => {
                out.refs.push(RefCall {
                    package: None,
                    name: name.clone(),
                    version: None,
                });
                placeholder::placeholder(Target::Ref(0), Part::Whole)
            }
            TestModel::Source(source, table) => {
                out.sources.push((source.clone(), table.clone()));
                placeholder::placeholder(Target::Source(0), Part::Whole)
            }
        };
        // `get_where_subquery(model)`: a `where` config wraps the relation.
        let model = match config
            .get("where")
            .and_then(|w| w.as_str())
            .filter(|w| !w.trim().is_empty())
        {
            Some(w) => format!("(select * from {relation} where {w}) dbt_subquery"),
            None => relation,
        };
        out.sql = if test == "not_null" {
            let store = config.get("store_failures").and_then(serde_json::Value::as_bool) == Some(true);
            let columns = if store { "*" } else { column };
            format!("\n\nselect {columns}\nfrom {model}\nwhere {column} is null\n")
        } else {
            format!(
                "\nselect\n    {column} as unique_field,\n    count(*) as n_records\nfrom {model}\nwhere {column} is not null\ngroup by {column}\nhaving count(*) > 1\n"
            )
        };
        out.macros.insert(info.unique_id.clone());
        Some(out)
    }

    /// `true` if the project overrides a built-in macro of this name.
    pub fn is_overridden(&self, name: &str) -> bool {
        self.global(name).is_some_and(|m| !m.builtin)
    }

    /// Renders a node's template.
    pub fn render(&self, file: &str, source: &str, node: &NodeContext) -> Result<RenderOutput, RenderError> {
        let capture = Arc::new(Capture::new(node));
        if let Some((line, _)) = preprocess::overlong_chain(source) {
            return Err(overlong_chain_error(file, line));
        }
        let source = preprocess::expressions(source);
        let tmpl = self
            .env
            .template_from_named_str(file, &source)
            .map_err(|e| render_error(&e, file))?;
        let ctx = context_for(&capture, node);
        let sql = tmpl.render(ctx).map_err(|e| render_error(&e, file))?;
        Ok(capture.finish(sql))
    }

    /// Renders a template string in a node's context (used for YAML values and
    /// generic test calls built by the compiler).
    pub fn render_str(&self, name: &str, source: &str, node: &NodeContext) -> Result<RenderOutput, RenderError> {
        self.render(name, source, node)
    }

    /// Calls a macro with positional arguments and returns its output (or returned value as text).
    pub fn call_macro(
        &self,
        name: &str,
        args: &[serde_json::Value],
        node: &NodeContext,
    ) -> Result<String, RenderError> {
        let capture = Arc::new(Capture::new(node));
        let tmpl = self
            .env
            .template_from_named_str("<macro call>", "{{ __modelc_call(__modelc_name, __modelc_args) }}")
            .map_err(|e| render_error(&e, "<macro call>"))?;
        let mut ctx = context_for(&capture, node);
        ctx.insert("__modelc_name".into(), Value::from(name));
        ctx.insert(
            "__modelc_args".into(),
            Value::from(args.iter().map(crate::to_value).collect::<Vec<_>>()),
        );
        tmpl.render(Value::from(ctx))
            .map_err(|e| render_error(&e, "<macro call>"))
    }
}

fn context_for(capture: &Arc<Capture>, node: &NodeContext) -> BTreeMap<String, Value> {
    let model = objects::ModelObj {
        name: node.name.clone(),
        unique_id: node.unique_id.clone(),
        resource_type: node.resource_type.clone(),
        original_file_path: node.original_file_path.clone(),
        capture: capture.clone(),
    };
    let mut ctx = BTreeMap::new();
    ctx.insert("execute".to_string(), Value::from(!node.parse_only));
    ctx.insert("__modelc".to_string(), Value::from_dyn_object(capture.clone()));
    ctx.insert("this".to_string(), Value::from_object(RelObj(Target::This)));
    ctx.insert(
        "config".to_string(),
        Value::from_dyn_object(Arc::new(ConfigObj(capture.clone()))),
    );
    ctx.insert("model".to_string(), Value::from_object(model));
    ctx.insert(
        "graph".to_string(),
        Value::from_object(database::GraphObj(capture.clone())),
    );
    for (k, v) in &node.globals {
        ctx.insert(k.clone(), crate::to_value(v));
    }
    ctx
}

fn render_error(e: &minijinja::Error, file: &str) -> RenderError {
    // Find the innermost error with a location (errors in macros chain to the caller).
    let mut located: Option<&minijinja::Error> = None;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(mj) = err.downcast_ref::<minijinja::Error>() {
            if mj.line().is_some() {
                located = Some(mj);
            }
        }
        cur = err.source();
    }
    let at = located.unwrap_or(e);
    let message = match at.detail() {
        Some(d) => format!("{}: {d}", at.kind()),
        None => at.kind().to_string(),
    };
    RenderError {
        file: at.name().map(str::to_owned).unwrap_or_else(|| file.to_owned()),
        line: at.line().unwrap_or(0),
        message,
    }
}

/// The error for an expression that chains too many operators to compile.
fn overlong_chain_error(file: &str, line: usize) -> RenderError {
    RenderError {
        file: file.to_owned(),
        line,
        message: format!(
            "an expression chains more than {} operators or filters, too many to compile; split it with {{% set %}}",
            preprocess::MAX_JINJA_CHAIN
        ),
    }
}

fn error_diag(e: &minijinja::Error, file: &str) -> Diagnostic {
    let r = render_error(e, file);
    Diagnostic::error("jinja", r.message).at(r.file, r.line, 1)
}

/// Converts any serializable value (JSON config, maps) to a template value.
pub(crate) fn to_value<T: serde::Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}
