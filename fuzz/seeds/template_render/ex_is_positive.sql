{#- A custom generic test: the column is > 0 wherever it is set. -#}
{% test is_positive(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} <= 0
{% endtest %}
