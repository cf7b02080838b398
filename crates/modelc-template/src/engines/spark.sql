{#- The cross-database macros on Spark (target.type 'spark'), where Spark SQL
    differs from DuckDB's in crossdb.sql. Each replaces the macro of the same name
    there. Dates and times follow DuckDB's answers (a datediff counts the boundaries
    crossed, as DuckDB's date_diff does), so a project gives the same rows on both. -#}

{% macro type_string() -%}string{%- endmacro %}

{% macro type_numeric() -%}decimal(28,6){%- endmacro %}

{% macro type_int() -%}int{%- endmacro %}

{% macro current_timestamp() -%}current_timestamp(){%- endmacro %}

{% macro current_timestamp_backcompat() %}
    current_timestamp()
{% endmacro %}

{% macro snapshot_get_time() -%}{{ current_timestamp() }}{%- endmacro %}

{% macro dateadd(datepart, interval, from_date_or_timestamp) %}
    timestampadd({{ datepart | lower }}, cast({{ interval }} as bigint), {{ from_date_or_timestamp }})
{% endmacro %}

{#- Boundaries crossed between the two values, as DuckDB's date_diff counts them. -#}
{% macro datediff(first_date, second_date, datepart) -%}
    {%- set part = datepart | lower -%}
    {%- set a = 'cast(' ~ first_date ~ ' as timestamp)' -%}
    {%- set b = 'cast(' ~ second_date ~ ' as timestamp)' -%}
    {%- if part == 'day' -%}
    datediff(cast({{ second_date }} as date), cast({{ first_date }} as date))
    {%- elif part == 'week' -%}
    (floor(datediff(cast({{ second_date }} as date), cast({{ first_date }} as date)) / 7) + case
        when dayofweek({{ a }}) <= dayofweek({{ b }}) then
            case when {{ a }} <= {{ b }} then 0 else -1 end
        else
            case when {{ a }} <= {{ b }} then 1 else 0 end
    end)
    {%- elif part == 'month' -%}
    ((year({{ b }}) - year({{ a }})) * 12 + month({{ b }}) - month({{ a }}))
    {%- elif part == 'quarter' -%}
    ((year({{ b }}) - year({{ a }})) * 4 + quarter({{ b }}) - quarter({{ a }}))
    {%- elif part == 'year' -%}
    (year({{ b }}) - year({{ a }}))
    {%- elif part in ('hour', 'minute', 'second') -%}
    {%- set seconds = {'hour': 3600, 'minute': 60, 'second': 1}[part] -%}
    cast((unix_seconds(date_trunc('{{ part }}', {{ b }})) - unix_seconds(date_trunc('{{ part }}', {{ a }}))) / {{ seconds }} as bigint)
    {%- else -%}
    {{ exceptions.raise_compiler_error("Unsupported datepart for macro datediff in spark: '" ~ datepart ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{% macro last_day(date, datepart) -%}
    {{ default_last_day(date, datepart) }}
{%- endmacro %}

{% macro safe_cast(field, type) %}
    try_cast({{ field }} as {{ type }})
{% endmacro %}

{#- Spark's own split_part (1-based; a negative part counts from the end). -#}
{% macro split_part(string_text, delimiter_text, part_number) %}
    split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
{% endmacro %}

{#- A quote is escaped with a backslash in Spark's string literals. -#}
{% macro escape_single_quotes(expression) -%}
    {{ expression | replace("'", "\\'") }}
{%- endmacro %}

{#- With a limit, the first values collected (Spark has no ordered collect_list). -#}
{% macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) -%}
    {%- if limit_num -%}
    array_join(slice(collect_list({{ measure }}), 1, {{ limit_num }}), {{ delimiter_text }})
    {%- else -%}
    listagg({{ measure }}, {{ delimiter_text }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
    {%- endif -%}
{%- endmacro %}

{% macro any_value(expression) -%}
    any_value({{ expression }})
{%- endmacro %}

{% macro array_construct(inputs=[], data_type='integer') %}
    {% if inputs | length > 0 -%}
    array({{ inputs | join(' , ') }})
    {%- else -%}
    array()
    {%- endif %}
{% endmacro %}

{% macro array_append(array, new_element) -%}
    concat({{ array }}, array({{ new_element }}))
{%- endmacro %}

{% macro array_concat(array_1, array_2) -%}
    concat({{ array_1 }}, {{ array_2 }})
{%- endmacro %}
