"""The install commands of docs/install.md, read from the page itself so that the tests run what users read.

Each command block follows a marker comment (invisible in the built site): ``<!-- install-source: NAME -->``
before a block that sets ``RPCTEST`` (git, clone, wheel) and ``<!-- install-stack: STACK -->`` before a
stack's install commands. :func:`script` joins one of each into the shell script a user would paste,
after replacing the only things that need the network beyond the package index: the placeholder git
URL of rpctest (a ``file://`` clone instead) and AsyncAPY's GitHub URL (``RPCTEST_ASYNCAPY`` or nothing).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALL_MD = ROOT / "docs" / "install.md"

#: the placeholder for "your rpctest repository" on the install page
DOCS_GIT_URL = "https://git.example.com/rpctest.git"
#: the AsyncAPY requirement on the install page (AsyncAPY is not on PyPI)
ASYNCAPY_REQUIREMENT = "'asyncapy @ git+https://github.com/intellivoid/AsyncAPY'"

SOURCES = ("git", "clone", "wheel")
#: the install page's editable variant of the clone source: in the stack's commands, the first replaces the second
EDITABLE = ('-e "./rpctest-src[{stack}]"', '"rpctest[{stack}] @ $RPCTEST"')

_BLOCK = re.compile(r"^<!-- install-(source|stack): (\w+) -->\n```bash\n(.*?)\n```$", re.S | re.M)


def blocks(text: str | None = None) -> dict[tuple[str, str], str]:
    """``{("source" | "stack", name): commands}`` of the install page (or of ``text``)."""
    found: dict[tuple[str, str], str] = {}
    for kind, name, body in _BLOCK.findall(INSTALL_MD.read_text(encoding="utf-8") if text is None else text):
        assert (kind, name) not in found, f"docs/install.md has two install-{kind} blocks for {name}"
        found[(kind, name)] = body
    return found


def commands(body: str) -> list[str]:
    """The command lines of a block, without comments and blank lines."""
    lines = (line.split("  #", 1)[0].rstrip() for line in body.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def script(source: str, stack: str, *, git_url: str, asyncapy: str | None = None, editable: bool = False) -> str:
    """The page's commands for ``source`` then ``stack``, as one bash script that stops at the first failure.

    ``git_url`` replaces the page's placeholder repository URL; AsyncAPY's GitHub install is replaced
    by ``asyncapy`` (a checkout or pip URL) or dropped when that is None. ``editable`` (with the clone
    source) makes the page's editable substitution.
    """
    page = blocks()
    stack_lines = commands(page[("stack", stack)])
    if editable:
        assert source == "clone", "the page's editable install is of a clone"
        substitute, original = (form.format(stack=stack) for form in EDITABLE)
        stack_lines = [line.replace(original, substitute) for line in stack_lines]
    out = []
    for line in [*commands(page[("source", source)]), *stack_lines]:
        if ASYNCAPY_REQUIREMENT in line:
            if asyncapy is None:
                continue
            line = line.replace(ASYNCAPY_REQUIREMENT, shlex.quote(asyncapy))
        out.append(line.replace(DOCS_GIT_URL, git_url))
    return "set -euo pipefail -x\n" + "\n".join(out) + "\n"
