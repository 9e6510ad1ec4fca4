with latest as ({{ trastpay.latest('utility_payments', ['id'], 'updated_at') }})
select
    id as payment_id,
    invoice_id,
    saved_invoice_id,
    provider_code,
    provider_name,
    service,
    account_id as provider_account_id,
    period as billing_month,
    card_token,
    currency,
    amount_minor,
    {{ trastpay.minor_to_decimal('amount_minor', 'currency') }} as amount,
    status,
    {{ trastpay.instant('created_at') }} as created_at,
    {{ trastpay.instant('updated_at') }} as updated_at
from latest
