with latest as ({{ trastpay.latest('microloan_repayments', ['id'], 'paid_at') }})
select
    id as repayment_id,
    loan_id,
    instalment_number,
    card_token,
    currency,
    amount_minor,
    principal_minor,
    interest_minor,
    {{ trastpay.minor_to_decimal('amount_minor', 'currency') }} as amount,
    {{ trastpay.minor_to_decimal('principal_minor', 'currency') }} as principal,
    {{ trastpay.minor_to_decimal('interest_minor', 'currency') }} as interest,
    {{ trastpay.instant('paid_at') }} as paid_at
from latest
