"""docs/install.md: every stack and every source has its commands, in the shape that keeps the stack's pins,
and the pages that show an install show the same commands.

The commands themselves run in fresh virtual environments in the ``install`` nox session
(tests/install/); these checks are the cheap half, run with the core suite.
"""

from __future__ import annotations

import re

import pytest

from install_docs import DOCS_GIT_URL, EDITABLE, INSTALL_MD, ROOT, SOURCES, blocks, commands, script
from rpctest.stacks import STACKS

FIRST = 'pip install --no-deps --force-reinstall "rpctest @ $RPCTEST"'


def test_every_source_and_every_stack_has_one_block() -> None:
    assert sorted(blocks()) == sorted([*(("source", s) for s in SOURCES), *(("stack", s) for s in STACKS)])


@pytest.mark.parametrize("stack", list(STACKS))
def test_each_stack_installs_rpctest_alone_then_the_extra_with_its_constraints(stack: str) -> None:
    lines = commands(blocks()[("stack", stack)])
    assert lines[0] == FIRST
    constraints = f'-c "$(rpctest constraints {stack} --path)"'
    extra = [line for line in lines if line.endswith(f'"rpctest[{stack}] @ $RPCTEST"')]
    assert len(extra) == 1 and constraints in extra[0]


@pytest.mark.parametrize(
    "stack, first_the_library",
    [("pykern", "pykern"), ("kyoukai", "Kyoukai==2.2.1.post1")],
)
def test_the_no_deps_stacks_install_their_library_first_and_skip_the_conflict_warnings(
    stack: str, first_the_library: str
) -> None:
    lines = commands(blocks()[("stack", stack)])
    assert lines[1] == f'pip install --no-deps -c "$(rpctest constraints {stack} --path)" {first_the_library}'
    assert lines[2].startswith("pip install --no-warn-conflicts -c ")


def test_the_git_source_is_a_pip_git_url() -> None:
    assert commands(blocks()[("source", "git")]) == [f'RPCTEST="git+{DOCS_GIT_URL}"']


@pytest.mark.parametrize("page", ["README.md", "docs/getting-started.md"])
def test_pages_that_show_an_install_show_the_install_pages_commands(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    shown = [commands(body) for body in re.findall(r"```bash\n(.*?)\n```", text, re.S) if "rpctest constraints" in body]
    expected = commands(blocks()[("source", "git")]) + commands(blocks()[("stack", "pysoa")])
    assert shown == [expected]
    assert "docs/install.md" in text or "(install.md)" in text


@pytest.mark.parametrize(
    "page", ["README.md", "docs/getting-started.md", "docs/install.md", *(f"docs/stacks/{s}.md" for s in STACKS)]
)
def test_no_page_shows_a_command_that_only_works_in_a_clone_or_from_pypi(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    assert "-c constraints/" not in text, "the constraints ship with rpctest: rpctest constraints STACK --path"
    assert not re.search(r"pip install '?\"?rpctest\[", text), "rpctest is not on PyPI: name a source"


def test_the_script_replaces_the_placeholders_and_nothing_else() -> None:
    text = script("clone", "asyncapy", git_url="file://localhost/src/rpctest")
    assert "git clone file://localhost/src/rpctest rpctest-src" in text and DOCS_GIT_URL not in text
    assert "github.com" not in text and "asyncapy @" not in text
    with_asyncapy = script("git", "asyncapy", git_url="file://localhost/x", asyncapy="/opt/AsyncAPY")
    assert with_asyncapy.splitlines()[-1] == "pip install /opt/AsyncAPY"
    assert with_asyncapy.startswith("set -euo pipefail")


def test_the_editable_variant_is_the_substitution_the_page_describes() -> None:
    prose = " ".join(INSTALL_MD.read_text(encoding="utf-8").split())
    substitute, original = (form.format(stack="pysoa") for form in EDITABLE)
    assert f"write `{substitute}` (the path to the clone, with the extra) where they say `{original}`" in prose
    text = script("clone", "pykern", git_url="file://localhost/x", editable=True)
    assert text.splitlines()[-1].endswith(' -e "./rpctest-src[pykern]"') and "rpctest[pykern] @" not in text
