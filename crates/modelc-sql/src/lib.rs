//! SQL analysis for modelc: parse a compiled model (plain DuckDB SQL, after
//! Jinja rendering) and learn which relations it reads, its output columns,
//! and column-level lineage.
//!
//! ```
//! use std::collections::HashMap;
//!
//! let query = modelc_sql::parse("select id, amount * 2 as doubled from orders").unwrap();
//! let names: Vec<String> = query.relations().iter().map(|r| r.name.to_string()).collect();
//! assert_eq!(names, ["orders"]);
//!
//! let catalog: HashMap<String, Vec<String>> = HashMap::new();
//! let columns = query.lineage(&catalog);
//! assert_eq!(columns[1].name, "doubled");
//! assert_eq!(columns[1].sources[0].column, "amount");
//! ```
//!
//! Analysis never blocks compilation: SQL that sqlparser cannot parse gives
//! an [`SqlError`] for the caller to report as a warning, and parts of a query
//! that cannot be analyzed are flagged in [`OutputColumn::unresolved`].

mod catalog;
mod lineage;
mod name;
mod parse;
mod relations;
mod types;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use catalog::Catalog;
pub use lineage::{Analysis, ColumnSource, MissingColumn, OutputColumn, SetMismatch, Transform, TypeProblem};
pub use name::RelationName;
pub use parse::{parse, strip_trailing_semicolon, ParsedQuery, SqlError, MAX_CHAIN, MAX_SET_OPERATIONS};
pub use relations::RelationRef;
pub use types::Ty;
