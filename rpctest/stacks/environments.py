"""How each stack is installed, and whether it can be installed next to what is already here.

The five stacks' own pins conflict: pysoa 1.4.9 holds ``msgpack~=0.6``, ``attrs<22`` and
``redis<4``; pykern.api needs ``msgpack>=1.0``; AsyncAPY runs on trio, which needs ``attrs>=23.2``.
pip resolves only what it is asked to install, so ``pip install pysoa`` inside a pykern environment
downgrades msgpack and breaks pykern.api with nothing but a warning. Every message that tells a user
to install a stack goes through :func:`install_advice`, which names the conflicting pins and the
installed distributions they would break instead of advising a breaking install.

Only distribution metadata is read (never a stack library imported), so the advice is cheap and
works in an environment where a stack is half installed. The lookups are parameters, so every rule
is testable without installing anything.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

__all__ = [
    "StackInstall",
    "INSTALLS",
    "Conflict",
    "conflicts",
    "extra_command",
    "extra_requirements",
    "install_advice",
    "installed_requirements",
]

VersionOf = Callable[[str], "str | None"]
#: distribution -> (who, their version range) for each installed distribution that requires it
Requirers = Callable[[str], "Iterable[tuple[str, str]]"]


@dataclass(frozen=True)
class Pin:
    """A version range a stack's library holds, and the version pip lands on inside it."""

    wanted: str
    lands_on: str


@dataclass(frozen=True)
class StackInstall:
    """What installing one stack takes, and the pins its library holds on shared distributions."""

    stack: str
    title: str
    #: pip commands that come before rpctest's extra (a stack library that goes in ``--no-deps``)
    before: tuple[str, ...] = ()
    #: pip commands that come after it (a stack library that is not on PyPI)
    after: tuple[str, ...] = ()
    #: distribution -> what the stack's library needs of it (the ones other software pins too)
    pins: Mapping[str, Pin] = field(default_factory=dict)
    #: who holds those pins, for the message ("pysoa 1.4.9", "trio, which AsyncAPY runs on,")
    pinned_by: str = ""
    #: what a user must know besides the commands
    note: str = ""

    def commands(self) -> tuple[str, ...]:
        """The pip commands, in order, that install the stack and what rpctest needs for it, with the
        versions rpctest is tested with (its constraints file, for stacks that pin anything)."""
        constrained = [f'pip install -c "$(rpctest constraints {self.stack} --path)"' if self.pins else "pip install"]
        before = tuple(command.replace("pip install", constrained[0], 1) for command in self.before)
        return (*before, extra_command(self.stack).replace("pip install", constrained[0], 1), *self.after)


INSTALLS: dict[str, StackInstall] = {
    "pysoa": StackInstall(
        "pysoa",
        "PySOA",
        pins={"msgpack": Pin(">=0.6,<1.0", "0.6.2"), "attrs": Pin("<22", "21.4.0"), "redis": Pin("<4", "3.5.3")},
        pinned_by="pysoa 1.4.9",
    ),
    "pykern": StackInstall(
        "pykern",
        "pykern.api",
        before=("pip install --no-deps pykern",),
        pins={"msgpack": Pin(">=1.0", "1.2.4")},
        pinned_by="pykern.api",
        note="pykern goes in light, with --no-deps: pykern.api needs only tornado, msgpack>=1.0, py and six",
    ),
    "zerojson": StackInstall("zerojson", "ZeroJSON"),
    "kyoukai": StackInstall(
        "kyoukai",
        "Kyoukai",
        before=("pip install --no-deps Kyoukai==2.2.1.post1",),
        pins={"werkzeug": Pin(">=2.3,<3", "2.3.8"), "asphalt": Pin(">=4.12,<5", "4.12.0")},
        pinned_by="Kyoukai 2.2.1.post1 (as rpctest runs it)",
        note="Kyoukai's own pins do not build on Python 3.11, so it goes in with --no-deps next to newer dependencies",
    ),
    "asyncapy": StackInstall(
        "asyncapy",
        "AsyncAPY",
        after=("pip install --no-deps 'asyncapy @ git+https://github.com/intellivoid/AsyncAPY'",),
        pins={"attrs": Pin(">=23.2.0", "25.4.0")},
        pinned_by="trio, which AsyncAPY runs on,",
        note="AsyncAPY is not on PyPI, and its setup.py leaves out ziproto, which it imports; "
        "see docs/stacks/asyncapy.md",
    ),
}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def extra_requirements(extra: str) -> list[str]:
    """The requirements of rpctest's ``extra``, read from rpctest's installed metadata ([] if unknown).

    rpctest is not on PyPI, so ``pip install 'rpctest[pysoa]'`` cannot be the advice once rpctest
    is installed: installing what the extra lists works wherever rpctest came from.
    """
    try:  # packaging comes with pytest; an rpctest installed --no-deps may not have it yet
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:
        return []
    try:
        declared = importlib.metadata.requires("rpctest") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    found = []
    for line in declared:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        if marker is not None and marker.evaluate({"extra": extra}) and not marker.evaluate({"extra": ""}):
            requirement.marker = None
            found.append(str(requirement))
    return found


def extra_command(extra: str) -> str:
    """``pip install`` of what rpctest's ``extra`` brings (the extra itself when rpctest's metadata is not there)."""
    requirements = extra_requirements(extra)
    if not requirements:  # SOURCE: the git URL, clone or wheel rpctest came from (docs/install.md)
        return f'pip install "rpctest[{extra}] @ SOURCE"'
    return "pip install " + " ".join(f"'{r}'" for r in requirements)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def installed_requirements(distribution: str) -> list[tuple[str, str]]:
    """``("jsonschema 4.26.0", ">=22.2.0")`` for every installed distribution that requires
    ``distribution`` outside an extra: what breaks if its version moves."""
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:  # without packaging nothing can be compared: claim no conflict
        return []

    wanted = _canonical(distribution)
    found = []
    for dist in importlib.metadata.distributions():
        for line in dist.requires or ():
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            if _canonical(requirement.name) != wanted:
                continue
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            found.append((f"{dist.metadata['Name']} {dist.version}", str(requirement.specifier)))
    return found


def _contains(specifier: str, version: str) -> bool:
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion
    except ImportError:
        return True

    try:
        return SpecifierSet(specifier).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True  # what pip itself could not compare is not ours to call a conflict


@dataclass(frozen=True)
class Conflict:
    """One pin of the stack to install, the version here that it moves, and what that breaks."""

    distribution: str
    pin: Pin
    installed: str
    #: ``(who, their range)``: installed software the moved version would no longer satisfy
    broken: tuple[tuple[str, str], ...]

    def describe(self, install: StackInstall) -> str:
        users = ", ".join(f"{who} ({self.distribution}{wanted})" for who, wanted in self.broken)
        return (
            f"{install.pinned_by} needs {self.distribution}{self.pin.wanted}, and this environment has "
            f"{self.distribution} {self.installed}, which {users} needs"
        )


def conflicts(stack: str, version_of: VersionOf = _version, requirers: Requirers = installed_requirements) -> list[Conflict]:
    """The pins of ``stack`` whose install would break something installed here (empty: it fits).

    A pin conflicts when the installed version lies outside it and some installed distribution
    that is satisfied today would not be by the version pip lands on. A requirement that the
    installed version already breaks (Kyoukai's own pins, overridden on purpose) is not ours to
    defend; a version nothing depends on may simply move.
    """
    found = []
    for distribution, pin in INSTALLS[stack].pins.items():
        version = version_of(distribution)
        if version is None or _contains(pin.wanted, version):
            continue
        broken = tuple(
            (who, wanted)
            for who, wanted in requirers(distribution)
            if _contains(wanted, version) and not _contains(wanted, pin.lands_on)
        )
        if broken:
            found.append(Conflict(distribution, pin, version, broken))
    return found


def install_advice(stack: str, version_of: VersionOf = _version, requirers: Requirers = installed_requirements) -> str:
    """How to get ``stack`` here: the install commands, or, when its pins would break what is
    installed, which pins and what they break, and how to give it an environment of its own."""
    install = INSTALLS[stack]
    commands = "; ".join(install.commands())
    note = f" ({install.note})" if install.note else ""
    found = conflicts(stack, version_of, requirers)
    if not found:
        return f"Install it with: {commands}{note}"
    why = "; ".join(conflict.describe(install) for conflict in found)
    return (
        f"Do not install {install.title} into this environment: {why}. Give {install.title} a virtual "
        f"environment of its own (python -m venv .venv-{stack}) and install rpctest there as docs/install.md "
        f"shows for {install.title}{note}"
    )
