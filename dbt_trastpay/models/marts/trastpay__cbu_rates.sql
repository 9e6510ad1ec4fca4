{#- Central Bank of Uzbekistan rates by Tashkent day: soum per one unit of a currency.
    The API has no rate stream; every fx_conversions record carries the day's CBU rate of its pair
    (cb_rate), which gives soum rates directly (quote UZS) and, for pairs quoted in another
    currency, a cross rate through that currency's soum rate of the same day. -#}
with quotes as (
    select
        {{ trastpay.tashkent_date('occurred_at') }} as rate_date,
        base_currency,
        quote_currency,
        cb_rate
    from {{ ref('stg_trastpay__fx_conversions') }}
),

direct as (
    select distinct rate_date, base_currency as currency, cb_rate as uzs_per_unit
    from quotes
    where quote_currency = 'UZS'
),

crossed as (
    select distinct
        quotes.rate_date,
        quotes.base_currency as currency,
        cast(quotes.cb_rate * direct.uzs_per_unit as {{ trastpay.decimal_type(24, 8) }}) as uzs_per_unit
    from quotes
    inner join direct
        on direct.rate_date = quotes.rate_date and direct.currency = quotes.quote_currency
    where quotes.quote_currency <> 'UZS'
),

unioned as (
    select rate_date, currency, uzs_per_unit, 'fx_conversions.cb_rate' as rate_source from direct
    union all
    select rate_date, currency, uzs_per_unit, 'fx_conversions.cb_rate (cross)' as rate_source from crossed
)

select
    rate_date,
    currency,
    min(uzs_per_unit) as uzs_per_unit,
    min(rate_source) as rate_source
from unioned
group by rate_date, currency
