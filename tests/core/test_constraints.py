"""``rpctest constraints``: the stacks' pip constraints files, shipped as package data.

A user's project installs rpctest from a git URL, a clone or a wheel, so the constraints must come
with the package and be printable by an rpctest installed ``--no-deps`` (before the extra's
dependencies exist): docs/install.md's two-step install relies on both.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rpctest import cli, constraints
from rpctest.stacks import STACKS

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$")


def test_every_stack_has_a_constraints_file() -> None:
    assert constraints.STACKS == tuple(STACKS)
    assert sorted(p.name for p in constraints.path("pysoa").parent.glob("*.txt")) == sorted(f"{s}.txt" for s in STACKS)


@pytest.mark.parametrize("stack", list(STACKS))
def test_prints_the_file(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["constraints", stack]) == 0
    out = capsys.readouterr().out
    assert out == constraints.path(stack).read_text(encoding="utf-8")
    assert out.startswith(f"# rpctest[{stack}]: ")


@pytest.mark.parametrize("stack", list(STACKS))
def test_path_names_an_existing_file_inside_the_package(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["constraints", stack, "--path"]) == 0
    printed = Path(capsys.readouterr().out.rstrip("\n"))
    assert printed.is_absolute() and printed.is_file()
    assert printed == Path(constraints.__file__).resolve().parent / f"{stack}.txt"


@pytest.mark.parametrize("stack", list(STACKS))
def test_the_files_are_plain_pins_and_state_their_reasons(stack: str) -> None:
    lines = constraints.text(stack).splitlines()
    assert lines[0].startswith("#"), "each file opens with why its pins are what they are"
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert all(PIN.match(line) for line in requirements), [line for line in requirements if not PIN.match(line)]
    assert "shared/" not in constraints.text(stack), "cite facts, not files that do not ship"


def test_the_stack_pins_that_matter() -> None:
    pysoa, pykern, kyoukai = (constraints.pins(s) for s in ("pysoa", "pykern", "kyoukai"))
    assert {k: pysoa[k] for k in ("pysoa", "msgpack", "attrs", "redis", "fakeredis")} == {
        "pysoa": "1.4.9", "msgpack": "0.6.2", "attrs": "21.4.0", "redis": "3.5.3", "fakeredis": "2.7.1",
    }
    assert int(pykern["msgpack"].split(".")[0]) >= 1 and "pykern" in pykern
    assert kyoukai["Kyoukai"] == "2.2.1.post1"
    # the benchmark-only section is in the file but not in what rpctest[kyoukai]'s environment holds
    assert "schemathesis==" in constraints.text("kyoukai") and "schemathesis" not in kyoukai


@pytest.mark.parametrize("stack", ["zerojson", "asyncapy"])
def test_stacks_without_pins_print_comments_and_say_so(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert constraints.pins(stack) == {}
    assert cli.main(["constraints", stack]) == 0
    captured = capsys.readouterr()
    assert all(line.startswith("#") for line in captured.out.splitlines())
    assert captured.err == f"rpctest: {stack} needs no pins: this constraints file holds only comments\n"


def test_asyncapy_file_says_how_to_install_asyncapy() -> None:
    assert "pip install 'asyncapy @ git+https://github.com/intellivoid/AsyncAPY'" in constraints.text("asyncapy")


def test_stack_names_are_case_insensitive(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["constraints", "Kyoukai", "--path"]) == 0
    assert capsys.readouterr().out.strip().endswith("kyoukai.txt")


def test_unknown_stack_exits_2_listing_the_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["constraints", "grpc"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "rpctest: error: unknown stack 'grpc': rpctest has constraints for pysoa, pykern, zerojson, kyoukai, asyncapy\n"
    )


def test_no_stack_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["constraints"]) == 2
    assert "the following arguments are required: STACK" in capsys.readouterr().err


NO_DEPENDENCIES = r"""
import sys

class Block:
    '''rpctest installed --no-deps: none of its dependencies (nor any stack library) is there.'''
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"pytest", "msgpack", "jsonschema", "hypothesis", "pysoa", "pykern", "zmq", "kyoukai"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Block())
from rpctest.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("argv", [["pysoa", "--path"], ["pykern"]])
def test_works_in_an_rpctest_installed_without_its_dependencies(argv: list[str]) -> None:
    result = subprocess.run([sys.executable, "-c", NO_DEPENDENCIES, "constraints", *argv],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    expected = f"{constraints.path(argv[0])}\n" if "--path" in argv else constraints.text(argv[0])
    assert result.stdout == expected


def test_the_built_wheel_ships_every_constraints_file(tmp_path: Path) -> None:
    """Built as users build it (pip wheel, isolated build), from a copy of the sources: no build/ in the repo."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "rpctest", source / "rpctest", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("rpctest-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.startswith("rpctest/constraints/")}
        assert shipped == {"rpctest/constraints/__init__.py", *(f"rpctest/constraints/{s}.txt" for s in STACKS)}
        assert archive.read("rpctest/constraints/pysoa.txt").decode() == constraints.text("pysoa")
