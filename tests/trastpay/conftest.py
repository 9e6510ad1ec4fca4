"""Fixtures shared by the core's hermetic tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from .builders import REFRESH_URL, token_answer


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """Mocked API answers; the token refresh always succeeds (unused answers are allowed)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(REFRESH_URL, json=token_answer(1))
        yield mock
