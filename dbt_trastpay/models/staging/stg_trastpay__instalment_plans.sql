with latest as ({{ trastpay.latest('instalment_plans', ['id'], 'updated_at') }})
select
    id as plan_id,
    provider,
    merchant_name,
    status,
    term_months,
    card_token,
    currency,
    purchase_amount_minor,
    markup_minor,
    total_minor,
    paid_minor,
    {{ trastpay.minor_to_decimal('purchase_amount_minor', 'currency') }} as purchase_amount,
    {{ trastpay.minor_to_decimal('markup_minor', 'currency') }} as markup,
    {{ trastpay.minor_to_decimal('total_minor', 'currency') }} as total,
    {{ trastpay.minor_to_decimal('paid_minor', 'currency') }} as paid,
    {{ trastpay.rate_decimal('markup_rate') }} as markup_rate,
    cast(next_due_date as date) as next_due_date,
    {{ trastpay.instant('created_at') }} as created_at,
    {{ trastpay.instant('updated_at') }} as updated_at
from latest
