"""stub_action speaks the patcher protocol that other decorators drive, as pysoa.test's stub_action does.

pysoa.test suites stack ``stub_action`` with ``parameterized.expand`` (which re-applies every patcher
through ``decorate_callable`` / ``decorate_async_callable``), with ``unittest.mock.patch`` and with the
``mock`` backport's ``patch`` (which has its own ``DEFAULT`` sentinel), in any order. These tests use the
real ``parameterized`` and ``mock`` packages and the toy stack (no stack library); the same forms
against the real pysoa Client are in tests/stack_pysoa/test_stub_action_compat.py.
"""

from __future__ import annotations

import asyncio
import random
import unittest.mock

import mock as mock_backport
import pytest
from parameterized import parameterized

from rpctest import stub_action
from rpctest.stubs.router import router
from toystack import ToyAdapter, toy, toy_call  # noqa: F401 - toy is a fixture

PATCHES = pytest.mark.parametrize("patch", [unittest.mock.patch, mock_backport.patch], ids=["unittest.mock", "mock-backport"])


def _stub(**kwargs: object) -> stub_action:
    return stub_action("svc", "get", stack="toy", body={"x": 1}, **kwargs)


def _expanded(cls: type, name: str) -> list[str]:
    return sorted(n for n in vars(cls) if n.startswith(name + "_"))


# parameterized ----------------------------------------------------------------------------------


def test_parameterized_expand_above_a_stub_on_methods(toy: ToyAdapter) -> None:
    seen = []

    class Case:
        @parameterized.expand([(1,), (2,)])
        @_stub()
        def test_it(self, n, stub_get):
            assert toy_call("svc", "get", {"n": n}) == {"x": 1}
            seen.append((n, stub_get.call_bodies))

    names = _expanded(Case, "test_it")
    assert len(names) == 2
    for name in names:
        getattr(Case(), name)()
    assert seen == [(1, ({"n": 1},)), (2, ({"n": 2},))]
    assert not toy.host.active


def test_parameterized_expand_on_functions_with_mock_patches_in_any_order(toy: ToyAdapter) -> None:
    """The backport's patches below and above a stub (mixing the two mock modules on one function
    fails by itself when one of theirs is the bottom decorator; a stub at the bottom makes it work)."""
    seen = []
    namespace: dict[str, object] = {}

    def make() -> None:
        @parameterized.expand([("a",)])
        @mock_backport.patch("random.randint", return_value=4)
        @_stub()
        @mock_backport.patch("random.random", return_value=0.5)
        def test_fn(letter, mock_random, stub_get, mock_randint):
            toy_call("svc", "get", {"l": letter})
            seen.append((letter, random.random(), random.randint(0, 9), stub_get.call_body))

        namespace.update({k: v for k, v in locals().items() if k.startswith("test_fn_")})

    make()
    assert len(namespace) == 1
    for func in namespace.values():
        func()  # type: ignore[operator]
    assert seen == [("a", 0.5, 4, {"l": "a"})]


def test_parameterized_function_decorator_over_a_stub(toy: ToyAdapter) -> None:
    """``@parameterized([...])`` makes a nose-style generator of (function, *args); run each one."""
    seen = []

    @parameterized([(1,), (2,)])
    @_stub()
    def check(n, stub_get):
        toy_call("svc", "get", {"n": n})
        seen.append((n, stub_get.call_count))

    for func, *args in check():
        func(*args)
    assert seen == [(1, 1), (2, 1)]


def test_parameterized_expand_over_an_async_stubbed_method(toy: ToyAdapter) -> None:
    seen = []

    class Case:
        @parameterized.expand([(7,)])
        @_stub()
        async def test_it(self, n, stub_get):
            await asyncio.sleep(0)
            toy_call("svc", "get", {"n": n})
            seen.append(stub_get.call_body)

    for name in _expanded(Case, "test_it"):
        asyncio.run(getattr(Case(), name)())
    assert seen == [{"n": 7}]
    assert not toy.host.active


# mock.patch and the mock backport -----------------------------------------------------------------


@PATCHES
def test_mock_patch_above_a_stub_gets_its_argument(toy: ToyAdapter, patch) -> None:
    @patch("random.randint", return_value=4)
    @_stub()
    def fn(stub_get, mock_randint):
        toy_call("svc", "get", {})
        return stub_get.call_count, random.randint(0, 9), mock_randint.call_count

    assert fn() == (1, 4, 1)


@PATCHES
def test_a_stub_above_mock_patch_gets_its_argument(toy: ToyAdapter, patch) -> None:
    @_stub()
    @patch("random.randint", return_value=4)
    def fn(mock_randint, stub_get):
        toy_call("svc", "get", {})
        return stub_get.call_count, random.randint(0, 9)

    assert fn() == (1, 4)


def test_stubs_and_both_mock_modules_interleaved(toy: ToyAdapter) -> None:
    @unittest.mock.patch("random.random", return_value=0.25)
    @stub_action("svc", "other", stack="toy", body={"y": 2})
    @mock_backport.patch("random.randint", return_value=4)
    @_stub()
    def fn(stub_get, mock_randint, stub_other, mock_random):
        return toy_call("svc", "get", {}), toy_call("svc", "other", {}), random.randint(0, 1), random.random()

    assert fn() == ({"x": 1}, {"y": 2}, 4, 0.25)


@PATCHES
def test_mock_patch_with_new_takes_no_argument(toy: ToyAdapter, patch) -> None:
    @patch("random.randint", new=lambda a, b: 9)
    @_stub()
    def fn(stub_get):
        toy_call("svc", "get", {})
        return stub_get.call_count, random.randint(0, 1)

    assert fn() == (1, 9)


@PATCHES
def test_class_level_mock_patch_over_stubbed_methods(toy: ToyAdapter, patch) -> None:
    @patch("random.randint", return_value=4)
    class Case:
        @_stub()
        def test_it(self, stub_get, mock_randint):
            toy_call("svc", "get", {})
            return stub_get.call_count, random.randint(0, 1)

    assert Case().test_it() == (1, 4)


@PATCHES
def test_class_level_stub_over_mock_patched_methods(toy: ToyAdapter, patch) -> None:
    @_stub()
    class Case:
        @patch("random.randint", return_value=4)
        def test_it(self, mock_randint, stub_get):
            toy_call("svc", "get", {})
            return stub_get.call_count, random.randint(0, 1)

    assert Case().test_it() == (1, 4)


@pytest.mark.rpctest(strict=False)  # its stubs are entered, never called
def test_the_protocol_pieces_other_decorators_call(toy: ToyAdapter) -> None:
    stub = _stub()
    assert stub.attribute_name is None
    assert stub.new is unittest.mock.DEFAULT
    assert stub.is_local is False and stub.enabled is False

    def fn(handle):
        return handle.call_count

    decorated = stub.decorate_callable(fn)
    assert decorated.patchings == [stub]
    assert decorated() == 0
    copy = stub.copy()
    assert copy is not stub and (copy.service, copy.action, copy.body) == (stub.service, stub.action, stub.body)


# classes ------------------------------------------------------------------------------------------


def test_class_decorator_reaches_inherited_test_methods(toy: ToyAdapter) -> None:
    class Base:
        def test_inherited(self, stub_get):
            toy_call("svc", "get", {"i": 1})
            return stub_get.call_body

        def helper(self):
            return "untouched"

    @_stub()
    class Case(Base):
        def test_own(self, stub_get):
            return stub_get.call_count

    assert Case().test_inherited() == {"i": 1}
    assert Case().test_own() == 0
    assert Case().helper() == "untouched"
    assert Base().helper() == "untouched" and "patchings" not in vars(Base.test_inherited)


# re-entering ----------------------------------------------------------------------------------------


def test_reentering_one_stub_yields_the_same_handle_and_keeps_recording(toy: ToyAdapter) -> None:
    stub = _stub()
    with stub as first:
        toy_call("svc", "get", {"n": 1})
        with stub as second:
            assert second is first
            toy_call("svc", "get", {"n": 2})
        assert stub.enabled and toy.host.active  # the inner exit does not stop the outer stub
        toy_call("svc", "get", {"n": 3})
    assert not stub.enabled and not toy.host.active
    assert first.call_bodies == ({"n": 1}, {"n": 2}, {"n": 3})
    assert len([s for s in router.active("toy")]) == 0


@pytest.mark.rpctest(strict=False)  # its stubs are entered, never called
def test_start_twice_then_stop_twice(toy: ToyAdapter) -> None:
    stub = _stub()
    assert stub.start() is stub.start()
    assert len(router.active("toy")) == 1
    stub.stop()
    stub.stop()
    assert router.active("toy") == [] and not toy.host.active
    stub.stop()  # stopping a stopped stub does nothing, as pysoa's
    with stub as fresh:  # entered again after it stopped: a new handle, as pysoa's
        assert fresh.call_count == 0


def test_a_stub_decorating_a_test_and_entered_inside_it(toy: ToyAdapter) -> None:
    stub = _stub()

    @stub
    def fn(outer):
        with stub as inner:
            toy_call("svc", "get", {})
        return inner is outer, outer.call_count

    assert fn() == (True, 1)


def test_call_bodies_is_a_tuple(toy: ToyAdapter) -> None:
    with _stub() as handle:
        assert handle.call_bodies == ()
        toy_call("svc", "get", {"a": 1})
        toy_call("svc", "get", {"a": 2})
    assert handle.call_bodies == ({"a": 1}, {"a": 2})


def test_body_errors_and_side_effect_are_positional_as_in_pysoa(toy: ToyAdapter) -> None:
    with stub_action("svc", "get", {"x": 2}, stack="toy"):
        assert toy_call("svc", "get", {}) == {"x": 2}
    with stub_action("svc", "get", None, None, lambda body: {"seen": body}, stack="toy"):
        assert toy_call("svc", "get", {"a": 1}) == {"seen": {"a": 1}}


@pytest.mark.parametrize("module", [unittest.mock, mock_backport], ids=["unittest.mock", "mock-backport"])
def test_patch_multiple_and_patch_dict_around_a_stub(toy: ToyAdapter, module) -> None:
    """patch.multiple passes keywords (its ``attribute_name`` is set); patch.dict wraps on its own."""
    settings: dict[str, int] = {}

    @module.patch.dict(settings, {"level": 3})
    @module.patch.multiple("random", randint=module.DEFAULT)
    @_stub()
    def fn(stub_get, randint):
        randint.return_value = 6
        toy_call("svc", "get", {})
        return stub_get.call_count, random.randint(0, 1), settings["level"]

    assert fn() == (1, 6, 3)
    assert settings == {}
