"""Build the sandbox ASGI app: the partner API, the ``/_sandbox`` hooks and the contract.

``create_app(world, options)`` wires one :class:`~trastpay_sandbox.world.World` to the routes,
the auth service, fault injection and webhook delivery. Every response carries ``X-Request-Id``;
every error is problem+json.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from trastpay_sandbox.auth import AuthService
from trastpay_sandbox.context import SandboxContext
from trastpay_sandbox.faults import Faults
from trastpay_sandbox.hostile_middleware import HostileMiddleware
from trastpay_sandbox.middleware import (
    API_PREFIX,
    FaultMiddleware,
    HookOriginGuard,
    RequestIdMiddleware,
    quiet_injected_resets,
)
from trastpay_sandbox.options import SandboxOptions
from trastpay_sandbox.problems import Problem
from trastpay_sandbox.routes_api import api_routes
from trastpay_sandbox.routes_hooks import hook_routes
from trastpay_sandbox.session_faults import SessionFaultMiddleware
from trastpay_sandbox.spec import spec_json_bytes, spec_yaml_bytes
from trastpay_sandbox.webhooks import WebhookDispatcher

if TYPE_CHECKING:
    from trastpay_sandbox.world import World

logger = logging.getLogger("trastpay_sandbox")


class SandboxApp(Starlette):
    """Starlette with the request-id and fault layers outside its own error middleware.

    Placing them outermost means even an unhandled-exception 500 carries ``X-Request-Id``, and an
    injected connection reset is not turned into a 500 by Starlette.
    """

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        ctx: SandboxContext = self.state.sandbox
        hostile = HostileMiddleware(inner, faults=ctx.faults)
        faulty = FaultMiddleware(hostile, faults=ctx.faults, auth=ctx.auth)
        session = SessionFaultMiddleware(
            faulty, faults=ctx.faults, state=ctx.session_faults, now=ctx.world.now
        )
        return RequestIdMiddleware(HookOriginGuard(session), now=ctx.world.now)


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response()


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return Problem(404, "not-found", f"no route {request.url.path}").response()
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        return Problem(
            405,
            "method-not-allowed",
            f"{request.method} is not allowed here; allowed: {allow}",
            headers={"Allow": allow},
        ).response()
    return Problem(400, "invalid-request", str(exc.detail)).response()


CLIENT_CLOSED_REQUEST = 499
"""The status recorded when the client hung up before its request body arrived (nginx's 499)."""


async def _client_gone_handler(request: Request, exc: Exception) -> Response:
    """The client closed the connection mid-body: nobody reads an answer, so log nothing, no 500.

    Starlette raises :class:`~starlette.requests.ClientDisconnect` from ``request.body()``; left
    to the catch-all handler it became a 500 plus a traceback in uvicorn's log for every client
    that gave up during a token refresh.
    """
    assert isinstance(exc, ClientDisconnect)
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def _unhandled_handler(request: Request, exc: Exception) -> Response:
    logger.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return Problem(500, "internal", "unexpected sandbox error; see the server log").response()


async def openapi_json(request: Request) -> Response:
    return Response(spec_json_bytes(), media_type="application/json")


async def openapi_yaml(request: Request) -> Response:
    return Response(spec_yaml_bytes(), media_type="application/yaml")


def all_routes() -> list[BaseRoute]:
    return [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/openapi.yaml", openapi_yaml, methods=["GET"]),
        *api_routes(API_PREFIX),
        *hook_routes(),
    ]


def create_app(world: World, options: SandboxOptions | None = None, *, dispatcher: Any = None) -> Starlette:
    """The sandbox app serving ``world``; ``dispatcher`` overrides the webhook dispatcher (tests)."""
    options = options or SandboxOptions()
    initial_faults = dict(options.faults)
    if options.rate_limit_per_token is not None:
        initial_faults.setdefault("per_token_rps", options.rate_limit_per_token)
    faults = Faults(initial_faults, seed=options.fault_seed)

    def find_customer(phone: str) -> str | None:
        customer = world.customer_by_phone(phone)
        return None if customer is None else str(customer.id)

    ctx = SandboxContext(
        world=world,
        options=options,
        auth=AuthService(options, find_customer),
        faults=faults,
        dispatcher=dispatcher if dispatcher is not None else WebhookDispatcher(),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        quiet_injected_resets()
        try:
            yield
        finally:
            ctx.dispatcher.close()

    app = SandboxApp(
        routes=all_routes(),
        exception_handlers={
            Problem: _problem_handler,
            ClientDisconnect: _client_gone_handler,
            HTTPException: _http_error_handler,
            Exception: _unhandled_handler,
        },
        lifespan=lifespan,
    )
    app.state.sandbox = ctx
    return app
