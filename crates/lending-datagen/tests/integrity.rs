//! Referential integrity and internal consistency of the generated files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};

use common::{cents, date, load, rate, run, Data};
use lending_datagen::config::{default_as_of, default_end_date, default_start_date};

fn data() -> Data {
    let (dir, _) = run(3000, 11);
    load(dir.path())
}

/// Independent implementation of the amortization formula, in cents.
fn payment(principal_cents: i64, annual_rate: f64, n: i32) -> f64 {
    let p = principal_cents as f64 / 100.0;
    let r = annual_rate / 12.0;
    (p * r / (1.0 - (1.0 + r).powi(-n)) * 100.0).round()
}

#[test]
fn headers_are_as_documented() {
    let d = data();
    let h = |t: &common::Table| t.header.join(",");
    assert_eq!(
        h(&d.applicants),
        "applicant_id,business_name,industry,state,years_in_business,annual_revenue,created_at"
    );
    assert_eq!(
        h(&d.applications),
        "application_id,applicant_id,application_date,requested_amount,term_months,\
         interest_rate,equipment_type,credit_score,status,decision_date,funded_amount"
    );
    assert_eq!(
        h(&d.repayments),
        "repayment_id,application_id,installment_number,due_date,paid_date,amount_due,\
         amount_paid,status"
    );
    assert_eq!(
        h(&d.snapshots),
        "snapshot_id,applicant_id,score_date,credit_score,bureau"
    );
    assert_eq!(
        h(&d.outcomes),
        "application_id,outcome,outcome_date,total_paid,outstanding_principal"
    );
}

#[test]
fn applicants_and_applications_are_consistent() {
    let d = data();
    let industries: HashSet<&str> = [
        "construction",
        "landscaping",
        "restaurants",
        "trucking",
        "healthcare",
        "retail",
        "manufacturing",
        "auto_repair",
        "salons",
        "fitness",
    ]
    .into_iter()
    .collect();
    let a = &d.applicants;
    let mut created: HashMap<String, String> = HashMap::new();
    for (i, r) in a.rows.iter().enumerate() {
        assert_eq!(r[a.col("applicant_id")], (i + 1).to_string());
        assert!(!r[a.col("business_name")].is_empty());
        assert!(industries.contains(r[a.col("industry")].as_str()));
        let st = &r[a.col("state")];
        assert!(st.len() == 2 && st.chars().all(|c| c.is_ascii_uppercase()));
        let years: u32 = r[a.col("years_in_business")].parse().unwrap();
        assert!(years <= 40);
        assert!(cents(&r[a.col("annual_revenue")]) > 0);
        created.insert(r[0].clone(), r[a.col("created_at")].clone());
    }

    let p = &d.applications;
    let mut first_app: HashMap<String, String> = HashMap::new();
    let (start, end) = (default_start_date(), default_end_date());
    for (i, r) in p.rows.iter().enumerate() {
        let g = |c: &str| r[p.col(c)].as_str();
        assert_eq!(g("application_id"), (i + 1).to_string());
        assert!(
            created.contains_key(g("applicant_id")),
            "dangling applicant {}",
            g("applicant_id")
        );
        let app_date = date(g("application_date"));
        assert!(app_date >= start && app_date <= end);
        first_app
            .entry(g("applicant_id").to_string())
            .or_insert_with(|| g("application_date").to_string());
        let requested = cents(g("requested_amount"));
        assert!(requested > 0);
        assert!(["12", "24", "36", "48", "60"].contains(&g("term_months")));
        let r8 = rate(g("interest_rate"));
        assert!((0.03..=0.35).contains(&r8));
        assert!(!g("equipment_type").is_empty());
        let score: u16 = g("credit_score").parse().unwrap();
        assert!((300..=850).contains(&score));
        match g("status") {
            "pending" => {
                assert_eq!(g("decision_date"), "");
                assert_eq!(g("funded_amount"), "");
            }
            s @ ("approved" | "declined") => {
                let dd = date(g("decision_date"));
                assert!(dd >= app_date, "decision before application in row {i}");
                assert!(dd.days() - app_date.days() <= 10);
                if s == "approved" {
                    let funded = cents(g("funded_amount"));
                    assert!(funded > 0 && funded <= requested);
                } else {
                    assert_eq!(g("funded_amount"), "");
                }
            }
            other => panic!("bad status {other}"),
        }
    }
    // Application ids are in date order and every applicant has applied.
    let dates: Vec<&str> = p.column("application_date").collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(first_app.len(), a.rows.len());
    for (id, first) in &first_app {
        assert!(
            created[id].as_str() < first.as_str(),
            "applicant {id} created after applying"
        );
    }
}

#[test]
fn repayments_and_outcomes_match_loans() {
    let d = data();
    let as_of = default_as_of();
    let p = &d.applications;
    let loans: HashMap<&str, &Vec<String>> = p
        .rows
        .iter()
        .filter(|r| r[p.col("status")] == "approved")
        .map(|r| (r[0].as_str(), r))
        .collect();
    assert!(!loans.is_empty());

    let rp = &d.repayments;
    let mut by_loan: HashMap<&str, Vec<&Vec<String>>> = HashMap::new();
    for (i, r) in rp.rows.iter().enumerate() {
        assert_eq!(r[rp.col("repayment_id")], (i + 1).to_string());
        let app = r[rp.col("application_id")].as_str();
        assert!(loans.contains_key(app), "repayment for non-approved application {app}");
        by_loan.entry(app).or_default().push(r);
    }

    let o = &d.outcomes;
    let outcome_ids: HashSet<&str> = o.column("application_id").collect();
    assert_eq!(outcome_ids.len(), o.rows.len(), "duplicate outcome rows");
    assert_eq!(outcome_ids, loans.keys().copied().collect::<HashSet<_>>());

    let mut seen_status = HashSet::new();
    for orow in &o.rows {
        let app_id = orow[o.col("application_id")].as_str();
        let loan = loans[app_id];
        let funded = cents(&loan[p.col("funded_amount")]);
        let annual = rate(&loan[p.col("interest_rate")]);
        let n: i32 = loan[p.col("term_months")].parse().unwrap();
        let decided = date(&loan[p.col("decision_date")]);
        let expected_due = payment(funded, annual, n);
        let rows = by_loan.get(app_id).cloned().unwrap_or_default();
        let mut total = 0i64;
        let mut all_paid = true;
        let mut max_paid = String::new();
        let mut default_date = None;
        for (k, r) in rows.iter().enumerate() {
            let g = |c: &str| r[rp.col(c)].as_str();
            assert!(default_date.is_none(), "rows after default in loan {app_id}");
            assert_eq!(g("installment_number"), (k + 1).to_string());
            let due = date(g("due_date"));
            assert_eq!(due, decided.add_months(k as i32 + 1));
            assert!(due <= as_of);
            let due_amt = cents(g("amount_due"));
            assert!(
                (due_amt as f64 - expected_due).abs() <= 1.0,
                "loan {app_id}: amount_due {due_amt} vs formula {expected_due}"
            );
            let paid_amt = cents(g("amount_paid"));
            total += paid_amt;
            seen_status.insert(g("status").to_string());
            match g("status") {
                "on_time" | "late" => {
                    let pd = date(g("paid_date"));
                    assert!(pd <= as_of);
                    assert_eq!(paid_amt, due_amt);
                    if g("status") == "on_time" {
                        assert_eq!(pd, due);
                    } else {
                        assert!(pd > due);
                    }
                    max_paid = max_paid.max(g("paid_date").to_string());
                }
                "missed" | "defaulted" => {
                    assert_eq!(g("paid_date"), "");
                    assert_eq!(paid_amt, 0);
                    all_paid = false;
                    if g("status") == "defaulted" {
                        default_date = Some(g("due_date").to_string());
                    }
                }
                s => panic!("bad repayment status {s}"),
            }
        }
        let g = |c: &str| orow[o.col(c)].as_str();
        assert_eq!(cents(g("total_paid")), total, "loan {app_id} total_paid");
        let outstanding = cents(g("outstanding_principal"));
        assert!((0..=funded).contains(&outstanding));
        match g("outcome") {
            "defaulted" => {
                assert_eq!(Some(g("outcome_date").to_string()), default_date);
                assert!(outstanding > 0);
            }
            "paid_off" => {
                assert!(default_date.is_none());
                assert!(all_paid && rows.len() == n as usize);
                assert_eq!(g("outcome_date"), max_paid);
                assert_eq!(outstanding, 0);
            }
            "active" => {
                assert!(default_date.is_none());
                assert!(!(all_paid && rows.len() == n as usize));
                assert_eq!(g("outcome_date"), "");
            }
            s => panic!("bad outcome {s}"),
        }
    }
    for s in ["on_time", "late", "missed", "defaulted"] {
        assert!(seen_status.contains(s), "no {s} repayments generated");
    }
}

#[test]
fn snapshots_are_quarterly_series_per_applicant() {
    let d = data();
    let as_of = default_as_of();
    let a = &d.applicants;
    let created: HashMap<&str, &str> = a
        .rows
        .iter()
        .map(|r| (r[0].as_str(), r[a.col("created_at")].as_str()))
        .collect();
    let s = &d.snapshots;
    let mut per: HashMap<&str, Vec<&Vec<String>>> = HashMap::new();
    for (i, r) in s.rows.iter().enumerate() {
        assert_eq!(r[s.col("snapshot_id")], (i + 1).to_string());
        let id = r[s.col("applicant_id")].as_str();
        assert!(created.contains_key(id));
        assert!(["Equifax", "Experian", "TransUnion"].contains(&r[s.col("bureau")].as_str()));
        per.entry(id).or_default().push(r);
    }
    assert_eq!(per.len(), created.len(), "every applicant has a score series");
    for (id, rows) in per {
        let start = date(created[id]);
        for (k, r) in rows.iter().enumerate() {
            let sd = date(&r[s.col("score_date")]);
            assert_eq!(sd, start.add_months(3 * k as i32));
            assert!(sd <= as_of);
        }
        let next = start.add_months(3 * rows.len() as i32);
        assert!(next > as_of, "series of {id} stops early");
    }
}
