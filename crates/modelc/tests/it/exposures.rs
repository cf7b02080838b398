//! Exposures: declared in YAML, resolved against the project's models, listed by
//! `ls`, selected with `exposure:`, in the manifest and the lineage, never run.

use crate::support::{Fixture, PROJECT_YML};

const EXPOSURES: &str = "\
exposures:
  - name: weekly_kpis
    type: dashboard
    maturity: high
    url: https://bi.example/kpis
    owner: {name: Ann, email: ann@example.com}
    depends_on:
      - ref('b')
      - source('raw', 'events')
";

fn project() -> Fixture {
    Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("seeds/events.csv", "id\n1\n"),
        (
            "models/sources.yml",
            "sources:\n  - name: raw\n    schema: main\n    tables: [{name: events}]\n",
        ),
        ("models/a.sql", "select id from {{ source('raw', 'events') }}"),
        ("models/b.sql", "select id from {{ ref('a') }}"),
        ("models/c.sql", "select 1 as z"),
        ("models/exposures.yml", EXPOSURES),
    ])
}

#[test]
fn exposures_are_listed_selected_and_in_the_manifest() {
    let f = project();
    let ls = f.modelc(&["ls", "-s", "+exposure:weekly_kpis"]);
    assert_eq!(ls.code, 0, "{ls:?}");
    let rows: Vec<&str> = ls.stdout.lines().map(str::trim_end).collect();
    assert_eq!(
        rows,
        [
            "exposure  dashboard  weekly_kpis  models/exposures.yml",
            "model     view       a            models/a.sql",
            "model     view       b            models/b.sql",
            "seed      seed       events       seeds/events.csv",
            "source    -          raw.events   models/sources.yml",
        ]
    );
    let only = f.modelc(&["ls", "--resource-type", "exposure"]);
    assert_eq!(only.stdout.lines().count(), 1, "{only:?}");

    // Building what feeds the dashboard builds the seed, a and b, not c; the
    // exposure is not run.
    assert_eq!(f.modelc(&["seed"]).code, 0);
    let build = f.modelc(&["build", "-s", "+exposure:weekly_kpis"]);
    assert_eq!(build.code, 0, "{build:?}");
    assert!(build.stdout.contains("PASS=3"), "{}", build.stdout);

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("target/manifest.json")).expect("manifest"))
            .expect("json");
    let e = &manifest["exposures"]["exposure.shop.weekly_kpis"];
    assert_eq!(e["type"], "dashboard");
    assert_eq!(e["owner"]["email"], "ann@example.com");
    assert_eq!(
        e["depends_on"]["nodes"],
        serde_json::json!(["model.shop.b", "source.shop.raw.events"])
    );
    assert_eq!(
        manifest["child_map"]["model.shop.b"],
        serde_json::json!(["exposure.shop.weekly_kpis"])
    );
    let lineage = f.modelc(&["docs", "--format", "mermaid"]);
    assert!(
        lineage.stdout.contains("model_shop_b --> exposure_shop_weekly_kpis"),
        "{}",
        lineage.stdout
    );
}

#[test]
fn an_exposure_on_a_missing_model_is_an_error_at_its_line() {
    let f = project();
    f.write("models/exposures.yml", &EXPOSURES.replace("ref('b')", "ref('bb')"));
    let out = f.modelc(&["compile"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("models/exposures.yml:8"), "{}", out.stderr);
    assert!(
        out.stderr.contains("depends on ref('bb'), which does not exist"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("did you mean ref('b')?"), "{}", out.stderr);
    f.write(
        "models/exposures.yml",
        &EXPOSURES.replace("type: dashboard", "type: dashbord"),
    );
    let out = f.modelc(&["compile"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("models/exposures.yml:3"), "{}", out.stderr);
    assert!(out.stderr.contains("has type 'dashbord'"), "{}", out.stderr);
}
