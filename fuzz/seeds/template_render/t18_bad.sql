{% macro boom() %}

{{ exceptions.raise_compiler_error('kaboom') }}
{% endmacro %}