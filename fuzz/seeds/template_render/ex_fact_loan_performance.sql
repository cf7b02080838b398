-- One row per application: risk band and the amortized expectation of the loan.
select
    f.application_id,
    f.applicant_id,
    f.application_date,
    f.status,
    f.is_approved,
    f.is_defaulted,
    f.credit_score,
    f.risk_band,
    f.industry,
    f.requested_amount,
    f.funded_amount,
    f.term_months,
    f.interest_rate,
    round(t.monthly_payment, 2) as monthly_payment,
    round(t.monthly_payment * t.term_months, 2) as expected_total_payment,
    round(t.monthly_payment * t.term_months - t.principal, 2) as expected_interest
from {{ ref('fact_loans') }} f
join {{ ref('int_loan_terms') }} t using (application_id)
