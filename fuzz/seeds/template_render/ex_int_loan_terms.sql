{{ config(materialized='ephemeral') }}
-- Amortization terms of each application: the level monthly payment on the
-- funded amount (approved loans) or the requested amount (others).
select
    application_id,
    coalesce(funded_amount, requested_amount) as principal,
    interest_rate,
    term_months,
    {{ monthly_payment('coalesce(funded_amount, requested_amount)', 'interest_rate', 'term_months') }} as monthly_payment
from {{ ref('stg_loan_applications') }}
