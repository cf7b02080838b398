select
    repayment_id,
    application_id,
    installment_number,
    cast(due_date as date) as due_date,
    cast(paid_date as date) as paid_date,
    cast(amount_due as decimal(14, 2)) as amount_due,
    cast(amount_paid as decimal(14, 2)) as amount_paid,
    lower(status) as status,
    case when paid_date is not null then {{ dbt.datediff('cast(due_date as date)', 'cast(paid_date as date)', 'day') }} end as days_late
from {{ ref('raw_repayments') }}
