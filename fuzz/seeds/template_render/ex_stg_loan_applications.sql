select
    application_id,
    applicant_id,
    cast(application_date as date) as application_date,
    cast(requested_amount as decimal(14, 2)) as requested_amount,
    term_months,
    cast(interest_rate as decimal(6, 4)) as interest_rate,
    equipment_type,
    credit_score,
    lower(status) as status,
    cast(decision_date as date) as decision_date,
    cast(funded_amount as decimal(14, 2)) as funded_amount
from {{ ref('raw_loan_applications') }}
