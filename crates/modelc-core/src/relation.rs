//! Where a node lives in the database: `"database"."schema"."identifier"`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A fully qualified relation, rendered the way dbt-duckdb renders it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relation {
    /// The DuckDB catalog (the database file's name up to its first dot, e.g. `modelc`
    /// for `modelc.duckdb`).
    pub database: String,
    /// The schema.
    pub schema: String,
    /// The table or view name.
    pub identifier: String,
}

impl Relation {
    /// A relation from its three parts.
    pub fn new(database: &str, schema: &str, identifier: &str) -> Self {
        Relation {
            database: database.to_owned(),
            schema: schema.to_owned(),
            identifier: identifier.to_owned(),
        }
    }

    /// The same relation with another identifier (temporary and backup names).
    pub fn with_identifier(&self, identifier: &str) -> Self {
        Relation {
            identifier: identifier.to_owned(),
            ..self.clone()
        }
    }

    /// `"schema"."identifier"`, without the database (`"identifier"` alone when
    /// there is no schema: a session's temporary view on Spark).
    pub fn schema_qualified(&self) -> String {
        if self.schema.is_empty() {
            return quote_ident(&self.identifier);
        }
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.identifier))
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.database.is_empty() {
            write!(f, "{}.", quote_ident(&self.database))?;
        }
        write!(f, "{}", self.schema_qualified())
    }
}

/// Double-quotes an identifier, doubling embedded quotes.
pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_dbt_duckdb() {
        let r = Relation::new("dev", "main_finance", "default_rate");
        assert_eq!(r.to_string(), r#""dev"."main_finance"."default_rate""#);
        assert_eq!(Relation::new("", "s", "a\"b").to_string(), r#""s"."a""b""#);
        assert_eq!(Relation::new("", "", "tmp").to_string(), r#""tmp""#);
    }
}
