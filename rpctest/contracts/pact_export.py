"""``rpctest contracts export --format pact``: consumer contracts written as Pact V4 files.

Without ``--format pact``, ``contracts export`` writes a *provider's* schema; a Pact file is a
*consumer's* contract, so this mode reads recorded consumer contracts instead (``--consumers``, default
the configured contracts directory's ``consumers/``) and writes one Pact file per consumer and
provider service into ``--output`` (default ``pacts/``, where Pact's own tools put them), under Pact's
file name ``CONSUMER-PROVIDER.json``; an ``--output`` ending in ``.json`` is the file of the one contract. Every file is checked before any is written: it must pass the
V4 schema, Pact's own parser (where ``rpctest[pact]`` is installed) and read back as the contract it
came from.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from rpctest.contracts import pact_ffi_check
from rpctest.contracts.format import ConsumerContract, ContractError, load_many, write_text_atomic
from rpctest.contracts.pact import dumps, from_pact, pact_file_name, schema_problem, to_pact
from rpctest.exceptions import ConfigError

__all__ = ["export_pacts", "pact_texts", "run"]

DEFAULT_OUTPUT = "pacts"


def pact_texts(contracts: Sequence[ConsumerContract], *, exact: bool = False) -> dict[str, str]:
    """File name -> Pact file text for each consumer contract, each checked (schema, read-back)."""
    texts: dict[str, str] = {}
    owners: dict[str, ConsumerContract] = {}
    for contract in contracts:
        name = pact_file_name(contract)
        other = owners.get(name.casefold())
        if other is not None:
            raise ContractError(
                contract.path,
                f"consumer {contract.consumer!r} has contracts with service {other.service!r} on stack {other.stack!r} and "
                f"{contract.service!r} on {contract.stack!r}, and a Pact file is one per consumer and provider name "
                f"({name}): rename one of the services",
            )
        owners[name.casefold()] = contract
        document = to_pact(contract, exact=exact)
        problem = schema_problem(document)
        if problem is not None:  # a bug in the export: say so rather than write a file Pact refuses
            raise ContractError(contract.path, f"the Pact export is {problem}")
        text = dumps(document)
        if pact_ffi_check.available():  # with rpctest[pact]: Pact's own parser must read it too
            problem = pact_ffi_check.ffi_problem(text)
            if problem is not None:
                raise ContractError(contract.path, f"the Pact export: {problem}")
        back = from_pact(document, source=name)
        if back.to_dict() != contract.to_dict():
            raise ContractError(contract.path, "the Pact export would not read back as this contract (a bug in rpctest)")
        texts[name] = text
    return texts


def export_pacts(paths: Sequence[Path | str], output: Path | str, *, exact: bool = False) -> list[Path]:
    """Write the consumer contracts under ``paths`` as Pact V4 files into ``output``; the paths written."""
    contracts = [c for c in load_many(paths) if isinstance(c, ConsumerContract)]
    if not contracts:
        raise ConfigError(f"no consumer contracts under {', '.join(map(str, paths))}: record some first (pytest --rpctest-record)")
    texts = pact_texts(contracts, exact=exact)  # all checked before the first write
    target = Path(output)
    if target.suffix == ".json" and not target.is_dir():  # one file named by the user
        if len(texts) != 1:
            raise ConfigError(
                f"{output} names one file, and {len(texts)} consumer contracts were found ({', '.join(sorted(texts))}): "
                f"give a directory with -o, or one contract with --consumers"
            )
        return [write_text_atomic(target, next(iter(texts.values())))]
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{output} is a file; -o takes a directory for the Pact files (or a .json file for one contract)")
    return [write_text_atomic(target / name, text) for name, text in sorted(texts.items())]


def run(args: argparse.Namespace) -> int:
    """The command's handler (registered by ``rpctest.cli``'s ``contracts export``)."""
    from rpctest import config

    if args.provider or args.address:
        raise ConfigError(
            "--format pact exports consumer contracts (--consumers DIR), not a provider's schema: drop "
            "--provider/--address, or export the provider contract with --format contract"
        )
    paths = args.consumers or [config.current().contracts_dir / "consumers"]
    written = export_pacts(paths, args.output or DEFAULT_OUTPUT, exact=args.exact)
    for path in written:
        print(f"rpctest: wrote {path}", file=sys.stderr)
    print(f"rpctest: exported {len(written)} consumer contract(s) as Pact V4 files to {args.output or DEFAULT_OUTPUT}", file=sys.stderr)
    return 0
