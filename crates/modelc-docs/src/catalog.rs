//! `catalog.json`: what the database holds for each node and source, in dbt's
//! catalog format (v1), read from the database's catalog after a run.

use std::collections::{BTreeMap, HashMap};

use modelc_compile::Project;
use serde_json::{json, Value};

/// One row of the engine's catalog (`Connection::catalog` in modelc-exec).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRow {
    /// Database (DuckDB catalog).
    pub database: String,
    /// Schema.
    pub schema: String,
    /// Table or view name.
    pub table: String,
    /// `BASE TABLE`, `VIEW`, ...
    pub table_type: String,
    /// Column name.
    pub column: String,
    /// 1-based position.
    pub index: u32,
    /// DuckDB type (`BIGINT`, `VARCHAR`, `DECIMAL(18,2)`, ...).
    pub data_type: String,
}

impl ColumnRow {
    /// A row from the text cells of the catalog query; `None` when a cell is missing.
    pub fn from_cells(cells: &[Option<String>]) -> Option<ColumnRow> {
        let cell = |i: usize| cells.get(i).cloned().flatten();
        Some(ColumnRow {
            database: cell(0)?,
            schema: cell(1)?,
            table: cell(2)?,
            table_type: cell(3)?,
            column: cell(4)?,
            index: cell(5)?.parse().ok()?,
            data_type: cell(6)?,
        })
    }
}

/// A column in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogColumn {
    /// Name.
    pub name: String,
    /// 1-based position.
    pub index: u32,
    /// Database type.
    pub data_type: String,
}

/// A table or view in the database that belongs to a node or source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTable {
    /// The node's or source's unique id.
    pub unique_id: String,
    /// Database.
    pub database: String,
    /// Schema.
    pub schema: String,
    /// Table or view name.
    pub name: String,
    /// dbt's spelling: `BASE TABLE` or `VIEW`.
    pub table_type: String,
    /// Columns by position.
    pub columns: Vec<CatalogColumn>,
}

/// What the database holds for a project's nodes and sources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Models, seeds and snapshots that exist in the database, by unique id.
    pub nodes: BTreeMap<String, CatalogTable>,
    /// Sources that exist in the database, by unique id.
    pub sources: BTreeMap<String, CatalogTable>,
}

fn key(database: &str, schema: &str, table: &str) -> (String, String, String) {
    (database.to_lowercase(), schema.to_lowercase(), table.to_lowercase())
}

impl Catalog {
    /// Matches the database's columns to the project's relations. Nodes that were
    /// never built, and database objects no node owns, are left out.
    pub fn from_rows(project: &Project, rows: &[ColumnRow]) -> Catalog {
        let mut tables: HashMap<(String, String, String), CatalogTable> = HashMap::new();
        for r in rows {
            let t = tables
                .entry(key(&r.database, &r.schema, &r.table))
                .or_insert_with(|| CatalogTable {
                    unique_id: String::new(),
                    database: r.database.clone(),
                    schema: r.schema.clone(),
                    name: r.table.clone(),
                    table_type: r.table_type.clone(),
                    columns: Vec::new(),
                });
            t.columns.push(CatalogColumn {
                name: r.column.clone(),
                index: r.index,
                data_type: r.data_type.clone(),
            });
        }
        let mut catalog = Catalog::default();
        let take = |unique_id: &str, database: &str, schema: &str, name: &str| {
            tables.get(&key(database, schema, name)).map(|t| {
                let mut t = t.clone();
                t.unique_id = unique_id.to_string();
                t.columns.sort_by_key(|c| c.index);
                t
            })
        };
        for n in project.nodes.values() {
            if let Some(r) = &n.relation {
                if let Some(t) = take(&n.unique_id, &r.database, &r.schema, &r.identifier) {
                    catalog.nodes.insert(n.unique_id.clone(), t);
                }
            }
        }
        for s in project.sources.values() {
            let r = &s.relation;
            if let Some(t) = take(&s.unique_id, &r.database, &r.schema, &r.identifier) {
                catalog.sources.insert(s.unique_id.clone(), t);
            }
        }
        catalog
    }

    /// The database type of a column of a node or source, matched case-insensitively.
    pub fn column_type(&self, unique_id: &str, column: &str) -> Option<&str> {
        let t = self.nodes.get(unique_id).or_else(|| self.sources.get(unique_id))?;
        t.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(column))
            .map(|c| c.data_type.as_str())
    }

    /// dbt's `catalog.json` (schema v1).
    pub fn to_json(&self, invocation_id: &str, generated_at: &str) -> Value {
        let tables = |m: &BTreeMap<String, CatalogTable>| -> Value {
            m.iter()
                .map(|(id, t)| {
                    let columns: serde_json::Map<String, Value> = t
                        .columns
                        .iter()
                        .map(|c| {
                            (
                                c.name.clone(),
                                json!({"type": c.data_type, "index": c.index, "name": c.name, "comment": null}),
                            )
                        })
                        .collect();
                    let v = json!({
                        "metadata": {
                            "type": t.table_type,
                            "schema": t.schema,
                            "name": t.name,
                            "database": t.database,
                            "comment": null,
                            "owner": null,
                        },
                        "columns": columns,
                        "stats": {
                            "has_stats": {"id": "has_stats", "label": "Has Stats?", "value": false,
                                "include": false, "description": "Indicates whether there are statistics for this table"}
                        },
                        "unique_id": id,
                    });
                    (id.clone(), v)
                })
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        json!({
            "metadata": {
                "dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json",
                "dbt_version": concat!("modelc-", env!("CARGO_PKG_VERSION")),
                "generated_at": generated_at,
                "invocation_id": invocation_id,
                "invocation_started_at": generated_at,
                "env": {},
            },
            "nodes": tables(&self.nodes),
            "sources": tables(&self.sources),
            "errors": null,
        })
    }
}
