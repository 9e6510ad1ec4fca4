"""Sandbox-only hooks under ``/_sandbox`` (not part of the partner contract).

They drive tests: seeded customers, the pending OTP, ground truth per stream, the simulated
clock, fault switches, token expiry and webhook registration. None of them needs a token, and
none is touched by fault injection.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import isodate  # type: ignore[import-untyped]
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from trastpay_sandbox.auth import check_phone
from trastpay_sandbox.context import SandboxContext, context_of
from trastpay_sandbox.hostile import rewrite_truth
from trastpay_sandbox.hostile_middleware import issued_secrets_of
from trastpay_sandbox.problems import invalid, not_found
from trastpay_sandbox.routes_api import json_response
from trastpay_sandbox.session_faults import rewrite_truth_session
from trastpay_sandbox.spec import body_fields, query_names
from trastpay_sandbox.switches import FaultConfigError
from trastpay_sandbox.validation import (
    json_object,
    parse_time,
    reject_unknown,
    reject_unknown_query,
    required_string,
)
from trastpay_sandbox.world.facade import ALL_STREAMS

MAX_ADVANCE = timedelta(days=3660)
_ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
TRUTH_STREAMS: tuple[str, ...] = (*ALL_STREAMS, "saved_invoices")


def _customer_id(ctx: SandboxContext, phone: str | None) -> str:
    if phone is None:
        raise invalid("phone", "'phone' is required")
    check_phone(phone)
    customer = ctx.world.customer_by_phone(phone)
    if customer is None:
        raise not_found(f"no seeded customer has the phone {phone}", field="phone")
    return str(customer.id)


async def customers(request: Request) -> Response:
    reject_unknown_query(request.query_params, query_names("GET", "/_sandbox/customers"))
    world = context_of(request).world
    listing = [
        {"id": c.id, "phone": c.phone, "name": c.name, "cards": world.cards(c.id)} for c in world.customers()
    ]
    return json_response(listing)


async def pending_otp(request: Request) -> Response:
    params = request.query_params
    reject_unknown_query(params, query_names("GET", "/_sandbox/otp"))
    ctx = context_of(request)
    phone = params.get("phone")
    _customer_id(ctx, phone)
    assert phone is not None
    otp = ctx.auth.pending_otp(phone)
    if otp is None:
        raise not_found("no live one-time password for this phone; POST /auth/otp first", field="phone")
    return json_response(otp)


async def truth(request: Request) -> Response:
    params = request.query_params
    reject_unknown_query(params, query_names("GET", "/_sandbox/truth/{stream}"))
    stream = request.path_params["stream"]
    if stream not in TRUTH_STREAMS:
        raise not_found(f"unknown stream '{stream}'; known: {', '.join(TRUTH_STREAMS)}", field="stream")
    ctx = context_of(request)
    customer_id = _customer_id(ctx, params.get("phone"))
    records = list(
        rewrite_truth_session(
            ctx.faults.config,
            stream,
            rewrite_truth(
                ctx.faults.config,
                stream,
                ctx.world.saved_invoices(customer_id)
                if stream == "saved_invoices"
                else ctx.world.truth(customer_id, stream),
            ),
        )
    )

    def lines() -> Iterator[bytes]:
        for record in records:
            yield orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def _clock_state(ctx: SandboxContext) -> dict[str, Any]:
    return {"now": ctx.world.now().isoformat()}


async def get_clock(request: Request) -> Response:
    return json_response(_clock_state(context_of(request)))


async def post_clock(request: Request) -> Response:
    body = json_object(await request.body())
    reject_unknown(body, body_fields("POST", "/_sandbox/clock"))
    if ("advance" in body) == ("set" in body):
        raise invalid("advance", "give exactly one of 'advance' (ISO 8601 duration) or 'set' (RFC 3339)")
    ctx = context_of(request)
    before = ctx.world.now()
    if "advance" in body:
        raw = required_string(body, "advance", max_length=64)
        if not _ISO_DURATION.match(raw):
            raise invalid("advance", f"'advance' is not an ISO 8601 duration like P1D or PT6H: {raw!r}")
        try:
            duration = isodate.parse_duration(raw)
            target = before + duration
        except (isodate.ISO8601Error, ValueError, OverflowError, TypeError):
            raise invalid(
                "advance", f"'advance' is not an ISO 8601 duration like P1D or PT6H: {raw!r}"
            ) from None
        field = "advance"
    else:
        target = parse_time("set", body["set"])
        field = "set"
    delta = target - before
    if delta <= timedelta(0):
        raise invalid(field, "the sandbox clock only moves forward")
    if delta > MAX_ADVANCE:
        raise invalid(field, f"at most {MAX_ADVANCE.days} days per call")
    try:
        if field == "advance":
            ctx.world.advance(delta)
        else:
            ctx.world.set_clock(target)
    except ValueError as exc:
        raise invalid(field, str(exc)) from None
    after = ctx.world.now()
    ctx.auth.clock.age((after - before).total_seconds())
    ctx.dispatcher.deliver(ctx.world.events_between(before, after))
    return json_response({**_clock_state(ctx), "advanced_by_s": int((after - before).total_seconds())})


async def get_faults(request: Request) -> Response:
    return json_response(context_of(request).faults.snapshot())


async def post_faults(request: Request) -> Response:
    body = json_object(await request.body())
    faults = context_of(request).faults
    try:
        faults.configure(body)
    except FaultConfigError as exc:
        raise invalid(exc.field, str(exc)) from None
    return json_response(faults.snapshot())


async def delete_faults(request: Request) -> Response:
    faults = context_of(request).faults
    faults.clear()
    return json_response(faults.snapshot())


async def requests_journal(request: Request) -> Response:
    """``GET /_sandbox/requests``: the journal of the ``journal`` switch (empty when it is off)."""
    ctx = context_of(request)
    state = ctx.session_faults
    state.follow(ctx.faults.config)
    return json_response({"requests": state.journal, "now": time.monotonic()})


async def issued_secrets(request: Request) -> Response:
    """``GET /_sandbox/issued-secrets``: what ``record_secrets`` saw (for leak scans in tests)."""
    document = issued_secrets_of(context_of(request).faults).as_json()
    return Response(orjson.dumps(document), media_type="application/json")


async def expire_tokens(request: Request) -> Response:
    return json_response({"expired": context_of(request).auth.expire_access_tokens()})


async def token_counters(request: Request) -> Response:
    """``GET /_sandbox/tokens``: refreshes, spent refresh tokens presented, introspections, revoked logins."""
    return json_response(context_of(request).auth.counters())


async def register_webhook(request: Request) -> Response:
    body = json_object(await request.body())
    reject_unknown(body, body_fields("POST", "/_sandbox/webhooks"))
    url = required_string(body, "url", max_length=2048)
    secret = required_string(body, "secret", max_length=512)
    ctx = context_of(request)
    customer_id = _customer_id(ctx, body["phone"]) if "phone" in body else None
    try:
        subscription_id = ctx.dispatcher.register(url, secret, customer_id=customer_id)
    except ValueError as exc:
        raise invalid("url", str(exc)) from None
    ctx.subscriptions.append(subscription_id)
    return json_response({"subscription_id": subscription_id, "url": url}, status=201)


async def rotate_secret(request: Request) -> Response:
    body = json_object(await request.body())
    reject_unknown(body, body_fields("POST", "/_sandbox/webhooks/rotate-secret"))
    secret = required_string(body, "secret", max_length=512)
    grace = body.get("grace_seconds", 3600)
    if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= 30 * 86400:
        raise invalid("grace_seconds", "'grace_seconds' must be an integer in 0..2592000")
    ctx = context_of(request)
    dispatcher = ctx.dispatcher
    if "subscription_id" in body:
        chosen = required_string(body, "subscription_id", max_length=128)
        if chosen not in ctx.subscriptions:
            raise not_found(f"no webhook subscription '{chosen}'", field="subscription_id")
        targets = [chosen]
    else:
        targets = list(ctx.subscriptions)
    for subscription_id in targets:
        dispatcher.rotate_secret(subscription_id, secret, grace)
    return json_response({"rotated": targets, "grace_seconds": grace})


async def replay_webhooks(request: Request) -> Response:
    body = json_object(await request.body())
    reject_unknown(body, body_fields("POST", "/_sandbox/webhooks/replay"))
    first = required_string(body, "from_event", max_length=128)
    last = required_string(body, "to_event", max_length=128)
    if last < first:
        raise invalid("to_event", "'to_event' must not sort before 'from_event'")
    ctx = context_of(request)
    dispatcher = ctx.dispatcher
    try:
        events = list(ctx.world.events_by_id_range(first, last))
    except ValueError as exc:
        raise invalid("from_event", str(exc)) from None
    queued = dispatcher.replay(events)
    return json_response({"events": len(events), "deliveries_queued": queued}, status=202)


def hook_routes() -> list[BaseRoute]:
    return [
        Route("/_sandbox/customers", customers, methods=["GET"]),
        Route("/_sandbox/otp", pending_otp, methods=["GET"]),
        Route("/_sandbox/truth/{stream}", truth, methods=["GET"]),
        Route("/_sandbox/clock", get_clock, methods=["GET"]),
        Route("/_sandbox/clock", post_clock, methods=["POST"]),
        Route("/_sandbox/faults", get_faults, methods=["GET"]),
        Route("/_sandbox/faults", post_faults, methods=["POST"]),
        Route("/_sandbox/faults", delete_faults, methods=["DELETE"]),
        Route("/_sandbox/tokens/expire", expire_tokens, methods=["POST"]),
        Route("/_sandbox/tokens", token_counters, methods=["GET"]),
        Route("/_sandbox/requests", requests_journal, methods=["GET"]),
        Route("/_sandbox/issued-secrets", issued_secrets, methods=["GET"]),
        Route("/_sandbox/webhooks", register_webhook, methods=["POST"]),
        Route("/_sandbox/webhooks/rotate-secret", rotate_secret, methods=["POST"]),
        Route("/_sandbox/webhooks/replay", replay_webhooks, methods=["POST"]),
    ]
