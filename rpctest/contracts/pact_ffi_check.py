"""Pact's own parser as a check of a Pact file: the one module behind the ``rpctest[pact]`` extra.

rpctest's JSON Schema of V4 files (``rpctest/schemas/pact-v4.schema.json``) says what the
specification requires; Pact's models (``pactffi_parse_pact_json`` of pact_ffi, the library every
Pact tool is built on) say what Pact's verifier and broker will actually read. An exported file must
pass both. pact_ffi is imported only here, and only when a check runs.
"""

from __future__ import annotations

from typing import Any

from rpctest.exceptions import ConfigError

__all__ = ["available", "ffi_problem"]

_INSTALL = "pip install 'rpctest[pact]' (pact-python-ffi)"


def available() -> bool:
    """Whether pact_ffi can be imported (without importing it: the check stays cheap when it is absent)."""
    import importlib.util

    return importlib.util.find_spec("pact_ffi") is not None


def _library() -> tuple[Any, Any]:
    try:
        from pact_ffi import ffi, lib  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        raise ConfigError(f"checking a Pact file with Pact's own parser needs pact_ffi ({exc}): {_INSTALL}") from None
    return ffi, lib


def ffi_problem(text: str) -> str | None:
    """Why Pact's parser refuses the Pact file ``text`` (its own message), or None when it reads it."""
    ffi, lib = _library()
    pact = lib.pactffi_parse_pact_json(text.encode("utf-8"))
    if pact == ffi.NULL:
        buffer = ffi.new("char[]", 4096)
        lib.pactffi_get_error_message(buffer, 4096)
        message = ffi.string(buffer).decode("utf-8", "replace")
        return f"Pact's parser (pactffi_parse_pact_json) refuses it: {message or 'no reason given'}"
    lib.pactffi_pact_model_delete(pact)
    return None
