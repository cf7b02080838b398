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

{#- Level monthly payment of an amortized loan: P * r / (1 - (1 + r)^-n), r = annual rate / 12. -#}
{% macro monthly_payment(principal, annual_rate, months) -%}
    case
        when {{ annual_rate }} = 0 then {{ principal }} / {{ months }}
        else {{ principal }} * ({{ annual_rate }} / 12) / (1 - pow(1 + {{ annual_rate }} / 12, -{{ months }}))
    end
{%- endmacro %}

{#- A safe ratio: null when the denominator is zero. -#}
{% macro ratio(numerator, denominator) -%}
    cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0)
{%- endmacro %}
