{{ config(materialzed='table') }}
select 1 as id