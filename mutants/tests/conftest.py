"""Session-wide test set-up: hypothesis profiles and the reliability figures plugin."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# ----------------------------------------------------------------- reliability suite (issue 7)
# ``dev`` (the default) stays fast; ``ci`` (when CI is set, or HYPOTHESIS_PROFILE=ci) runs the
# step-order state machines for 2,000 derandomized examples of up to 40 steps each. Tests that
# pin their own ``max_examples`` (the snapshot fuzz, the store differential) keep their counts.
pytest_plugins = ["tests.summary"]

settings.register_profile(
    "dev",
    max_examples=100,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=2000,
    stateful_step_count=40,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
_profile = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(_profile)


def pytest_configure(config: pytest.Config) -> None:
    """Tell the figures plugin which hypothesis profile this session runs."""
    plugin = config.pluginmanager.get_plugin("tests.summary")
    if plugin is not None:
        plugin.PROFILE["name"] = _profile


@pytest.fixture(autouse=True, scope="session")
def _library_logs_enabled() -> Iterator[None]:
    """Enable the library's logger at DEBUG, so every log event is built and seen.

    The library is silent until its stdlib logger ``flowengine`` is enabled (see
    ``flowengine/_log.py``); the tests that scan or assert on events with
    ``structlog.testing.capture_logs()`` need every event, as an application would
    that turned the audit log on.
    """
    logger = logging.getLogger("flowengine")
    saved = logger.level
    logger.setLevel(logging.DEBUG)
    yield
    logger.setLevel(saved)
