with latest as ({{ trastpay.latest('virtual_cards', ['card_token'], 'updated_at') }})
select
    card_token,
    rail,
    pan_masked,
    currency,
    status,
    expiry_month,
    daily_limit_minor,
    monthly_limit_minor,
    {{ trastpay.minor_to_decimal('daily_limit_minor', 'currency') }} as daily_limit,
    {{ trastpay.minor_to_decimal('monthly_limit_minor', 'currency') }} as monthly_limit,
    online_payments_enabled as is_online_payments_enabled,
    {{ trastpay.instant('created_at') }} as created_at,
    {{ trastpay.instant('updated_at') }} as updated_at
from latest
