-- One row per applicant, with the latest credit score and its risk band.
with ranked as (
    select
        applicant_id,
        credit_score,
        score_date,
        row_number() over (partition by applicant_id order by score_date desc, snapshot_id desc) as recency
    from {{ ref('stg_credit_score_snapshots') }}
),

latest_score as (
    select
        applicant_id,
        credit_score as latest_credit_score,
        score_date as latest_score_date
    from ranked
    where recency = 1
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
