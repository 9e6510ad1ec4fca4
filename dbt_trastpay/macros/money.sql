{#- Money: the *_minor integers are the truth; decimals are derived from them with the currency's
    ISO 4217 exponent, by exact decimal multiplication (never a float). -#}

{% macro currency_exponent(currency) -%}
    case when {{ currency }} in ('JPY', 'KRW', 'VND', 'CLP', 'ISK', 'UGX', 'XAF', 'XOF') then 0 else 2 end
{%- endmacro %}

{% macro minor_to_decimal(minor, currency) -%}
    cast(
        cast({{ minor }} as {{ trastpay.decimal_type(38, 0) }})
        * case when {{ currency }} in ('JPY', 'KRW', 'VND', 'CLP', 'ISK', 'UGX', 'XAF', 'XOF')
               then cast(1 as {{ trastpay.decimal_type(4, 2) }})
               else cast(0.01 as {{ trastpay.decimal_type(4, 2) }}) end
        as {{ trastpay.decimal_type(38, 2) }}
    )
{%- endmacro %}

{% macro decimal_type(precision, scale) -%}
    {{ return(adapter.dispatch('decimal_type', 'trastpay')(precision, scale)) }}
{%- endmacro %}

{% macro default__decimal_type(precision, scale) -%}numeric({{ precision }}, {{ scale }}){%- endmacro %}

{% macro duckdb__decimal_type(precision, scale) -%}decimal({{ precision }}, {{ scale }}){%- endmacro %}

{#- A rate string ("0.0025", "12570.79") as an exact decimal. -#}
{% macro rate_decimal(text) -%}
    cast({{ text }} as {{ trastpay.decimal_type(24, 8) }})
{%- endmacro %}

{#- Half-up (away from zero) rounding to a whole number, the API's rule for commissions, cashback
    and FX amounts; on exact decimals, so every engine agrees. -#}
{% macro round_half_up(value) -%}
    (case when {{ value }} < 0 then -floor(-({{ value }}) + 0.5) else floor({{ value }} + 0.5) end)
{%- endmacro %}
