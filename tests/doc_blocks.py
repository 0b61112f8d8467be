"""The fenced blocks a stack guide marks as runnable against a real peer (``<!-- NAME: LABEL -->``
on the line before the block), for the differential suites to run exactly as shown: a Python block
becomes the file LABEL, a shell block's lines are the commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def marked_blocks(page: str, name: str) -> dict[str, str]:
    """``{label: block text}`` of the blocks marked ``<!-- name: label -->`` in ``docs/<page>``."""
    lines = (ROOT / "docs" / page).read_text(encoding="utf-8").splitlines()
    found: dict[str, str] = {}
    marker = re.compile(rf"^<!-- {re.escape(name)}: (\S+) -->$")
    for index, line in enumerate(lines):
        match = marker.match(line.strip())
        if not match:
            continue
        assert lines[index + 1].startswith("```"), f"docs/{page}:{index + 1}: the marker must sit right above a fenced block"
        end = next(i for i in range(index + 2, len(lines)) if lines[i].startswith("```"))
        found[match.group(1)] = "\n".join(lines[index + 2:end]) + "\n"
    return found


def commands(block: str) -> list[tuple[list[str], bool]]:
    """Each command line of a shell block as (argv, runs in the background: ends with ``&``)."""
    shown = []
    for line in block.splitlines():
        text = line.split(" #", 1)[0].strip()
        if not text:
            continue
        background = text.endswith("&")
        shown.append((shlex.split(text.rstrip("&").strip()), background))
    return shown
