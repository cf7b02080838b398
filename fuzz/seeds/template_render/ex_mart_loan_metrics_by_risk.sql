select
    risk_band,
    count(*) as applications,
    count(*) filter (where is_approved) as approved_loans,
    count(*) filter (where is_approved and is_defaulted) as defaulted_loans,
    {{ ratio('count(*) filter (where is_approved)', 'count(*)') }} as approval_rate,
    {{ ratio('count(*) filter (where is_approved and is_defaulted)', 'count(*) filter (where is_approved)') }} as default_rate,
    avg(funded_amount) filter (where is_approved) as avg_loan_amount,
    sum(expected_interest) filter (where is_approved) as expected_interest
from {{ ref('fact_loan_performance') }}
group by risk_band
order by risk_band
