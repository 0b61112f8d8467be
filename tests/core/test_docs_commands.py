"""Every command the documentation shows parses with the real parsers, so the docs cannot drift.

Each fenced code block of the README and of every Markdown file under ``docs/`` (and the other
Markdown files of the repository) is read line by line; every ``rpctest ...`` command is parsed by
``rpctest.cli.build_parser()``, and every ``pytest ...`` command that uses an ``--rpctest-*`` option
by pytest's own parser with rpctest's plugin loaded. A renamed or removed option then fails here,
not in a user's terminal.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rpctest.cli import build_parser
from rpctest.pytest_plugin import _ALIASES as PLUGIN_ALIASES
from rpctest.pytest_plugin import _OPTIONS as PLUGIN_OPTIONS

ROOT = Path(__file__).resolve().parents[2]
#: shell operators that end one command and start another
_OPERATORS = re.compile(r"\s(?:&&|\|\||;|\|)\s")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SHELLS = ("bash", "sh", "shell", "console", "zsh")


@dataclass(frozen=True)
class Shown:
    """One command as a Markdown file shows it."""

    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.text}"


def _markdown_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode == 0 and listed.stdout.strip():
        names = listed.stdout.split()
    else:  # not a git checkout (an unpacked sdist): walk the tree
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.md") if ".nox" not in p.parts and ".git" not in p.parts]
    return sorted(ROOT / name for name in names if not name.startswith("tests/golden/") and (ROOT / name).is_file())


def _fenced_lines(path: Path) -> list[tuple[int, str]]:
    """``(line number, logical line)`` of the shell blocks (```bash, sh, shell, console; in console
    blocks only the ``$`` lines); backslash continuations joined. Blocks of other languages, and
    blocks with none, show output or files, not commands."""
    found: list[tuple[int, str]] = []
    inside: str | None = None
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fence = _FENCE.match(raw)
        if fence:
            inside = None if inside is not None else raw.strip()[3:].strip().lower()
            pending = None
            continue
        if inside not in _SHELLS:
            continue
        if inside == "console" and pending is None:
            if not raw.strip().startswith("$ "):
                continue
        line = raw.strip()
        if pending is not None:
            line = pending[1] + " " + line
            number = pending[0]
            pending = None
        if line.endswith("\\"):
            pending = (number, line[:-1].rstrip())
            continue
        found.append((number, line))
    return found


def _commands(program: str) -> list[Shown]:
    """Every shell command of ``program`` shown in a fenced block (prompts and VAR=value prefixes removed)."""
    shown = []
    for path in _markdown_files():
        for number, line in _fenced_lines(path):
            for segment in _OPERATORS.split(" " + line.removeprefix("$ ") + " "):
                words = segment.strip().split(None, 1)
                while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
                    words = words[1].split(None, 1) if len(words) > 1 else []
                if not words:
                    continue
                head = words[0].rsplit("/", 1)[-1]
                if head == program or (program == "pytest" and words[0] in ("python", "python3") and segment.strip().split()[1:3] == ["-m", "pytest"]):
                    shown.append(Shown(path, number, segment.strip()))
    return shown


def _argv(command: Shown, program: str) -> list[str]:
    try:
        words = shlex.split(command.text, comments=True)
    except ValueError as exc:
        pytest.fail(f"{command}\n  cannot be split as a shell line: {exc}")
    while words and not words[0].rsplit("/", 1)[-1] == program:
        words.pop(0)  # VAR=value prefixes, python -m
    words = [w for w in words[1:] if w not in ("...", "…")]  # "and the rest of the arguments"
    cut = next((i for i, w in enumerate(words) if w in (">", ">>", "<", "2>", "2>&1")), len(words))
    return words[:cut]


def _inline_commands() -> list[Shown]:
    """``rpctest ...`` in inline code spans of the prose (a span may wrap onto the next line)."""
    shown = []
    for path in _markdown_files():
        prose, inside = [], False
        for raw in path.read_text(encoding="utf-8").splitlines():
            if _FENCE.match(raw):
                inside = not inside
                prose.append("")
                continue
            prose.append("" if inside else raw)
        text = "\n".join(prose)
        for match in re.finditer(r"`(rpctest [^`]+)`", text):
            shown.append(Shown(path, text.count("\n", 0, match.start()) + 1, " ".join(match.group(1).split())))
    return shown


RPCTEST_COMMANDS = _commands("rpctest")
#: prose names commands and options without every argument (`rpctest serve`, `rpctest fuzz --framing`)
INLINE_COMMANDS = _inline_commands()
PYTEST_COMMANDS = [c for c in _commands("pytest") if "--rpctest-" in c.text]


def test_the_docs_show_commands_at_all() -> None:
    """The extraction itself works: the README's own examples are found."""
    readme = [c for c in RPCTEST_COMMANDS if c.path.name == "README.md" and c.path.parent == ROOT]
    assert any("contracts verify" in c.text for c in readme), RPCTEST_COMMANDS
    assert any("--rpctest-record" in c.text for c in PYTEST_COMMANDS), PYTEST_COMMANDS


@pytest.mark.parametrize("command", RPCTEST_COMMANDS, ids=str)
def test_every_rpctest_command_shown_parses(command: Shown) -> None:
    argv = _argv(command, "rpctest")
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:
            if exc.code not in (0, None):  # --help and --version exit 0
                pytest.fail(f"{command}\n  rpctest's parser refuses it: {errors.getvalue().strip()}")


@pytest.mark.parametrize("command", INLINE_COMMANDS, ids=str)
def test_every_rpctest_option_named_in_prose_exists(command: Shown) -> None:
    """An inline `rpctest COMMAND --option` names a real command, and options that command has."""
    argv = _argv(command, "rpctest")
    parser = build_parser()
    while argv and not argv[0].startswith("-"):
        sub = _subcommands(parser).get(argv[0])
        if sub is None:
            break  # a positional argument (or a placeholder such as COMMAND): options are the parser's
        parser, argv = sub, argv[1:]
    known = {option for action in parser._actions for option in action.option_strings}
    unknown = [word.split("=", 1)[0] for word in argv if word.startswith("-") and word.split("=", 1)[0] not in known]
    assert not unknown, f"{command}\n  {parser.prog} has no option {', '.join(unknown)}; it has {', '.join(sorted(known))}"


def _subcommands(parser: Any) -> dict[str, Any]:
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


@pytest.mark.parametrize("command", PYTEST_COMMANDS, ids=str)
def test_every_rpctest_pytest_option_shown_parses(command: Shown, pytester: pytest.Pytester) -> None:
    argv = _argv(command, "pytest")
    options = [w for w in argv if w.startswith("-")]
    # only the options matter here (the paths a doc shows need not exist in this empty directory)
    values = _with_values(argv)
    try:
        config = pytester.parseconfig("-p", "rpctest", *values)
    except (pytest.UsageError, SystemExit) as exc:
        pytest.fail(f"{command}\n  pytest's parser (with rpctest) refuses {options}: {exc}")
    for option in (o.split("=", 1)[0] for o in options if o.startswith("--rpctest-")):
        dest = "rpctest_" + PLUGIN_ALIASES.get(option, option.removeprefix("--rpctest-").removeprefix("no-").replace("-", "_"))
        assert config.getoption(dest) is not None, f"{command}\n  {option} did not set {dest}"


def _with_values(argv: list[str]) -> list[str]:
    """The options of a pytest command line with the values they take, paths and test names dropped."""
    kept = []
    takes_value = {"-p", "-k", "-m", "-n", "-o", "-c", "--rootdir", "--basetemp", "--hypothesis-seed", "--hypothesis-profile"}
    takes_value |= {"--rpctest-" + name.replace("_", "-") for name, (kind, _, _) in PLUGIN_OPTIONS.items() if kind != "bool"}
    takes_value |= {alias for alias, name in PLUGIN_ALIASES.items() if PLUGIN_OPTIONS[name][0] != "bool"}
    index = 0
    while index < len(argv):
        word = argv[index]
        if word.startswith("-"):
            kept.append(word)
            if word in takes_value and index + 1 < len(argv):
                kept.append(argv[index + 1])
                index += 1
        index += 1
    return kept


# -- what the docs show a command printing ---------------------------------------------------------------


def _shown_outputs() -> list[tuple[Shown, list[str]]]:
    """``$ rpctest ...`` lines of any fenced block with the lines printed under them."""
    found = []
    for path in _markdown_files():
        block: list[tuple[int, str]] | None = None
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _FENCE.match(raw):
                if block is not None:
                    found += _split_prompts(path, block)
                block = None if block is not None else []
                continue
            if block is not None:
                block.append((number, raw))
    return found


def _split_prompts(path: Path, block: list[tuple[int, str]]) -> list[tuple[Shown, list[str]]]:
    out: list[tuple[Shown, list[str]]] = []
    for number, raw in block:
        if raw.startswith("$ "):
            out.append((Shown(path, number, raw[2:].strip()), []))
        elif out:
            out[-1][1].append(raw.rstrip())
    return [(shown, lines) for shown, lines in out if shown.text.startswith("rpctest ")]


#: commands whose output depends only on the repository, so the docs must show exactly what they print
def _deterministic(shown: Shown) -> bool:
    return shown.text.endswith(" --help") or shown.text == "rpctest --help" or shown.text == "rpctest contracts verify contracts/"


SHOWN_OUTPUTS = [(shown, lines) for shown, lines in _shown_outputs() if _deterministic(shown)]


def test_the_docs_show_help_texts() -> None:
    assert any(shown.text == "rpctest contracts export --help" for shown, _ in SHOWN_OUTPUTS), SHOWN_OUTPUTS


@pytest.mark.parametrize(("shown", "lines"), SHOWN_OUTPUTS, ids=[str(s) for s, _ in SHOWN_OUTPUTS])
def test_what_the_docs_show_a_command_print_is_what_it_prints(
    shown: Shown, lines: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Help texts are shown as an 80-column terminal prints them (COLUMNS=80)."""
    from rpctest.cli import main

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(ROOT)
    try:
        main(_argv(shown, "rpctest"))
    except SystemExit:
        pass  # --help
    captured = capsys.readouterr()
    printed = [line.rstrip() for line in (captured.out + captured.err).splitlines()]
    assert lines == printed, f"{shown}: the docs show\n" + "\n".join(lines) + "\n\nbut it prints\n" + "\n".join(printed)


def test_every_rpctest_pytest_flag_named_anywhere_exists() -> None:
    """Prose too: each ``--rpctest-*`` flag any Markdown file names is one the plugin registers."""
    flags = set()
    for name, (kind, _, _) in PLUGIN_OPTIONS.items():
        flag = name.replace("_", "-")
        flags.add(f"--rpctest-{flag}")
        if kind == "bool":
            flags.add(f"--rpctest-no-{flag}")
    flags |= set(PLUGIN_ALIASES)
    named = {
        (path.relative_to(ROOT), match)
        for path in _markdown_files()
        for match in re.findall(r"--rpctest-[a-z][a-z-]*[a-z]", path.read_text(encoding="utf-8"))
    }
    assert named, "no --rpctest-* flag is named in the docs at all"
    unknown = sorted(f"{path}: {flag}" for path, flag in named if flag not in flags)
    assert not unknown, f"flags the plugin does not have: {unknown}; it has {sorted(flags)}"
