//! SCD2 snapshots across successive source states.

use crate::support::{table, Fixture, PROJECT_YML};

const STATES: [&str; 3] = [
    "id,name,tier,updated_at\n1,ann,gold,2024-01-01\n2,bob,silver,2024-01-01\n3,cid,bronze,2024-01-01\n",
    // bob upgraded, cid deleted
    "id,name,tier,updated_at\n1,ann,gold,2024-01-01\n2,bob,gold,2024-02-01\n",
    // cid comes back, ann unchanged
    "id,name,tier,updated_at\n1,ann,gold,2024-01-01\n2,bob,gold,2024-02-01\n3,cid,silver,2024-03-01\n",
];

fn snapshot_sql(config: &str) -> String {
    format!("{{% snapshot customers_snapshot %}}\n{{{{ config({config}) }}}}\nselect * from {{{{ ref('customers') }}}}\n{{% endsnapshot %}}\n")
}

/// Runs the three states (and a repeat of the last) and prints the history.
/// Times set by the snapshot itself (not by the data) are shown as `now`.
fn history(config: &str) -> String {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/customers.csv", STATES[0]),
        ("snapshots/customers.sql", &snapshot_sql(config)),
    ]);
    let mut log = Vec::new();
    let cols = "id, name, tier, \
        case when dbt_valid_from > timestamp '2025-01-01' then 'now' else cast(cast(dbt_valid_from as date) as varchar) end as valid_from, \
        case when dbt_valid_to is null then '∅' when dbt_valid_to > timestamp '2025-01-01' then 'now' else cast(cast(dbt_valid_to as date) as varchar) end as valid_to";
    for (i, state) in STATES.iter().chain(std::iter::once(&STATES[2])).enumerate() {
        f.write("seeds/customers.csv", state);
        let out = f.modelc(&["build"]);
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
        let deleted = if config.contains("new_record") {
            ", dbt_is_deleted"
        } else {
            ""
        };
        let rows = f.query(&format!(
            "select {cols}{deleted} from snapshots.customers_snapshot order by id, dbt_valid_from, dbt_valid_to nulls last"
        ));
        log.push(format!("state {}:\n{}", i + 1, table(&rows)));
        let current = f.query("select id, count(*) from snapshots.customers_snapshot where dbt_valid_to is null group by id having count(*) > 1");
        assert!(current.is_empty(), "more than one current row: {current:?}");
    }
    let ids = f.query("select count(*) = count(distinct dbt_scd_id) from snapshots.customers_snapshot");
    assert_eq!(ids[0][0], "true");
    log.join("\n")
}

const TS: &str = "target_schema='snapshots', unique_key='id', strategy='timestamp', updated_at='updated_at'";

#[test]
fn timestamp_ignore_deletes() {
    insta::assert_snapshot!(history(TS));
}

#[test]
fn timestamp_invalidate_deletes() {
    insta::assert_snapshot!(history(&format!("{TS}, hard_deletes='invalidate'")));
}

#[test]
fn timestamp_new_record_deletes() {
    insta::assert_snapshot!(history(&format!("{TS}, hard_deletes='new_record'")));
}

#[test]
fn check_strategy_with_composite_key() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/prices.csv", "shop,sku,price\na,x,1\na,y,2\nb,x,3\n"),
        ("snapshots/prices.sql", "{% snapshot prices_snapshot %}\n{{ config(target_schema='snapshots', unique_key=['shop', 'sku'], strategy='check', check_cols=['price']) }}\nselect * from {{ ref('prices') }}\n{% endsnapshot %}\n"),
    ]);
    assert_eq!(f.modelc(&["build"]).code, 0);
    f.write("seeds/prices.csv", "shop,sku,price\na,x,1\na,y,5\nb,x,3\n");
    assert_eq!(f.modelc(&["build"]).code, 0);
    assert_eq!(f.modelc(&["build"]).code, 0);
    let rows = f.query("select shop, sku, price, dbt_valid_to is null as current from snapshots.prices_snapshot order by shop, sku, dbt_valid_from");
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn yaml_snapshot_with_valid_to_current() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/customers.csv", STATES[0]),
        ("snapshots/snapshots.yml", "version: 2\nsnapshots:\n  - name: customers_history\n    relation: ref('customers')\n    config:\n      schema: history\n      unique_key: id\n      strategy: check\n      check_cols: all\n      dbt_valid_to_current: \"timestamp '9999-12-31'\"\n"),
    ]);
    assert_eq!(f.modelc(&["build"]).code, 0);
    f.write("seeds/customers.csv", STATES[1]);
    assert_eq!(f.modelc(&["build"]).code, 0);
    let rows = f.query("select id, tier, cast(dbt_valid_to as date) = date '9999-12-31' as current from main_history.customers_history order by id, dbt_valid_from");
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn a_failing_snapshot_keeps_history() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/customers.csv", STATES[0]),
        ("snapshots/customers.sql", &snapshot_sql(TS)),
    ]);
    assert_eq!(f.modelc(&["build"]).code, 0);
    f.write(
        "snapshots/customers.sql",
        &snapshot_sql(TS).replace("select *", "select *, 1/0 as boom, error('boom') as e"),
    );
    assert_eq!(f.modelc(&["snapshot"]).code, 1);
    assert_eq!(
        table(&f.query("select count(*) from snapshots.customers_snapshot")),
        "3"
    );
}
