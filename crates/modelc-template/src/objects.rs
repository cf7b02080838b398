//! The objects and functions of dbt's Jinja context.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::value::{Kwargs, Object, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};
use modelc_core::{merge_config, JsonMap, RefCall};

use crate::database::{needs_database, ColumnObj, Database, NamedRelation, RelationArg};
use crate::placeholder::{placeholder, Part, Target};
use crate::preprocess::MACRO_PREFIX;
use crate::{NodeContext, ProjectContext, RenderOutput};

/// The namespace of dbt's own macros (`dbt.dateadd(...)`): modelc's built-ins.
pub const DBT_NAMESPACE: &str = "dbt";
/// Nested macro calls allowed before a render fails: recursion without end must be
/// an error, not a stack overflow.
const MAX_MACRO_DEPTH: usize = 64;

/// Name of the state temp that holds a macro's `return()` value.
const RETURN_SLOT: &str = "__modelc_return";
/// Context variables a macro call passes on to the macro's own state.
const PER_RENDER: &[&str] = &["__modelc", "this", "config", "model", "execute", "graph"];

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

#[derive(Debug, Default)]
struct Captured {
    refs: Vec<RefCall>,
    sources: Vec<(String, String)>,
    config: JsonMap,
    macros: BTreeSet<String>,
    uses_is_incremental: bool,
    vars: BTreeSet<String>,
    env_vars: BTreeSet<String>,
    /// `statement` results by name, for `load_result`.
    results: BTreeMap<String, Value>,
}

/// Per-render state: what the node's template called.
#[derive(Debug)]
pub struct Capture {
    base_config: JsonMap,
    is_incremental: bool,
    /// The node's package (empty for the root project), for package-scoped vars.
    package: String,
    /// How many macro calls are under way, to stop endless recursion.
    depth: std::sync::atomic::AtomicUsize,
    /// `execute`: false in dbt's parse phase.
    execute: bool,
    database: Option<Arc<dyn Database>>,
    /// The node's own `var()` and `env_var()` values, over the project's.
    vars: JsonMap,
    env_vars: BTreeMap<String, String>,
    /// Macros answered with a value instead of run (see `NodeContext`).
    macro_overrides: JsonMap,
    inner: Mutex<Captured>,
}

impl Object for Capture {}

impl Capture {
    pub fn new(node: &NodeContext) -> Self {
        Capture {
            base_config: node.config.clone(),
            is_incremental: node.is_incremental,
            package: node.package.clone(),
            depth: std::sync::atomic::AtomicUsize::new(0),
            execute: !node.parse_only,
            database: node.database.clone(),
            vars: node.vars.clone(),
            env_vars: node.env_vars.clone(),
            macro_overrides: node.macro_overrides.clone(),
            inner: Mutex::new(Captured::default()),
        }
    }

    /// The database to ask, `Ok(None)` in the parse phase (the answer is then
    /// dbt's parse-time one), an error when nothing can answer.
    pub(crate) fn database_for(&self, what: &str) -> Result<Option<&Arc<dyn Database>>, Error> {
        self.database(what)
    }

    fn database(&self, what: &str) -> Result<Option<&Arc<dyn Database>>, Error> {
        if !self.execute {
            return Ok(None);
        }
        self.database.as_ref().map(Some).ok_or_else(|| needs_database(what))
    }

    fn lock(&self) -> MutexGuard<'_, Captured> {
        // A poisoned lock only means another render panicked; the data is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One key of the config as seen so far: known levels, then `config()` calls
    /// (merged as [`merge_config`] merges them, without copying the whole config).
    fn config_value(&self, key: &str) -> Option<serde_json::Value> {
        let set = self.lock().config.get(key).cloned();
        let base = self.base_config.get(key);
        match (base, set) {
            (base, None) => base.cloned(),
            (None, Some(set)) => Some(set),
            (Some(base), Some(set)) => {
                let mut merged = JsonMap::new();
                merged.insert(key.to_string(), base.clone());
                let mut overlay = JsonMap::new();
                overlay.insert(key.to_string(), set);
                merge_config(&mut merged, &overlay);
                merged.remove(key)
            }
        }
    }

    pub fn finish(&self, sql: String) -> RenderOutput {
        let c = std::mem::take(&mut *self.lock());
        RenderOutput {
            sql,
            refs: c.refs,
            sources: c.sources,
            config: c.config,
            macros: c.macros,
            uses_is_incremental: c.uses_is_incremental,
            vars: c.vars,
            env_vars: c.env_vars,
        }
    }
}

fn capture(state: &State) -> Result<Arc<Capture>, Error> {
    state
        .lookup("__modelc")
        .and_then(|v| v.downcast_object::<Capture>())
        .ok_or_else(|| err("this function is only available while rendering a node"))
}

/// dbt's `model` context variable, built on access: most templates never read it,
/// and converting every node's config up front was a noticeable part of rendering.
#[derive(Debug)]
pub struct ModelObj {
    pub name: String,
    pub unique_id: String,
    pub resource_type: String,
    pub original_file_path: String,
    pub capture: Arc<Capture>,
}

impl Object for ModelObj {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "name" => Value::from(self.name.as_str()),
            "unique_id" => Value::from(self.unique_id.as_str()),
            "resource_type" => Value::from(self.resource_type.as_str()),
            "original_file_path" => Value::from(self.original_file_path.as_str()),
            "config" => crate::to_value(&self.capture.base_config),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Str(&["name", "unique_id", "resource_type", "original_file_path", "config"])
    }
}

/// A relation placeholder: `ref(...)`, `source(...)` or `this`.
#[derive(Debug)]
pub struct RelObj(pub Target);

/// What a relation shows as a mapping, as dbt's `Relation` (a dataclass that
/// packages test with `is mapping` and `.get('metadata').type`).
const RELATION_KEYS: &[&str] = &[
    "database",
    "schema",
    "identifier",
    "name",
    "table",
    "metadata",
    "is_cte",
];

impl Object for RelObj {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let part = match key.as_str()? {
            "database" => Part::Database,
            "schema" => Part::Schema,
            "identifier" | "name" | "table" => Part::Identifier,
            "metadata" => {
                let mut m = JsonMap::new();
                m.insert("type".into(), "DuckDBRelation".into());
                return Some(crate::to_value(&m));
            }
            // Ephemeral models are inlined as CTEs only after rendering; a macro that
            // needs the relation's columns fails then, naming it.
            "is_cte" => return Some(Value::from(false)),
            _ => return None,
        };
        Some(Value::from(placeholder(self.0, part)))
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Str(RELATION_KEYS)
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            "incorporate" if crate::database::keeps_path(args) => Ok(Value::from_dyn_object(self.clone())),
            "render" | "include" | "quote" | "incorporate" => Ok(Value::from(placeholder(self.0, Part::Whole))),
            "get" => Ok(crate::database::mapping_get(|k| self.get_value(k), args)),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&placeholder(self.0, Part::Whole))
    }
}

/// dbt's `config`: callable to set values, with `get` and `require` to read them.
#[derive(Debug)]
pub struct ConfigObj(pub Arc<Capture>);

impl Object for ConfigObj {
    truthy!();

    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let mut map = JsonMap::new();
        for a in args {
            if a.is_kwargs() || a.as_object().is_some() || matches!(a.kind(), minijinja::value::ValueKind::Map) {
                let json = serde_json::to_value(a).map_err(|e| err(format!("config(): {e}")))?;
                if let serde_json::Value::Object(m) = json {
                    map.extend(m);
                }
            } else if !a.is_undefined() && !a.is_none() {
                return Err(err(
                    "config() takes keyword arguments, e.g. config(materialized='table')",
                ));
            }
        }
        merge_config(&mut self.0.lock().config, &map);
        Ok(Value::from(""))
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let key = args.first().and_then(Value::as_str).unwrap_or_default().to_string();
        let found = self.0.config_value(&key).filter(|v| !v.is_null()).map(crate::to_value);
        match method {
            "get" => Ok(found.or_else(|| args.get(1).cloned()).unwrap_or(Value::from(()))),
            "require" => found.ok_or_else(|| err(format!("required config '{key}' is not set"))),
            "set" => {
                let mut m = JsonMap::new();
                let v = args
                    .get(1)
                    .map(|v| serde_json::to_value(v).unwrap_or_default())
                    .unwrap_or_default();
                m.insert(key, v);
                merge_config(&mut self.0.lock().config, &m);
                Ok(Value::from(""))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A macro, callable by name from any template.
#[derive(Debug)]
struct MacroFn {
    name: String,
    template: String,
    unique_id: String,
    /// The installed package defining it: its siblings resolve unqualified inside it.
    package: Option<String>,
    /// Declared parameters, for a macro that reads `kwargs`/`varargs`.
    params: Option<Vec<String>>,
}

pub fn macro_value(
    name: &str,
    template: &str,
    unique_id: &str,
    package: Option<&str>,
    params: Option<Vec<String>>,
) -> Value {
    Value::from_object(MacroFn {
        name: name.to_string(),
        template: template.to_string(),
        unique_id: unique_id.to_string(),
        package: package.map(str::to_owned),
        params,
    })
}

/// Jinja2's `varargs` and `kwargs`: a call's positional arguments beyond the declared
/// parameters go into `varargs`, its keyword arguments that name no parameter into
/// `kwargs` (the definition takes both as parameters, see `preprocess`).
fn spread_extra_args(params: &[String], args: &[Value]) -> Result<Vec<Value>, Error> {
    let (positional, kwargs) = match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => (rest, Some(last)),
        _ => (args, None),
    };
    let declared = params.len();
    let mut out: Vec<Value> = positional.iter().take(declared).cloned().collect();
    let varargs: Vec<Value> = positional.iter().skip(declared).cloned().collect();
    let mut named: Vec<(String, Value)> = Vec::new();
    let mut extra = Vec::new();
    if let Some(kwargs) = kwargs {
        for key in kwargs.try_iter()? {
            let value = kwargs.get_item(&key)?;
            match key.as_str() {
                Some(k) if params.iter().any(|p| p == k) => named.push((k.to_string(), value)),
                _ => extra.push((key, value)),
            }
        }
    }
    named.push(("varargs".into(), crate::mutable::List::new_value(varargs)));
    named.push(("kwargs".into(), crate::mutable::Dict::from_entries(extra)));
    out.push(Kwargs::from_iter(named).into());
    Ok(out)
}

/// The context a macro's template renders in: the node's per-render values, then
/// (for a package's macro) the package's own macros, before the globals.
#[derive(Debug)]
struct MacroScope {
    values: BTreeMap<&'static str, Value>,
    package: Option<Arc<Macros>>,
}

impl Object for MacroScope {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        if let Some(v) = self.values.get(key) {
            return Some(v.clone());
        }
        self.package.as_ref()?.0.get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Str(PER_RENDER)
    }
}

impl MacroFn {
    fn invoke(&self, state: &State, args: &[Value]) -> Result<Value, Error> {
        let capture = capture(state).ok();
        if let Some(c) = &capture {
            c.lock().macros.insert(self.unique_id.clone());
            if let Some(value) = self.overridden(c) {
                return Ok(crate::to_value(value));
            }
            let depth = c.depth.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if depth >= MAX_MACRO_DEPTH {
                c.depth.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                return Err(err(format!(
                    "macro '{}' ({}) is nested more than {MAX_MACRO_DEPTH} calls deep: does it call itself without end?",
                    self.name,
                    self.template.split('#').next().unwrap_or(&self.template)
                )));
            }
        }
        let result = self.invoke_inner(state, args);
        if let Some(c) = &capture {
            c.depth.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        result
    }

    /// The value a unit test's `overrides: macros` gives this macro, as dbt looks
    /// it up: by `package.name`, then by name.
    fn overridden<'c>(&self, c: &'c Capture) -> Option<&'c serde_json::Value> {
        if c.macro_overrides.is_empty() {
            return None;
        }
        let qualified = self.unique_id.strip_prefix("macro.")?;
        c.macro_overrides
            .get(qualified)
            .or_else(|| c.macro_overrides.get(&self.name))
    }

    fn invoke_inner(&self, state: &State, args: &[Value]) -> Result<Value, Error> {
        let tmpl = state.env().get_template(&self.template)?;
        let values: BTreeMap<&'static str, Value> = PER_RENDER
            .iter()
            .filter_map(|k| state.lookup(k).map(|v| (*k, v)))
            .collect();
        let package = self
            .package
            .as_ref()
            .and_then(|p| state.lookup(p))
            .and_then(|v| v.downcast_object::<PackageNs>())
            .map(|ns| ns.macros.clone());
        // A package's macro sees its package's macros first; the root project's
        // and the built-ins see the globals, through a plain map (faster lookups).
        let ctx = match package {
            Some(package) => Value::from_object(MacroScope {
                values,
                package: Some(package),
            }),
            None => Value::from(values),
        };
        let mut captured = tmpl.render_captured(ctx)?;
        let inner = format!("{MACRO_PREFIX}{}", self.name);
        let spread;
        let args = match &self.params {
            Some(params) => {
                spread = spread_extra_args(params, args)?;
                spread.as_slice()
            }
            None => args,
        };
        captured.with_state_mut(|s| {
            let m = s
                .lookup(&inner)
                .ok_or_else(|| err(format!("macro '{}' not found in {}", self.name, self.template)))?;
            let out = m.call(s, args);
            match s.get_temp(RETURN_SLOT) {
                Some(returned) => Ok(returned),
                None => out,
            }
        })
    }
}

impl Object for MacroFn {
    truthy!();

    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        self.invoke(state, args)
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<macro {}>", self.name)
    }
}

/// The macros of one namespace, by name.
#[derive(Debug, Default)]
struct Macros(BTreeMap<String, Value>);

/// A package's namespace object: `dbt_utils.star(...)`, `my_project.my_macro(...)`.
#[derive(Debug)]
struct PackageNs {
    name: String,
    macros: Arc<Macros>,
}

impl Object for PackageNs {
    truthy!();

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.macros.0.get(key.as_str()?).cloned()
    }

    fn call_method(self: &Arc<Self>, state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match self.macros.0.get(method) {
            Some(m) => m.call(state, args),
            None => Err(err(format!("package '{}' has no macro named '{method}'", self.name))),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<namespace {}>", self.name)
    }
}

/// Every namespace and how `adapter.dispatch` searches them.
#[derive(Debug)]
struct Dispatcher {
    root: String,
    namespaces: BTreeMap<String, Arc<Macros>>,
    /// The project's `dispatch:` config.
    search_orders: Vec<(String, Vec<String>)>,
    /// The prefixes dispatch tries, in order: the engine's (`postgres`), then `default`.
    prefixes: [String; 2],
}

impl Dispatcher {
    /// The packages searched for `adapter.dispatch(name, namespace)`, in dbt's
    /// order: the project's `dispatch:` config for the namespace, else the root
    /// project then the namespace itself; `None` stands for the caller's scope.
    fn search_packages(&self, namespace: Option<&str>) -> Vec<Option<String>> {
        let Some(ns) = namespace else { return vec![None] };
        if let Some((_, order)) = self.search_orders.iter().find(|(n, o)| n == ns && !o.is_empty()) {
            return order.iter().cloned().map(Some).collect();
        }
        vec![Some(self.root.clone()), Some(ns.to_string())]
    }

    fn dispatch(&self, state: &State, name: &str, namespace: Option<&str>) -> Result<Value, Error> {
        let mut tried = Vec::new();
        for package in self.search_packages(namespace) {
            for prefix in &self.prefixes {
                let candidate = format!("{prefix}__{name}");
                let found = match &package {
                    None => state.lookup(&candidate).filter(|v| !v.is_undefined()),
                    Some(p) => self.namespaces.get(p).and_then(|m| m.0.get(&candidate)).cloned(),
                };
                if let Some(v) = found {
                    return Ok(v);
                }
                tried.push(match &package {
                    None => candidate,
                    Some(p) => format!("{p}.{candidate}"),
                });
            }
        }
        // modelc's built-ins are DuckDB's already: `dbt`'s own macros dispatch to themselves.
        if namespace.is_none_or(|ns| ns == DBT_NAMESPACE) {
            if let Some(v) = self.namespaces.get(DBT_NAMESPACE).and_then(|m| m.0.get(name)) {
                return Ok(v.clone());
            }
        }
        Err(err(format!(
            "adapter.dispatch('{name}'{}): no macro found; tried {}",
            namespace.map(|n| format!(", '{n}'")).unwrap_or_default(),
            tried.join(", ")
        )))
    }
}

/// Registers a namespace object for the root project and every package, the `dbt`
/// namespace, and `adapter` with dbt's dispatch rules.
pub fn register_namespaces(
    env: &mut Environment<'static>,
    shared: &Arc<ProjectContext>,
    namespaces: BTreeMap<String, BTreeMap<String, Value>>,
    packages: &[String],
) {
    let namespaces: BTreeMap<String, Arc<Macros>> =
        namespaces.into_iter().map(|(k, v)| (k, Arc::new(Macros(v)))).collect();
    let mut names: BTreeSet<&str> = packages.iter().map(String::as_str).collect();
    names.insert(shared.project_name.as_str());
    for name in names {
        // A macro of the same name keeps its global.
        if env.globals().any(|(k, _)| k == name) {
            continue;
        }
        env.add_global(
            name.to_string(),
            Value::from_object(PackageNs {
                name: name.to_string(),
                macros: namespaces.get(name).cloned().unwrap_or_default(),
            }),
        );
    }
    let dispatcher = Arc::new(Dispatcher {
        root: shared.project_name.clone(),
        namespaces,
        search_orders: shared.dispatch.clone(),
        prefixes: [shared.adapter_type().to_string(), "default".to_string()],
    });
    env.add_global("dbt", Value::from_object(Namespace(dispatcher.clone())));
    env.add_global("adapter", Value::from_object(Adapter(dispatcher)));
}

/// `adapter`: dispatch and quoting. Introspection methods are errors, not empty
/// answers: a macro that reads columns must not compile to wrong SQL.
#[derive(Debug)]
struct Adapter(Arc<Dispatcher>);

impl Object for Adapter {
    truthy!();

    fn call_method(self: &Arc<Self>, state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            "dispatch" => {
                let (args, kwargs): (&[Value], Kwargs) = minijinja::value::from_args(args)?;
                let name = args
                    .first()
                    .and_then(Value::as_str)
                    .ok_or_else(|| err("adapter.dispatch needs a macro name"))?;
                let namespace: Option<Value> = match args.get(1) {
                    Some(v) => Some(v.clone()),
                    None => kwargs.get("macro_namespace")?,
                };
                // `packages=` (dbt < 0.20) is accepted and ignored, as dbt now does.
                let _: Option<Value> = kwargs.get("packages")?;
                let namespace = namespace.filter(|v| !v.is_none() && !v.is_undefined());
                self.0.dispatch(state, name, namespace.as_ref().and_then(Value::as_str))
            }
            "quote" => Ok(Value::from(modelc_core::quote_ident(
                args.first().and_then(Value::as_str).unwrap_or_default(),
            ))),
            "type" => Ok(Value::from(self.0.prefixes[0].clone())),
            "get_columns_in_relation" => {
                let rel = args.first().cloned().unwrap_or_default();
                let Some(arg) = NamedRelation::arg_of(&rel) else {
                    return Err(err(format!(
                        "adapter.get_columns_in_relation expects a relation, got {rel}"
                    )));
                };
                let c = capture(state)?;
                let Some(db) = c.database(&format!("adapter.get_columns_in_relation({rel})"))? else {
                    return Ok(Value::from(Vec::<Value>::new()));
                };
                let columns = db.columns(&arg).map_err(err)?.unwrap_or_default();
                Ok(Value::from(
                    columns
                        .iter()
                        .map(|c| ColumnObj::value(&c.name, c.data_type.as_deref()))
                        .collect::<Vec<_>>(),
                ))
            }
            "get_relation" | "load_relation" => {
                let arg = if method == "load_relation" {
                    let rel = args.first().cloned().unwrap_or_default();
                    NamedRelation::arg_of(&rel)
                        .ok_or_else(|| err(format!("adapter.load_relation expects a relation, got {rel}")))?
                } else {
                    let (pos, kwargs): (&[Value], Kwargs) = minijinja::value::from_args(args)?;
                    let part = |i: usize, k: &str| -> Result<Option<String>, Error> {
                        match pos.get(i) {
                            Some(v) if !v.is_none() => Ok(Some(v.to_string())),
                            _ => kwargs.get::<Option<String>>(k),
                        }
                    };
                    RelationArg::Named {
                        database: part(0, "database")?,
                        schema: part(1, "schema")?,
                        identifier: part(2, "identifier")?.unwrap_or_default(),
                    }
                };
                let c = capture(state)?;
                let Some(db) = c.database(&format!("adapter.{method}"))? else {
                    return Ok(Value::from(()));
                };
                Ok(match db.relation(&arg).map_err(err)? {
                    Some((d, s, i)) => NamedRelation::value(&d, &s, &i),
                    None => Value::from(()),
                })
            }
            "drop_relation" => {
                let rel = args.first().cloned().unwrap_or_default();
                let arg = NamedRelation::arg_of(&rel)
                    .ok_or_else(|| err(format!("adapter.drop_relation expects a relation, got {rel}")))?;
                let c = capture(state)?;
                // The parse phase drops nothing (dbt's `available.parse_none`).
                if let Some(db) = c.database(&format!("adapter.drop_relation({rel})"))? {
                    db.drop_relation(&arg).map_err(err)?;
                }
                Ok(Value::from(()))
            }
            _ => Err(err(format!(
                "adapter.{method}({}) is not supported by modelc yet: it would need the database at compile time",
                args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }
}

/// `exceptions`.
#[derive(Debug)]
struct Exceptions;

impl Object for Exceptions {
    truthy!();

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let msg = args.first().map(|v| v.to_string()).unwrap_or_default();
        match method {
            "raise_compiler_error" | "raise_not_implemented" => Err(err(msg)),
            "warn" => {
                eprintln!("warning: {msg}");
                Ok(Value::from(""))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// The `dbt` namespace: `dbt.date_trunc(...)` calls dbt's macro of that name,
/// which dispatches as dbt's does: the root project's `duckdb__date_trunc` or
/// `default__date_trunc` win over modelc's built-in.
#[derive(Debug)]
struct Namespace(Arc<Dispatcher>);

impl Object for Namespace {
    truthy!();

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        let root = self.0.namespaces.get(&self.0.root);
        self.0
            .prefixes
            .iter()
            .find_map(|p| root.and_then(|m| m.0.get(&format!("{p}__{name}"))))
            .or_else(|| self.0.namespaces.get(DBT_NAMESPACE).and_then(|m| m.0.get(name)))
            .cloned()
    }

    fn call_method(self: &Arc<Self>, state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match self.get_value(&Value::from(method)) {
            Some(f) => f.call(state, args),
            None => Err(err(format!("dbt.{method} is not a macro modelc knows"))),
        }
    }
}

fn json_to_value(v: &serde_json::Value) -> Value {
    crate::to_value(v)
}

/// Registers dbt's global functions and objects.
pub fn register_globals(env: &mut Environment<'static>, shared: &Arc<ProjectContext>) {
    env.add_function(
        "ref",
        |state: &State, args: Rest<String>, kwargs: Kwargs| -> Result<Value, Error> {
            let version: Option<Value> = kwargs.get("v").ok().or_else(|| kwargs.get("version").ok());
            let (package, name) = match args.as_slice() {
                [name] => (None, name.clone()),
                [package, name] => (Some(package.clone()), name.clone()),
                _ => return Err(err("ref() takes a model name, or a package and a model name")),
            };
            let call = RefCall {
                package,
                name,
                version: version
                    .filter(|v| !v.is_none() && !v.is_undefined())
                    .map(|v| v.to_string()),
            };
            let c = capture(state)?;
            let mut inner = c.lock();
            let idx = match inner.refs.iter().position(|r| *r == call) {
                Some(i) => i,
                None => {
                    inner.refs.push(call);
                    inner.refs.len() - 1
                }
            };
            Ok(Value::from_object(RelObj(Target::Ref(idx))))
        },
    );
    env.add_function(
        "source",
        |state: &State, source: String, table: String| -> Result<Value, Error> {
            let c = capture(state)?;
            let mut inner = c.lock();
            let key = (source, table);
            let idx = match inner.sources.iter().position(|s| *s == key) {
                Some(i) => i,
                None => {
                    inner.sources.push(key);
                    inner.sources.len() - 1
                }
            };
            Ok(Value::from_object(RelObj(Target::Source(idx))))
        },
    );
    let vars = shared.clone();
    env.add_function("var", move |state: &State, name: String, default: Option<Value>| -> Result<Value, Error> {
        let mut scope = &vars.vars;
        if let Ok(c) = capture(state) {
            c.lock().vars.insert(name.clone());
            if let Some(v) = c.vars.get(&name) {
                return Ok(json_to_value(v));
            }
            if let Some(own) = vars.package_vars.get(&c.package) {
                scope = own;
            }
        }
        match scope.get(&name) {
            Some(v) => Ok(json_to_value(v)),
            None => default.ok_or_else(|| {
                err(format!("required var '{name}' not found in config: set it under 'vars:' in the project file or pass --vars"))
            }),
        }
    });
    let docs = shared.clone();
    env.add_function("doc", move |args: Rest<String>| -> Result<Value, Error> {
        let name = args.last().ok_or_else(|| err("doc() takes a docs block name"))?;
        docs.docs.get(name).map(|d| Value::from(d.as_str())).ok_or_else(|| {
            err(format!(
                "doc('{name}'): no {{% docs {name} %}} block in the project's docs paths"
            ))
        })
    });
    env.add_function(
        "env_var",
        |state: &State, name: String, default: Option<Value>| -> Result<Value, Error> {
            if let Ok(c) = capture(state) {
                c.lock().env_vars.insert(name.clone());
                if let Some(v) = c.env_vars.get(&name) {
                    return Ok(Value::from(v.as_str()));
                }
            }
            match std::env::var(&name) {
                Ok(v) => Ok(Value::from(v)),
                Err(_) => default.ok_or_else(|| err(format!("env var required but not provided: '{name}'"))),
            }
        },
    );
    env.add_function("is_incremental", |state: &State| -> Result<bool, Error> {
        let c = capture(state)?;
        c.lock().uses_is_incremental = true;
        Ok(c.is_incremental)
    });
    // dbt's `return(x)` ends the macro with `x`: the value is kept in a state temp
    // and an error unwinds the macro's template to `MacroFn::invoke`, which returns it.
    env.add_function(
        "return",
        |state: &mut State, value: Option<Value>| -> Result<Value, Error> {
            if state.get_temp(RETURN_SLOT).is_none() {
                state.set_temp(RETURN_SLOT, value.unwrap_or(Value::from(())));
            }
            Err(err("return() is only allowed inside a macro"))
        },
    );
    env.add_function("log", |msg: Value, kwargs: Kwargs| -> Value {
        if kwargs.get::<Option<bool>>("info").ok().flatten().unwrap_or(false) {
            eprintln!("{msg}");
        }
        Value::from("")
    });
    env.add_function(
        "get_where_subquery",
        |state: &State, relation: Value| -> Result<Value, Error> {
            let c = capture(state)?;
            let filter = c.config_value("where");
            Ok(
                match filter
                    .as_ref()
                    .and_then(|w| w.as_str())
                    .filter(|w| !w.trim().is_empty())
                {
                    Some(w) => Value::from(format!("(select * from {relation} where {w}) dbt_subquery")),
                    None => relation,
                },
            )
        },
    );
    env.add_function("should_store_failures", |state: &State| -> Result<bool, Error> {
        let c = capture(state)?;
        Ok(c.config_value("store_failures")
            .and_then(|v| v.as_bool())
            .unwrap_or(false))
    });
    env.add_function(
        "__modelc_call",
        |state: &mut State, name: String, args: Vec<Value>| -> Result<Value, Error> {
            match state.lookup(&name) {
                Some(f) if !f.is_undefined() => f.call(state, &args),
                _ => Err(err(format!("no macro named '{name}'"))),
            }
        },
    );
    env.add_global("exceptions", Value::from_object(Exceptions));
    env.add_global("api", Value::from_object(crate::database::Api));
    env.add_function("run_query", |state: &State, sql: String| -> Result<Value, Error> {
        let c = capture(state)?;
        let Some(db) = c.database("run_query()")? else {
            return Ok(Value::from(()));
        };
        Ok(crate::database::table_value(db.query(&sql).map_err(err)?))
    });
    env.add_function(
        "statement",
        |state: &mut State, args: Rest<Value>, kwargs: Kwargs| -> Result<Value, Error> {
            let name = match args.first() {
                Some(v) if !v.is_none() => Some(v.to_string()),
                _ => kwargs.get::<Option<String>>("name")?,
            };
            let fetch: bool = kwargs.get::<Option<bool>>("fetch_result")?.unwrap_or(false);
            for k in ["auto_begin", "language"] {
                let _: Option<Value> = kwargs.get(k)?;
            }
            let caller: Value = kwargs.get("caller")?;
            let c = capture(state)?;
            let sql = caller.call(state, &[])?.to_string();
            let Some(db) = c.database("{% call statement(...) %}")? else {
                return Ok(Value::from(""));
            };
            let table = db.query(&sql).map_err(err)?;
            if let Some(name) = name {
                let data: Vec<Value> = table
                    .rows
                    .iter()
                    .map(|r| Value::from(r.iter().map(crate::database::json).collect::<Vec<_>>()))
                    .collect();
                let result = Value::from(BTreeMap::from([
                    ("data", Value::from(data)),
                    (
                        "table",
                        if fetch {
                            crate::database::table_value(table)
                        } else {
                            Value::from(())
                        },
                    ),
                    ("response", Value::from("OK")),
                ]));
                c.lock().results.insert(name, result);
            }
            Ok(Value::from(""))
        },
    );
    // dbt's context `load_relation(rel)` is `adapter.load_relation(rel)`.
    env.add_function(
        "load_relation",
        |state: &mut State, rel: Value| -> Result<Value, Error> {
            let adapter = state.lookup("adapter").ok_or_else(|| err("no adapter"))?;
            adapter.call_method(state, "load_relation", &[rel])
        },
    );
    env.add_function("load_result", |state: &State, name: String| -> Result<Value, Error> {
        let c = capture(state)?;
        let found = c.lock().results.get(&name).cloned();
        Ok(found.unwrap_or(Value::from(())))
    });
    env.add_function(crate::mutable::LIST_FN, |items: Value| -> Result<Value, Error> {
        Ok(crate::mutable::List::new_value(items.try_iter()?.collect()))
    });
    env.add_function(crate::mutable::DICT_FN, |map: Value| {
        crate::mutable::Dict::new_value(&map)
    });
    env.add_global("target", crate::to_value(&shared.target));
    env.add_global("project_name", Value::from(shared.project_name.clone()));
    // A UTC datetime, as dbt's (`run_started_at.strftime(...)`, `.timestamp()`).
    env.add_global(
        "run_started_at",
        match chrono::DateTime::parse_from_rfc3339(&shared.run_started_at) {
            Ok(t) => crate::pyfuncs::DateTime::utc_value(t.with_timezone(&chrono::Utc)),
            Err(_) => Value::from(shared.run_started_at.clone()),
        },
    );
    crate::pyfuncs::register(env);
    env.add_global("invocation_id", Value::from(shared.invocation_id.clone()));
    env.add_global("execute", Value::from(true));
    env.add_global("dbt_version", Value::from(modelc_core::DBT_VERSION));
    let mut flags = JsonMap::new();
    flags.insert("FULL_REFRESH".into(), shared.full_refresh.into());
    flags.insert("WHICH".into(), "run".into());
    env.add_global("flags", crate::to_value(&flags));
}
