"""Whether pysoa's broken pytest plugin will abort a plain ``pytest`` run in this project.

pysoa 1.4.9 installs a pytest plugin, ``pysoa_test_plan``, that pytest loads automatically and that
fails to import on pytest >= 8.3 (``cannot import name 'Instance' from '_pytest.python'``), which
aborts the run. rpctest blocks it when rpctest's own plugin registers first. That happens always
under ``-p rpctest`` (on the command line, in ``addopts`` or in ``PYTEST_ADDOPTS``: pytest loads
``-p`` plugins before any auto-loaded one), and otherwise only when pytest happens to reach rpctest's
entry point before pysoa's. pytest loads entry points in the order Python lists the installed
distributions: by ``sys.path`` entry, then in the order the file system lists each directory.
No plugin can change that order, so where pysoa's plugin comes first a plain ``pytest`` aborts
before any code of rpctest runs, and only the configuration can fix it. This module predicts which
case a project is in, for ``rpctest doctor``.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BLOCKED", "Verdict", "entry_point_order", "project_addopts", "verdict"]

#: the auto-loaded plugin rpctest blocks
BLOCKED = "pysoa_test_plan"
#: the flag that makes rpctest load before every auto-loaded plugin
FIX = "-p rpctest"


def entry_point_order() -> list[str]:
    """The ``pytest11`` entry-point names in the order pytest (pluggy) loads them here."""
    names: list[str] = []
    for dist in importlib.metadata.distributions():
        for entry in dist.entry_points:
            if entry.group == "pytest11" and entry.name not in names:
                names.append(entry.name)
    return names


def project_addopts(start: Path | None = None) -> tuple[Path | None, str]:
    """``(file, addopts)`` of the pytest configuration pytest would use from ``start`` (the current
    directory), found as pytest finds it: the nearest pytest.ini, pyproject.toml with a pytest
    table, tox.ini with [pytest], or setup.cfg with [tool:pytest]. ``PYTEST_ADDOPTS`` is appended."""
    extra = os.environ.get("PYTEST_ADDOPTS", "")
    directory = (start or Path.cwd()).resolve()
    for folder in (directory, *directory.parents):
        for name in ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
            path = folder / name
            if path.is_file():
                found = _addopts_in(path)
                if found is not None:
                    return path, f"{found} {extra}".strip()
    return None, extra


def _addopts_in(path: Path) -> str | None:
    """The file's addopts ('' when it configures pytest without them), None when it is not pytest's."""
    try:
        if path.suffix == ".toml":
            import tomllib

            table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("pytest")
            if not isinstance(table, dict):
                return None
            options = table.get("ini_options", table)
            value = options.get("addopts", "") if isinstance(options, dict) else ""
            return " ".join(value) if isinstance(value, list) else str(value)
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path, encoding="utf-8")
        section = {"setup.cfg": "tool:pytest"}.get(path.name, "pytest")
        if not parser.has_section(section):
            return None if path.name in ("tox.ini", "setup.cfg") else ""
        return parser.get(section, "addopts", fallback="")
    except (OSError, ValueError, configparser.Error):
        return None  # an unreadable file is pytest's to report


def _plugin_args(addopts: str) -> list[str]:
    """The values of every ``-p`` in ``addopts`` (``-p x``, ``-px``, ``--plugin=x``)."""
    try:
        words = shlex.split(addopts)
    except ValueError:
        words = addopts.split()
    found = []
    for index, word in enumerate(words):
        if word == "-p" and index + 1 < len(words):
            found.append(words[index + 1])
        elif word.startswith("-p") and len(word) > 2 and not word.startswith("--"):
            found.append(word[2:])
        elif word.startswith("--plugin="):
            found.append(word.split("=", 1)[1])
    return found


@dataclass(frozen=True)
class Verdict:
    """What a plain ``pytest`` does here: ``aborts`` is True when pysoa's plugin loads unblocked."""

    aborts: bool
    why: str


def verdict(order: list[str], addopts: str, source: Path | None = None) -> Verdict:
    """Whether a plain ``pytest`` run aborts on :data:`BLOCKED`, given the entry-point load order and
    the project's addopts."""
    where = source.name if source is not None else "PYTEST_ADDOPTS"
    plugins = _plugin_args(addopts)
    if f"no:{BLOCKED}" in plugins:
        return Verdict(False, f"{where} disables it (-p no:{BLOCKED})")
    if "no:rpctest" in plugins:
        return Verdict(True, f"{where} disables rpctest (-p no:rpctest), which would block it")
    if "rpctest" in plugins:
        return Verdict(False, f"{where} loads rpctest first ({FIX}), which blocks it")
    if BLOCKED not in order:
        return Verdict(False, f"no {BLOCKED} entry point is installed")
    if "rpctest" in order and order.index("rpctest") < order.index(BLOCKED):
        return Verdict(
            False,
            "pytest reaches rpctest's entry point before pysoa's here, so rpctest blocks it; that order is "
            "the file system's, not rpctest's, so it can differ on another machine",
        )
    return Verdict(
        True,
        "pytest loads pysoa's entry point before rpctest's here (entry points load in the order Python lists "
        "the installed distributions, which no plugin can change), so the run aborts before rpctest can block it",
    )
