{#- Every money movement in one table, one row per entry, signed from the customer's side
    (money in positive, money out negative), in its own currency and in soum.

    Books (the `book` column) keep a movement from being counted twice: the card book holds what
    the bank booked on each card (card_transactions: postings, commissions as their own entries,
    reversals, plus holds, hold releases and declines as memo entries that move no balance); the
    other books hold each product's own record of the movement (transfers with their commission,
    FX conversions as two legs with the rate, My Home payments, cashback, microloans, instalment
    plans, deposits). A transfer therefore appears in the card book (the card debit) and in the
    transfer book (the transfer and its tier commission): sum within a book, never across books. -#}
with tx as (
    select * from {{ ref('stg_trastpay__card_transactions') }}
),

card_book as (
    -- holds that were authorised before they posted (or never posted): memo entries
    select
        'card_transactions' as source_stream, transaction_id as source_record_id, 'hold' as entry_kind,
        'card' as book, card_token as account_id, card_token, occurred_at as booked_at,
        amount_minor, currency, status, false as affects_balance,
        coalesce(merchant_name, counterparty_name, counterparty_pan_masked) as counterparty, description
    from tx
    where status <> 'declined' and (posted_at is null or posted_at <> occurred_at)
    union all
    select
        'card_transactions', transaction_id, 'declined', 'card', card_token, card_token, occurred_at,
        amount_minor, currency, status, false,
        coalesce(merchant_name, counterparty_name, counterparty_pan_masked), description
    from tx
    where status = 'declined'
    union all
    select
        'card_transactions', transaction_id, 'posting', 'card', card_token, card_token, posted_at,
        amount_minor, currency, status, true,
        coalesce(merchant_name, counterparty_name, counterparty_pan_masked), description
    from tx
    where posted_at is not null
    union all
    select
        'card_transactions', transaction_id, 'commission', 'card', card_token, card_token, posted_at,
        -commission_minor, currency, status, true, 'Trustbank', 'Commission: ' || description
    from tx
    where posted_at is not null and commission_minor > 0
    union all
    select
        'card_transactions', transaction_id, 'reversal', 'card', card_token, card_token, reversed_at,
        -amount_minor, currency, status, true,
        coalesce(merchant_name, counterparty_name, counterparty_pan_masked), 'Reversal: ' || description
    from tx
    where posted_at is not null and reversed_at is not null
    union all
    select
        'card_transactions', transaction_id, 'commission_reversal', 'card', card_token, card_token, reversed_at,
        commission_minor, currency, status, true, 'Trustbank', 'Commission reversal: ' || description
    from tx
    where posted_at is not null and reversed_at is not null and commission_minor > 0
    union all
    select
        'card_transactions', transaction_id, 'hold_release', 'card', card_token, card_token, reversed_at,
        -amount_minor, currency, status, false,
        coalesce(merchant_name, counterparty_name, counterparty_pan_masked), 'Hold released: ' || description
    from tx
    where posted_at is null and reversed_at is not null
),

transfer_book as (
    select
        'transfers' as source_stream, transfer_id as source_record_id, 'transfer' as entry_kind,
        'transfer' as book, sender_card_token as account_id, sender_card_token as card_token,
        coalesce(completed_at, created_at) as booked_at, -amount_minor as amount_minor, currency, status,
        status = 'completed' as affects_balance,
        coalesce(receiver_name, receiver_pan_masked) as counterparty,
        'Transfer to card ' || receiver_pan_masked as description
    from {{ ref('stg_trastpay__transfers') }}
    union all
    select
        'transfers', transfer_id, 'transfer_commission', 'transfer', sender_card_token, sender_card_token,
        coalesce(completed_at, created_at), -commission_minor, currency, status, status = 'completed',
        'Trustbank', 'Commission ' || commission_tier || ' on transfer to ' || receiver_pan_masked
    from {{ ref('stg_trastpay__transfers') }}
    where commission_minor > 0
),

fx_book as (
    select
        'fx_conversions' as source_stream, conversion_id as source_record_id, 'fx_sell_leg' as entry_kind,
        'fx' as book, from_card_token as account_id, from_card_token as card_token, occurred_at as booked_at,
        -sell_amount_minor as amount_minor, sell_currency as currency, 'completed' as status,
        true as affects_balance,
        case when is_abroad then 'Merchant abroad (' || merchant_country || ')' else 'Trustbank FX desk' end
            as counterparty,
        'FX ' || side || ' ' || base_currency || '/' || quote_currency || ' at ' || cast(rate as {{ dbt.type_string() }})
            as description
    from {{ ref('stg_trastpay__fx_conversions') }}
    union all
    select
        'fx_conversions', conversion_id, 'fx_buy_leg', 'fx',
        coalesce(to_card_token, 'abroad:' || merchant_country), to_card_token, occurred_at,
        buy_amount_minor, buy_currency, 'completed', true,
        case when is_abroad then 'Merchant abroad (' || merchant_country || ')' else 'Trustbank FX desk' end,
        'FX ' || side || ' ' || base_currency || '/' || quote_currency || ' at ' || cast(rate as {{ dbt.type_string() }})
    from {{ ref('stg_trastpay__fx_conversions') }}
),

myhome_book as (
    select
        'utility_payments' as source_stream, payment_id as source_record_id, 'myhome_payment' as entry_kind,
        'myhome' as book, card_token as account_id, card_token, created_at as booked_at,
        -amount_minor as amount_minor, currency, status, status = 'paid' as affects_balance,
        provider_name as counterparty,
        service || ' ' || billing_month || ', account ' || provider_account_id as description
    from {{ ref('stg_trastpay__utility_payments') }}
),

cashback_book as (
    select
        'cashback_ledger' as source_stream, cashback_entry_id as source_record_id,
        'cashback_' || entry_type as entry_kind, 'cashback' as book, card_token as account_id, card_token,
        occurred_at as booked_at, amount_minor, currency, 'booked' as status, true as affects_balance,
        'Trustbank' as counterparty, 'Cashback ' || entry_type || ' on ' || source_transaction_id as description
    from {{ ref('stg_trastpay__cashback_ledger') }}
),

microloan_book as (
    -- the loan account from the customer's side: the disbursement is a debt (negative),
    -- repaid principal brings it back to zero; interest paid is shown but moves no principal
    select
        'microloans' as source_stream, loan_id as source_record_id, 'loan_disbursement' as entry_kind,
        'microloan' as book, loan_id as account_id, disbursement_card_token as card_token,
        disbursed_at as booked_at, -principal_minor as amount_minor, currency, status,
        true as affects_balance, 'Trustbank' as counterparty,
        'Microloan disbursed to card' as description
    from {{ ref('stg_trastpay__microloans') }}
    where disbursed_at is not null
    union all
    select
        'microloan_repayments', repayment_id, 'loan_repayment_principal', 'microloan', loan_id, card_token,
        paid_at, principal_minor, currency, 'paid', true, 'Trustbank',
        'Principal of instalment ' || cast(instalment_number as {{ dbt.type_string() }})
    from {{ ref('stg_trastpay__microloan_repayments') }}
    union all
    select
        'microloan_repayments', repayment_id, 'loan_repayment_interest', 'microloan', loan_id, card_token,
        paid_at, interest_minor, currency, 'paid', false, 'Trustbank',
        'Interest of instalment ' || cast(instalment_number as {{ dbt.type_string() }})
    from {{ ref('stg_trastpay__microloan_repayments') }}
    where interest_minor > 0
),

instalment_book as (
    select
        'instalment_plans' as source_stream, plan_id as source_record_id, 'instalment_plan_opened' as entry_kind,
        'instalment_plan' as book, plan_id as account_id, card_token, created_at as booked_at,
        -total_minor as amount_minor, currency, status, status <> 'cancelled' as affects_balance,
        merchant_name as counterparty, provider || ' plan, ' || cast(term_months as {{ dbt.type_string() }}) || ' months'
            as description
    from {{ ref('stg_trastpay__instalment_plans') }}
    union all
    select
        'instalment_payments', payments.payment_id, 'instalment_payment', 'instalment_plan', payments.plan_id,
        plans.card_token, payments.paid_at, payments.amount_minor, payments.currency, payments.status, true,
        plans.provider, 'Instalment ' || cast(payments.instalment_number as {{ dbt.type_string() }})
    from {{ ref('stg_trastpay__instalment_payments') }} as payments
    left join {{ ref('stg_trastpay__instalment_plans') }} as plans on plans.plan_id = payments.plan_id
    where payments.paid_at is not null
),

deposit_book as (
    select
        'deposit_operations' as source_stream, operations.operation_id as source_record_id,
        'deposit_' || operations.operation_type as entry_kind, 'deposit' as book,
        operations.deposit_id as account_id, cast(null as {{ dbt.type_string() }}) as card_token,
        operations.occurred_at as booked_at, operations.amount_minor, operations.currency, 'booked' as status,
        true as affects_balance, 'Trustbank' as counterparty,
        deposits.product || ' ' || deposits.account_number as description
    from {{ ref('stg_trastpay__deposit_operations') }} as operations
    left join {{ ref('stg_trastpay__deposits') }} as deposits on deposits.deposit_id = operations.deposit_id
),

entries as (
    select * from card_book
    union all select * from transfer_book
    union all select * from fx_book
    union all select * from myhome_book
    union all select * from cashback_book
    union all select * from microloan_book
    union all select * from instalment_book
    union all select * from deposit_book
),

dated as (
    select entries.*, {{ trastpay.tashkent_date('booked_at') }} as booked_on
    from entries
),

rated as (
    select
        dated.source_stream,
        dated.source_record_id,
        dated.entry_kind,
        rates.rate_date,
        rates.uzs_per_unit,
        row_number() over (
            partition by dated.source_stream, dated.source_record_id, dated.entry_kind
            order by rates.rate_date desc
        ) as rate_rank
    from dated
    inner join {{ ref('trastpay__cbu_rates') }} as rates
        on rates.currency = dated.currency and rates.rate_date <= dated.booked_on
    where dated.currency <> 'UZS'
)

select
    dated.source_stream || ':' || dated.source_record_id || ':' || dated.entry_kind as entry_id,
    dated.book,
    dated.entry_kind,
    dated.account_id,
    dated.card_token,
    dated.booked_at,
    dated.booked_on,
    dated.currency,
    dated.amount_minor,
    {{ trastpay.minor_to_decimal('dated.amount_minor', 'dated.currency') }} as amount,
    case when dated.currency = 'UZS' then cast(1 as {{ trastpay.decimal_type(24, 8) }}) else rated.uzs_per_unit end
        as cbu_rate,
    case when dated.currency = 'UZS' then dated.booked_on else rated.rate_date end as cbu_rate_date,
    cast(
        case
            when dated.currency = 'UZS' then {{ trastpay.minor_to_decimal('dated.amount_minor', 'dated.currency') }}
            else {{ trastpay.round_half_up(trastpay.minor_to_decimal('dated.amount_minor', 'dated.currency') ~ ' * rated.uzs_per_unit * 100') }} / 100
        end as {{ trastpay.decimal_type(38, 2) }}
    ) as amount_uzs,
    dated.status,
    dated.affects_balance,
    dated.counterparty,
    dated.description,
    dated.source_stream,
    dated.source_record_id
from dated
left join rated
    on rated.source_stream = dated.source_stream
    and rated.source_record_id = dated.source_record_id
    and rated.entry_kind = dated.entry_kind
    and rated.rate_rank = 1
