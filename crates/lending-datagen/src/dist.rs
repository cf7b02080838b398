//! The statistical model: risk bands, industry multipliers, seasonality,
//! day allocation, and deterministic random sub-streams.
//!
//! All parameters that give the data set its shape live here so the README,
//! the `--help` text and the SQL models can be checked against one place.

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp1, StandardNormal};

use crate::date::Date;

/// Lowest possible credit score.
pub const SCORE_MIN: u16 = 300;
/// Highest possible credit score.
pub const SCORE_MAX: u16 = 850;
/// Minimum score of risk band A (A: score ≥ 740).
pub const BAND_A_MIN: u16 = 740;
/// Minimum score of risk band B (B: 680–739).
pub const BAND_B_MIN: u16 = 680;
/// Minimum score of risk band C (C: 620–679).
pub const BAND_C_MIN: u16 = 620;
/// Minimum score of risk band D (D: 560–619; E: below 560).
pub const BAND_D_MIN: u16 = 560;

/// Credit risk band derived from the credit score on the application date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RiskBand {
    /// Score ≥ 740.
    A,
    /// Score 680–739.
    B,
    /// Score 620–679.
    C,
    /// Score 560–619.
    D,
    /// Score < 560.
    E,
}

impl RiskBand {
    /// All bands, best to worst.
    pub const ALL: [RiskBand; 5] = [RiskBand::A, RiskBand::B, RiskBand::C, RiskBand::D, RiskBand::E];

    /// The band of a credit score, using the exact cut-offs above.
    pub fn from_score(score: u16) -> RiskBand {
        if score >= BAND_A_MIN {
            RiskBand::A
        } else if score >= BAND_B_MIN {
            RiskBand::B
        } else if score >= BAND_C_MIN {
            RiskBand::C
        } else if score >= BAND_D_MIN {
            RiskBand::D
        } else {
            RiskBand::E
        }
    }

    /// Single-letter label.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskBand::A => "A",
            RiskBand::B => "B",
            RiskBand::C => "C",
            RiskBand::D => "D",
            RiskBand::E => "E",
        }
    }

    /// Base probability that a decided application in this band is approved
    /// (before the industry and affordability multipliers).
    pub fn approval_probability(self) -> f64 {
        match self {
            RiskBand::A => 0.86,
            RiskBand::B => 0.72,
            RiskBand::C => 0.52,
            RiskBand::D => 0.32,
            RiskBand::E => 0.15,
        }
    }

    /// Base probability that an approved loan defaults at some point over its
    /// full term (before the industry multiplier). Defaults only show up in
    /// the data once their default instalment is due on or before `--as-of`.
    pub fn default_probability(self) -> f64 {
        match self {
            RiskBand::A => 0.02,
            RiskBand::B => 0.05,
            RiskBand::C => 0.10,
            RiskBand::D => 0.18,
            RiskBand::E => 0.30,
        }
    }

    /// Base annual interest rate, in units of 1/10 000 (725 = 7.25 %).
    pub fn base_rate_e4(self) -> i64 {
        match self {
            RiskBand::A => 725,
            RiskBand::B => 900,
            RiskBand::C => 1175,
            RiskBand::D => 1525,
            RiskBand::E => 1975,
        }
    }

    /// Probability that an instalment of a performing (non-defaulting) loan
    /// is paid on its due date; otherwise it is paid late.
    pub fn on_time_probability(self) -> f64 {
        match self {
            RiskBand::A => 0.96,
            RiskBand::B => 0.93,
            RiskBand::C => 0.89,
            RiskBand::D => 0.84,
            RiskBand::E => 0.78,
        }
    }

    /// Inclusive score range `(lo, hi)` covered by this band.
    pub fn score_range(self) -> (u16, u16) {
        match self {
            RiskBand::A => (BAND_A_MIN, SCORE_MAX),
            RiskBand::B => (BAND_B_MIN, BAND_A_MIN - 1),
            RiskBand::C => (BAND_C_MIN, BAND_B_MIN - 1),
            RiskBand::D => (BAND_D_MIN, BAND_C_MIN - 1),
            RiskBand::E => (SCORE_MIN, BAND_D_MIN - 1),
        }
    }
}

/// Business industry of an applicant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Industry {
    /// General contractors, excavation.
    Construction,
    /// Lawn care, tree services.
    Landscaping,
    /// Restaurants, cafes.
    Restaurants,
    /// Freight carriers.
    Trucking,
    /// Dental, medical, therapy practices.
    Healthcare,
    /// Shops and stores.
    Retail,
    /// Fabrication and production.
    Manufacturing,
    /// Repair garages and body shops.
    AutoRepair,
    /// Hair, nail and beauty salons.
    Salons,
    /// Gyms and studios.
    Fitness,
}

/// Per-industry model parameters.
#[derive(Clone, Copy, Debug)]
pub struct IndustryProfile {
    /// Relative share of applicants.
    pub weight: u32,
    /// Multiplier on the band approval probability.
    pub approval_mult: f64,
    /// Multiplier on the band default probability.
    pub default_mult: f64,
    /// Added to the band interest rate, units of 1/10 000.
    pub rate_premium_e4: i64,
    /// Median annual revenue of an established business, in dollars.
    pub median_revenue: f64,
    /// Shift of the mean base credit score.
    pub score_shift: f64,
}

impl Industry {
    /// All industries.
    pub const ALL: [Industry; 10] = [
        Industry::Construction,
        Industry::Landscaping,
        Industry::Restaurants,
        Industry::Trucking,
        Industry::Healthcare,
        Industry::Retail,
        Industry::Manufacturing,
        Industry::AutoRepair,
        Industry::Salons,
        Industry::Fitness,
    ];

    /// snake_case label written to the CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Industry::Construction => "construction",
            Industry::Landscaping => "landscaping",
            Industry::Restaurants => "restaurants",
            Industry::Trucking => "trucking",
            Industry::Healthcare => "healthcare",
            Industry::Retail => "retail",
            Industry::Manufacturing => "manufacturing",
            Industry::AutoRepair => "auto_repair",
            Industry::Salons => "salons",
            Industry::Fitness => "fitness",
        }
    }

    /// Model parameters of this industry.
    pub fn profile(self) -> IndustryProfile {
        let p = |weight, approval_mult, default_mult, rate_premium_e4, median_revenue, score_shift| IndustryProfile {
            weight,
            approval_mult,
            default_mult,
            rate_premium_e4,
            median_revenue,
            score_shift,
        };
        match self {
            Industry::Construction => p(14, 1.00, 1.10, 50, 1_200_000.0, 0.0),
            Industry::Landscaping => p(10, 0.98, 1.05, 25, 450_000.0, -5.0),
            Industry::Restaurants => p(14, 0.85, 1.50, 150, 800_000.0, -15.0),
            Industry::Trucking => p(12, 0.88, 1.45, 125, 1_500_000.0, -10.0),
            Industry::Healthcare => p(9, 1.10, 0.55, -75, 1_800_000.0, 20.0),
            Industry::Retail => p(12, 0.95, 1.15, 50, 900_000.0, 0.0),
            Industry::Manufacturing => p(8, 1.03, 0.85, 0, 3_000_000.0, 10.0),
            Industry::AutoRepair => p(9, 1.00, 1.00, 25, 600_000.0, 0.0),
            Industry::Salons => p(6, 0.92, 1.20, 75, 300_000.0, -5.0),
            Industry::Fitness => p(6, 0.90, 1.25, 100, 500_000.0, -5.0),
        }
    }
}

/// Approval probability for a decided application: band base × industry
/// multiplier × 0.75 if the request exceeds 40 % of annual revenue,
/// clamped to [0.01, 0.97].
pub fn approval_probability(band: RiskBand, industry: Industry, over_leveraged: bool) -> f64 {
    let afford = if over_leveraged { 0.75 } else { 1.0 };
    (band.approval_probability() * industry.profile().approval_mult * afford).clamp(0.01, 0.97)
}

/// Lifetime default probability of an approved loan: band base × industry
/// multiplier, clamped to [0.005, 0.9].
pub fn default_probability(band: RiskBand, industry: Industry) -> f64 {
    (band.default_probability() * industry.profile().default_mult).clamp(0.005, 0.9)
}

/// Probability that an application is still pending: 1.2 % baseline plus
/// 45 %·exp(−days_before_end/30), so the most recent applications are far
/// more likely to be undecided (≈3 % overall for the default window).
pub fn pending_probability(days_before_end: i32) -> f64 {
    0.012 + 0.45 * (-(days_before_end.max(0) as f64) / 30.0).exp()
}

/// Day-of-week multiplier (Mon … Sun).
pub const WEEKDAY_FACTORS: [f64; 7] = [1.05, 1.10, 1.10, 1.05, 0.95, 0.40, 0.25];
/// Amplitude of the yearly cosine cycle.
pub const YEARLY_AMPLITUDE: f64 = 0.18;
/// Day of year of the yearly peak (mid-April).
pub const YEARLY_PEAK_DOY: f64 = 105.0;
/// Multiplier for every December day.
pub const DECEMBER_FACTOR: f64 = 0.80;
/// Extra multiplier on Dec 24–26, Dec 31 and Jan 1.
pub const HOLIDAY_FACTOR: f64 = 0.35;
/// Yearly growth of application volume (+15 %/year).
pub const ANNUAL_GROWTH: f64 = 0.15;
/// Standard deviation of the daily log-normal jitter.
pub const DAILY_JITTER_SD: f64 = 0.10;

/// Deterministic (noise-free) relative application volume on `date`:
/// weekday factor × (1 + 0.18·cos(2π(doy − 105)/365.25)) × December dip ×
/// holiday dip × 1.15^(years since `start`).
pub fn day_weight(date: Date, start: Date) -> f64 {
    let wd = WEEKDAY_FACTORS[date.weekday() as usize];
    let doy = f64::from(date.day_of_year());
    let yearly = 1.0 + YEARLY_AMPLITUDE * (2.0 * std::f64::consts::PI * (doy - YEARLY_PEAK_DOY) / 365.25).cos();
    let (_, m, d) = date.ymd();
    let mut season = yearly;
    if m == 12 {
        season *= DECEMBER_FACTOR;
    }
    if (m == 12 && matches!(d, 24..=26 | 31)) || (m == 1 && d == 1) {
        season *= HOLIDAY_FACTOR;
    }
    let years = f64::from(date.days() - start.days()) / 365.25;
    let trend = (1.0 + ANNUAL_GROWTH).powf(years);
    wd * season * trend
}

/// Splits `n` items over `weights.len()` buckets proportionally to the
/// weights, exactly (largest-remainder method; ties go to the earlier
/// bucket). Returns the per-bucket counts, which sum to `n`.
pub fn allocate(n: u64, weights: &[f64]) -> Vec<u64> {
    let total: f64 = weights.iter().sum();
    if weights.is_empty() || total <= 0.0 {
        return vec![0; weights.len()];
    }
    let mut counts = Vec::with_capacity(weights.len());
    let mut fracs = Vec::with_capacity(weights.len());
    let mut assigned = 0u64;
    for (i, w) in weights.iter().enumerate() {
        let exact = n as f64 * w / total;
        let floor = exact.floor();
        counts.push(floor as u64);
        assigned += floor as u64;
        fracs.push((exact - floor, i));
    }
    // Float error can make the floors overshoot by a hair; trim from the end.
    let mut i = counts.len();
    while assigned > n && i > 0 {
        i -= 1;
        if counts[i] > 0 {
            counts[i] -= 1;
            assigned -= 1;
        }
    }
    fracs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut k = 0;
    while assigned < n {
        counts[fracs[k % fracs.len()].1] += 1;
        assigned += 1;
        k += 1;
    }
    counts
}

/// 64-bit FNV-1a hash, used to name random streams.
pub const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// SplitMix64 finaliser: a bijective 64-bit mixer.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Names of the independent random streams.
pub mod streams {
    use super::fnv1a;
    /// Daily volume jitter.
    pub const DAYS: u64 = fnv1a(b"days");
    /// Applicant counts and application-to-applicant assignment.
    pub const ASSIGN: u64 = fnv1a(b"assign");
    /// Applicant attributes (one stream per applicant).
    pub const APPLICANT: u64 = fnv1a(b"applicant");
    /// Credit-score series (one stream per applicant).
    pub const SCORES: u64 = fnv1a(b"scores");
    /// Application attributes and decision (one stream per application).
    pub const APPLICATION: u64 = fnv1a(b"application");
    /// Repayment behaviour (one stream per approved loan).
    pub const LOAN: u64 = fnv1a(b"loan");
}

/// An independent ChaCha8 stream for entity `id` of kind `stream` under the
/// master `seed`: seeded with splitmix64(splitmix64(seed ^ stream) ^ id).
/// Streams of different entities never share state, so changing how one
/// entity is generated does not perturb any other.
pub fn stream_rng(seed: u64, stream: u64, id: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix64(splitmix64(seed ^ stream) ^ id))
}

/// A standard normal draw.
pub fn std_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rng.sample(StandardNormal)
}

/// A standard exponential draw (mean 1).
pub fn std_exp<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rng.sample(Exp1)
}

/// Index drawn with probability proportional to `weights` (all non-negative,
/// not all zero; otherwise index 0).
pub fn pick_weighted<R: Rng + ?Sized>(rng: &mut R, weights: &[u32]) -> usize {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if total == 0 {
        return 0;
    }
    let mut x = rng.random_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        let w = u64::from(w);
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_cutoffs_are_exact() {
        assert_eq!(RiskBand::from_score(850), RiskBand::A);
        assert_eq!(RiskBand::from_score(740), RiskBand::A);
        assert_eq!(RiskBand::from_score(739), RiskBand::B);
        assert_eq!(RiskBand::from_score(680), RiskBand::B);
        assert_eq!(RiskBand::from_score(679), RiskBand::C);
        assert_eq!(RiskBand::from_score(620), RiskBand::C);
        assert_eq!(RiskBand::from_score(619), RiskBand::D);
        assert_eq!(RiskBand::from_score(560), RiskBand::D);
        assert_eq!(RiskBand::from_score(559), RiskBand::E);
        assert_eq!(RiskBand::from_score(300), RiskBand::E);
        for b in RiskBand::ALL {
            let (lo, hi) = b.score_range();
            assert_eq!(RiskBand::from_score(lo), b);
            assert_eq!(RiskBand::from_score(hi), b);
        }
    }

    #[test]
    fn band_parameters_are_monotone() {
        for w in RiskBand::ALL.windows(2) {
            assert!(w[0].approval_probability() > w[1].approval_probability());
            assert!(w[0].default_probability() < w[1].default_probability());
            assert!(w[0].base_rate_e4() < w[1].base_rate_e4());
        }
    }

    #[test]
    fn allocation_is_exact() {
        let w = [1.0, 2.0, 3.0, 0.0, 0.5];
        for n in [0u64, 1, 7, 100, 12_345] {
            assert_eq!(allocate(n, &w).iter().sum::<u64>(), n);
        }
        assert_eq!(allocate(65, &w), vec![10, 20, 30, 0, 5]);
        assert!(allocate(5, &[]).is_empty());
    }

    #[test]
    fn weekends_and_december_are_quieter() {
        let start = Date::from_ymd(2023, 1, 1).unwrap_or(Date::from_days(0));
        let at = |y, m, d| Date::from_ymd(y, m, d).map(|d| day_weight(d, start));
        // 2023-04-12 Wednesday vs 2023-04-15 Saturday.
        assert!(at(2023, 4, 12) > at(2023, 4, 15));
        // Wednesday in April vs Wednesday in December.
        assert!(at(2023, 4, 12) > at(2023, 12, 13));
    }

    #[test]
    fn streams_are_distinct_and_reproducible() {
        let a: u64 = stream_rng(1, streams::LOAN, 5).random();
        let b: u64 = stream_rng(1, streams::LOAN, 5).random();
        let c: u64 = stream_rng(1, streams::LOAN, 6).random();
        let d: u64 = stream_rng(2, streams::LOAN, 5).random();
        let e: u64 = stream_rng(1, streams::APPLICATION, 5).random();
        assert_eq!(a, b);
        assert!(a != c && a != d && a != e);
    }
}
