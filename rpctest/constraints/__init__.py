"""The pip constraints files of the stack environments rpctest is tested with, shipped as package data.

rpctest is installed from a git URL, a clone or a wheel, never from the package index by name, so a
constraints file that lives only in the repository is out of reach of a user's project. These files
travel inside the package instead: ``rpctest constraints STACK`` prints one, ``--path`` names it, and
``pip install -c "$(rpctest constraints pysoa --path)" ...`` applies it (docs/install.md).

Every stack has a file, so every stack installs the same way; zerojson's and asyncapy's hold only
comments (their extras need no pins). Like the CLI, this module imports only the standard library
and rpctest's light modules: it runs in an rpctest installed ``--no-deps``, before any extra is.
"""

from __future__ import annotations

from pathlib import Path

from rpctest.exceptions import ConfigError
from rpctest.stacks import STACKS as _REGISTRY

__all__ = ["STACKS", "OPTIONAL_SECTION", "path", "text", "pins"]

#: the stacks with a constraints file here: every stack rpctest has, in the registry's order
STACKS: tuple[str, ...] = tuple(_REGISTRY)

#: a comment line starting with this opens pins that the stack's extra does not install (Kyoukai's
#: benchmark tools); :func:`pins` stops there
OPTIONAL_SECTION = "# benchmarks/"

_HERE = Path(__file__).resolve().parent


def _known(stack: str) -> str:
    name = stack.lower() if isinstance(stack, str) else stack
    if name not in STACKS:
        raise ConfigError(f"unknown stack {stack!r}: rpctest has constraints for {', '.join(STACKS)}")
    return name


def path(stack: str) -> Path:
    """The constraints file of ``stack`` (case-insensitive); ConfigError naming the stacks if unknown."""
    return _HERE / f"{_known(stack)}.txt"


def text(stack: str) -> str:
    """The contents of ``stack``'s constraints file, comments included."""
    return path(stack).read_text(encoding="utf-8")


def pins(stack: str) -> dict[str, str]:
    """``{distribution: version}`` of the ``name==version`` lines that ``rpctest[stack]``'s environment
    holds: those above :data:`OPTIONAL_SECTION`. Tests compare an environment with it."""
    found: dict[str, str] = {}
    for line in text(stack).splitlines():
        if line.startswith(OPTIONAL_SECTION):
            break
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            found[name.strip()] = version.strip()
    return found
