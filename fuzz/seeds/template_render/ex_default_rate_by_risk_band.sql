select
    risk_band,
    count(*) as applications,
    count(*) filter (where is_approved) as approved_loans,
    count(*) filter (where is_approved and is_defaulted) as defaulted_loans,
    {{ ratio('count(*) filter (where is_approved and is_defaulted)', 'count(*) filter (where is_approved)') }} as default_rate
from {{ ref('fact_loans') }}
group by risk_band
order by risk_band
