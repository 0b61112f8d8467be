"""A real ``rpctest serve --stack asyncapy`` process asked the calc example's recorded ``add``: how the
source tests show that serve reads contracts from another repository or a broker (AsyncAPY's wire
half needs no stack library, so this runs in the core session)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any


def served_add(*sources: str) -> Any:
    """The body ``rpctest serve --stack asyncapy SOURCES`` answers to ``add 2 3``; the process is
    stopped (and must exit 0) before this returns."""
    from rpctest.model import Call
    from rpctest.stacks.asyncapy.client import AsyncAPYSyncClient

    process = subprocess.Popen(
        [sys.executable, "-m", "rpctest", "serve", "--stack", "asyncapy", *sources],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        assert line.startswith("rpctest serve: asyncapy stub provider at "), (line, process.stderr.read() if process.poll() is not None else "")
        client = AsyncAPYSyncClient.from_address(line.rsplit(" ", 1)[1].strip(), timeout=5)
        try:
            reply = client.call(Call("asyncapy", "calc", "add", {"action": "add", "a": 2, "b": 3}))
        finally:
            client.close()
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert process.returncode == 0
    return reply.body
