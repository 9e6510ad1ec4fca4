with latest as ({{ trastpay.latest('statements', ['card_token', 'month'], 'updated_at') }})
select
    card_token,
    month as statement_month,
    currency,
    opening_balance_minor,
    closing_balance_minor,
    debit_total_minor,
    credit_total_minor,
    commission_total_minor,
    {{ trastpay.minor_to_decimal('opening_balance_minor', 'currency') }} as opening_balance,
    {{ trastpay.minor_to_decimal('closing_balance_minor', 'currency') }} as closing_balance,
    {{ trastpay.minor_to_decimal('debit_total_minor', 'currency') }} as debit_total,
    {{ trastpay.minor_to_decimal('credit_total_minor', 'currency') }} as credit_total,
    {{ trastpay.minor_to_decimal('commission_total_minor', 'currency') }} as commission_total,
    entry_count,
    is_final,
    {{ trastpay.instant('period_start') }} as period_start_at,
    {{ trastpay.instant('period_end') }} as period_end_at,
    {{ trastpay.instant('updated_at') }} as updated_at
from latest
