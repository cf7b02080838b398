//! Generator configuration and its validation.

use std::fmt;

use crate::date::Date;

/// Largest accepted `--applications` value (keeps the per-application
/// applicant index, 4 bytes each, within a few hundred MB).
pub const MAX_APPLICATIONS: u64 = 100_000_000;

/// Everything that determines the generated data set. Two runs with equal
/// configs produce byte-identical files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Number of loan applications to generate (rows of `raw_loan_applications.csv`).
    pub applications: u64,
    /// Master seed; every random stream is derived from it.
    pub seed: u64,
    /// First possible application date (inclusive).
    pub start_date: Date,
    /// Last possible application date (inclusive).
    pub end_date: Date,
    /// Observation date: repayments due after it and snapshots after it are
    /// not generated; loan outcomes are evaluated as of this date.
    pub as_of: Date,
}

/// Why a [`Config`] was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Default first application date (2023-01-01).
pub fn default_start_date() -> Date {
    Date::from_days(19_358)
}

/// Default last application date (2024-12-31).
pub fn default_end_date() -> Date {
    Date::from_days(20_088)
}

/// Default as-of date (2025-06-30).
pub fn default_as_of() -> Date {
    Date::from_days(20_269)
}

impl Config {
    /// A config with the default date window (2023-01-01..=2024-12-31, as of 2025-06-30).
    pub fn new(applications: u64, seed: u64) -> Config {
        Config {
            applications,
            seed,
            start_date: default_start_date(),
            end_date: default_end_date(),
            as_of: default_as_of(),
        }
    }

    /// Checks that the window is non-empty, the as-of date is not before
    /// the window end, and the size is within [`MAX_APPLICATIONS`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.applications > MAX_APPLICATIONS {
            return Err(ConfigError(format!(
                "--applications {} exceeds the maximum of {MAX_APPLICATIONS}",
                self.applications
            )));
        }
        if self.start_date > self.end_date {
            return Err(ConfigError(format!(
                "--start-date {} is after --end-date {}",
                self.start_date, self.end_date
            )));
        }
        if self.as_of < self.end_date {
            return Err(ConfigError(format!(
                "--as-of {} is before --end-date {}",
                self.as_of, self.end_date
            )));
        }
        Ok(())
    }

    /// Number of days in the application window (inclusive of both ends).
    pub fn window_days(&self) -> usize {
        (self.end_date.days() - self.start_date.days() + 1).max(0) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_dates() {
        assert_eq!(default_start_date().to_string(), "2023-01-01");
        assert_eq!(default_end_date().to_string(), "2024-12-31");
        assert_eq!(default_as_of().to_string(), "2025-06-30");
        assert_eq!(Config::new(10, 1).window_days(), 731);
        assert!(Config::new(10, 1).validate().is_ok());
    }

    #[test]
    fn rejects_bad_windows() {
        let mut c = Config::new(10, 1);
        c.as_of = c.end_date.add_days(-1);
        assert!(c.validate().is_err());
        let mut c = Config::new(10, 1);
        c.start_date = c.end_date.add_days(1);
        assert!(c.validate().is_err());
        assert!(Config::new(MAX_APPLICATIONS + 1, 1).validate().is_err());
    }
}
