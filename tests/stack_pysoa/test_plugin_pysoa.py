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
        "import sys, rpctest.pytest_plugin, rpctest.pytest_fixtures, rpctest;"
        "heavy = [m for m in ('pysoa', 'conformity', 'hypothesis', 'fakeredis', 'redis', 'jsonschema', "
        "'pykern', 'zmq', 'kyoukai', 'asyncapy', 'tornado', 'msgpack') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- plain `pytest`: entry-point order, and what rpctest can and cannot block ----------------------------
#
# pytest loads auto-loaded plugins in the order Python lists the installed distributions: sys.path
# entries first to last. A directory on PYTHONPATH holding a copy of one distribution's metadata
# therefore puts that distribution's entry points first, which lets these tests choose the order.


def _first_on_path(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, dist: str) -> None:
    """Make pytest reach ``dist``'s pytest11 entry points before every other distribution's."""
    import importlib.metadata

    real = importlib.metadata.distribution(dist)
    info = pytester.path / "first" / f"{dist}-{real.version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {real.version}\n")
    (info / "entry_points.txt").write_text(real.read_text("entry_points.txt") or "")
    monkeypatch.setenv("PYTHONPATH", str(info.parent))


def _predicted(pytester: pytest.Pytester) -> bool:
    """What rpctest doctor predicts for a plain ``pytest`` in pytester's directory (True: aborts)."""
    code = "from rpctest.doctor import plain_pytest_verdict as v; r = v(); print(r.aborts); print(r.why)"
    out = subprocess.run([sys.executable, "-c", code], cwd=pytester.path, capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.splitlines()[0] == "True"


def test_autoloaded_rpctest_blocks_the_plan_plugin_when_pytest_reaches_it_first(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    _first_on_path(pytester, monkeypatch, "rpctest")
    pytester.makepyfile(test_x="def test_x(rpc_stub): pass")  # rpctest's fixture: it really was autoloaded
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert _predicted(pytester) is False


def test_when_pysoa_comes_first_a_plain_pytest_aborts_and_the_doctor_says_so(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """No plugin can run before an entry point that pytest imports earlier: the fix is configuration."""
    _first_on_path(pytester, monkeypatch, "pysoa")
    pytester.makepyfile(test_x="def test_x(rpc_stub): pass")
    aborted = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert aborted.ret != 0 and "cannot import name 'Instance'" in aborted.stderr.str()
    assert _predicted(pytester) is True
    # the one-flag fix the doctor names: -p rpctest in addopts loads rpctest before every entry point
    pytester.makeini("[pytest]\naddopts = -p rpctest\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert _predicted(pytester) is False


def test_p_no_rpctest_wins_over_addopts(pytester: pytest.Pytester) -> None:
    """``addopts = -p rpctest`` and ``pytest -p no:rpctest``: rpctest is off (its fixtures are gone), and
    pysoa's plugin stays blocked, because rpctest was registered first and blocked it then."""
    pytester.makeini("[pytest]\naddopts = -p rpctest\n")
    pytester.makepyfile(test_x="def test_x(rpc_stub): pass")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:rpctest")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'rpc_stub' not found*"])
    assert "cannot import name 'Instance'" not in result.stderr.str()
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
