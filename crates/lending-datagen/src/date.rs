//! Minimal proleptic-Gregorian calendar dates, stored as a day count.
//!
//! The generator only needs day arithmetic, month arithmetic (for
//! instalment and snapshot schedules), weekdays and ISO `YYYY-MM-DD`
//! formatting, so a tiny self-contained type avoids a date-library
//! dependency. Conversions use Howard Hinnant's `days_from_civil` /
//! `civil_from_days` algorithms.

use std::fmt;

/// Earliest year accepted by [`Date::parse`] and [`Date::from_ymd`].
pub const MIN_YEAR: i32 = 1900;
/// Latest year accepted by [`Date::parse`] and [`Date::from_ymd`].
pub const MAX_YEAR: i32 = 9999;

/// A calendar date, represented as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Whether `y` is a Gregorian leap year.
pub fn is_leap_year(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Number of days in month `m` (1–12) of year `y`.
pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if is_leap_year(y) {
                29
            } else {
                28
            }
        }
    }
}

impl Date {
    /// Builds a date from year, month (1–12) and day, or `None` if invalid
    /// or outside [`MIN_YEAR`]..=[`MAX_YEAR`].
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&y) || !(1..=12).contains(&m) {
            return None;
        }
        if d == 0 || d > days_in_month(y, m) {
            return None;
        }
        Some(Date(days_from_civil(y, m, d)))
    }

    /// The date `days` days after 1970-01-01 (negative = before).
    pub fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i32 {
        self.0
    }

    /// `(year, month, day)` of this date.
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// This date shifted by `n` days.
    pub fn add_days(self, n: i32) -> Date {
        Date(self.0 + n)
    }

    /// This date shifted by `n` calendar months; the day is clamped to the
    /// end of the target month (Jan 31 + 1 month = Feb 28/29).
    pub fn add_months(self, n: i32) -> Date {
        let (y, m, d) = self.ymd();
        let idx = y * 12 + (m as i32 - 1) + n;
        let ny = idx.div_euclid(12);
        let nm = (idx.rem_euclid(12) + 1) as u32;
        let nd = d.min(days_in_month(ny, nm));
        Date(days_from_civil(ny, nm, nd))
    }

    /// Day of the week, 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (index 3).
        (self.0 + 3).rem_euclid(7) as u32
    }

    /// Whether this date falls on a Saturday or Sunday.
    pub fn is_weekend(self) -> bool {
        self.weekday() >= 5
    }

    /// Day of the year, 1-based (Jan 1 = 1).
    pub fn day_of_year(self) -> u32 {
        let (y, _, _) = self.ymd();
        (self.0 - days_from_civil(y, 1, 1) + 1) as u32
    }

    /// Parses a strict ISO `YYYY-MM-DD` date.
    pub fn parse(s: &str) -> Result<Date, String> {
        let b = s.as_bytes();
        let well_formed = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !well_formed {
            return Err(format!("invalid date `{s}`: expected YYYY-MM-DD"));
        }
        let num =
            |r: std::ops::Range<usize>| -> u32 { b[r].iter().fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0')) };
        let (y, m, d) = (num(0..4) as i32, num(5..7), num(8..10));
        Date::from_ymd(y, m, d)
            .ok_or_else(|| format!("invalid date `{s}`: no such calendar day (years {MIN_YEAR}-{MAX_YEAR})"))
    }

    /// Writes the ISO `YYYY-MM-DD` form into `out`.
    pub fn write_iso(self, out: &mut Vec<u8>) {
        let (y, m, d) = self.ymd();
        let y = y.clamp(0, 9999) as u32;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b'-',
            b'0' + (d / 10) as u8,
            b'0' + (d % 10) as u8,
        ]);
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_epoch() {
        assert_eq!(Date::from_ymd(1970, 1, 1).map(Date::days), Some(0));
        for z in -200_000..200_000 {
            let d = Date::from_days(z);
            let (y, m, dd) = d.ymd();
            if (MIN_YEAR..=MAX_YEAR).contains(&y) {
                assert_eq!(Date::from_ymd(y, m, dd), Some(d));
            }
        }
    }

    #[test]
    fn parse_and_format() {
        let d = Date::parse("2024-02-29").ok();
        assert_eq!(d.map(|d| d.to_string()), Some("2024-02-29".to_string()));
        assert!(Date::parse("2023-02-29").is_err());
        assert!(Date::parse("2023-2-01").is_err());
        assert!(Date::parse("abcd-ef-gh").is_err());
        let mut buf = Vec::new();
        if let Some(d) = d {
            d.write_iso(&mut buf);
        }
        assert_eq!(buf, b"2024-02-29");
    }

    #[test]
    fn months_weekdays() {
        let jan31 = Date::from_ymd(2024, 1, 31);
        assert_eq!(jan31.map(|d| d.add_months(1)), Date::from_ymd(2024, 2, 29));
        assert_eq!(jan31.map(|d| d.add_months(2)), Date::from_ymd(2024, 3, 31));
        assert_eq!(jan31.map(|d| d.add_months(13)), Date::from_ymd(2025, 2, 28));
        assert_eq!(jan31.map(|d| d.add_months(-2)), Date::from_ymd(2023, 11, 30));
        // 2024-01-01 was a Monday.
        assert_eq!(Date::from_ymd(2024, 1, 1).map(Date::weekday), Some(0));
        assert_eq!(Date::from_ymd(2024, 1, 7).map(Date::is_weekend), Some(true));
        assert_eq!(Date::from_ymd(2024, 12, 31).map(Date::day_of_year), Some(366));
    }
}
