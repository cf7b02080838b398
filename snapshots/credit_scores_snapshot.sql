{% snapshot credit_scores_snapshot %}
{{
    config(
        unique_key='applicant_id',
        strategy='timestamp',
        updated_at='score_date',
    )
}}
-- The current bureau score of each applicant; history builds up run after run.
select applicant_id, credit_score, bureau, score_date
from (
    select
        applicant_id,
        credit_score,
        bureau,
        cast(score_date as date) as score_date,
        row_number() over (partition by applicant_id order by score_date desc, snapshot_id desc) as recency
    from {{ source('bureau', 'credit_score_snapshots') }}
) ranked
where recency = 1
{% endsnapshot %}
