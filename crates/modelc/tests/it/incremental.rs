//! Incremental models across three runs under each strategy.

use crate::support::{table, Fixture, PROJECT_YML};

fn model(strategy: &str, extra: &str) -> String {
    format!(
        "{{{{ config(materialized='incremental', unique_key='id', incremental_strategy='{strategy}'{extra}) }}}}\n\
         select id, status, updated_at from {{{{ ref('events') }}}}\n\
         {{% if is_incremental() %}}where updated_at > (select max(updated_at) from {{{{ this }}}}){{% endif %}}"
    )
}

fn run_three_states(strategy: &str) -> String {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/events.csv", "id,status,updated_at\n1,new,1\n2,new,1\n"),
        ("models/inc.sql", &model(strategy, "")),
    ]);
    let mut log = Vec::new();
    for (i, csv) in [
        "id,status,updated_at\n1,new,1\n2,new,1\n",
        "id,status,updated_at\n1,new,1\n2,paid,2\n3,new,2\n",
        "id,status,updated_at\n1,shipped,3\n2,paid,2\n3,new,2\n4,new,3\n",
    ]
    .iter()
    .enumerate()
    {
        f.write("seeds/events.csv", csv);
        let out = f.modelc(&["build"]);
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
        log.push(format!(
            "after run {}:\n{}",
            i + 1,
            table(&f.query("select id, status, updated_at from main.inc order by id, updated_at"))
        ));
    }
    let out = f.modelc(&["run", "--full-refresh"]);
    assert_eq!(out.code, 0);
    log.push(format!(
        "after --full-refresh:\n{}",
        table(&f.query("select id, status, updated_at from main.inc order by id, updated_at"))
    ));
    log.join("\n")
}

#[test]
fn append() {
    insta::assert_snapshot!(run_three_states("append"));
}

#[test]
fn merge() {
    insta::assert_snapshot!(run_three_states("merge"));
}

#[test]
fn delete_insert() {
    insta::assert_snapshot!(run_three_states("delete+insert"));
}

#[test]
fn on_schema_change() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        (
            "models/inc.sql",
            "{{ config(materialized='incremental', on_schema_change='fail') }}\nselect 1 as id",
        ),
    ]);
    assert_eq!(f.modelc(&["run"]).code, 0);
    f.write(
        "models/inc.sql",
        "{{ config(materialized='incremental', on_schema_change='fail') }}\nselect 2 as id, 'x' as extra",
    );
    let out = f.modelc(&["run"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("on_schema_change is 'fail'"), "{}", out.stdout);
    assert_eq!(table(&f.query("select * from main.inc")), "1");

    f.write(
        "models/inc.sql",
        "{{ config(materialized='incremental', on_schema_change='append_new_columns') }}\nselect 2 as id, 'x' as extra",
    );
    assert_eq!(f.modelc(&["run"]).code, 0);
    assert_eq!(table(&f.query("select * from main.inc order by id")), "1 | ∅\n2 | x");

    f.write(
        "models/inc.sql",
        "{{ config(materialized='incremental') }}\nselect 3 as id, 'y' as extra, true as ignored",
    );
    assert_eq!(f.modelc(&["run"]).code, 0);
    assert_eq!(
        table(&f.query("select * from main.inc order by id")),
        "1 | ∅\n2 | x\n3 | y"
    );
}
