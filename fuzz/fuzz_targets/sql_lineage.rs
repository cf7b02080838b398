//! Fuzzes the SQL analysis of `modelc-sql` on a compiled model's SQL:
//! `strip_trailing_semicolon`, `parse` (sqlparser's DuckDB dialect), then
//! `ParsedQuery::relations` and `ParsedQuery::lineage` against a catalog of the
//! example project's seeds.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn catalog() -> &'static HashMap<String, Vec<String>> {
    static CATALOG: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let tables: [(&str, &str); 6] = [
            ("raw_applicants", "applicant_id,business_name,industry,state,years_in_business,annual_revenue,created_at"),
            ("raw_credit_score_snapshots", "snapshot_id,applicant_id,score_date,credit_score,bureau"),
            ("raw_loan_applications", "application_id,applicant_id,application_date,requested_amount,term_months,interest_rate,equipment_type,credit_score,status,decision_date,funded_amount"),
            ("raw_loan_outcomes", "application_id,outcome,outcome_date,total_paid,outstanding_principal"),
            ("main.raw_repayments", "repayment_id,application_id,installment_number,due_date,paid_date,amount_due,amount_paid,status"),
            ("orders", "id,customer_id,amount"),
        ];
        tables
            .iter()
            .map(|(t, cols)| (t.to_string(), cols.split(',').map(str::to_owned).collect()))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let stripped = modelc_sql::strip_trailing_semicolon(sql);
    assert!(
        sql.starts_with(stripped),
        "strip_trailing_semicolon must return a prefix"
    );
    if let Ok(query) = modelc_sql::parse(sql) {
        let _ = query.is_query();
        let _ = query.relations();
        let _ = query.lineage(catalog());
    }
});
