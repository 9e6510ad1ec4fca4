with latest as ({{ trastpay.latest('fx_conversions', ['id'], 'occurred_at') }})
select
    id as conversion_id,
    location,
    location = 'abroad' as is_abroad,
    side,
    base_currency,
    quote_currency,
    {{ trastpay.rate_decimal('rate') }} as rate,
    {{ trastpay.rate_decimal('cb_rate') }} as cb_rate,
    sell_currency,
    sell_amount_minor,
    {{ trastpay.minor_to_decimal('sell_amount_minor', 'sell_currency') }} as sell_amount,
    buy_currency,
    buy_amount_minor,
    {{ trastpay.minor_to_decimal('buy_amount_minor', 'buy_currency') }} as buy_amount,
    from_card_token,
    to_card_token,
    merchant_country,
    {{ trastpay.instant('occurred_at') }} as occurred_at
from latest
