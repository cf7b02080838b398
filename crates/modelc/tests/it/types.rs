//! The types modelc infers from SQL, checked against DuckDB itself: every case of
//! `types/expressions.txt` is analyzed by modelc and described by DuckDB, and the
//! two must agree (see the file's header for its markers). A type modelc gives is
//! DuckDB's; an error modelc reports is one DuckDB refuses the query for.

use std::collections::HashMap;

use modelc_sql::{Catalog, RelationName, Ty};

const TABLE: &str = "create table t(i int, b bigint, d double, n decimal(10,2), n2 decimal(18,3), s varchar, \
                     dt date, ts timestamp, f float, bo boolean, si smallint, h hugeint, tz timestamptz)";

/// Table `t` as DuckDB describes it: the test's catalog.
struct Described(Vec<(String, String)>);

impl Catalog for Described {
    fn columns(&self, relation: &RelationName) -> Option<Vec<String>> {
        (relation.table() == "t").then(|| self.0.iter().map(|(c, _)| c.clone()).collect())
    }

    fn types(&self, relation: &RelationName) -> Option<Vec<Option<Ty>>> {
        (relation.table() == "t").then(|| self.0.iter().map(|(_, t)| Ty::parse(t)).collect())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// modelc gives DuckDB's type.
    Typed,
    /// modelc may not know the type.
    Unsure,
    /// DuckDB refuses it; modelc reports an error.
    Error,
    /// DuckDB accepts it; modelc warns.
    Warning,
}

#[test]
fn inferred_types_are_duckdbs() {
    let conn = modelc_exec::engine::duckdb::in_memory().unwrap();
    conn.execute(TABLE).unwrap();
    let catalog = Described(conn.describe("select * from t").unwrap());
    let text = include_str!("types/expressions.txt");
    let mut failures = Vec::new();
    let mut cases = 0;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (expect, case) = match line.split_at(1) {
            ("?", rest) => (Expect::Unsure, rest.trim()),
            ("!", rest) => (Expect::Error, rest.trim()),
            ("~", rest) => (Expect::Warning, rest.trim()),
            _ => (Expect::Typed, line),
        };
        cases += 1;
        let sql = if case.starts_with("select ") || case.starts_with("with ") {
            case.to_string()
        } else {
            format!("select {case} as x from t")
        };
        let duck = conn.describe(&sql).map(|cols| cols[0].1.clone());
        let analysis = modelc_sql::parse(&sql).unwrap().analyze(&catalog);
        let ours = analysis.columns[0].data_type.as_ref().map(ToString::to_string);
        let errors: Vec<&str> = analysis
            .problems
            .iter()
            .filter(|p| p.error)
            .map(|p| p.message.as_str())
            .collect();
        let warnings = analysis.problems.iter().filter(|p| !p.error).count();
        let mut fail = |why: String| failures.push(format!("{line}\n    {why}"));
        match (&duck, &ours) {
            (Ok(theirs), Some(ours)) if theirs != ours => fail(format!("modelc says {ours}, DuckDB {theirs}")),
            (Err(e), Some(ours)) if errors.is_empty() => fail(format!("modelc says {ours}, DuckDB refuses it: {e}")),
            _ => {}
        }
        if !errors.is_empty() && duck.is_ok() {
            fail(format!("modelc reports {errors:?}, DuckDB accepts it"));
        }
        match expect {
            Expect::Typed if ours.is_none() => fail(format!("modelc does not know the type ({duck:?})")),
            Expect::Error if errors.is_empty() || duck.is_ok() => fail(format!(
                "expected an error from both: modelc {errors:?}, DuckDB {duck:?}"
            )),
            Expect::Warning if warnings == 0 || duck.is_err() => {
                fail(format!("expected a warning: modelc {warnings}, DuckDB {duck:?}"))
            }
            _ => {}
        }
    }
    assert!(cases > 250, "{cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Declared types are read as DuckDB reads them: every name DuckDB gives a column
/// parses back to the same type.
#[test]
fn declared_type_names_parse_as_duckdb_reads_them() {
    let conn = modelc_exec::engine::duckdb::in_memory().unwrap();
    let names = [
        "int",
        "integer",
        "int4",
        "signed",
        "bigint",
        "int8",
        "long",
        "smallint",
        "int2",
        "tinyint",
        "hugeint",
        "ubigint",
        "double",
        "float8",
        "double precision",
        "float",
        "real",
        "float4",
        "numeric",
        "decimal",
        "numeric(10,2)",
        "decimal(38, 0)",
        "dec(5)",
        "varchar",
        "varchar(20)",
        "text",
        "string",
        "char(3)",
        "bpchar",
        "bool",
        "boolean",
        "date",
        "time",
        "timestamp",
        "datetime",
        "timestamptz",
        "timestamp with time zone",
        "interval",
        "uuid",
        "blob",
        "bytea",
    ];
    let mut wrong: HashMap<&str, (String, String)> = HashMap::new();
    for name in names {
        let duck = conn.describe(&format!("select cast(null as {name}) as x")).unwrap()[0]
            .1
            .clone();
        let ours = Ty::parse(name).map(|t| t.to_string()).unwrap_or_default();
        if ours != duck {
            wrong.insert(name, (ours, duck));
        }
    }
    assert!(wrong.is_empty(), "(modelc, DuckDB): {wrong:?}");
}

/// A shop whose seed's types come from the CSV (as a seed run loads it) and
/// whose source declares its types.
fn shop(model: &str) -> crate::support::Fixture {
    crate::support::Fixture::new(&[
        ("project.yml", "name: shop\nduckdb:\n  path: shop.duckdb\n"),
        (
            "seeds/orders.csv",
            "id,customer,amount,ordered_on\n1,alice,10.5,2024-01-01\n2,bob,20,2024-01-02\n",
        ),
        (
            "models/sources.yml",
            "version: 2\nsources:\n  - name: raw\n    schema: main\n    tables:\n      - name: refunds\n        columns:\n          - name: order_id\n            data_type: integer\n          - name: refunded_at\n            data_type: timestamp\n",
        ),
        ("models/stg_orders.sql", "select id, customer, amount, ordered_on from {{ ref('orders') }}\n"),
        ("models/report.sql", model),
    ])
}

/// Each mistake the types reveal fails `modelc compile` (exit 2, nothing run)
/// with the file:line:col of the expression in the model's own file.
#[test]
fn type_errors_fail_compile_with_the_models_position() {
    let cases = [
        (
            "comparison",
            "select id\nfrom {{ ref('stg_orders') }}\nwhere customer > 10\n",
        ),
        (
            "sum_of_text",
            "select ordered_on, sum(customer) as total\nfrom {{ ref('stg_orders') }}\ngroup by ordered_on\n",
        ),
        (
            "union_columns",
            "select id, customer from {{ ref('stg_orders') }}\nunion all\nselect order_id from {{ source('raw', 'refunds') }}\n",
        ),
        (
            "date_against_number",
            "select o.id\nfrom {{ ref('stg_orders') }} o\njoin {{ source('raw', 'refunds') }} r on r.refunded_at >= o.amount\n",
        ),
        (
            "misspelled_column",
            "select id, custmer\nfrom {{ ref('stg_orders') }}\n",
        ),
    ];
    for (name, model) in cases {
        let f = shop(model);
        let out = f.modelc(&["compile"]);
        assert_eq!(out.code, 2, "{name}: {}\n{}", out.stdout, out.stderr);
        assert!(!f.db_path().exists(), "{name}: nothing ran");
        insta::assert_snapshot!(format!("type_error_{name}"), out.redacted(f.path()));
    }
}

/// An enforced contract whose declared type is not the one the SQL gives fails
/// at compile time, where dbt finds it only when the table is built.
#[test]
fn a_contract_type_the_sql_does_not_give_fails_compile() {
    let f = shop("select id, ordered_on + 1 as next_day\nfrom {{ ref('stg_orders') }}\n");
    f.write(
        "models/report.yml",
        "version: 2\nmodels:\n  - name: report\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: id\n        data_type: int\n      - name: next_day\n        data_type: timestamp\n",
    );
    let out = f.modelc(&["build"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(!f.db_path().exists(), "nothing ran");
    insta::assert_snapshot!("contract_type_mismatch", out.redacted(f.path()));
}

/// What DuckDB accepts compiles: string literals against dates, equality of text
/// with numbers, a union DuckDB casts (with a warning).
#[test]
fn what_duckdb_accepts_compiles() {
    let f = shop(
        "select id, amount * 2 as doubled\nfrom {{ ref('stg_orders') }}\nwhere ordered_on > '2024-01-01' and customer = 1\nunion all\nselect order_id, refunded_at from {{ source('raw', 'refunds') }}\n",
    );
    let out = f.modelc(&["compile"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    insta::assert_snapshot!("type_warning_union", out.redacted(f.path()));
}

/// The manifest has the inferred types of documented columns, before anything
/// is built, and they are the types the built tables have.
#[test]
fn manifest_types_are_the_built_tables_types() {
    let f = shop("select id, amount * 2 as doubled, count(*) over () as n, ordered_on + 1 as next_day\nfrom {{ ref('stg_orders') }}\n");
    f.write(
        "models/report.yml",
        "version: 2\nmodels:\n  - name: report\n    columns:\n      - name: id\n      - name: doubled\n      - name: n\n      - name: next_day\n",
    );
    let out = f.modelc(&["compile"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("target/manifest.json")).unwrap()).unwrap();
    let columns = &manifest["nodes"]["model.shop.report"]["columns"];
    let inferred: Vec<(String, String)> = ["id", "doubled", "n", "next_day"]
        .iter()
        .map(|c| {
            (
                c.to_string(),
                columns[c]["data_type"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let out = f.modelc(&["build"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let built: Vec<(String, String)> = f
        .query("select column_name, data_type from information_schema.columns where table_name = 'report' order by ordinal_position")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(inferred, built);
}

/// Time zones run as in dbt-duckdb, whose DuckDB has ICU: modelc's DuckDB has
/// it compiled in, so a model that works in `TIMESTAMPTZ` builds with no
/// download, and gives the values DuckDB's ICU gives.
#[test]
fn time_zones_run_on_the_duckdb_compiled_into_modelc() {
    let f = crate::support::Fixture::new(&[
        (
            "project.yml",
            "name: shop\nduckdb:\n  path: shop.duckdb\n  settings:\n    TimeZone: America/New_York\n",
        ),
        (
            "models/zones.sql",
            "{{ config(materialized='table') }}\nselect\n  \
             cast(timestamptz '2024-03-10 06:30:00+00' + interval 1 day as varchar) as due,\n  \
             cast(date_trunc('day', timestamptz '2024-03-10 03:30:00+00') as varchar) as local_day,\n  \
             extract(hour from timestamptz '2024-07-01 12:00:00+00') as local_hour,\n  \
             cast(timestamp '2024-01-01 12:00' at time zone 'Asia/Tokyo' as varchar) as tokyo_noon,\n  \
             now() - interval 1 day < now() as yesterday_is_earlier\n",
        ),
    ]);
    let out = f.modelc(&["build"]);
    assert_eq!(out.code, 0, "{out:?}");
    let rows = f.query("select * from zones");
    // In the session's time zone, New York, as dbt-duckdb's DuckDB (2.0.1) gives
    // them: a day added across the night its clocks move forward (2024-03-10)
    // keeps the wall-clock time, 01:30.
    let expected = [
        "2024-03-11 01:30:00-04",
        "2024-03-09 00:00:00-05",
        "8",
        "2023-12-31 22:00:00-05",
        "true",
    ];
    assert_eq!(rows, vec![expected.map(String::from).to_vec()]);
}
