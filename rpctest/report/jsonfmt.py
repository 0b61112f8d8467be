"""The JSON report, for scripts: :meth:`RunReport.to_dict` (the command's own keys and the neutral
ones), the same document ``rpctest report --html`` reads back from the state directory."""

from __future__ import annotations

import json

from rpctest.report.model import RunReport

__all__ = ["render_json"]


def render_json(report: RunReport) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=True, default=repr) + "\n"
