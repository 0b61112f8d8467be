"""``rpctest doctor``: which stacks are usable here, and the silent bad installs to fix.

The five stacks pin conflicting dependencies (pysoa 1.4.9: msgpack~=0.6, attrs<22, redis<4;
pykern.api: msgpack>=1.0; trio under AsyncAPY: attrs>=23.2), and several of the resulting bad installs
are silent: pip succeeds and the breakage only shows later, as a confusing import error (an old pykern
without pykern.api, Kyoukai 2.1.4 picked instead of 2.2.1.post1) or a pytest run that aborts (pysoa's
plan plugin on pytest >= 8.3). The doctor recognises each of them from installed metadata and names
the fix, never one that would break another installed stack.

It reads distribution metadata and uses ``importlib.util.find_spec`` instead of importing the stack
libraries, so it stays fast and works even when a library would crash on import. Both lookups are
parameters of :func:`diagnose`, so every rule is testable without installing anything.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal, Mapping, NamedTuple

from rpctest.stacks import STACKS
from rpctest.stacks.environments import Requirers, installed_requirements

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.plugin_order import Verdict

__all__ = [
    "Problem",
    "StackReport",
    "VersionOf",
    "HasModule",
    "diagnose",
    "environment",
    "render",
    "to_json",
    "has_errors",
]

Severity = Literal["error", "warning"]
Status = Literal["usable", "missing", "broken"]
VersionOf = Callable[[str], "str | None"]
HasModule = Callable[[str], bool]

#: distributions reported at the top, besides rpctest and Python: rpctest's own dependencies and
#: the ones whose version decides a stack's health
ENVIRONMENT_DISTRIBUTIONS = ("pytest", "msgpack", "attrs", "jsonschema", "hypothesis")

#: stack -> the distributions whose versions matter for it (the first is the stack library)
STACK_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "pysoa": ("pysoa", "conformity", "msgpack", "attrs", "redis", "fakeredis", "lupa"),
    "pykern": ("pykern", "tornado", "msgpack", "py", "six"),
    "zerojson": ("pyzmq", "pycom"),
    "kyoukai": ("Kyoukai", "werkzeug", "asphalt", "httptools"),
    "asyncapy": ("AsyncAPY", "trio", "ziproto"),
}



class Problem(NamedTuple):
    """One finding: what is wrong, how to fix it, and whether it makes the stack unusable."""

    message: str
    fix: str
    severity: Severity = "error"


@dataclass
class StackReport:
    """The doctor's verdict on one stack."""

    stack: str
    status: Status
    versions: dict[str, str | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def installed(self) -> bool:
        return self.status != "missing"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = [p._asdict() for p in self.problems]
        return data


# --------------------------------------------------------------------------------------------------
# lookups


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution`` from its metadata, None when not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def module_exists(name: str) -> bool:
    """Whether ``name`` is importable, without importing it (a dotted name imports its parents).

    A parent package that fails to import counts as "not there": the rule that asked reports it.
    """
    try:
        return importlib.util.find_spec(name) is not None
    except Exception:  # a broken parent package can raise anything while being imported
        return False


def _release(version: str | None) -> tuple[int, ...]:
    """The numeric release part of a version ("2.2.1.post1" -> (2, 2, 1)); () if none."""
    if not version:
        return ()
    found = re.match(r"\d+(?:\.\d+)*", version.strip().lstrip("vV"))
    return tuple(int(part) for part in found.group(0).split(".")) if found else ()


def _at_least(version: str | None, minimum: tuple[int, ...]) -> bool:
    release = _release(version)
    if not release:
        return False
    width = max(len(release), len(minimum))
    return release + (0,) * (width - len(release)) >= minimum + (0,) * (width - len(minimum))


# --------------------------------------------------------------------------------------------------
# the rules, one function per stack: each returns the problems of an installed stack


@dataclass(frozen=True)
class _Probe:
    version_of: VersionOf
    has_module: HasModule
    requirers: Requirers
    #: what a plain ``pytest`` does with pysoa's plugin here (rpctest.plugin_order)
    plain_pytest: Callable[[], "Verdict"]


def plain_pytest_verdict() -> "Verdict":
    """:func:`rpctest.plugin_order.verdict` for this environment and the current directory's project."""
    from rpctest import plugin_order

    source, addopts = plugin_order.project_addopts()
    return plugin_order.verdict(plugin_order.entry_point_order(), addopts, source)


def _pysoa_problems(probe: _Probe) -> list[Problem]:
    pytest_version = probe.version_of("pytest")
    if not _at_least(pytest_version, (8, 3)):
        return []
    broken = (
        f"pysoa's auto-loaded pytest plugin pysoa_test_plan aborts every pytest run on pytest "
        f"{pytest_version} (>= 8.3) with \"cannot import name 'Instance'\""
    )
    verdict = probe.plain_pytest()
    if not verdict.aborts:
        return [
            Problem(
                f"{broken}; a plain pytest in this project does not abort: {verdict.why}",
                "keep -p rpctest in addopts so this does not depend on the order (or pass -p no:pysoa_test_plan)",
                "warning",
            )
        ]
    return [
        Problem(
            f"{broken}, and a plain pytest in this project aborts: {verdict.why}",
            "add -p rpctest to addopts in your pytest configuration (it loads before every auto-loaded plugin and "
            "blocks pysoa_test_plan), or add -p no:pysoa_test_plan",
            "warning",  # pysoa itself is usable: the fix is one flag in the project's configuration
        )
    ]


def _pykern_problems(probe: _Probe) -> list[Problem]:
    problems: list[Problem] = []
    fix = _missing_fix("pykern", probe)
    if fix.startswith("Install"):  # where pykern.api cannot live next to what is here, the advice says why instead
        fix = "reinstall pykern.api light. " + fix
    if not probe.has_module("pykern.api"):
        problems.append(
            Problem(
                f"pykern {probe.version_of('pykern') or '(unknown version)'} has no pykern.api: pip "
                "silently fell back to an old pykern (every pykern with pykern.api needs msgpack>=1.0)",
                fix,
            )
        )
    msgpack = probe.version_of("msgpack")
    if not _at_least(msgpack, (1, 0)):
        problems.append(
            Problem(f"pykern.api needs msgpack >= 1.0, found {msgpack or 'none'}", fix)
        )
    missing = [dist for dist in ("tornado", "py", "six") if probe.version_of(dist) is None]
    if missing:
        problems.append(
            Problem(
                f"pykern.api needs {', '.join(missing)} at run time (pykern installed with "
                "--no-deps does not bring them)",
                f"pip install {' '.join(missing)}",
            )
        )
    return problems


def _zerojson_problems(probe: _Probe) -> list[Problem]:
    if probe.version_of("pycom") != "0.6.0":
        return []
    return [
        Problem(
            "pycom 0.6.0 cannot be imported on Python 3.7+ (module named async); "
            "rpctest's ZeroJSON support needs only pyzmq",
            "pip uninstall pycom, unless you run a patched copy of it",
            "warning",
        )
    ]


def _kyoukai_problems(probe: _Probe) -> list[Problem]:
    """The Kyoukai adapter's own install rule (version, dependencies, werkzeug 3, old h2), on the
    doctor's lookups: one rule for the doctor and for ``require_kyoukai``."""
    from rpctest.stacks.kyoukai.host import install_problem

    found = install_problem(probe.version_of, probe.has_module, probe.requirers)
    return [] if found is None else [Problem(*found)]


def _asyncapy_problems(probe: _Probe) -> list[Problem]:
    # asyncapy.core imports trio and ziproto at module level; setup.py declares only trio.
    missing = [dist for dist in ("trio", "ziproto") if probe.version_of(dist) is None]
    if not missing:
        return []
    return [
        Problem(
            f"AsyncAPY cannot be imported without {' and '.join(missing)} "
            "(its setup.py does not declare ziproto)",
            f"pip install {' '.join(missing)}",
        )
    ]


_RULES: dict[str, Callable[[_Probe], list[Problem]]] = {
    "pysoa": _pysoa_problems,
    "pykern": _pykern_problems,
    "zerojson": _zerojson_problems,
    "kyoukai": _kyoukai_problems,
    "asyncapy": _asyncapy_problems,
}


def _missing_fix(stack: str, probe: _Probe) -> str:
    """How to get a missing stack, or why not here: the one advice every install message gives."""
    from rpctest.stacks.environments import install_advice

    return install_advice(stack, probe.version_of, probe.requirers)


# --------------------------------------------------------------------------------------------------
# the public API


def diagnose(
    version_of: VersionOf = installed_version,
    has_module: HasModule = module_exists,
    has_adapter: HasModule = module_exists,
    requirers: Requirers = installed_requirements,
    plain_pytest: Callable[[], "Verdict"] = plain_pytest_verdict,
) -> list[StackReport]:
    """One report per stack, in ``STACKS`` order.

    A stack is installed when its top-level module can be found; distribution metadata without the
    module (a half-removed install) is reported as broken. Any "error" problem makes an installed
    stack broken; "warning" problems leave it usable.
    """
    probe = _Probe(version_of, has_module, requirers, plain_pytest)
    reports = []
    for stack, (adapter, extra, module) in STACKS.items():
        if not has_adapter(adapter.partition(":")[0]):
            reports.append(_unsupported(stack, probe))
        else:
            reports.append(_diagnose_stack(stack, extra, module, probe))
    return reports


def _unsupported(stack: str, probe: _Probe) -> StackReport:
    """A stack this version of rpctest has no adapter for yet: say so rather than offer an extra."""
    distributions = STACK_DISTRIBUTIONS.get(stack, (stack,))
    versions = {dist: probe.version_of(dist) for dist in distributions}
    problem = Problem(
        f"this version of rpctest has no {stack} adapter yet",
        f"support is planned; see docs/stacks/{stack}.md",
        severity="warning",
    )
    return StackReport(stack, "missing", versions, [problem])


def _diagnose_stack(stack: str, extra: str, module: str, probe: _Probe) -> StackReport:
    distributions = STACK_DISTRIBUTIONS.get(stack, (module,))
    versions = {dist: probe.version_of(dist) for dist in distributions}
    main_dist = distributions[0]
    if not probe.has_module(module):
        if versions[main_dist] is None:
            problem = Problem(f"{stack} is not installed", _missing_fix(stack, probe))
            return StackReport(stack, "missing", versions, [problem])
        problem = Problem(
            f"{main_dist} {versions[main_dist]} is installed but its module {module!r} cannot be found",
            f"reinstall it. {_missing_fix(stack, probe)}",
        )
        return StackReport(stack, "broken", versions, [problem])
    rule = _RULES.get(stack)
    problems = rule(probe) if rule is not None else []
    status: Status = "broken" if any(p.severity == "error" for p in problems) else "usable"
    return StackReport(stack, status, versions, problems)


def environment(version_of: VersionOf = installed_version) -> dict[str, str | None]:
    """rpctest's and Python's versions and those of the shared dependencies, for the report header."""
    from rpctest._version import __version__

    env: dict[str, str | None] = {"rpctest": __version__, "python": platform.python_version()}
    env.update((dist, version_of(dist)) for dist in ENVIRONMENT_DISTRIBUTIONS)
    return env


def has_errors(reports: Iterable[StackReport]) -> bool:
    """Whether some installed stack is broken: the doctor's "findings" exit status."""
    return any(r.installed and any(p.severity == "error" for p in r.problems) for r in reports)


def to_json(reports: Iterable[StackReport], env: dict[str, str | None] | None = None) -> dict[str, Any]:
    """The JSON form of a diagnosis (``rpctest doctor --json``)."""
    return {
        "environment": env if env is not None else environment(),
        "stacks": [r.as_dict() for r in reports],
    }


def _versions_line(versions: Mapping[str, str | None]) -> str:
    return ", ".join(f"{dist} {version or 'not installed'}" for dist, version in versions.items())


def render(reports: Iterable[StackReport], env: dict[str, str | None] | None = None) -> str:
    """A plain-text report: the environment first, then one block per stack with fixes."""
    env = dict(env if env is not None else environment())
    reports = list(reports)
    header = f"rpctest {env.pop('rpctest', None) or '?'} on Python {env.pop('python', None) or '?'}"
    lines = [header, f"  {_versions_line(env)}", ""]
    width = max((len(r.stack) for r in reports), default=0)
    for report in reports:
        shown = {d: v for d, v in report.versions.items() if v is not None and report.installed}
        lines.append(f"{report.stack:<{width}}  {report.status:<7}  {_versions_line(shown)}".rstrip())
        if not report.installed:
            lines += [f"  to use it: {p.fix}" for p in report.problems]
            continue
        for problem in report.problems:
            lines.append(f"  {problem.severity}: {problem.message}")
            lines.append(f"    fix: {problem.fix}")
    usable = [r.stack for r in reports if r.status == "usable"]
    lines += ["", f"usable stacks: {', '.join(usable) if usable else 'none'}"]
    return "\n".join(lines) + "\n"
