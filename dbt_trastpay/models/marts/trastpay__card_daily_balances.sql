{#- End-of-day balance of every card on each Tashkent day with card-book bookings, from the
    opening balance of the card's first loaded statement plus the booked entries since. Days
    before that statement are not shown: no balance is known for them. -#}
with anchor as (
    select card_token, currency, opening_balance_minor, period_start_at
    from (
        select
            statements.*,
            row_number() over (partition by card_token order by period_start_at) as statement_rank
        from {{ ref('stg_trastpay__statements') }} as statements
    ) as ranked
    where statement_rank = 1
),

days as (
    select
        entries.card_token,
        entries.booked_on as balance_date,
        sum(case when entries.amount_minor < 0 then -entries.amount_minor else 0 end) as debit_minor,
        sum(case when entries.amount_minor > 0 then entries.amount_minor else 0 end) as credit_minor,
        sum(entries.amount_minor) as net_minor,
        count(*) as entry_count
    from {{ ref('trastpay__ledger_entries') }} as entries
    inner join anchor
        on anchor.card_token = entries.card_token and entries.booked_at >= anchor.period_start_at
    where entries.book = 'card' and entries.affects_balance
    group by entries.card_token, entries.booked_on
),

running as (
    select
        days.card_token,
        days.balance_date,
        anchor.currency,
        anchor.opening_balance_minor
            + sum(days.net_minor) over (
                partition by days.card_token order by days.balance_date rows between unbounded preceding and current row
            ) as closing_balance_minor,
        days.debit_minor,
        days.credit_minor,
        days.net_minor,
        days.entry_count
    from days
    inner join anchor on anchor.card_token = days.card_token
)

select
    card_token || ':' || cast(balance_date as {{ dbt.type_string() }}) as card_day_id,
    card_token,
    balance_date,
    currency,
    closing_balance_minor - net_minor as opening_balance_minor,
    debit_minor,
    credit_minor,
    net_minor,
    closing_balance_minor,
    {{ trastpay.minor_to_decimal('closing_balance_minor', 'currency') }} as closing_balance,
    entry_count
from running
