{#- One row per day from start_date to end_date inclusive, in DuckDB SQL. -#}
{% macro date_spine(start_date, end_date) -%}
select cast(d as date) as date_day
from range(date '{{ start_date }}', date '{{ end_date }}' + interval 1 day, interval 1 day) as t(d)
{%- endmacro %}
