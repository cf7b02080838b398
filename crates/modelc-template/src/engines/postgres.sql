{#- Cross-database macros on PostgreSQL: what dbt-postgres 1.10 renders
    (its `postgres__<name>`, else dbt's `default__<name>`), for the macros whose SQL
    differs from DuckDB's in crossdb.sql. Each replaces the macro of the same name
    there when the target's type is `postgres`; the others are shared. -#}

{% macro snapshot_get_time() -%}{{ current_timestamp() }}::timestamp without time zone{%- endmacro %}

{% macro dateadd(datepart, interval, from_date_or_timestamp) %}
    {{ from_date_or_timestamp }} + ((interval '1 {{ datepart }}') * ({{ interval }}))
{% endmacro %}

{#- PostgreSQL has no datediff: each part is counted from date_part differences. -#}
{% macro datediff(first_date, second_date, datepart) -%}
    {% if datepart == 'year' %}
        (date_part('year', ({{second_date}})::date) - date_part('year', ({{first_date}})::date))
    {% elif datepart == 'quarter' %}
        ({{ datediff(first_date, second_date, 'year') }} * 4 + date_part('quarter', ({{second_date}})::date) - date_part('quarter', ({{first_date}})::date))
    {% elif datepart == 'month' %}
        ({{ datediff(first_date, second_date, 'year') }} * 12 + date_part('month', ({{second_date}})::date) - date_part('month', ({{first_date}})::date))
    {% elif datepart == 'day' %}
        (({{second_date}})::date - ({{first_date}})::date)
    {% elif datepart == 'week' %}
        ({{ datediff(first_date, second_date, 'day') }} / 7 + case
            when date_part('dow', ({{first_date}})::timestamp) <= date_part('dow', ({{second_date}})::timestamp) then
                case when {{first_date}} <= {{second_date}} then 0 else -1 end
            else
                case when {{first_date}} <= {{second_date}} then 1 else 0 end
        end)
    {% elif datepart == 'hour' %}
        ({{ datediff(first_date, second_date, 'day') }} * 24 + date_part('hour', ({{second_date}})::timestamp) - date_part('hour', ({{first_date}})::timestamp))
    {% elif datepart == 'minute' %}
        ({{ datediff(first_date, second_date, 'hour') }} * 60 + date_part('minute', ({{second_date}})::timestamp) - date_part('minute', ({{first_date}})::timestamp))
    {% elif datepart == 'second' %}
        ({{ datediff(first_date, second_date, 'minute') }} * 60 + floor(date_part('second', ({{second_date}})::timestamp)) - floor(date_part('second', ({{first_date}})::timestamp)))
    {% elif datepart == 'millisecond' %}
        ({{ datediff(first_date, second_date, 'minute') }} * 60000 + floor(date_part('millisecond', ({{second_date}})::timestamp)) - floor(date_part('millisecond', ({{first_date}})::timestamp)))
    {% elif datepart == 'microsecond' %}
        ({{ datediff(first_date, second_date, 'minute') }} * 60000000 + floor(date_part('microsecond', ({{second_date}})::timestamp)) - floor(date_part('microsecond', ({{first_date}})::timestamp)))
    {% else %}
        {{ exceptions.raise_compiler_error("Unsupported datepart for macro datediff in postgres: '" ~ datepart ~ "'") }}
    {% endif %}
{%- endmacro %}

{#- dbt-postgres adds three months for quarters, and keeps its SQL comment saying so. -#}
{% macro last_day(date, datepart) -%}
    {%- if datepart == 'quarter' -%}
    -- postgres dateadd does not support quarter interval.
    cast(
        {{ dateadd('day', '-1', dateadd('month', '3', date_trunc(datepart, date))) }}
    as date)
    {%- else -%}
    {{ default_last_day(date, datepart) }}
    {%- endif -%}
{%- endmacro %}

{% macro current_timestamp_in_utc_backcompat() -%}
    (current_timestamp at time zone 'utc')::timestamp
{%- endmacro %}

{#- A negative part counts from the end, which dbt computes from the number of
    delimiters. -#}
{% macro split_part(string_text, delimiter_text, part_number) %}
    {% if part_number >= 0 %}
    split_part(
        {{ string_text }},
        {{ delimiter_text }},
        {{ part_number }}
        )
    {% else %}
    split_part(
        {{ string_text }},
        {{ delimiter_text }},
          length({{ string_text }})
          - length(
              replace({{ string_text }},  {{ delimiter_text }}, '')
          ) + 2 + {{ part_number }}
        )
    {% endif %}
{% endmacro %}

{#- Without a limit, DuckDB's string_agg, which is PostgreSQL's too. -#}
{% macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) -%}
    {% if limit_num -%}
    array_to_string(
        (array_agg(
            {{ measure }}
            {% if order_by_clause -%}
            {{ order_by_clause }}
            {%- endif %}
        ))[1:{{ limit_num }}],
        {{ delimiter_text }}
        )
    {%- else %}
    string_agg( {{ measure }}, {{ delimiter_text }} {% if order_by_clause %}{{ order_by_clause }} {% endif %})
    {%- endif %}
{%- endmacro %}

{#- PostgreSQL has no any_value before 16. -#}
{% macro any_value(expression) -%}
    min({{ expression }})
{%- endmacro %}

{#- PostgreSQL's generate_series has no column of that name in every version:
    dbt's default cross-joins powers of two. -#}
{% macro generate_series(upper_bound) %}
    {% set n = get_powers_of_two(upper_bound) %}
    with p as (
        select 0 as generated_number union all select 1
    ), unioned as (
    select
    {% for i in range(n) %}
    p{{i}}.generated_number * power(2, {{i}})
    {% if not loop.last %} + {% endif %}
    {% endfor %}
    + 1
    as generated_number
    from
    {% for i in range(n) %}
    p as p{{i}}
    {% if not loop.last %} cross join {% endif %}
    {% endfor %}
    )
    select *
    from unioned
    where generated_number <= {{upper_bound}}
    order by generated_number
{% endmacro %}
