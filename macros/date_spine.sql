{#- One row per day from start_date to end_date inclusive. Each engine has its own
    series function: dispatch picks `<engine>__date_spine`, else `default__`. -#}
{% macro date_spine(start_date, end_date) -%}
{{ return(adapter.dispatch('date_spine')(start_date, end_date)) }}
{%- endmacro %}

{#- generate_series over timestamps: the same table function on DuckDB and PostgreSQL. -#}
{% macro default__date_spine(start_date, end_date) -%}
select cast(d as date) as date_day
from generate_series(cast('{{ start_date }}' as timestamp), cast('{{ end_date }}' as timestamp), interval '1 day') as t(d)
{%- endmacro %}

{% macro spark__date_spine(start_date, end_date) -%}
select explode(sequence(date '{{ start_date }}', date '{{ end_date }}', interval 1 day)) as date_day
{%- endmacro %}
