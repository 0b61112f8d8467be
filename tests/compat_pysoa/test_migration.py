"""The migration promise: a pysoa.test suite passes after changing ``pysoa.test`` to
``rpctest.compat.pysoa_test`` in its imports, and nothing else.

``legacy/`` holds such a suite, written against pysoa.test from pysoa's documentation. Each test here
copies part of it into a scratch directory, as it is or with only its imports rewritten, and runs
pytest on it in a subprocess (as the team would), with ResourceWarning and unraisable exceptions as
errors. The unmigrated runs show what pysoa.test itself does on this pytest.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

HERE = Path(__file__).parent
LEGACY = HERE / "legacy"
SUPPORT = {"accountsvc.py": HERE / "accountsvc.py", "accounts_settings.py": LEGACY / "accounts_settings.py"}
IMPORT = re.compile(r"^(\s*(?:from|import)\s+)pysoa\.test\b", re.MULTILINE)
STRICT = ("-W", "error::ResourceWarning", "-W", "error::pytest.PytestUnraisableExceptionWarning")


def migrate(source: str) -> str:
    """The one change a migrating team makes: ``pysoa.test`` -> ``rpctest.compat.pysoa_test`` in imports."""
    return IMPORT.sub(r"\1rpctest.compat.pysoa_test", source)


def count_tests(source: str) -> int:
    return len(re.findall(r"^\s*def test_", source, re.MULTILINE))


def run_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, names: list[str], *, migrated: bool) -> pytest.RunResult:
    """Run ``names`` from legacy/; migrated runs treat leaked loops and sockets as errors, pysoa's own
    runs cannot (each of its local-transport servers leaks an event loop)."""
    for target, source in SUPPORT.items():
        (pytester.path / target).write_text(source.read_text())
    for name in names:
        source = (LEGACY / name).read_text()
        (pytester.path / f"test_{name}").write_text(migrate(source) if migrated else source)
    monkeypatch.setenv("PYSOA_SETTINGS_MODULE", "accounts_settings")
    strict = STRICT if migrated else ()
    return pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider", "-p", "no:xdist", *strict, "-rfE")


def test_migration_changes_only_import_lines():
    for path in LEGACY.glob("*.py"):
        before, after = path.read_text().splitlines(), migrate(path.read_text()).splitlines()
        changed = [(old, new) for old, new in zip(before, after) if old != new]
        assert all(re.match(r"\s*(from|import) ", old) for old, _ in changed), changed
        assert all("pysoa.test" not in new for _, new in changed)


MIGRATED = ["server_cases.py", "stubs.py", "fixtures.py"]


def test_migrated_suite_passes(pytester, monkeypatch):
    result = run_suite(pytester, monkeypatch, MIGRATED, migrated=True)
    expected = sum(count_tests((LEGACY / name).read_text()) for name in MIGRATED)
    result.assert_outcomes(passed=expected)


def test_unmigrated_server_cases_do_not_import_on_this_pytest(pytester, monkeypatch):
    """pysoa.test.server imports RaisesContext from _pytest.python_api: gone in pytest 8.4 and 9."""
    result = run_suite(pytester, monkeypatch, ["server_cases.py"], migrated=False)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*RaisesContext*"])


def test_unmigrated_stub_suite_passes_on_pysoa(pytester, monkeypatch):
    """The legacy stub and fixture tests are true of pysoa.test itself (these parts of it still import)."""
    names = ["stubs.py", "fixtures.py"]
    result = run_suite(pytester, monkeypatch, names, migrated=False)
    result.assert_outcomes(passed=sum(count_tests((LEGACY / name).read_text()) for name in names))


def test_unmigrated_stub_protocol_suite_passes_on_pysoa(pytester, monkeypatch):
    result = run_suite(pytester, monkeypatch, ["stub_protocol.py"], migrated=False)
    result.assert_outcomes(passed=4)  # test_expand runs twice (parameterized.expand), the other two once


def test_migrated_stub_protocol_suite_passes(pytester, monkeypatch):
    result = run_suite(pytester, monkeypatch, ["stub_protocol.py"], migrated=True)
    result.assert_outcomes(passed=4)


PYSOA_FIXTURES = ["action_stubber", "server_settings", "service_client_settings", "service_client_class", "service_client"]


def test_plugin_registers_no_pysoa_fixture(pytester):
    """Only an explicit import brings pysoa's fixtures: rpctest's plugin never registers their names."""
    pytester.makepyfile(test_uses="\n".join(f"def test_{name}({name}):\n    pass\n" for name in PYSOA_FIXTURES))
    result = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:pysoa_test_fixtures", "-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(errors=len(PYSOA_FIXTURES))
    result.stdout.fnmatch_lines_random([f"*fixture '{name}' not found*" for name in PYSOA_FIXTURES])
