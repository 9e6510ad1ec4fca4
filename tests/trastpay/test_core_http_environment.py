"""The requestor reads the environment's proxy and CA settings once, for the API's own URL."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from trastpay.http import Requestor

API = "https://api.bank.example/api/v1/trastpay"


def test_given_proxy_and_ca_bundle_in_the_environment_when_built_then_the_session_uses_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
    session = Requestor(API).session
    assert session.proxies["https"] == "http://proxy.example:3128"
    assert session.verify == "/etc/ssl/company.pem"
    assert session.trust_env is False  # not re-read on every request


def test_given_the_api_host_in_no_proxy_when_built_then_no_proxy_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "api.bank.example")
    assert "https" not in Requestor(API).session.proxies


def test_given_a_netrc_entry_for_the_api_host_when_preparing_a_request_then_no_basic_auth_is_added(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine api.bank.example login someone password secret\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    session = Requestor(API).session
    prepared = session.prepare_request(
        requests.Request("GET", API + "/cards", headers={"Authorization": "Bearer at_1"})
    )
    assert prepared.headers["Authorization"] == "Bearer at_1"
