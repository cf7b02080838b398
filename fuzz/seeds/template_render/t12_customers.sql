-- customers, with their region
select c.*, upper('eu') as region from {{ ref('stg_customers') }} c
