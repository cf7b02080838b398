{{ config(materialized='view', pre_hook='select 1', post_hook=['select 2']) }}
select id, {{ cents('amount') }} as amount, updated_at from {{ source('app', 'orders') }}
