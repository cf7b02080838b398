{% snapshot credit_scores_snapshot %}
{{
    config(
        unique_key='applicant_id',
        strategy='timestamp',
        updated_at='score_date',
    )
}}
-- The current bureau score of each applicant; history builds up run after run.
select
    applicant_id,
    arg_max(credit_score, score_date) as credit_score,
    arg_max(bureau, score_date) as bureau,
    max(score_date) as score_date
from {{ source('bureau', 'credit_score_snapshots') }}
group by applicant_id
{% endsnapshot %}
