with m as (select * from mystery)
         select a, m.b + 1 as c from m