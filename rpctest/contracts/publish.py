"""``rpctest contracts publish``: put a consumer's Pact files on a Pact Broker with Pact's own client.

rpctest does not reimplement the broker's publication API: ``pact broker publish`` (the ``pact``
command of pact-python-cli, in the ``rpctest[pact]`` extra) does it, with its retries, branches, tags
and build URLs. This command only checks the files first (Pact files, not rpctest's own contract
format, which a broker's Pact tools cannot read: export them as Pact files first), finds the ``pact``
command, and hands it the broker settings the way rpctest's other broker options take them, the
credentials through the environment so they never show in a process list.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from rpctest.exceptions import ConfigError

__all__ = ["register", "pact_command", "pact_files"]

#: seconds ``pact broker publish`` may take (it retries a busy broker itself)
PUBLISH_TIMEOUT = 300.0


def register(actions: Any) -> None:
    """Add the ``publish`` action to ``rpctest contracts``."""
    from rpctest.contracts.source_args import add_broker_credentials

    parser = actions.add_parser(
        "publish",
        help="publish Pact files to a Pact Broker (runs pact broker publish)",
        description=(
            "Publish the consumer's Pact files under PATHS to a Pact Broker for --consumer-app-version, with pact-python-cli's "
            "pact broker publish (pip install 'rpctest[pact]'). rpctest contract files are refused: export them as Pact files first."
        ),
        epilog="exit status: 0 published, 1 the broker or pact refused them, 2 usage error",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="Pact files or directories of them")
    parser.add_argument("--consumer-app-version", required=True, metavar="VERSION", help="the consumer's version (e.g. the git commit)")
    parser.add_argument("--branch", metavar="BRANCH", help="the consumer's branch")
    parser.add_argument("--tag", action="append", metavar="TAG", help="a tag for this version (repeatable)")
    parser.add_argument("--build-url", metavar="URL", help="the CI build that published them")
    add_broker_credentials(parser, url=True)
    parser.set_defaults(handler=run)


def pact_command() -> str:
    """The ``pact`` executable: beside this Python's (a virtualenv's bin), else on PATH."""
    import shutil

    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("pact", path=search)
    if found is None:
        raise ConfigError(
            "rpctest contracts publish runs Pact's own client, the pact command of pact-python-cli, which is not "
            "installed: pip install 'rpctest[pact]' (or pip install pact-python-cli)"
        )
    return found


def pact_files(paths: Sequence[str]) -> list[Path]:
    """The Pact files under ``paths``; anything else there is a usage error saying what to do."""
    import json

    from rpctest.contracts.format import iter_contract_files

    files = list(iter_contract_files(paths))
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"{path}: not a Pact file: cannot be read as JSON ({exc})") from None
        if _is_pact(data):
            continue
        if isinstance(data, dict) and "rpctest_contract" in data:
            raise ConfigError(
                f"{path}: an rpctest contract, not a Pact file; a broker's Pact tools read Pact files only: write them with "
                "rpctest contracts export --format pact (or pytest --rpctest-record --rpctest-format pact) and publish those"
            )
        raise ConfigError(f"{path}: not a Pact file (no consumer.name, provider.name and metadata.pactSpecification)")
    if not files:
        raise ConfigError(f"no Pact file (*.json) under {', '.join(paths)}")
    return files


def _is_pact(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    named = all(isinstance(data.get(side), dict) and isinstance(data[side].get("name"), str) for side in ("consumer", "provider"))
    metadata = data.get("metadata")
    return named and isinstance(metadata, dict) and isinstance(metadata.get("pactSpecification"), dict)


def run(args: argparse.Namespace) -> int:
    import subprocess

    from rpctest.contracts.broker import ENVIRONMENT, BrokerQuery, check_broker

    files = pact_files(args.paths)
    url = args.broker or os.environ.get(ENVIRONMENT["url"])
    if not url:
        raise ConfigError(f"rpctest contracts publish needs the broker's URL: give --broker URL or set {ENVIRONMENT['url']}")
    pact = pact_command()
    env = dict(os.environ)
    for key, value in (("token", args.broker_token), ("username", args.broker_username), ("password", args.broker_password)):
        if value:
            env[ENVIRONMENT[key]] = value
    check_broker(BrokerQuery(url=url.rstrip("/"), provider="", token=env.get(ENVIRONMENT["token"]) or None,
                             username=env.get(ENVIRONMENT["username"]) or None, password=env.get(ENVIRONMENT["password"]) or None))
    argv = [pact, "broker", "publish", *map(str, files), "--broker-base-url", url,
            "--consumer-app-version", args.consumer_app_version]
    if args.branch:
        argv += ["--branch", args.branch]
    for tag in args.tag or []:
        argv += ["--tag", tag]
    if args.build_url:
        argv += ["--build-url", args.build_url]
    print(f"rpctest: publishing {len(files)} Pact file(s) to {url} as version {args.consumer_app_version}", file=sys.stderr)
    try:
        done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, timeout=PUBLISH_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"pact broker publish took over {PUBLISH_TIMEOUT:.0f} s; is {url} reachable?") from None
    return 0 if done.returncode == 0 else 1
