"""The cross-repository guides are followed literally on day one, in a provider repository that has no
``[tool.rpctest.services]`` entry yet (the guides never ask for one). There a command with
``--provider``/``--address`` and no ``--stack`` stops at "give --stack", so every such command the guides
show names its stack (found following docs/contracts-git.md step by step)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rpctest.cli import main

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDES = ("contracts-git.md", "pact-broker.md")
_TARGET = re.compile(r"\s--(?:provider|address)[ =]")


def _commands(guide: str) -> list[str]:
    text = (DOCS / guide).read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in re.findall(r"rpctest (?:contracts|serve|fuzz|replay)[^\n`]*", text)
            if _TARGET.search(line)]


@pytest.mark.parametrize("guide", GUIDES)
def test_every_command_with_a_target_names_its_stack(guide: str) -> None:
    commands = _commands(guide)
    assert commands, f"{guide} shows commands with --provider"
    assert [c for c in commands if "--stack" not in c] == []


def test_without_the_stack_and_without_configuration_the_command_says_to_give_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the guides' reader met: the reason the guides must name the stack."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'users'\n", encoding="utf-8")
    assert main(["contracts", "export", "--provider", "json:JSONDecoder", "-o", str(tmp_path / "users.json")]) == 2
    assert "give --stack" in capsys.readouterr().err
