//! The engines: every SQL statement modelc writes itself comes from the target's
//! [`Dialect`], and every engine is one module here ([`duckdb`], [`postgres`],
//! [`spark`]) that opens its connections and overrides the statements it writes
//! differently. The
//! materializations, the runner and the compiler are the same on every engine.
//!
//! The trait's default methods are the statements as DuckDB, the default engine,
//! writes them (standard SQL with `information_schema`), as dbt's `default__`
//! macros are what an adapter overrides.

pub mod duckdb;
pub mod postgres;
pub mod spark;

use modelc_core::{quote_ident, Constraint, ConstraintKind, DbConfig, Relation};

use crate::adapter::{Adapter, DbError, DbResult};
use crate::materialize::{literal, strip_semicolons, RelKind, TableOptions};

/// The statements an engine writes for modelc.
pub trait Dialect: Sync {
    /// Creates `schema` in `database` if it is not there.
    fn create_schema(&self, database: &str, schema: &str) -> String {
        format!(
            "create schema if not exists {}.{}",
            quote_ident(database),
            quote_ident(schema)
        )
    }

    /// Drops what exists at `rel`.
    fn drop_relation(&self, rel: &Relation, kind: RelKind) -> String {
        match kind {
            RelKind::Table => format!("drop table if exists {rel}"),
            RelKind::View => format!("drop view if exists {rel}"),
        }
    }

    /// Whether DDL and DML run in transactions. Where they do not, a table is
    /// replaced by building it beside the old one and renaming
    /// ([`crate::materialize::swap_in`]), and changes to a table's rows that need more
    /// than one statement rebuild it.
    fn transactions(&self) -> bool {
        true
    }

    /// Creates the table `rel` from a query (`options` are for engines with table
    /// formats and partitions).
    fn create_table_as(&self, rel: &Relation, select: &str, _options: &TableOptions) -> String {
        format!("create table {rel} as (\n{}\n)", strip_semicolons(select))
    }

    /// The statements that create the table `rel` from a query: one `create table
    /// as`, or, for a model with an enforced contract, `create table` with its
    /// declared columns and constraints, then an insert of the query's rows in the
    /// declared column order (as dbt's `get_table_columns_and_constraints` and
    /// `get_select_subquery`). The last statement's row count is the table's.
    fn create_table(&self, rel: &Relation, select: &str, options: &TableOptions) -> Vec<String> {
        let Some(contract) = &options.contract else {
            return vec![self.create_table_as(rel, select, options)];
        };
        let names: Vec<String> = contract.columns.iter().map(|c| column_name(&c.name)).collect();
        let mut defs: Vec<String> = contract
            .columns
            .iter()
            .zip(&names)
            .map(|(c, name)| {
                let mut def = format!("{name} {}", c.data_type);
                for k in &c.constraints {
                    def.push(' ');
                    def.push_str(&render_constraint(k, None));
                }
                def
            })
            .collect();
        defs.extend(
            contract
                .constraints
                .iter()
                .filter(|k| k.kind != ConstraintKind::NotNull)
                .map(|k| render_constraint(k, Some(&k.columns))),
        );
        let names = names.join(", ");
        vec![
            format!("create table {rel} (\n    {}\n)", defs.join(",\n    ")),
            format!(
                "insert into {rel} ({names})\nselect {names} from (\n{}\n) as model_subq",
                strip_semicolons(select)
            ),
        ]
    }

    /// Renames `from` (a `kind`) to `to`, in the same schema.
    fn rename_relation(&self, from: &Relation, to: &Relation, kind: RelKind) -> String {
        let what = match kind {
            RelKind::Table => "table",
            RelKind::View => "view",
        };
        format!("alter {what} {from} rename to {}", quote_ident(&to.identifier))
    }

    /// What must follow renaming a table built with `options` to `rel`, if anything.
    fn after_rename(&self, _rel: &Relation, _options: &TableOptions) -> Option<String> {
        None
    }

    /// Adds a column to a table.
    fn add_column(&self, rel: &Relation, column: &str, data_type: &str) -> String {
        format!("alter table {rel} add column {} {data_type}", quote_ident(column))
    }

    /// Replaces the rows of `rel` with those of `select` (in the table's column
    /// order): the partitions the rows are in (`partition_by`), else every row. Only
    /// engines without transactions use it; the others delete and insert.
    fn insert_overwrite(&self, rel: &Relation, select: &str, partition_by: &[String]) -> String {
        let partitions = if partition_by.is_empty() {
            String::new()
        } else {
            format!(
                " partition ({})",
                partition_by
                    .iter()
                    .map(|p| quote_ident(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!("insert overwrite table {rel}{partitions} {select}")
    }

    /// A `MERGE INTO` of `source` into `rel` on `keys` (every column updated or
    /// inserted), where the engine's table format has one that modelc uses; else
    /// `None`, and merges delete and insert (or rebuild, without transactions).
    fn merge_into(
        &self,
        _rel: &Relation,
        _source: &Relation,
        _keys: &[String],
        _options: &TableOptions,
    ) -> Option<String> {
        None
    }

    /// The statements that make `rel` a view of `select` where `old` exists, run in
    /// one transaction.
    fn replace_view(&self, rel: &Relation, select: &str, old: Option<RelKind>) -> Vec<String> {
        let mut steps = Vec::new();
        if old == Some(RelKind::Table) {
            steps.push(self.drop_relation(rel, RelKind::Table));
        }
        steps.push(format!(
            "create or replace view {rel} as (\n{}\n)",
            strip_semicolons(select)
        ));
        steps
    }

    /// The relation of a temporary table named `name` (visible to its connection only).
    fn temp_relation(&self, name: &str) -> Relation {
        Relation::new("temp", "main", name)
    }

    /// Creates the temporary table `name` from a query, replacing one left behind.
    fn create_temp_table(&self, name: &str, select: &str) -> String {
        format!(
            "{}; create temp table {} as (\n{}\n)",
            self.drop_temp_table(name),
            quote_ident(name),
            strip_semicolons(select)
        )
    }

    /// Drops the temporary table `name`.
    fn drop_temp_table(&self, name: &str) -> String {
        format!("drop table if exists {}", self.temp_relation(name))
    }

    /// Every table and view: rows of database, schema, name, `information_schema`
    /// table type (`VIEW`, `BASE TABLE`, ...).
    fn relations_query(&self) -> String {
        "select table_catalog, table_schema, table_name, table_type from information_schema.tables".into()
    }

    /// The `information_schema` table type of `rel`: no row when nothing is there.
    fn relation_query(&self, rel: &Relation) -> String {
        format!(
            "select table_type from information_schema.tables where {}",
            information_schema_match(rel)
        )
    }

    /// The columns of `rel` in order: rows of name, type (as the engine writes it
    /// in DDL).
    fn columns_query(&self, rel: &Relation) -> String {
        format!(
            "select column_name, data_type from information_schema.columns where {} order by ordinal_position",
            information_schema_match(rel)
        )
    }

    /// One row, one value: the current time as `YYYY-MM-DD HH:MM:SS.ffffff`, for
    /// snapshots.
    fn now_query(&self) -> &'static str {
        "select strftime(now()::timestamp, '%Y-%m-%d %H:%M:%S.%f')"
    }

    /// The text type in casts.
    fn string_type(&self) -> &'static str {
        "varchar"
    }

    /// Every column of every table and view, for `catalog.json`: rows of database,
    /// schema, table, table type, column, position, type.
    fn catalog_query(&self) -> &'static str {
        "select c.table_catalog, c.table_schema, c.table_name, t.table_type, \
         c.column_name, c.ordinal_position, c.data_type \
         from information_schema.columns c join information_schema.tables t \
         on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema and t.table_name = c.table_name \
         order by 1, 2, 3, 6"
    }

    /// One row, one value: the engine's version.
    fn version_query(&self) -> &'static str {
        "select version()"
    }
}

/// Line `line` (1-based) of `sql` under `LINE n:`, with a caret under `column`
/// (0-based): the excerpt DuckDB writes in its errors, which materializations
/// locate in a model's file. Other engines' errors are given it too.
pub(crate) fn caret_excerpt(sql: &str, line: usize, column: usize) -> Option<String> {
    let text = sql.lines().nth(line.checked_sub(1)?)?;
    let prefix = format!("LINE {line}: ");
    Some(format!("\n{prefix}{text}\n{}^", " ".repeat(prefix.len() + column)))
}

/// The `information_schema` rows of `rel`, matched without regard to case.
fn information_schema_match(rel: &Relation) -> String {
    format!(
        "lower(table_catalog) = lower({}) and lower(table_schema) = lower({}) and lower(table_name) = lower({})",
        literal(&rel.database),
        literal(&rel.schema),
        literal(&rel.identifier)
    )
}

/// Opens the database of `db` on its engine.
pub fn open(db: &DbConfig) -> DbResult<Box<dyn Adapter>> {
    open_waiting(db, std::time::Duration::ZERO, &mut |_| {})
}

/// As [`open`], but while another process holds an embedded database file, waits
/// up to `wait` for it, calling `on_wait` once.
pub fn open_waiting(
    db: &DbConfig,
    wait: std::time::Duration,
    on_wait: &mut dyn FnMut(&str),
) -> DbResult<Box<dyn Adapter>> {
    match db.engine.as_str() {
        "duckdb" => Ok(Box::new(duckdb::DuckDb::open_waiting(db, wait, on_wait)?)),
        "postgres" => Ok(Box::new(postgres::Postgres::open(db)?)),
        "spark" => Ok(Box::new(spark::Spark::open(db)?)),
        other => Err(DbError(format!(
            "modelc has no engine '{other}' (it has {})",
            modelc_core::engine_names()
        ))),
    }
}

/// A column name in DDL: as written where it is a plain identifier (so that
/// each engine folds its case as it folds the model's SQL), quoted otherwise.
fn column_name(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_string()
    } else {
        quote_ident(name)
    }
}

/// A constraint in DDL, as dbt-adapters renders it: of a column (`columns` is
/// `None`), or of the table, over `columns`.
fn render_constraint(c: &Constraint, columns: Option<&[String]>) -> String {
    let prefix = c
        .name
        .as_ref()
        .map(|n| format!("constraint {} ", column_name(n)))
        .unwrap_or_default();
    let over = columns
        .map(|cols| {
            format!(
                " ({})",
                cols.iter().map(|c| column_name(c)).collect::<Vec<_>>().join(", ")
            )
        })
        .unwrap_or_default();
    let expression = c.expression.as_deref().unwrap_or_default();
    let references = || match &c.to {
        Some(to) => format!(
            "references {to} ({})",
            c.to_columns
                .iter()
                .map(|c| column_name(c))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!("references {expression}"),
    };
    let body = match c.kind {
        ConstraintKind::Check => format!("check ({expression})"),
        ConstraintKind::NotNull => "not null".to_string(),
        ConstraintKind::Unique => format!("unique{over}"),
        ConstraintKind::PrimaryKey => format!("primary key{over}"),
        ConstraintKind::ForeignKey if columns.is_some() => format!("foreign key{over} {}", references()),
        ConstraintKind::ForeignKey => references(),
        ConstraintKind::Custom => expression.to_string(),
    };
    format!("{prefix}{body}")
}

#[cfg(test)]
mod tests {
    use modelc_core::Constraint;

    use super::*;
    use crate::materialize::{Contract, ContractColumn};

    fn constraint(kind: ConstraintKind) -> Constraint {
        Constraint {
            kind,
            name: None,
            expression: None,
            columns: Vec::new(),
            to: None,
            to_columns: Vec::new(),
            warn_unenforced: true,
            warn_unsupported: true,
        }
    }

    /// Every kind of constraint, on a column and on the table, as dbt-adapters
    /// renders them; a model-level `not_null` is left out, as in dbt.
    #[test]
    fn a_contract_creates_the_table_with_its_columns_and_constraints() {
        let named_check = Constraint {
            name: Some("positive".into()),
            expression: Some("amount > 0".into()),
            ..constraint(ConstraintKind::Check)
        };
        let fk_to = Constraint {
            to: Some(r#""main"."parents""#.into()),
            to_columns: vec!["id".into()],
            ..constraint(ConstraintKind::ForeignKey)
        };
        let fk_expression = Constraint {
            columns: vec!["parent_id".into(), "kind".into()],
            expression: Some("main.parents (id, kind)".into()),
            ..constraint(ConstraintKind::ForeignKey)
        };
        let contract = Contract {
            columns: vec![
                ContractColumn {
                    name: "id".into(),
                    data_type: "integer".into(),
                    constraints: vec![
                        constraint(ConstraintKind::NotNull),
                        constraint(ConstraintKind::PrimaryKey),
                    ],
                },
                ContractColumn {
                    name: "parent_id".into(),
                    data_type: "integer".into(),
                    constraints: vec![fk_to],
                },
                ContractColumn {
                    name: "Kind Name".into(),
                    data_type: "varchar".into(),
                    constraints: vec![Constraint {
                        expression: Some("default 'x'".into()),
                        ..constraint(ConstraintKind::Custom)
                    }],
                },
                ContractColumn {
                    name: "amount".into(),
                    data_type: "decimal(10,2)".into(),
                    constraints: vec![constraint(ConstraintKind::Unique)],
                },
            ],
            constraints: vec![
                named_check,
                Constraint {
                    columns: vec!["id".into(), "amount".into()],
                    ..constraint(ConstraintKind::Unique)
                },
                fk_expression,
                Constraint {
                    columns: vec!["amount".into()],
                    ..constraint(ConstraintKind::NotNull)
                },
            ],
        };
        let options = TableOptions {
            contract: Some(contract),
            ..TableOptions::default()
        };
        let rel = Relation::new("db", "main", "m");
        let statements = duckdb::DuckDbDialect.create_table(&rel, "select 1 as id;", &options);
        insta::assert_snapshot!(statements.join(";\n\n"));
        // Without a contract, one `create table as`.
        assert_eq!(
            duckdb::DuckDbDialect.create_table(&rel, "select 1 as id", &TableOptions::default()),
            vec![duckdb::DuckDbDialect.create_table_as(&rel, "select 1 as id", &TableOptions::default())]
        );
    }
}
