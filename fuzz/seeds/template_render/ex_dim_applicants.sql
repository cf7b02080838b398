-- One row per applicant, with the latest credit score and its risk band.
with latest_score as (
    select
        applicant_id,
        arg_max(credit_score, score_date) as latest_credit_score,
        max(score_date) as latest_score_date
    from {{ ref('stg_credit_score_snapshots') }}
    group by applicant_id
)

select
    a.applicant_id,
    a.business_name,
    a.industry,
    a.state,
    a.years_in_business,
    a.annual_revenue,
    a.created_at,
    s.latest_credit_score,
    s.latest_score_date,
    {{ risk_band('s.latest_credit_score') }} as latest_risk_band
from {{ ref('stg_applicants') }} a
left join latest_score s using (applicant_id)
