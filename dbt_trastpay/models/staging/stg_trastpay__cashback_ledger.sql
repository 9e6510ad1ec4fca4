with latest as ({{ trastpay.latest('cashback_ledger', ['id'], 'occurred_at') }})
select
    id as cashback_entry_id,
    type as entry_type,
    source_transaction_id,
    card_token,
    {{ trastpay.rate_decimal('rate') }} as rate,
    currency,
    base_amount_minor,
    amount_minor,
    {{ trastpay.minor_to_decimal('base_amount_minor', 'currency') }} as base_amount,
    {{ trastpay.minor_to_decimal('amount_minor', 'currency') }} as amount,
    {{ trastpay.instant('occurred_at') }} as occurred_at
from latest
