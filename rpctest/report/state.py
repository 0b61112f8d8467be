"""The last run of each judging command, kept in the project's state directory for ``rpctest report``.

``contracts verify``, ``contracts diff``, ``fuzz`` and the framing fuzz each store their
:class:`~rpctest.report.RunReport` as JSON in ``.rpctest/last/<command>.json`` under the project root
(beside ``.rpctest/replays``; ``RPCTEST_STATE_DIR`` names another directory), so ``rpctest report
--html`` can show the findings and the error codes each run saw without running anything again.
Storing is best effort: a directory that cannot be written costs a warning, never the command's
verdict.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from rpctest.report.model import SCHEMA_VERSION, RunReport

__all__ = ["COMMANDS", "state_dir", "store", "load", "StoredRun"]

#: the commands whose last run is kept, in the order the HTML report shows them
COMMANDS = ("verify", "fuzz", "framing", "diff")
#: names the state directory instead of ``.rpctest`` under the project root
ENV = "RPCTEST_STATE_DIR"

StoredRun = dict[str, Any]


def state_dir() -> Path:
    """``$RPCTEST_STATE_DIR``, else ``.rpctest`` in the project root (the directory of the
    configuration file in force, or the working directory)."""
    configured = os.environ.get(ENV)
    if configured:
        return Path(configured).expanduser()
    from rpctest import config

    return config.current().root / ".rpctest"


def _path(command: str, directory: Path | None) -> Path:
    return (directory if directory is not None else state_dir()) / "last" / f"{command}.json"


def store(run: RunReport, directory: Path | None = None) -> Path | None:
    """Write ``run`` as the last run of its command; None (and a warning on stderr) if it cannot."""
    import datetime

    from rpctest.contracts.format import write_text_atomic
    from rpctest.credentials import redact

    from rpctest.exceptions import RpctestError

    try:
        path = _path(run.command, directory)
    except RpctestError as exc:  # a broken [tool.rpctest] table is the command's to report, if it needs one
        print(f"rpctest: warning: could not keep this run for rpctest report: {exc}", file=sys.stderr)
        return None
    data = run.to_dict()
    data["stored_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    try:
        # masked as everything a command prints is: a service may echo a token into an error message
        return write_text_atomic(path, redact(json.dumps(data, indent=2, sort_keys=True, default=repr)) + "\n")
    except OSError as exc:
        print(f"rpctest: warning: could not keep this run for rpctest report in {path}: {exc.strerror or exc}", file=sys.stderr)
        return None


def load(command: str, directory: Path | None = None) -> StoredRun | None:
    """The stored last run of ``command`` (its JSON), or None when there is none. A file that is not
    a stored run of this version is a ConfigError naming it and what to do."""
    path = _path(command, directory)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        from rpctest.exceptions import ConfigError

        raise ConfigError(f"{path}: cannot read the last {command} run: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        data, problem = None, f"not JSON ({exc})"
    else:
        problem = "" if isinstance(data, dict) and data.get("rpctest_report") == SCHEMA_VERSION else (
            f"not a stored rpctest run of version {SCHEMA_VERSION}")
    if problem:
        from rpctest.exceptions import ConfigError

        raise ConfigError(f"{path}: {problem}; delete it, or run the command again to replace it")
    assert isinstance(data, dict)
    return data
