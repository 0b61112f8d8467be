"""Fixtures of the browser tests: a real headless Chromium from the operating system's packages,
driven by Playwright (which downloads no browser here). Without one the tests skip and say why;
``RPCTEST_REQUIRE_BROWSER=1`` (CI, which installs chromium) makes that a failure."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

#: what Chromium needs to run headless as root in a container, and to stay off the network
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def _unavailable() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (the report nox session installs it)"
    if _chromium() is None:
        return "no chromium on PATH (apt-get install chromium; .ci/run does)"
    return None


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    """A page of a fresh headless Chromium (its own user-data dir), closed after the test."""
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("RPCTEST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"RPCTEST_REQUIRE_BROWSER=1, but no browser test can run: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
