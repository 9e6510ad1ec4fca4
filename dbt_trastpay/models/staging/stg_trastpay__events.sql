with latest as ({{ trastpay.latest('events', ['id'], 'occurred_at') }})
select
    id as event_id,
    type as event_type,
    resource_type,
    resource_id,
    data,
    {{ trastpay.instant('occurred_at') }} as occurred_at
from latest
