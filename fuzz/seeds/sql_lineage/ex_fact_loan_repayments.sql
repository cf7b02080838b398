-- One row per scheduled instalment of a funded loan.
select
    r.repayment_id,
    r.application_id,
    f.applicant_id,
    f.risk_band,
    f.industry,
    r.installment_number,
    r.due_date,
    r.paid_date,
    r.amount_due,
    r.amount_paid,
    r.status,
    r.days_late,
    r.amount_due - r.amount_paid as shortfall
from stg_repayments r
join fact_loans f using (application_id)
