{#- Cross-database and data type macros, DuckDB flavour.

    dbt reaches these through `adapter.dispatch(name, 'dbt')`, which on DuckDB picks the
    `duckdb__<name>` implementation of dbt-duckdb when there is one and dbt's
    `default__<name>` otherwise. modelc only ever targets DuckDB, so each macro here is
    that final implementation under the top-level name (`dateadd`, not
    `duckdb__dateadd`), with dbt's argument names and defaults. The SQL they produce is
    the SQL dbt-duckdb 1.10 produces, token for token (whitespace may differ); the
    samples pinned in tests come from rendering dbt-duckdb for real.

    Macros call each other by their plain names (`dateadd`, `date_trunc`), so a project
    macro of the same name overrides them everywhere, as dispatch would. -#}

{#- ---------------------------------------------------------------- data types
    dbt asks `api.Column.translate_type(label)`; DuckDB's column class maps only
    'string' (to TEXT) and lets every other label through unchanged. -#}

{% macro type_string() -%}TEXT{%- endmacro %}

{% macro type_timestamp() -%}timestamp{%- endmacro %}

{#- DuckDB reads `float` as the 4-byte REAL: this is what dbt-duckdb emits. -#}
{% macro type_float() -%}float{%- endmacro %}

{% macro type_numeric() -%}numeric(28,6){%- endmacro %}

{% macro type_bigint() -%}bigint{%- endmacro %}

{% macro type_int() -%}integer{%- endmacro %}

{% macro type_boolean() -%}boolean{%- endmacro %}

{#- ---------------------------------------------------------------- timestamps -#}

{% macro current_timestamp() -%}now(){%- endmacro %}

{% macro current_timestamp_backcompat() %}
    current_timestamp::timestamp
{% endmacro %}

{% macro current_timestamp_in_utc_backcompat() -%}
    {{ return(current_timestamp_backcompat()) }}
{%- endmacro %}

{% macro snapshot_get_time() -%}{{ current_timestamp() }}::timestamp{%- endmacro %}

{#- ---------------------------------------------------------------- dates
    DuckDB cannot parse `interval (<expression>) <unit>`, so dbt-duckdb multiplies a
    one-unit interval by the amount, which also works for column expressions. It has
    no quarter interval (three months instead) and spells weeks as seven days. -#}

{% macro dateadd(datepart, interval, from_date_or_timestamp) %}
{%- set unit = datepart | lower %}
    {% if unit == 'quarter' -%}
        ({{ from_date_or_timestamp }} + (cast({{ interval }} as bigint) * 3) * interval 1 month)
    {%- elif unit == 'week' -%}
        ({{ from_date_or_timestamp }} + (cast({{ interval }} as bigint) * 7) * interval 1 day)
    {%- else -%}
        ({{ from_date_or_timestamp }} + cast({{ interval }} as bigint) * interval 1 {{ unit }})
    {%- endif -%}
{% endmacro %}

{#- Weeks count the week starts (Sundays, as date_part('dow') numbers days) crossed
    between the two dates: whole days divided by seven, plus one when the end falls on an
    earlier weekday than the start. DuckDB's own date_diff('week') counts whole 7-day spans
    instead (Saturday to the next day: 1 here, 0 there). Only the lower-case 'week' takes
    this branch, as in dbt-duckdb. -#}
{% macro datediff(first_date, second_date, datepart) -%}
    {% if datepart == 'week' %}
    ({{ datediff(first_date, second_date, 'day') }} // 7 + case
        when date_part('dow', ({{ first_date }})::timestamp) <= date_part('dow', ({{ second_date }})::timestamp) then
            case when {{ first_date }} <= {{ second_date }} then 0 else -1 end
        else
            case when {{ first_date }} <= {{ second_date }} then 1 else 0 end
    end)
    {% else %}
    (date_diff('{{ datepart }}', {{ first_date }}::timestamp, {{ second_date }}::timestamp ))
    {% endif %}
{%- endmacro %}

{% macro date_trunc(datepart, date) -%}
    date_trunc('{{ datepart }}', {{ date }})
{%- endmacro %}

{#- The day before the start of the next period. -#}
{% macro default_last_day(date, datepart) -%}
    cast(
        {{ dateadd('day', '-1', dateadd(datepart, '1', date_trunc(datepart, date))) }}
    as date)
{%- endmacro %}

{#- dbt-duckdb adds three months for quarters, and keeps its SQL comment saying so. -#}
{% macro last_day(date, datepart) -%}
    {%- if datepart == 'quarter' -%}
    -- duckdb dateadd does not support quarter interval.
    cast(
        {{ dateadd('day', '-1', dateadd('month', '3', date_trunc(datepart, date))) }}
    as date)
    {%- else -%}
    {{ default_last_day(date, datepart) }}
    {%- endif -%}
{%- endmacro %}

{#- dbt's default renders `to_date('YYYY-MM-DD', 'YYYY-MM-DD')` from a Python date.
    DuckDB has no two-argument to_date, so the SQL fails there, as it does under
    dbt-duckdb; it is kept for identical output. An impossible date is a compile
    error, as datetime.date() raises one. -#}
{% macro date(year, month, day) -%}
    {%- set leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 -%}
    {%- set month_days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {%- if year < 1 or year > 9999 or month < 1 or month > 12 or day < 1 or day > month_days[month - 1] -%}
        {{ exceptions.raise_compiler_error("date(): " ~ year ~ "-" ~ month ~ "-" ~ day ~ " is not a valid date") }}
    {%- endif -%}
    {#- strftime('%Y') does not pad years below 1000 on Linux; months and days are padded. -#}
    to_date('{{ year }}-{{ ('0' ~ month)[-2:] }}-{{ ('0' ~ day)[-2:] }}', 'YYYY-MM-DD')
{%- endmacro %}

{#- ---------------------------------------------------------------- casts -#}

{#- dbt-duckdb does not override safe_cast: it is a plain cast (not try_cast). -#}
{% macro safe_cast(field, type) %}
    cast({{ field }} as {{ type }})
{% endmacro %}

{% macro cast(field, type) %}
    cast({{ field }} as {{ type }})
{% endmacro %}

{% macro cast_bool_to_text(field) %}
    cast({{ field }} as {{ type_string() }})
{% endmacro %}

{#- ---------------------------------------------------------------- strings -#}

{% macro concat(fields) -%}
    {{ fields | join(' || ') }}
{%- endmacro %}

{% macro hash(field) -%}
    md5(cast({{ field }} as {{ type_string() }}))
{%- endmacro %}

{#- DuckDB lists are 1-based and accept negative indexes from the end, so a negative
    part number needs no special case. -#}
{% macro split_part(string_text, delimiter_text, part_number) %}
    string_split({{ string_text }}, {{ delimiter_text }})[ {{ part_number }} ]
{% endmacro %}

{% macro position(substring_text, string_text) %}
    position( {{ substring_text }} in {{ string_text }} )
{%- endmacro %}

{% macro right(string_text, length_expression) %}
    right( {{ string_text }}, {{ length_expression }} )
{%- endmacro %}

{% macro length(expression) %}
    length( {{ expression }} )
{%- endmacro %}

{% macro replace(field, old_chars, new_chars) %}
    replace( {{ field }}, {{ old_chars }}, {{ new_chars }} )
{% endmacro %}

{#- Quotes inside the value are not escaped (call escape_single_quotes first). -#}
{% macro string_literal(value) -%}
    '{{ value }}'
{%- endmacro %}

{% macro escape_single_quotes(expression) -%}
    {{ expression | replace("'", "''") }}
{%- endmacro %}

{#- ---------------------------------------------------------------- aggregates -#}

{#- With a limit, the ordered values are collected into a list, cut to the first
    `limit_num` and joined; without one, string_agg with the order inside the call. -#}
{% macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) -%}
    {% if limit_num -%}
    list_aggr( (array_agg( {{ measure }} {% if order_by_clause %}{{ order_by_clause }} {% endif %}))[1:{{ limit_num }}], 'string_agg', {{ delimiter_text }} )
    {%- else %}
    string_agg( {{ measure }}, {{ delimiter_text }} {% if order_by_clause %}{{ order_by_clause }} {% endif %})
    {%- endif %}
{%- endmacro %}

{% macro bool_or(expression) -%}
    bool_or({{ expression }})
{%- endmacro %}

{% macro any_value(expression) -%}
    arbitrary({{ expression }})
{%- endmacro %}

{#- The default of dbt-adapters 1.x (behaviour flag enable_truthy_nulls_equals_macro
    off): a plain comparison, so null = null is null. -#}
{% macro equals(expr1, expr2) -%}
    ({{ expr1 }} = {{ expr2 }})
{% endmacro %}

{#- ---------------------------------------------------------------- set operators -#}

{% macro except() %}
    except
{% endmacro %}

{% macro intersect() %}
    intersect
{% endmacro %}

{#- ---------------------------------------------------------------- arrays -#}

{% macro array_construct(inputs=[], data_type='integer') %}
    {% if inputs | length > 0 -%}
    array[ {{ inputs | join(' , ') }} ]
    {%- else -%}
    array[]::{{ data_type }}[]
    {%- endif %}
{% endmacro %}

{% macro array_append(array, new_element) -%}
    array_append({{ array }}, {{ new_element }})
{%- endmacro %}

{% macro array_concat(array_1, array_2) -%}
    array_cat({{ array_1 }}, {{ array_2 }})
{%- endmacro %}

{#- ---------------------------------------------------------------- series and spines -#}

{#- The smallest n with 2^n >= upper_bound (a number, not SQL). -#}
{% macro get_powers_of_two(upper_bound) -%}
    {%- if upper_bound <= 0 -%}
        {{ exceptions.raise_compiler_error("upper bound must be positive") }}
    {%- endif -%}
    {%- for n in range(1, 100) -%}
        {%- if upper_bound <= 2 ** n -%}{{ return(n) }}{%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{% macro generate_series(upper_bound) %}
    select generate_series as generated_number
    from generate_series(1, {{ upper_bound }})
{% endmacro %}

{#- The number of whole `datepart`s between two SQL expressions, asked of the database
    (dbt runs `select <datediff>` and takes the first value; 1 when nothing comes
    back, as at parse time). Needs a `run_query(sql)` whose result has `.rows`. -#}
{% macro get_intervals_between(start_date, end_date, datepart) -%}
    {%- if run_query is not defined -%}
        {{ exceptions.raise_compiler_error("get_intervals_between() needs run_query(), which this context does not have") }}
    {%- endif -%}
    {%- set result = run_query("select " ~ datediff(start_date, end_date, datepart)) if execute else none -%}
    {%- if result and result.rows | length > 0 -%}
        {{ return(result.rows[0][0]) }}
    {%- else -%}
        {{ return(1) }}
    {%- endif -%}
{%- endmacro %}

{#- One row per `datepart` from start_date (included) to end_date (excluded: the series
    has as many rows as whole periods between them). -#}
{% macro date_spine(datepart, start_date, end_date) %}
    with rawdata as (
        {{ generate_series(get_intervals_between(start_date, end_date, datepart)) }}
    ),
    all_periods as (
        select (
            {{ dateadd(datepart, "row_number() over (order by 1) - 1", start_date) }}
        ) as date_{{ datepart }}
        from rawdata
    ),
    filtered as (
        select *
        from all_periods
        where date_{{ datepart }} <= {{ end_date }}
    )
    select * from filtered
{% endmacro %}
