{{ config(materialized='table') }}
select c.*, 'eu' as region from {{ ref('stg_customers') }} c
