{#- Opening balance + every booked card-book entry of the period = closing balance, per card and
    statement month, to the tiyin. A missing, extra or altered posting breaks it. -#}
{% set sql %}
select
    card_token,
    statement_month,
    currency,
    opening_balance_minor,
    ledger_net_minor,
    ledger_closing_balance_minor,
    closing_balance_minor,
    closing_difference_minor
from {{ ref('trastpay__statement_reconciliation') }}
where closing_difference_minor <> 0
{% endset %}
{{ trastpay.report_failures(sql, "balance continuity broken for card {card_token}, statement period {statement_month}: opening {opening_balance_minor} + ledger entries {ledger_net_minor} = {ledger_closing_balance_minor} minor units of {currency}, but the statement closes at {closing_balance_minor} (difference {closing_difference_minor})") }}
