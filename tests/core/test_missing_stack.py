"""A missing stack library gets a message naming the extra to install, never a deep traceback."""

from __future__ import annotations

import sys

import pytest

from rpctest import stub_action
from rpctest.exceptions import StackUnavailable


@pytest.fixture
def no_pysoa(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import pysoa`` fail as it does where the extra is not installed."""
    for name in [m for m in sys.modules if m == "pysoa" or m.startswith("pysoa.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pysoa", None)


def test_stub_names_the_extra(no_pysoa: None) -> None:
    stub = stub_action("users", "get_user", body={})  # declaring a stub needs no stack library
    with pytest.raises(StackUnavailable, match=r"pip install 'rpctest\[pysoa\]'"):
        stub.start()


def test_in_process_server_names_the_extra(no_pysoa: None) -> None:
    from rpctest.stacks.pysoa import serve

    with pytest.raises(StackUnavailable, match=r"rpctest\[pysoa\]"):
        serve(object)


def test_fixture_names_the_extra(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_x="""
import sys

def test_x(request, monkeypatch):
    for name in [m for m in sys.modules if m == "pysoa" or m.startswith("pysoa.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pysoa", None)
    request.getfixturevalue("pysoa_service")(object)
"""
    )
    result = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider", "-p", "no:pysoa_test_fixtures")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*StackUnavailable*rpctest[[]pysoa[]]*"])
