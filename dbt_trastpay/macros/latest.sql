{#- One row per primary key, its latest version: connectors deliver records at least once and an
    append-mode destination keeps every version. Ordered by the record's own change column, then
    by when the loader wrote it (Airbyte: _airbyte_extracted_at; Singer with record metadata:
    _sdc_batched_at), so the newest load of the newest version wins. -#}
{% macro latest(stream, keys, version_column) -%}
    {%- set loaded_at = '_airbyte_extracted_at' if var('trastpay_layout') == 'airbyte' else none -%}
    {%- if var('trastpay_layout') not in ('airbyte', 'singer') -%}
        {{ exceptions.raise_compiler_error("var trastpay_layout must be airbyte or singer, not '" ~ var('trastpay_layout') ~ "'") }}
    {%- endif -%}
    select *
    from (
        select
            raw.*,
            row_number() over (
                partition by {{ keys | join(', ') }}
                order by {{ version_column }} desc{% if loaded_at %}, {{ loaded_at }} desc{% endif %}
            ) as _trastpay_version_rank
        from {{ source('trastpay', stream) }} as raw
    ) as versions
    where _trastpay_version_rank = 1
{%- endmacro %}
