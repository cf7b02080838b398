{#- The contract (columns, types, constraints in _finance.yml) is written in DuckDB's
    type names, so it is enforced where the target is DuckDB. -#}
{{ config(contract={'enforced': target.type == 'duckdb'}) }}
select
    industry,
    count(*) as applications,
    count(*) filter (where status = 'approved') as approved,
    count(*) filter (where status = 'declined') as declined,
    count(*) filter (where status = 'pending') as pending,
    {{ ratio("count(*) filter (where status = 'approved')", 'count(*)') }} as approval_rate,
    avg(funded_amount) filter (where is_approved) as avg_loan_amount,
    coalesce(sum(funded_amount), 0) as total_funded
from {{ ref('fact_loans') }}
group by industry
order by industry
