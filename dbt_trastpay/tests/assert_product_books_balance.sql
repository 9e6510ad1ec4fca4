{#- Each product's book in the ledger agrees with the product's own balance, to the tiyin:
    - deposit: the deposit book's entries sum to the deposit's balance, and every operation's
      balance_after is the running sum of the operations before it;
    - microloan: disbursed principal minus the repaid principal entries is the outstanding principal,
      and each repayment is principal + interest;
    - instalment plan: the plan's debt (purchase + markup) minus its payment entries is what is left
      to pay (total - paid), and its instalments add up to the total;
    - card: the card's current balance is the closing balance of its latest statement.
    Accounts opened before var trastpay_history_start (a cut history) are skipped. -#}
{%- set start = var('trastpay_history_start') -%}
{% set sql %}
with ledger as (
    select book, account_id, sum(amount_minor) as book_balance_minor
    from {{ ref('trastpay__ledger_entries') }}
    where affects_balance
    group by book, account_id
),

deposit_runs as (
    select
        deposit_id,
        operation_id,
        balance_after_minor,
        sum(amount_minor) over (
            partition by deposit_id order by occurred_at, operation_id rows between unbounded preceding and current row
        ) as running_minor
    from {{ ref('stg_trastpay__deposit_operations') }}
),

deposits as (
    select deposits.deposit_id as account_id, 'deposit' as book, deposits.balance_minor as expected_minor,
        coalesce(ledger.book_balance_minor, 0) as actual_minor,
        (select count(*) from deposit_runs where deposit_runs.deposit_id = deposits.deposit_id
            and deposit_runs.running_minor <> deposit_runs.balance_after_minor) as broken_rows
    from {{ ref('stg_trastpay__deposits') }} as deposits
    left join ledger on ledger.book = 'deposit' and ledger.account_id = deposits.deposit_id
    where exists (
        select 1 from {{ ref('stg_trastpay__deposit_operations') }} as operations
        where operations.deposit_id = deposits.deposit_id and operations.operation_type = 'opening'
    ){% if start %} and deposits.opened_at >= cast('{{ start }}' as date){% endif %}
),

loans as (
    select loans.loan_id as account_id, 'microloan' as book, -loans.outstanding_principal_minor as expected_minor,
        coalesce(ledger.book_balance_minor, 0) as actual_minor,
        (select count(*) from {{ ref('stg_trastpay__microloan_repayments') }} as repayments
            where repayments.loan_id = loans.loan_id
            and repayments.amount_minor <> repayments.principal_minor + repayments.interest_minor) as broken_rows
    from {{ ref('stg_trastpay__microloans') }} as loans
    left join ledger on ledger.book = 'microloan' and ledger.account_id = loans.loan_id
    where loans.disbursed_at is not null{% if start %} and loans.applied_at >= cast('{{ start }}' as date){% endif %}
),

plans as (
    select plans.plan_id as account_id, 'instalment_plan' as book, -(plans.total_minor - plans.paid_minor) as expected_minor,
        coalesce(ledger.book_balance_minor, 0) as actual_minor,
        case when plans.total_minor = plans.purchase_amount_minor + plans.markup_minor
            and plans.total_minor = (select sum(payments.amount_minor) from {{ ref('stg_trastpay__instalment_payments') }} as payments
                where payments.plan_id = plans.plan_id)
            then 0 else 1 end as broken_rows
    from {{ ref('stg_trastpay__instalment_plans') }} as plans
    left join ledger on ledger.book = 'instalment_plan' and ledger.account_id = plans.plan_id
    where plans.status <> 'cancelled'{% if start %} and plans.created_at >= cast('{{ start }}' as date){% endif %}
),

cards as (
    select cards.card_token as account_id, 'card' as book, cards.balance_minor as expected_minor,
        latest.closing_balance_minor as actual_minor, 0 as broken_rows
    from {{ ref('stg_trastpay__cards') }} as cards
    inner join (
        select card_token, closing_balance_minor,
            row_number() over (partition by card_token order by period_start_at desc) as statement_rank
        from {{ ref('stg_trastpay__statements') }}
    ) as latest on latest.card_token = cards.card_token and latest.statement_rank = 1
),

checked as (
    select * from deposits
    union all select * from loans
    union all select * from plans
    union all select * from cards
)

select book, account_id, expected_minor, actual_minor, broken_rows
from checked
where expected_minor <> actual_minor or broken_rows <> 0
{% endset %}
{{ trastpay.report_failures(sql, "{book} {account_id}: its own balance says {expected_minor}, the ledger says {actual_minor} ({broken_rows} inconsistent rows)") }}
