"""rpctest.doctor: every bad-install rule, driven by fake metadata lookups."""

from __future__ import annotations

import json
from typing import Mapping

import pytest

from rpctest import doctor
from rpctest.doctor import Problem, StackReport
from rpctest.stacks import STACKS

#: a healthy environment with all five stacks installed the way the docs say
HEALTHY_VERSIONS = {
    "pytest": "8.2.2",
    "msgpack": "1.0.8",
    "attrs": "21.4.0",
    "pysoa": "1.4.9",
    "pykern": "20260915.70934",
    "tornado": "6.4",
    "py": "1.11.0",
    "six": "1.17.0",
    "pyzmq": "27.3.0",
    "kyoukai": "2.2.1.post1",
    "werkzeug": "2.3.8",
    "h2": "4.4.1",
    "asyncapy": "0.5.0",
    "trio": "0.24.0",
    "ziproto": "1.0",
}
HEALTHY_MODULES = {"pysoa", "pykern", "pykern.api", "zmq", "kyoukai", "httptools", "werkzeug", "asphalt", "h2", "httpx", "asyncapy"}


#: what installed distributions require of the distributions stacks pin (as their metadata says)
REQUIRES = {
    "pysoa": {"msgpack": ">=0.6.2,~=0.6", "attrs": "<22,>=18.2", "redis": "<4.0,>=2.10"},
    "pykern": {"msgpack": ">=1.0"},
    "trio": {"attrs": ">=23.2.0"},
    "jsonschema": {"attrs": ">=22.2.0"},
}


class Fakes:
    """Injected lookups: distribution names compare case-insensitively, as importlib.metadata does."""

    def __init__(self, versions: Mapping[str, str | None], modules: set[str]) -> None:
        self.versions = {name.lower(): v for name, v in versions.items() if v is not None}
        self.modules = set(modules)

    def requirers(self, dist: str) -> list[tuple[str, str]]:
        return [(f"{who} {self.versions[who]}", needs[dist]) for who, needs in REQUIRES.items() if who in self.versions and dist in needs]

    def version_of(self, dist: str) -> str | None:
        return self.versions.get(dist.lower())

    def has_module(self, name: str) -> bool:
        return name in self.modules


def run(changes: Mapping[str, str | None] | None = None, *, drop: set[str] = frozenset(), add=frozenset()):
    versions = {**HEALTHY_VERSIONS, **(changes or {})}
    fakes = Fakes(versions, (HEALTHY_MODULES - set(drop)) | set(add))
    return {r.stack: r for r in doctor.diagnose(version_of=fakes.version_of, has_module=fakes.has_module, has_adapter=lambda name: True, requirers=fakes.requirers)}


def messages(report: StackReport) -> str:
    return "\n".join(f"{p.severity}|{p.message}|{p.fix}" for p in report.problems)


# --------------------------------------------------------------------------------------------------
# the healthy baseline


def test_healthy_environment_all_usable_in_stacks_order() -> None:
    fakes = Fakes(HEALTHY_VERSIONS, HEALTHY_MODULES)
    reports = doctor.diagnose(version_of=fakes.version_of, has_module=fakes.has_module, has_adapter=lambda name: True, requirers=fakes.requirers)
    assert [r.stack for r in reports] == list(STACKS)
    assert {r.stack: r.status for r in reports} == dict.fromkeys(STACKS, "usable")
    assert all(r.problems == [] for r in reports)
    assert not doctor.has_errors(reports)
    assert reports[0].versions["pysoa"] == "1.4.9"
    assert reports[2].versions["pyzmq"] == "27.3.0"


# --------------------------------------------------------------------------------------------------
# missing stacks


#: an environment holding one stack alone, as its pins leave it (versions of the shared distributions)
ALONE = {
    "pysoa": ({"pysoa": "1.4.9", "msgpack": "0.6.2", "attrs": "21.4.0", "redis": "3.5.3"}, {"pysoa"}),
    "pykern": ({"pykern": "20260915.70934", "msgpack": "1.2.4", "tornado": "6.6.1", "py": "1.11.0", "six": "1.17.0"}, {"pykern", "pykern.api"}),
    "zerojson": ({"pyzmq": "27.3.0"}, {"zmq"}),
    # rpctest alone: jsonschema >= 4.18 (attrs >= 22.2) and a msgpack nothing else depends on
    "core": ({"jsonschema": "4.26.0", "attrs": "25.3.0", "msgpack": "1.2.4"}, set()),
}


def alone(stack: str) -> dict[str, StackReport]:
    versions, modules = ALONE[stack]
    fakes = Fakes(versions, modules)
    return {r.stack: r for r in doctor.diagnose(version_of=fakes.version_of, has_module=fakes.has_module, has_adapter=lambda name: True, requirers=fakes.requirers)}


@pytest.mark.parametrize("stack", list(STACKS))
def test_a_missing_stack_that_fits_gets_its_install_commands(stack: str) -> None:
    from rpctest.stacks.environments import INSTALLS

    report = alone("pysoa" if stack == "zerojson" else "zerojson")[stack]  # next to pyzmq alone, nothing conflicts
    assert report.status == "missing"
    fix = report.problems[0].fix
    assert fix.startswith("Install it with: ")
    for command in INSTALLS[stack].commands():
        assert command in fix
    # rpctest is not on PyPI: the advice installs what the extra brings, never the extra by name
    assert "'rpctest[" not in fix


@pytest.mark.parametrize(
    ("here", "missing", "named"),
    [
        ("pykern", "pysoa", ["pysoa 1.4.9 needs msgpack>=0.6,<1.0", "msgpack 1.2.4, which pykern 20260915.70934 (msgpack>=1.0) needs"]),
        ("pysoa", "pykern", ["pykern.api needs msgpack>=1.0", "msgpack 0.6.2, which pysoa 1.4.9 (msgpack>=0.6.2,~=0.6) needs"]),
        ("pysoa", "asyncapy", ["trio, which AsyncAPY runs on, needs attrs>=23.2.0", "attrs 21.4.0, which pysoa 1.4.9 (attrs<22,>=18.2) needs"]),
        # pip would move attrs under jsonschema (rpctest's own dependency); msgpack may move, nothing needs 1.x
        ("core", "pysoa", ["pysoa 1.4.9 needs attrs<22, and this environment has attrs 25.3.0, which jsonschema 4.26.0 (attrs>=22.2.0) needs"]),
    ],
)
def test_a_missing_stack_whose_pins_conflict_is_never_advised_into_this_environment(here: str, missing: str, named: list[str]) -> None:
    report = alone(here)[missing]
    assert report.status == "missing"
    fix = report.problems[0].fix
    assert fix.startswith("Do not install ")
    for text in named:
        assert text in fix
    assert ("msgpack" in fix) == ("asyncapy" not in (here, missing) and here != "core")
    assert f"(python -m venv .venv-{missing}) and install rpctest there as docs/install.md shows for " in fix


def test_stacks_without_shared_pins_fit_anywhere() -> None:
    for here in ALONE:
        for stack in ("zerojson", "kyoukai"):
            if stack != here:
                assert alone(here)[stack].problems[0].fix.startswith("Install it with: ")


def test_missing_stacks_do_not_count_as_findings() -> None:
    reports = run({s: None for s in ("pysoa", "pykern", "pyzmq", "kyoukai", "asyncapy")}, drop=HEALTHY_MODULES)
    assert {r.status for r in reports.values()} == {"missing"}
    assert not doctor.has_errors(reports.values())


def test_metadata_without_module_is_broken() -> None:
    report = run(drop={"kyoukai"})["kyoukai"]
    assert report.status == "broken"
    assert "Kyoukai 2.2.1.post1 is installed but its module 'kyoukai' cannot be found" in messages(report)
    assert doctor.has_errors([report])


# --------------------------------------------------------------------------------------------------
# pysoa


@pytest.mark.parametrize("pytest_version", ["8.3.0", "8.4.2", "9.2.0", "10.0"])
@pytest.mark.parametrize("aborts", [True, False])
def test_pysoa_with_new_pytest_warns_about_its_plugin(pytest_version: str, aborts: bool) -> None:
    from rpctest.plugin_order import Verdict

    fakes = Fakes({**HEALTHY_VERSIONS, "pytest": pytest_version}, HEALTHY_MODULES)
    reports = doctor.diagnose(
        version_of=fakes.version_of,
        has_module=fakes.has_module,
        has_adapter=lambda name: True,
        requirers=fakes.requirers,
        plain_pytest=lambda: Verdict(aborts, "THE REASON"),
    )
    report = reports[0]
    assert report.stack == "pysoa" and report.status == "usable"  # pysoa itself works: a warning only
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert problem.severity == "warning"
    assert "pysoa_test_plan" in problem.message and "cannot import name 'Instance'" in problem.message
    assert "THE REASON" in problem.message
    if aborts:
        assert "a plain pytest in this project aborts" in problem.message
        assert problem.fix.startswith("add -p rpctest to addopts in your pytest configuration")
    else:
        assert "a plain pytest in this project does not abort" in problem.message
        assert problem.fix.startswith("keep -p rpctest in addopts")
    assert not doctor.has_errors([report])


@pytest.mark.parametrize("pytest_version", ["8.2.2", "7.4.4", "5.3.5"])
def test_pysoa_with_old_pytest_is_clean(pytest_version: str) -> None:
    assert run({"pytest": pytest_version})["pysoa"].problems == []


# --------------------------------------------------------------------------------------------------
# pykern


def test_pykern_without_api_is_broken() -> None:
    report = run({"pykern": "20200220.1"}, drop={"pykern.api"})["pykern"]
    assert report.status == "broken"
    text = messages(report)
    assert "pykern 20200220.1 has no pykern.api" in text
    assert report.problems[0].fix.startswith("reinstall pykern.api light. ")
    constrained = 'pip install -c "$(rpctest constraints pykern --path)"'
    assert f"{constrained} --no-deps pykern; {constrained} 'tornado>=6.1' 'msgpack>=1.0' 'py' 'six'" in report.problems[0].fix


@pytest.mark.parametrize("msgpack", ["0.6.2", None])
def test_pykern_with_old_or_no_msgpack_is_broken(msgpack: str | None) -> None:
    report = run({"msgpack": msgpack})["pykern"]
    assert report.status == "broken"
    assert [p.severity for p in report.problems] == ["error"]
    assert "pykern.api needs msgpack >= 1.0" in report.problems[0].message
    # the healthy fake has pysoa installed, which holds msgpack<1.0: moving msgpack would break it
    fix = report.problems[0].fix
    if msgpack is None:
        assert 'Install it with: pip install -c "$(rpctest constraints pykern --path)" --no-deps pykern' in fix
    else:
        assert "Do not install pykern.api into this environment" in fix and "which pysoa 1.4.9 (msgpack>=0.6.2,~=0.6) needs" in fix


def test_pykern_missing_runtime_dependencies() -> None:
    report = run({"tornado": None, "six": None})["pykern"]
    assert report.status == "broken"
    assert "pykern.api needs tornado, six at run time" in messages(report)
    assert "|pip install tornado six" in messages(report)


def test_pykern_with_msgpack_1_is_clean() -> None:
    assert run({"msgpack": "1.1.0"})["pykern"].problems == []


# --------------------------------------------------------------------------------------------------
# zerojson


def test_pycom_060_is_a_warning() -> None:
    report = run({"pycom": "0.6.0"})["zerojson"]
    assert report.status == "usable"
    assert report.problems[0].severity == "warning"
    assert report.problems[0].message == (
        "pycom 0.6.0 cannot be imported on Python 3.7+ (module named async); "
        "rpctest's ZeroJSON support needs only pyzmq"
    )
    assert report.versions["pycom"] == "0.6.0"


def test_zerojson_needs_only_pyzmq() -> None:
    report = run()["zerojson"]
    assert report.status == "usable" and report.problems == []
    assert report.versions["pycom"] is None


# --------------------------------------------------------------------------------------------------
# kyoukai


def test_kyoukai_214_is_broken() -> None:
    """The doctor runs the adapter's own install rule (rpctest.stacks.kyoukai.host.install_problem)."""
    report = run({"kyoukai": "2.1.4"})["kyoukai"]
    assert report.status == "broken"
    assert report.problems == [
        Problem(
            "Kyoukai 2.1.4 is installed, but rpctest supports Kyoukai 2.2.1.post1 (and 2.2.1) (pip picks 2.1.4 when it "
            "resolves Kyoukai's own pins next to packages that need newer werkzeug or httptools, e.g. schemathesis)",
            "pip install --no-deps --force-reinstall Kyoukai==2.2.1.post1 && "
            "pip install httptools==0.9.0 werkzeug==2.3.8 asphalt==4.12.0 h2==4.4.1 httpx",
            "error",
        )
    ]


def test_older_kyoukai_is_broken_with_its_version() -> None:
    report = run({"kyoukai": "2.0.5"})["kyoukai"]
    assert report.status == "broken"
    assert "Kyoukai 2.0.5 is installed, but rpctest supports Kyoukai 2.2.1.post1" in messages(report)


def test_kyoukai_without_its_dependencies_or_on_werkzeug_3_is_broken() -> None:
    assert "installed without httptools, httpx" in messages(run(drop={"httptools", "httpx"})["kyoukai"])
    assert "does not import on werkzeug 3" in messages(run({"werkzeug": "3.1.9"})["kyoukai"])


@pytest.mark.parametrize("version", ["2.2.1.post1", "2.2.1"])
def test_supported_kyoukai_is_usable(version: str) -> None:
    assert run({"kyoukai": version})["kyoukai"].status == "usable"


# --------------------------------------------------------------------------------------------------
# asyncapy


def test_asyncapy_without_ziproto_is_broken() -> None:
    report = run({"ziproto": None})["asyncapy"]
    assert report.status == "broken"
    assert "AsyncAPY cannot be imported without ziproto" in messages(report)
    assert report.problems[0].fix == "pip install ziproto"


# --------------------------------------------------------------------------------------------------
# the environment header, rendering and JSON


def test_environment_lists_rpctest_python_and_shared_dependencies() -> None:
    env = doctor.environment(version_of=Fakes(HEALTHY_VERSIONS, set()).version_of)
    assert list(env) == ["rpctest", "python", "pytest", "msgpack", "attrs", "jsonschema", "hypothesis"]
    assert env["pytest"] == "8.2.2" and env["jsonschema"] is None
    from rpctest._version import __version__

    assert env["rpctest"] == __version__


def test_render_shows_status_problems_and_fixes() -> None:
    reports = list(run({"kyoukai": "2.1.4", "pytest": "9.2.0", "pykern": None}, drop={"pykern"}).values())
    env = {"rpctest": "0.1.0", "python": "3.11.7", "pytest": "9.2.0", "msgpack": None}
    text = doctor.render(reports, env)
    lines = text.splitlines()
    assert lines[0] == "rpctest 0.1.0 on Python 3.11.7"
    assert lines[1] == "  pytest 9.2.0, msgpack not installed"
    assert any(line.startswith("kyoukai ") and "broken" in line and "Kyoukai 2.1.4" in line for line in lines)
    assert any(line.startswith("pykern ") and "missing" in line for line in lines)
    assert any(line.startswith('  to use it: Install it with: pip install -c "$(rpctest constraints pykern --path)" --no-deps pykern; ') for line in lines), lines
    assert any(line.startswith("  error: Kyoukai 2.1.4 is installed, but rpctest supports") for line in lines), lines
    assert any(line.startswith("    fix: pip install --no-deps --force-reinstall Kyoukai==2.2.1.post1") for line in lines), lines
    assert "  warning: pysoa's auto-loaded pytest plugin" in text
    assert lines[-1] == "usable stacks: pysoa, zerojson, asyncapy"


def test_to_json_round_trips() -> None:
    reports = list(run({"pycom": "0.6.0"}).values())
    data = json.loads(json.dumps(doctor.to_json(reports, {"rpctest": "0.1.0"})))
    assert data["environment"] == {"rpctest": "0.1.0"}
    zerojson = data["stacks"][2]
    assert zerojson["stack"] == "zerojson" and zerojson["status"] == "usable"
    assert zerojson["problems"][0]["severity"] == "warning"
    assert set(zerojson["problems"][0]) == {"message", "fix", "severity"}


def test_version_comparison_is_numeric() -> None:
    assert doctor._at_least("10.0", (8, 3))
    assert doctor._at_least("8.3", (8, 3, 0))
    assert not doctor._at_least("8.2.99", (8, 3))
    assert not doctor._at_least(None, (1,))
    assert not doctor._at_least("unknown", (1,))
    assert doctor._release("2.2.1.post1") == (2, 2, 1)


# --------------------------------------------------------------------------------------------------
# the real environment of this test run


def test_real_diagnose_in_this_environment() -> None:
    """The core session has no stack library: every stack is reported missing, with its fix."""
    reports = {r.stack: r for r in doctor.diagnose()}
    assert list(reports) == list(STACKS)
    if doctor.module_exists("pysoa"):  # a development venv; tests/stack_pysoa checks this case exactly
        assert reports["pysoa"].status == "usable"
    else:
        from rpctest.stacks.environments import install_advice

        assert reports["pysoa"].status == "missing"
        fix = reports["pysoa"].problems[0].fix
        assert fix == install_advice("pysoa")
        assert "'pysoa<2,>=1.4.9'" in fix or "install rpctest there as docs/install.md shows for PySOA" in fix
    assert not doctor.module_exists("no_such_module_rpctest")
    assert doctor.installed_version("no-such-distribution-rpctest") is None


def test_stacks_without_an_adapter_say_support_is_planned():
    reports = {r.stack: r for r in doctor.diagnose(has_adapter=lambda name: name == "rpctest.stacks.pysoa")}
    assert reports["pykern"].status == "missing"
    (problem,) = reports["pykern"].problems
    assert "no pykern adapter yet" in problem.message and "docs/stacks/pykern.md" in problem.fix
    assert "rpctest[pykern]" not in doctor.render(list(reports.values()))


def test_install_advice_without_packaging_or_rpctests_metadata_still_gives_a_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """An rpctest installed --no-deps has no packaging yet: the advice degrades, it does not crash."""
    import sys

    from rpctest.stacks import environments

    monkeypatch.setitem(sys.modules, "packaging", None)
    for name in [m for m in sys.modules if m.startswith("packaging.")]:
        monkeypatch.setitem(sys.modules, name, None)
    advice = environments.install_advice("pysoa")
    assert advice.startswith("Install it with: ") and '"rpctest[pysoa] @ SOURCE"' in advice
