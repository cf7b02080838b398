{#- The contract (columns, types, constraints in _finance.yml) is written in DuckDB's
    type names, so it is enforced where the target is DuckDB. -#}
{{ config(contract={'enforced': target.type == 'duckdb'}) }}
with volume as (
    select
        applicant_id,
        -- One name and industry per applicant: min() picks it on every engine.
        min(business_name) as business_name,
        min(industry) as industry,
        count(*) as funded_loans,
        sum(funded_amount) as total_funded,
        avg(funded_amount) as avg_loan_amount
    from {{ ref('fact_loans') }}
    where is_approved
    group by applicant_id
),

ranked as (
    select
        row_number() over (order by total_funded desc, applicant_id) as volume_rank,
        applicant_id,
        business_name,
        industry,
        funded_loans,
        total_funded,
        avg_loan_amount
    from volume
)

select *
from ranked
where volume_rank <= 10
order by volume_rank
