-- One row per loan application, with the applicant's attributes and the outcome.
select
    l.application_id,
    l.applicant_id,
    l.application_date,
    l.decision_date,
    l.status,
    l.status = 'approved' as is_approved,
    l.requested_amount,
    l.funded_amount,
    l.term_months,
    l.interest_rate,
    l.equipment_type,
    l.credit_score,
    {{ risk_band('l.credit_score') }} as risk_band,
    a.industry,
    a.state,
    a.business_name,
    o.outcome,
    o.outcome_date,
    coalesce(o.outcome = 'defaulted', false) as is_defaulted
from {{ ref('stg_loan_applications') }} l
join {{ ref('stg_applicants') }} a using (applicant_id)
left join {{ ref('stg_loan_outcomes') }} o using (application_id)
