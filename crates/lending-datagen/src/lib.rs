//! Deterministic synthetic data for the modelc equipment-financing example.
//!
//! [`generate`] writes five CSV files (applicants, loan applications,
//! repayments, credit-score snapshots, loan outcomes) whose statistics hold
//! together: the credit score on an application is the applicant's latest
//! bureau snapshot, the risk band derived from it drives approval, pricing
//! and default, and every repayment and outcome is consistent with its loan.
//! See the crate README and [`STATISTICS_HELP`] for the model.
//!
//! Memory is O(applicants + applications) small integers; repayments are
//! streamed straight to disk.

pub mod config;
pub mod csv;
pub mod date;
pub mod dist;
pub mod entities;

use std::fmt;
use std::fs;
use std::io;
use std::path::Path;
use std::time::Instant;

use rand::RngExt;

pub use config::{Config, ConfigError};
pub use date::Date;
pub use dist::{RiskBand, BAND_A_MIN, BAND_B_MIN, BAND_C_MIN, BAND_D_MIN, SCORE_MAX, SCORE_MIN};

use crate::csv::CsvWriter;
use crate::dist::{allocate, day_weight, std_normal, stream_rng, streams, DAILY_JITTER_SD};
use crate::entities::{simulate_loan, Applicant, Application, ScoreSeries};

/// File name of the applicants table.
pub const APPLICANTS_FILE: &str = "raw_applicants.csv";
/// File name of the loan applications table.
pub const APPLICATIONS_FILE: &str = "raw_loan_applications.csv";
/// File name of the repayments table.
pub const REPAYMENTS_FILE: &str = "raw_repayments.csv";
/// File name of the credit-score snapshots table.
pub const SNAPSHOTS_FILE: &str = "raw_credit_score_snapshots.csv";
/// File name of the loan outcomes table.
pub const OUTCOMES_FILE: &str = "raw_loan_outcomes.csv";

/// Probability that an applicant applies once more (number of applications
/// per applicant is 1 + Geometric, mean 1/(1 − 0.375) = 1.6).
pub const REPEAT_PROBABILITY: f64 = 0.375;
/// Cap on applications per applicant.
pub const MAX_APPLICATIONS_PER_APPLICANT: u32 = 12;

/// Human-readable description of the statistical model (used by `--help`).
pub const STATISTICS_HELP: &str = "\
STATISTICAL MODEL (all parameters are deterministic functions of --seed):
  Risk band from the credit score on the application date:
    A >= 740, B 680-739, C 620-679, D 560-619, E < 560.
  Band:            A      B      C      D      E
    approval      0.86   0.72   0.52   0.32   0.15   (x industry, x0.75 if request > 40% revenue)
    default (life) 0.02  0.05   0.10   0.18   0.30   (x industry; observed only if due by --as-of)
    base rate     7.25%  9.00% 11.75% 15.25% 19.75% (+ industry premium + 0.15%/yr of term
                                                      beyond 36 months + N(0, 0.50%) noise)
    on-time pay   0.96   0.93   0.89   0.84   0.78
  Industry multipliers (approval / default / rate premium):
    restaurants 0.85/1.50/+1.50%, trucking 0.88/1.45/+1.25%, fitness 0.90/1.25/+1.00%,
    salons 0.92/1.20/+0.75%, retail 0.95/1.15/+0.50%, construction 1.00/1.10/+0.50%,
    landscaping 0.98/1.05/+0.25%, auto_repair 1.00/1.00/+0.25%,
    manufacturing 1.03/0.85/0, healthcare 1.10/0.55/-0.75%.
  Pending: P = 0.012 + 0.45*exp(-days_before_end_date/30)  (~3% overall).
  Daily volume: weekday factor (Mon-Sun 1.05 1.10 1.10 1.05 0.95 0.40 0.25)
    x (1 + 0.18*cos(2*pi*(day_of_year-105)/365.25))  (mid-April peak)
    x 0.80 in December (x0.35 more on Dec 24-26, Dec 31, Jan 1)
    x 1.15^years_since_start  x lognormal(sd 0.10) daily jitter;
    N applications are split over days exactly (largest remainder).
  Applicants: ~1.6 applications each (1 + geometric); credit score series is
    quarterly from created_at to --as-of, a mean-reverting walk
    x' = x + 0.25*(base - x) + N(0, 12^2), clamped to 300-850; the score on an
    application is the latest snapshot on or before its date.
  Repayments: monthly from the month after decision_date, amount_due =
    P*r/(1-(1+r)^-n) with r = rate/12, rounded to cents; a defaulting loan has
    up to 3 late/missed instalments, then a 'defaulted' row and nothing more;
    the default instalment is 2 + floor(min(n-1, 30) * u^1.6), u ~ U(0,1).";

/// Rows and bytes written to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    /// File name inside the output directory.
    pub name: &'static str,
    /// Data rows (header excluded).
    pub rows: u64,
    /// File size in bytes.
    pub bytes: u64,
}

/// What [`generate`] wrote and how long it took.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// One entry per output file.
    pub files: Vec<FileSummary>,
    /// Wall-clock seconds for the whole generation.
    pub seconds: f64,
}

impl Summary {
    /// Total data rows over all files.
    pub fn total_rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }

    /// Total bytes over all files.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// Total rows divided by elapsed seconds.
    pub fn rows_per_second(&self) -> f64 {
        self.total_rows() as f64 / self.seconds.max(1e-9)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            writeln!(f, "{:<32} {:>12} rows {:>14} bytes", file.name, file.rows, file.bytes)?;
        }
        write!(
            f,
            "{:<32} {:>12} rows {:>14} bytes in {:.2}s ({:.0} rows/s)",
            "total",
            self.total_rows(),
            self.total_bytes(),
            self.seconds,
            self.rows_per_second()
        )
    }
}

/// Application dates in id order, as per-day counts starting at `cfg.start_date`.
fn daily_counts(cfg: &Config) -> Vec<u64> {
    let mut rng = stream_rng(cfg.seed, streams::DAYS, 0);
    let jitter_mean = -DAILY_JITTER_SD * DAILY_JITTER_SD / 2.0;
    let weights: Vec<f64> = (0..cfg.window_days())
        .map(|i| {
            let d = cfg.start_date.add_days(i as i32);
            let jitter = (DAILY_JITTER_SD * std_normal(&mut rng) + jitter_mean).exp();
            day_weight(d, cfg.start_date) * jitter
        })
        .collect();
    allocate(cfg.applications, &weights)
}

/// Iterates application dates in id order.
fn application_dates<'a>(cfg: &'a Config, counts: &'a [u64]) -> impl Iterator<Item = Date> + 'a {
    counts
        .iter()
        .enumerate()
        .flat_map(move |(i, &c)| std::iter::repeat_n(cfg.start_date.add_days(i as i32), c as usize))
}

/// Assigns each application (in id order) to an applicant. Returns the
/// 1-based applicant id per application, and each applicant's first
/// application date (index = id − 1). Applicant ids follow first appearance.
fn assign_applicants(cfg: &Config, counts: &[u64]) -> (Vec<u32>, Vec<Date>) {
    let n = cfg.applications as usize;
    let mut rng = stream_rng(cfg.seed, streams::ASSIGN, 0);
    let mut slots: Vec<u32> = Vec::with_capacity(n);
    let mut raw_count: u32 = 0;
    while slots.len() < n {
        let mut k = 1;
        while k < MAX_APPLICATIONS_PER_APPLICANT && rng.random_bool(REPEAT_PROBABILITY) {
            k += 1;
        }
        for _ in 0..k {
            if slots.len() < n {
                slots.push(raw_count);
            }
        }
        raw_count += 1;
    }
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        slots.swap(i, j);
    }
    let mut remap = vec![0u32; raw_count as usize];
    let mut first_app: Vec<Date> = Vec::with_capacity(raw_count as usize);
    for (slot, date) in slots.iter_mut().zip(application_dates(cfg, counts)) {
        let r = *slot as usize;
        if remap[r] == 0 {
            first_app.push(date);
            remap[r] = first_app.len() as u32;
        }
        *slot = remap[r];
    }
    (slots, first_app)
}

fn file_summary(dir: &Path, name: &'static str, rows: u64) -> io::Result<FileSummary> {
    let bytes = fs::metadata(dir.join(name))?.len();
    Ok(FileSummary { name, rows, bytes })
}

/// Generates all five CSV files into `out_dir` (created if missing).
///
/// Errors: an invalid [`Config`] (as [`io::ErrorKind::InvalidInput`]) or any
/// I/O failure. The same config always produces byte-identical files.
pub fn generate(cfg: &Config, out_dir: &Path) -> io::Result<Summary> {
    cfg.validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let started = Instant::now();
    fs::create_dir_all(out_dir)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", out_dir.display())))?;

    let counts = daily_counts(cfg);
    let (app_applicant, first_app) = assign_applicants(cfg, &counts);

    // Applicants (held in memory: they are small and referenced by id).
    let mut w = CsvWriter::create(
        &out_dir.join(APPLICANTS_FILE),
        &[
            "applicant_id",
            "business_name",
            "industry",
            "state",
            "years_in_business",
            "annual_revenue",
            "created_at",
        ],
    )?;
    let mut applicants = Vec::with_capacity(first_app.len());
    for (i, &first) in first_app.iter().enumerate() {
        let (a, name) = Applicant::generate(cfg.seed, i as u32 + 1, first);
        w.int(i64::from(a.id))
            .str(&name)
            .str(a.industry.as_str())
            .str(a.state)
            .int(i64::from(a.years_in_business))
            .money(a.annual_revenue_cents)
            .date(a.created_at);
        w.end_row()?;
        applicants.push(a);
    }
    let applicant_rows = w.finish()?;
    drop(first_app);

    // Credit-score snapshots.
    let mut w = CsvWriter::create(
        &out_dir.join(SNAPSHOTS_FILE),
        &["snapshot_id", "applicant_id", "score_date", "credit_score", "bureau"],
    )?;
    let mut snapshot_id = 0i64;
    for a in &applicants {
        for s in ScoreSeries::new(cfg.seed, a, cfg.as_of) {
            snapshot_id += 1;
            w.int(snapshot_id)
                .int(i64::from(a.id))
                .date(s.date)
                .int(i64::from(s.score))
                .str(s.bureau);
            w.end_row()?;
        }
    }
    let snapshot_rows = w.finish()?;

    // Applications, repayments and outcomes in one pass.
    let mut apps = CsvWriter::create(
        &out_dir.join(APPLICATIONS_FILE),
        &[
            "application_id",
            "applicant_id",
            "application_date",
            "requested_amount",
            "term_months",
            "interest_rate",
            "equipment_type",
            "credit_score",
            "status",
            "decision_date",
            "funded_amount",
        ],
    )?;
    let mut reps = CsvWriter::create(
        &out_dir.join(REPAYMENTS_FILE),
        &[
            "repayment_id",
            "application_id",
            "installment_number",
            "due_date",
            "paid_date",
            "amount_due",
            "amount_paid",
            "status",
        ],
    )?;
    let mut outs = CsvWriter::create(
        &out_dir.join(OUTCOMES_FILE),
        &[
            "application_id",
            "outcome",
            "outcome_date",
            "total_paid",
            "outstanding_principal",
        ],
    )?;
    let mut repayment_id = 0i64;
    for (idx, (date, &applicant_id)) in application_dates(cfg, &counts).zip(app_applicant.iter()).enumerate() {
        let id = idx as u64 + 1;
        let applicant = &applicants[applicant_id as usize - 1];
        // Always Some: the first snapshot is dated created_at, which precedes
        // the applicant's first application.
        let score =
            ScoreSeries::score_on(cfg.seed, applicant, cfg.as_of, date).unwrap_or(applicant.base_score.round() as u16);
        let app = Application::generate(cfg, id, date, applicant, score);
        apps.int(id as i64)
            .int(i64::from(app.applicant_id))
            .date(app.date)
            .money(app.requested_cents)
            .int(i64::from(app.term_months))
            .rate(app.rate_e4)
            .str(app.equipment)
            .int(i64::from(app.credit_score))
            .str(app.status.as_str())
            .opt_date(app.decision_date)
            .opt_money(app.funded_cents);
        apps.end_row()?;
        let outcome = simulate_loan(cfg, &app, applicant.industry, |r| {
            repayment_id += 1;
            reps.int(repayment_id)
                .int(id as i64)
                .int(i64::from(r.installment))
                .date(r.due_date)
                .opt_date(r.paid_date)
                .money(r.amount_due_cents)
                .money(r.amount_paid_cents)
                .str(r.status.as_str());
            reps.end_row()
        })?;
        if let Some(o) = outcome {
            outs.int(id as i64)
                .str(o.kind.as_str())
                .opt_date(o.date)
                .money(o.total_paid_cents)
                .money(o.outstanding_principal_cents);
            outs.end_row()?;
        }
    }
    let application_rows = apps.finish()?;
    let repayment_rows = reps.finish()?;
    let outcome_rows = outs.finish()?;

    let files = vec![
        file_summary(out_dir, APPLICANTS_FILE, applicant_rows)?,
        file_summary(out_dir, APPLICATIONS_FILE, application_rows)?,
        file_summary(out_dir, REPAYMENTS_FILE, repayment_rows)?,
        file_summary(out_dir, SNAPSHOTS_FILE, snapshot_rows)?,
        file_summary(out_dir, OUTCOMES_FILE, outcome_rows)?,
    ];
    Ok(Summary {
        files,
        seconds: started.elapsed().as_secs_f64(),
    })
}
