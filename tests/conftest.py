"""Shared test configuration: pytester for the tests that run pytest itself in a subprocess."""

pytest_plugins = ["pytester"]
