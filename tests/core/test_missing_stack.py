"""A missing stack library gets a message saying how to get it (or why not here), never a deep traceback."""

from __future__ import annotations

import sys

import pytest

from rpctest import stub_action
from rpctest.exceptions import StackUnavailable, StubUsageError
from rpctest.stacks.environments import install_advice


@pytest.fixture
def no_pysoa(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import pysoa`` fail as it does where the extra is not installed."""
    for name in [m for m in sys.modules if m == "pysoa" or m.startswith("pysoa.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pysoa", None)


def test_a_pysoa_stub_gives_the_install_advice(no_pysoa: None) -> None:
    stub = stub_action("users", "get_user", body={}, stack="pysoa")  # declaring a stub needs no stack library
    with pytest.raises(StackUnavailable) as caught:
        stub.start()
    message = str(caught.value)
    # the advice of this environment: the commands where PySOA fits, why not where its pins break something
    assert install_advice("pysoa") in message
    assert "'pysoa<2,>=1.4.9'" in message or "install rpctest there as docs/install.md shows for PySOA" in message
    assert "'rpctest[" not in message


def test_in_process_server_gives_the_install_advice(no_pysoa: None) -> None:
    from rpctest.stacks.pysoa import serve

    with pytest.raises(StackUnavailable) as caught:
        serve(object)
    assert str(caught.value).startswith("pysoa is not importable (") and install_advice("pysoa") in str(caught.value)


def test_the_pysoa_test_compat_layer_gives_the_install_advice(no_pysoa: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """``rpctest.compat.pysoa_test`` imports pysoa (its names are pysoa classes): without it, the advice."""
    for name in [m for m in sys.modules if m.startswith(("rpctest.compat.pysoa_test", "rpctest.stacks.pysoa.pysoa_test"))]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(StackUnavailable) as caught:
        import rpctest.compat.pysoa_test  # noqa: F401
    assert install_advice("pysoa") in str(caught.value)


def test_an_unconfigured_service_without_pysoa_asks_for_its_stack(no_pysoa: None) -> None:
    with pytest.raises(StubUsageError) as caught:
        stub_action("payments", "charge", body={})
    message = str(caught.value)
    assert "which stack does service 'payments' speak?" in message
    assert "configured services: " in message and "PySOA, the default for unconfigured services, is not installed here" in message
    assert "Pass stack= (one of pysoa, pykern, zerojson, kyoukai, asyncapy; installed here: " in message
    assert "[tool.rpctest.services.payments]\n    stack = " in message


def test_the_message_lists_the_configured_services(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
[tool.rpctest.services.wallet]
stack = "pykern"

[tool.rpctest.services."com.example.shop"]
stack = "zerojson"
"""
    )
    pytester.makepyfile(
        test_x="""
import sys
import pytest
from rpctest import stub_action

def test_x(monkeypatch):
    monkeypatch.setitem(sys.modules, "pysoa", None)
    stub_action("wallet", "balance", body={})  # configured: fine
    stub_action("payments.v2", "charge", body={})
"""
    )
    result = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider", "-p", "no:pysoa_test_fixtures", "-p", "no:pysoa_test_plan")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_x.py:8: in test_x",
            "*StubUsageError: which stack does service 'payments.v2' speak?*configured services: com.example.shop (zerojson), wallet (pykern)*",
            'E       [[]tool.rpctest.services."payments.v2"[]]',
        ]
    )
    # the user's line and the message; none of rpctest's own frames
    assert "rpctest/stubs/api.py" not in result.stdout.str()


def test_fixture_failure_shows_the_advice_not_rpctests_frames(pytester: pytest.Pytester) -> None:
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
    args = ("-p", "rpctest", "-p", "no:cacheprovider", "-p", "no:pysoa_test_fixtures", "-p", "no:pysoa_test_plan")
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_x.py:7: in test_x", "*StackUnavailable: pysoa is not importable*PySOA*"])
    assert "rpctest/stacks/" not in result.stdout.str() and "_pytest/" not in result.stdout.str()
    full = pytester.runpytest_subprocess(*args, "--full-trace")
    assert "rpctest/stacks/base.py" in full.stdout.str()  # --full-trace still shows everything


def test_in_an_rpctest_toml_the_message_names_its_own_table(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", rpctest='[services.wallet]\nstack = "pykern"\n')
    pytester.makepyfile(
        test_x="""
import sys
from rpctest import stub_action

def test_x(monkeypatch):
    monkeypatch.setitem(sys.modules, "pysoa", None)
    stub_action("payments", "charge", body={})
"""
    )
    result = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider", "-p", "no:pysoa_test_fixtures", "-p", "no:pysoa_test_plan")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*rpctest.toml names no [[]services.payments[]]; configured services: wallet (pykern)*", "E       [[]services.payments[]]"])



def test_missing_kyoukai_next_to_werkzeug_3_gets_the_advice_not_a_type_error() -> None:
    """Kyoukai absent and werkzeug 3 installed (a Flask project, say): the advice names the werkzeug pin
    and what installing Kyoukai's would break, instead of the rule crashing on its own lookups."""
    from rpctest.stacks.kyoukai.host import install_problem

    versions = {"werkzeug": "3.1.9", "flask": "3.1.0"}

    def requirers(distribution: str) -> list[tuple[str, str]]:
        return [("flask 3.1.0", ">=3.1")] if distribution == "werkzeug" else []

    found = install_problem(versions.get, lambda module: module != "kyoukai", requirers)
    assert found is not None
    what, fix = found
    assert what == "Kyoukai is not installed"
    assert fix.startswith("Do not install Kyoukai into this environment: ")
    assert "werkzeug" in fix and "flask 3.1.0" in fix
