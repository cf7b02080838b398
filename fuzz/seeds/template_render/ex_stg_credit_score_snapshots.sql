select
    snapshot_id,
    applicant_id,
    cast(score_date as date) as score_date,
    credit_score,
    bureau
from {{ source('bureau', 'credit_score_snapshots') }}
