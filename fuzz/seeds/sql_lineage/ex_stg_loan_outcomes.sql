select
    application_id,
    lower(outcome) as outcome,
    cast(outcome_date as date) as outcome_date,
    cast(total_paid as decimal(14, 2)) as total_paid,
    cast(outstanding_principal as decimal(14, 2)) as outstanding_principal
from raw_loan_outcomes
