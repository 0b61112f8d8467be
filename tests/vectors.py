"""Loading the golden wire vectors (``tests/golden``, format ``rpctest-golden-vectors/1``).

Shared by the codec tests of every stack, so it knows the file format (``tests/golden/README.md``,
sections 1, 5 and 7) and nothing about any one stack. The vectors ship inside the repository, so a
fresh clone tests its wire compatibility with nothing beside it; set ``RPCTEST_VECTORS_DIR`` to use
another copy of the same layout (e.g. a fresh capture, before it is copied in).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

__all__ = [
    "FORMAT",
    "ENV_VAR",
    "DEFAULT_DIR",
    "VectorsNotFound",
    "vectors_dir",
    "load",
    "blob_bytes",
    "mask",
    "iter_blobs",
    "get_pointer",
    "replace_pointers",
]

FORMAT = "rpctest-golden-vectors/1"
ENV_VAR = "RPCTEST_VECTORS_DIR"
#: the repository's own copy: ``tests/golden`` beside this module
DEFAULT_DIR = Path(__file__).resolve().parent / "golden"


class VectorsNotFound(FileNotFoundError):
    """The vectors are not where we looked; the message says where, and how to point elsewhere."""


def vectors_dir() -> Path:
    """The vectors root: ``$RPCTEST_VECTORS_DIR`` if set, else the repository's ``tests/golden``."""
    configured = os.environ.get(ENV_VAR)
    root = Path(configured) if configured else DEFAULT_DIR
    if not root.is_dir():
        source = f"${ENV_VAR}" if configured else f"the default, the repository's tests/golden (set ${ENV_VAR} to override)"
        raise VectorsNotFound(f"golden vectors directory {root} does not exist; it came from {source}")
    return root


def load(stack: str, family: str) -> dict:
    """The parsed ``<stack>/<family>.json``, checked to be the format and file we asked for.

    Each call parses the file again, so callers may change what they get.
    """
    path = vectors_dir() / stack / f"{family}.json"
    if not path.is_file():
        raise VectorsNotFound(
            f"no vector file {path} (stack {stack!r}, family {family!r}); the root is ${ENV_VAR} if set, else tests/golden"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    found = (data.get("format"), data.get("stack"), data.get("family"))
    if found != (FORMAT, stack, family):
        raise ValueError(f"{path} holds format/stack/family {found}, expected {(FORMAT, stack, family)}")
    return data


def blob_bytes(blob: Mapping[str, Any]) -> bytes:
    """The golden bytes of a blob (its ``hex``), checked against its ``len`` when present."""
    data = bytes.fromhex(blob["hex"])
    if "len" in blob and blob["len"] != len(data):
        raise ValueError(f"blob says len {blob['len']} but its hex holds {len(data)} bytes")
    return data


def mask(data: bytes, blob: Mapping[str, Any]) -> bytes:
    """``data`` with every ``varies`` byte range of ``blob`` zeroed (entries without a range are skipped).

    Mask both sides of a comparison with the same blob; a range past the end of ``data`` is an
    error, because then the lengths differ and a range comparison means nothing.
    """
    out = bytearray(data)
    for entry in blob.get("varies", []):
        if "range" not in entry:
            continue
        start, end = entry["range"]
        if not 0 <= start <= end <= len(out):
            raise ValueError(f"varies range {entry['range']} ({entry.get('path')}) is outside {len(out)} bytes")
        out[start:end] = bytes(end - start)
    return bytes(out)


def iter_blobs(vector: Mapping[str, Any]) -> Iterator[tuple[int, str, dict]]:
    """(event index, where, blob) for every blob in a vector's exchange.

    ``where`` is ``data``, ``frames/<i>``, ``ws_frame`` or ``handshake/<name>``, so test ids can say
    which blob failed.
    """
    for index, event in enumerate(vector.get("exchange", [])):
        if isinstance(event.get("data"), Mapping):
            yield index, "data", event["data"]
        for i, frame in enumerate(event.get("frames", [])):
            yield index, f"frames/{i}", frame
        if isinstance(event.get("ws_frame"), Mapping):
            yield index, "ws_frame", event["ws_frame"]
        for name, blob in (event.get("handshake") or {}).items():
            if isinstance(blob, Mapping):
                yield index, f"handshake/{name}", blob


def _pointer_tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON Pointer {pointer!r} must start with '/'")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _step(node: Any, token: str) -> Any:
    if isinstance(node, list):
        return node[int(token)]
    return node[token]


def get_pointer(doc: Any, pointer: str) -> Any:
    """The value at an RFC 6901 JSON Pointer (KeyError/IndexError if it is not there)."""
    for token in _pointer_tokens(pointer):
        doc = _step(doc, token)
    return doc


def replace_pointers(doc: Any, pointers: Iterable[str], placeholder: Any = "<varies>") -> Any:
    """A deep copy of ``doc`` with the value at each pointer that exists replaced by ``placeholder``.

    Replacing rather than deleting keeps the key, so a comparison still notices when one side lacks
    a varying field altogether (README section 7: presence matters).
    """
    doc = copy.deepcopy(doc)
    for pointer in pointers:
        tokens = _pointer_tokens(pointer)
        if not tokens:
            return placeholder
        try:
            parent = doc
            for token in tokens[:-1]:
                parent = _step(parent, token)
            key: Any = int(tokens[-1]) if isinstance(parent, list) else tokens[-1]
            parent[key]  # noqa: B018 - only existing values are replaced
        except (KeyError, IndexError, ValueError, TypeError):
            continue
        parent[key] = placeholder
    return doc
