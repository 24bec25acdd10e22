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


# --- secret scan of CLI output --------------------------------------------------------------
# tests/cli_support.run_cli keeps the stdout, stderr and log file of every CLI run; at the end
# of the session the whole collection is searched for the two test API keys.


@pytest.fixture(scope="session")
def cli_outputs() -> list[tuple[str, str]]:
    """Return the (label, text) pairs of every CLI output recorded so far in this session."""
    from tests.cli_support import CLI_OUTPUTS

    return CLI_OUTPUTS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when any recorded CLI output contains a test API key."""
    from tests.cli_support import CLI_OUTPUTS, SECRETS

    leaks = [label for label, text in CLI_OUTPUTS if any(secret in text for secret in SECRETS)]
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"API key found in the output of: {'; '.join(leaks[:5])}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
