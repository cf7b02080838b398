select id, name from {{ ref('raw_customers') }} where id > 0
