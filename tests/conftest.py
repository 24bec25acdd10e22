"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.easycron_server import FakeEasyCron


@pytest.fixture
def easycron_server() -> Iterator[FakeEasyCron]:
    """Yield a fake EasyCron API v1 on 127.0.0.1 (free port); ``.url`` and ``.api_key`` reach it."""
    server = FakeEasyCron()
    server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        server.stop()
