{{ config(materialized='table', incremental_strategy='microbatch') }}
select 1 as id