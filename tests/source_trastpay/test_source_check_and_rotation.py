"""Hermetic tests of check and token rotation, with the core session replaced by a scripted fake."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from airbyte_cdk.models import Status, SyncMode, Type  # type: ignore[attr-defined]
from airbyte_cdk.test.catalog_builder import CatalogBuilder, ConfiguredAirbyteStreamBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets

import source_trastpay.source as source_module
from source_trastpay import SourceTrastpay
from trastpay.auth import TokenGrant
from trastpay.config import TrastpayConfig
from trastpay.errors import AuthError, ConnectionFailed, TrastpayError
from trastpay.session import Checkpoint, Partition
from trastpay.streams import StreamDef

LOGGER = logging.getLogger("test")
EXPIRY = datetime(2031, 1, 1, tzinfo=UTC)


class FakeSession:
    """Stands in for TrastpaySession: rotates once on first use, then plays scripted behaviour."""

    instances: ClassVar[list[FakeSession]] = []
    check_error: ClassVar[TrastpayError | None] = None
    read_error: ClassVar[TrastpayError | None] = None
    on_first_use: ClassVar[Callable[[], None] | None] = None
    passes_state_through = False  # never a backfill here

    def __init__(
        self, config: TrastpayConfig, on_rotate: Callable[[TokenGrant], None], clock: Any = None
    ) -> None:
        self.config = config
        self.on_rotate = on_rotate
        self.rotated_to: str | None = None
        self.grant: TokenGrant | None = None
        self.checked_without_rotation = False
        self.closed = False
        self.streams_read: list[str] = []
        FakeSession.instances.append(self)

    def _use(self) -> None:
        if self.rotated_to is None:
            self.rotated_to = f"rotated-{uuid.uuid4().hex}"
            self.grant = TokenGrant(self.rotated_to, f"access-{uuid.uuid4().hex}", EXPIRY)
            self.on_rotate(self.grant)
            if FakeSession.on_first_use is not None:
                FakeSession.on_first_use()

    def check(self) -> None:
        self._use()
        if FakeSession.check_error is not None:
            raise FakeSession.check_error

    def check_without_rotation(self) -> str:
        self.checked_without_rotation = True
        if FakeSession.check_error is not None:
            raise FakeSession.check_error
        return "introspect"

    def partitions(self, stream: StreamDef) -> Iterator[Partition]:
        self._use()
        self.streams_read.append(stream.name)
        if FakeSession.read_error is not None:
            raise FakeSession.read_error
        yield Partition(None, {})

    def read_ahead(self, stream: StreamDef, plan: Any) -> None:
        """Nothing to fetch ahead: the fake answers from memory."""

    def read_pages(self, stream: StreamDef, partition: Partition, cursor: str | None) -> Iterator[Any]:
        yield [{"card_token": "crd_a1", "pan_masked": "986018******0645"}]
        yield Checkpoint(None)

    def close(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def fake_session(monkeypatch: pytest.MonkeyPatch) -> type[FakeSession]:
    FakeSession.instances = []
    FakeSession.check_error = None
    FakeSession.read_error = None
    FakeSession.on_first_use = None
    monkeypatch.setattr(source_module, "TrastpaySession", FakeSession)
    return FakeSession


def _config(**overrides: Any) -> dict[str, Any]:
    config = {
        "base_url": "http://127.0.0.1:9/api/v1/trastpay",
        "client_id": "trastpay-connectors",
        "device_id": "unit-device",
        "refresh_token": f"original-{uuid.uuid4().hex}",
        "start_date": "2026-08-01",
    }
    config.update(overrides)
    return config


def _control_configs(stdout: str) -> list[dict[str, Any]]:
    configs = []
    for line in stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "CONTROL":
            assert message["control"]["type"] == "CONNECTOR_CONFIG"
            configs.append(message["control"]["connectorConfig"]["config"])
    return configs


def test_given_valid_login_when_checked_then_succeeded_and_session_closed() -> None:
    status = SourceTrastpay().check(LOGGER, _config())

    assert status.status == Status.SUCCEEDED
    assert FakeSession.instances[0].closed


@pytest.mark.parametrize(
    "error",
    [
        AuthError("The refresh token was issued to another device than device_id 'x' (device-mismatch)."),
        ConnectionFailed("Could not connect to http://127.0.0.1:9/api/v1/trastpay; check base_url."),
    ],
)
def test_given_core_error_when_checked_then_failed_with_the_core_message(error: TrastpayError) -> None:
    FakeSession.check_error = error

    status = SourceTrastpay().check(LOGGER, _config())

    assert status.status == Status.FAILED
    assert status.message == error.message
    assert FakeSession.instances[0].closed


def test_given_invalid_setting_when_checked_then_failed_naming_the_field_without_a_session() -> None:
    status = SourceTrastpay().check(LOGGER, _config(pii_mode="hash"))

    assert status.status == Status.FAILED
    assert status.message is not None
    assert "'pii_hash_key'" in status.message
    assert FakeSession.instances == []


def test_given_check_then_it_proves_the_login_without_rotating_and_publishes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = SourceTrastpay().check(LOGGER, _config())

    assert status.status == Status.SUCCEEDED
    assert FakeSession.instances[0].checked_without_rotation
    assert FakeSession.instances[0].rotated_to is None
    assert _control_configs(capsys.readouterr().out) == []


def test_given_rotation_when_reading_then_updated_config_with_access_token_is_on_stdout_before_use(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _config(page_size=100, consent_id="cns_1")
    seen_at_first_use: list[str] = []
    FakeSession.on_first_use = lambda: seen_at_first_use.append(capsys.readouterr().out)

    list(SourceTrastpay().read(LOGGER, config, _catalog("cards")))

    grant = FakeSession.instances[0].grant
    assert grant is not None
    published = _control_configs(seen_at_first_use[0])
    assert published == [
        {
            **config,
            "refresh_token": grant.refresh_token,
            "access_token": grant.access_token,
            "token_expiry_date": "2031-01-01T00:00:00Z",
        }
    ]


def test_given_rotated_token_when_logged_then_secret_filter_masks_it() -> None:
    list(SourceTrastpay().read(LOGGER, _config(), _catalog("cards")))
    grant = FakeSession.instances[0].grant
    assert grant is not None

    assert grant.refresh_token not in filter_secrets(f"refreshed with {grant.refresh_token}")
    assert grant.access_token not in filter_secrets(f"bearer {grant.access_token}")


def test_given_token_rotated_in_this_process_when_stale_config_is_reused_then_successor_is_used(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stale = _config()
    list(SourceTrastpay().read(LOGGER, stale, _catalog("cards")))
    grant = FakeSession.instances[0].grant
    assert grant is not None
    capsys.readouterr()

    SourceTrastpay().check(LOGGER, stale)

    assert FakeSession.instances[1].config.refresh_token == grant.refresh_token
    assert FakeSession.instances[1].config.access_token == grant.access_token
    republished = _control_configs(capsys.readouterr().out)
    assert republished[0]["refresh_token"] == grant.refresh_token


def _catalog(*names: str) -> Any:
    builder = CatalogBuilder()
    for name in names:
        builder.with_stream(
            ConfiguredAirbyteStreamBuilder().with_name(name).with_sync_mode(SyncMode.full_refresh)
        )
    return builder.build()


def test_given_refused_credentials_when_reading_then_sync_stops_after_the_first_stream() -> None:
    FakeSession.read_error = AuthError("Trastpay refused the refresh token (401 unauthorized).")

    output = read(SourceTrastpay(), _config(), _catalog("cards", "transfers", "events"))

    assert FakeSession.instances[0].streams_read == ["cards"]
    assert output.errors
    assert output.errors[0].trace is not None
    assert output.errors[0].trace.error is not None
    assert output.errors[0].trace.error.message == "Trastpay refused the refresh token (401 unauthorized)."


def test_given_read_when_streams_share_a_sync_then_one_session_serves_all_and_is_closed() -> None:
    output = read(SourceTrastpay(), _config(), _catalog("cards", "transfers"))

    assert not output.errors
    assert len(FakeSession.instances) == 1
    assert FakeSession.instances[0].streams_read == ["cards", "transfers"]
    assert FakeSession.instances[0].closed
    assert [m.type for m in output.records_and_state_messages].count(Type.RECORD) == 2


def test_given_invalid_config_when_reading_then_config_error_names_the_field() -> None:
    output = read(SourceTrastpay(), _config(start_date="2099-01-01"), _catalog("cards"))

    assert output.errors
    error = output.errors[0].trace.error  # type: ignore[union-attr]
    assert error is not None
    assert error.failure_type.value == "config_error"
    assert error.message == "Invalid config field 'start_date': is in the future"
