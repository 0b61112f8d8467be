"""``rpctest report``: the coverage picture of a project's contracts and of its last runs, as one
self-contained HTML file (:mod:`rpctest.report.html`). Registered with :func:`rpctest.cli.command`;
everything it needs is imported when it runs, so ``rpctest --help`` stays cheap."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rpctest.cli import EXIT_OK, command

__all__ = ["run_report"]


@command
def _register_report(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the error-code coverage of the contracts and the last runs' findings as one HTML file",
        description=(
            "For each operation of the provider contracts under PATHS: which consumers call it (with their test ids), "
            "which error codes consumers stub, which the provider declares, which the last fuzz run got and which the "
            "last live verification saw, as a coloured matrix; then the findings of the last contracts verify, fuzz, "
            "framing fuzz and contracts diff runs (each command keeps its last run in .rpctest/last/). One file, no "
            "server, nothing fetched."
        ),
        epilog="exit status: 0 written, 2 usage or configuration error (a bad contract or stored run), 3 internal error",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="contract files or directories (default: the contracts dir)")
    parser.add_argument("--html", required=True, metavar="OUT.html", help="write the report here (atomically)")
    parser.add_argument("--state-dir", metavar="DIR", help="where the last runs are kept (default: .rpctest in the project root)")
    parser.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rpctest import config
    from rpctest.contracts import format as fmt
    from rpctest.report.coverage import coverage
    from rpctest.report.html import render_html
    from rpctest.report.state import COMMANDS, load

    paths = [str(p) for p in (args.paths or [config.current().contracts_dir])]
    state = Path(args.state_dir) if args.state_dir else None
    runs = {name: load(name, state) for name in COMMANDS}
    cov = coverage(fmt.load_many(paths), runs)
    fmt.write_text_atomic(args.html, render_html(cov, sources=paths))
    operations = sum(len(service.operations) for service in cov.services)
    stored = [name for name, run in runs.items() if run is not None]
    missing = [name for name, run in runs.items() if run is None]
    print(f"rpctest: wrote the report of {operations} operation(s) of {len(cov.services)} provider contract(s) to {args.html}; "
          f"last runs: {', '.join(stored) or 'none'}" + (f" (none stored of {', '.join(missing)})" if missing else ""),
          file=sys.stderr)
    return EXIT_OK
