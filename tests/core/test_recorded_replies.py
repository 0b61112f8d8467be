"""What a recorded reply keeps (issue 16): a stream stays a stream, a reply option (an HTTP status)
stays with the reply, ``serve`` answers a recorded request only to that very request, and live
verification compares arrays item by item and replays a recorded stream as a stream."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

import toystack
from matcher_helpers import record
from rpctest import Call, Reply, RpcError, stub_action
from rpctest.contracts import format as fmt
from rpctest.contracts.live import shape_differences, verify_live
from rpctest.contracts.serve import router_from_contracts
from rpctest.stubs.router import StubRouter


@pytest.fixture(autouse=True)
def toy() -> Iterator[toystack.ToyAdapter]:
    adapter = toystack.register()
    yield adapter
    toystack.unregister()


def ask(router: StubRouter, operation: str, body: Any, service: str = "feed", **meta: Any) -> Reply:
    """What a toy client does over a stub server: the router's reply, or UnmatchedCall."""
    call = Call("toy", service, operation, body, meta=dict(meta))
    stub = router.match(call)
    if stub is None:
        raise router.unmatched(call)
    return router.respond(stub, call)


def recorded(*stubs: stub_action, calls: list[tuple[str, Any]], service: str = "feed") -> fmt.ConsumerContract:
    """The consumer contract a recorder writes for ``calls`` answered by ``stubs`` (read back from its file)."""
    router = StubRouter(intercept=False)
    return record(*stubs, run=lambda: [ask(router, operation, body, service=service) for operation, body in calls], router=router)


def consumer(*interactions: dict[str, Any]) -> fmt.ConsumerContract:
    return fmt.parse({"rpctest_contract": 1, "kind": "consumer", "consumer": "web", "stack": "toy", "service": "feed",
                      "interactions": list(interactions)})


# -- 2.2: a stream stays a stream ----------------------------------------------------------------


def test_a_stream_is_recorded_with_its_items_not_as_a_plain_body() -> None:
    contract = recorded(stub_action("feed", "watch", stack="toy", items=[{"n": 1}, {"n": 2}]), calls=[("watch", {"topic": "a"})])
    [item] = contract.interactions
    data = item.to_dict()
    assert data["response"] == {"items": [{"n": 1}, {"n": 2}]}
    assert item.items == [{"n": 1}, {"n": 2}]
    reply = item.as_reply()
    assert reply.items == [{"n": 1}, {"n": 2}] and reply.ok


def test_an_empty_stream_is_still_a_stream() -> None:
    contract = recorded(stub_action("feed", "watch", stack="toy", items=[]), calls=[("watch", {})])
    assert contract.interactions[0].to_dict()["response"] == {"items": []}
    assert contract.interactions[0].as_reply().items == []


def test_a_file_without_items_reads_as_before() -> None:
    item = consumer({"operation": "watch", "request": {}, "response": {"body": [1, 2]}}).interactions[0]
    assert item.items is None and item.body == [1, 2] and item.as_reply().items is None


def test_serve_answers_a_recorded_stream_with_every_item_and_marks_the_stub_a_stream() -> None:
    router = router_from_contracts([consumer({"operation": "watch", "request": {"t": 1}, "response": {"items": [{"n": 1}, {"n": 2}]}})], "toy")
    reply = ask(router, "watch", {"t": 1})
    assert reply.items == [{"n": 1}, {"n": 2}]
    [stub] = router.active("toy")
    assert stub.options.get("items") == [{"n": 1}, {"n": 2}]  # what the stub servers ask to tell a subscription


def test_live_verification_replays_a_recorded_stream_as_a_stream_and_compares_its_items() -> None:
    contract = consumer({"operation": "watch", "request": {}, "response": {"items": [{"n": 1}, {"n": "a"}]}})
    sent: list[Call] = []

    def provider(call: Call) -> Reply:
        sent.append(call)
        if call.meta.get("kind") != "subscribe":
            return Reply(errors=[RpcError("APIKindError", "call_api on subscription")])
        return Reply(body=[{"n": 5}, {"n": 6}], items=[{"n": 5}, {"n": 6}])

    report = verify_live([contract], provider)
    assert sent[0].meta.get("kind") == "subscribe"
    assert [(f.check, f.pointer, f.expected) for f in report.findings] == [("live_shape", "/interactions/0/response/items/1/n", "string")]


# -- 2.3: reply options (Kyoukai's status and headers) travel with the reply -------------------------


def test_a_reply_option_is_recorded_served_and_compared() -> None:
    contract = recorded(stub_action("feed", "make", stack="toy", body={"id": 1}, status=201), calls=[("make", {})])
    [item] = contract.interactions
    assert item.to_dict()["response"] == {"body": {"id": 1}, "meta": {"status": 201}}
    served = router_from_contracts([contract], "toy")
    assert ask(served, "make", {}).meta.get("status") == 201
    same = verify_live([contract], lambda call: Reply(body={"id": 2}, meta={"status": 201}))
    assert same.findings == []
    other = verify_live([contract], lambda call: Reply(body={"id": 2}, meta={"status": 200}))
    assert [(f.check, f.pointer, f.expected, f.actual) for f in other.findings] == [
        ("live_status", "/interactions/0/response/meta/status", "201", "200")
    ]


def test_a_reply_without_options_records_no_meta() -> None:
    contract = recorded(stub_action("feed", "make", stack="toy", body={"id": 1}), calls=[("make", {})])
    assert contract.interactions[0].to_dict()["response"] == {"body": {"id": 1}}


# -- 2.4: arrays compared item by item -------------------------------------------------------------


def test_an_array_of_mixed_items_is_compared_item_by_item() -> None:
    recorded_body = {"x": 1, "y": [1, "a"]}
    assert list(shape_differences(recorded_body, {"x": 1, "y": [1, "a"]})) == []
    assert list(shape_differences(recorded_body, {"x": 2, "y": [3, "b", "c"]})) == []
    assert list(shape_differences(recorded_body, {"x": 1, "y": ["a", 1]})) == [
        ("/y/0", "number", 'string "a"'),
        ("/y/1", "string", "number 1"),
    ]
    assert list(shape_differences([{"id": 1}, {"id": 2}], [{"id": "a"}])) == [("/0/id", "number", 'string "a"')]


def test_live_verification_passes_a_provider_returning_exactly_the_recorded_mixed_array() -> None:
    contract = consumer({"operation": "get", "request": {}, "response": {"body": {"x": 1, "y": [1, "a"]}}})
    assert verify_live([contract], lambda call: Reply(body={"x": 1, "y": [1, "a"]})).findings == []


# -- 2.6: serve matches a recorded request exactly -------------------------------------------------


def test_serve_answers_a_recorded_request_only_to_that_very_request() -> None:
    router = router_from_contracts(
        [consumer(
            {"operation": "add", "request": {"a": 1}, "response": {"errors": [{"code": "BAD", "field": "b"}]}},
            {"operation": "add", "request": {"a": 1, "b": 2}, "response": {"body": 3}},
        )],
        "toy",
    )
    assert [e.code for e in ask(router, "add", {"a": 1}).errors] == ["BAD"]
    assert ask(router, "add", {"a": 1, "b": 2}).body == 3
    with pytest.raises(Exception) as raised:
        ask(router, "add", {"a": 1, "b": 1})
    message = str(raised.value)
    assert "No stub matches toy call feed.add({'a': 1, 'b': 1})" in message
    assert "Nearest stub" in message and "b" in message and "2" in message


def test_serve_tells_an_extra_key_and_a_bool_from_a_number() -> None:
    router = router_from_contracts([consumer({"operation": "add", "request": {"a": 1}, "response": {"body": 1}})], "toy")
    for body in ({"a": 1, "b": 1}, {"a": True}, {"a": "1"}, {}):
        assert router.match(Call("toy", "feed", "add", body)) is None, body
    assert router.match(Call("toy", "feed", "add", {"a": 1.0})) is not None  # JSON has one number type
    explained = router.explain_unmatched(Call("toy", "feed", "add", {"a": 1, "b": 1}))
    assert "'b'" in explained and "not in the recorded request" in explained


def test_an_empty_recorded_request_is_the_same_as_none() -> None:
    router = router_from_contracts([consumer({"operation": "ping", "request": {}, "response": {"body": "pong"}})], "toy")
    assert ask(router, "ping", None).body == "pong"
    assert ask(router, "ping", {}).body == "pong"
    assert router.match(Call("toy", "feed", "ping", {"x": 1})) is None


def test_stubs_written_by_users_keep_subset_matching() -> None:
    router = StubRouter(intercept=False)
    stub = stub_action("feed", "add", stack="toy", body=2, match={"a": 1}, router=router)
    stub.start()
    try:
        assert ask(router, "add", {"a": 1, "b": 1}).body == 2
    finally:
        stub.stop()


def test_the_nearest_recorded_request_is_named_among_many_of_one_operation() -> None:
    router = router_from_contracts(
        [consumer(*[{"operation": "get", "request": {"id": n, "lang": "en"}, "response": {"body": n}} for n in range(20)])], "toy"
    )
    explained = router.explain_unmatched(Call("toy", "feed", "get", {"id": 7, "lang": "fr"}))
    assert "'id': 7" in explained.split("Nearest stub:")[1].splitlines()[0]


def test_a_stream_that_fails_stays_a_stream() -> None:
    """A subscription stub answering an error is still a subscription: served, SUBSCRIBE must get
    the error (pykern decides the API's kind before it calls it)."""
    contract = recorded(stub_action("feed", "watch", stack="toy", items=[], errors=["BAD"]), calls=[("watch", {})])
    [item] = contract.interactions
    assert item.to_dict()["response"] == {"items": [], "errors": [{"code": "BAD", "kind": "caller_error"}]}
    router = router_from_contracts([contract], "toy")
    [stub] = router.active("toy")
    assert stub.options.get("items") == []
    assert [e.code for e in ask(router, "watch", {}).errors] == ["BAD"]
