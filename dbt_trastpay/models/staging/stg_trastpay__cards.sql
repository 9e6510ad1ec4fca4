with latest as ({{ trastpay.latest('cards', ['card_token'], 'updated_at') }})
select
    card_token,
    pan_masked,
    bin,
    rail,
    currency,
    bank_name,
    bank_mfo,
    holder_name,
    expiry_month,
    status,
    is_virtual,
    is_trastbank,
    balance_minor,
    {{ trastpay.minor_to_decimal('balance_minor', 'currency') }} as balance,
    {{ trastpay.instant('linked_at') }} as linked_at,
    {{ trastpay.instant('updated_at') }} as updated_at
from latest
