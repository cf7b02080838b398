//! The example project on freshly generated data: the finance marts must equal
//! aggregates computed independently, in Rust, from the generated CSV rows.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::support::{query, run_modelc};

/// Splits one CSV line, honouring double quotes.
fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Rows of a CSV as maps from header to value.
fn read(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).expect("read csv");
    let mut lines = text.lines();
    let header = split(lines.next().expect("header"));
    lines.map(|l| header.iter().cloned().zip(split(l)).collect()).collect()
}

fn band(score: i64) -> &'static str {
    match score {
        s if s >= 740 => "A",
        s if s >= 680 => "B",
        s if s >= 620 => "C",
        s if s >= 560 => "D",
        _ => "E",
    }
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

#[derive(Default, Debug, PartialEq)]
struct Agg {
    applications: u64,
    approved: u64,
    defaulted: u64,
    funded_sum: f64,
}

#[test]
fn marts_match_independent_aggregates_of_generated_data() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    std::fs::copy(repo.join("project.yml"), root.join("project.yml")).expect("project.yml");
    for d in ["models", "macros", "snapshots", "tests"] {
        copy_dir(&repo.join(d), &root.join(d));
    }
    std::fs::create_dir_all(root.join("seeds")).expect("seeds");
    std::fs::copy(repo.join("seeds/_seeds.yml"), root.join("seeds/_seeds.yml")).expect("seeds yml");
    lending_datagen::generate(&lending_datagen::Config::new(3000, 7), &root.join("seeds")).expect("generate");

    let out = run_modelc(root, &["build"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    // Independent aggregates from the CSV rows.
    let applicants: HashMap<String, String> = read(&root.join("seeds/raw_applicants.csv"))
        .into_iter()
        .map(|r| (r["applicant_id"].clone(), r["industry"].clone()))
        .collect();
    let defaulted: std::collections::HashSet<String> = read(&root.join("seeds/raw_loan_outcomes.csv"))
        .into_iter()
        .filter(|r| r["outcome"] == "defaulted")
        .map(|r| r["application_id"].clone())
        .collect();
    let mut by_band: BTreeMap<String, Agg> = BTreeMap::new();
    let mut by_industry: BTreeMap<String, Agg> = BTreeMap::new();
    let mut by_applicant: HashMap<String, f64> = HashMap::new();
    for r in read(&root.join("seeds/raw_loan_applications.csv")) {
        let approved = r["status"] == "approved";
        let funded: f64 = r["funded_amount"].parse().unwrap_or(0.0);
        let is_default = approved && defaulted.contains(&r["application_id"]);
        let score: i64 = r["credit_score"].parse().expect("score");
        for agg in [
            by_band.entry(band(score).to_string()).or_default(),
            by_industry.entry(applicants[&r["applicant_id"]].clone()).or_default(),
        ] {
            agg.applications += 1;
            agg.approved += u64::from(approved);
            agg.defaulted += u64::from(is_default);
            agg.funded_sum += funded;
        }
        if approved {
            *by_applicant.entry(r["applicant_id"].clone()).or_default() += funded;
        }
    }

    let db = root.join("target/lending.duckdb");
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    for row in query(&db, "select risk_band, applications, approved_loans, defaulted_loans, default_rate, approval_rate, avg_loan_amount from main_finance.mart_loan_metrics_by_risk") {
        let a = &by_band[&row[0]];
        assert_eq!((num(&row[1]) as u64, num(&row[2]) as u64, num(&row[3]) as u64), (a.applications, a.approved, a.defaulted), "band {}", row[0]);
        assert!((num(&row[4]) - a.defaulted as f64 / a.approved as f64).abs() < 1e-9, "default rate of band {}", row[0]);
        assert!((num(&row[5]) - a.approved as f64 / a.applications as f64).abs() < 1e-9, "approval rate of band {}", row[0]);
        assert!((num(&row[6]) - a.funded_sum / a.approved as f64).abs() < 1e-6, "average loan of band {}", row[0]);
    }
    assert_eq!(
        query(&db, "select count(*) from main_finance.mart_loan_metrics_by_risk")[0][0],
        by_band.len().to_string()
    );
    for row in query(&db, "select industry, applications, approved, approval_rate, total_funded from main_finance.industry_approval_summary") {
        let a = &by_industry[&row[0]];
        assert_eq!((num(&row[1]) as u64, num(&row[2]) as u64), (a.applications, a.approved), "industry {}", row[0]);
        assert!((num(&row[3]) - a.approved as f64 / a.applications as f64).abs() < 1e-9);
        assert!((num(&row[4]) - a.funded_sum).abs() < 1e-6);
    }
    for row in query(
        &db,
        "select risk_band, default_rate from main_finance.default_rate_by_risk_band",
    ) {
        let a = &by_band[&row[0]];
        assert!((num(&row[1]) - a.defaulted as f64 / a.approved as f64).abs() < 1e-9);
    }
    let mut top: Vec<(f64, i64)> = by_applicant
        .iter()
        .map(|(id, v)| (*v, id.parse::<i64>().unwrap_or(0)))
        .collect();
    top.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let expected: Vec<String> = top.iter().take(10).map(|(_, id)| id.to_string()).collect();
    let got: Vec<String> = query(
        &db,
        "select applicant_id from main_finance.top_applicants_by_loan_volume order by volume_rank",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect();
    assert_eq!(got, expected);
}
