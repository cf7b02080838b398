//! The dbt version modelc behaves as, and dbt's version range checks
//! (`require-dbt-version: [">=1.3.0", "<2.0.0"]`).

/// The dbt-core version whose behaviour modelc follows (the 1.10 release its
/// compatibility was measured against): what `dbt_version` renders
/// and what `require-dbt-version` ranges are checked against.
pub const DBT_VERSION: &str = "1.10.23";

/// Parses `major.minor.patch` (missing parts are 0; a pre-release suffix is ignored).
fn parse(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.trim().trim_start_matches('v');
    let core = core.split(['-', '+', 'a', 'b']).next()?;
    let mut parts = core.split('.').map(|p| p.trim().parse::<u64>());
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}

/// Whether `version` satisfies every range (`>=1.3.0`, `<2.0.0`, `=1.5.0`, `1.5.0`).
/// `Err` names a range that cannot be read.
pub fn satisfies(version: &str, ranges: &[String]) -> Result<bool, String> {
    let v = parse(version).ok_or_else(|| format!("'{version}' is not a version"))?;
    for range in ranges {
        let r = range.trim();
        let (op, rest) = [">=", "<=", "==", ">", "<", "="]
            .iter()
            .find_map(|op| r.strip_prefix(op).map(|rest| (*op, rest)))
            .unwrap_or(("=", r));
        let bound = parse(rest).ok_or_else(|| format!("'{range}' is not a version range"))?;
        let ok = match op {
            ">=" => v >= bound,
            "<=" => v <= bound,
            ">" => v > bound,
            "<" => v < bound,
            _ => v == bound,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_dbt_reads_them() {
        let r = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases: &[(&str, &[&str], Result<bool, ()>)] = &[
            ("1.10.0", &[">=1.3.0", "<3.0.0"], Ok(true)),
            ("1.10.0", &[">=1.11.0"], Ok(false)),
            ("1.10.0", &["1.10.0"], Ok(true)),
            ("1.10.0", &["<1.10"], Ok(false)),
            ("1.10.0", &[">1.9.9"], Ok(true)),
            ("1.10.0", &["latest"], Err(())),
        ];
        for (v, ranges, want) in cases {
            assert_eq!(satisfies(v, &r(ranges)).map_err(|_| ()), *want, "{v} {ranges:?}");
        }
    }
}
