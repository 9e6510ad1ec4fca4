{#- A cashback reversal takes back an accrual of the same operation and amount: a reversal with
    nothing to reverse makes the cashback balance go below what was ever paid (a hold that
    expires unposted earns no cashback, so it has no reversal either). -#}
{% set sql %}
select
    reversal.cashback_entry_id,
    reversal.source_transaction_id,
    reversal.card_token,
    reversal.amount_minor,
    tx.status as operation_status,
    tx.is_posted as is_operation_posted
from {{ ref('stg_trastpay__cashback_ledger') }} as reversal
left join {{ ref('stg_trastpay__cashback_ledger') }} as accrual
    on accrual.source_transaction_id = reversal.source_transaction_id
    and accrual.entry_type = 'accrual'
    and accrual.amount_minor = -reversal.amount_minor
left join {{ ref('stg_trastpay__card_transactions') }} as tx
    on tx.transaction_id = reversal.source_transaction_id
where reversal.entry_type = 'reversal' and accrual.cashback_entry_id is null
{% endset %}
{{ trastpay.report_failures(sql, "cashback reversal {cashback_entry_id} ({amount_minor} on card {card_token}) reverses no accrual of operation {source_transaction_id} (status {operation_status}, posted: {is_operation_posted})") }}
