"""docs/install.md's commands, run as written in fresh virtual environments: ``.venv/bin/nox -s install``.

Each case is one source (a git URL, a clone, a built wheel) and one stack: a new venv
(``python -m venv``, with the pip it comes with), the page's source and stack blocks as one bash script
in an empty project directory with that venv first on PATH (an activated venv), then what a user
would check: the plugin imports from the venv, ``rpctest --version``, ``rpctest doctor`` says the
stack is usable, every pin of the stack's constraints file is installed at exactly its version (pip
moved none), ``pip check`` where the stack declares no overridden pins, and a one-test
``pytest -p rpctest`` run with a stub.

Git hosts are out of reach (CI reaches only the package index): the page's placeholder git URL
becomes a ``file://localhost/...`` clone of this repository's HEAD, and AsyncAPY's GitHub install
runs only when ``RPCTEST_ASYNCAPY`` names a checkout or pip URL of it. Every stack goes through the
wheel; the git URL, the clone and the clone installed editable each carry one stack, which keeps the
session to a few minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from install_docs import ROOT, script
from rpctest import constraints
from rpctest._version import __version__
from rpctest.stacks import STACKS

pytestmark = pytest.mark.skipif(
    os.environ.get("RPCTEST_INSTALL_TESTS") != "1",
    reason="creates a virtual environment per case; run it with: .venv/bin/nox -s install",
)

SMOKE = Path(__file__).resolve().parent / "smoke"
#: (source, stack, editable)
CASES = [*(("wheel", stack, False) for stack in STACKS), ("git", "pysoa", False), ("clone", "kyoukai", False), ("clone", "pykern", True)]
#: stacks whose documented install overrides declared pins on purpose (pykern's unused dependencies,
#: Kyoukai's unbuildable ones): ``pip check`` lists those, everywhere else it must pass
OVERRIDDEN_PINS = {"pykern", "kyoukai"}
ASYNCAPY = os.environ.get("RPCTEST_ASYNCAPY") or None
TIMEOUT = 900


def _run(argv: list[str] | str, *, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``argv`` (a bash script when a string); its output, or a failure that shows all of it."""
    command = ["bash", "-c", argv] if isinstance(argv, str) else argv
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, f"{command} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def head_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repository's HEAD: what a git URL of it serves (uncommitted changes are not in it)."""
    if not (ROOT / ".git").exists():
        pytest.fail(f"{ROOT} is not a git checkout: the git-URL and clone paths need one")
    clone = tmp_path_factory.mktemp("head") / "rpctest"
    _run(["git", "clone", "--quiet", str(ROOT), str(clone)], cwd=ROOT)
    return clone


def _activated(venv: Path) -> dict[str, str]:
    """The environment of a shell with ``venv`` activated, and nothing of the nox session's own venv."""
    session_bin = str(Path(sys.executable).parent)
    path = [str(venv / "bin"), *(p for p in os.environ["PATH"].split(os.pathsep) if p != session_bin)]
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "RPCTEST_INSTALL_TESTS"}}
    return {**env, "PATH": os.pathsep.join(path), "VIRTUAL_ENV": str(venv)}


@pytest.fixture
def installed(request: pytest.FixtureRequest, tmp_path: Path, head_clone: Path) -> Iterator[tuple[str, Path, Path, dict[str, str]]]:
    """(stack, project directory, venv, its environment) after running the page's commands for the case."""
    source, stack, editable = request.param
    project, venv = tmp_path / "project", tmp_path / "venv"
    project.mkdir()
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    env = _activated(venv)
    commands = script(source, stack, git_url=f"file://localhost{head_clone}", asyncapy=ASYNCAPY, editable=editable)
    _run(commands, cwd=project, env=env)
    yield stack, project, venv, env
    shutil.rmtree(venv, ignore_errors=True)  # ~100 MB each: do not keep one per case until the session ends


@pytest.mark.parametrize("installed", CASES, indirect=True, ids=[f"{source}{'-editable' * editable}-{stack}" for source, stack, editable in CASES])
def test_the_documented_install_works(installed: tuple[str, Path, Path, dict[str, str]]) -> None:
    stack, project, venv, env = installed
    python = str(venv / "bin" / "python")

    location = _run([python, "-c", "import rpctest.pytest_plugin, rpctest; print(rpctest.__file__)"], cwd=project, env=env)
    # installed into the new venv, or (editable) running from the project's clone: never from this repository
    assert location.startswith((str(venv), str(project / "rpctest-src"))), f"rpctest imported from {location.strip()}"
    assert _run(["rpctest", "--version"], cwd=project, env=env) == f"rpctest {__version__}\n"

    report = {s["stack"]: s for s in json.loads(_run(["rpctest", "doctor", "--json"], cwd=project, env=env))["stacks"]}
    if stack == "asyncapy" and ASYNCAPY is None:  # the extra without AsyncAPY: what AsyncAPY needs is there
        assert report["asyncapy"]["status"] == "missing"
        assert report["asyncapy"]["versions"]["trio"] and report["asyncapy"]["versions"]["ziproto"]
    else:
        assert report[stack]["status"] == "usable", report[stack]

    pins = constraints.pins(stack)
    versions = _run([python, "-c", "import importlib.metadata as m, json, sys; "
                     "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))", *pins], cwd=project, env=env)
    assert json.loads(versions) == pins, "pip moved a pin of the stack's tested environment"
    if stack not in OVERRIDDEN_PINS:
        _run([python, "-m", "pip", "check"], cwd=project, env=env)

    shutil.copy(SMOKE / f"{stack}.py", project / "test_smoke.py")
    out = _run([python, "-m", "pytest", "-p", "rpctest", "-p", "no:cacheprovider", "-q", "test_smoke.py"], cwd=project, env=env)
    assert "1 passed" in out, out
