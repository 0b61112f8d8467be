"""rpctest doctor in the real PySOA environment (pysoa 1.4.9 with pytest >= 8.3)."""

import importlib.metadata

from rpctest import doctor
from rpctest.cli import main


def test_pysoa_is_usable_with_the_plan_plugin_warning() -> None:
    pysoa = {r.stack: r for r in doctor.diagnose()}["pysoa"]
    assert pysoa.status == "usable"
    assert pysoa.versions["pysoa"] == importlib.metadata.version("pysoa")
    assert doctor._at_least(importlib.metadata.version("pytest"), (8, 3))
    assert [p.severity for p in pysoa.problems] == ["warning"]
    assert "pysoa_test_plan" in pysoa.problems[0].message and "-p rpctest" in pysoa.problems[0].fix


def test_doctor_command_lists_pysoa_usable(capsys) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "usable stacks: pysoa" in out
