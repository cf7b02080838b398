select 2 as id, 'b' as name
