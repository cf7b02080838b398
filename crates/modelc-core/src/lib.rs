//! Shared vocabulary of modelc: nodes, their configs and relations, and diagnostics.
//!
//! This crate does no IO. Every other crate speaks in these types, so they are
//! plain data: owned, serializable, cheap to clone where it matters.

mod config;
mod db;
mod diagnostic;
mod node;
mod pyjson;
mod relation;
mod suggest;
mod version;

pub use config::{merge_config, normalize_key, unknown_config_keys, NodeConfig, KNOWN_CONFIG_KEYS};
pub use db::{catalog_name, engine, engine_names, Attach, DbConfig, Engine, ServerConfig, ENGINES, FILE_FORMATS};
pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use node::{
    ColumnInfo, Constraint, ConstraintKind, DependsOn, Fixture, FixtureRows, Hook, LateHook, Node, RefCall,
    ResourceType, SourceDef, SourceTable, TestInfo, UnitTestSpec,
};
pub use pyjson::{py_float, python_json};
pub use relation::{quote_ident, Relation};
pub use suggest::did_you_mean;
pub use version::{satisfies as version_satisfies, DBT_VERSION};

/// A JSON object, the shape every config and `meta` block has.
pub type JsonMap = serde_json::Map<String, serde_json::Value>;
