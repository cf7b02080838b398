-- One row per day of the reporting window, including days without applications.
with daily as (
    select
        application_date as date_day,
        count(*) as applications,
        count(*) filter (where is_approved) as approved,
        coalesce(sum(funded_amount), 0) as funded_amount
    from {{ ref('fact_loans') }}
    group by application_date
)

select
    s.date_day,
    coalesce(d.applications, 0) as applications,
    coalesce(d.approved, 0) as approved,
    coalesce(d.funded_amount, 0) as funded_amount,
    sum(coalesce(d.applications, 0)) over (order by s.date_day) as cumulative_applications,
    avg(coalesce(d.applications, 0)) over (order by s.date_day rows between 6 preceding and current row) as applications_7d_avg
from {{ ref('date_spine') }} s
left join daily d using (date_day)
