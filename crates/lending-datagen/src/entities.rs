//! Entity generators: applicants, credit-score series, applications and
//! loan repayment simulation.
//!
//! Every entity draws from its own [`stream_rng`] keyed by its id, so its
//! content depends only on the seed, its id and its explicit inputs.

use std::io;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::config::Config;
use crate::date::Date;
use crate::dist::{
    approval_probability, default_probability, pending_probability, pick_weighted, std_exp, std_normal, stream_rng,
    streams, Industry, RiskBand, SCORE_MAX, SCORE_MIN,
};

/// US states (plus DC) with relative weights for applicant location.
#[rustfmt::skip]
pub const STATES: [(&str, u32); 51] = [
    ("CA", 120), ("TX", 100), ("FL", 80), ("NY", 60), ("IL", 40), ("PA", 40), ("OH", 36),
    ("GA", 36), ("NC", 36), ("MI", 30), ("NJ", 28), ("VA", 26), ("WA", 26), ("AZ", 26),
    ("MA", 22), ("TN", 22), ("IN", 20), ("MO", 18), ("MD", 18), ("WI", 18), ("CO", 20),
    ("MN", 17), ("SC", 17), ("AL", 14), ("LA", 13), ("KY", 13), ("OR", 13), ("OK", 12),
    ("CT", 10), ("UT", 12), ("IA", 9), ("NV", 11), ("AR", 8), ("MS", 8), ("KS", 8),
    ("NM", 6), ("NE", 6), ("ID", 7), ("WV", 5), ("HI", 4), ("NH", 4), ("ME", 4), ("MT", 4),
    ("RI", 3), ("DE", 3), ("SD", 3), ("ND", 3), ("AK", 2), ("VT", 2), ("WY", 2), ("DC", 2),
];

/// Names of the three credit bureaus reporting score snapshots.
pub const BUREAUS: [&str; 3] = ["Equifax", "Experian", "TransUnion"];

#[rustfmt::skip]
const PLACE_WORDS: [&str; 40] = [
    "Summit", "Blue", "River", "Pioneer", "Eagle", "Golden", "Iron", "Oak", "Cedar", "Granite",
    "Harbor", "Maple", "Northern", "Prairie", "Silver", "Stone", "Sunrise", "Valley", "Keystone",
    "Liberty", "Patriot", "Coastal", "Evergreen", "Redwood", "Copper", "Atlas", "Beacon",
    "Crescent", "Frontier", "Highland", "Lakeside", "Meadow", "Pine", "Sterling", "Twin", "Union",
    "Westside", "Bayside", "Canyon", "Heritage",
];

#[rustfmt::skip]
const PLACE_TAILS: [&str; 20] = [
    "Ridge", "Creek", "Peak", "Point", "Valley", "Hill", "Field", "Brook", "Rock", "Bay", "Grove",
    "Park", "Springs", "Crest", "Hollow", "Lane", "Mill", "Star", "Bridge", "Trail",
];

#[rustfmt::skip]
const SURNAMES: [&str; 30] = [
    "Johnson", "Martinez", "Nguyen", "Patel", "Smith", "Garcia", "Williams", "Brown", "Kim",
    "Lopez", "Miller", "Davis", "Rodriguez", "Wilson", "Anderson", "Thomas", "Jackson", "White",
    "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "O'Brien", "Hernandez",
    "Chen", "Murphy", "Rivera",
];

const SUFFIXES: [(&str, u32); 5] = [("LLC", 50), ("Inc.", 25), ("Co.", 10), ("Corp.", 5), ("Group", 5)];

#[rustfmt::skip]
fn industry_nouns(industry: Industry) -> &'static [&'static str] {
    match industry {
        Industry::Construction => &["Construction", "Builders", "Contracting", "Excavation", "Concrete"],
        Industry::Landscaping => &["Landscaping", "Lawn & Garden", "Outdoor Services", "Tree Care"],
        Industry::Restaurants => &["Grill", "Bistro", "Kitchen", "Diner", "Pizzeria", "Cafe", "Taqueria"],
        Industry::Trucking => &["Trucking", "Freight", "Logistics", "Transport", "Hauling"],
        Industry::Healthcare => &["Dental", "Family Medicine", "Physical Therapy", "Medical Group", "Imaging", "Chiropractic"],
        Industry::Retail => &["Market", "Outfitters", "Supply", "Goods", "Boutique", "Hardware"],
        Industry::Manufacturing => &["Manufacturing", "Fabrication", "Machine Works", "Industries", "Plastics"],
        Industry::AutoRepair => &["Auto Repair", "Collision", "Automotive", "Tire & Brake", "Garage"],
        Industry::Salons => &["Salon", "Hair Studio", "Nail Spa", "Barbershop", "Beauty Bar"],
        Industry::Fitness => &["Fitness", "CrossFit", "Yoga Studio", "Athletic Club", "Gym"],
    }
}

/// Equipment types financed by an industry, with a price range in dollars
/// (the requested amount is log-uniform in the range, rounded to $100).
#[rustfmt::skip]
pub fn equipment_catalog(industry: Industry) -> &'static [(&'static str, u32, u32)] {
    match industry {
        Industry::Construction => &[
            ("excavator", 60_000, 350_000), ("skid steer loader", 25_000, 80_000),
            ("backhoe", 50_000, 150_000), ("dump truck", 60_000, 180_000),
            ("compact track loader", 40_000, 95_000), ("concrete mixer", 15_000, 60_000),
        ],
        Industry::Landscaping => &[
            ("zero-turn mower", 6_000, 20_000), ("compact tractor", 15_000, 50_000),
            ("stump grinder", 8_000, 45_000), ("landscape trailer", 3_000, 12_000),
            ("wood chipper", 10_000, 60_000),
        ],
        Industry::Restaurants => &[
            ("commercial oven", 5_000, 40_000), ("walk-in cooler", 8_000, 35_000),
            ("commercial dishwasher", 4_000, 25_000), ("range hood system", 5_000, 30_000),
            ("POS system", 2_000, 15_000), ("espresso machine", 5_000, 25_000),
        ],
        Industry::Trucking => &[
            ("semi truck", 80_000, 190_000), ("reefer trailer", 40_000, 90_000),
            ("dry van trailer", 25_000, 60_000), ("box truck", 45_000, 110_000),
            ("flatbed trailer", 20_000, 55_000),
        ],
        Industry::Healthcare => &[
            ("dental chair", 15_000, 60_000), ("ultrasound machine", 25_000, 150_000),
            ("x-ray system", 40_000, 200_000), ("exam table", 3_000, 12_000),
            ("CBCT scanner", 60_000, 250_000), ("laser system", 30_000, 140_000),
        ],
        Industry::Retail => &[
            ("POS system", 2_000, 15_000), ("display shelving", 5_000, 30_000),
            ("refrigerated display case", 6_000, 30_000), ("security system", 3_000, 20_000),
            ("delivery van", 35_000, 70_000),
        ],
        Industry::Manufacturing => &[
            ("CNC machine", 60_000, 400_000), ("injection molding machine", 80_000, 500_000),
            ("forklift", 20_000, 60_000), ("laser cutter", 80_000, 450_000),
            ("packaging line", 50_000, 300_000),
        ],
        Industry::AutoRepair => &[
            ("vehicle lift", 4_000, 15_000), ("diagnostic scanner", 3_000, 15_000),
            ("tire changer", 3_000, 12_000), ("wheel alignment system", 15_000, 60_000),
            ("paint booth", 20_000, 120_000),
        ],
        Industry::Salons => &[
            ("styling chairs", 3_000, 20_000), ("shampoo station", 2_000, 12_000),
            ("laser hair removal device", 25_000, 110_000), ("pedicure spa", 4_000, 18_000),
            ("POS system", 2_000, 15_000),
        ],
        Industry::Fitness => &[
            ("treadmills", 10_000, 60_000), ("strength machines", 15_000, 120_000),
            ("spin bikes", 8_000, 45_000), ("rowing machines", 5_000, 25_000),
            ("cardio package", 25_000, 150_000),
        ],
    }
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn pick_pair<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let weights: Vec<u32> = items.iter().map(|x| x.1).collect();
    items[pick_weighted(rng, &weights)].0
}

/// A business applying for equipment financing (one row of `raw_applicants.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct Applicant {
    /// 1-based id, in order of first application.
    pub id: u32,
    /// Industry.
    pub industry: Industry,
    /// Two-letter state code.
    pub state: &'static str,
    /// Years in business, 0–40 (exponential, mean ≈ 6.5).
    pub years_in_business: u8,
    /// Annual revenue in cents.
    pub annual_revenue_cents: i64,
    /// Long-run credit score the applicant's series reverts to.
    pub base_score: f64,
    /// Date the applicant record was created (before the first application).
    pub created_at: Date,
}

impl Applicant {
    /// Generates applicant `id` whose first application is on
    /// `first_application`; returns it with its business name.
    pub fn generate(seed: u64, id: u32, first_application: Date) -> (Applicant, String) {
        let mut rng = stream_rng(seed, streams::APPLICANT, u64::from(id));
        let weights: Vec<u32> = Industry::ALL.iter().map(|i| i.profile().weight).collect();
        let industry = Industry::ALL[pick_weighted(&mut rng, &weights)];
        let profile = industry.profile();
        let state = pick_pair(&mut rng, &STATES);
        let years = (std_exp(&mut rng) * 6.5).floor().min(40.0) as u8;
        let maturity = 0.35 + 0.65 * (1.0 - (-f64::from(years) / 5.0).exp());
        let revenue = profile.median_revenue * maturity * (0.55 * std_normal(&mut rng)).exp();
        let annual_revenue_cents = ((revenue / 100.0).round().max(250.0) as i64) * 100 * 100;
        let base_score = (668.0 + 2.0 * f64::from(years.min(15)) + profile.score_shift + 68.0 * std_normal(&mut rng))
            .clamp(f64::from(SCORE_MIN), f64::from(SCORE_MAX));
        let lead_days = 1 + (std_exp(&mut rng) * 90.0).floor().min(1094.0) as i32;
        let created_at = first_application.add_days(-lead_days);
        let name = business_name(&mut rng, industry);
        let applicant = Applicant {
            id,
            industry,
            state,
            years_in_business: years,
            annual_revenue_cents,
            base_score,
            created_at,
        };
        (applicant, name)
    }
}

fn business_name(rng: &mut ChaCha8Rng, industry: Industry) -> String {
    let noun = *pick(rng, industry_nouns(industry));
    let suffix = pick_pair(rng, &SUFFIXES);
    match pick_weighted(rng, &[45, 25, 15, 10, 5]) {
        0 => {
            let a = pick(rng, &PLACE_WORDS);
            let b = pick(rng, &PLACE_TAILS);
            format!("{a} {b} {noun} {suffix}")
        }
        1 => format!("{} {noun} {suffix}", pick(rng, &PLACE_WORDS)),
        2 => format!("{} {noun}, {suffix}", pick(rng, &SURNAMES)),
        3 => {
            let a = pick(rng, &SURNAMES);
            let b = pick(rng, &SURNAMES);
            format!("{a} & {b} {noun}")
        }
        _ => format!("{}'s {noun}", pick(rng, &SURNAMES)),
    }
}

/// One credit-bureau score observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Observation date.
    pub date: Date,
    /// Score, 300–850.
    pub score: u16,
    /// Reporting bureau (one of [`BUREAUS`]).
    pub bureau: &'static str,
}

/// Mean-reversion strength of the quarterly score walk.
pub const SCORE_REVERSION: f64 = 0.25;
/// Standard deviation of a quarterly score shock.
pub const SCORE_SHOCK_SD: f64 = 12.0;
/// Standard deviation of the first snapshot around the base score.
pub const SCORE_INITIAL_SD: f64 = 18.0;

/// Quarterly score series of an applicant, from `created_at` to `as_of`:
/// x₀ = base + N(0, 18²); xₖ₊₁ = xₖ + 0.25·(base − xₖ) + N(0, 12²), clamped
/// to 300–850 and reported rounded. Snapshot k is dated `created_at + 3k months`.
pub struct ScoreSeries {
    rng: ChaCha8Rng,
    base: f64,
    current: f64,
    created_at: Date,
    as_of: Date,
    k: i32,
}

impl ScoreSeries {
    /// The series of `applicant`, up to `as_of`.
    pub fn new(seed: u64, applicant: &Applicant, as_of: Date) -> ScoreSeries {
        ScoreSeries {
            rng: stream_rng(seed, streams::SCORES, u64::from(applicant.id)),
            base: applicant.base_score,
            current: applicant.base_score,
            created_at: applicant.created_at,
            as_of,
            k: 0,
        }
    }

    /// Score of the latest snapshot dated on or before `date`.
    pub fn score_on(seed: u64, applicant: &Applicant, as_of: Date, date: Date) -> Option<u16> {
        ScoreSeries::new(seed, applicant, as_of)
            .take_while(|s| s.date <= date)
            .last()
            .map(|s| s.score)
    }
}

impl Iterator for ScoreSeries {
    type Item = Snapshot;

    fn next(&mut self) -> Option<Snapshot> {
        let date = self.created_at.add_months(3 * self.k);
        if date > self.as_of {
            return None;
        }
        let shock = std_normal(&mut self.rng);
        self.current = if self.k == 0 {
            self.base + SCORE_INITIAL_SD * shock
        } else {
            self.current + SCORE_REVERSION * (self.base - self.current) + SCORE_SHOCK_SD * shock
        }
        .clamp(f64::from(SCORE_MIN), f64::from(SCORE_MAX));
        let bureau = *pick(&mut self.rng, &BUREAUS);
        self.k += 1;
        Some(Snapshot {
            date,
            score: self.current.round() as u16,
            bureau,
        })
    }
}

/// Decision state of an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Approved and funded.
    Approved,
    /// Declined.
    Declined,
    /// Not yet decided.
    Pending,
}

impl Status {
    /// CSV label.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Approved => "approved",
            Status::Declined => "declined",
            Status::Pending => "pending",
        }
    }
}

/// A loan application (one row of `raw_loan_applications.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct Application {
    /// 1-based id, in application-date order.
    pub id: u64,
    /// Applying business.
    pub applicant_id: u32,
    /// Application date.
    pub date: Date,
    /// Requested amount in cents.
    pub requested_cents: i64,
    /// Term: 12, 24, 36, 48 or 60 months.
    pub term_months: u32,
    /// Annual interest rate in units of 1/10 000.
    pub rate_e4: i64,
    /// Equipment to be financed.
    pub equipment: &'static str,
    /// Applicant's score on the application date.
    pub credit_score: u16,
    /// Risk band of `credit_score`.
    pub band: RiskBand,
    /// Decision state.
    pub status: Status,
    /// Decision date (None while pending).
    pub decision_date: Option<Date>,
    /// Funded amount in cents (approved only; ≤ requested).
    pub funded_cents: Option<i64>,
}

const TERMS: [u32; 5] = [12, 24, 36, 48, 60];

impl Application {
    /// Generates application `id` of `applicant` on `date`, given the
    /// applicant's score on that date.
    pub fn generate(cfg: &Config, id: u64, date: Date, applicant: &Applicant, credit_score: u16) -> Application {
        let mut rng = stream_rng(cfg.seed, streams::APPLICATION, id);
        let industry = applicant.industry;
        let band = RiskBand::from_score(credit_score);
        let &(equipment, lo, hi) = pick(&mut rng, equipment_catalog(industry));
        let (lo, hi) = (f64::from(lo).ln(), f64::from(hi).ln());
        let dollars = (lo + (hi - lo) * rng.random::<f64>()).exp();
        let requested_cents = ((dollars / 100.0).round().max(10.0) as i64) * 100 * 100;
        let term_weights: [u32; 5] = if requested_cents < 2_500_000 {
            [25, 35, 30, 7, 3]
        } else if requested_cents < 10_000_000 {
            [5, 15, 35, 25, 20]
        } else {
            [2, 8, 25, 30, 35]
        };
        let term_months = TERMS[pick_weighted(&mut rng, &term_weights)];
        let noise = (50.0 * std_normal(&mut rng)).round() as i64;
        let rate_e4 = (band.base_rate_e4()
            + industry.profile().rate_premium_e4
            + (i64::from(term_months) - 36) / 12 * 15
            + noise)
            .clamp(300, 3500);

        let days_before_end = cfg.end_date.days() - date.days();
        let pending = rng.random_bool(pending_probability(days_before_end));
        let over_leveraged = requested_cents * 10 > applicant.annual_revenue_cents * 4;
        let approved = rng.random_bool(approval_probability(band, industry, over_leveraged));
        let decision_lag = pick_weighted(&mut rng, &[10, 20, 18, 14, 10, 8, 6, 5, 4, 3, 2]) as i32;
        let full = rng.random_bool(0.7);
        let haircut = rng.random_range(0.60..0.95);

        let (status, decision_date, funded_cents) = if pending {
            (Status::Pending, None, None)
        } else {
            let mut decided = date.add_days(decision_lag);
            if date <= cfg.as_of && decided > cfg.as_of {
                decided = cfg.as_of;
            }
            if approved {
                let funded = if full {
                    requested_cents
                } else {
                    ((requested_cents as f64 * haircut / 10_000.0).floor() as i64 * 10_000)
                        .clamp(10_000, requested_cents)
                };
                (Status::Approved, Some(decided), Some(funded))
            } else {
                (Status::Declined, Some(decided), None)
            }
        };
        Application {
            id,
            applicant_id: applicant.id,
            date,
            requested_cents,
            term_months,
            rate_e4,
            equipment,
            credit_score,
            band,
            status,
            decision_date,
            funded_cents,
        }
    }
}

/// Level monthly payment in cents: P·r / (1 − (1 + r)^−n) with
/// r = annual rate / 12, rounded to the cent (P/n when r = 0).
pub fn amortized_payment_cents(principal_cents: i64, rate_e4: i64, term_months: u32) -> i64 {
    let p = principal_cents as f64 / 100.0;
    let r = rate_e4 as f64 / 10_000.0 / 12.0;
    let n = term_months.max(1) as i32;
    let pay = if r == 0.0 {
        p / f64::from(n)
    } else {
        p * r / (1.0 - (1.0 + r).powi(-n))
    };
    (pay * 100.0).round() as i64
}

/// Status of one instalment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepaymentStatus {
    /// Paid on the due date.
    OnTime,
    /// Paid after the due date.
    Late,
    /// Not paid (only in the run-up to a default).
    Missed,
    /// The instalment at which the loan defaulted; the last row of the loan.
    Defaulted,
}

impl RepaymentStatus {
    /// CSV label.
    pub fn as_str(self) -> &'static str {
        match self {
            RepaymentStatus::OnTime => "on_time",
            RepaymentStatus::Late => "late",
            RepaymentStatus::Missed => "missed",
            RepaymentStatus::Defaulted => "defaulted",
        }
    }
}

/// One instalment of an approved loan (one row of `raw_repayments.csv`,
/// minus the global repayment id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repayment {
    /// 1-based instalment number.
    pub installment: u32,
    /// Due date: decision date + `installment` months.
    pub due_date: Date,
    /// Payment date (None if missed or defaulted).
    pub paid_date: Option<Date>,
    /// Scheduled payment in cents.
    pub amount_due_cents: i64,
    /// Amount paid in cents (0 if missed or defaulted).
    pub amount_paid_cents: i64,
    /// Instalment status.
    pub status: RepaymentStatus,
}

/// Final state of an approved loan as of the as-of date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeKind {
    /// Still being repaid (or not yet started).
    Active,
    /// Every instalment paid.
    PaidOff,
    /// Defaulted.
    Defaulted,
}

impl OutcomeKind {
    /// CSV label.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Active => "active",
            OutcomeKind::PaidOff => "paid_off",
            OutcomeKind::Defaulted => "defaulted",
        }
    }
}

/// Loan outcome (one row of `raw_loan_outcomes.csv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Outcome.
    pub kind: OutcomeKind,
    /// Default date (due date of the defaulted instalment) or payoff date
    /// (latest paid date); None while active.
    pub date: Option<Date>,
    /// Sum of `amount_paid` over the loan's repayments, in cents.
    pub total_paid_cents: i64,
    /// Funded amount minus the scheduled principal share of every paid
    /// instalment, in cents (0 when paid off).
    pub outstanding_principal_cents: i64,
}

/// Defaults happen within this many months of the first instalment.
pub const DEFAULT_HORIZON_MONTHS: u32 = 30;

/// Simulates the repayments of an approved application up to `cfg.as_of`,
/// passing each instalment to `emit` in order, and returns the outcome.
/// Returns `None` if the application is not approved.
///
/// A loan defaults over its life with [`default_probability`]; its default
/// instalment is 2 + ⌊min(n − 1, 30)·u^1.6⌋ (front-loaded seasoning, so long
/// and short loans show defaults equally early), preceded by up to three
/// delinquent instalments (the last one missed, earlier ones missed or
/// 15–45 days late). Performing instalments are on time with the band's
/// [`RiskBand::on_time_probability`], else 1–30 days late (capped at as-of).
pub fn simulate_loan<F>(cfg: &Config, app: &Application, industry: Industry, mut emit: F) -> io::Result<Option<Outcome>>
where
    F: FnMut(&Repayment) -> io::Result<()>,
{
    let (Status::Approved, Some(decided), Some(funded)) = (app.status, app.decision_date, app.funded_cents) else {
        return Ok(None);
    };
    let mut rng = stream_rng(cfg.seed, streams::LOAN, app.id);
    let n = app.term_months;
    let payment = amortized_payment_cents(funded, app.rate_e4, n);
    let r = app.rate_e4 as f64 / 10_000.0 / 12.0;

    let defaults = rng.random_bool(default_probability(app.band, industry));
    let u: f64 = rng.random();
    let default_at = if defaults {
        let horizon = (n - 1).min(DEFAULT_HORIZON_MONTHS);
        (2 + (f64::from(horizon) * u.powf(1.6)).floor() as u32).min(n)
    } else {
        n + 1
    };
    let window_start = default_at.saturating_sub(3).max(1);
    let on_time_p = app.band.on_time_probability();

    let mut balance = funded;
    let mut outstanding = funded;
    let mut total_paid = 0i64;
    let mut rows = 0u32;
    let mut missed_any = false;
    let mut last_paid: Option<Date> = None;
    for i in 1..=n {
        let due = decided.add_months(i as i32);
        if due > cfg.as_of {
            break;
        }
        let interest = (balance as f64 * r).round() as i64;
        let principal = payment - interest;
        balance -= principal;
        rows += 1;
        if i == default_at {
            emit(&Repayment {
                installment: i,
                due_date: due,
                paid_date: None,
                amount_due_cents: payment,
                amount_paid_cents: 0,
                status: RepaymentStatus::Defaulted,
            })?;
            return Ok(Some(Outcome {
                kind: OutcomeKind::Defaulted,
                date: Some(due),
                total_paid_cents: total_paid,
                outstanding_principal_cents: outstanding.max(0),
            }));
        }
        let delay: Option<i32> = if defaults && i >= window_start {
            let missed = i + 1 == default_at || rng.random_bool(0.5);
            let late_days = rng.random_range(15..=45);
            if missed {
                None
            } else {
                Some(late_days)
            }
        } else {
            let on_time = rng.random_bool(on_time_p);
            let late_days = 1 + (std_exp(&mut rng) * 6.0).floor().min(29.0) as i32;
            Some(if on_time { 0 } else { late_days })
        };
        let row = match delay {
            None => {
                missed_any = true;
                Repayment {
                    installment: i,
                    due_date: due,
                    paid_date: None,
                    amount_due_cents: payment,
                    amount_paid_cents: 0,
                    status: RepaymentStatus::Missed,
                }
            }
            Some(d) => {
                let paid = due.add_days(d).min(cfg.as_of);
                total_paid += payment;
                outstanding -= principal;
                last_paid = Some(last_paid.map_or(paid, |p| p.max(paid)));
                Repayment {
                    installment: i,
                    due_date: due,
                    paid_date: Some(paid),
                    amount_due_cents: payment,
                    amount_paid_cents: payment,
                    status: if paid > due {
                        RepaymentStatus::Late
                    } else {
                        RepaymentStatus::OnTime
                    },
                }
            }
        };
        emit(&row)?;
    }
    let outcome = if rows == n && !missed_any {
        Outcome {
            kind: OutcomeKind::PaidOff,
            date: last_paid,
            total_paid_cents: total_paid,
            outstanding_principal_cents: 0,
        }
    } else {
        Outcome {
            kind: OutcomeKind::Active,
            date: None,
            total_paid_cents: total_paid,
            outstanding_principal_cents: outstanding.max(0),
        }
    };
    Ok(Some(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_formula() {
        // $10,000 at 12 % over 12 months = $888.49.
        assert_eq!(amortized_payment_cents(1_000_000, 1200, 12), 88_849);
        assert_eq!(amortized_payment_cents(1_200_000, 0, 12), 100_000);
    }

    #[test]
    fn applicant_is_deterministic_and_valid() {
        let first = Date::from_days(19_500);
        let (a, name) = Applicant::generate(7, 3, first);
        let (b, name2) = Applicant::generate(7, 3, first);
        assert_eq!(a, b);
        assert_eq!(name, name2);
        assert!(a.created_at < first);
        assert!(a.years_in_business <= 40);
        assert!(!name.is_empty());
    }

    #[test]
    fn score_series_is_quarterly_and_bounded() {
        let (a, _) = Applicant::generate(1, 1, Date::from_days(19_500));
        let snaps: Vec<Snapshot> = ScoreSeries::new(1, &a, Date::from_days(20_269)).collect();
        assert!(!snaps.is_empty());
        assert_eq!(snaps[0].date, a.created_at);
        for (k, s) in snaps.iter().enumerate() {
            assert_eq!(s.date, a.created_at.add_months(3 * k as i32));
            assert!((SCORE_MIN..=SCORE_MAX).contains(&s.score));
        }
    }
}
