select id
from orders
where id in (1, 2 3)