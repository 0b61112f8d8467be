"""docs/stacks/pysoa.md, "Against a running PySOA service": its service file and its commands, run as
shown against PySOA's own server loop on a real Redis. The one change is the Redis address: the test's
redis-server instead of 127.0.0.1:6379."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from doc_blocks import commands, marked_blocks
from interop_pysoa.pysoa_peer import rpctest_answer
from peer_process import stop_peer
from rpctest.exceptions import TransportError


def test_the_guides_commands_run_against_the_real_pysoa(rpctest_redis: Any, tmp_path: Path) -> None:
    blocks = marked_blocks("stacks/pysoa.md", "interop-pysoa")
    assert sorted(blocks) == ["commands", "ledger.py"]
    port = str(rpctest_redis.port)
    assert '("127.0.0.1", 6379)' in blocks["ledger.py"] and rpctest_redis.db == 0
    (tmp_path / "ledger.py").write_text(blocks["ledger.py"].replace('("127.0.0.1", 6379)', f'("127.0.0.1", {port})'))
    (server, background), *rest = commands(blocks["commands"].replace("127.0.0.1:6379", f"127.0.0.1:{port}"))
    assert background and server[0] == "python", server
    address = f"redis://127.0.0.1:{port}/0#service.ledger"
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, *server[1:]], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        until = time.monotonic() + 30
        while True:
            try:
                rpctest_answer(address, "register", {})
                break
            except TransportError:
                assert process.poll() is None and time.monotonic() < until, (tmp_path / "server.log").read_text()[-2000:]
        for argv, _ in rest:
            assert argv[0] == "rpctest", argv
            result = subprocess.run([sys.executable, "-m", "rpctest", *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, f"{' '.join(argv)}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    finally:
        stop_peer(process)
        log.close()
    remote = json.loads((tmp_path / "ledger-remote.json").read_text())["operations"]["register"]
    local = json.loads((tmp_path / "ledger.json").read_text())["operations"]["register"]
    assert remote.get("errors_open") is True and "DUPLICATE" in local["errors"]  # what the guide says of the two
