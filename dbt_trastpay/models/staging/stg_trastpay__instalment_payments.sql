with latest as ({{ trastpay.latest('instalment_payments', ['id'], 'updated_at') }})
select
    id as payment_id,
    plan_id,
    instalment_number,
    cast(due_date as date) as due_date,
    currency,
    amount_minor,
    {{ trastpay.minor_to_decimal('amount_minor', 'currency') }} as amount,
    status,
    {{ trastpay.instant('paid_at') }} as paid_at,
    {{ trastpay.instant('updated_at') }} as updated_at
from latest
