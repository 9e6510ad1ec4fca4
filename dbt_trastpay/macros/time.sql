{#- Timestamps as instants (timestamp with time zone), whatever the loader kept; see the
    trastpay_timestamps var. Tashkent has had a fixed +05:00 offset since 1992 (no daylight
    saving), so wall time converts with a constant. -#}

{% macro instant(column) -%}
    {{ return(adapter.dispatch('instant', 'trastpay')(column)) }}
{%- endmacro %}

{% macro default__instant(column) -%}
    {%- set kind = var('trastpay_timestamps') -%}
    {%- if kind == 'with_time_zone' -%}
        cast({{ column }} as timestamp with time zone)
    {%- elif kind == 'naive_tashkent' -%}
        (cast({{ column }} as timestamp) - interval '5 hours') at time zone 'UTC'
    {%- elif kind == 'naive_utc' -%}
        cast({{ column }} as timestamp) at time zone 'UTC'
    {%- else -%}
        {{ exceptions.raise_compiler_error("var trastpay_timestamps must be naive_utc, naive_tashkent or with_time_zone, not '" ~ kind ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- The Tashkent calendar day of an instant (statement months and CBU rate days are Tashkent days). -#}
{% macro tashkent_date(instant_column) -%}
    {{ return(adapter.dispatch('tashkent_date', 'trastpay')(instant_column)) }}
{%- endmacro %}

{% macro default__tashkent_date(instant_column) -%}
    cast(({{ instant_column }} at time zone 'UTC') + interval '5 hours' as date)
{%- endmacro %}
