select 1 where (select count(*) from {{ ref('orders') }}) = 0
