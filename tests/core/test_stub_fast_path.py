"""The stubs' per-call fast path (issue 21): replies from a prebuilt template, recording straight into
the handle's mock slots. What it must keep: a consumer mutating a reply cannot change later replies,
a recorded body cannot change after the call, and the handle is still every bit a ``MagicMock``.
"""

from __future__ import annotations

import sys
from typing import Any
from unittest import mock

import pytest

from rpctest import stub_action
from rpctest.stubs.copying import copy_body, template
from toystack import ToyAdapter, toy, toy_call  # noqa: F401 - toy is a fixture

pytestmark = pytest.mark.rpctest(strict=False)

NESTED = {"user": {"id": 1, "tags": ["a", {"deep": [1, 2]}], "pair": (1, [2])}, "blob": b"x", "none": None}


def test_mutating_a_reply_at_any_depth_does_not_change_the_next_reply(toy: ToyAdapter) -> None:
    with stub_action("svc", "get", stack="toy", body=NESTED):
        first = toy_call("svc", "get")
        first["user"]["tags"][1]["deep"].append(3)
        first["user"]["pair"][1].append(4)
        first["user"]["id"] = 2
        first.clear()
        second = toy_call("svc", "get")
    assert second == NESTED
    assert second["user"]["pair"] == (1, [2]) and type(second["user"]["pair"]) is tuple


def test_a_recorded_body_cannot_change_after_the_call(toy: ToyAdapter) -> None:
    request: dict[str, Any] = {"id": 1, "filter": {"tags": ["a"]}}
    with stub_action("svc", "get", stack="toy", body={}) as handle:
        toy_call("svc", "get", request)
        request["filter"]["tags"].append("b")
        request["id"] = 2
    assert handle.call_body == {"id": 1, "filter": {"tags": ["a"]}}
    handle.assert_called_once_with({"id": 1, "filter": {"tags": ["a"]}})
    assert handle.mock_calls == [mock.call({"id": 1, "filter": {"tags": ["a"]}})]


def test_the_fast_recording_is_the_mock_recording(toy: ToyAdapter) -> None:
    """Everything MagicMock users assert on, after calls the fast path recorded."""
    with stub_action("svc", "get", stack="toy", body={"x": 1}) as handle:
        toy_call("svc", "get", {"n": 1})
        toy_call("svc", "get", {"n": 2})
        assert handle.called and handle.call_count == 2
        assert handle.call_args == mock.call({"n": 2})
        assert handle.call_args_list == [mock.call({"n": 1}), mock.call({"n": 2})]
        assert handle.call_bodies == ({"n": 1}, {"n": 2})
        handle.assert_any_call({"n": 1})
        handle.assert_has_calls([mock.call({"n": 1}), mock.call({"n": 2})])
        handle.reset_mock()
        assert not handle.called and handle.call_count == 0 and handle.call_args is None
        toy_call("svc", "get", {"n": 3})
        handle.assert_called_once_with({"n": 3})


def test_a_handle_attached_to_a_manager_records_on_the_manager_too(toy: ToyAdapter) -> None:
    manager = mock.MagicMock()
    with stub_action("svc", "get", stack="toy", body={"x": 1}) as handle:
        manager.attach_mock(handle, "get")
        assert toy_call("svc", "get", {"n": 1}) == {"x": 1}
    assert manager.mock_calls == [mock.call.get({"n": 1})]
    handle.assert_called_once_with({"n": 1})


def test_a_value_set_on_the_handle_after_fast_calls_answers_the_next_call(toy: ToyAdapter) -> None:
    with stub_action("svc", "get", stack="toy", body={"x": 1}) as handle:
        assert toy_call("svc", "get") == {"x": 1}
        handle.return_value = {"x": 2}
        assert toy_call("svc", "get") == {"x": 2}
        handle.side_effect = [{"x": 3}]
        assert toy_call("svc", "get") == {"x": 3}
    assert handle.call_count == 3


@pytest.mark.parametrize(
    "value",
    [
        None, 1, "s", b"b", 1.5, True, [], {}, NESTED, [[1], [2, [3]]], {"a": ({"b": 1},)},
        {"float": float("inf")}, {1: "int key", (1, 2): "tuple key"},
    ],
    ids=repr,
)
def test_a_template_makes_equal_fresh_copies(value: Any) -> None:
    make = template(value)
    first, second = make(), make()
    assert first == value and second == value
    assert type(first) is type(value)
    if isinstance(value, (dict, list)):
        assert first is not value and first is not second


def test_a_template_keeps_shared_parts_apart_as_copy_body_does() -> None:
    shared = [1]
    make = template({"a": shared, "b": shared})
    made = make()
    made["a"].append(2)
    assert made["b"] == [1]
    assert copy_body({"a": shared, "b": shared}) == made | {"a": [1]}


def test_a_template_of_a_deeply_nested_body_is_made() -> None:
    """Nesting beyond the recursion limit (a wire decoder's bodies) copies as copy_body does."""
    depth = sys.getrecursionlimit() + 100
    value: Any = []
    for _ in range(depth):
        value = [value]
    made = template(value)()
    assert made is not value
    levels = 0
    while made:
        made, levels = made[0], levels + 1
    assert levels == depth


def test_a_template_of_an_unusual_object_deep_copies_it() -> None:
    class Thing:
        def __init__(self) -> None:
            self.items = [1]

    value = {"thing": Thing()}
    first, second = template(value)(), template(value)()
    assert first["thing"] is not value["thing"] and first["thing"].items == [1]
    first["thing"].items.append(2)
    assert second["thing"].items == [1] and value["thing"].items == [1]


def test_calls_the_fast_path_and_the_mock_recorded_keep_their_order(toy: ToyAdapter) -> None:
    """Fast-path records are filed before the mock's own (a value set on the handle takes the mock's
    way), so the lists stay in call order whichever way each call was recorded."""
    with stub_action("svc", "get", stack="toy", body={"x": 1}) as handle:
        assert toy_call("svc", "get", {"n": 1}) == {"x": 1}
        handle.side_effect = [{"x": 2}]
        assert toy_call("svc", "get", {"n": 2}) == {"x": 2}
        handle.side_effect = None
        assert toy_call("svc", "get", {"n": 3}) == {"x": 1}
    assert handle.call_bodies == ({"n": 1}, {"n": 2}, {"n": 3})
    assert handle.mock_calls == [mock.call({"n": 1}), mock.call({"n": 2}), mock.call({"n": 3})]
    assert handle.call_args == mock.call({"n": 3}) and handle.call_count == 3


def test_records_made_by_other_threads_while_the_test_reads_are_all_kept(toy: ToyAdapter) -> None:
    """A stub server answers on its own thread while the test may read the handle."""
    import threading

    with stub_action("svc", "get", stack="toy", body={}) as handle:
        def calls(start: int) -> None:
            for n in range(start, start + 500):
                toy_call("svc", "get", {"n": n})

        threads = [threading.Thread(target=calls, args=(start,)) for start in (0, 500)]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            assert len(handle.call_args_list) <= 1000
        for thread in threads:
            thread.join()
    assert sorted(body["n"] for body in handle.call_bodies) == list(range(1000))
    assert len(handle.mock_calls) == 1000



# -- a stub server's reply, encoded once (StubRouter.respond_encoded) ------------------------------------


class CountingEncoder:
    """An encoder as a stub server has one: the reply's bytes, and whether they may be kept."""

    def __init__(self, keep: bool = True) -> None:
        self.replies: list[Any] = []
        self.keep = keep

    def __call__(self, reply: Any) -> tuple[bytes, bool]:
        self.replies.append(reply)
        return repr((reply.body, [error.code for error in reply.errors])).encode(), self.keep


def encoded_call(encode: CountingEncoder, body: Any = None, key: str = "toy") -> bytes:
    from rpctest.model import Call
    from rpctest.stubs.router import router

    call = Call("toy", "svc", "get", body)
    stub = router.match(call)
    assert stub is not None
    return router.respond_encoded(stub, call, key, encode)


def test_a_stub_answering_its_own_reply_is_encoded_once_and_every_call_recorded(toy: ToyAdapter) -> None:
    encode = CountingEncoder()
    with stub_action("svc", "get", stack="toy", body={"x": 1}) as handle:
        answers = [encoded_call(encode, {"n": n}) for n in range(3)]
    assert answers == [repr(({"x": 1}, [])).encode()] * 3
    assert len(encode.replies) == 1
    assert handle.call_count == 3 and handle.call_bodies == ({"n": 0}, {"n": 1}, {"n": 2})
    assert [call.body for call in handle.calls] == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_each_key_is_encoded_apart(toy: ToyAdapter) -> None:
    first, second = CountingEncoder(), CountingEncoder()
    with stub_action("svc", "get", stack="toy", body=1):
        encoded_call(first, key="one")
        encoded_call(second, key="two")
        encoded_call(first, key="one")
        encoded_call(second, key="two")
    assert len(first.replies) == 1 and len(second.replies) == 1


def test_a_value_set_on_the_handle_is_encoded_on_every_call_it_answers(toy: ToyAdapter) -> None:
    encode = CountingEncoder()
    with stub_action("svc", "get", stack="toy", body={"x": 1}) as handle:
        assert encoded_call(encode) == repr(({"x": 1}, [])).encode()
        handle.return_value = {"x": 2}
        assert encoded_call(encode) == repr(({"x": 2}, [])).encode()
        assert encoded_call(encode) == repr(({"x": 2}, [])).encode()
        handle.return_value = mock.sentinel.rpctest_unset  # what reset_mock(return_value=True) puts back
        assert encoded_call(encode) == repr(({"x": 1}, [])).encode()
    assert len(encode.replies) == 3 and handle.call_count == 4


def test_a_side_effect_stub_is_encoded_on_every_call(toy: ToyAdapter) -> None:
    encode = CountingEncoder()
    with stub_action("svc", "get", stack="toy", side_effect=lambda body: {"echo": body}) as handle:
        assert encoded_call(encode, 1) == repr(({"echo": 1}, [])).encode()
        assert encoded_call(encode, 2) == repr(({"echo": 2}, [])).encode()
    assert len(encode.replies) == 2 and handle.call_count == 2


def test_an_encoding_not_to_keep_is_made_again_for_the_next_call(toy: ToyAdapter) -> None:
    encode = CountingEncoder(keep=False)
    with stub_action("svc", "get", stack="toy", errors=["BAD"]):
        encoded_call(encode)
        encoded_call(encode)
    assert len(encode.replies) == 2 and encode.replies[0].errors[0].code == "BAD"


def test_while_a_recorder_listens_every_reply_is_made_and_observed(toy: ToyAdapter) -> None:
    from rpctest.stubs.router import router

    encode = CountingEncoder()
    seen: list[Any] = []
    with stub_action("svc", "get", stack="toy", body={"x": 1}):
        stop = router.add_listener(seen.append)
        try:
            encoded_call(encode, 1)
            encoded_call(encode, 2)
        finally:
            stop()
        encoded_call(encode, 3)
        encoded_call(encode, 4)
    assert [interaction.call.body for interaction in seen] == [1, 2]
    assert [interaction.reply.body for interaction in seen] == [{"x": 1}, {"x": 1}]
    assert len(encode.replies) == 3  # one per observed call, then one kept for the rest


def test_a_router_memo_of_the_stubs_alone_follows_them_without_asking_the_configuration(
    toy: ToyAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``memo(..., uses_config=False)``: worked out again when the active stubs change, and the
    configuration (outside pytest, a look at the working directory) is not looked up for it."""
    from rpctest import config
    from rpctest.stubs.router import StubRouter

    router = StubRouter(intercept=False)
    computed: list[int] = []

    def services() -> list[str]:
        computed.append(1)
        return sorted(stub.service for stub in router.active("toy"))

    assert router.memo(("toy", "services"), services, uses_config=False) == []
    first = stub_action("a", "get", stack="toy", router=router, body=1)
    first.start()
    asked: list[int] = []
    real_current = config.current

    def current() -> config.RpctestConfig:
        asked.append(1)
        return real_current()

    monkeypatch.setattr(config, "current", current)
    assert router.memo(("toy", "services"), services, uses_config=False) == ["a"]
    assert router.memo(("toy", "services"), services, uses_config=False) == ["a"]
    first.stop()
    assert router.memo(("toy", "services"), services, uses_config=False) == []
    assert len(computed) == 3
    assert asked == []
