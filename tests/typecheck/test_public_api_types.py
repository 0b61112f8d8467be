"""A user's test module that uses rpctest's public API type-checks under ``mypy --strict``.

rpctest ships ``py.typed``, so its annotations are its users' types: every public name must be
importable under --strict (explicitly re-exported, ``no_implicit_reexport``) and keep its real type
rather than the ``Any`` of the lazy-loading module ``__getattr__``. The typecheck nox session runs
these tests (mypy is installed there); the user's file is checked on its own, from a directory with
no mypy configuration, as a user's project would be.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rpctest
import rpctest.contracts
import rpctest.fuzz
import rpctest.strategies

# mypy is in the dev extra and the typecheck session; a plain `pytest` elsewhere skips these, saying
# why, and the session (RPCTEST_REQUIRE_MYPY=1) fails them instead
if importlib.util.find_spec("mypy") is None:
    if os.environ.get("RPCTEST_REQUIRE_MYPY") == "1":
        pytest.fail("RPCTEST_REQUIRE_MYPY=1, but mypy is not installed: pip install 'rpctest[dev]'", pytrace=False)
    pytest.skip("mypy is not installed (pip install 'rpctest[dev]'; nox -s typecheck runs these)", allow_module_level=True)

#: every package whose public names users import, with those names
PUBLIC = {
    "rpctest": rpctest.__all__,
    "rpctest.strategies": rpctest.strategies.__all__,
    "rpctest.fuzz": rpctest.fuzz.__all__,
    "rpctest.contracts": rpctest.contracts.__all__,
}

#: what a consumer's test module does with the API (stubs, matchers, assertions, provider states)
USAGE = '''
def test_get_user() -> None:
    with stub_action("users", "get_user", body={"id": integer(1), "name": like("Ann")}) as stub:
        handle: StubHandle = stub
        assert handle.call_count == 0
        bodies: tuple[object, ...] = handle.call_bodies
        assert bodies == ()


@provider_state("a user exists")
def a_user_exists() -> None:
    pass


def check(error: RpcError) -> ErrorKind:
    with raises_error_codes("NOT_FOUND") as raised:
        raise CallFailed(Reply(errors=[error]))
    assert isinstance(raised, RaisedErrors)
    return error.kind


reveal_type(stub_action)
reveal_type(fuzz_tests)
reveal_type(from_schema)
reveal_type(verify_paths)
'''


def _mypy(directory: Path, source: str) -> subprocess.CompletedProcess[str]:
    """mypy --strict on one user file in ``directory`` (a fresh cache there: no state shared between runs)."""
    path = directory / "test_user.py"
    path.write_text(source, encoding="utf-8")
    env = {**os.environ, "MYPY_CACHE_DIR": str(directory / ".mypy_cache")}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--show-error-codes", path.name],
        cwd=directory, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


def _imports() -> str:
    return "\n".join(f"from {module} import {', '.join(names)}" for module, names in PUBLIC.items()) + "\n"


def test_the_public_api_type_checks_in_a_users_module_under_strict(tmp_path: Path) -> None:
    result = _mypy(tmp_path, _imports() + textwrap.dedent(USAGE))
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert errors == [], result.stdout + result.stderr
    revealed = {line.split("Revealed type is ", 1)[1] for line in result.stdout.splitlines() if "Revealed type is" in line}
    assert len(revealed) == 4, result.stdout
    # each kept its real signature: none came through as the Any of a module __getattr__
    assert not any(shown.strip('"') == "Any" for shown in revealed), revealed
    assert any("rpctest.stubs.api.stub_action" in shown for shown in revealed), revealed
    assert any("SearchStrategy" in shown for shown in revealed), revealed


def test_a_misspelt_name_and_a_wrong_type_are_reported(tmp_path: Path) -> None:
    """The check above can fail: mypy does see rpctest's names and types from a user's module."""
    source = 'from rpctest import stub_actoin\nfrom rpctest import RpcError\n\ncode: bytes = RpcError("X", "m").code\n'
    result = _mypy(tmp_path, source)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Module "rpctest" has no attribute "stub_actoin"' in result.stdout, result.stdout
    assert 'Incompatible types in assignment (expression has type "str | int", variable has type "bytes")' in result.stdout, result.stdout
