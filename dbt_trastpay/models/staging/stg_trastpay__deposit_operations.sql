with latest as ({{ trastpay.latest('deposit_operations', ['id'], 'occurred_at') }})
select
    id as operation_id,
    deposit_id,
    type as operation_type,
    currency,
    amount_minor,
    balance_after_minor,
    {{ trastpay.minor_to_decimal('amount_minor', 'currency') }} as amount,
    {{ trastpay.minor_to_decimal('balance_after_minor', 'currency') }} as balance_after,
    {{ trastpay.instant('occurred_at') }} as occurred_at
from latest
