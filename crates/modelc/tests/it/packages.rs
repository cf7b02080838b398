//! A project that uses a package, end to end: `modelc deps` installs a local
//! package, `modelc build` runs the package's macros (namespaced, dispatched), its
//! generic test, its model over its seed, and macros that ask the database while
//! rendering (columns of a relation the run built, a query), as dbt does.

use crate::support::{Fixture, PROJECT_YML};

/// The package, written next to the project (`../helpers`).
fn helpers(f: &Fixture) {
    f.write(
        "helpers/dbt_project.yml",
        "name: helpers\nversion: '1.0.0'\nvars:\n  factor: 2\nmodels:\n  helpers:\n    +materialized: table\n",
    );
    f.write(
        "helpers/macros/sql.sql",
        "{% macro star(relation, except=[]) -%}\n\
         {%- if not execute %}{{ return('*') }}{% endif -%}\n\
         {%- set cols = [] -%}\n\
         {%- for c in adapter.get_columns_in_relation(relation) if c.name not in except -%}{%- do cols.append(adapter.quote(c.name)) -%}{%- endfor -%}\n\
         {{ cols | join(', ') }}\n\
         {%- endmacro %}\n\
         {% macro column_values(relation, column) -%}\n\
         {%- if not execute %}{{ return([]) }}{% endif -%}\n\
         {%- set r = run_query('select distinct ' ~ column ~ ' from ' ~ relation ~ ' order by 1') -%}\n\
         {{ return(r.columns[0].values()) }}\n\
         {%- endmacro %}\n\
         {% macro label() %}{{ return(adapter.dispatch('label', 'helpers')()) }}{% endmacro %}\n\
         {% macro default__label() %}'default'{% endmacro %}\n\
         {% macro duckdb__label() %}'duckdb'{% endmacro %}\n",
    );
    f.write(
        "helpers/macros/tests.sql",
        "{% test positive(model, column_name) %}select * from {{ model }} where {{ column_name }} <= 0{% endtest %}\n",
    );
    f.write("helpers/seeds/rates.csv", "status,rate\npaid,5\nopen,7\n");
    f.write(
        "helpers/models/scaled_rates.sql",
        "select status, rate * {{ var('factor') }} as rate from {{ ref('rates') }}\n",
    );
}

#[test]
fn a_package_installed_by_deps_builds_with_the_project() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("packages.yml", "packages:\n  - local: helpers\n"),
        ("seeds/orders.csv", "id,amount,status\n1,10,paid\n2,20,open\n3,30,paid\n"),
        (
            "models/orders_rated.sql",
            "select o.*, r.rate, {{ helpers.label() }} as label\nfrom {{ ref('orders') }} o join {{ ref('helpers', 'scaled_rates') }} r using (status)\n",
        ),
        (
            "models/orders_slim.sql",
            "select {{ helpers.star(ref('orders_rated'), except=['label']) }} from {{ ref('orders_rated') }}\n",
        ),
        (
            "models/statuses.sql",
            "select {% for s in helpers.column_values(ref('orders'), 'status') %}'{{ s }}' as s{{ loop.index }}{{ ', ' if not loop.last }}{% endfor %}\n",
        ),
        (
            "models/schema.yml",
            "version: 2\nmodels:\n  - name: orders_rated\n    columns:\n      - name: amount\n        data_tests: [helpers.positive]\n",
        ),
    ]);
    helpers(&f);
    let out = f.modelc(&["deps"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let out = f.modelc(&["build"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("PASS=7 WARN=0 ERROR=0"), "{}", out.stdout);

    assert_eq!(
        f.query("select id, rate, label from main.orders_rated order by id"),
        [["1", "10", "duckdb"], ["2", "14", "duckdb"], ["3", "10", "duckdb"]]
    );
    // The run's own relation answered the column question: `label` left out.
    assert_eq!(
        f.query("select column_name from information_schema.columns where table_name = 'orders_slim' order by ordinal_position"),
        [["id"], ["amount"], ["status"], ["rate"]]
    );
    // The query ran against the seed this run loaded.
    assert_eq!(f.query("select s1, s2 from main.statuses"), [["open", "paid"]]);
}
