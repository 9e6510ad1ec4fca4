"""The partner API under ``/api/v1/trastpay``: auth, the keyset-paginated lists, the statement.

Every handler validates its inputs first (400 naming the field), then authenticates for the
route's scope, then asks the :class:`~trastpay_sandbox.world.World`. Bodies are built with
orjson; the statement route splices the world's pre-serialised item bytes straight into the
answer, which is what keeps the hot path fast.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from trastpay_sandbox.context import context_of, principal_of
from trastpay_sandbox.exports import ExportFormat, render_statement
from trastpay_sandbox.middleware import API_PREFIX
from trastpay_sandbox.pagination import decode_page_token, encode_page_token
from trastpay_sandbox.problems import Problem, invalid, not_found
from trastpay_sandbox.spec import body_fields, query_names
from trastpay_sandbox.validation import (
    json_object,
    parse_bool,
    parse_date,
    parse_int,
    parse_page_size,
    parse_time,
    parse_time_or_date,
    reject_unknown,
    reject_unknown_query,
    required_string,
)
from trastpay_sandbox.world.lending import MAX_ONLINE_LOAN_MINOR, ONLINE_TERM_MONTHS

Endpoint = Callable[[Request], Awaitable[Response]]
JSON = "application/json"
_NO_STORE = {"Cache-Control": "no-store"}
RAILS = frozenset({"UZCARD", "HUMO", "VISA", "MASTERCARD"})
EXPORT_FORMATS = frozenset({"json", "xlsx", "pdf"})
TASHKENT = timezone(timedelta(hours=5))

# (path below the base, stream, scope, name of the parent-id path parameter or None)
LIST_ROUTES: tuple[tuple[str, str, str, str | None], ...] = (
    ("/cards/{card_token}/statements", "statements", "statements:read", "card_token"),
    ("/transfers", "transfers", "transfers:read", None),
    ("/microloan", "microloans", "microloan:read", None),
    ("/microloan/{loan_id}/schedule", "microloan_schedules", "microloan:read", "loan_id"),
    ("/microloan/{loan_id}/repayments", "microloan_repayments", "microloan:read", "loan_id"),
    ("/instalments", "instalment_plans", "instalments:read", None),
    ("/instalments/{plan_id}/payments", "instalment_payments", "instalments:read", "plan_id"),
    ("/deposits", "deposits", "deposits:read", None),
    ("/deposits/{deposit_id}/operations", "deposit_operations", "deposits:read", "deposit_id"),
    ("/fx/conversions", "fx_conversions", "fx:read", None),
    ("/virtual-cards", "virtual_cards", "virtual_cards:read", None),
    ("/myhome/payments", "utility_payments", "payments:read", None),
    ("/myhome/invoices", "saved_invoices", "payments:read", None),
    ("/cashback/ledger", "cashback_ledger", "cashback:read", None),
    ("/events", "events", "events:read", None),
)


def json_response(document: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(document), status_code=status, media_type=JSON, headers=headers)


def _utc_text(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat()


def sort_key_of(primary_key: Any, item: Mapping[str, Any]) -> str:
    """The primary-key part of a keyset position, as the world orders it (parts joined by ``:``)."""
    if isinstance(primary_key, str):
        return str(item[primary_key])
    return ":".join(str(item[name]) for name in primary_key)


def whole_second_ceiling(when: datetime | None) -> datetime | None:
    """Records carry whole seconds: ``>= 10.5`` means ``>= 11``, and ``< 10.5`` means ``< 11``."""
    if when is None or when.microsecond == 0:
        return when
    try:
        return when.replace(microsecond=0) + timedelta(seconds=1)
    except OverflowError:
        return when.replace(microsecond=0)


def complete_until(now: datetime) -> str:
    """The list watermark: every record whose cursor is at or before it is already listed.

    The world shows every record as soon as its cursor time has passed, so its own watermark is
    "now"; the ``late_visible`` switch lowers it (see :mod:`trastpay_sandbox.session_faults`).
    """
    return now.astimezone(TASHKENT).replace(microsecond=0).isoformat()


def make_list_endpoint(path: str, stream: str, scope: str, parent_param: str | None) -> Endpoint:
    """The handler of one keyset-paginated list; ``path`` (full) names its operation in the contract."""
    accepted = query_names("GET", path)

    async def list_endpoint(request: Request) -> Response:
        params = request.query_params
        reject_unknown_query(params, accepted)
        since = parse_time("since", params["since"]) if "since" in params else None
        until = parse_time("until", params["until"]) if "until" in params else None
        if since is not None and until is not None and until < since:
            raise invalid("until", "'until' must not be before 'since'")
        page_size = parse_page_size(params.get("page_size"))
        parent_id = request.path_params[parent_param] if parent_param else None
        principal = principal_of(request, scope)
        world = context_of(request).world
        cursor_field = world.cursor_field(stream)
        if cursor_field is None and (since is not None or until is not None):
            field = "since" if since is not None else "until"
            raise invalid(field, f"this list has no cursor field; '{field}' is not supported")
        filters: dict[str, str | int | None] = {
            "stream": stream,
            "parent": parent_id,
            "since": _utc_text(since),
            "until": _utc_text(until),
        }
        token = params.get("page_token")
        after = decode_page_token(token, filters) if token is not None else None
        try:
            items, more = world.list_page(
                principal.customer_id,
                stream,
                parent_id=parent_id,
                since=whole_second_ceiling(since),
                until=whole_second_ceiling(until),
                after=after,
                limit=page_size,
            )
        except KeyError:
            raise not_found(f"no '{parent_id}' for this customer", field=parent_param) from None
        next_page: str | None = None
        if more and items:
            last = items[-1]
            cursor_value = "" if cursor_field is None else str(last[cursor_field])
            next_page = encode_page_token(
                (cursor_value, sort_key_of(world.primary_key(stream), last)), filters
            )
        return json_response(
            {"items": items, "next_page": next_page, "complete_until": complete_until(world.now())}
        )

    list_endpoint.__name__ = f"list_{stream}"
    return list_endpoint


async def list_cards(request: Request) -> Response:
    params = request.query_params
    reject_unknown_query(params, query_names("GET", API_PREFIX + "/cards"))
    page_size = parse_page_size(params.get("page_size"))
    principal = principal_of(request, "cards:read")
    filters: dict[str, str | int | None] = {"stream": "cards"}
    token = params.get("page_token")
    after = decode_page_token(token, filters)[1] if token is not None else ""
    cards = sorted(context_of(request).world.cards(principal.customer_id), key=lambda c: str(c["card_token"]))
    remaining = [c for c in cards if str(c["card_token"]) > after]
    page = remaining[:page_size]
    next_page = None
    if len(remaining) > page_size:
        next_page = encode_page_token(("", str(page[-1]["card_token"])), filters)
    return json_response({"items": page, "next_page": next_page})


async def get_microloan(request: Request) -> Response:
    reject_unknown_query(request.query_params, query_names("GET", API_PREFIX + "/microloan/{loan_id}"))
    principal = principal_of(request, "microloan:read")
    loan_id = request.path_params["loan_id"]
    for loan in context_of(request).world.truth(principal.customer_id, "microloans"):
        if loan.get("id") == loan_id:
            return json_response(loan)
    raise not_found(f"no microloan '{loan_id}' for this customer", field="loan_id")


async def microloan_eligibility(request: Request) -> Response:
    """The offer's "fast eligibility response": decision code, ceiling and instalment, no side effects."""
    body = json_object(await request.body())
    reject_unknown(body, body_fields("POST", API_PREFIX + "/microloan/eligibility"))
    if "amount_minor" not in body:
        raise invalid("amount_minor", "'amount_minor' is required (tiyin, 100000..5000000000)")
    amount = parse_int("amount_minor", body["amount_minor"], minimum=100_000, maximum=MAX_ONLINE_LOAN_MINOR)
    term = parse_int("term_months", body.get("term_months", ONLINE_TERM_MONTHS), minimum=1, maximum=120)
    if term != ONLINE_TERM_MONTHS:
        raise invalid("term_months", f"the online microloan is offered for {ONLINE_TERM_MONTHS} months only")
    principal = principal_of(request, "microloan:read")
    return json_response(context_of(request).world.microloan_eligibility(principal.customer_id, amount))


async def fx_rates(request: Request) -> Response:
    params = request.query_params
    reject_unknown_query(params, query_names("GET", API_PREFIX + "/fx/rates"))
    if "date" not in params:
        raise invalid("date", "'date' is required (YYYY-MM-DD)")
    day = parse_date("date", params["date"])
    principal_of(request, "fx:read")
    world = context_of(request).world
    if day > world.now().date():
        raise not_found(f"no rates published yet for {day.isoformat()}", field="date")
    first_day = world.settings.clock_start.date() - timedelta(days=world.settings.history_days)
    if day < first_day:
        raise not_found(f"no rates before the sandbox history starts ({first_day.isoformat()})", field="date")
    try:
        rates = world.fx_rates(day)
    except (KeyError, ValueError, OverflowError):
        raise not_found(f"no rates published for {day.isoformat()}", field="date") from None
    return json_response(rates)


async def post_statement(request: Request) -> Response:
    body = json_object(await request.body())
    reject_unknown(body, body_fields("POST", API_PREFIX + "/statement"))
    card_token = required_string(body, "card_token")
    for name in ("from", "to"):
        if name not in body:
            raise invalid(name, f"'{name}' is required (YYYY-MM-DD or RFC 3339 timestamp)")
    start = parse_time_or_date("from", body["from"], end_of_day=False)
    end = parse_time_or_date("to", body["to"], end_of_day=True)
    if end < start:
        raise invalid("to", "'to' must not be before 'from'")
    rail = body.get("rail")
    if rail is not None and (not isinstance(rail, str) or rail not in RAILS):
        raise invalid("rail", f"'rail' must be one of {', '.join(sorted(RAILS))}")
    include_commission = parse_bool("include_commission", body.get("include_commission", True))
    # Pages are 1-based as in the partner offer ("page": 1 answers "next_page": 2); 0 is still
    # accepted as the first page for clients written when pages were 0-based.
    page = max(1, parse_int("page", body.get("page", 1), minimum=0, maximum=10_000_000))
    page_size = parse_page_size(body.get("page_size"))
    principal = principal_of(request, "statements:read")
    world = context_of(request).world
    watermark = complete_until(world.now()).encode()
    try:
        items, next_page = world.statement_page(
            principal.customer_id,
            card_token,
            whole_second_ceiling(start) or start,
            whole_second_ceiling(end) or end,
            page - 1,
            page_size,
            include_commission=include_commission,
            rail=rail,
        )
    except KeyError:
        raise not_found(f"no card '{card_token}' for this customer", field="card_token") from None
    tail = b"null" if next_page is None else b"%d" % (next_page + 1)
    tail += b',"complete_until":"' + watermark + b'"}'
    return Response(b"".join((b'{"items":', items, b',"next_page":', tail)), media_type=JSON)


async def export_statement(request: Request) -> Response:
    params = request.query_params
    reject_unknown_query(params, query_names("GET", API_PREFIX + "/cards/{card_token}/statement/export"))
    for name in ("from", "to"):
        if name not in params:
            raise invalid(name, f"'{name}' is required (YYYY-MM-DD)")
    first, last = parse_date("from", params["from"]), parse_date("to", params["to"])
    if last < first:
        raise invalid("to", "'to' must not be before 'from'")
    fmt = params.get("format", "json")
    if fmt not in EXPORT_FORMATS:
        raise invalid("format", f"'format' must be one of {', '.join(sorted(EXPORT_FORMATS))}")
    principal = principal_of(request, "statements:read")
    card_token = request.path_params["card_token"]
    try:
        export = context_of(request).world.statement_export(principal.customer_id, card_token, first, last)
    except KeyError:
        raise not_found(f"no card '{card_token}' for this customer", field="card_token") from None
    except ValueError as exc:
        raise invalid("from", str(exc)) from None
    content, content_type = render_statement(export, cast(ExportFormat, fmt))
    filename = f"statement-{first.isoformat()}-{last.isoformat()}.{fmt}"
    return Response(
        content,
        media_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- auth ------------------------------------------------------------------------------------


def _scopes_field(body: Mapping[str, Any]) -> list[str] | None:
    scopes = body.get("scopes")
    if scopes is None:
        return None
    if isinstance(scopes, str):
        return scopes.split()
    if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
        return scopes
    raise invalid("scopes", "'scopes' must be a list of scope names or a space-separated string")


async def request_otp(request: Request) -> Response:
    body = json_object(await request.body())
    reject_unknown(body, body_fields("POST", API_PREFIX + "/auth/otp"))
    phone = required_string(body, "phone", max_length=32)
    return json_response(context_of(request).auth.request_otp(phone), status=202)


async def login(request: Request) -> Response:
    body = json_object(await request.body())
    reject_unknown(body, body_fields("POST", API_PREFIX + "/auth/login"))
    phone = required_string(body, "phone", max_length=32)
    otp = required_string(body, "otp", max_length=16)
    device_id = required_string(body, "device_id", max_length=128)
    client_id = required_string(body, "client_id", max_length=128)
    answer = context_of(request).auth.login(phone, otp, device_id, client_id, _scopes_field(body))
    return json_response(answer, headers=_NO_STORE)


async def refresh(request: Request) -> Response:
    body = json_object(await request.body())
    reject_unknown(body, body_fields("POST", API_PREFIX + "/auth/refresh"))
    refresh_token = required_string(body, "refresh_token", max_length=512)
    client_id = required_string(body, "client_id", max_length=128)
    device_id = required_string(body, "device_id", max_length=128)
    header_device = request.headers.get("x-device-id")
    answer = context_of(request).auth.refresh(refresh_token, client_id, device_id, header_device)
    return json_response(answer, headers=_NO_STORE)


async def introspect(request: Request) -> Response:
    body = json_object(await request.body())
    reject_unknown(body, frozenset({"token", "client_id", "device_id"}))
    token = required_string(body, "token", max_length=512)
    client_id = required_string(body, "client_id", max_length=128)
    device_id = required_string(body, "device_id", max_length=128)
    answer = context_of(request).auth.introspect(token, client_id, device_id)
    return json_response(answer, headers=_NO_STORE)


def api_routes(base: str) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route(base + "/auth/otp", request_otp, methods=["POST"]),
        Route(base + "/auth/login", login, methods=["POST"]),
        Route(base + "/auth/refresh", refresh, methods=["POST"]),
        Route(base + "/auth/introspect", introspect, methods=["POST"]),
        Route(base + "/cards", list_cards, methods=["GET"]),
        Route(base + "/statement", post_statement, methods=["POST"]),
        Route(base + "/cards/{card_token}/statement/export", export_statement, methods=["GET"]),
        Route(base + "/microloan/eligibility", microloan_eligibility, methods=["POST"]),
        Route(base + "/microloan/{loan_id}", get_microloan, methods=["GET"]),
        Route(base + "/fx/rates", fx_rates, methods=["GET"]),
    ]
    for path, stream, scope, parent_param in LIST_ROUTES:
        routes.append(
            Route(base + path, make_list_endpoint(base + path, stream, scope, parent_param), methods=["GET"])
        )
    return routes


__all__ = ["LIST_ROUTES", "Problem", "api_routes", "json_response"]
