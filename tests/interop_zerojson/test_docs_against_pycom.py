"""docs/stacks/zerojson.md, "Against a real PyCOM server": its service file and its commands, run as
shown against PyCOM's own launcher. The one change is the address: a free port instead of 5555, so
that parallel runs do not collide."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from doc_blocks import commands, marked_blocks
from interop_zerojson.pycom_peer import free_tcp_address, wait_until_answering
from peer_process import stop_peer

SHOWN = "tcp://127.0.0.1:5555"


def test_the_guides_commands_run_against_the_real_pycom(tmp_path: Path) -> None:
    blocks = marked_blocks("stacks/zerojson.md", "interop-zerojson")
    assert sorted(blocks) == ["calc.py", "commands"]
    (tmp_path / "calc.py").write_text(blocks["calc.py"])
    address = free_tcp_address()
    shown = commands(blocks["commands"].replace(SHOWN, address))
    (launcher, background), *rest = shown
    assert background and launcher[:3] == ["python", "-m", "pycom"], launcher
    log = (tmp_path / "launcher.log").open("wb")
    process = subprocess.Popen([sys.executable, "-W", "ignore", *launcher[1:]], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_answering(address, "org.pycom.nameserver")
        outputs = []
        for argv, _ in rest:
            assert argv[0] == "rpctest", argv
            result = subprocess.run([sys.executable, "-m", "rpctest", *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300)
            outputs.append(result.stdout)
            assert result.returncode == 0, f"{' '.join(argv)}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    finally:
        stop_peer(process)
        log.close()
    assert (tmp_path / "calc.json").is_file()
    assert "skipped valid_input_is_not_rejected" in outputs[1]  # what the guide says the report says
    assert "WEAKNESS" in outputs[2] and "rpctest fuzz framing passed" in outputs[2]
