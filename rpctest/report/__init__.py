"""One report for every command that judges something: ``contracts verify``, ``contracts diff``,
``fuzz`` and the framing fuzz.

Each command turns its own result into the neutral :class:`RunReport` (cases, findings, a verdict),
and one renderer per format writes it: ``text`` for a terminal, ``json`` for scripts, ``junit`` for CI
test tabs, ``github`` for GitHub Actions annotations, ``markdown`` for ``$GITHUB_STEP_SUMMARY``. So a
format is written once, and JUnit XML and GitHub workflow commands are valid for any text a service
answers (:mod:`rpctest.report.escape`). ``rpctest report --html`` reads the runs each command stores
(:mod:`rpctest.report.state`) beside the contracts into one page (:mod:`rpctest.report.html`).
"""

from __future__ import annotations

from rpctest.report.model import Case, ReportFinding, RunReport
from rpctest.report.render import FORMATS, render, render_many

__all__ = ["Case", "ReportFinding", "RunReport", "FORMATS", "render", "render_many"]
