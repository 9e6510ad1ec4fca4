"""A command whose extra is missing says which extra to install."""

from __future__ import annotations

import pytest

from trastpay.extras import require_extra


def test_given_installed_modules_when_required_then_nothing_happens() -> None:
    require_extra("singer", "json", "orjson", command="tap-trastpay")


def test_given_a_missing_module_when_required_then_the_error_names_the_extra_and_the_install() -> None:
    with pytest.raises(ModuleNotFoundError) as raised:
        require_extra("sandbox", "orjson", "no_such_module_xyz", command="trastpay-sandbox")

    message = str(raised.value)
    assert "trastpay-sandbox needs the 'sandbox' extra" in message
    assert "missing: no_such_module_xyz" in message
    assert "pip install 'trastpay-connectors[sandbox]'" in message
    assert raised.value.name == "no_such_module_xyz"
