"""What a verification of a broker's pacts tells the broker, and what the broker's answer changes in
the verification.

- **Pending pacts.** A broker marks a pact pending until some version of the provider has verified it
  (``--include-pending``): a new consumer expectation must not break the provider's build. Its errors
  are kept in the report, as warnings that say so.
- **Verification results.** ``can-i-deploy`` decides from the results providers publish. With
  ``--publish-verification-results``, each pact's result (``success``: no error-level finding in it)
  is POSTed to the pact's ``pb:publish-verification-results`` link, for ``--provider-app-version``.
  (Pact files verified by ``pact verifier`` through ``rpctest pact-relay`` publish through the
  verifier's own ``--publish`` instead.)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

from rpctest.contracts.broker import BrokerPact, BrokerQuery, post_json
from rpctest.exceptions import ConfigError

__all__ = ["outcomes", "keep_pending_pacts_from_failing", "publish_results"]

Pacts = Sequence[tuple[Path, BrokerPact]]


def outcomes(findings: Sequence[Any], pacts: Pacts) -> dict[Path, bool]:
    """Whether each pact (by the path its findings name) verified: no error-level finding in it."""
    from rpctest.contracts.verify import ERROR

    failed = {f.contract for f in findings if f.severity == ERROR}
    return {shown: shown not in failed for shown, _ in pacts}


def keep_pending_pacts_from_failing(findings: Sequence[Any], pacts: Pacts) -> int:
    """Turn the errors of pending pacts into warnings that say so; how many were turned."""
    from rpctest.contracts.verify import ERROR, WARNING

    pending = {shown for shown, pact in pacts if pact.pending}
    turned = 0
    for finding in findings:
        if finding.severity == ERROR and finding.contract in pending:
            finding.severity = WARNING
            finding.message += " (a pending pact: reported, does not fail the build)"
            turned += 1
    return turned


def publish_results(query: BrokerQuery, pacts: Pacts, results: dict[Path, bool], *, version: str,
                    branch: str | None = None) -> None:
    """POST each pact's verification result to the broker."""
    from rpctest._version import __version__

    for shown, pact in pacts:
        if pact.results_href is None:
            raise ConfigError(f"the broker gave no {'pb:publish-verification-results'} link with {pact.name}; "
                              "it cannot take verification results for it")
        body: dict[str, Any] = {"success": results[shown], "providerApplicationVersion": version,
                                "verifiedBy": {"implementation": "rpctest", "version": __version__}}
        if branch:
            body["providerVersionBranch"] = branch
        post_json(query, pact.results_href, body, what=f"the verification result of {pact.name}")
        print(f"rpctest: broker: published {'success' if results[shown] else 'failure'} of {pact.name} "
              f"for provider version {version}", file=sys.stderr)
