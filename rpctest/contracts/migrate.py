"""``rpctest contracts migrate``: rewrite contract files of an older format version as the current one.

Reading never needs it: every version in :data:`~rpctest.contracts.format.READABLE_VERSIONS` loads,
and the next recording or export that writes a file writes the current version. Migrating rewrites
the files a project keeps in git in one reviewable commit, instead of as a side effect of whichever
run writes them next; ``--check`` tells CI whether any file still waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from rpctest.contracts.format import FORMAT_VERSION, iter_contract_files, load, loads, write

__all__ = ["Migration", "migrate"]


@dataclass
class Migration:
    """What a migration found: the files it rewrote (or, with ``check``, would rewrite) and those
    already current."""

    changed: list[tuple[Path, int]] = field(default_factory=list)
    current: list[Path] = field(default_factory=list)

    def summary(self, check: bool) -> str:
        verb = "would migrate" if check else "migrated"
        return (
            f"rpctest contracts migrate: {verb} {len(self.changed)} file(s) to format {FORMAT_VERSION}; "
            f"{len(self.current)} already current"
        )


def migrate(paths: Iterable[Path | str], *, check: bool = False) -> Migration:
    """Rewrite every contract file under ``paths`` whose format is older than the current one.

    Each file is read (and so checked) completely before it is rewritten, atomically; a file that
    cannot be read stops the migration with a :class:`~rpctest.contracts.format.ContractError`
    naming it. ``check`` rewrites nothing.
    """
    result = Migration()
    for path in iter_contract_files(paths):
        contract = load(path)
        # a Pact file has no rpctest format version: it is read as it is, and never rewritten
        version = loads(path.read_text(encoding="utf-8"), path).get("rpctest_contract", FORMAT_VERSION)
        if version == FORMAT_VERSION:
            result.current.append(path)
            continue
        if not check:
            write(contract, path)
        result.changed.append((path, version))
    return result
