"""The plugin in a real pytest run (subprocesses): strict stubs, markers, ini options, pysoa's broken plugin."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

STUB_TESTS = """
import pytest
from pysoa.client.client import Client
from rpctest import stub_action

def test_never_called(rpc_stub):
    rpc_stub("users", "get_user", body={})

@stub_action("users", "get_user", body={})
def test_decorated_never_called(stub_get_user):
    pass

def test_unknown_service_swallowed(rpc_stub):
    rpc_stub("users", "get_user", body={})
    Client({}).call_action("users", "get_user")
    try:
        Client({}).call_action("billing", "charge")
    except AssertionError:
        pass

@pytest.mark.rpctest(strict=False)
def test_relaxed(rpc_stub):
    rpc_stub("users", "get_user", body={})

def test_called(rpc_stub):
    stub = rpc_stub("users", "get_user", body={"ok": 1})
    assert Client({}).call_action("users", "get_user").body == {"ok": 1}

def test_failing_test_reports_its_own_failure(rpc_stub):
    rpc_stub("users", "get_user", body={})
    assert False, "the test's own failure"
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider", *args)


def test_strict_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_stubs=STUB_TESTS)
    result = _run(pytester)
    result.assert_outcomes(passed=5, failed=1, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_never_called*",
            "*stub stub_action('users', 'get_user', stack='pysoa') was never called*",
            "*No stub matches pysoa call billing.charge*",
            "*the test's own failure*",
        ]
    )
    assert "test_failing_test_reports_its_own_failure - " in result.stdout.str()
    assert "ERROR at teardown of test_failing_test_reports_its_own_failure" not in result.stdout.str()


def test_relaxed_for_the_suite_by_ini(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_stubs=STUB_TESTS)
    pytester.makeini("[pytest]\nrpctest_strict = false\n")
    _run(pytester).assert_outcomes(passed=5, failed=1)


def test_relaxed_by_command_line_over_pyproject(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_stubs=STUB_TESTS)
    pytester.makepyprojecttoml("[tool.rpctest]\nstrict = true\n")
    _run(pytester, "--rpctest-no-strict").assert_outcomes(passed=5, failed=1)


def test_relaxed_for_a_module_by_pytestmark(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_stubs="import pytest\npytestmark = pytest.mark.rpctest(strict=False)\n" + STUB_TESTS)
    _run(pytester).assert_outcomes(passed=5, failed=1)


def test_bad_configuration_names_the_key(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    pytester.makepyprojecttoml("[tool.rpctest.services.users]\nstack = 'pysao'\n")
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*tool.rpctest.services.users.stack*pysao*"])


def test_stack_comes_from_configuration(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.rpctest.services.orders]\nstack = 'zerojson'\n")
    pytester.makepyfile(
        test_x="""
from rpctest import stub_action
from rpctest.stubs.api import resolve_stack
def test_x():
    assert resolve_stack("orders", None) == "zerojson"
    assert resolve_stack("users", None) == "pysoa"
    assert resolve_stack("orders", "pysoa") == "pysoa"
"""
    )
    _run(pytester).assert_outcomes(passed=1)


def test_rpctest_blocks_pysoa_test_plan(pytester: pytest.Pytester) -> None:
    """pysoa 1.4.9's auto-loaded plan plugin aborts pytest >= 8.3; ``-p rpctest`` keeps it out."""
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest_subprocess("-p", "rpctest")
    result.assert_outcomes(passed=1)
    assert "pysoa_test_plan" not in result.stderr.str()


def test_without_rpctest_the_pysoa_plan_plugin_aborts(pytester: pytest.Pytester) -> None:
    """The upstream defect our docs describe is real here (if pysoa ever fixes it, update the docs)."""
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest_subprocess("-p", "no:rpctest")
    assert result.ret != 0
    assert "cannot import name 'Instance'" in result.stderr.str()
    fixed = pytester.runpytest_subprocess("-p", "no:rpctest", "-p", "no:pysoa_test_plan")
    fixed.assert_outcomes(passed=1)


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, rpctest.pytest_plugin, rpctest;"
        "heavy = [m for m in ('pysoa', 'conformity', 'hypothesis', 'fakeredis', 'redis', 'jsonschema', "
        "'pykern', 'zmq', 'kyoukai', 'asyncapy', 'tornado', 'msgpack') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
