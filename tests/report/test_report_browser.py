"""``rpctest report --html`` in a real headless Chromium (issue 20 item 6): the page renders with no
console error and no failed request, shows its matrix (a screenshot that is not blank), and a page
of hostile names runs none of them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rpctest import cli
from report_html_helpers import HOSTILE_CONSUMER, HOSTILE_OPERATION, hostile_project

REPO = Path(__file__).resolve().parents[2]


def _open(page: Any, html: Path) -> tuple[list[str], list[str]]:
    """Load ``html`` and collect console errors, page errors, dialogs and requests that failed or left
    the file."""
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}") if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(html.as_uri(), wait_until="load", timeout=30_000)
    return problems, [url for url in requests if url != html.as_uri()]


def _variance(png: bytes) -> float:
    from PIL import Image, ImageStat

    with Image.open(io.BytesIO(png)) as image:
        return float(sum(ImageStat.Stat(image.convert("L")).var))


def test_the_repositorys_report_renders_without_errors(browser_page: Any, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    assert cli.main(["report", "--html", str(html), "--state-dir", str(tmp_path / "state"), str(REPO / "contracts")]) == 0
    problems, fetched = _open(browser_page, html)
    assert problems == [] and fetched == []
    assert browser_page.title() == "rpctest report"
    assert browser_page.locator("table.matrix").count() == 5
    body = browser_page.inner_text("body")
    assert "pysoa:users" in body and "get_user" in body and "No stored run" in body
    # the colours are applied: a declared code's cell is green
    colour = browser_page.locator("table.matrix td.ok").first.evaluate("cell => getComputedStyle(cell).backgroundColor")
    assert colour == "rgb(218, 251, 225)"
    shot = browser_page.screenshot(full_page=True)
    assert _variance(shot) > 100, "the screenshot is blank"


def test_hostile_names_do_not_run_in_the_browser(browser_page: Any, tmp_path: Path) -> None:
    contracts = hostile_project(tmp_path)
    html = tmp_path / "report.html"
    assert cli.main(["report", "--html", str(html), "--state-dir", str(tmp_path / "state"), str(contracts)]) == 0
    problems, fetched = _open(browser_page, html)
    assert problems == [] and fetched == []  # no alert() dialog, no image or frame fetched
    assert browser_page.evaluate("document.querySelectorAll('script, img, iframe').length") == 0
    body = browser_page.inner_text("body")
    assert HOSTILE_OPERATION in body and "alert('consumer')" in body and HOSTILE_CONSUMER.split("<script>")[0] in body
    assert _variance(browser_page.screenshot(full_page=True)) > 100
