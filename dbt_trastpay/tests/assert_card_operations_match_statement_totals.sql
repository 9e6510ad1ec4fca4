{#- The card operations booked in a statement period add up to the statement's own debit, credit
    and commission totals and its entry count. -#}
{% set sql %}
select
    card_token,
    statement_month,
    debit_total_minor,
    operation_debit_minor,
    credit_total_minor,
    operation_credit_minor,
    commission_total_minor,
    operation_commission_minor,
    statement_entry_count,
    operation_booking_count
from {{ ref('trastpay__statement_reconciliation') }}
where operation_debit_minor <> debit_total_minor
    or operation_credit_minor <> credit_total_minor
    or operation_commission_minor <> commission_total_minor
    or operation_booking_count <> statement_entry_count
{% endset %}
{{ trastpay.report_failures(sql, "card {card_token}, statement period {statement_month}: operations debit {operation_debit_minor} / credit {operation_credit_minor} / commission {operation_commission_minor} / bookings {operation_booking_count}, statement says {debit_total_minor} / {credit_total_minor} / {commission_total_minor} / {statement_entry_count}") }}
