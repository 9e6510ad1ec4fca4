with latest as ({{ trastpay.latest('microloans', ['id'], 'updated_at') }})
select
    id as loan_id,
    status,
    currency,
    requested_amount_minor,
    {{ trastpay.minor_to_decimal('requested_amount_minor', 'currency') }} as requested_amount,
    term_months,
    purpose,
    decision_code,
    principal_minor,
    {{ trastpay.minor_to_decimal('principal_minor', 'currency') }} as principal,
    {{ trastpay.rate_decimal('annual_rate') }} as annual_rate_percent,
    disbursement_card_token,
    outstanding_principal_minor,
    {{ trastpay.minor_to_decimal('outstanding_principal_minor', 'currency') }} as outstanding_principal,
    disbursed_at is not null as is_disbursed,
    {{ trastpay.instant('applied_at') }} as applied_at,
    {{ trastpay.instant('decided_at') }} as decided_at,
    {{ trastpay.instant('disbursed_at') }} as disbursed_at,
    {{ trastpay.instant('closed_at') }} as closed_at,
    {{ trastpay.instant('updated_at') }} as updated_at
from latest
