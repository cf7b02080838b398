//! What templates ask of the database: dbt's `run_query`, `statement` /
//! `load_result`, `adapter.get_columns_in_relation`, `adapter.get_relation`, and the
//! `api.Relation` / `api.Column` objects they return.
//!
//! A render answers these through a [`Database`] given in its [`NodeContext`]
//! (`crate::NodeContext::database`). Without one, a render in execute mode fails
//! with [`NEEDS_DATABASE`]: the compiler then renders the node as dbt's parse phase
//! does (`execute` false: no queries, empty answers) to learn its refs and config,
//! and renders it again once something can answer truly (modelc's own analysis of
//! the upstream SQL, or the database at run time). Never a silent empty answer.

use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use crate::placeholder::Target;

/// Marker in the error of a render that asked the database with none to answer.
pub const NEEDS_DATABASE: &str = "needs the database";

/// A relation a template asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelationArg {
    /// `ref(...)`, `source(...)` or `this` of the node being rendered.
    Target(Target),
    /// A relation named in full (`api.Relation.create(...)`, `adapter.get_relation(...)`).
    Named {
        /// Database (catalog); `None` for the target's.
        database: Option<String>,
        /// Schema; `None` for the target's.
        schema: Option<String>,
        /// Table or view name.
        identifier: String,
    },
}

/// A column as the database (or modelc's analysis) describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbColumn {
    /// Its name.
    pub name: String,
    /// Its type, when known.
    pub data_type: Option<String>,
}

/// The result of a query: column names and types, rows of JSON values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryTable {
    /// `(name, type)` of each column.
    pub columns: Vec<(String, String)>,
    /// The rows.
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// Answers a render's questions about the database.
pub trait Database: Send + Sync + fmt::Debug {
    /// The columns of a relation; `Ok(None)` when it does not exist.
    fn columns(&self, relation: &RelationArg) -> Result<Option<Vec<DbColumn>>, String>;
    /// The relation's `(database, schema, identifier)` when it exists.
    fn relation(&self, relation: &RelationArg) -> Result<Option<(String, String, String)>, String>;
    /// Runs a query (its text may hold the render's relation placeholders).
    fn query(&self, sql: &str) -> Result<QueryTable, String>;
    /// `adapter.drop_relation`: drops the relation if it exists (the database
    /// decides when: a hook's drops run on the node's connection, before the hook).
    fn drop_relation(&self, relation: &RelationArg) -> Result<(), String>;
    /// dbt's `graph`: `{"nodes": {...}, "sources": {...}, ...}` as in the manifest.
    fn graph(&self) -> Result<Arc<serde_json::Value>, String>;
}

/// dbt's `graph` context variable. Reading it needs the whole compiled project, so
/// the render that reads it is a late one; in the parse phase it is empty.
#[derive(Debug)]
pub struct GraphObj(pub(crate) Arc<crate::objects::Capture>);

impl Object for GraphObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        if !GRAPH_KEYS.contains(&key) {
            return None;
        }
        Some(match self.0.database_for("graph") {
            Err(e) => Value::from(e),
            Ok(None) => Value::from(std::collections::BTreeMap::<String, Value>::new()),
            Ok(Some(db)) => match db.graph() {
                Ok(g) => json(g.get(key).unwrap_or(&serde_json::Value::Null)),
                Err(e) => Value::from(err(e)),
            },
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(GRAPH_KEYS)
    }
}

const GRAPH_KEYS: &[&str] = &[
    "nodes",
    "sources",
    "exposures",
    "metrics",
    "groups",
    "semantic_models",
    "saved_queries",
];

/// Whether `relation.incorporate(...)` keeps the relation's path (only its
/// `type` changes, which modelc's relations do not carry): it is then the same relation.
pub(crate) fn keeps_path(args: &[Value]) -> bool {
    args.iter()
        .all(|a| a.is_kwargs() && a.get_attr("path").map_or(true, |p| p.is_undefined()))
}

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// The error of a question no database is there to answer.
pub fn needs_database(what: &str) -> Error {
    err(format!("{what} {NEEDS_DATABASE}"))
}

/// A relation named in full (dbt's `Relation`).
#[derive(Debug, Clone)]
pub struct NamedRelation {
    /// Database.
    pub database: String,
    /// Schema.
    pub schema: String,
    /// Identifier.
    pub identifier: String,
}

const NAMED_RELATION_KEYS: &[&str] = &[
    "database",
    "schema",
    "identifier",
    "name",
    "table",
    "metadata",
    "is_cte",
];

impl NamedRelation {
    /// As a template value.
    pub fn value(database: &str, schema: &str, identifier: &str) -> Value {
        Value::from_object(NamedRelation {
            database: database.to_string(),
            schema: schema.to_string(),
            identifier: identifier.to_string(),
        })
    }

    /// The relation a template value names, if it names one.
    pub fn arg_of(v: &Value) -> Option<RelationArg> {
        if let Some(r) = v.downcast_object_ref::<crate::objects::RelObj>() {
            return Some(RelationArg::Target(r.0));
        }
        let n = v.downcast_object_ref::<NamedRelation>()?;
        Some(RelationArg::Named {
            database: (!n.database.is_empty()).then(|| n.database.clone()),
            schema: (!n.schema.is_empty()).then(|| n.schema.clone()),
            identifier: n.identifier.clone(),
        })
    }
}

impl Object for NamedRelation {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "database" => Value::from(self.database.as_str()),
            "schema" => Value::from(self.schema.as_str()),
            "identifier" | "name" | "table" => Value::from(self.identifier.as_str()),
            "metadata" => Value::from(std::collections::BTreeMap::from([("type", "DuckDBRelation")])),
            "is_cte" => Value::from(false),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(NAMED_RELATION_KEYS)
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            "incorporate" if keeps_path(args) => Ok(Value::from_dyn_object(self.clone())),
            "render" | "include" | "quote" | "incorporate" => Ok(Value::from(self.to_string())),
            "get" => Ok(mapping_get(|k| self.get_value(k), args)),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string())
    }
}

impl fmt::Display for NamedRelation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [&self.database, &self.schema, &self.identifier];
        let shown: Vec<String> = parts
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| modelc_core::quote_ident(p))
            .collect();
        f.write_str(&shown.join("."))
    }
}

/// dbt's `api.Column`: `.name`, `.column`, `.quoted`, `.data_type`, `.dtype`, and the
/// type tests `is_string()`, `is_number()`, ... A type modelc does not know is an
/// error when read, not a guess.
#[derive(Debug, Clone)]
pub struct ColumnObj {
    name: String,
    data_type: Option<String>,
}

impl ColumnObj {
    /// As a template value.
    pub fn value(name: &str, data_type: Option<&str>) -> Value {
        Value::from_object(ColumnObj {
            name: name.to_string(),
            data_type: data_type.map(str::to_owned),
        })
    }

    fn dtype(&self) -> Result<String, Error> {
        self.data_type.clone().ok_or_else(|| {
            err(format!(
                "the type of column '{}' is not known before its relation is built",
                self.name
            ))
        })
    }
}

impl Object for ColumnObj {
    truthy!();

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "name" | "column" => Value::from(self.name.as_str()),
            "quoted" => Value::from(modelc_core::quote_ident(&self.name)),
            // An unknown type is an invalid value: using it fails, naming the column.
            "data_type" | "dtype" => match self.dtype() {
                Ok(t) => Value::from(t),
                Err(e) => Value::from(e),
            },
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        let t = || self.dtype().map(|t| t.to_lowercase());
        let is = |prefixes: &[&str]| -> Result<Value, Error> {
            let t = t()?;
            Ok(Value::from(prefixes.iter().any(|p| t.starts_with(p))))
        };
        match method {
            "is_string" => is(&["varchar", "text", "char", "string", "bpchar"]),
            "is_integer" => is(&["int", "bigint", "smallint", "tinyint", "hugeint", "ubigint", "uinteger"]),
            "is_float" => is(&["float", "double", "real"]),
            "is_numeric" => is(&["decimal", "numeric"]),
            "is_number" => is(&[
                "int", "bigint", "smallint", "tinyint", "hugeint", "float", "double", "real", "decimal", "numeric",
            ]),
            "is_timestamp" => is(&["timestamp"]),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<Column {} ({})>",
            self.name,
            self.data_type.as_deref().unwrap_or("?")
        )
    }
}

/// A query result as dbt's agate table: `.rows` (each indexable by position and
/// name), `.columns` (each with `.name` and `.values()`), `.column_names`,
/// `.column_types`; iterating it iterates its rows.
#[derive(Debug)]
pub struct TableObj(pub Arc<QueryTable>);

/// A JSON value as a template value.
pub(crate) fn json(v: &serde_json::Value) -> Value {
    crate::to_value(v)
}

impl TableObj {
    fn row(&self, i: usize) -> Value {
        Value::from_object(RowObj(self.0.clone(), i))
    }
}

impl Object for TableObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Some(i) = key.as_usize() {
            return (i < self.0.rows.len()).then(|| self.row(i));
        }
        Some(match key.as_str()? {
            "rows" => Value::from((0..self.0.rows.len()).map(|i| self.row(i)).collect::<Vec<_>>()),
            "columns" => Value::from_object(ColumnsObj(self.0.clone())),
            "column_names" => Value::from(self.0.columns.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()),
            "column_types" => Value::from(self.0.columns.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.rows.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "print_table" => Ok(Value::from(())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// The column a key names: its position, or its name.
fn column_index(table: &QueryTable, key: &Value) -> Option<usize> {
    match key.as_usize() {
        Some(i) => Some(i),
        None => {
            let name = key.as_str()?;
            table.columns.iter().position(|(n, _)| n == name)
        }
    }
}

/// A mapping's `.get(key, default)`, for objects that show as mappings.
pub(crate) fn mapping_get(found: impl FnOnce(&Value) -> Option<Value>, args: &[Value]) -> Value {
    let key = args.first().cloned().unwrap_or_default();
    found(&key).or_else(|| args.get(1).cloned()).unwrap_or(Value::from(()))
}

/// One row: a sequence of values, also looked up by column name.
#[derive(Debug)]
struct RowObj(Arc<QueryTable>, usize);

impl RowObj {
    fn values(&self) -> &[serde_json::Value] {
        self.0.rows.get(self.1).map(Vec::as_slice).unwrap_or_default()
    }
}

impl Object for RowObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = column_index(&self.0, key)?;
        self.values().get(i).map(json)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.values().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        let names = || self.0.columns.iter().map(|(n, _)| Value::from(n.as_str()));
        match method {
            "keys" => Ok(Value::from(names().collect::<Vec<_>>())),
            "values" => Ok(Value::from(self.values().iter().map(json).collect::<Vec<_>>())),
            "items" | "dict" => {
                let pairs: Vec<Value> = names()
                    .zip(self.values().iter().map(json))
                    .map(|(k, v)| Value::from(vec![k, v]))
                    .collect();
                if method == "items" {
                    Ok(Value::from(pairs))
                } else {
                    let map: std::collections::BTreeMap<Value, Value> =
                        names().zip(self.values().iter().map(json)).collect();
                    Ok(Value::from(map))
                }
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `table.columns`: by position or name.
#[derive(Debug)]
struct ColumnsObj(Arc<QueryTable>);

impl Object for ColumnsObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = column_index(&self.0, key)?;
        (i < self.0.columns.len()).then(|| Value::from_object(TableColumnObj(self.0.clone(), i)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.columns.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        let column = |i: usize| Value::from_object(TableColumnObj(self.0.clone(), i));
        let names = || self.0.columns.iter().map(|(n, _)| Value::from(n.as_str()));
        match method {
            "keys" => Ok(Value::from(names().collect::<Vec<_>>())),
            "values" => Ok(Value::from((0..self.0.columns.len()).map(column).collect::<Vec<_>>())),
            "items" => Ok(Value::from(
                names()
                    .enumerate()
                    .map(|(i, n)| Value::from(vec![n, column(i)]))
                    .collect::<Vec<_>>(),
            )),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// One column of a query result: `.name`, `.data_type`, `.values()`.
#[derive(Debug)]
struct TableColumnObj(Arc<QueryTable>, usize);

impl Object for TableColumnObj {
    truthy!();

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let (name, ty) = self.0.columns.get(self.1)?;
        Some(match key.as_str()? {
            "name" => Value::from(name.as_str()),
            "data_type" => Value::from(ty.as_str()),
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "values" | "values_distinct" => {
                let mut values: Vec<Value> = self.0.rows.iter().filter_map(|r| r.get(self.1)).map(json).collect();
                if method == "values_distinct" {
                    let mut seen = Vec::new();
                    values.retain(|v| {
                        let new = !seen.contains(v);
                        if new {
                            seen.push(v.clone());
                        }
                        new
                    });
                }
                Ok(Value::from(values))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `api`: `api.Relation.create(...)` and `api.Column(...)`.
#[derive(Debug)]
pub struct Api;

impl Object for Api {
    truthy!();

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "Relation" => Some(Value::from_object(ApiRelation)),
            "Column" => Some(Value::from_object(ApiColumn)),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct ApiRelation;

impl Object for ApiRelation {
    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            "create" => {
                let (_, kwargs): (&[Value], Kwargs) = minijinja::value::from_args(args)?;
                let part =
                    |k: &str| -> Result<String, Error> { Ok(kwargs.get::<Option<String>>(k)?.unwrap_or_default()) };
                let rel = NamedRelation::value(&part("database")?, &part("schema")?, &part("identifier")?);
                let _: Option<Value> = kwargs.get("type")?;
                Ok(rel)
            }
            "add_ephemeral_prefix" => Ok(Value::from(format!(
                "__dbt__cte__{}",
                args.first().and_then(Value::as_str).unwrap_or_default()
            ))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

#[derive(Debug)]
struct ApiColumn;

impl ApiColumn {
    fn create(args: &[Value]) -> Result<Value, Error> {
        let (pos, kwargs): (&[Value], Kwargs) = minijinja::value::from_args(args)?;
        let name = match pos.first() {
            Some(v) => v.to_string(),
            None => kwargs.get::<String>("column")?,
        };
        let dtype = match pos.get(1) {
            Some(v) => Some(v.to_string()),
            None => kwargs.get::<Option<String>>("dtype")?,
        };
        for k in ["char_size", "numeric_precision", "numeric_scale"] {
            let _: Option<Value> = kwargs.get(k)?;
        }
        Ok(ColumnObj::value(&name, dtype.as_deref()))
    }
}

impl Object for ApiColumn {
    truthy!();

    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        ApiColumn::create(args)
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            "create" => ApiColumn::create(args),
            "translate_type" => Ok(Value::from(match args.first().and_then(Value::as_str) {
                Some(t) if t.eq_ignore_ascii_case("string") => "TEXT".to_string(),
                Some(t) => t.to_string(),
                None => String::new(),
            })),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A query result as a template value.
pub fn table_value(t: QueryTable) -> Value {
    Value::from_object(TableObj(Arc::new(t)))
}
