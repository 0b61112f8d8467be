"""The suite's own Hypothesis profile: a loaded machine may make a test slow, never make it fail."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings


def test_the_profile_in_force_has_no_deadline_and_no_speed_health_check(pytestconfig: pytest.Config) -> None:
    if pytestconfig.getoption("hypothesis_profile", None):
        pytest.skip("a profile was chosen with --hypothesis-profile: the suite leaves it alone")
    current = settings()
    assert current.deadline is None
    assert HealthCheck.too_slow in current.suppress_health_check


def test_a_settings_decorator_without_its_own_checks_keeps_the_profiles(pytestconfig: pytest.Config) -> None:
    if pytestconfig.getoption("hypothesis_profile", None):
        pytest.skip("a profile was chosen with --hypothesis-profile: the suite leaves it alone")
    derived = settings(max_examples=5)  # what @settings(max_examples=5) builds on
    assert derived.deadline is None and HealthCheck.too_slow in derived.suppress_health_check
