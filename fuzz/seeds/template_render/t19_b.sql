select *
from {{ ref('a') }} join main.payments p using (id)