"""Replay files: one minimal failing request, written when a fuzz check fails, re-sent by ``rpctest replay``.

The file holds everything needed to ask the same question again (the stack, how to reach the
provider, the operation, the request with native values tagged as in contract files) and what went
wrong (the check, the message, the reply, the defect and the expected answer). Replaying sends the
request once more and runs the same check: FIXED or STILL FAILING.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rpctest.credentials import redact
from rpctest.exceptions import ConfigError
from rpctest.schema import values

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.credentials import Credentials
    from rpctest.fuzz.engine import Failure, Target

__all__ = ["REPLAY_VERSION", "write_replay", "load_replay", "replay"]

REPLAY_VERSION = 1


def _reply_data(reply: Any) -> dict[str, Any]:
    if reply.ok:
        return {"body": values.encode(reply.body)}
    return {"errors": [e.to_dict() | {"details": values.encode(e.details)} for e in reply.all_errors]}


def write_replay(target: "Target", failure: "Failure", directory: Path) -> Path:
    """Write the replay file of ``failure`` under ``directory``; the name is stable for one failure."""
    data = {
        "rpctest_replay": REPLAY_VERSION,
        "stack": target.stack,
        "service": target.service,
        "target": {key: value for key, value in target.origin.items() if key != "stack"},
        "operation": failure.operation,
        "mode": failure.mode,
        "request": values.encode(failure.body),
        "check": failure.check,
        "message": failure.message,
        "reply": _reply_data(failure.reply),
        "defect": failure.defect.to_dict() if failure.defect is not None else None,
        "expected": failure.expected.to_dict() if failure.expected is not None else None,
        "seed": failure.seed,  # the run's seed: rpctest fuzz --seed draws the same cases again
    }
    spec = target.contract.operations.get(failure.operation)
    if spec is not None:  # replaying at an address must not need introspection (pykern has none)
        data["operation_spec"] = spec.to_dict()
    # a service that echoes its caller's token into an error must not put it in a file CI keeps
    text = redact(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    digest = hashlib.sha256(json.dumps([data["operation"], data["request"], data["check"]], sort_keys=True).encode()).hexdigest()[:10]
    directory.mkdir(parents=True, exist_ok=True)
    # operation names may hold what a file name cannot (Kyoukai's "GET /items/<int:id>")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{target.service}.{failure.operation}").strip("_")
    path = directory / f"{name}-{digest}.json"
    path.write_text(text, encoding="utf-8")
    return path


def load_replay(path: Path | str) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such replay file") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable replay file: {exc}") from None
    if not isinstance(data, dict) or data.get("rpctest_replay") != REPLAY_VERSION:
        raise ConfigError(f"{path}: not an rpctest replay file of version {REPLAY_VERSION}")
    missing = [key for key in ("stack", "service", "operation", "mode", "check") if key not in data]
    if missing:
        raise ConfigError(f"{path}: replay file lacks {', '.join(missing)}")
    return data


def replay(
    path: Path | str, *, provider: Any = None, address: str | None = None, timeout: float = 5.0, credentials: "Credentials | None" = None
) -> tuple[bool, str]:
    """Send the replay file's request again; (still failing, what the check says now). ``credentials``
    go with it to an address: a replay file never holds them (only which parts the run sent)."""
    from rpctest.contracts.format import OperationSpec, ProviderContract
    from rpctest.fuzz.checks import CHECKS, Case
    from rpctest.fuzz.engine import _executor, an_answer_came_back, case_codes, CheckFailed
    from rpctest.fuzz.target import open_target
    from rpctest.schema.validate import compile_schema
    from rpctest.strategies.defects import Defect, Expected

    data = load_replay(path)
    where = data.get("target", {})
    if provider is None and address is None:
        provider, address = where.get("provider"), where.get("address")
    if provider is None and address is None:
        raise ConfigError(f"{path}: the replay file names no provider or address; give --provider or --address")
    # at an address, the question must be the same one, and a stack without introspection (pykern,
    # Kyoukai, AsyncAPY) cannot say it again: the contract file the run was given, while it is there
    # (AsyncAPY routes a packet among all of its handlers), else the operation as the run knew it
    known: ProviderContract | str | None = None
    given = where.get("contract")
    if provider is None and given and Path(given).is_file():
        known = given
    elif provider is None and isinstance(data.get("operation_spec"), dict):
        spec = OperationSpec.from_dict(data["operation"], data["operation_spec"])
        known = ProviderContract(data["stack"], data["service"], {spec.name: spec})
    with open_target(data["stack"], provider=provider, address=address, service=data["service"], contract=known,
                     timeout=timeout, credentials=credentials) as target:
        contract: ProviderContract = target.contract
        op = contract.operations.get(data["operation"])
        case = Case(
            data["operation"],
            values.decode(data.get("request")),
            data["mode"],
            defect=Defect.from_dict(data["defect"]) if data.get("defect") else None,
            expected=Expected.from_dict(data["expected"]) if data.get("expected") else None,
            response_schema=compile_schema(op.response) if op is not None else None,
            **(case_codes(target, op) if op is not None else {}),
        )
        checks = [check for check in [an_answer_came_back, *CHECKS] if check.__name__ == data["check"]] or [an_answer_came_back, *CHECKS]
        try:
            _executor(target, checks)(case)
        except CheckFailed as failed:
            return True, f"{failed.check}: {failed.message}"
    return False, f"{data['check']} now passes"
