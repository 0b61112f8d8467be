"""The stack-neutral core without any stack library: model, router, stub_action, assertions.

A minimal adapter ("toy") stands in for a stack here; its "client" asks the router the way every
real interceptor and stub server does.
"""

from __future__ import annotations


import pytest

from rpctest import (
    CallFailed,
    ErrorKind,
    Reply,
    RpcError,
    raises_caller_error,
    raises_error_codes,
    raises_field_errors,
    raises_not_found,
    stub_action,
)
from rpctest import stacks
from rpctest.exceptions import StubUsageError, UnmatchedCall
from rpctest.stubs.router import router
from toystack import ToyAdapter, toy, toy_call  # noqa: F401 - toy is a fixture

# These tests provoke unmatched calls and uncalled stubs on purpose; strictness itself is tested
# in tests/stack_pysoa/test_plugin_pysoa.py.
pytestmark = pytest.mark.rpctest(strict=False)


def test_interceptor_installed_once_and_removed_with_last_stub(toy: ToyAdapter) -> None:
    with stub_action("svc", "a", stack="toy", body={}):
        with stub_action("svc", "b", stack="toy", body={}):
            assert toy.host.active and toy.host.installs == 1
        assert toy.host.active
    assert not toy.host.active


def test_body_errors_and_side_effects(toy: ToyAdapter) -> None:
    with stub_action("svc", "get", stack="toy", body={"x": 1}) as handle:
        assert toy_call("svc", "get", {"q": 1}) == {"x": 1}
    handle.assert_called_once_with({"q": 1})
    with stub_action("svc", "get", stack="toy", errors=["BAD", {"code": "NOPE", "field": "id"}]):
        with pytest.raises(CallFailed) as exc_info:
            toy_call("svc", "get")
    assert [(e.code, e.field, e.kind) for e in exc_info.value.errors] == [
        ("BAD", None, ErrorKind.CALLER_ERROR),
        ("NOPE", "id", ErrorKind.NOT_FOUND),
    ]
    effects = iter([{"n": 1}, RpcError("BAD", field="f"), ValueError("raw")])
    with stub_action("svc", "get", stack="toy", side_effect=effects):
        assert toy_call("svc", "get") == {"n": 1}
        with pytest.raises(CallFailed):
            toy_call("svc", "get")
        with pytest.raises(ValueError):
            toy_call("svc", "get")
        with pytest.raises(StubUsageError, match="ran out"):
            toy_call("svc", "get")


def test_side_effect_callable_receives_a_copy_of_the_body(toy: ToyAdapter) -> None:
    def effect(body: dict) -> dict:
        body["mutated"] = True
        return {"seen": sorted(body)}

    with stub_action("svc", "get", stack="toy", side_effect=effect) as handle:
        assert toy_call("svc", "get", {"a": 1}) == {"seen": ["a", "mutated"]}
    assert handle.call_body == {"a": 1}


def test_a_side_effect_asks_for_the_call_and_its_session_by_parameter_name(toy: ToyAdapter) -> None:
    """``call`` is the neutral call, ``session`` the connection's session (None on a stack without
    one, as here); a first parameter takes the body whatever its name, even ``call``."""
    seen = []

    def both(body: dict, *, session: object, call: object) -> dict:
        seen.append((body, session, call.operation, call.body))  # type: ignore[attr-defined]
        return {"ok": True}

    with stub_action("svc", "get", stack="toy", side_effect=both):
        assert toy_call("svc", "get", {"a": 1}) == {"ok": True}
    assert seen == [({"a": 1}, None, "get", {"a": 1})]
    with stub_action("svc", "get", stack="toy", side_effect=lambda call: {"got": call}):
        assert toy_call("svc", "get", {"a": 2}) == {"got": {"a": 2}}
    with stub_action("svc", "get", stack="toy", side_effect=dict):  # a builtin: the body alone
        assert toy_call("svc", "get", {"a": 3}) == {"a": 3}


def test_a_stub_session_ends_its_values_last_in_first_out_once() -> None:
    from rpctest.stubs.session import StubSession

    ended = []

    class Hook:
        def __init__(self, name: str) -> None:
            self.name = name

        def session_end(self) -> None:
            ended.append(self.name)
            if self.name == "b":
                raise RuntimeError("a failing hook does not stop the others")

    session = StubSession("toy connection")
    session.update(a=Hook("a"), plain=1, b=Hook("b"), c=Hook("c"))
    session.end()
    session.end()
    assert ended == ["c", "b", "a"] and session.ended
    other = StubSession("toy connection")
    assert other.id != session.id and other != session and not other


def test_a_body_as_deep_as_a_decoder_gives_is_stubbed_like_any_other(toy: ToyAdapter) -> None:
    """Issue 15: the wire decoders hand the stubs bodies nested up to about 1000 levels (PyCOM and
    pykern answer an echo of 500 and 700 levels); copying such a body for the record and for a side
    effect must not be a RecursionError, which every stub server answered as the stub failing."""
    deep: list = []
    for _ in range(3000):
        deep = [deep, {"k": "v"}]
    with stub_action("svc", "echo", stack="toy", side_effect=lambda body: body) as handle:
        got = toy_call("svc", "echo", {"deep": deep})
    for copy in (got["deep"], handle.call_body["deep"]):  # walked, not compared: == recurses too
        original, levels = deep, 0
        while original:
            assert copy is not original and copy[1] == original[1] and copy[1] is not original[1]
            copy, original, levels = copy[0], original[0], levels + 1
        assert copy == [] and levels == 3000


def test_unmatched_explains_nearest(toy: ToyAdapter) -> None:
    with stub_action("svc", "get_item", stack="toy", body={}), stub_action("other", "x", stack="toy", body={}):
        with pytest.raises(UnmatchedCall) as exc_info:
            toy_call("svc", "get_itme")
    text = str(exc_info.value)
    assert "Nearest stub: stub_action('svc', 'get_item', stack='toy')" in text
    assert "Active stubs: other.x, svc.get_item." in text


def test_match_subset_and_predicate(toy: ToyAdapter) -> None:
    with stub_action("svc", "get", stack="toy", body={"v": "nested"}, match={"user": {"id": 1}}):
        assert toy_call("svc", "get", {"user": {"id": 1, "x": 2}}) == {"v": "nested"}
        with pytest.raises(UnmatchedCall, match=r"user.id is 2, stub matches 1"):
            toy_call("svc", "get", {"user": {"id": 2}})
        with pytest.raises(UnmatchedCall, match=r"body has no 'user'"):
            toy_call("svc", "get", {})
    with stub_action("svc", "get", stack="toy", body={"v": "pred"}, match=lambda b: b.get("ok")):
        assert toy_call("svc", "get", {"ok": True}) == {"v": "pred"}
        with pytest.raises(UnmatchedCall, match="returned false"):
            toy_call("svc", "get", {"ok": False})


def test_listeners_observe_interactions(toy: ToyAdapter) -> None:
    seen = []
    stop = router.add_listener(seen.append)
    try:
        with stub_action("svc", "get", stack="toy", errors=["BAD"]):
            with pytest.raises(CallFailed):
                toy_call("svc", "get", {"id": 1})
    finally:
        stop()
    (interaction,) = seen
    assert interaction.call.body == {"id": 1} and interaction.reply.errors[0].code == "BAD"


def test_rpc_error_is_a_value() -> None:
    a = RpcError("INVALID", "bad", field="x", kind="caller_error", details={"is_caller_error": True})
    assert a == RpcError.from_dict(a.to_dict())
    assert len({a, RpcError.from_dict(a.to_dict())}) == 1
    assert a != RpcError("INVALID", "bad", field="y", kind="caller_error")
    assert str(a) == "INVALID at 'x': bad"
    with pytest.raises(TypeError):
        RpcError(None)  # type: ignore[arg-type]
    assert Reply(body={}).ok and not Reply(job_errors=[a]).ok


def _fail(*errors: RpcError) -> None:
    raise CallFailed(Reply(errors=list(errors)))


def test_raises_error_codes_sees_field_errors_too() -> None:
    with raises_error_codes("INVALID") as info:
        _fail(RpcError("INVALID", field="name"), RpcError("MISSING", field="id"))
    assert [e.field for e in info.matched] == ["name"]
    with pytest.raises(AssertionError, match="unexpected errors besides"):
        with raises_error_codes("INVALID", only=True):
            _fail(RpcError("INVALID", field="name"), RpcError("MISSING", field="id"))
    with pytest.raises(AssertionError, match=r"expected error codes \['X'\] not raised; raised: INVALID@name"):
        with raises_error_codes("X"):
            _fail(RpcError("INVALID", field="name"))
    with pytest.raises(AssertionError, match="raised nothing"):
        with raises_error_codes("X"):
            pass
    with pytest.raises(KeyError):
        with raises_error_codes("X"):
            raise KeyError("not an RPC error")


def test_raises_field_errors_and_kinds() -> None:
    with raises_field_errors({"name": ["INVALID", "UNKNOWN"], None: "UNKNOWN"}, only=True) as info:
        _fail(RpcError("INVALID", field="name"), RpcError("UNKNOWN", field="name"), RpcError("UNKNOWN"))
    assert len(info) == 3
    with pytest.raises(AssertionError, match="MISSING@id"):
        with raises_field_errors({"id": "MISSING"}):
            _fail(RpcError("MISSING", field="name"))
    with raises_not_found():
        _fail(RpcError("UNKNOWN", field="action", kind=ErrorKind.NOT_FOUND))
    with raises_caller_error(field="a"):
        _fail(RpcError("INVALID", field="a", kind=ErrorKind.CALLER_ERROR))
    with pytest.raises(AssertionError, match="expected a caller_error error at 'b'"):
        with raises_caller_error(field="b"):
            _fail(RpcError("INVALID", field="a", kind=ErrorKind.CALLER_ERROR))


def test_unknown_and_unimplemented_stacks_are_clear() -> None:
    from rpctest.exceptions import ConfigError

    with pytest.raises(ConfigError, match="unknown stack 'soap'"):
        stacks.get_adapter("soap")
