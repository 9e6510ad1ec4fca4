"""The live objects one sandbox app serves from, shared by every route module."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request

from trastpay_sandbox.auth import AuthService, Principal
from trastpay_sandbox.faults import Faults
from trastpay_sandbox.options import SandboxOptions
from trastpay_sandbox.session_faults import SessionFaultState

if TYPE_CHECKING:
    from trastpay_sandbox.world import World


class Dispatcher(Protocol):
    """What the app needs from ``trastpay_sandbox.webhooks.WebhookDispatcher``."""

    def register(self, url: str, secret: str, *, customer_id: str | None = None) -> str: ...
    def rotate_secret(self, subscription_id: str, new_secret: str, grace_seconds: float = ...) -> None: ...
    def deliver(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> int: ...
    def replay(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> int: ...
    def close(self, timeout_s: float = ...) -> None: ...


@dataclass(slots=True)
class SandboxContext:
    world: World
    options: SandboxOptions
    auth: AuthService
    faults: Faults
    dispatcher: Dispatcher
    subscriptions: list[str] = field(default_factory=list)
    session_faults: SessionFaultState = field(default_factory=SessionFaultState)


def context_of(request: Request) -> SandboxContext:
    ctx: SandboxContext = request.app.state.sandbox
    return ctx


def principal_of(request: Request, scope: str) -> Principal:
    """Authenticate the caller of a data route for ``scope`` (401/403 problems otherwise)."""
    headers = request.headers
    return context_of(request).auth.authenticate(
        headers.get("authorization"), headers.get("x-device-id"), scope
    )
