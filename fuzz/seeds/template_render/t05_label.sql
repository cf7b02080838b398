{% macro duckdb__label() %}'quirks'{% endmacro %}
