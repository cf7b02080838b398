select * from main.raw_orders
