"""The ``rpctest`` command line.

Exit codes (DESIGN.md, "Configuration and CLI"): 0 pass, 1 findings, 2 usage or configuration error,
3 internal error. :func:`main` returns them instead of raising, so it can be called in-process.

Each subcommand is one registration function decorated with :func:`command`: it adds its parser and
sets ``handler`` to a function ``(args) -> exit code``. Handlers import what they need when they run,
so ``rpctest --help`` never pays for the doctor, jsonschema or any stack library.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Sequence

from rpctest._version import __version__

__all__ = ["main", "build_parser", "command", "EXIT_OK", "EXIT_FINDINGS", "EXIT_USAGE", "EXIT_INTERNAL"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

Handler = Callable[[argparse.Namespace], int]
Registrar = Callable[[Any], None]  # receives the subparsers object of ``build_parser``

_COMMANDS: list[Registrar] = []

_EPILOG = "exit status: 0 ok, 1 findings, 2 usage or configuration error, 3 internal error"


def command(register: Registrar) -> Registrar:
    """Register a subcommand: ``register(subparsers)`` adds a parser with ``handler`` set."""
    _COMMANDS.append(register)
    return register


# --------------------------------------------------------------------------------------------------
# subcommands


@command
def _register_doctor(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="show which stacks are usable here and how to fix bad installs",
        description=(
            "Report rpctest's environment and, for each stack, whether it is usable, missing or "
            "broken, with the fix for each known bad install."
        ),
        epilog="exit status: 0 when every installed stack is usable, 1 when one is broken",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=_run_doctor)


def _run_doctor(args: argparse.Namespace) -> int:
    import json

    from rpctest import doctor

    reports = doctor.diagnose()
    if args.json:
        print(json.dumps(doctor.to_json(reports), indent=2))
    else:
        sys.stdout.write(doctor.render(reports))
    return EXIT_FINDINGS if doctor.has_errors(reports) else EXIT_OK


# --------------------------------------------------------------------------------------------------
# the entry point


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="rpctest",
        description="Testing and contract verification for RPC services.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rpctest {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in _COMMANDS:
        register(subparsers)
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | int:
    """Parsed arguments, or the exit code argparse asked for (--help, --version, usage errors)."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or EXIT_OK
        print(exc.code, file=sys.stderr)
        return EXIT_USAGE


def _silence_stdout() -> None:
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parsed = _parse(argv)
    if isinstance(parsed, int):
        return parsed
    from rpctest.exceptions import RpctestError

    try:
        return parsed.handler(parsed)
    except RpctestError as exc:
        print(f"rpctest: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("rpctest: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``rpctest doctor | head``): not rpctest's failure, and Python
        # would otherwise complain again when it flushes stdout at exit
        _silence_stdout()
        return EXIT_FINDINGS
    except Exception as exc:  # the last line of defence: always exit 3, never a bare traceback
        import traceback

        traceback.print_exc()
        print(f"rpctest: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(
            "rpctest: this is a bug in rpctest; please report it with the traceback above "
            "and the output of `rpctest doctor`",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
