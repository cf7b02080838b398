//! `modelc source freshness`: each source's latest load time against its
//! `warn_after` / `error_after` (with `filter` and `loaded_at_query`), in
//! `target/sources.json` as dbt writes it.

use crate::support::{Fixture, PROJECT_YML};

const SOURCES: &str = "\
version: 2
sources:
  - name: raw
    schema: main
    freshness:
      warn_after: {count: 1, period: hour}
      error_after: {count: 1, period: day}
    loaded_at_field: loaded_at
    tables:
      - name: fresh
      - name: late
      - name: stale
      - name: filtered
        freshness:
          error_after: {count: 1, period: day}
          filter: id < 2
      - name: by_query
        loaded_at_query: select max(loaded_at) from main.fresh
      - name: unchecked
        freshness: null
";

#[test]
fn source_freshness_checks_every_source_and_writes_sources_json() {
    let now = chrono::Utc::now().naive_utc();
    let at = |minutes: i64| {
        (now - chrono::Duration::minutes(minutes))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let f = Fixture::new(&[("project.yml", PROJECT_YML), ("models/sources.yml", SOURCES)]);
    for (table, loaded) in [
        ("fresh", at(10)),
        ("late", at(180)),
        ("stale", at(3 * 24 * 60)),
        ("unchecked", at(3 * 24 * 60)),
    ] {
        f.write(&format!("seeds/{table}.csv"), &format!("id,loaded_at\n1,{loaded}\n"));
    }
    // The newest row of `filtered` is fresh; the filter leaves only the old one.
    f.write(
        "seeds/filtered.csv",
        &format!("id,loaded_at\n1,{}\n2,{}\n", at(3 * 24 * 60), at(5)),
    );
    assert_eq!(f.modelc(&["seed"]).code, 0);

    let out = f.modelc(&["source", "freshness"]);
    assert_eq!(out.code, 1, "a stale source fails the command: {out:?}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("target/sources.json")).expect("sources.json"))
            .expect("json");
    assert_eq!(
        results["metadata"]["dbt_schema_version"],
        "https://schemas.getdbt.com/dbt/sources/v3.json"
    );
    let status = |table: &str| {
        results["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["unique_id"] == format!("source.shop.raw.{table}"))
            .map(|r| r["status"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(status("fresh").as_deref(), Some("pass"));
    assert_eq!(status("late").as_deref(), Some("warn"));
    assert_eq!(status("stale").as_deref(), Some("error"));
    assert_eq!(status("filtered").as_deref(), Some("error"));
    assert_eq!(status("by_query").as_deref(), Some("pass"));
    assert_eq!(status("unchecked"), None, "freshness: null is not checked");
    assert!(
        out.stdout.contains("ERROR STALE freshness of raw.stale"),
        "{}",
        out.stdout
    );

    // Selecting only the fresh sources passes.
    let selected = f.modelc(&["source", "freshness", "-s", "source:raw.fresh", "source:raw.by_query"]);
    assert_eq!(selected.code, 0, "{selected:?}");
    assert!(selected.stdout.contains("2 of 2"), "{}", selected.stdout);
}
