"""After the AsyncAPY install: a stub answers over AsyncAProto (the wire half needs no AsyncAPY)."""

from rpctest import stub_action


def test_stub_answers_over_asyncaproto(asyncapy_stub_server):
    fields = {"action": "add$", "a": r"\d+$", "b": r"\d+$"}  # AsyncAPY's Fields: exactly these keys
    with stub_action("calc", "add", stack="asyncapy", match=fields, body={"status": "ok", "sum": 5}) as add:
        reply = asyncapy_stub_server.call("add", {"action": "add", "a": 2, "b": 3})
    assert reply.body == {"status": "ok", "sum": 5}
    add.assert_called_once_with({"action": "add", "a": 2, "b": 3})
