"""The demo: the example services of every supported stack, their tests, contracts and fuzzing.

Usage: ``python3 scripts/demo.py``. Each stack runs in its own environment (their pins conflict:
``.venv`` for PySOA and ZeroJSON, ``.venv-pykern`` for pykern.api and AsyncAPY, ``.venv-kyoukai`` for
Kyoukai), created on first use and left ready. AsyncAPY is not on PyPI: set ``RPCTEST_ASYNCAPY`` to a
checkout or pip URL of it to include its provider side.
"""

from __future__ import annotations

import subprocess
import sys

from _bootstrap import ROOT, ensure_venv

#: stack -> the environment it runs in (see _bootstrap.ENVIRONMENTS)
STACKS = {"pysoa": "pysoa", "zerojson": "pysoa", "pykern": "pykern", "asyncapy": "pykern", "kyoukai": "kyoukai"}

if __name__ == "__main__":
    failed = []
    for number, (stack, environment) in enumerate(STACKS.items()):
        python = ensure_venv(environment)
        if number:
            print()
        code = subprocess.run([str(python), str(ROOT / "scripts" / "_demo_run.py"), stack], cwd=ROOT).returncode
        if code:
            failed.append(stack)
    print("\ndemo: " + ("every stack passed" if not failed else f"FAILED on {', '.join(failed)}"))
    sys.exit(1 if failed else 0)
