-- For each application: the score the lender saw against the applicant's latest score.
select
    f.application_id,
    f.applicant_id,
    f.application_date,
    f.credit_score as score_at_application,
    f.risk_band as risk_band_at_application,
    d.latest_credit_score,
    d.latest_risk_band,
    d.latest_credit_score - f.credit_score as score_change,
    f.risk_band <> d.latest_risk_band as risk_band_changed
from fact_loans f
join dim_applicants d using (applicant_id)
