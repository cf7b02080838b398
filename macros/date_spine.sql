{#- One row per day from start_date to end_date inclusive. generate_series over
    timestamps is the same table function on DuckDB and PostgreSQL. -#}
{% macro date_spine(start_date, end_date) -%}
select cast(d as date) as date_day
from generate_series(cast('{{ start_date }}' as timestamp), cast('{{ end_date }}' as timestamp), interval '1 day') as t(d)
{%- endmacro %}
