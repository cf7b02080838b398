{#- The contract (columns, types, constraints in _finance.yml) is written in DuckDB's
    type names, so it is enforced where the target is DuckDB. -#}
{{ config(contract={'enforced': target.type == 'duckdb'}) }}
-- Industry x risk band grid, ready for a heatmap: every combination appears,
-- with a null rate where no loan was approved.
with grid as (
    select industry, risk_band
    from (select distinct industry from {{ ref('fact_loans') }}) industries
    cross join (values ('A'), ('B'), ('C'), ('D'), ('E')) as bands(risk_band)
),

loans as (
    select
        industry,
        risk_band,
        count(*) filter (where is_approved) as approved_loans,
        count(*) filter (where is_approved and is_defaulted) as defaulted_loans
    from {{ ref('fact_loans') }}
    group by industry, risk_band
)

select
    g.industry,
    g.risk_band,
    coalesce(l.approved_loans, 0) as approved_loans,
    coalesce(l.defaulted_loans, 0) as defaulted_loans,
    {{ ratio('l.defaulted_loans', 'l.approved_loans') }} as default_rate
from grid g
left join loans l using (industry, risk_band)
order by g.industry, g.risk_band
