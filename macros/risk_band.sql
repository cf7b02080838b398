{#- The risk band of a credit score. The cut-offs are the data generator's
    (crates/lending-datagen: BAND_A_MIN ... BAND_D_MIN). -#}
{% macro risk_band(score) -%}
    case
        when {{ score }} >= 740 then 'A'
        when {{ score }} >= 680 then 'B'
        when {{ score }} >= 620 then 'C'
        when {{ score }} >= 560 then 'D'
        else 'E'
    end
{%- endmacro %}

{#- Level monthly payment of an amortized loan: P * r / (1 - (1 + r)^-n), r = annual rate / 12.
    Computed in floating point and returned as a numeric, so every engine gives the same
    cents (Spark's decimal division would keep only 7 digits of r). -#}
{% macro monthly_payment(principal, annual_rate, months) -%}
    {%- set rate = 'cast(' ~ annual_rate ~ ' as ' ~ adapter.dispatch('double_type')() ~ ') / 12' -%}
    cast(
        case
            when {{ annual_rate }} = 0 then cast({{ principal }} as {{ adapter.dispatch('double_type')() }}) / {{ months }}
            else {{ principal }} * ({{ rate }}) / (1 - pow(1 + {{ rate }}, -{{ months }}))
        end
    as {{ dbt.type_numeric() }})
{%- endmacro %}

{#- A safe ratio: null when the denominator is zero. -#}
{% macro ratio(numerator, denominator) -%}
    cast({{ numerator }} as {{ adapter.dispatch('double_type')() }}) / nullif({{ denominator }}, 0)
{%- endmacro %}

{#- The 8-byte float type: `double` on DuckDB and Spark, PostgreSQL's is `double precision`. -#}
{% macro default__double_type() %}double{% endmacro %}
{% macro postgres__double_type() %}double precision{% endmacro %}
