{#- A singular test's failing rows, printed one line each when `dbt build` or `dbt test` runs the
    test, so a failure names what broke (dbt itself only prints how many rows failed). `sql` is
    the test's query; `line` holds {column} placeholders filled from each failing row. -#}
{% macro report_failures(sql, line, limit=20) %}
    {%- if execute and flags.WHICH in ('build', 'test') -%}
        {%- set result = run_query('select * from (' ~ sql ~ ') as failures limit ' ~ limit) -%}
        {%- for row in result.rows -%}
            {%- set ns = namespace(text=line) -%}
            {%- for name in result.column_names -%}
                {%- set ns.text = ns.text | replace('{' ~ name ~ '}', row[name] | string) -%}
            {%- endfor -%}
            {{ log('Found by ' ~ model.name ~ ': ' ~ ns.text, info=True) }}
        {%- endfor -%}
    {%- endif -%}
    {{ sql }}
{% endmacro %}
