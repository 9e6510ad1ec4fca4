{#- Every monthly statement beside what the warehouse's own records say about the same card and
    period: the card book of the ledger (opening + booked entries = closing, to the tiyin) and the
    card operations themselves (each posting or reversal of an operation is one booking of
    amount - commission; its sign decides debit or credit, as on the statement). -#}
with statements as (
    select * from {{ ref('stg_trastpay__statements') }}
),

ledger as (
    select
        statements.card_token,
        statements.statement_month,
        count(entries.entry_id) as ledger_entry_count,
        coalesce(sum(entries.amount_minor), 0) as ledger_net_minor
    from statements
    left join {{ ref('trastpay__ledger_entries') }} as entries
        on entries.card_token = statements.card_token
        and entries.book = 'card'
        and entries.affects_balance
        and entries.booked_at >= statements.period_start_at
        and entries.booked_at < statements.period_end_at
    group by statements.card_token, statements.statement_month
),

bookings as (
    select card_token, posted_at as booked_at, amount_minor - coalesce(commission_minor, 0) as delta_minor,
        coalesce(commission_minor, 0) as commission_minor
    from {{ ref('stg_trastpay__card_transactions') }}
    where posted_at is not null
    union all
    select card_token, reversed_at, -(amount_minor - coalesce(commission_minor, 0)), -coalesce(commission_minor, 0)
    from {{ ref('stg_trastpay__card_transactions') }}
    where posted_at is not null and reversed_at is not null
),

operations as (
    select
        statements.card_token,
        statements.statement_month,
        count(bookings.booked_at) as operation_booking_count,
        coalesce(sum(case when bookings.delta_minor < 0 then -bookings.delta_minor else 0 end), 0)
            as operation_debit_minor,
        coalesce(sum(case when bookings.delta_minor >= 0 then bookings.delta_minor else 0 end), 0)
            as operation_credit_minor,
        coalesce(sum(bookings.commission_minor), 0) as operation_commission_minor
    from statements
    left join bookings
        on bookings.card_token = statements.card_token
        and bookings.booked_at >= statements.period_start_at
        and bookings.booked_at < statements.period_end_at
    group by statements.card_token, statements.statement_month
)

select
    statements.card_token || ':' || statements.statement_month as statement_id,
    statements.card_token,
    statements.statement_month,
    statements.period_start_at,
    statements.period_end_at,
    statements.is_final,
    statements.currency,
    statements.opening_balance_minor,
    statements.closing_balance_minor,
    statements.debit_total_minor,
    statements.credit_total_minor,
    statements.commission_total_minor,
    statements.entry_count as statement_entry_count,
    ledger.ledger_entry_count,
    ledger.ledger_net_minor,
    statements.opening_balance_minor + ledger.ledger_net_minor as ledger_closing_balance_minor,
    statements.opening_balance_minor + ledger.ledger_net_minor - statements.closing_balance_minor
        as closing_difference_minor,
    operations.operation_booking_count,
    operations.operation_debit_minor,
    operations.operation_credit_minor,
    operations.operation_commission_minor,
    statements.opening_balance_minor + ledger.ledger_net_minor = statements.closing_balance_minor
        and operations.operation_debit_minor = statements.debit_total_minor
        and operations.operation_credit_minor = statements.credit_total_minor
        and operations.operation_commission_minor = statements.commission_total_minor
        and operations.operation_booking_count = statements.entry_count
        as is_reconciled
from statements
inner join ledger
    on ledger.card_token = statements.card_token and ledger.statement_month = statements.statement_month
inner join operations
    on operations.card_token = statements.card_token and operations.statement_month = statements.statement_month
