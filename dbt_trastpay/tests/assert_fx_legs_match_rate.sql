{#- The quote-currency leg of a conversion is the base-currency leg times the applied rate,
    rounded half-up to the quote currency's minor unit; the two legs are in the pair's currencies. -#}
{% set sql %}
with legs as (
    select
        conversion_id,
        base_currency,
        quote_currency,
        rate,
        case when sell_currency = base_currency then sell_amount else buy_amount end as base_amount,
        case when sell_currency = quote_currency then sell_amount_minor else buy_amount_minor end as quote_amount_minor,
        case when sell_currency = quote_currency then sell_currency else buy_currency end as quote_leg_currency,
        sell_currency,
        buy_currency
    from {{ ref('stg_trastpay__fx_conversions') }}
),
checked as (
    select
        legs.*,
        {{ trastpay.round_half_up('base_amount * rate * 100') }} as expected_quote_amount_minor
    from legs
)
select *
from checked
where not ((sell_currency = base_currency and buy_currency = quote_currency)
        or (sell_currency = quote_currency and buy_currency = base_currency))
    or quote_amount_minor <> expected_quote_amount_minor
{% endset %}
{{ trastpay.report_failures(sql, "FX conversion {conversion_id} {base_currency}/{quote_currency} at {rate}: base leg {base_amount}, quote leg {quote_amount_minor} minor units, expected {expected_quote_amount_minor}") }}
