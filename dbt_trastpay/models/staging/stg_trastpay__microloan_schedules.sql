with latest as ({{ trastpay.latest('microloan_schedules', ['loan_id', 'instalment_number'], 'updated_at') }})
select
    loan_id,
    instalment_number,
    cast(due_date as date) as due_date,
    currency,
    principal_minor,
    interest_minor,
    total_minor,
    {{ trastpay.minor_to_decimal('principal_minor', 'currency') }} as principal,
    {{ trastpay.minor_to_decimal('interest_minor', 'currency') }} as interest,
    {{ trastpay.minor_to_decimal('total_minor', 'currency') }} as total,
    status,
    {{ trastpay.instant('paid_at') }} as paid_at,
    {{ trastpay.instant('updated_at') }} as updated_at
from latest
