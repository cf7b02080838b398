//! dbt's Jinja runtime as packages use it: macro namespaces, `adapter.dispatch`
//! with the project's search order, the `dbt` namespace, package vars, mutable
//! lists and dicts, and errors where modelc cannot answer (never a wrong answer).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use modelc_template::{Jinja, MacroFile, NodeContext, ProjectContext};
use serde_json::json;

/// Two packages and a root project (`shop`):
/// - `utils` calls its own macros unqualified and dispatches through its namespace;
/// - `other` is dispatched to by the root project's `dispatch:` search order;
/// - the root overrides one of `utils`' dispatched macros and a `dbt` macro.
fn jinja() -> Jinja {
    let mut ctx = ProjectContext {
        project_name: "shop".into(),
        dispatch: vec![("utils".into(), vec!["shop".into(), "other".into(), "utils".into()])],
        run_started_at: "2026-11-30T22:00:00.123456+00:00".into(),
        ..Default::default()
    };
    ctx.vars.insert("region".into(), json!("eu"));
    let mut utils_vars = ctx.vars.clone();
    utils_vars.insert("utils_size".into(), json!(3));
    ctx.package_vars.insert("utils".into(), utils_vars);
    let files = [
        (
            Some("utils"),
            "dbt_packages/utils/macros/keys.sql",
            "{% macro key(cols) %}{{ return(adapter.dispatch('key', 'utils')(cols)) }}{% endmacro %}\n\
             {% macro default__key(cols) %}md5({{ joined(cols) }}){% endmacro %}\n\
             {% macro joined(cols) %}{% set parts = [] %}{% for c in cols %}{% do parts.append(\"coalesce(\" ~ c ~ \", '')\") %}{% endfor %}{{ parts | join(\" || '-' || \") }}{% endmacro %}\n\
             {% macro label() %}{{ return(adapter.dispatch('label', 'utils')()) }}{% endmacro %}\n\
             {% macro default__label() %}utils label{% endmacro %}\n\
             {% macro shout() %}{{ return(adapter.dispatch('shout', 'utils')()) }}{% endmacro %}\n\
             {% macro default__shout() %}utils shout{% endmacro %}\n\
             {% macro size() %}{{ var('utils_size', 0) }}{% endmacro %}",
        ),
        (
            Some("utils"),
            "dbt_packages/utils/macros/tests.sql",
            "{% test positive(model, column_name) %}select * from {{ model }} where {{ column_name }} <= 0{% endtest %}",
        ),
        (
            Some("other"),
            "dbt_packages/other/macros/label.sql",
            "{% macro duckdb__label() %}other label{% endmacro %}",
        ),
        (
            None,
            "macros/overrides.sql",
            "{% macro default__shout() %}shop shout{% endmacro %}\n\
             {% macro duckdb__dateadd(datepart, interval, from_date_or_timestamp) %}my_dateadd({{ interval }}){% endmacro %}\n\
             {% macro loop_forever(n) %}{{ loop_forever(n + 1) }}{% endmacro %}",
        ),
    ];
    let files: Vec<MacroFile> = files
        .iter()
        .map(|(package, path, text)| MacroFile {
            path: path.to_string(),
            text: text.to_string(),
            package: package.map(str::to_owned),
        })
        .collect();
    let (j, diags) = Jinja::new(ctx, &files);
    assert!(diags.is_empty(), "{diags:?}");
    j
}

fn node(package: &str) -> NodeContext {
    NodeContext {
        name: "m".into(),
        unique_id: format!("model.{package}.m"),
        resource_type: "model".into(),
        original_file_path: "models/m.sql".into(),
        package: package.into(),
        ..Default::default()
    }
}

fn render(j: &Jinja, package: &str, src: &str) -> Result<String, String> {
    j.render("models/m.sql", src, &node(package))
        .map(|o| o.sql)
        .map_err(|e| format!("{}:{}: {}", e.file, e.line, e.message))
}

#[test]
fn package_runtime_renders_as_dbt_does() {
    let j = jinja();
    // (what, node's package, template, expected output)
    let cases = [
        (
            "a namespaced macro, calling its package's macros unqualified",
            "shop",
            "{{ utils.key(['a', 'b']) }}",
            "md5(coalesce(a, '') || '-' || coalesce(b, ''))",
        ),
        (
            "dispatch follows the project's search order (other before utils)",
            "shop",
            "{{ utils.label() }}",
            "other label",
        ),
        (
            "the root project, first in the search order, overrides a package's macro",
            "shop",
            "{{ utils.shout() }}",
            "shop shout",
        ),
        (
            "a package's generic test is found unqualified and namespaced",
            "shop",
            "{{ test_positive('t', 'x') }} / {{ utils.test_positive('t', 'x') }}",
            "select * from t where x <= 0 / select * from t where x <= 0",
        ),
        (
            "dbt's macros: the root's duckdb__ version wins",
            "shop",
            "{{ dbt.dateadd('day', 2, 'd') }}",
            "my_dateadd(2)",
        ),
        ("dbt's macros: modelc's built-in", "shop", "{{ dbt.type_string() }}", "TEXT"),
        (
            "dispatch into dbt's namespace reaches the built-in",
            "shop",
            "{{ adapter.dispatch('type_string', 'dbt')() }}",
            "TEXT",
        ),
        (
            "vars: the package's nodes see its scope, the root's do not",
            "utils",
            "{{ var('utils_size') }} {{ var('region') }}",
            "3 eu",
        ),
        ("vars: root node", "shop", "{{ var('utils_size', 'none') }}", "none"),
        (
            "lists and dicts are mutable, in insertion order",
            "shop",
            "{% set d = {'z': []} %}{% do d.update({'a': 1}) %}{% do d['z'].append(2) %}{% do d['z'].extend([3]) %}{{ d.keys() | list }} {{ d['z'] | join(',') }} {{ d.pop('a') }} {{ d | length }} {{ 2 in d['z'] }}",
            // As Jinja2 prints Python values.
            "['z', 'a'] 2,3 1 1 True",
        ),
    ];
    for (what, package, src, want) in cases {
        assert_eq!(render(&j, package, src).as_deref(), Ok(want), "{what}");
    }
}

#[test]
fn what_modelc_cannot_answer_is_an_error() {
    let j = jinja();
    let cases = [
        (
            "{{ adapter.get_columns_in_relation(ref('x')) }}",
            "adapter.get_columns_in_relation(__modelc_ref_0__) needs the database",
        ),
        (
            "{{ adapter.dispatch('nothing', 'utils')() }}",
            "tried shop.duckdb__nothing",
        ),
        (
            "{{ dbt.no_such_macro() }}",
            "dbt.no_such_macro is not a macro modelc knows",
        ),
        (
            "{{ utils.no_such_macro() }}",
            "package 'utils' has no macro named 'no_such_macro'",
        ),
    ];
    for (src, want) in cases {
        let e = render(&j, "shop", src).unwrap_err();
        assert!(e.contains(want), "{src}: {e}");
    }
}

/// A macro calling itself without end is an error naming it, not a stack overflow,
/// even on a thread with a small stack (rayon's workers render nodes).
#[test]
fn endless_recursion_is_an_error() {
    let j = jinja();
    let e = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(s, || render(&j, "shop", "select {{ loop_forever(0) }}"))
            .unwrap()
            .join()
            .unwrap()
    })
    .unwrap_err();
    assert!(e.contains("macro 'loop_forever'"), "{e}");
    assert!(e.contains("macros/overrides.sql"), "{e}");
}

/// `return()` ends the macro, as in dbt: what follows it never runs.
#[test]
fn return_ends_the_macro() {
    let (j, diags) = Jinja::new(
        ProjectContext::default(),
        &[MacroFile {
            path: "macros/r.sql".into(),
            text: "{% macro pick(x) %}{% if x %}{{ return('early') }}{% endif %}{{ exceptions.raise_compiler_error('not reached') }}{% endmacro %}\n\
                   {% macro outer() %}{% set v = pick(true) %}{{ return(v ~ ' then outer') }}{% endmacro %}"
                .into(),
            package: None,
        }],
    );
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(render(&j, "p", "{{ outer() }}").as_deref(), Ok("early then outer"));
    let e = render(&j, "p", "{{ pick(false) }}").unwrap_err();
    assert!(e.contains("not reached"), "{e}");
}

/// Jinja2's `varargs` and `kwargs` in a macro body take a call's extra arguments.
#[test]
fn macros_read_varargs_and_kwargs() {
    let (j, diags) = Jinja::new(
        ProjectContext::default(),
        &[MacroFile {
            path: "macros/v.sql".into(),
            text: "{% macro cols(first, sep=',') %}{{ ([first] + varargs) | join(sep) }}{% for k, v in kwargs.items() %} {{ k }}={{ v }}{% endfor %}{% endmacro %}".into(),
            package: None,
        }],
    );
    assert!(diags.is_empty(), "{diags:?}");
    let cases = [
        ("{% for k, v in {'a': 1}.items() %}{{k}}={{v}}{% endfor %}", "a=1"),
        (
            "{% set d = {'a': 1} %}{% for k, v in d.items() %}{{k}}={{v}}{% endfor %}",
            "a=1",
        ),
        ("{{ cols('a') }}", "a"),
        ("{{ cols('a', '-', 'b', 'c') }}", "a-b-c"),
        ("{{ cols('a', sep='+', alias='x', n=2) }}", "a alias=x n=2"),
    ];
    for (src, want) in cases {
        assert_eq!(render(&j, "p", src).as_deref(), Ok(want), "{src}");
    }
}

/// A database that knows one relation (the node's first ref) and answers one query.
#[derive(Debug)]
struct OneTable;

impl modelc_template::database::Database for OneTable {
    fn columns(
        &self,
        relation: &modelc_template::database::RelationArg,
    ) -> Result<Option<Vec<modelc_template::database::DbColumn>>, String> {
        use modelc_template::database::{DbColumn, RelationArg};
        use modelc_template::Target;
        Ok(match relation {
            RelationArg::Target(Target::Ref(0)) => Some(
                [("id", Some("INTEGER")), ("Name", Some("VARCHAR")), ("note", None)]
                    .iter()
                    .map(|(n, t)| DbColumn {
                        name: n.to_string(),
                        data_type: t.map(str::to_owned),
                    })
                    .collect(),
            ),
            _ => None,
        })
    }

    fn relation(
        &self,
        relation: &modelc_template::database::RelationArg,
    ) -> Result<Option<(String, String, String)>, String> {
        Ok(match relation {
            modelc_template::database::RelationArg::Named { identifier, .. } if identifier == "t" => {
                Some(("db".into(), "main".into(), "t".into()))
            }
            _ => None,
        })
    }

    fn graph(&self) -> Result<std::sync::Arc<serde_json::Value>, String> {
        Ok(std::sync::Arc::new(json!({
            "nodes": {"model.shop.orders": {"name": "orders", "resource_type": "model"}},
            "sources": {}
        })))
    }

    /// Says what it was asked to drop, as an error the render reports.
    fn drop_relation(&self, relation: &modelc_template::database::RelationArg) -> Result<(), String> {
        Err(format!("asked to drop {relation:?}"))
    }

    fn query(&self, sql: &str) -> Result<modelc_template::database::QueryTable, String> {
        if !sql.contains("__modelc_ref_0__") {
            return Err(format!("unexpected query: {sql}"));
        }
        Ok(modelc_template::database::QueryTable {
            columns: vec![("status".into(), "VARCHAR".into()), ("n".into(), "BIGINT".into())],
            rows: vec![vec![json!("paid"), json!(2)], vec![json!("refunded"), json!(1)]],
        })
    }
}

/// Introspection answers from the database the render is given; with none it is an
/// error that says so; in dbt's parse phase (`execute` false) it answers nothing.
#[test]
fn introspection_answers_truly_or_fails() {
    let j = jinja();
    let src = "{% set cols = adapter.get_columns_in_relation(ref('orders')) %}\
{{ cols | map(attribute='name') | join(',') }} {{ cols[0].data_type }} {{ cols[1].is_string() }}\
{% set r = run_query('select status, count(*) as n from ' ~ ref('orders') ~ ' group by 1') %}\
 {{ r.columns[0].values() | join('/') }} {{ r.rows[1]['n'] + 1 }} {{ r | length }}\
{% for name, c in r.columns.items() %} {{ name }}:{{ c.values() | length }}{% endfor %}\
{% call statement('s', fetch_result=True) %}select * from {{ ref('orders') }}{% endcall %}\
 {{ load_result('s')['data'][0][0] }} {{ load_result('s')['table'].column_names | join(',') }}\
 {{ adapter.get_relation(database=none, schema='main', identifier='t') }} {{ adapter.get_relation('x', 'y', 'z') is none }}";
    let mut n = node("shop");
    n.database = Some(std::sync::Arc::new(OneTable));
    let out = j.render("models/m.sql", src, &n).map(|o| o.sql);
    assert_eq!(
        out.as_deref(),
        // (`\` line continuations drop the leading spaces.)
        Ok("id,Name,note INTEGER Truepaid/refunded 2 2 status:2 n:2paid status,n\"db\".\"main\".\"t\" True")
    );
    // A type nobody knows fails when used.
    let e = j
        .render(
            "models/m.sql",
            "{{ adapter.get_columns_in_relation(ref('orders'))[2].data_type }}",
            &n,
        )
        .unwrap_err();
    assert!(e.message.contains("type of column 'note' is not known"), "{e:?}");

    let e = render(&j, "shop", src).unwrap_err();
    assert!(e.contains(modelc_template::database::NEEDS_DATABASE), "{e}");

    let graph = "{% for id, n in graph.nodes.items() %}{{ id }}={{ n.name }}{% endfor %} {{ graph.sources | length }}";
    assert_eq!(
        j.render("models/m.sql", graph, &n).map(|o| o.sql).as_deref(),
        Ok("model.shop.orders=orders 0")
    );
    assert!(render(&j, "shop", graph)
        .unwrap_err()
        .contains(modelc_template::database::NEEDS_DATABASE));

    let mut parse = node("shop");
    parse.parse_only = true;
    let out = j.render("models/m.sql", "{{ execute }} {{ adapter.get_columns_in_relation(ref('orders')) | length }} {{ run_query('select 1') is none }}", &parse);
    assert_eq!(out.map(|o| o.sql).as_deref(), Ok("False 0 True"));
}

/// `adapter.drop_relation` asks the database to drop the relation (`this`, kept
/// by `incorporate(type=...)`); the parse phase drops nothing; with no database
/// it needs one, so the compiler renders the hook again as it runs.
#[test]
fn drop_relation_asks_the_database() {
    let j = jinja();
    let src = "{% do adapter.drop_relation(this.incorporate(type='table')) %}";
    let mut n = node("shop");
    n.database = Some(std::sync::Arc::new(OneTable));
    let e = j.render("models/m.sql", src, &n).unwrap_err();
    assert!(e.message.contains("asked to drop Target(This)"), "{e:?}");
    let e = j
        .render(
            "models/m.sql",
            "{% do adapter.drop_relation(api.Relation.create(identifier='t')) %}",
            &n,
        )
        .unwrap_err();
    assert!(e.message.contains(r#"identifier: "t""#), "{e:?}");
    let e = j
        .render("models/m.sql", "{% do adapter.drop_relation('t') %}", &n)
        .unwrap_err();
    assert!(e.message.contains("expects a relation"), "{e:?}");

    let e = render(&j, "shop", src).unwrap_err();
    assert!(e.contains(modelc_template::database::NEEDS_DATABASE), "{e}");
    let mut parse = node("shop");
    parse.parse_only = true;
    assert_eq!(j.render("models/m.sql", src, &parse).map(|o| o.sql).as_deref(), Ok(""));
}

/// The Python helpers of dbt's context.
#[test]
fn python_helpers_behave_as_in_dbt() {
    let j = jinja();
    let cases = [
        (r#"{{ fromjson('{"a": [1, 2]}')['a'][1] }}"#, "2"),
        ("{{ fromjson('nope', 'dflt') }}", "dflt"),
        ("{{ tojson({'a': [1, 'x']}) }}", r#"{"a": [1, "x"]}"#),
        ("{{ fromyaml('a: 1\nb: [x]')['b'][0] }}", "x"),
        ("{{ toyaml({'a': 1}) | trim }}", "a: 1"),
        ("{{ zip([1, 2, 3], ['a', 'b']) | list }}", "[[1, 'a'], [2, 'b']]"),
        (
            "{{ set([2, 1, 2]) | list }} {{ set(['b', 'a']) == set(['a', 'b']) }}",
            "[1, 2] True",
        ),
        ("{{ local_md5('abc') }}", "900150983cd24fb0d6963f7d28e17f72"),
        ("{{ (['a', 'b', 'b'] | map('upper') | list).index('B') }} {{ ('a,b' | split(',')).count('b') }}", "1 1"),
        ("{{ modules.re.sub('[^a-z]+', '_', 'Hello World') }}", "_ello_orld"),
        (r"{{ modules.re.sub('(\\d+)', 'n\\1', 'a12') }}", "an12"),
        (r"{{ modules.re.match('(\\d+)-x', '12-x').group(1) }}", "12"),
        (
            "{{ modules.re.match('x', 'ax') is none }} {{ modules.re.search('x', 'ax') is none }}",
            "True False",
        ),
        (
            "{{ modules.datetime.datetime(2024, 1, 2, 3, 4, 5).strftime('%Y/%m/%d %H:%M:%S.%f') }}",
            "2024/01/02 03:04:05.000000",
        ),
        (
            "{{ modules.datetime.date(2024, 1, 2) }} {{ modules.datetime.date(2024, 1, 2).weekday() }}",
            "2024-01-02 1",
        ),
        (
            "{{ modules.datetime.datetime.strptime('2024-03-01', '%Y-%m-%d').isoformat() }}",
            "2024-03-01T00:00:00",
        ),
        (
            "{{ modules.datetime.datetime.fromisoformat('2024-03-01T10:00:00+00:00').timestamp() }}",
            "1709287200.0",
        ),
        (
            "{{ modules.pytz.timezone('America/Los_Angeles').localize(modules.datetime.datetime(2024, 7, 1, 12, 0)) }}",
            "2024-07-01 12:00:00-07:00",
        ),
        // pytz's quirk: `tzinfo=` takes the zone's local mean time, to the minute.
        (
            "{{ modules.datetime.datetime(1997, 9, 29, 6, 14, 0, tzinfo=modules.pytz.timezone('America/Los_Angeles')) }}",
            "1997-09-29 06:14:00-07:53",
        ),
        (
            "{{ run_started_at.astimezone(modules.pytz.timezone('Asia/Kolkata')).strftime('%H:%M %z') }}",
            "03:30 +0530",
        ),
        (
            "{{ run_started_at.year }} {{ run_started_at.tzinfo }} {{ run_started_at }}",
            "2026 UTC 2026-11-30 22:00:00.123456+00:00",
        ),
        // Python's date arithmetic: a date moves by whole days.
        (
            "{{ modules.datetime.date(2024, 3, 1) - modules.datetime.timedelta(1) }} {{ modules.datetime.date(2024, 3, 1) - modules.datetime.timedelta(hours=36) }}",
            "2024-02-29 2024-02-29",
        ),
        (
            "{% set end = modules.datetime.datetime(2024, 1, 10, 5).replace(hour=0) %}{% set start = (end - modules.datetime.timedelta(days=10)) %}{{ start }}",
            "2023-12-31 00:00:00",
        ),
        (
            "{{ modules.datetime.datetime(2024, 1, 1, 12) + modules.datetime.timedelta(minutes=90, seconds=1.5) }}",
            "2024-01-01 13:30:01.500000",
        ),
        (
            "{{ modules.datetime.timedelta(days=-1, seconds=1) }} {{ modules.datetime.timedelta(weeks=1, hours=2).total_seconds() }} {{ modules.datetime.timedelta(hours=25).days }}",
            "-1 day, 0:00:01 612000.0 1",
        ),
        (
            "{{ modules.datetime.timedelta(1) + modules.datetime.timedelta(hours=12) }}",
            "1 day, 12:00:00",
        ),
        // A timedelta kept in a variable, as in `{% set lookback = ... %}`.
        (
            "{%- set week = modules.datetime.timedelta(days=7) -%}{% set d = modules.datetime.date(2024, 3, 1) %}{{ d - week }} {{ (d + week).isoformat() }}",
            "2024-02-23 2024-03-08",
        ),
        // Python's truth: objects are true (minijinja's default takes them for
        // empty maps); a timedelta unless zero.
        (
            "{% for x in [modules.re.match('a', 'a'), api.Column('a', 'integer'), api.Relation.create(identifier='x'), this, model, adapter, exceptions, config, modules, modules.re, modules.datetime, dbt, modules.datetime.date] %}{{ 'T' if x else 'F' }}{% endfor %}",
            "TTTTTTTTTTTTT",
        ),
        // Python's truth: dates and zones are true, a timedelta unless zero.
        (
            "{{ 'T' if modules.datetime.date.today() else 'F' }}{{ 'T' if modules.pytz.utc else 'F' }}{{ 'T' if modules.datetime.timedelta(2) else 'F' }}{{ 'T' if modules.datetime.timedelta(0) else 'F' }}",
            "TTTF",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(render(&j, "shop", src).as_deref(), Ok(want), "{src}");
    }
}
