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
from typing import Callable

from rpctest.contracts.format import ConsumerContract, ContractError, RecordedInteraction, load, write
from rpctest.model import Call, Interaction, Reply
from rpctest.stubs.copying import copy_body
from rpctest.stubs.router import StubRouter, router as default_router

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
        """Record one interaction (the router's listener)."""
        call = interaction.call
        copied = Interaction(
            call=Call(call.stack, call.service, call.operation, copy_body(call.body)),
            reply=Reply(
                body=copy_body(interaction.reply.body),
                errors=interaction.reply.errors,
                job_errors=interaction.reply.job_errors,
                attachment=interaction.reply.attachment,
            ),
            source=interaction.source,
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

    def write(self, directory: Path | str, *, mode: str = "replace") -> list[Path]:
        """Write each contract under ``directory``; ``merge`` keeps what an existing file holds.

        In merge mode an existing file that cannot be read stops the write with a
        :class:`ContractError` naming it, before any file is touched: nothing is lost.
        """
        directory = Path(directory)
        planned = []
        for contract in self.contracts():
            path = directory / contract.file_name()
            if mode == "merge" and path.exists():
                existing = load(path)
                if not isinstance(existing, ConsumerContract) or existing.key != contract.key:
                    raise ContractError(path, f"is not the consumer contract of {contract.stack}:{contract.service}")
                contract = ConsumerContract(
                    contract.consumer, contract.stack, contract.service, [*existing.interactions, *contract.interactions]
                )
            planned.append((contract, path))
        return [write(contract, path) for contract, path in planned]


def observe(call: Call, reply: Reply, *, source: str, router: StubRouter | None = None) -> None:
    """Tell the recorders about a call made through one of rpctest's own clients or transports."""
    target = router or default_router
    if target._listeners:
        target.emit(Interaction(call=call, reply=reply, source=source))
