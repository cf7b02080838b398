//! "Did you mean" suggestions for misspelled names.

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_names_only() {
        let names = ["stg_applicants", "stg_loan_applications", "dim_applicants"];
        assert_eq!(did_you_mean("stg_aplicants", names), Some("stg_applicants"));
        assert_eq!(did_you_mean("fact_orders", names), None);
        assert_eq!(
            did_you_mean("materialised", ["materialized", "schema"]),
            Some("materialized")
        );
    }
}
