{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    on_schema_change='sync'
) }}
select 1 as id