//! Statistical shape of a 20 000-application data set: band ordering of
//! approval, default and pricing, weekly seasonality, score bounds, and the
//! application score being the latest bureau snapshot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::{band, cents, date, load, rate, run, Data};

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let (dir, _) = run(20_000, 2024);
        load(dir.path())
    })
}

fn score(s: &str) -> u16 {
    s.parse().unwrap()
}

fn outcomes() -> HashMap<&'static str, &'static str> {
    let o = &data().outcomes;
    o.rows
        .iter()
        .map(|r| (r[0].as_str(), r[o.col("outcome")].as_str()))
        .collect()
}

#[test]
fn approval_rate_strictly_decreases_from_a_to_e() {
    let p = &data().applications;
    let mut approved = [0f64; 5];
    let mut decided = [0f64; 5];
    for r in &p.rows {
        let b = band(score(&r[p.col("credit_score")]));
        match r[p.col("status")].as_str() {
            "approved" => {
                approved[b] += 1.0;
                decided[b] += 1.0;
            }
            "declined" => decided[b] += 1.0,
            _ => {}
        }
    }
    let rates: Vec<f64> = (0..5).map(|b| approved[b] / decided[b]).collect();
    assert!(decided.iter().all(|&d| d >= 100.0), "thin band: {decided:?}");
    assert!(rates.windows(2).all(|w| w[0] > w[1]), "approval by band {rates:?}");
}

#[test]
fn default_rate_increases_from_a_to_e() {
    let p = &data().applications;
    let out = outcomes();
    let mut loans = [0f64; 5];
    let mut defaults = [0f64; 5];
    for r in p.rows.iter().filter(|r| r[p.col("status")] == "approved") {
        let b = band(score(&r[p.col("credit_score")]));
        loans[b] += 1.0;
        if out[r[0].as_str()] == "defaulted" {
            defaults[b] += 1.0;
        }
    }
    let rates: Vec<f64> = (0..5).map(|b| defaults[b] / loans[b]).collect();
    assert!(rates.windows(2).all(|w| w[0] < w[1]), "default by band {rates:?}");
    assert!(rates[0] > 0.0);
}

#[test]
fn riskier_industries_default_more_and_bands_price_higher() {
    let d = data();
    let (a, p) = (&d.applicants, &d.applications);
    let industry: HashMap<&str, &str> = a
        .rows
        .iter()
        .map(|r| (r[0].as_str(), r[a.col("industry")].as_str()))
        .collect();
    let out = outcomes();
    let mut per: HashMap<&str, (f64, f64)> = HashMap::new();
    let mut rate_sum = [0f64; 5];
    let mut rate_n = [0f64; 5];
    for r in &p.rows {
        let b = band(score(&r[p.col("credit_score")]));
        rate_sum[b] += rate(&r[p.col("interest_rate")]);
        rate_n[b] += 1.0;
        if r[p.col("status")] == "approved" {
            let e = per.entry(industry[r[p.col("applicant_id")].as_str()]).or_default();
            e.0 += 1.0;
            if out[r[0].as_str()] == "defaulted" {
                e.1 += 1.0;
            }
        }
    }
    let dr = |i: &str| per[i].1 / per[i].0;
    assert!(dr("restaurants") > dr("healthcare"), "restaurants vs healthcare");
    assert!(dr("trucking") > dr("healthcare"), "trucking vs healthcare");
    let mean: Vec<f64> = (0..5).map(|b| rate_sum[b] / rate_n[b]).collect();
    assert!(mean.windows(2).all(|w| w[0] < w[1]), "mean rate by band {mean:?}");
}

#[test]
fn weekends_are_quieter_than_weekdays_and_mix_is_plausible() {
    let p = &data().applications;
    let mut per_day: HashMap<&str, f64> = HashMap::new();
    for d in p.column("application_date") {
        *per_day.entry(d).or_default() += 1.0;
    }
    // Include days with zero applications in the means.
    let (start, end) = (
        lending_datagen::config::default_start_date(),
        lending_datagen::config::default_end_date(),
    );
    let (mut we, mut we_n, mut wd, mut wd_n) = (0.0, 0.0, 0.0, 0.0);
    let mut day = start;
    while day <= end {
        let c = per_day.get(day.to_string().as_str()).copied().unwrap_or(0.0);
        if day.is_weekend() {
            we += c;
            we_n += 1.0;
        } else {
            wd += c;
            wd_n += 1.0;
        }
        day = day.add_days(1);
    }
    assert!(we / we_n < wd / wd_n, "weekend {} vs weekday {}", we / we_n, wd / wd_n);

    let total = p.rows.len() as f64;
    let pending = p.column("status").filter(|s| *s == "pending").count() as f64 / total;
    assert!((0.015..=0.05).contains(&pending), "pending share {pending}");
    let per_applicant = total / data().applicants.rows.len() as f64;
    assert!(
        (1.5..=1.7).contains(&per_applicant),
        "applications per applicant {per_applicant}"
    );
    // December is quieter than April.
    let month = |m: &str| p.column("application_date").filter(|d| &d[4..7] == m).count();
    assert!(month("-12") < month("-04"));
}

#[test]
fn scores_are_within_bounds() {
    let d = data();
    for s in d
        .applications
        .column("credit_score")
        .chain(d.snapshots.column("credit_score"))
    {
        assert!((300..=850).contains(&score(s)), "score {s}");
    }
    // Every band is represented.
    let mut seen = [false; 5];
    for s in d.applications.column("credit_score") {
        seen[band(score(s))] = true;
    }
    assert!(seen.iter().all(|&x| x));
}

#[test]
fn application_score_is_latest_snapshot_on_or_before_date() {
    let d = data();
    let s = &d.snapshots;
    let mut series: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for r in &s.rows {
        series
            .entry(r[s.col("applicant_id")].as_str())
            .or_default()
            .push((r[s.col("score_date")].as_str(), r[s.col("credit_score")].as_str()));
    }
    let p = &d.applications;
    for r in &p.rows {
        let app_date = r[p.col("application_date")].as_str();
        let list = &series[r[p.col("applicant_id")].as_str()];
        let latest = list.iter().filter(|(sd, _)| *sd <= app_date).max_by_key(|(sd, _)| *sd);
        let (_, expected) = latest.expect("a snapshot precedes every application");
        assert_eq!(r[p.col("credit_score")], *expected, "application {}", r[0]);
    }
}

#[test]
fn funded_amounts_and_money_formats_are_sane() {
    let p = &data().applications;
    for r in p.rows.iter().filter(|r| r[p.col("status")] == "approved") {
        let funded = cents(&r[p.col("funded_amount")]);
        assert!(funded <= cents(&r[p.col("requested_amount")]));
        let _ = date(&r[p.col("decision_date")]);
    }
}
