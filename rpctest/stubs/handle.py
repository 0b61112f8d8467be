"""The handle a stub gives back: a MagicMock that is called once per stubbed call with the request body.

Being a real ``MagicMock`` means every assertion users already know works
(``assert_called_once_with(body)``, ``call_args_list``, ``reset_mock()``), and a user may still set
``return_value`` or ``side_effect`` on it after the fact, as they would on any mock.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any
from unittest import mock

from rpctest.stubs.copying import copy_body

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.model import Call
    from rpctest.stubs.router import Stub

__all__ = ["StubHandle"]

#: the handle's return_value until a test sets one (then the stub answers with the test's value)
UNSET = _UNSET = mock.sentinel.rpctest_unset
#: the record of one call, as ``MagicMock`` keeps it in ``call_args`` and ``mock_calls``
_Call: Any = getattr(mock, "_Call")
#: the request bodies the fast path recorded and the mock's call lists do not hold yet
_UNFILED = "_rpctest_unfiled"
_FILING = "_rpctest_filing"


def _filed(name: str) -> property:
    """MagicMock's ``name`` property (``call_args``, ``call_args_list``, ``mock_calls``), reading and
    writing the mock's own slot after the fast path's pending records are filed into it."""
    original: property = mock.NonCallableMock.__dict__[name]

    def get(self: "StubHandle") -> Any:
        self._rpctest_file()
        return original.__get__(self)

    def set_(self: "StubHandle", value: Any) -> None:
        self._rpctest_file()
        original.__set__(self, value)

    return property(get, set_, doc=original.__doc__)


class StubHandle(mock.MagicMock):
    """What ``stub_action`` yields: ``called``, ``call_count``, ``call_body``, ``call_bodies`` and more."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__[_UNFILED] = []
        self.__dict__[_FILING] = threading.Lock()
        self.return_value = _UNSET

    # the call records the fast path defers (see _rpctest_record), filed before anyone sees them
    call_args = _filed("call_args")
    call_args_list = _filed("call_args_list")
    mock_calls = _filed("mock_calls")

    def _get_child_mock(self, **kwargs: Any) -> mock.MagicMock:
        # Children (handle.foo, handle.return_value) are plain mocks, not stub handles.
        return mock.MagicMock(**kwargs)

    @property
    def call_body(self) -> Any:
        """The request body of the most recent call (None if never called)."""
        args = self.call_args
        return None if args is None else args[0][0]

    @property
    def call_bodies(self) -> tuple[Any, ...]:
        """The request bodies of all calls, oldest first: a tuple, as pysoa.test's stub has it, so
        ``assert stub.call_bodies == ({"id": 1},)`` keeps passing after a migration."""
        return tuple(args[0][0] for args in self.call_args_list)

    @property
    def calls(self) -> list["Call"]:
        """The neutral calls (with stack, service, operation and meta such as PySOA context)."""
        return list(self.__dict__.setdefault("_rpctest_calls", []))

    @property
    def stub(self) -> "Stub":
        stub: Stub = self.__dict__["_rpctest_stub"]
        return stub

    def _rpctest_record(self, call: "Call") -> Any:
        """Record ``call`` exactly as MagicMock records a call; returns what the mock itself returned.

        A handle nobody configured, attached or wrapped (the common case) is recorded by counting the
        call and keeping the copied body; the ``_Call`` records ``MagicMock.__call__`` would make
        are made from those bodies when ``call_args``, ``call_args_list`` or ``mock_calls`` is first
        read (:meth:`_rpctest_file`), and are then the same. The mock's own call machinery is most of
        a stub's cost per call (issue 21), most calls' records are never read, and what the mock does
        beyond recording (a signature check, a parent's records, a side effect, a return value) has
        nothing to do for such a handle. Any other handle takes the mock's own way.
        """
        state = self.__dict__
        state.setdefault("_rpctest_calls", []).append(call)
        body = copy_body(call.body)
        if (
            state.get("_mock_side_effect") is None
            and state.get("_mock_return_value") is _UNSET
            and state.get("_mock_new_parent") is None
            and state.get("_mock_parent") is None
            and state.get("_mock_delegate") is None
            and state.get("_mock_wraps") is None
            and "_mock_check_sig" not in type(self).__dict__  # no spec'd signature to check
        ):
            state["_mock_called"] = True
            state["_mock_call_count"] += 1
            state[_UNFILED].append(body)
            return _UNSET
        return mock.MagicMock.__call__(self, body)

    def _rpctest_file(self) -> None:
        """File the fast path's pending calls into the mock's lists, as ``MagicMock.__call__`` would
        have recorded them, oldest first."""
        state = self.__dict__
        unfiled = state.get(_UNFILED)
        if not unfiled:
            return
        # A stub server's thread may record while the test's thread reads: records only append (no
        # lock on the fast path), filing takes what is there under a lock and leaves later ones.
        with state[_FILING]:
            count = len(unfiled)
            if not count:
                return
            recorded = None
            for body in unfiled[:count]:
                args = (body,)
                recorded = _Call((args, {}), two=True)
                state["_mock_call_args_list"].append(recorded)
                state["_mock_mock_calls"].append(_Call(("", args, {})))
            state["_mock_call_args"] = recorded
            del unfiled[:count]

    def _rpctest_user_configured(self) -> bool:
        """True when a test set ``return_value`` or ``side_effect`` on the handle itself."""
        # read the mock's slots directly: the side_effect/return_value properties cost microseconds
        return self._mock_side_effect is not None or self._mock_return_value is not _UNSET

    def reset_mock(self, *args: Any, **kwargs: Any) -> None:
        super().reset_mock(*args, **kwargs)
        if kwargs.get("return_value"):
            self.return_value = _UNSET
        self.__dict__["_rpctest_calls"] = []
