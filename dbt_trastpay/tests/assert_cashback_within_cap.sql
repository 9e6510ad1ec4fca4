{#- Cashback: the rate never exceeds the programme's cap, an accrual is rate x base rounded
    half-up to the tiyin (a reversal the same, negative), and the base is the amount the card
    operation actually debited. -#}
{% set sql %}
select
    cashback.cashback_entry_id,
    cashback.entry_type,
    cashback.rate,
    cashback.base_amount_minor,
    cashback.amount_minor,
    tx.amount_minor as operation_amount_minor,
    {{ trastpay.round_half_up('cast(cashback.base_amount_minor as ' ~ trastpay.decimal_type(38, 8) ~ ') * cashback.rate') }}
        as expected_amount_minor
from {{ ref('stg_trastpay__cashback_ledger') }} as cashback
left join {{ ref('stg_trastpay__card_transactions') }} as tx
    on tx.transaction_id = cashback.source_transaction_id
where cashback.rate > {{ trastpay.rate_decimal("'" ~ var('trastpay_cashback_rate_cap') ~ "'") }}
    or cashback.rate < 0
    or abs(cashback.amount_minor) <> {{ trastpay.round_half_up('cast(cashback.base_amount_minor as ' ~ trastpay.decimal_type(38, 8) ~ ') * cashback.rate') }}
    or (cashback.entry_type = 'accrual' and cashback.amount_minor < 0)
    or (cashback.entry_type = 'reversal' and cashback.amount_minor > 0)
    or (tx.transaction_id is not null and cashback.base_amount_minor <> -tx.amount_minor)
{% endset %}
{{ trastpay.report_failures(sql, "cashback entry {cashback_entry_id} ({entry_type}): rate {rate} on base {base_amount_minor} gives {amount_minor}, expected {expected_amount_minor} (cap " ~ var('trastpay_cashback_rate_cap') ~ "; operation amount {operation_amount_minor})") }}
