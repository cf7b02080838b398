select
    date_day,
    applications,
    approved,
    {{ ratio('approved', 'applications') }} as approval_rate,
    funded_amount,
    applications_7d_avg
from {{ ref('fact_loans_over_time') }}
order by date_day
