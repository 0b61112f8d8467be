"""Recording consumer contracts from the stubs a test suite already has.

The stub router tells its listeners about every stubbed interaction; a :class:`Recorder` listens,
groups what it hears by (stack, service) and writes one consumer contract per provider service.
The state travels as JSON text, so pytest-xdist workers can hand their recordings to the controller
(``workeroutput``) and nothing recorded on a worker is lost.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Callable

from rpctest.contracts.format import (
    ConsumerContract,
    ContractError,
    RecordedInteraction,
    check_name,
    dump,
    load,
    loads,
    parse,
    printable,
)
from rpctest.model import Call, Interaction, Reply
from rpctest.stubs.copying import copy_body
from rpctest.stubs.router import StubRouter, router as default_router
from rpctest.stubs.states import states_of

__all__ = ["Recorder", "observe"]


class Recorder:
    """Collects interactions for one consumer; thread-safe (stub servers answer on their own threads)."""

    def __init__(self, consumer: str, *, router: StubRouter | None = None) -> None:
        self.consumer = consumer
        self.router = router or default_router
        #: the test whose interactions are being heard (set by the pytest plugin around each test)
        self.current_test: str | None = None
        self._lock = threading.Lock()
        self._contracts: dict[tuple[str, str], ConsumerContract] = {}
        self._stop: Callable[[], None] | None = None
        #: the files an interrupted earlier recording had decided, which :meth:`write` completed first
        self.recovered: list[Path] = []

    # listening ---------------------------------------------------------------------------------

    def start(self) -> "Recorder":
        if self._stop is None:
            self._stop = self.router.add_listener(self.hear)
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None

    def hear(self, interaction: Interaction) -> None:
        """Record one interaction (the router's listener).

        The reply is kept as what it is: a stream keeps its items (a pykern subscription, an AsyncAPY
        multi-frame reply), and the reply options the stack's adapter names (Kyoukai's status and
        headers) stay with it, so that ``rpctest serve`` and live verification replay it alike.
        """
        call, reply = interaction.call, interaction.reply
        copied = Interaction(
            call=Call(call.stack, call.service, call.operation, copy_body(call.body), attachment=call.attachment),
            reply=Reply(
                body=copy_body(reply.body),
                errors=reply.errors,
                job_errors=reply.job_errors,
                attachment=reply.attachment,
                items=[copy_body(item) for item in reply.items] if reply.items is not None else None,
                meta=copy_body(_recorded_meta(call.stack, reply)),
            ),
            source=interaction.source,
            states=states_of(interaction.states),  # the stub's states, then the test's
            matchers=interaction.matchers,
        )
        item = RecordedInteraction.from_interaction(copied, self.current_test)
        with self._lock:
            self._contract(call.stack, call.service).add(item)

    def _contract(self, stack: str, service: str) -> ConsumerContract:
        key = (stack, service)
        if key not in self._contracts:
            self._contracts[key] = ConsumerContract(self.consumer, stack, service)
        return self._contracts[key]

    # results -----------------------------------------------------------------------------------

    def contracts(self) -> list[ConsumerContract]:
        """One deduplicated contract per provider service, sorted by stack and service."""
        with self._lock:
            return [self._contracts[key].deduplicated() for key in sorted(self._contracts)]

    @property
    def interaction_count(self) -> int:
        return sum(len(contract.interactions) for contract in self.contracts())

    def export_state(self) -> str:
        """Everything recorded, as JSON text (what an xdist worker sends to the controller)."""
        return json.dumps([contract.to_dict() for contract in self.contracts()])

    def absorb(self, state: str) -> None:
        """Add another recorder's :meth:`export_state` (a worker's) to this one."""
        for data in json.loads(state):
            contract = ConsumerContract.from_dict(data)
            with self._lock:
                target = self._contract(contract.stack, contract.service)
                target.interactions.extend(contract.interactions)

    def write(self, directory: Path | str, *, mode: str = "replace", format: str = "rpctest") -> list[Path]:  # noqa: A002
        """Write each contract under ``directory``; ``merge`` keeps what an existing file holds.

        Everything is checked before any file is touched: every name (a file must be able to hold it),
        that no two contracts share a file, every file's text (it must read back as written), and in
        merge mode every existing file (a corrupt one is named and kept). A problem raises a
        :class:`ContractError` that says which name or file and why, and nothing is written.

        Two runs recording into one directory at once take turns: each holds the directory's
        recording lock from its first read to its last write (:mod:`rpctest.contracts.fileset`), so
        merge-mode runs add up instead of the last one's write replacing the other's.

        The files are written as one set (:func:`rpctest.contracts.fileset.commit`): a run killed
        while writing leaves either the old set whole or a journal with which the next recording,
        first of all, completes the new one (:attr:`recovered` lists the files it put in place).

        ``format="pact"`` writes each contract as a Pact V4 file under the same name (rpctest reads
        those wherever it reads contracts, merge mode included).
        """
        from rpctest.contracts.fileset import commit, recording_lock, recover

        directory = Path(directory)
        planned = plan(self.contracts())
        texts = {name: checked_text(contract, directory / name, format=format) for name, contract in planned.items()}
        consumers = directory / "consumers"
        with recording_lock(consumers):
            self.recovered = recover(consumers)
            writes, removals = prepare(directory, planned, texts, mode=mode, format=format)
            return commit(consumers, writes, removals)


def _recorded_meta(stack: str, reply: Reply) -> dict[str, Any]:
    """The reply options a contract keeps, as the stack's adapter says (none for a stack rpctest
    does not know: whoever emitted the interaction knows better than to expect any)."""
    from rpctest.exceptions import ConfigError
    from rpctest.stacks import get_adapter

    if not reply.meta:
        return {}
    try:
        adapter = get_adapter(stack)
    except ConfigError:
        return {}
    return adapter.recorded_meta(reply)


def prepare(
    directory: Path, planned: dict[str, ConsumerContract], texts: dict[str, str], *, mode: str, format: str = "rpctest"  # noqa: A002
) -> tuple[dict[Path, str], list[Path]]:
    """The text of every file to write, and the files to remove, with what the directory holds taken
    into account: in merge mode what each file holds; a file an older rpctest named lossily (several
    names shared one spelling) is merged into its contract's file and removed; a file that holds
    another contract than the one planned for it stops everything (it would be lost). ``texts`` are
    the files' texts from this run alone (already checked)."""
    keys = {(c.consumer, c.stack, c.service) for c in planned.values()}
    writes: dict[Path, str] = {}
    removals: list[Path] = []
    for name, contract in planned.items():
        path = directory / name
        sources = [path]
        legacy = directory / contract.legacy_file_name()
        if legacy != path and len(legacy.name.encode()) <= 255:  # longer: no file system could have held it
            sources.append(legacy)
        for source in sources:
            # a legacy spelling may be another contract's file: unreadable, it is that one's concern
            existing = _existing(source, strict=mode == "merge" and source == path)
            if existing is None:
                continue
            if (existing.consumer, existing.stack, existing.service) != (contract.consumer, contract.stack, contract.service):
                if source == path and (existing.consumer, existing.stack, existing.service) not in keys:
                    raise ContractError(path, _holds_another(existing, contract))
                continue  # a legacy spelling shared with another name, or a contract this run moves
            if mode == "merge":
                contract = ConsumerContract(contract.consumer, contract.stack, contract.service, [*existing.interactions, *contract.interactions])
            if source != path and legacy.relative_to(directory).as_posix() not in planned:
                removals.append(legacy)
        writes[path] = texts[name] if contract is planned[name] else checked_text(contract, path, format=format)
    return writes, removals


def _existing(path: Path, *, strict: bool) -> ConsumerContract | None:
    """The consumer contract ``path`` holds; None when there is none. A file that cannot be read is an
    error where its content would be merged (``strict``), and is simply replaced otherwise."""
    if not path.is_file():
        if path.exists():
            raise ContractError(path, "is in the way of a consumer contract file (it is not a file). Nothing was written")
        return None
    try:
        existing = load(path)
    except ContractError:
        if strict:
            raise
        return None
    if not isinstance(existing, ConsumerContract):
        if strict:
            raise ContractError(path, "is not a consumer contract. Nothing was written")
        return None
    return existing


def _holds_another(existing: ConsumerContract, contract: ConsumerContract) -> str:
    return (
        f"holds the contract of {printable(existing.stack)}:{_q(existing.service)} (consumer {_q(existing.consumer)}), which "
        f"an older rpctest wrote under a name it shared with other services; this run records "
        f"{printable(contract.stack)}:{_q(contract.service)} there. That contract's file is now {existing.file_name()}: "
        f"move it there, or delete it if it is obsolete. Nothing was written"
    )


def plan(contracts: list[ConsumerContract]) -> dict[str, ConsumerContract]:
    """Each contract's file name (relative to the contracts directory), after checking every name."""
    files: dict[str, ConsumerContract] = {}
    folded: dict[str, ConsumerContract] = {}
    for contract in contracts:
        for role, name in contract.names():
            try:
                check_name(role, name, _context(contract, role))
            except ContractError as exc:
                raise ContractError(None, f"{exc.problem}. Nothing was written") from None
        name = contract.file_name()
        other = folded.get(name.casefold())
        if other is not None:
            raise ContractError(
                None,
                f"services {_q(other.service)} and {_q(contract.service)} of stack {_q(contract.stack)} (consumer "
                f"{_q(contract.consumer)}) would share one file on a case-insensitive file system (macOS, Windows): "
                f"their names differ only in case; rename one. Nothing was written",
            )
        files[name] = folded[name.casefold()] = contract
    return files


def _context(contract: ConsumerContract, role: str) -> str:
    if role == "service":
        return f" (stack {_q(contract.stack)}, consumer {_q(contract.consumer)})"
    return f" (of the {_q(contract.stack)}:{_q(contract.service)} contract)" if role == "consumer" else ""


def _q(name: str) -> str:
    return f"'{printable(name)}'"


def checked_text(contract: ConsumerContract, path: Path, *, format: str = "rpctest") -> str:  # noqa: A002
    """The file text of ``contract``, or a :class:`ContractError` naming the file-to-be: text that
    would not read back (a lone surrogate in a value, an integer past the digit limit...) is refused
    before any file is written."""
    try:
        text = dump(contract) if format != "pact" else _pact_text(contract)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ContractError(path, f"cannot be written: {printable(str(exc))}. Nothing was written") from None
    try:
        parse(loads(text, path), path)
    except ContractError as exc:
        raise ContractError(path, f"{exc.problem}. Nothing was written") from None
    return text


def _pact_text(contract: ConsumerContract) -> str:
    from rpctest.contracts.pact import dumps, to_pact

    return dumps(to_pact(contract.deduplicated()))


def observe(call: Call, reply: Reply, *, source: str, router: StubRouter | None = None) -> None:
    """Tell the recorders about a call made through one of rpctest's own clients or transports."""
    target = router or default_router
    if target._listeners:
        target.emit(Interaction(call=call, reply=reply, source=source))
