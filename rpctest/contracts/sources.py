"""Where contracts come from: the one resolver behind ``verify``, ``serve`` and ``diff``.

Consumer and provider live in different repositories, so a command's contract paths may name:

- a file or directory (as always);
- ``git:REF:PATH``: a file or directory at a revision of the repository the command runs in;
- ``git+URL@REF#PATH``: a file or directory at a branch, tag or commit of another repository,
  fetched with git into the user's cache (``gitsource``);
- a Pact Broker (``--broker URL --broker-provider NAME``): the pacts it selects for the provider,
  fetched through its HTTP API into a directory of their own (``broker``).

Each resolves to files on disk that ``format.load_many`` reads like any other, so the loader's
checks (and whatever formats it recognises) apply to all of them alike. A contract read from a
repository is labelled with its path in that repository, as ``git:REF:PATH`` always was for diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from rpctest.contracts.broker import BrokerPact, BrokerQuery
    from rpctest.contracts.format import Contract

__all__ = ["cache_dir", "local_path", "load_sources", "is_source"]


def cache_dir() -> Path:
    """rpctest's cache: ``RPCTEST_CACHE_DIR``, else ``$XDG_CACHE_HOME/rpctest``, else ``~/.cache/rpctest``."""
    configured = os.environ.get("RPCTEST_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rpctest"


def is_source(spec: str | Path) -> bool:
    """Whether ``spec`` names a revision rather than a path of the working tree (a ``Path`` never does)."""
    return isinstance(spec, str) and spec.startswith(("git:", "git+"))


def local_path(spec: str | Path, *, cwd: Path | str | None = None) -> tuple[Path, Path | None]:
    """``(where the files are on disk, the path to show for them)`` of one source; the second is None
    for a plain path (shown as it is)."""
    from rpctest.contracts.gitsource import materialise, parse_git_spec

    if not is_source(spec):
        return Path(spec), None
    git = parse_git_spec(str(spec))
    if git is None:
        return Path(spec), None
    return materialise(git, cache_dir(), cwd=cwd), Path(git.path)


def load_sources(specs: Sequence[str | Path], *, broker: "BrokerQuery | None" = None, cwd: Path | str | None = None,
                 pacts: "list[tuple[Path, BrokerPact]] | None" = None) -> list["Contract"]:
    """Every contract the sources name, in order (the broker's pacts last). ``pacts``, when given,
    receives each broker pact with the path its contract is shown under (for pending pacts and
    verification results)."""
    from rpctest.contracts.format import gc_paused

    contracts: list[Contract] = []
    with gc_paused():
        for spec in specs:
            local, shown = local_path(spec, cwd=cwd)
            contracts.extend(_loaded(local, shown, f" (from {_redacted(spec)})" if shown is not None else ""))
        if broker is not None:
            from rpctest.contracts.broker import fetch_pacts

            shown = Path(broker.label)
            with fetch_pacts(broker, cache_dir()) as (directory, fetched):
                contracts.extend(_loaded(directory, shown, f" (a pact from the broker at {broker.url})"))
            if pacts is not None:
                pacts.extend((shown / pact.file_name, pact) for pact in fetched)
    return contracts


def _loaded(local: Path, shown: Path | None, origin: str) -> list["Contract"]:
    """The contracts under ``local``, each labelled (and any file refused named) with its path in the
    source it came from rather than the cache's copy."""
    from rpctest.contracts.format import ContractError, load_many

    try:
        contracts = load_many([local])
    except ContractError as exc:
        if shown is None or exc.path is None:
            raise
        raise ContractError(_shown(exc.path, local, shown), exc.problem + origin) from None
    if shown is not None:
        for contract in contracts:
            if contract.path is not None:
                contract.path = _shown(contract.path, local, shown)
    return contracts


def _shown(path: Path, local: Path, shown: Path) -> Path:
    try:
        relative = path.relative_to(local)
    except ValueError:
        return path
    return shown / relative if str(relative) != "." else shown


def _redacted(spec: str | Path) -> str:
    from rpctest.contracts.gitsource import redact

    return redact(str(spec))
