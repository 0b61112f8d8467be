"""``rpctest serve`` answers a recorded ZeroJSON call only to the very arguments recorded (issue 16,
item 2.6): a DEALER socket framing requests as PyCOM's client does gets the recorded result for
``add {"a": 1, "b": 2}`` and, for ``add {"a": 1, "b": 1}``, PyCOM's code 4 naming the nearest
recorded request, never another request's recorded answer."""

from __future__ import annotations

import json
from typing import Any

from stack_zerojson.zjhelpers import raw_dealer, receive

from rpctest.contracts import format as fmt
from rpctest.contracts.serve import router_from_contracts
from rpctest.model import RpcError
from rpctest.stacks.zerojson import wire
from rpctest.stacks.zerojson.server import serve_stubs

INTERFACE = "com.example.calc"


def ask(server: Any, args: Any) -> Any:
    with raw_dealer(server.address, server.context) as sock:
        sock.send_multipart([b"", b"CALL", json.dumps({"interface": INTERFACE, "method": "add", "args": args}).encode()])
        got = receive(sock, 5.0)
    assert got is not None and got[:2] == [b"", b"OK"], got
    return json.loads(got[2])


def test_serve_answers_only_the_recorded_arguments() -> None:
    contract = fmt.ConsumerContract("web", "zerojson", INTERFACE, [
        fmt.RecordedInteraction("add", {"a": 1}, errors=[RpcError(wire.BAD_REQUEST, "b is missing", kind="caller_error")]),
        fmt.RecordedInteraction("add", {"a": 1, "b": 2}, body=3),
    ])
    with serve_stubs(router_from_contracts([contract], "zerojson")) as server:
        assert ask(server, {"a": 1, "b": 2}) == {"code": 0, "result": 3}
        assert ask(server, {"a": 1})["code"] == wire.BAD_REQUEST
        other = ask(server, {"a": 1, "b": 1})
    assert other["code"] == wire.BAD_REQUEST
    assert "No stub matches" in other["error"] and "b is 1, the recorded request has 2" in other["error"]
