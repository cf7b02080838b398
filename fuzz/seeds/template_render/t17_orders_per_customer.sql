select customer_id, count(*) as orders, sum({{ cents('1') }}) as c from {{ ref('stg_orders') }} group by 1
