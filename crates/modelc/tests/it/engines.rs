//! The engines: the same projects run on embedded DuckDB, on a real PostgreSQL and
//! on a real Spark (Spark Connect) must give the same answers. The servers are
//! started by `scripts/with-servers` (the README's test command, and CI), which
//! exports their addresses as `MODELC_TEST_POSTGRES` and `MODELC_TEST_SPARK`;
//! without them these tests fail, saying so.
//!
//! The conformance suite is data: each [`Case`] is a project and a list of steps
//! (files to write, a command and its exit code, queries), run on every engine,
//! its query results compared across engines (numbers to a tolerance) and, where
//! a step pins them, against expected rows.

use std::path::Path;

use modelc_core::{DbConfig, ServerConfig};
use modelc_exec::Adapter;

use crate::lending::copy_dir;
use crate::support::{run_modelc, Fixture};

/// The PostgreSQL server of the engine suites.
struct PgServer {
    host: String,
    port: u16,
    user: String,
    password: String,
}

impl PgServer {
    /// The server named by `MODELC_TEST_POSTGRES` (`postgres://user:password@host:port`).
    fn from_env() -> PgServer {
        let url = std::env::var("MODELC_TEST_POSTGRES").unwrap_or_else(|_| {
            panic!(
                "MODELC_TEST_POSTGRES is not set: the engine suites need a PostgreSQL server. \
                 Run the tests with `scripts/with-servers cargo test --release --workspace` (README), \
                 which starts one and sets it."
            )
        });
        let rest = url.strip_prefix("postgres://").expect("postgres:// URL");
        let (auth, address) = rest.rsplit_once('@').expect("user:password@host:port");
        let (user, password) = auth.split_once(':').expect("user:password");
        let (host, port) = address.trim_end_matches('/').rsplit_once(':').expect("host:port");
        PgServer {
            host: host.into(),
            port: port.parse().expect("port"),
            user: user.into(),
            password: password.into(),
        }
    }

    fn config(&self, dbname: &str) -> DbConfig {
        DbConfig {
            engine: "postgres".into(),
            database: dbname.into(),
            schema: "public".into(),
            server: Some(ServerConfig {
                host: self.host.clone(),
                port: self.port,
                user: self.user.clone(),
                password: Some(self.password.clone()),
                sslmode: None,
                connect_timeout: Some(10),
                file_format: None,
            }),
            ..DbConfig::duckdb(":memory:")
        }
    }

    /// A new, empty database for one test.
    fn fresh_database(&self, name: &str) -> String {
        let adapter = modelc_exec::open(&self.config("postgres")).expect("connect to PostgreSQL");
        let conn = adapter.connect().expect("connect");
        conn.batch(&format!("drop database if exists {name} with (force)"))
            .expect("drop database");
        conn.batch(&format!("create database {name}")).expect("create database");
        name.to_string()
    }

    /// `profiles.yml` with a `pg` target on database `dbname`, schema `schema`;
    /// the password from an environment variable, as users keep it.
    fn profiles_yml(&self, profile: &str, dbname: &str, schema: &str) -> String {
        format!(
            "{profile}:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n      host: {}\n      port: {}\n      user: {}\n      password: \"{{{{ env_var('MODELC_TEST_PG_PASSWORD', '{}') }}}}\"\n      dbname: {dbname}\n      schema: {schema}\n      threads: 4\n",
            self.host, self.port, self.user, self.password
        )
    }

    fn query(&self, dbname: &str, sql: &str) -> Vec<Vec<String>> {
        let adapter = modelc_exec::open(&self.config(dbname)).expect("connect to PostgreSQL");
        rows(adapter.as_ref(), sql)
    }
}

/// The Spark Connect server of the engine suites. Its catalog lives as long as the
/// server: each test works in schemas of its own.
struct SparkServer {
    host: String,
    port: u16,
}

impl SparkServer {
    /// The server named by `MODELC_TEST_SPARK` (`sc://host:port`).
    fn from_env() -> SparkServer {
        let url = std::env::var("MODELC_TEST_SPARK").unwrap_or_else(|_| {
            panic!(
                "MODELC_TEST_SPARK is not set: the engine suites need a Spark Connect server. \
                 Run the tests with `scripts/with-servers cargo test --release --workspace` (README), \
                 which starts one and sets it."
            )
        });
        let address = url.strip_prefix("sc://").expect("sc:// URL");
        let (host, port) = address.trim_end_matches('/').rsplit_once(':').expect("host:port");
        SparkServer {
            host: host.into(),
            port: port.parse().expect("port"),
        }
    }

    fn config(&self) -> DbConfig {
        DbConfig {
            engine: "spark".into(),
            database: String::new(),
            schema: "default".into(),
            server: Some(ServerConfig {
                host: self.host.clone(),
                port: self.port,
                user: String::new(),
                password: None,
                sslmode: None,
                connect_timeout: None,
                file_format: None,
            }),
            ..DbConfig::duckdb(":memory:")
        }
    }

    /// `profiles.yml` with a `spark` target on schema `schema`.
    fn profiles_yml(&self, profile: &str, schema: &str) -> String {
        format!(
            "{profile}:\n  target: spark\n  outputs:\n    spark:\n      type: spark\n      method: connect\n      host: {}\n      port: {}\n      schema: {schema}\n      threads: 4\n",
            self.host, self.port
        )
    }

    fn query(&self, sql: &str) -> Vec<Vec<String>> {
        let adapter = modelc_exec::open(&self.config()).expect("connect to Spark");
        rows(adapter.as_ref(), sql)
    }
}

fn rows(adapter: &dyn Adapter, sql: &str) -> Vec<Vec<String>> {
    adapter
        .connect()
        .expect("connect")
        .query(sql)
        .unwrap_or_else(|e| panic!("query failed: {e}\n{sql}"))
        .into_iter()
        .map(|r| r.into_iter().map(|v| v.unwrap_or_else(|| "∅".into())).collect())
        .collect()
}

/// An engine a case runs on: how to point a project at it and query it.
enum Engine<'a> {
    DuckDb,
    /// A server and the case's database.
    Postgres(&'a PgServer, String),
    /// A server and the case's schema.
    Spark(&'a SparkServer, String),
}

impl Engine<'_> {
    fn name(&self) -> &'static str {
        match self {
            Engine::DuckDb => "duckdb",
            Engine::Postgres(..) => "postgres",
            Engine::Spark(..) => "spark",
        }
    }

    /// The target schema.
    fn schema(&self) -> &str {
        match self {
            Engine::DuckDb => "main",
            Engine::Postgres(..) => "conformance",
            Engine::Spark(_, schema) => schema,
        }
    }

    fn setup(&self, fixture: &Fixture, project: &str) {
        match self {
            Engine::DuckDb => {}
            Engine::Postgres(pg, db) => fixture.write("profiles.yml", &pg.profiles_yml(project, db, self.schema())),
            Engine::Spark(spark, schema) => fixture.write("profiles.yml", &spark.profiles_yml(project, schema)),
        }
    }

    /// Runs a case's query: `{s}` is the target schema, `{text}` the text type.
    fn query(&self, fixture: &Fixture, sql: &str) -> Vec<Vec<String>> {
        let text = if matches!(self, Engine::Spark(..)) {
            "string"
        } else {
            "varchar"
        };
        let sql = sql.replace("{s}", self.schema()).replace("{text}", text);
        match self {
            Engine::DuckDb => crate::support::query(&fixture.path().join("conformance.duckdb"), &sql),
            Engine::Postgres(pg, db) => pg.query(db, &sql),
            Engine::Spark(spark, _) => spark.query(&sql),
        }
    }
}

/// One step of a case.
enum Step {
    /// Write (or overwrite) a file of the project.
    Write(&'static str, &'static str),
    /// Run modelc with these arguments; expect this exit code.
    Run(&'static [&'static str], i32),
    /// A query (`{s}` is the target schema, `{text}` the text type), compared
    /// across engines; with rows
    /// (`|`-separated values), also against them.
    Query(&'static str, Option<&'static [&'static str]>),
}

struct Case {
    name: &'static str,
    steps: &'static [Step],
}

const PROJECT: &str = "name: conformance\nduckdb:\n  path: conformance.duckdb\n";

use Step::{Query, Run, Write};

const CASES: &[Case] = &[
    Case {
        name: "seeds_views_tables_ephemeral",
        steps: &[
            Write(
                "seeds/people.csv",
                "id,name,joined,score,active,note\n1,Ada,2024-01-02,1.5,true,\"a, b\"\n2,Bob,2024-02-03,2.25,false,\n3,Cy,2024-03-04,,true,\"\"\"q\"\"\"\n",
            ),
            Write(
                "seeds/_seeds.yml",
                "seeds:\n  - name: people\n    config:\n      column_types:\n        score: decimal(10,2)\n",
            ),
            Write("models/v_people.sql", "{{ config(materialized='view') }}\nselect id, upper(name) as name, score from {{ ref('people') }}\n"),
            Write("models/e_active.sql", "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('people') }} where active\n"),
            Write("models/t_active.sql", "{{ config(materialized='table') }}\nselect id, name, joined, note from {{ ref('e_active') }}\n"),
            Run(&["build"], 0),
            Query(
                "select id, name, joined, score, active, note from {s}.people order by id",
                Some(&[
                    "1|Ada|2024-01-02|1.50|true|a, b",
                    "2|Bob|2024-02-03|2.25|false|∅",
                    "3|Cy|2024-03-04|∅|true|\"q\"",
                ]),
            ),
            Query("select * from {s}.v_people order by id", None),
            Query("select id, name, joined, note from {s}.t_active order by id", Some(&["1|Ada|2024-01-02|a, b", "3|Cy|2024-03-04|\"q\""])),
            // A view whose columns change, and a table that becomes a view.
            Write("models/v_people.sql", "{{ config(materialized='view') }}\nselect name as person, id from {{ ref('people') }}\n"),
            Write("models/t_active.sql", "{{ config(materialized='view') }}\nselect id from {{ ref('e_active') }}\n"),
            Run(&["run"], 0),
            Query("select person, id from {s}.v_people order by id", Some(&["Ada|1", "Bob|2", "Cy|3"])),
            Query("select id from {s}.t_active order by id", Some(&["1", "3"])),
        ],
    },
    Case {
        name: "incremental_strategies_and_schema_change",
        steps: &[
            Write("seeds/events.csv", "id,kind,amount\n1,a,10\n2,b,20\n"),
            Write(
                "models/appended.sql",
                "{{ config(materialized='incremental') }}\nselect id, kind, amount from {{ ref('events') }}\n{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}\n",
            ),
            Write(
                "models/merged.sql",
                "{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge') }}\nselect id, kind, amount from {{ ref('events') }}\n",
            ),
            Write(
                "models/replaced.sql",
                "{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}\nselect id, kind, amount from {{ ref('events') }}\n",
            ),
            Write(
                "models/synced.sql",
                "{{ config(materialized='incremental', unique_key='id', on_schema_change='sync_all_columns') }}\nselect id, kind, amount from {{ ref('events') }}\n",
            ),
            Run(&["build"], 0),
            Write("seeds/events.csv", "id,kind,amount\n1,a,11\n2,b,20\n3,c,30\n"),
            Write(
                "models/replaced.sql",
                "{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}\nselect id, kind, amount, amount * 2 as doubled from {{ ref('events') }}\n",
            ),
            Write(
                "models/synced.sql",
                "{{ config(materialized='incremental', unique_key='id', on_schema_change='sync_all_columns') }}\nselect id, amount, 'x' as tag from {{ ref('events') }}\n",
            ),
            Run(&["build"], 0),
            Query("select id, kind, amount from {s}.appended order by id", Some(&["1|a|10", "2|b|20", "3|c|30"])),
            Query("select id, kind, amount from {s}.merged order by id", Some(&["1|a|11", "2|b|20", "3|c|30"])),
            Query("select id, kind, amount, doubled from {s}.replaced order by id", Some(&["1|a|11|22", "2|b|20|40", "3|c|30|60"])),
            Query("select * from {s}.synced order by id", Some(&["1|11|x", "2|20|x", "3|30|x"])),
            // on_schema_change: fail stops the model and leaves it as it was.
            Write(
                "models/merged.sql",
                "{{ config(materialized='incremental', unique_key='id', on_schema_change='fail') }}\nselect id, kind from {{ ref('events') }}\n",
            ),
            Run(&["run", "-s", "merged"], 1),
            Query("select id, kind, amount from {s}.merged order by id", Some(&["1|a|11", "2|b|20", "3|c|30"])),
            Run(&["run", "-s", "merged", "--full-refresh"], 0),
            Query("select * from {s}.merged order by id", Some(&["1|a", "2|b", "3|c"])),
        ],
    },
    Case {
        name: "insert_overwrite_replaces_the_partitions_of_the_new_rows",
        steps: &[
            Write("seeds/sales.csv", "id,day,amount\n1,1,10\n2,1,20\n3,2,30\n"),
            Write(
                "models/by_day.sql",
                "{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['day']) }}\nselect id, amount, day from {{ ref('sales') }}\n{% if is_incremental() %}where day >= 2{% endif %}\n",
            ),
            Write(
                "models/whole.sql",
                "{{ config(materialized='incremental', incremental_strategy='insert_overwrite') }}\nselect id, amount from {{ ref('sales') }}\n{% if is_incremental() %}where id > 1{% endif %}\n",
            ),
            Run(&["build"], 0),
            // Day 2 is restated and day 3 arrives; day 1 (not in the new rows) stays.
            Write("seeds/sales.csv", "id,day,amount\n1,1,99\n4,2,40\n5,3,50\n"),
            Run(&["build"], 0),
            Query("select id, amount, day from {s}.by_day order by id", Some(&["1|10|1", "2|20|1", "4|40|2", "5|50|3"])),
            // Without partitions, every row is replaced.
            Query("select id, amount from {s}.whole order by id", Some(&["4|40", "5|50"])),
        ],
    },
    Case {
        // Each engine's versions of dbt's cross-database macros give DuckDB's answers
        // (not dateadd by quarter: dbt-postgres's SQL for it fails on PostgreSQL).
        name: "cross_database_macros_give_the_same_answers",
        steps: &[
            Write("seeds/people.csv", "id,name,flag,team\n1,bo,false,x\n2,al,true,x\n3,cy,false,x\n"),
            Write(
                "models/scalars.sql",
                "select\n\
                 cast({{ dbt.dateadd('day', 1, \"cast('2020-01-31' as date)\") }} as date) as add_day,\n\
                 cast({{ dbt.dateadd('month', -2, \"cast('2020-03-31' as date)\") }} as date) as add_month,\n\
                 cast({{ dbt.dateadd('week', 2, \"cast('2020-01-01' as date)\") }} as date) as add_week,\n\
                 {{ dbt.datediff(\"cast('2020-01-15' as date)\", \"cast('2020-03-01' as date)\", 'month') }} as diff_month,\n\
                 {{ dbt.datediff(\"cast('2024-01-06' as date)\", \"cast('2024-01-07' as date)\", 'week') }} as diff_week,\n\
                 {{ dbt.datediff(\"cast('2020-01-01 10:59:00' as timestamp)\", \"cast('2020-01-01 11:01:00' as timestamp)\", 'hour') }} as diff_hour,\n\
                 {{ dbt.datediff(\"cast('2019-12-31' as date)\", \"cast('2020-01-01' as date)\", 'year') }} as diff_year,\n\
                 {{ dbt.datediff(\"cast('2020-03-01' as date)\", \"cast('2020-01-15' as date)\", 'day') }} as diff_day,\n\
                 {{ dbt.last_day(\"cast('2020-02-10' as date)\", 'month') }} as last_day,\n\
                 cast({{ dbt.date_trunc('month', \"cast('2020-02-10' as date)\") }} as date) as trunc_month,\n\
                 {{ dbt.split_part(\"'a.b.c'\", \"'.'\", 2) }} as part_2,\n\
                 {{ dbt.split_part(\"'a.b.c'\", \"'.'\", -1) }} as part_last,\n\
                 {{ dbt.concat([\"'a'\", \"'b'\"]) }} as concatenated,\n\
                 {{ dbt.hash(\"'x'\") }} as hashed,\n\
                 {{ dbt.position(\"'@'\", \"'a@b'\") }} as at,\n\
                 {{ dbt.right(\"'12345'\", 3) }} as right_3,\n\
                 {{ dbt.length(\"'abc'\") }} as len,\n\
                 {{ dbt.replace(\"'aba'\", \"'a'\", \"'c'\") }} as replaced,\n\
                 {{ dbt.string_literal(dbt.escape_single_quotes(\"it's\")) }} as quoted,\n\
                 {{ dbt.safe_cast(\"'12'\", dbt.type_int()) }} as cast_int,\n\
                 {{ dbt.cast_bool_to_text('1 = 1') }} as bool_text\n",
            ),
            Write(
                "models/aggregates.sql",
                "select team, {{ dbt.listagg('name', \"','\", 'order by name') }} as names,\n\
                 {{ dbt.bool_or('flag') }} as any_flag, {{ dbt.any_value('team') }} as some_team\n\
                 from {{ ref('people') }} group by team\n",
            ),
            Run(&["build"], 0),
            Query(
                "select * from {s}.scalars",
                Some(&["2020-02-01|2020-01-31|2020-01-15|2|1|1|1|-46|2020-02-29|2020-02-01|b|c|ab|9dd4e461268c8034f5c8564e155c67a6|2|345|3|cbc|it's|12|true"]),
            ),
            Query("select * from {s}.aggregates", Some(&["x|al,bo,cy|true|x"])),
        ],
    },
    Case {
        name: "a_failed_build_leaves_the_previous_table",
        steps: &[
            Write("models/t.sql", "{{ config(materialized='table') }}\nselect 1 as id\n"),
            Run(&["run"], 0),
            Write("models/t.sql", "{{ config(materialized='table') }}\nselect cast('x' as integer) as id\n"),
            Run(&["run"], 1),
            Query("select id from {s}.t", Some(&["1"])),
            Write("models/t.sql", "{{ config(materialized='table') }}\nselect 2 as id\n"),
            Run(&["run"], 0),
            Query("select id from {s}.t", Some(&["2"])),
        ],
    },
    Case {
        name: "snapshots_timestamp_check_and_hard_deletes",
        steps: &[
            Write("seeds/accounts.csv", "id,plan,updated_at\n1,free,2024-01-01 00:00:00\n2,pro,2024-01-01 00:00:00\n3,free,2024-01-01 00:00:00\n"),
            Write(
                "snapshots/by_time.sql",
                "{% snapshot by_time %}\n{{ config(target_schema=target.schema ~ '_snap', unique_key='id', strategy='timestamp', updated_at='updated_at', hard_deletes='invalidate') }}\nselect * from {{ ref('accounts') }}\n{% endsnapshot %}\n",
            ),
            Write(
                "snapshots/by_check.sql",
                "{% snapshot by_check %}\n{{ config(target_schema=target.schema ~ '_snap', unique_key='id', strategy='check', check_cols=['plan'], hard_deletes='new_record') }}\nselect id, plan from {{ ref('accounts') }}\n{% endsnapshot %}\n",
            ),
            Run(&["build"], 0),
            Write("seeds/accounts.csv", "id,plan,updated_at\n1,pro,2024-02-01 00:00:00\n2,pro,2024-01-01 00:00:00\n"),
            Run(&["build"], 0),
            Query(
                // A deleted key is closed at the time of the run: shown as such.
                "select id, plan, dbt_valid_from, case when dbt_valid_to < timestamp '2025-01-01' then cast(dbt_valid_to as {text}) \
                 when dbt_valid_to is null then 'current' else 'run time' end, dbt_scd_id from {s}_snap.by_time order by id, dbt_valid_from",
                Some(&[
                    "1|free|2024-01-01 00:00:00|2024-02-01 00:00:00|8bd6037542377309505ab720e545f24e",
                    "1|pro|2024-02-01 00:00:00|current|2e82cee106c704e5a20fc8fbc5618f48",
                    "2|pro|2024-01-01 00:00:00|current|f8e4dcba7004839b9c5b44a77923cd0a",
                    "3|free|2024-01-01 00:00:00|run time|36d97e6f161bf778b28647771ac013ae",
                ]),
            ),
            Query(
                "select id, plan, dbt_valid_to is null as current, dbt_is_deleted from {s}_snap.by_check order by id, dbt_valid_from, dbt_is_deleted",
                Some(&[
                    "1|free|false|False",
                    "1|pro|true|False",
                    "2|pro|true|False",
                    "3|free|false|False",
                    "3|free|true|True",
                ]),
            ),
            // A second run on unchanged input changes nothing.
            Run(&["snapshot"], 0),
            Query("select count(*) from {s}_snap.by_check", Some(&["5"])),
            Query("select count(*) from {s}_snap.by_time", Some(&["4"])),
        ],
    },
    Case {
        name: "empty_builds_every_model_with_zero_rows",
        steps: &[
            Write("seeds/s.csv", "id,v\n1,a\n2,b\n"),
            Write("models/a.sql", "{{ config(materialized='table') }}\nselect id, v from {{ ref('s') }}\n"),
            Write("models/b.sql", "select id, upper(v) as v from {{ ref('a') }} where id > 0\n"),
            Write(
                "models/_models.yml",
                "models:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [not_null, unique]\n",
            ),
            Run(&["build", "--empty"], 0),
            // A preview runs the model's SQL on the engine (PostgreSQL needs the
            // subquery aliased).
            Run(&["show", "-s", "b", "--limit", "1"], 0),
            Query("select count(*) from {s}.s", Some(&["2"])),
            Query("select count(*) from {s}.a", Some(&["0"])),
            Query("select count(*) from {s}.b", Some(&["0"])),
            Run(&["build"], 0),
            Query("select count(*) from {s}.b", Some(&["2"])),
        ],
    },
    Case {
        name: "tests_and_stored_failures",
        steps: &[
            Write("seeds/orders.csv", "id,customer_id,status\n1,1,open\n2,1,shipped\n3,9,lost\n3,2,open\n"),
            Write("seeds/customers.csv", "id\n1\n2\n"),
            Write(
                "seeds/_seeds.yml",
                "seeds:\n  - name: orders\n    columns:\n      - name: id\n        data_tests: [not_null, unique]\n      - name: status\n        data_tests:\n          - accepted_values:\n              arguments: {values: [open, shipped]}\n              config: {severity: warn}\n      - name: customer_id\n        data_tests:\n          - relationships:\n              arguments: {to: ref('customers'), field: id}\n              config: {store_failures: true}\n",
            ),
            Run(&["seed"], 0),
            Run(&["test"], 1),
            Query(
                "select count(*) from {s}_dbt_test__audit.relationships_orders_customer_id__id__ref_customers_",
                Some(&["1"]),
            ),
        ],
    },
];

/// Values equal across engines: numbers to a relative tolerance (PostgreSQL
/// averages are numeric, DuckDB's double), everything else as text.
fn same_value(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

fn same_rows(a: &[Vec<String>], b: &[Vec<String>]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.len() == y.len() && x.iter().zip(y).all(|(u, v)| same_value(u, v)))
}

/// Runs a case on one engine; returns every query's rows.
fn run_case(case: &Case, engine: &Engine<'_>) -> Vec<Vec<Vec<String>>> {
    let fixture = Fixture::new(&[("project.yml", PROJECT)]);
    engine.setup(&fixture, "conformance");
    let mut results = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        let at = format!("{} on {}, step {}", case.name, engine.name(), i + 1);
        match step {
            Write(path, text) => fixture.write(path, text),
            Run(args, code) => {
                let out = fixture.modelc(args);
                assert_eq!(out.code, *code, "{at}: modelc {args:?}\n{}\n{}", out.stdout, out.stderr);
            }
            Query(sql, expected) => {
                let rows = engine.query(&fixture, sql);
                if let Some(expected) = expected {
                    let want: Vec<Vec<String>> = expected
                        .iter()
                        .map(|r| r.split('|').map(str::to_string).collect())
                        .collect();
                    assert!(same_rows(&rows, &want), "{at}: {sql}\n got: {rows:?}\nwant: {want:?}");
                }
                results.push(rows);
            }
        }
    }
    results
}

#[test]
fn conformance_suite_gives_the_same_answers_on_every_engine() {
    let pg = PgServer::from_env();
    let spark = SparkServer::from_env();
    for (n, case) in CASES.iter().enumerate() {
        let duck = run_case(case, &Engine::DuckDb);
        let db = pg.fresh_database(&format!("conformance_{n}"));
        let others = [
            Engine::Postgres(&pg, db),
            Engine::Spark(&spark, format!("conformance_{n}")),
        ];
        for engine in &others {
            let answers = run_case(case, engine);
            for (i, (d, o)) in duck.iter().zip(&answers).enumerate() {
                assert!(
                    same_rows(d, o),
                    "{}: query {} differs\nduckdb: {d:?}\n{}: {o:?}",
                    case.name,
                    i + 1,
                    engine.name()
                );
            }
        }
    }
}

/// The finance marts of the example project, and the columns that order their rows.
const MARTS: &[(&str, &str)] = &[
    ("daily_loan_applications", "date_day"),
    ("default_rate_by_industry_risk_band", "industry, risk_band"),
    ("default_rate_by_risk_band", "risk_band"),
    ("industry_approval_summary", "industry"),
    ("mart_loan_metrics_by_risk", "risk_band"),
    ("top_applicants_by_loan_volume", "volume_rank"),
];

/// A copy of the example project, built on embedded DuckDB.
fn lending_on_duckdb() -> tempfile::TempDir {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    std::fs::copy(repo.join("project.yml"), root.join("project.yml")).expect("project.yml");
    for d in ["models", "macros", "snapshots", "tests", "seeds"] {
        copy_dir(&repo.join(d), &root.join(d));
    }
    let out = run_modelc(root, &["build"]);
    assert_eq!(out.code, 0, "duckdb: {}\n{}", out.stdout, out.stderr);
    tmp
}

/// Each finance mart of the DuckDB build in `root` against `engine`'s (`query`
/// given the mart and the columns that order it).
fn same_marts(root: &Path, engine: &str, query: impl Fn(&str, &str) -> Vec<Vec<String>>) {
    let duck_db = root.join("target/lending.duckdb");
    for (mart, order) in MARTS {
        let duck = crate::support::query(&duck_db, &format!("select * from main_finance.{mart} order by {order}"));
        let other = query(mart, order);
        assert!(!duck.is_empty(), "{mart} is empty");
        assert!(
            same_rows(&duck, &other),
            "{mart} differs\nduckdb: {duck:?}\n{engine}: {other:?}"
        );
    }
}

/// The example project, unchanged but for the profile (`profiles_yml`), builds on
/// `engine`, every test passes, `debug` names the engine's `version`, the docs'
/// catalog has the server's types (`double` for a ratio), and the finance marts in
/// `finance` (`query`) hold DuckDB's rows.
fn lending_project_on(
    engine: &str,
    profiles_yml: &str,
    (finance, version, double): (&str, &str, &str),
    query: impl Fn(&str) -> Vec<Vec<String>>,
) {
    let tmp = lending_on_duckdb();
    let root = tmp.path();
    std::fs::write(root.join("profiles.yml"), profiles_yml).expect("profiles");
    let out = run_modelc(root, &["build"]);
    assert_eq!(out.code, 0, "{engine}: {}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("PASS="), "{}", out.stdout);

    let debug = run_modelc(root, &["debug"]);
    assert_eq!(debug.code, 0, "{}\n{}", debug.stdout, debug.stderr);
    assert!(
        debug.stdout.contains(&format!("on {engine}")) && debug.stdout.contains(&format!("connection: OK, {version}")),
        "{}",
        debug.stdout
    );

    // The docs' catalog comes from the server, with its types.
    let docs = run_modelc(root, &["docs"]);
    assert_eq!(docs.code, 0, "{}\n{}", docs.stdout, docs.stderr);
    let catalog = std::fs::read_to_string(root.join("target/catalog.json"))
        .unwrap_or_else(|e| panic!("no catalog.json ({e}):\n{}\n{}", docs.stdout, docs.stderr));
    let catalog: serde_json::Value = serde_json::from_str(&catalog).expect("json");
    let mart = &catalog["nodes"]["model.lending.default_rate_by_risk_band"];
    assert_eq!(mart["metadata"]["schema"], finance, "{mart}");
    assert_eq!(mart["columns"]["applications"]["type"], "bigint", "{mart}");
    assert_eq!(mart["columns"]["default_rate"]["type"], double, "{mart}");

    same_marts(root, engine, |mart, order| {
        query(&format!("select * from {finance}.{mart} order by {order}"))
    });
}

#[test]
fn lending_project_builds_on_postgres_with_duckdbs_answers() {
    let pg = PgServer::from_env();
    let db = pg.fresh_database("lending");
    lending_project_on(
        "postgres",
        &pg.profiles_yml("lending", &db, "analytics"),
        ("analytics_finance", "PostgreSQL", "double precision"),
        |sql| pg.query(&db, sql),
    );
}

#[test]
fn lending_project_builds_on_spark_with_duckdbs_answers() {
    let spark = SparkServer::from_env();
    lending_project_on(
        "spark",
        &spark.profiles_yml("lending", "lending"),
        ("lending_finance", "Spark 4.", "double"),
        |sql| spark.query(sql),
    );
}

#[test]
fn bad_connections_are_clear_errors() {
    let pg = PgServer::from_env();
    let fixture = Fixture::new(&[("project.yml", "name: conn\n"), ("models/m.sql", "select 1 as x\n")]);
    // A wrong password.
    fixture.write(
        "profiles.yml",
        &pg.profiles_yml("conn", "postgres", "s")
            .replace(&format!("'{}'", pg.password), "'not-the-password'"),
    );
    let out = fixture.modelc(&["run"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("password authentication failed"), "{}", out.stderr);
    // Nobody listening on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    fixture.write(
        "profiles.yml",
        &pg.profiles_yml("conn", "postgres", "s")
            .replace(&format!("port: {}", pg.port), &format!("port: {port}")),
    );
    let out = fixture.modelc(&["run"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "cannot connect to postgres://postgres@127.0.0.1:{port}/postgres"
        )),
        "{}",
        out.stderr
    );
    // An engine modelc does not have.
    fixture.write(
        "profiles.yml",
        "conn:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: x\n",
    );
    let out = fixture.modelc(&["compile"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("type 'snowflake', an engine modelc does not have")
            && out.stderr.contains("duckdb, postgres, spark"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_spark_targets_are_clear_errors() {
    let spark = SparkServer::from_env();
    let fixture = Fixture::new(&[("project.yml", "name: conn\n"), ("models/m.sql", "select 1 as x\n")]);
    // Nobody listening on the port: an error at once, not after retries.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    fixture.write(
        "profiles.yml",
        &spark
            .profiles_yml("conn", "s")
            .replace(&format!("port: {}", spark.port), &format!("port: {port}")),
    );
    let started = std::time::Instant::now();
    let out = fixture.modelc(&["run"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!("cannot connect to sc://127.0.0.1:{port}")),
        "{}",
        out.stderr
    );
    assert!(started.elapsed().as_secs() < 20, "took {:?}", started.elapsed());
    // dbt-spark's other methods, and a table format modelc does not write.
    for (key, value, message) in [
        (
            "method",
            "thrift",
            "method 'thrift': modelc reaches Spark through Spark Connect only",
        ),
        (
            "file_format",
            "avro",
            "file_format 'avro': not a table format modelc writes",
        ),
    ] {
        fixture.write(
            "profiles.yml",
            &format!(
                "{}      {key}: {value}\n",
                spark.profiles_yml("conn", "s").replace("      method: connect\n", "")
            ),
        );
        let out = fixture.modelc(&["compile"]);
        assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains(message) && out.stderr.contains("profiles.yml:"),
            "{}",
            out.stderr
        );
    }
}

/// A server that goes away mid-run: the running node fails with the server's
/// message, nothing more starts, the exit code is 1, and the node's table was
/// never made visible.
#[test]
fn a_server_that_goes_away_fails_the_running_node_and_starts_nothing_more() {
    let pg = PgServer::from_env();
    let db = pg.fresh_database("goes_away");
    let fixture = Fixture::new(&[
        ("project.yml", "name: away\n"),
        (
            "models/slow.sql",
            "{{ config(materialized='table') }}\nselect 1 as x from (select pg_sleep(30)) s\n",
        ),
        ("models/after_slow.sql", "select x from {{ ref('slow') }}\n"),
    ]);
    fixture.write("profiles.yml", &pg.profiles_yml("away", &db, "s"));
    let root = fixture.path().to_path_buf();
    let run = std::thread::spawn(move || run_modelc(&root, &["run"]));
    let sleeping = "select count(*) from pg_stat_activity where query like '%pg_sleep(30)%' and state = 'active' and pid <> pg_backend_pid()";
    let started = std::time::Instant::now();
    while pg.query(&db, sleeping)[0][0] == "0" {
        assert!(started.elapsed().as_secs() < 30, "the slow model never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    pg.query(
        "postgres",
        &format!(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = '{db}' and pid <> pg_backend_pid()"
        ),
    );
    let out = run.join().expect("modelc ran");
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    // The server's message, or the closed socket, whichever the client saw first.
    assert!(
        out.stdout.contains("the connection to PostgreSQL was lost"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("SKIP=1"), "{}", out.stdout);
    assert!(started.elapsed().as_secs() < 25, "the run waited for the sleep");
    let tables = pg.query(
        &db,
        "select count(*) from information_schema.tables where table_schema = 's'",
    );
    assert_eq!(tables, vec![vec!["0".to_string()]]);
}

const CONSTRAINED_YML: &str = "models:
  - name: m
    config:
      contract: {enforced: true}
    constraints:
      - {type: check, name: positive_amount, expression: amount > 0}
    columns:
      - name: id
        data_type: integer
        constraints:
          - type: primary_key
      - name: name
        data_type: text
        constraints:
          - type: not_null
      - name: amount
        data_type: integer
  - name: child
    config:
      contract: {enforced: true}
    columns:
      - name: m_id
        data_type: integer
        constraints:
          - {type: foreign_key, to: ref('m'), to_columns: [id]}
";

/// An enforced contract's constraints, in the DDL: a row that breaks one fails
/// the model and the previous table stays.
const CONSTRAINTS: Case = Case {
    name: "constraints_are_enforced",
    steps: &[
        Write("models/_m.yml", CONSTRAINED_YML),
        Write(
            "models/m.sql",
            "{{ config(materialized='table') }}\nselect 1 as id, 'a' as name, 10 as amount union all select 2, 'b', 20\n",
        ),
        Write("models/child.sql", "{{ config(materialized='table') }}\nselect 2 as m_id\n"),
        Run(&["run", "-s", "m"], 0),
        Query("select id, name, amount from {s}.m order by id", Some(&["1|a|10", "2|b|20"])),
        // A duplicate key, a null, a failed check.
        Write(
            "models/m.sql",
            "{{ config(materialized='table') }}\nselect 1 as id, 'a' as name, 10 as amount union all select 1, 'b', 20\n",
        ),
        Run(&["run", "-s", "m"], 1),
        Write(
            "models/m.sql",
            "{{ config(materialized='table') }}\nselect 1 as id, cast(null as text) as name, 10 as amount\n",
        ),
        Run(&["run", "-s", "m"], 1),
        Write(
            "models/m.sql",
            "{{ config(materialized='table') }}\nselect 1 as id, 'a' as name, -10 as amount\n",
        ),
        Run(&["run", "-s", "m"], 1),
        Query("select id, name, amount from {s}.m order by id", Some(&["1|a|10", "2|b|20"])),
        // A foreign key to a row that exists, then to one that does not.
        Run(&["run", "-s", "child"], 0),
        Write("models/child.sql", "{{ config(materialized='table') }}\nselect 3 as m_id\n"),
        Run(&["run", "-s", "child"], 1),
        Query("select m_id from {s}.child", Some(&["2"])),
    ],
};

/// DuckDB and PostgreSQL enforce every kind of constraint; Spark tables take
/// none, and each is reported as ignored, in dbt's words.
#[test]
fn constraints_are_enforced_on_duckdb_and_postgres_and_reported_on_spark() {
    let duck = run_case(&CONSTRAINTS, &Engine::DuckDb);
    let pg = PgServer::from_env();
    let answers = run_case(&CONSTRAINTS, &Engine::Postgres(&pg, pg.fresh_database("constraints")));
    assert_eq!(duck, answers);

    let spark = SparkServer::from_env();
    let fixture = Fixture::new(&[("project.yml", PROJECT)]);
    Engine::Spark(&spark, "constraints".into()).setup(&fixture, "conformance");
    fixture.write(
        "models/_m.yml",
        &CONSTRAINED_YML.replace("data_type: text", "data_type: string"),
    );
    fixture.write(
        "models/m.sql",
        "{{ config(materialized='table') }}\nselect 1 as id, 'a' as name, -10 as amount\n",
    );
    fixture.write(
        "models/child.sql",
        "{{ config(materialized='table') }}\nselect 3 as m_id\n",
    );
    let out = fixture.modelc(&["run"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for kind in ["check", "primary_key", "not_null", "foreign_key"] {
        let warning = format!("the constraint type {kind} is not supported by spark, and will be ignored.");
        assert!(out.stderr.contains(&warning), "{kind}: {}", out.stderr);
    }
    assert_eq!(
        out.stderr.matches("'warn_unsupported: false'").count(),
        4,
        "{}",
        out.stderr
    );
}

/// Hooks around a node on a transactional engine: `transaction: true` ones (the
/// default) commit or roll back with the build, `before_begin()`/`after_commit()`
/// ones run outside it, and a hook's `ref()` is a parent of the node.
const HOOKS: Case = Case {
    name: "hooks_share_the_transaction",
    steps: &[
        Write("models/z.sql", "{{ config(materialized='table') }}\nselect 1 as id union all select 2\n"),
        Write(
            "models/m.sql",
            "{{ config(materialized='table',\n  pre_hook=[before_begin('create table if not exists {{ this.schema }}.log (what varchar(40))'),\n            \"insert into {{ this.schema }}.log values ('pre')\"],\n  post_hook=[\"insert into {{ this.schema }}.log select 'reads ' || count(*) from {{ ref('z') }}\",\n             after_commit(\"insert into {{ this.schema }}.log values ('after')\")]) }}\nselect 1 as a\n",
        ),
        Run(&["run", "--threads", "1"], 0),
        Query("select what from {s}.log order by what", Some(&["after", "pre", "reads 2"])),
        // A failing hook inside the transaction: the build and the pre-hook's row roll back.
        Write(
            "models/m.sql",
            "{{ config(materialized='table',\n  pre_hook=\"insert into {{ this.schema }}.log values ('pre')\",\n  post_hook=['select * from no_such_table', after_commit(\"insert into {{ this.schema }}.log values ('after')\")]) }}\nselect 2 as a\n",
        ),
        Run(&["run", "-s", "m"], 1),
        Query("select a from {s}.m", Some(&["1"])),
        Query("select count(*) from {s}.log", Some(&["3"])),
        // A hook that asks the database renders as it runs: its drop runs in the
        // node's transaction, and a model rendered after it sees the table gone.
        Write(
            "models/d.sql",
            "{{ config(materialized='table', post_hook=\"{% do adapter.drop_relation(this) %}\") }}\nselect 1 as x\n",
        ),
        Write(
            "models/gone.sql",
            "{% set rel = load_relation(ref('d')) %}\nselect '{{ 'gone' if rel is none else 'there' }}' as state\n",
        ),
        Run(&["run", "-s", "d", "gone"], 0),
        Query("select state from {s}.gone", Some(&["gone"])),
    ],
};

#[test]
fn hooks_share_the_nodes_transaction_on_duckdb_and_postgres() {
    let duck = run_case(&HOOKS, &Engine::DuckDb);
    let pg = PgServer::from_env();
    let answers = run_case(&HOOKS, &Engine::Postgres(&pg, pg.fresh_database("hooks")));
    assert_eq!(duck, answers);
}
