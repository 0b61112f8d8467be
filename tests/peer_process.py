"""Stopping a peer started in a child process (a real PyCOM launcher, a real PySOA server loop):
asked to end first, as its own signal handling expects, then killed if it does not."""

from __future__ import annotations

import subprocess


def stop_peer(process: "subprocess.Popen[bytes]", grace: float = 10.0) -> None:
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(grace)
