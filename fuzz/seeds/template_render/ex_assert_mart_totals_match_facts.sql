-- The marts partition the same loans: their totals must equal the fact table's.
with fact as (
    select
        count(*) as applications,
        count(*) filter (where is_approved) as approved,
        count(*) filter (where is_approved and is_defaulted) as defaulted
    from {{ ref('fact_loans') }}
),

by_band as (
    select sum(applications) as applications, sum(approved_loans) as approved, sum(defaulted_loans) as defaulted
    from {{ ref('default_rate_by_risk_band') }}
),

by_industry as (
    select sum(applications) as applications, sum(approved) as approved
    from {{ ref('industry_approval_summary') }}
),

by_grid as (
    select sum(approved_loans) as approved, sum(defaulted_loans) as defaulted
    from {{ ref('default_rate_by_industry_risk_band') }}
)

select 'risk band' as mart from fact, by_band
where fact.applications <> by_band.applications or fact.approved <> by_band.approved or fact.defaulted <> by_band.defaulted
union all
select 'industry' from fact, by_industry
where fact.applications <> by_industry.applications or fact.approved <> by_industry.approved
union all
select 'industry x risk band' from fact, by_grid
where fact.approved <> by_grid.approved or fact.defaulted <> by_grid.defaulted
