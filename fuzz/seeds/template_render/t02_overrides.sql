{% macro default__shout() %}shop shout{% endmacro %}
             {% macro duckdb__dateadd(datepart, interval, from_date_or_timestamp) %}my_dateadd({{ interval }}){% endmacro %}
             {% macro loop_forever(n) %}{{ loop_forever(n + 1) }}{% endmacro %}