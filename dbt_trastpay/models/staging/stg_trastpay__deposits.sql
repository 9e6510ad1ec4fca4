with latest as ({{ trastpay.latest('deposits', ['id'], 'updated_at') }})
select
    id as deposit_id,
    product,
    account_number,
    currency,
    cast(maturity_date as date) as maturity_date,
    term_months,
    {{ trastpay.rate_decimal('annual_rate') }} as annual_rate_percent,
    minimum_balance_minor,
    balance_minor,
    interest_paid_minor,
    {{ trastpay.minor_to_decimal('minimum_balance_minor', 'currency') }} as minimum_balance,
    {{ trastpay.minor_to_decimal('balance_minor', 'currency') }} as balance,
    {{ trastpay.minor_to_decimal('interest_paid_minor', 'currency') }} as interest_paid,
    status,
    {{ trastpay.instant('opened_at') }} as opened_at,
    {{ trastpay.instant('updated_at') }} as updated_at
from latest
