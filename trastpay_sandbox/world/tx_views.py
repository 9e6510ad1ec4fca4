"""What a card transaction looks like at a given clock value, as a record and as JSON bytes."""

from __future__ import annotations

from typing import Any

import orjson

from trastpay_sandbox.world.card_activity import Tx
from trastpay_sandbox.world.cards import CardSpec
from trastpay_sandbox.world.clock import DAY, OFFSET_SECONDS, day_prefix, fmt_ts, time_table
from trastpay_sandbox.world.money import fmt_minor


def tx_state(tx: Tx, now: int) -> tuple[str, int, int, int]:
    """``(status, posted_at, reversed_at, updated_at)`` as of ``now`` (-1 = not yet / never)."""
    if tx.declined:
        return "declined", -1, -1, tx.occ
    posted = tx.post if 0 <= tx.post <= now else -1
    reversed_ = tx.rev if 0 <= tx.rev <= now else -1
    if reversed_ >= 0:
        return "reversed", posted, reversed_, reversed_
    if posted >= 0:
        return "posted", posted, -1, posted
    return "pending", -1, -1, tx.occ


def tx_record(tx: Tx, card: CardSpec, now: int, include_commission: bool = True) -> dict[str, Any]:
    status, posted, reversed_, updated = tx_state(tx, now)
    return {
        "id": tx.id,
        "card_token": card.token,
        "authorization_id": tx.auth_id,
        "occurred_at": fmt_ts(tx.occ),
        "posted_at": fmt_ts(posted) if posted >= 0 else None,
        "reversed_at": fmt_ts(reversed_) if reversed_ >= 0 else None,
        "updated_at": fmt_ts(updated),
        "status": status,
        "type": tx.tx_type,
        "rail": card.rail,
        "amount_minor": tx.amount,
        "amount": fmt_minor(tx.amount),
        "currency": card.currency,
        "commission_minor": tx.commission if include_commission else None,
        "commission": fmt_minor(tx.commission) if include_commission else None,
        "commission_tier": tx.tier,
        "mcc": tx.mcc,
        "merchant_name": tx.merchant,
        "merchant_city": tx.city,
        "counterparty_pan_masked": tx.cp_pan,
        "counterparty_name": tx.cp_name,
        "counterparty_bank": tx.cp_bank,
        "description": tx.description,
        "decline_reason": tx.decline_reason,
    }


_JSON_TEXT: dict[str | None, str] = {None: "null"}
_MINOR_TEXT: dict[int, str] = {}


def _jtext(value: str | None) -> str:
    """A JSON string literal (or ``null``), memoised: texts come from a small vocabulary."""
    text = _JSON_TEXT.get(value)
    if text is None:
        text = _JSON_TEXT[value] = orjson.dumps(value).decode()
        if len(_JSON_TEXT) > 200_000:
            _JSON_TEXT.clear()
            _JSON_TEXT[None] = "null"
    return text


def _minor_text(value: int) -> str:
    text = _MINOR_TEXT.get(value)
    if text is None:
        text = _MINOR_TEXT[value] = fmt_minor(value)
        if len(_MINOR_TEXT) > 200_000:
            _MINOR_TEXT.clear()
    return text


_TAILS: dict[tuple[str | None, ...], str] = {}


def _tail(key: tuple[str | None, ...]) -> str:
    """The record's last eight fields (mcc .. decline_reason) as JSON, memoised: they repeat a lot."""
    mcc, merchant, city, pan, cp_name, cp_bank, description, reason = key
    text = (
        f',"mcc":{_jtext(mcc)},"merchant_name":{_jtext(merchant)},"merchant_city":{_jtext(city)},'
        f'"counterparty_pan_masked":{_jtext(pan)},"counterparty_name":{_jtext(cp_name)},'
        f'"counterparty_bank":{_jtext(cp_bank)},"description":{_jtext(description)},'
        f'"decline_reason":{_jtext(reason)}}}'
    )
    if len(_TAILS) > 200_000:
        _TAILS.clear()
    _TAILS[key] = text
    return text


def serialize_day(
    txs: list[Tx], card: CardSpec, now: int, include_commission: bool
) -> tuple[bytes, list[int]]:
    """The day's records (exactly :func:`tx_record`, as JSON) comma-joined, and the start offset of
    each plus ``len + 1`` at the end, so that records ``i..j`` are ``blob[offsets[i]:offsets[j] - 1]``.

    Written as one template per record because this is the statement path's hot loop."""
    head = f'","card_token":"{card.token}","authorization_id":'
    rail = f'","rail":"{card.rail}","amount_minor":'
    currency = f'","currency":"{card.currency}","commission_minor":'
    tails_get = _TAILS.get
    auth_quote = '"'
    mget, minor_text = _MINOR_TEXT.get, _minor_text
    table = time_table()
    prefixes: dict[int, str] = {}
    parts: list[str] = []
    append = parts.append
    for tx in txs:
        occ, post, rev = tx.occ, tx.post, tx.rev
        local = occ + OFFSET_SECONDS
        prefix = prefixes.get(local // DAY) or prefixes.setdefault(local // DAY, day_prefix(local // DAY))
        occ_s = prefix + table[local % DAY]
        if tx.declined:
            status, posted_s, reversed_s, updated_s = "declined", "null", "null", occ_s
        else:
            if 0 <= post <= now:
                local = post + OFFSET_SECONDS
                prefix = prefixes.get(local // DAY) or prefixes.setdefault(
                    local // DAY, day_prefix(local // DAY)
                )
                updated_s = prefix + table[local % DAY]
                posted_s = f'"{updated_s}"'
                status = "posted"
            else:
                posted_s, updated_s, status = "null", occ_s, "pending"
            if 0 <= rev <= now:
                local = rev + OFFSET_SECONDS
                prefix = prefixes.get(local // DAY) or prefixes.setdefault(
                    local // DAY, day_prefix(local // DAY)
                )
                updated_s = prefix + table[local % DAY]
                reversed_s = f'"{updated_s}"'
                status = "reversed"
            else:
                reversed_s = "null"
        if include_commission:
            fee = tx.commission
            commission = f'{fee},"commission":"{mget(fee) or minor_text(fee)}"'
        else:
            commission = 'null,"commission":null'
        tier = tx.tier
        commission += ',"commission_tier":null' if tier is None else f',"commission_tier":"{tier}"'
        auth, amount = tx.auth_id, tx.amount
        key = tx[9:17]
        tail = tails_get(key) or _tail(key)
        append(
            f'{{"id":"{tx.id}{head}{"null" if auth is None else auth_quote + auth + auth_quote},'
            f'"occurred_at":"{occ_s}","posted_at":{posted_s},"reversed_at":{reversed_s},'
            f'"updated_at":"{updated_s}","status":"{status}","type":"{tx.tx_type}{rail}{amount},'
            f'"amount":"{mget(amount) or minor_text(amount)}{currency}{commission}{tail}'
        )
    text = ",".join(parts)
    blob = text.encode()
    sizes = [len(p) for p in parts] if len(blob) == len(text) else [len(p.encode()) for p in parts]
    offsets = [0] * (len(parts) + 1)
    position = 0
    for index, size in enumerate(sizes):
        offsets[index] = position
        position += size + 1
    offsets[len(parts)] = position
    return blob, offsets
