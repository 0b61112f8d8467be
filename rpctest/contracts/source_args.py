"""The command-line options that name where consumer contracts come from: one definition for
``contracts verify``, ``serve`` and ``contracts diff``, so the three read sources alike.

Imported while the parser is built (``rpctest --version`` too): nothing here imports more than
argparse needs; the broker client is imported only when a command runs.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:
    from rpctest.contracts.broker import BrokerQuery
    from rpctest.contracts.broker_results import Pacts

__all__ = ["SOURCES_HELP", "add_broker_options", "add_broker_credentials", "broker_query", "settle_broker_verification"]

#: how a contract path may be written, for the commands' help
SOURCES_HELP = "files or directories, git:REF:PATH (this repository) or git+URL@REF#PATH (another one)"


def add_broker_options(parser: argparse.ArgumentParser, *, results: bool = False) -> None:
    """``--broker`` and its company: consumer contracts from a Pact Broker's pacts for a provider
    (``results``: and the options that publish verification results, for verify)."""
    group = parser.add_argument_group(
        "consumer contracts from a Pact Broker",
        "the pacts the broker selects for --broker-provider, as Pact's verifier asks for them; the "
        "PACT_BROKER_BASE_URL, PACT_BROKER_TOKEN, PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD variables "
        "give what the options do not",
    )
    group.add_argument("--broker", metavar="URL", help="the broker's base URL (default: $PACT_BROKER_BASE_URL)")
    group.add_argument("--broker-provider", metavar="NAME", help="the provider's name in the broker's pacts")
    group.add_argument("--consumer-version-selectors", action="append", metavar="JSON",
                       help="which consumer versions (repeatable): a JSON object or list, e.g. '{\"mainBranch\": true}'")
    group.add_argument("--include-pending", action="store_true", help="ask for pending pacts too (their errors are reported as warnings)")
    group.add_argument("--provider-version-branch", metavar="BRANCH", help="the provider branch being verified (for pending pacts)")
    add_broker_credentials(group)
    if results:
        group.add_argument("--publish-verification-results", action="store_true",
                           help="send each pact's result to the broker (for can-i-deploy); needs --provider-app-version")
        group.add_argument("--provider-app-version", metavar="VERSION", help="the provider version verified (e.g. the git commit)")


def add_broker_credentials(parser: Any, *, url: bool = False) -> None:
    """How to log in to the broker (and, with ``url``, where it is): the pact CLI's names and variables."""
    if url:
        parser.add_argument("--broker", metavar="URL", help="the broker's base URL (default: $PACT_BROKER_BASE_URL)")
    parser.add_argument("--broker-token", metavar="TOKEN", help="a bearer token (default: $PACT_BROKER_TOKEN)")
    parser.add_argument("--broker-username", metavar="NAME", help="basic auth (default: $PACT_BROKER_USERNAME)")
    parser.add_argument("--broker-password", metavar="PASSWORD", help="basic auth (default: $PACT_BROKER_PASSWORD)")


def broker_query(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> "BrokerQuery | None":
    """The broker query the options (and the pact CLI's environment variables) ask for; None when
    no ``--broker-provider`` is given (a ``PACT_BROKER_BASE_URL`` alone asks for nothing)."""
    from rpctest.contracts.broker import ENVIRONMENT, BrokerQuery, parse_selectors
    from rpctest.exceptions import ConfigError

    env = os.environ if environ is None else environ
    if getattr(args, "publish_verification_results", False) and not (args.broker_provider and args.provider_app_version):
        raise ConfigError("--publish-verification-results sends the results of a broker's pacts: give --broker-provider NAME "
                          "and --provider-app-version VERSION")
    if not args.broker_provider:
        extra = [flag for flag, value in (("--broker", args.broker), ("--consumer-version-selectors", args.consumer_version_selectors),
                                          ("--include-pending", args.include_pending),
                                          ("--provider-version-branch", args.provider_version_branch)) if value]
        if extra:
            raise ConfigError(f"{', '.join(extra)} ask a Pact Broker for pacts: add --broker-provider NAME (the provider's name there)")
        return None
    url = args.broker or env.get(ENVIRONMENT["url"])
    if not url:
        raise ConfigError(f"--broker-provider needs the broker's URL: give --broker URL or set {ENVIRONMENT['url']}")
    return BrokerQuery(
        url=url.rstrip("/"),
        provider=args.broker_provider,
        selectors=parse_selectors(args.consumer_version_selectors),
        token=args.broker_token or env.get(ENVIRONMENT["token"]) or None,
        username=args.broker_username or env.get(ENVIRONMENT["username"]) or None,
        password=args.broker_password or env.get(ENVIRONMENT["password"]) or None,
        include_pending=args.include_pending,
        provider_branch=args.provider_version_branch,
    )


def settle_broker_verification(args: argparse.Namespace, query: "BrokerQuery | None", pacts: "Pacts", findings: "Sequence[Any]") -> None:
    """After verify: pending pacts' errors become warnings; with ``--publish-verification-results``,
    each pact's result goes to the broker (its real outcome, pending or not)."""
    if query is None:
        return
    from rpctest.contracts.broker_results import keep_pending_pacts_from_failing, outcomes, publish_results

    results = outcomes(findings, pacts)
    keep_pending_pacts_from_failing(findings, pacts)
    if args.publish_verification_results:
        publish_results(query, pacts, results, version=args.provider_app_version, branch=args.provider_version_branch)
