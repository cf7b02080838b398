{#- The contract (columns, types, constraints in _finance.yml) is written in DuckDB's
    type names, so it is enforced where the target is DuckDB. -#}
{{ config(contract={'enforced': target.type == 'duckdb'}) }}
select
    risk_band,
    count(*) as applications,
    count(*) filter (where is_approved) as approved_loans,
    count(*) filter (where is_approved and is_defaulted) as defaulted_loans,
    {{ ratio('count(*) filter (where is_approved and is_defaulted)', 'count(*) filter (where is_approved)') }} as default_rate
from {{ ref('fact_loans') }}
group by risk_band
order by risk_band
