"""Case strategies kept across fuzz runs of the same operation.

Hypothesis validates a strategy, and works out whether each part of it can be empty, once per
strategy object, the first time it is drawn from. The engine built every operation's strategy anew
on each run, so each run paid that again, with the schema's compilation: on a Kyoukai operation
whose bug shows on its first request, about a fifth of the time to that bug. A strategy holds no
state between draws, so a run reuses the one an earlier run built from the same things:

* the stack's adapter (the same object: a test that registers another adapter under a stack's
  name gets strategies of its own),
* the operation as its contract states it (request and response schemas, codes, route), the codes
  the target adds for it, and the mode,
* the generation options of the adapter, and the formats registered with
  :func:`rpctest.strategies.register_format` (the same strategy objects).

Anything that is not plain JSON data (a schema holding a ``Decimal``, say) is not keyed: its
strategy is built for the run, as before.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from typing import Any, Callable, Hashable

__all__ = ["StrategyMemo"]

#: strategies kept per adapter (the least recently used go first)
_SIZE = 256


class _NotPlain(Exception):
    """Raised while keying a value that JSON does not spell exactly."""


def _refuse(value: Any) -> Any:
    raise _NotPlain(type(value).__name__)


def plain_key(*parts: Any) -> str | None:
    """One string that is equal for equal plain-JSON ``parts`` (True, 1 and 1.0 apart), else None."""
    try:
        return json.dumps(parts, sort_keys=True, default=_refuse, allow_nan=True)
    except (_NotPlain, TypeError, ValueError):
        return None


class StrategyMemo:
    """``get(adapter, key, formats, build)``: the strategy built for ``key`` with ``formats`` in force,
    building it with ``build()`` the first time (or when the registered formats changed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_adapter: weakref.WeakKeyDictionary[Any, OrderedDict[Hashable, tuple[dict[str, Any], Any]]] = weakref.WeakKeyDictionary()

    def get(self, adapter: Any, key: Hashable | None, formats: dict[str, Any], build: Callable[[], Any]) -> Any:
        if key is None:
            return build()
        with self._lock:
            kept = self._by_adapter.setdefault(adapter, OrderedDict())
            hit = kept.get(key)
            if hit is not None and _same(hit[0], formats):
                kept.move_to_end(key)
                return hit[1]
        strategy = build()  # outside the lock: building may import and compile
        with self._lock:
            kept[key] = (dict(formats), strategy)
            if len(kept) > _SIZE:
                kept.popitem(last=False)
        return strategy


def _same(before: dict[str, Any], now: dict[str, Any]) -> bool:
    return before.keys() == now.keys() and all(before[name] is now[name] for name in now)
