"""An endpoint that accepts TCP and never answers (not Redis, or a stuck Redis) must not hang anything:
the wire client, live verification and fuzzing each end within their timeout plus a second."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rpctest.model import Call
from rpctest.redis_backend import RedisUnavailable
from rpctest.stacks.pysoa.redis_client import PySOAWireClient
from silent import silent_endpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def silent_port() -> Iterator[int]:
    with silent_endpoint() as port:
        yield port


def test_the_wire_client_ends_within_its_timeout(silent_port: int) -> None:
    client = PySOAWireClient(f"redis://127.0.0.1:{silent_port}/0#service.users", timeout=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(RedisUnavailable, match=f"127.0.0.1:{silent_port}"):
            client.call(Call("pysoa", "users", "get_user", {"id": 1}))
    finally:
        client.close()
    assert time.monotonic() - started < 10  # the bug: it waited forever (a >90 s hang); a bound, not a speed


@pytest.mark.parametrize(
    "command",
    [
        ["contracts", "verify", "contracts/", "--live", "--stack", "pysoa"],
        ["fuzz", "--stack", "pysoa", "--contract", "contracts/providers/pysoa--users.json", "--max-examples", "2"],
    ],
    ids=["verify-live", "fuzz"],
)
def test_the_cli_gives_up_on_a_silent_endpoint_with_a_message(silent_port: int, command: list[str]) -> None:
    address = f"redis://127.0.0.1:{silent_port}/0#service.users"
    done = subprocess.run(
        [sys.executable, "-m", "rpctest", *command, "--address", address, "--timeout", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert f"cannot reach Redis at redis://127.0.0.1:{silent_port}/0" in done.stderr
    assert "Traceback" not in done.stderr
