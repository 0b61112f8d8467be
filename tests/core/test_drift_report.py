"""A stub that drifts from its provider contract fails its test in about 15 lines: the message, the
user's own lines, none of rpctest's frames (``--full-trace`` shows them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import toystack

PROVIDER = {
    "rpctest_contract": 1, "kind": "provider", "stack": "toy", "service": "users",
    "operations": {"get_user": {"request": {"type": "object"}, "response": {
        "type": "object", "properties": {"name": {"type": "string", "maxLength": 5}}, "additionalProperties": False}, "errors": ["NOT_FOUND"]}},
}

TESTS = """
import pytest
from rpctest import stub_action

def helper():
    return stub_action("users", "get_user", stack="toy", body={"name": "Annabelle"}, errors=["GONE"])

def test_with(rpctest_providers):
    rpctest_providers(PROVIDERS)
    with helper():
        pass

@stub_action("users", "get_user", stack="toy", errors=["GONE"])
def test_decorated(stub):
    pass
"""


PLAIN = """
from rpctest import stub_action
from rpctest.contracts.drift import use_providers

def helper():
    return stub_action("users", "get_user", stack="toy", body={"name": "Annabelle"}, errors=["GONE"])

def test_plain():
    with use_providers(PROVIDERS):
        with helper():
            pass

@stub_action("users", "get_user", stack="toy", errors=["GONE"])
def decorated(stub):
    pass

def test_plain_decorated():
    with use_providers(PROVIDERS):
        decorated()
"""


def _failure_section(text: str, name: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip("_ ").startswith(name) and line.startswith("_"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(("_", "="))), len(lines))
    return lines[start:end]


def test_a_drifted_stub_fails_in_about_fifteen_lines_without_rpctest_frames(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    providers = tmp_path / "providers"
    providers.mkdir()
    (providers / "users.json").write_text(json.dumps(PROVIDER))
    monkeypatch.setenv("PYTHONPATH", str(Path(toystack.__file__).parent))
    pytester.makeconftest("import toystack\ntoystack.register()\n")
    pytester.makepyfile(TESTS.replace("PROVIDERS", repr(str(providers))))
    result = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider", "--rpctest-providers", str(providers))
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    for name in ("test_with", "test_decorated"):
        section = _failure_section(text, name)
        assert len(section) <= 16, "\n".join(section)
        assert any("ContractDrift" in line and "breaks the provider contract" in line for line in section), "\n".join(section)
        assert any("error code 'GONE'" in line for line in section), "\n".join(section)
        assert not any("rpctest/" in line and "providers/" not in line for line in section), "\n".join(section)
    with_section = "\n".join(_failure_section(text, "test_with"))
    assert "with helper():" in with_section  # the user's own line stays
    full = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider", "--rpctest-providers", str(providers), "--full-trace")
    assert "rpctest/contracts/drift.py" in full.stdout.str()  # everything, when asked for


def test_without_the_plugin_rpctest_frames_are_hidden_too(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``-p no:rpctest`` (stubs used as a library): pytest's own ``__tracebackhide__`` hides rpctest's frames."""
    providers = tmp_path / "providers"
    providers.mkdir()
    (providers / "users.json").write_text(json.dumps(PROVIDER))
    monkeypatch.setenv("PYTHONPATH", str(Path(toystack.__file__).parent))
    pytester.makeconftest("import toystack\ntoystack.register()\n")
    pytester.makepyfile(PLAIN.replace("PROVIDERS", repr(str(providers / "users.json"))))
    result = pytester.runpytest_subprocess("-p", "no:rpctest", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    for name in ("test_plain", "test_plain_decorated"):
        section = _failure_section(text, name)
        assert len(section) <= 40, "\n".join(section)
        assert not any(line.startswith("/") and "rpctest/" in line for line in section), "\n".join(section)
        assert any("error code 'GONE'" in line for line in section), "\n".join(section)
