"""Values in contract files: JSON, plus single-key tags for the native types JSON has no word for.

A recorded PySOA body may hold a ``datetime``, a ``Decimal``, a ``set`` or bytes; writing those as
plain strings would lose the very type a contract must check (and ``rpctest serve`` could not send
the real type back). So contract files store them tagged, and stay plain, diffable JSON::

    {"$datetime": "2024-05-01T12:00:00+00:00"}   {"$date": "2024-05-01"}   {"$time": "12:00:00"}
    {"$timedelta": [days, seconds, microseconds]} {"$decimal": "1.50"}      {"$bytes": "<base64>"}
    {"$set": [...]}  {"$tuple": [...]}  {"$float": "nan"}  {"$map": [[key, value], ...]}
    {"$object": {"class": "pkg.mod.Name", "repr": "..."}}   (one way: decodes to an ObjectRef)
    {"$dict": {...}}  (escapes a real one-key mapping whose key happens to be a tag)

Sets are written in a canonical order so that files diff cleanly run after run.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["encode", "decode", "ObjectRef", "canonical", "TAGS"]

TAGS = frozenset(
    {"$datetime", "$date", "$time", "$timedelta", "$decimal", "$bytes", "$set", "$tuple", "$float", "$map", "$object", "$dict"}
)


@dataclass(frozen=True)
class ObjectRef:
    """An arbitrary object a stub returned, as far as a contract can keep it: its class and repr."""

    cls: str
    repr: str


def _qualname(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def canonical(data: Any) -> str:
    """A stable text for an encoded value (sorting sets, deduplicating interactions)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data, tagging what JSON cannot carry."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, Mapping):
        if all(isinstance(key, str) for key in value):
            data = {key: encode(item) for key, item in value.items()}
            return {"$dict": data} if len(data) == 1 and next(iter(data)) in TAGS else data
        pairs = [[encode(key), encode(item)] for key, item in value.items()]
        return {"$map": sorted(pairs, key=canonical)}  # equal mappings, equal text, whatever the insertion order
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, (set, frozenset)):
        return {"$set": sorted((encode(item) for item in value), key=canonical)}
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"$time": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, ObjectRef):
        return {"$object": {"class": value.cls, "repr": value.repr}}
    return {"$object": {"class": _qualname(value), "repr": repr(value)}}


def decode(data: Any) -> Any:
    """The Python value of encoded ``data`` (the inverse of :func:`encode`)."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1:
        tag, payload = next(iter(data.items()))
        if tag in TAGS:
            if not isinstance(payload, _PAYLOAD_TYPES[tag]):
                raise _BadPayload(f"{tag} payload must be a JSON {_JSON_NAMES[_PAYLOAD_TYPES[tag]]}, not {payload!r:.80}")
            try:
                return _DECODERS[tag](payload)
            except _BadPayload:
                raise
            except (ValueError, TypeError, ArithmeticError, LookupError, AttributeError) as exc:
                # one exception type for every bad payload (decimal raises InvalidOperation, a short
                # $timedelta IndexError...), so that readers of contract files can report it
                raise _BadPayload(f"{tag} payload {payload!r:.80} does not decode: {exc}") from exc
    return {key: decode(item) for key, item in data.items()}


def _float(text: str) -> float:
    return float(text)


def _decode_map(pairs: Any) -> dict[Any, Any]:
    return {_hashable(decode(key)): decode(item) for key, item in pairs}


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):  # recursively: a tuple key may hold a frozenset
        return tuple(_hashable(item) for item in value)
    if isinstance(value, set):
        return frozenset(value)
    return value


class _BadPayload(ValueError):
    """A tagged value whose payload does not decode; the message names the tag."""


#: the JSON type each tag's payload must have (checked before decoding: ``{"$tuple": "abc"}`` is an
#: error, not the tuple ``("a", "b", "c")``)
_PAYLOAD_TYPES: dict[str, type] = {
    "$datetime": str,
    "$date": str,
    "$time": str,
    "$timedelta": list,
    "$decimal": str,
    "$bytes": str,
    "$set": list,
    "$tuple": list,
    "$float": str,
    "$map": list,
    "$object": dict,
    "$dict": dict,
}
_JSON_NAMES: dict[type, str] = {str: "string", list: "array", dict: "object"}


def _timedelta(parts: list[Any]) -> datetime.timedelta:
    days, seconds, microseconds = parts
    return datetime.timedelta(days=days, seconds=seconds, microseconds=microseconds)


def _object(ref: dict[str, Any]) -> ObjectRef:
    cls, text = ref["class"], ref["repr"]
    if not isinstance(cls, str) or not isinstance(text, str):
        raise TypeError("'class' and 'repr' must be strings")
    return ObjectRef(cls, text)


_DECODERS: dict[str, Any] = {
    "$datetime": datetime.datetime.fromisoformat,
    "$date": datetime.date.fromisoformat,
    "$time": datetime.time.fromisoformat,
    "$timedelta": _timedelta,
    "$decimal": decimal.Decimal,
    "$bytes": lambda text: base64.b64decode(text.encode("ascii"), validate=True),
    "$set": lambda items: {_hashable(decode(item)) for item in items},
    "$tuple": lambda items: tuple(decode(item) for item in items),
    "$float": _float,
    "$map": _decode_map,
    "$object": _object,
    "$dict": lambda mapping: {key: decode(item) for key, item in mapping.items()},
}
