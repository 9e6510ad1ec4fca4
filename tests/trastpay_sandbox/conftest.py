"""Builders for sandbox tests: a small seeded world, an in-process client, a logged-in caller."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from trastpay_sandbox.app import create_app
from trastpay_sandbox.options import SandboxOptions
from trastpay_sandbox.world import SandboxSettings, World

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

API = "/api/v1/trastpay"


@dataclass
class Caller:
    """A logged-in customer of an in-process sandbox."""

    client: TestClient
    phone: str
    customer_id: str
    tokens: dict[str, Any]
    device_id: str = "dev-test"
    client_id: str = "trastpay-connectors"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}", "X-Device-Id": self.device_id}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(API + path, params=params, headers=self.headers)

    def statement(self, **body: Any) -> Any:
        return self.client.post(API + "/statement", json=body, headers=self.headers)

    def refresh(self, refresh_token: str | None = None, **overrides: Any) -> Any:
        body = {
            "refresh_token": refresh_token or self.tokens["refresh_token"],
            "client_id": self.client_id,
            "device_id": self.device_id,
            **overrides,
        }
        return self.client.post(API + "/auth/refresh", json=body)


def login(
    client: TestClient,
    phone: str,
    *,
    device_id: str = "dev-test",
    scopes: list[str] | None = None,
    client_id: str = "trastpay-connectors",
) -> dict[str, Any]:
    assert client.post(API + "/auth/otp", json={"phone": phone}).status_code == 202
    otp = client.get("/_sandbox/otp", params={"phone": phone}).json()["otp"]
    body: dict[str, Any] = {"phone": phone, "otp": otp, "device_id": device_id, "client_id": client_id}
    if scopes is not None:
        body["scopes"] = scopes
    response = client.post(API + "/auth/login", json=body)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


@pytest.fixture(scope="session")
def world_settings() -> SandboxSettings:
    return SandboxSettings(seed=42, customers=3, history_days=60)


@pytest.fixture
def make_client(world_settings: SandboxSettings) -> Iterator[Callable[..., TestClient]]:
    """Build a fresh world + app per call (the clock moves in some tests), closed at teardown."""
    clients: list[TestClient] = []

    def build(options: SandboxOptions | None = None, settings: SandboxSettings | None = None) -> TestClient:
        app = create_app(World(settings or world_settings), options or SandboxOptions())
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def make_caller(make_client: Callable[..., TestClient]) -> Callable[..., Caller]:
    def build(
        options: SandboxOptions | None = None,
        *,
        customer_index: int = 0,
        client: TestClient | None = None,
        **login_kwargs: Any,
    ) -> Caller:
        test_client = client or make_client(options)
        customer = test_client.get("/_sandbox/customers").json()[customer_index]
        tokens = login(test_client, customer["phone"], **login_kwargs)
        device = login_kwargs.get("device_id", "dev-test")
        return Caller(test_client, customer["phone"], customer["id"], tokens, device_id=device)

    return build


@pytest.fixture
def caller(make_caller: Callable[..., Caller]) -> Caller:
    return make_caller()


@pytest.fixture
def rich_caller(make_client: Callable[..., TestClient], make_caller: Callable[..., Caller]) -> Caller:
    """A customer with 400 days of history: loans, instalment plans, deposits and virtual cards."""
    client = make_client(settings=SandboxSettings(seed=42, customers=1, history_days=400))
    return make_caller(client=client)


def _problem_of(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture
def problem_of() -> Callable[[Any], dict[str, Any]]:
    """The problem document of an error answer, after checking its media type."""
    return _problem_of


@pytest.fixture
def slug_of() -> Callable[[Any], str]:
    """The problem slug (last segment of ``type``) of an error answer."""
    return lambda response: str(_problem_of(response)["type"]).rsplit("/", 1)[-1]
