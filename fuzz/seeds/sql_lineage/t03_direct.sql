-- reads the seed's table by name

select *
from main.raw_orders
