//! The objects and functions of dbt's Jinja context.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::value::{Kwargs, Object, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};
use modelc_core::{merge_config, JsonMap, RefCall};

use crate::placeholder::{placeholder, Part, Target};
use crate::preprocess::MACRO_PREFIX;
use crate::{MacroInfo, NodeContext, ProjectContext, RenderOutput};

/// Name of the state temp that holds a macro's `return()` value.
const RETURN_SLOT: &str = "__modelc_return";
/// Context variables a macro call passes on to the macro's own state.
const PER_RENDER: &[&str] = &["__modelc", "this", "config", "model"];

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
}

/// Per-render state: what the node's template called.
#[derive(Debug)]
pub struct Capture {
    base_config: JsonMap,
    is_incremental: bool,
    inner: Mutex<Captured>,
}

impl Object for Capture {}

impl Capture {
    pub fn new(node: &NodeContext) -> Self {
        Capture {
            base_config: node.config.clone(),
            is_incremental: node.is_incremental,
            inner: Mutex::new(Captured::default()),
        }
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

    pub fn finish(&self, sql: String, macros: &BTreeMap<String, MacroInfo>) -> RenderOutput {
        let c = std::mem::take(&mut *self.lock());
        RenderOutput {
            sql,
            refs: c.refs,
            sources: c.sources,
            config: c.config,
            macros: c
                .macros
                .iter()
                .filter_map(|m| macros.get(m).map(|i| i.unique_id.clone()))
                .collect(),
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

impl Object for RelObj {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let part = match key.as_str()? {
            "database" => Part::Database,
            "schema" => Part::Schema,
            "identifier" | "name" | "table" => Part::Identifier,
            _ => return None,
        };
        Some(Value::from(placeholder(self.0, part)))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "render" | "include" | "quote" | "incorporate" => Ok(Value::from(placeholder(self.0, Part::Whole))),
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

/// A project macro, callable by name from any template.
#[derive(Debug)]
struct MacroFn {
    name: String,
    template: String,
}

pub fn macro_value(name: &str, template: &str) -> Value {
    Value::from_object(MacroFn {
        name: name.to_string(),
        template: template.to_string(),
    })
}

impl MacroFn {
    fn invoke(&self, state: &State, args: &[Value]) -> Result<Value, Error> {
        if let Ok(c) = capture(state) {
            c.lock().macros.insert(self.name.clone());
        }
        let tmpl = state.env().get_template(&self.template)?;
        let ctx: BTreeMap<&str, Value> = PER_RENDER
            .iter()
            .filter_map(|k| state.lookup(k).map(|v| (*k, v)))
            .collect();
        let mut captured = tmpl.render_captured(Value::from(ctx))?;
        let inner = format!("{MACRO_PREFIX}{}", self.name);
        captured.with_state_mut(|s| {
            let m = s
                .lookup(&inner)
                .ok_or_else(|| err(format!("macro '{}' not found in {}", self.name, self.template)))?;
            let out = m.call(s, args)?;
            Ok(s.get_temp(RETURN_SLOT).unwrap_or(out))
        })
    }
}

impl Object for MacroFn {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        self.invoke(state, args)
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<macro {}>", self.name)
    }
}

/// `adapter`: dispatch and quoting; database introspection answers "nothing" at compile time.
#[derive(Debug)]
struct Adapter;

impl Object for Adapter {
    fn call_method(self: &Arc<Self>, state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            "dispatch" => {
                let name = args
                    .first()
                    .and_then(Value::as_str)
                    .ok_or_else(|| err("adapter.dispatch needs a macro name"))?;
                for candidate in [format!("duckdb__{name}"), format!("default__{name}"), name.to_string()] {
                    if let Some(v) = state.lookup(&candidate) {
                        if !v.is_undefined() {
                            return Ok(v);
                        }
                    }
                }
                Err(err(format!(
                    "adapter.dispatch: no macro named duckdb__{name}, default__{name} or {name}"
                )))
            }
            "quote" => Ok(Value::from(modelc_core::quote_ident(
                args.first().and_then(Value::as_str).unwrap_or_default(),
            ))),
            "type" => Ok(Value::from("duckdb")),
            "get_relation" | "load_relation" => Ok(Value::from(())),
            "get_columns_in_relation" | "list_relations_without_caching" => Ok(Value::from(Vec::<Value>::new())),
            _ => Err(err(format!(
                "adapter.{method} is not supported by modelc at compile time"
            ))),
        }
    }
}

/// `exceptions`.
#[derive(Debug)]
struct Exceptions;

impl Object for Exceptions {
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

/// The `dbt` namespace: `dbt.date_trunc(...)` calls the macro of that name.
#[derive(Debug)]
struct Namespace;

impl Object for Namespace {
    fn call_method(self: &Arc<Self>, state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match state.lookup(method) {
            Some(f) if !f.is_undefined() => f.call(state, args),
            _ => Err(err(format!("dbt.{method} is not a known macro"))),
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
        if let Ok(c) = capture(state) {
            c.lock().vars.insert(name.clone());
        }
        match vars.vars.get(&name) {
            Some(v) => Ok(json_to_value(v)),
            None => default.ok_or_else(|| {
                err(format!("required var '{name}' not found in config: set it under 'vars:' in the project file or pass --vars"))
            }),
        }
    });
    env.add_function(
        "env_var",
        |state: &State, name: String, default: Option<Value>| -> Result<Value, Error> {
            if let Ok(c) = capture(state) {
                c.lock().env_vars.insert(name.clone());
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
    env.add_function("return", |state: &mut State, value: Option<Value>| -> Value {
        if state.get_temp(RETURN_SLOT).is_none() {
            state.set_temp(RETURN_SLOT, value.unwrap_or(Value::from(())));
        }
        Value::from("")
    });
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
    env.add_global("adapter", Value::from_object(Adapter));
    env.add_global("exceptions", Value::from_object(Exceptions));
    env.add_global("dbt", Value::from_object(Namespace));
    env.add_global("target", crate::to_value(&shared.target));
    env.add_global("project_name", Value::from(shared.project_name.clone()));
    env.add_global("run_started_at", Value::from(shared.run_started_at.clone()));
    env.add_global("invocation_id", Value::from(shared.invocation_id.clone()));
    env.add_global("execute", Value::from(true));
    let mut flags = JsonMap::new();
    flags.insert("FULL_REFRESH".into(), shared.full_refresh.into());
    flags.insert("WHICH".into(), "run".into());
    env.add_global("flags", crate::to_value(&flags));
}
