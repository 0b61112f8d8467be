"""rpctest.plugin_order: predicting whether pysoa's broken plugin aborts a plain ``pytest`` run.

The prediction is checked against real pytest runs in tests/stack_pysoa/test_plugin_pysoa.py; here
every rule is driven by explicit load orders and configuration files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rpctest.plugin_order import _plugin_args, entry_point_order, project_addopts, verdict

ORDERS = {
    "rpctest first": ["asyncio", "rpctest", "pysoa_test_fixtures", "pysoa_test_plan", "xdist"],
    "pysoa first": ["pysoa_test_fixtures", "pysoa_test_plan", "asyncio", "rpctest", "xdist"],
}


def test_order_decides_when_the_configuration_says_nothing() -> None:
    assert not verdict(ORDERS["rpctest first"], "").aborts
    late = verdict(ORDERS["pysoa first"], "")
    assert late.aborts and "which no plugin can change" in late.why


@pytest.mark.parametrize("addopts", ["-p rpctest", "-prpctest", "--strict-markers -p rpctest -q", "--plugin=rpctest"])
def test_p_rpctest_in_addopts_always_blocks(addopts: str) -> None:
    result = verdict(ORDERS["pysoa first"], addopts, Path("pyproject.toml"))
    assert not result.aborts and "pyproject.toml loads rpctest first (-p rpctest)" in result.why


def test_disabling_the_plugin_itself_or_rpctest() -> None:
    assert not verdict(ORDERS["pysoa first"], "-p no:pysoa_test_plan").aborts
    assert verdict(ORDERS["rpctest first"], "-p no:rpctest").aborts


def test_no_pysoa_plugin_no_abort() -> None:
    assert not verdict(["asyncio", "rpctest"], "").aborts


def test_plugin_args_forms() -> None:
    assert _plugin_args("-p a -pb --plugin=c -q 'x y' -p") == ["a", "b", "c"]
    assert _plugin_args("-p 'unbalanced") == ["'unbalanced"]  # no crash; pytest itself reports the quoting


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("pytest.ini", "[pytest]\naddopts = -p rpctest\n", "-p rpctest"),
        ("pytest.ini", "", ""),  # pytest.ini counts even when empty, as in pytest
        ("pyproject.toml", '[tool.pytest.ini_options]\naddopts = "-p rpctest -q"\n', "-p rpctest -q"),
        ("pyproject.toml", '[tool.pytest]\naddopts = ["-p", "rpctest"]\n', "-p rpctest"),
        ("tox.ini", "[pytest]\naddopts = -p no:pysoa_test_plan\n", "-p no:pysoa_test_plan"),
        ("setup.cfg", "[tool:pytest]\naddopts = -p rpctest\n", "-p rpctest"),
    ],
)
def test_project_addopts_reads_the_file_pytest_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str, expected: str) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    (tmp_path / name).write_text(text)
    inner = tmp_path / "tests" / "unit"
    inner.mkdir(parents=True)
    assert project_addopts(inner) == (tmp_path / name, expected)


def test_files_that_do_not_configure_pytest_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p rpctest")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "tox.ini").write_text("[tox]\nenvlist = py311\n")
    found, addopts = project_addopts(sub)
    assert addopts == "-p rpctest"  # PYTEST_ADDOPTS still counts
    assert found is None


def test_entry_point_order_of_this_environment_lists_rpctest_once() -> None:
    order = entry_point_order()
    assert order.count("rpctest") == 1
