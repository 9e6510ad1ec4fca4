{#- A transfer's quoted commission is its tier's published rate times the amount, rounded half-up
    to the tiyin (0 within the monthly free allowance); the charged commission is the quote, except
    for a failed transfer, which charges nothing; the total is amount + charged commission. -#}
{% set tiers = var('trastpay_transfer_tier_rates') %}
{% set sql %}
with expected as (
    select
        transfer_id,
        commission_tier,
        commission_rate,
        case commission_tier
            {%- for tier, rate in tiers.items() %}
            when '{{ tier }}' then {{ trastpay.rate_decimal("'" ~ rate ~ "'") }}
            {%- endfor %}
        end as tier_rate,
        amount_minor,
        status,
        commission_quoted_minor,
        commission_minor,
        total_minor,
        is_free_limit_applied,
        case
            when is_free_limit_applied then 0
            else {{ trastpay.round_half_up('cast(amount_minor as ' ~ trastpay.decimal_type(38, 8) ~ ') * commission_rate') }}
        end as expected_quote_minor
    from {{ ref('stg_trastpay__transfers') }}
),

checked as (
    select
        *,
        case when status = 'failed' then 0 else expected_quote_minor end as expected_commission_minor
    from expected
)
select *
from checked
where tier_rate is null
    or commission_rate <> tier_rate
    or commission_quoted_minor <> expected_quote_minor
    or commission_minor <> expected_commission_minor
    or total_minor <> amount_minor + commission_minor
{% endset %}
{{ trastpay.report_failures(sql, "transfer {transfer_id} ({status}, {commission_tier}, rate {commission_rate}, tier rate {tier_rate}): amount {amount_minor}, quoted {commission_quoted_minor} (expected {expected_quote_minor}), charged {commission_minor} (expected {expected_commission_minor}), total {total_minor}") }}
