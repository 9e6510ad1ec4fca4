{#- Models go to <target schema>_<folder schema> (dbt's default), except that a custom schema of
    the same name as the target is not doubled. Kept explicit so every engine names them alike. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}
    {%- else -%}{{ target.schema }}_{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
