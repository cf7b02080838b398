-- One row per applicant: borrowing history and credit score range.
with apps as (
    select
        applicant_id,
        count(*) as applications,
        count(*) filter (where is_approved) as approved_loans,
        count(*) filter (where is_defaulted) as defaulted_loans,
        coalesce(sum(funded_amount), 0) as total_funded,
        min(application_date) as first_application_date,
        max(application_date) as last_application_date
    from fact_loans
    group by applicant_id
),

scores as (
    select
        applicant_id,
        min(credit_score) as min_credit_score,
        max(credit_score) as max_credit_score,
        avg(credit_score) as avg_credit_score,
        count(*) as score_observations
    from stg_credit_score_snapshots
    group by applicant_id
)

select
    d.applicant_id,
    d.industry,
    d.latest_credit_score,
    d.latest_risk_band,
    apps.applications,
    apps.approved_loans,
    apps.defaulted_loans,
    apps.total_funded,
    apps.first_application_date,
    apps.last_application_date,
    scores.min_credit_score,
    scores.max_credit_score,
    round(scores.avg_credit_score, 1) as avg_credit_score,
    scores.score_observations
from dim_applicants d
join apps using (applicant_id)
left join scores using (applicant_id)
