{% macro json_fn() %}{% if target.type == 'snowflake' %}object_construct{% elif execute %}{% do exceptions.raise_compiler_error('Unknown adapter ' ~ target.type) %}{% endif %}{% endmacro %}
