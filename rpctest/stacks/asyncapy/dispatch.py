"""Which handlers of a provider contract answer a packet, as AsyncAPY's server dispatches it.

AsyncAPY names no operation on the wire. Its server first judges the frame (:func:`.wire.server_verdict`:
a body under 5 bytes, such as the packet ``{}``, is ``ERR_REQUEST_MALFORMED`` before any routing),
then offers the packet to every group in ascending order, and within a group to the handlers in
registration order: the first whose filters pass handles it, the rest of that group never sees it.
So a packet one handler's ``Fields`` refuse may be another's valid input (a second handler of the
group with other patterns, a fallback without ``Fields``), and a packet handlers of several groups
take is answered by each, one reply after the other.

The fuzz oracle asks this module (through :meth:`AsyncAPYAdapter.route_request`) instead of assuming
that a defect for one handler reaches no handler at all: that assumption flagged correct services.
A contract exported from a server gives each operation its ``route`` (``group``, ``position``); a
hand-written one without it is taken as one group in the contract's order.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rpctest.model import ErrorKind
from rpctest.stacks.asyncapy import errors, wire

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.contracts.format import OperationSpec, ProviderContract
    from rpctest.schema.validate import CompiledSchema
    from rpctest.strategies.defects import Routed

__all__ = ["dispatch_order", "handlers_for", "observer", "reply_schema", "route"]

#: id(contract) -> (a weak reference to it, its operations in dispatch order with their compiled requests):
#: a contract is compiled once however many packets are routed (contracts are not hashable)
_COMPILED: "dict[int, tuple[weakref.ref[Any], list[tuple[OperationSpec, CompiledSchema]]]]" = {}


def dispatch_order(contract: "ProviderContract") -> list["OperationSpec"]:
    """The contract's operations in the order AsyncAPY offers a packet to its handlers: by group,
    then by position in the group (``route``); operations without a route are group 0, in order."""
    ops = list(contract.operations.values())
    indexed = [(op.route or {}, index, op) for index, op in enumerate(ops)]
    indexed.sort(key=lambda item: (int(item[0].get("group", 0)), int(item[0].get("position", item[1])), item[1]))
    return [op for _, _, op in indexed]


def _compiled(contract: "ProviderContract") -> list[tuple["OperationSpec", "CompiledSchema"]]:
    from rpctest.schema.validate import compile_schema

    key = id(contract)
    entry = _COMPILED.get(key)
    if entry is not None and entry[0]() is contract and len(entry[1]) == len(contract.operations):
        return entry[1]
    table = [(op, compile_schema(op.request)) for op in dispatch_order(contract)]
    _COMPILED[key] = (weakref.ref(contract, lambda _: _COMPILED.pop(key, None)), table)
    return table


def observer(op: "OperationSpec") -> bool:
    """A handler without ``Fields`` that declares no reply: it sees every packet of its group and
    promises nothing (AsyncAPY's docs put logging and auditing there, in a group of its own), so it
    is not counted on to answer; one with a declared reply (``handler_schema``) is a fallback that does."""
    return op.request in ({"type": "object"}, {}, True) and op.response in ({}, True)


def handlers_for(packet: Mapping[str, Any], contract: "ProviderContract") -> list["OperationSpec"]:
    """The operations that handle ``packet``: in each group, the first whose request schema holds
    (an :func:`observer` takes the group's packets but is not listed: it may send nothing)."""
    taken: list[OperationSpec] = []
    groups_done: set[int] = set()
    for op, schema in _compiled(contract):
        group = int((op.route or {}).get("group", 0))
        if group in groups_done:
            continue
        if observer(op):
            groups_done.add(group)
            continue
        if schema.is_valid(packet):
            taken.append(op)
            groups_done.add(group)
    return taken


def _item_schema(op: "OperationSpec") -> Any:
    response = op.response
    if isinstance(response, Mapping) and response.get("type") == "array" and "items" in response:
        return response["items"]  # handler_schema(many=True): each packet it sends
    return response


def reply_schema(ops: Sequence["OperationSpec"]) -> Any:
    """The reply of the handlers ``ops`` (one each, per group): a handler's own reply schema, or,
    when several answer, one packet or the list of packets, each from one of them."""
    if len(ops) == 1:
        return ops[0].response
    items = {"anyOf": [_item_schema(op) for op in ops]}
    return {"anyOf": [items, {"type": "array", "items": items}]}


def route(body: Any, contract: "ProviderContract", *, encoding: int = wire.JSON) -> "Routed":
    """What AsyncAPY's server does with the packet ``body``: the handlers that take it, or its own
    answer when none does (a framework error packet, or the silent close)."""
    from rpctest.strategies.defects import Expected, Routed

    try:
        payload = wire.encode_payload(body, encoding)
    except (TypeError, ValueError) as exc:
        return Routed(expected=_closed(), reason=f"the packet cannot be encoded ({exc})")
    verdict = wire.server_verdict(bytes([wire.VERSION, encoding]) + payload)
    if verdict.action == "error" and verdict.code is not None:
        expected = Expected(errors.classify(verdict.code), None, frozenset({verdict.code}), check_field=False)
        return Routed(expected=expected, reason=f"AsyncAPY refuses the frame before any handler: {verdict.reason}")
    if verdict.action == "hang":
        expected = Expected(ErrorKind.TRANSPORT, None, frozenset({errors.ERR_TIMED_OUT}), check_field=False)
        return Routed(expected=expected, reason=verdict.reason)
    if verdict.action != "dispatch" or verdict.packet is None:
        return Routed(expected=_closed(), reason=verdict.reason)
    ops = handlers_for(verdict.packet, contract)
    if not ops:
        return Routed(expected=_closed(), reason="no handler's filters take the packet: AsyncAPY closes the connection silently")
    names = tuple(op.name for op in ops)
    codes = frozenset(code for op in ops for code in op.errors)
    return Routed(operations=names, response=reply_schema(ops), errors=codes, reason=f"handled by {', '.join(names)}")


def _closed() -> Any:
    from rpctest.strategies.defects import Expected

    return Expected(ErrorKind.TRANSPORT, None, frozenset({errors.CLOSED_WITHOUT_REPLY}), check_field=False)
