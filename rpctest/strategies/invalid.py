"""Invalid values with exactly one defect, from the neutral schema.

A one-defect value is a valid value with one site changed: a required key dropped, a key added where
``additionalProperties`` is false, or one node (however deep: keys and list indexes) replaced by a
value that breaks exactly one of that node's rules. The compiler works on the schema's structure:
each node offers its own defects (wrong type, null, out of range, too long or short, pattern
mismatch, not in enum, missing or unexpected key) and its children's, each child's wrapped in a valid
parent whose other members are drawn from the valid strategies. So the body differs from a valid
body only at the defect's path, and which site is hit is part of Hypothesis' data (it shrinks toward
the first site of the shallowest node).

"Exactly one" is checked, not hoped for: a node's own defect must pass the node's schema with the
broken keyword(s) removed and fail the whole node; the whole body must fail
``compile_schema(schema).is_valid``. Sites that can never satisfy that (a ``too_short`` where the
pattern needs more characters, ``null`` where an enclosing ``anyOf`` allows null, a pattern that
every probe string matches) are pruned when the strategy is built, so filtering stays rare.

Not produced: defects inside ``not`` (what would the one broken rule be?), ``propertyNames``
violations (the key itself is the defect, and no kind names that), ``multipleOf`` breaks (no defect kind for it).
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Collection, Mapping
from typing import Any, Callable

from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from rpctest.schema.fast import json_type_name
from rpctest.strategies.defects import DEFECT_KINDS, Defect, InvalidRequest
from rpctest.strategies.valid import (
    INT64_MAX,
    INT64_MIN,
    NATIVE_TYPES,
    SchemaCompiler,
    declared_types,
    float_bounds,
    inferred_types,
    iso_duration,
    lower_bound,
    merge_all_of,
    merge_schemas,
    or_fallback,
    pattern_shape,
    upper_bound,
    without,
)

__all__ = ["DefectCompiler", "invalid_from_schema"]

Check = Callable[[Any], bool]
#: one defect site's draw: (value, path relative to the node, kind, description)
Hit = tuple[Any, tuple[Any, ...], str, str]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "format", "deprecated", "readOnly",
     "writeOnly", "x-rpctest-lossy", "x-rpctest-native"}
)
#: the keywords a pattern mismatch breaks: JSON Schema's search and the Python match beside it
_PATTERN_KEYWORDS = ("pattern", "x-rpctest-match")
#: values of other JSON types whose ``str()`` a Python match (``x-rpctest-match``) may refuse
_NOT_STRINGS = st.one_of(st.integers(-(10**6), 10**6), st.booleans(), st.none(), st.floats(allow_nan=False, allow_infinity=False),
                         st.lists(st.integers(0, 9), max_size=2), st.dictionaries(st.sampled_from("ab"), st.integers(0, 9), max_size=1))
_TEMPORAL = frozenset({"datetime", "date", "time", "timedelta"})
_WRONG_CANDIDATES = ("boolean", "integer", "number", "string", "array", "object")
#: a typical value of each JSON type, to prune wrong types an enclosing anyOf accepts
_REPRESENTATIVE = {"boolean": True, "integer": 1, "number": 0.5, "string": "a", "array": [], "object": {}}
#: strings tried against a pattern when looking for ones it does not match
_PROBE_CHARACTERS = (" ", "a", "0", "!", "\t", "\n", "Z", "_", "-", ".", "é", "\x00", "@", "/")


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class DefectCompiler:
    """Turns schema nodes into lists of one-defect site strategies (each drawing a :data:`Hit`)."""

    def __init__(self, compiler: SchemaCompiler, kinds: Collection[str], *, min_depth: int = 0) -> None:
        self.valid = compiler
        self.kinds = frozenset(kinds)
        self.min_depth = min_depth

    def check(self, schema: Any) -> Check:
        return self.valid.check(schema)

    # -- dispatch

    def sites(self, schema: Any, guards: tuple[Check, ...] = (), depth: int = 0) -> list[SearchStrategy[Hit]]:
        """Defect sites of ``schema`` (a node ``depth`` keys or indexes below the body); ``guards`` are
        enclosing combinator nodes (at the same place) that must reject the value too."""
        if not isinstance(schema, Mapping) or not schema:
            return []  # true, {}: anything goes; false: there is no valid value to break
        if "allOf" in schema:
            return self._enclosed(schema, [merge_all_of(schema)], guards, depth)
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                base = without(schema, keyword)
                options = [merge_schemas(base, branch) for branch in schema[keyword]]
                if keyword == "anyOf" and any(_accepts_everything(option) for option in options):
                    return []
                return self._enclosed(schema, options, guards, depth)
        if "not" in schema:
            return self._enclosed(schema, [without(schema, "not")], guards, depth)
        return self._node(schema, guards, depth)

    def _enclosed(
        self, schema: Mapping[str, Any], options: list[Any], guards: tuple[Check, ...], depth: int
    ) -> list[SearchStrategy[Hit]]:
        check = self.check(schema)
        out: list[SearchStrategy[Hit]] = []

        def refuted(hit: Hit) -> bool:
            return not check(hit[0])

        for option in options:
            if option is False:
                continue
            for site in self.sites(option, (*guards, check), depth):
                out.append(site.filter(refuted))
        return out

    def _node(self, schema: Mapping[str, Any], guards: tuple[Check, ...], depth: int) -> list[SearchStrategy[Hit]]:
        native = schema.get("x-rpctest-type")
        if native is not None and native not in NATIVE_TYPES:
            native = None  # the validator ignores unknown native names: so do we
        types = declared_types(schema)
        typed = native is not None or types is not None
        families = set(types or inferred_types(schema) or ())
        here = depth >= self.min_depth  # whether this node's own defects are deep enough
        out: list[SearchStrategy[Hit]] = []
        if "enum" in schema or "const" in schema:
            return self._not_in_enum(schema, guards) if here else []  # the constant set decides the rest
        if typed and here:
            out += self._wrong_type(schema, native, types or [], guards)
            out += self._null(schema, guards)
        if native in (None, "set", "tuple") and "array" in families:
            out += self._array_sites(schema, guards, depth)
        if native is None and "object" in families:
            out += self._object_sites(schema, guards, depth)
        if native is None and "string" in families and here:
            out += self._string_sites(schema, guards)
        if native is None and types is None and isinstance(schema.get("x-rpctest-match"), str) and here:
            out += self._match_sites(schema, guards)
        if native == "bytes" and here:
            out += self._bytes_sites(schema, guards)
        if here and (native == "decimal" or (native is None and families & {"integer", "number"})):
            out += self._number_sites(schema, native, families, guards)
        return out

    # -- building blocks

    def _own(
        self,
        schema: Mapping[str, Any],
        kind: str,
        values: SearchStrategy[Any],
        broken: tuple[str, ...],
        guards: tuple[Check, ...],
        describe: Callable[[Any], str],
    ) -> SearchStrategy[Hit]:
        """A defect of the node itself: values that pass the node without ``broken`` and fail it."""
        full = self.check(schema)
        relaxed = self.check(without(schema, *broken))

        def one_defect(value: Any) -> bool:
            return relaxed(value) and not full(value) and not any(guard(value) for guard in guards)

        return values.filter(one_defect).map(lambda value: (value, (), kind, describe(value)))

    def _restricted(self, schema: Mapping[str, Any], *types: str) -> dict[str, Any]:
        """``schema`` for values of ``types`` only (no null), keeping its native type."""
        node = dict(schema)
        node["type"] = types[0] if len(types) == 1 else list(types)
        return node

    # -- wrong type and null

    def _wrong_type(
        self, schema: Mapping[str, Any], native: str | None, types: list[str], guards: tuple[Check, ...]
    ) -> list[SearchStrategy[Hit]]:
        if "wrong_type" not in self.kinds:
            return []
        if native == "object" and not schema.get("x-rpctest-class"):
            return []  # any object will do
        allowed = set(types) - {"null"}
        if native in ("set", "tuple"):
            allowed = {"array"}
        elif native is not None:
            allowed = set()  # a datetime is no JSON type: every JSON value is the wrong type
        plain = without(schema, "x-rpctest-type", "x-rpctest-class", "format", "type")
        candidates = []
        for name in _WRONG_CANDIDATES:
            if name in allowed or (name == "integer" and "number" in allowed):
                continue
            if name == "number" and "number" in allowed:
                continue
            if any(guard(_REPRESENTATIVE[name]) for guard in guards):
                continue
            strategy = self._values_of_type(plain, name, integral_allowed="integer" in allowed)
            if strategy is None:
                continue
            if name == "string" and native in _TEMPORAL:  # the ISO text of the right value: a classic mistake
                strategy = st.one_of(strategy, self.valid.valid({"x-rpctest-type": native}).map(_iso_text))
            candidates.append(strategy)
        if native == "date":  # a datetime is a date subclass, but no Date field takes one
            candidates.append(self.valid.valid({"x-rpctest-type": "datetime"}))
        if not candidates:
            return []
        expected = native or "/".join(sorted(allowed)) or "?"
        if native == "object":
            wanted = schema["x-rpctest-class"]
            expected = wanted if isinstance(wanted, str) else " or ".join(wanted)
        return [
            self._own(
                schema,
                "wrong_type",
                st.one_of(candidates),
                ("type", "x-rpctest-type", "x-rpctest-class"),
                guards,
                lambda value: f"{json_type_name(value)} {_short(value)} where {expected} is expected",
            )
        ]

    def _values_of_type(self, plain: Mapping[str, Any], name: str, *, integral_allowed: bool) -> SearchStrategy[Any] | None:
        """Values of JSON type ``name`` that pass the node's other (type-specific) keywords."""
        node = {**plain, "type": name}
        if name == "number":
            bounds = float_bounds(plain)
            if bounds is None:
                return None
            floats = st.floats(allow_nan=False, allow_infinity=False, **bounds)
            if not integral_allowed:
                return floats
            # a float that is no integer: it must lie where floats have fractions, and no integer
            # multipleOf can hold for it; and an integral float (28.0), which JSON Schema would call an
            # integer but the stacks' Python servers get as a float and refuse (the dialect's integer is an int)
            low, high = bounds.get("min_value"), bounds.get("max_value")
            step = plain.get("multipleOf")
            integral = self._integral_floats(plain, low, high, step)
            if (low is not None and low >= 2**52) or (high is not None and high <= -(2**52)):
                return integral
            if (low is not None and high is not None and low == high) or (isinstance(step, int) and not isinstance(step, bool)):
                return integral
            fractions = floats.filter(lambda v: not v.is_integer())
            halves = [value for value in (0.5, -0.5, (low or 0) + 0.5, (high or 0) - 0.5)
                      if not float(value).is_integer() and self.check(plain)(value)]
            parts = [st.sampled_from(halves)] if halves else []
            parts += [fractions, *([integral] if integral is not None else [])]
            return st.one_of(parts)
        if name == "object":
            node.setdefault("additionalProperties", False)  # a small object
        if name == "array" and "items" not in node:
            node["items"] = {"type": "integer"}
        if name == "string" and "pattern" not in node and "maxLength" not in node:
            node["maxLength"] = 12
        return self.valid.valid(node)

    def _integral_floats(self, plain: Mapping[str, Any], low: Any, high: Any, step: Any) -> SearchStrategy[float] | None:
        """Integral floats within the node's bounds (and integer multipleOf), or None if there are none."""
        lo = -(2**52) if low is None else max(-(2**52), math.ceil(low))
        hi = 2**52 if high is None else min(2**52, math.floor(high))
        if isinstance(step, int) and not isinstance(step, bool) and step > 0:
            lo, hi = -((-lo) // step), hi // step
            scale = step
        elif step is None:
            scale = 1
        else:
            return None
        if lo > hi:
            return None
        return st.integers(lo, hi).map(lambda k: float(k * scale)).filter(self.check(plain))

    def _null(self, schema: Mapping[str, Any], guards: tuple[Check, ...]) -> list[SearchStrategy[Hit]]:
        if "null_not_nullable" not in self.kinds:
            return []
        full = self.check(schema)
        relaxed = self.check(without(schema, "type", "x-rpctest-type", "x-rpctest-class"))
        if full(None) or not relaxed(None) or any(guard(None) for guard in guards):
            return []
        return [st.just((None, (), "null_not_nullable", "null where the schema does not allow null"))]

    # -- enum / const

    def _not_in_enum(self, schema: Mapping[str, Any], guards: tuple[Check, ...]) -> list[SearchStrategy[Hit]]:
        if "not_in_enum" not in self.kinds:
            return []
        options = [schema["const"]] if "const" in schema else list(schema.get("enum") or ())
        declared = declared_types(schema)
        member_types = {json_type_name(option) for option in options}
        wanted = [name for name in ("string", "integer", "number", "boolean", "array", "object") if name in member_types]
        if declared is not None:
            wanted = [name for name in wanted if name in declared or (name == "integer" and "number" in declared)]
        if "boolean" in wanted and {True, False} <= {option for option in options if isinstance(option, bool)}:
            wanted.remove("boolean")
        if not wanted:  # e.g. enum [true, false] or [null]: another type of value, if the schema lets it
            wanted = [name for name in ("string", "integer") if declared is None or name in declared]
        candidates: list[SearchStrategy[Any]] = []
        strings = [option for option in options if isinstance(option, str)]
        for name in wanted:
            if name == "string":
                near = [variant for option in strings for variant in (option + "_x", option.upper(), option[:-1], "x" + option)]
                candidates.append(st.one_of(st.sampled_from(near), self.valid.text(max_size=12)) if near else self.valid.text(max_size=12))
            elif name == "integer":
                numbers = [option for option in options if isinstance(option, int) and not isinstance(option, bool)]
                nearby = [number + delta for number in numbers for delta in (-1, 1)]
                ints = st.integers(INT64_MIN, INT64_MAX)
                candidates.append(st.one_of(st.sampled_from(nearby), ints) if nearby else ints)
            elif name == "number":
                candidates.append(st.floats(allow_nan=False, allow_infinity=False))
            elif name == "boolean":
                candidates.append(st.booleans())
            elif name == "array":
                candidates.append(st.lists(self.valid.scalars, max_size=3))
            elif name == "object":
                candidates.append(st.dictionaries(self.valid.text(max_size=8), self.valid.scalars, max_size=3))
        if not candidates:
            return []

        def describe(value: Any) -> str:
            return f"{_short(value)} is not one of {_short(options, 60)}"

        return [self._own(schema, "not_in_enum", st.one_of(candidates), ("enum", "const"), guards, describe)]

    # -- objects

    def _object_sites(self, schema: Mapping[str, Any], guards: tuple[Check, ...], depth: int) -> list[SearchStrategy[Hit]]:
        node = self._restricted(schema, "object")
        objects = self.valid.valid(node)
        if objects.is_empty:
            return []  # no valid object to break
        properties: Mapping[str, Any] = schema.get("properties") or {}
        required = list(dict.fromkeys(schema.get("required") or ()))
        extra = schema.get("additionalProperties", True)
        out: list[SearchStrategy[Hit]] = []
        full = self.check(schema)
        keys_deep_enough = depth + 1 >= self.min_depth

        if "missing_required" in self.kinds and required and keys_deep_enough:
            dropped = []
            for key in required:
                relaxed = self.check({**node, "required": [name for name in required if name != key]})

                def drop(value: dict[str, Any], key: str = key) -> Hit:
                    return ({name: item for name, item in value.items() if name != key}, (key,), "missing_required",
                            f"required key {key!r} left out")

                def one_defect(hit: Hit, relaxed: Check = relaxed) -> bool:
                    return relaxed(hit[0]) and not full(hit[0]) and not any(guard(hit[0]) for guard in guards)

                dropped.append(objects.map(drop).filter(one_defect))
            out += dropped

        if "unexpected_key" in self.kinds and extra is False and keys_deep_enough:
            relaxed = self.check(without(schema, "additionalProperties"))
            names = self.valid.key_names(schema, readable=True)

            def add(triple: tuple[dict[str, Any], str, Any]) -> Hit:
                value, name, item = triple
                return ({**value, name: item}, (name,), "unexpected_key", f"key {name!r} is not declared")

            def one_defect_key(hit: Hit) -> bool:
                return relaxed(hit[0]) and not full(hit[0]) and not any(guard(hit[0]) for guard in guards)

            simple = st.one_of(st.integers(-10, 10), self.valid.text(max_size=8), st.booleans())
            out.append(st.tuples(objects, names, simple).filter(_new_name).map(add).filter(one_defect_key))

        for key, sub in properties.items():
            children = self.sites(sub, (), depth + 1)
            if children:
                # the other members only: drawing a valid value for ``key`` too would be wasted (and a
                # longer draw makes Hypothesis prefer shallower sites)
                others = {**node, "properties": without(properties, key), "required": [name for name in required if name != key]}
                siblings = self.valid.valid(others)

                def placed(pair: tuple[Hit, Any], key: str = key) -> Hit:
                    return _put(pair[1], key, pair[0])

                for child in children:  # one site per leaf: Hypothesis picks among all of them evenly
                    out.append(st.tuples(child, siblings).map(placed))

        if isinstance(extra, Mapping) and extra:
            children = self.sites(extra, (), depth + 1)
            if children:
                names = self.valid.key_names(schema, readable=True)

                def put_new(triple: tuple[dict[str, Any], str, Hit]) -> Hit:
                    value, name, hit = triple
                    return _put(value, name, hit)

                for child in children:
                    out.append(st.tuples(objects, names, child).filter(_new_name).map(put_new))
        return out

    # -- arrays

    def _array_sites(self, schema: Mapping[str, Any], guards: tuple[Check, ...], depth: int) -> list[SearchStrategy[Hit]]:
        node = self._restricted(schema, "array")
        prefix = list(schema.get("prefixItems") or ())
        items = schema.get("items", True)
        lo = int(schema.get("minItems", 0))
        hi = schema.get("maxItems")
        hi = int(hi) if hi is not None else None
        unique = bool(schema.get("uniqueItems")) or schema.get("x-rpctest-type") == "set"
        limit = hi
        if items is False and prefix:
            limit = len(prefix) if limit is None else min(limit, len(prefix))
        out: list[SearchStrategy[Hit]] = []
        here = depth >= self.min_depth

        if here and "too_long" in self.kinds and limit is not None and self._room_for(items, prefix, unique, limit + 1):
            longer = {**node, "minItems": limit + 1, "maxItems": limit + 3}
            broken: tuple[str, ...] = ("maxItems",)
            if items is False:
                longer["items"] = {"type": "integer", "minimum": 0, "maximum": 1000}
                broken += ("items",)
            out.append(
                self._own(schema, "too_long", self.valid.valid(longer), broken, guards,
                          lambda value: f"{len(value)} items, more than the {limit} allowed")
            )

        if here and "too_short" in self.kinds and lo > 0:
            shorter = without(node, "minItems")
            shorter["maxItems"] = lo - 1 if hi is None else min(hi, lo - 1)
            out.append(
                self._own(schema, "too_short", self.valid.valid(shorter), ("minItems",), guards,
                          lambda value: f"{len(value)} items, fewer than the {lo} required")
            )

        count = len(prefix)
        if isinstance(items, Mapping) and items and (hi is None or hi > count):
            children = self.sites(items, (), depth + 1)
            if children:
                fewer = {**node, "minItems": max(lo - 1, count)}
                if hi is not None:
                    fewer["maxItems"] = hi - 1
                arrays = self.valid.valid(fewer)
                out += [_insert_item(arrays, child, count) for child in children]
        for index, sub in enumerate(prefix):
            if hi is not None and hi <= index:
                break
            children = self.sites(sub, (), depth + 1)
            if children:
                arrays = self.valid.valid({**node, "minItems": max(lo, index + 1)})
                out += [_replace_item(arrays, child, index, index) for child in children]
        return out

    @staticmethod
    def _room_for(items: Any, prefix: list[Any], unique: bool, size: int) -> bool:
        """Whether an array of ``size`` items can exist (only unique items of a finite set may not)."""
        if not unique or size <= len(prefix):
            return True
        rest = size - len(prefix)
        if isinstance(items, Mapping):
            if "const" in items:
                return rest <= 1
            if "enum" in items:
                return rest <= len(items["enum"])
            if items.get("type") == "boolean":
                return rest <= 2
            if items.get("type") == "null":
                return rest <= 1
        return True

    # -- strings

    def _bytes_sites(self, schema: Mapping[str, Any], guards: tuple[Check, ...]) -> list[SearchStrategy[Hit]]:
        """Length defects of a bytes value (the dialect's minLength / maxLength count bytes)."""
        lo = int(schema.get("minLength", 0))
        hi = schema.get("maxLength")
        out: list[SearchStrategy[Hit]] = []
        if "too_long" in self.kinds and hi is not None:
            out.append(
                self._own(schema, "too_long", st.binary(min_size=int(hi) + 1, max_size=int(hi) + 4), ("maxLength",), guards,
                          lambda value: f"{len(value)} bytes, more than the {hi} allowed")
            )
        if "too_short" in self.kinds and lo > 0:
            top = lo - 1 if hi is None else min(int(hi), lo - 1)
            out.append(
                self._own(schema, "too_short", st.binary(max_size=top), ("minLength",), guards,
                          lambda value: f"{len(value)} bytes, fewer than the {lo} required")
            )
        return out

    def _string_sites(self, schema: Mapping[str, Any], guards: tuple[Check, ...]) -> list[SearchStrategy[Hit]]:
        node = self._restricted(schema, "string")
        lo = int(schema.get("minLength", 0))
        hi = schema.get("maxLength")
        hi = int(hi) if hi is not None else None
        pattern = schema.get("pattern") if isinstance(schema.get("pattern"), str) else None
        width = pattern_shape(pattern) if pattern is not None else None
        out: list[SearchStrategy[Hit]] = []

        if "too_long" in self.kinds and hi is not None:
            feasible = width is None or not (width[2] and width[3]) or width[1] > hi
            if feasible:
                longer = {**without(node, "format"), "minLength": hi + 1, "maxLength": hi + 4}
                values = self.valid.valid(longer)
                padded = self._padded_format(schema.get("format"), hi)
                if padded is not None:
                    values = st.one_of(padded, values)
                out.append(
                    self._own(schema, "too_long", values, ("maxLength",), guards,
                              lambda value: f"{len(value)} characters, more than the {hi} allowed")
                )

        if "too_short" in self.kinds and lo > 0:
            if width is None or width[0] <= lo - 1:
                shorter = without(node, "minLength", "format")
                shorter["maxLength"] = lo - 1 if hi is None else min(hi, lo - 1)
                out.append(
                    self._own(schema, "too_short", self.valid.valid(shorter), ("minLength",), guards,
                              lambda value: f"{len(value)} characters, fewer than the {lo} required")
                )

        if "pattern_mismatch" in self.kinds and pattern is not None:
            full = self.check(schema)
            relaxed = self.check(without(schema, *_PATTERN_KEYWORDS))
            probes = []
            top = lo + 3 if hi is None else min(hi, lo + 3)
            for size in range(lo, top + 1):
                for character in _PROBE_CHARACTERS:
                    candidate = character * size
                    if relaxed(candidate) and not full(candidate) and candidate not in probes:
                        probes.append(candidate)
            if probes:  # no probe fits: the pattern most likely matches everything, so no site
                # mostly the probes: a random string of the right length tends to match a loose pattern
                values = st.one_of(st.sampled_from(probes), or_fallback(
                    self.valid.valid(without(node, "pattern", "format")),
                    lambda value: relaxed(value) and not full(value), st.sampled_from(probes)))
                out.append(
                    self._own(schema, "pattern_mismatch", values, _PATTERN_KEYWORDS, guards,
                              lambda value: f"{_short(value)} does not match {pattern!r}")
                )
        return out

    def _match_sites(self, schema: Mapping[str, Any], guards: tuple[Check, ...]) -> list[SearchStrategy[Hit]]:
        """An untyped Python-match node (AsyncAPY's Fields) takes any value whose ``str()`` matches:
        a number, a boolean, null, a list or a map whose text does not match is its wrong type."""
        if "wrong_type" not in self.kinds:
            return []
        full = self.check(schema)
        if not any(not full(value) for value in _REPRESENTATIVE.values()) and full(None):
            return []  # the pattern takes every other type's text (e.g. ".*"): nothing to break
        pattern = schema["x-rpctest-match"]
        return [
            self._own(schema, "wrong_type", _NOT_STRINGS, _PATTERN_KEYWORDS, guards,
                      lambda value: f"{json_type_name(value)} {_short(value)}, whose str() does not match {pattern!r}")
        ]

    def _padded_format(self, fmt: Any, hi: int) -> SearchStrategy[str] | None:
        """Formatted values made longer than ``hi`` without breaking the format (where that is cheap)."""
        strategy = self.valid.formats.get(fmt) if isinstance(fmt, str) else None
        if strategy is None or fmt not in ("email", "uri", "hostname"):
            return None

        def pad(pair: tuple[str, int]) -> str:
            value, extra = pair
            missing = max(0, hi + extra - len(value))
            if fmt == "email":
                return "a" * missing + value
            if fmt == "uri":
                return value + "/" + "a" * max(0, missing - 1)
            labels = []
            while missing > 0:
                size = max(1, min(60, missing - 1))
                labels.append("a" * size)
                missing -= size + 1
            return ".".join([*labels, value])

        return st.tuples(strategy, st.integers(1, 4)).map(pad)

    # -- numbers

    def _number_sites(
        self, schema: Mapping[str, Any], native: str | None, families: set[str], guards: tuple[Check, ...]
    ) -> list[SearchStrategy[Hit]]:
        if "out_of_range" not in self.kinds:
            return []
        integral = native is None and "number" not in families
        out = []
        for side, bound, keywords in (("below", lower_bound(schema), ("minimum", "exclusiveMinimum")),
                                      ("above", upper_bound(schema), ("maximum", "exclusiveMaximum"))):
            if bound is None:
                continue
            limit, exclusive = bound
            values = self._beyond(limit, exclusive, side, native, integral, schema.get("multipleOf"))
            if values is None:
                continue
            relation = ("<=" if exclusive else "<") if side == "below" else (">=" if exclusive else ">")
            keyword = keywords[1] if exclusive else keywords[0]

            def describe(value: Any, relation: str = relation, limit: Any = limit, keyword: str = keyword) -> str:
                return f"{_short(value)} {relation} {limit} ({keyword})"

            out.append(self._own(schema, "out_of_range", values, keywords, guards, describe))
        return out

    def _beyond(self, limit: Any, exclusive: bool, side: str, native: str | None, integral: bool, step: Any) -> SearchStrategy[Any] | None:
        below = side == "below"
        if native == "decimal":
            import decimal

            edge = decimal.Decimal(limit)
            kwargs: dict[str, Any] = {"max_value": edge} if below else {"min_value": edge}
            return st.one_of(st.just(edge) if exclusive else st.nothing(),
                             st.decimals(allow_nan=False, allow_infinity=False, **kwargs))
        if below:
            worst = math.floor(limit) if exclusive else math.ceil(limit) - 1
            if worst < INT64_MIN:
                ints = None
            else:
                ints = st.one_of(st.just(worst), st.integers(INT64_MIN, worst))
        else:
            worst = math.ceil(limit) if exclusive else math.floor(limit) + 1
            ints = None if worst > INT64_MAX else st.one_of(st.just(worst), st.integers(worst, INT64_MAX))
        if ints is not None and isinstance(step, int) and not isinstance(step, bool) and step > 0:
            ints = ints.map(lambda value: (value // step) * step if below else -((-value) // step) * step)
        if integral:
            return ints
        try:
            bound = float(limit)
        except OverflowError:
            return ints
        plain = not exclusive and bound == limit  # the bound itself is valid: leave it out
        floats = st.floats(max_value=bound, exclude_max=plain, allow_nan=False, allow_infinity=False) if below else \
            st.floats(min_value=bound, exclude_min=plain, allow_nan=False, allow_infinity=False)
        return floats if ints is None else st.one_of(ints, floats)


def _accepts_everything(schema: Any) -> bool:
    return schema is True or (isinstance(schema, Mapping) and _ANNOTATIONS.issuperset(schema))


def _iso_text(value: Any) -> str:
    return iso_duration(value) if isinstance(value, datetime.timedelta) else value.isoformat()


def _new_name(triple: tuple[Any, ...]) -> bool:
    return triple[1] not in triple[0]


def _put(value: Mapping[str, Any], key: str, hit: Hit) -> Hit:
    inner, path, kind, description = hit
    out = dict(value)
    out[key] = inner
    return (out, (key, *path), kind, description)


def _insert_item(arrays: SearchStrategy[list[Any]], children: SearchStrategy[Hit], first: int) -> SearchStrategy[Hit]:
    """Arrays with a defect inserted at an index from ``first`` on (the other items stay valid)."""

    @st.composite
    def inserted(draw: Any) -> Hit:
        inner, path, kind, description = draw(children)
        value = list(draw(arrays))
        index = draw(st.integers(first, len(value))) if len(value) > first else first
        value.insert(index, inner)
        return (value, (index, *path), kind, description)

    return inserted()


def _replace_item(arrays: SearchStrategy[list[Any]], children: SearchStrategy[Hit], first: int, last: int | None = None) -> SearchStrategy[Hit]:
    """Arrays with one item (index ``first``..``last``, default to the end) replaced by a defect."""

    @st.composite
    def replaced(draw: Any) -> Hit:
        inner, path, kind, description = draw(children)
        value = list(draw(arrays))
        end = len(value) - 1 if last is None else last
        if end < first:
            reject()
        index = draw(st.integers(first, end)) if end > first else first
        value[index] = inner
        return (value, (index, *path), kind, description)

    return replaced()


def _describe_schema(schema: Any, limit: int = 200) -> str:
    try:
        text = json.dumps(schema, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        text = repr(schema)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def invalid_from_schema(
    schema: Mapping[str, Any] | bool,
    *,
    kinds: Collection[str] | None = None,
    formats: Mapping[str, SearchStrategy[str]] | None = None,
    allow_surrogates: bool = False,
    min_depth: int = 0,
    utc: datetime.tzinfo = datetime.timezone.utc,
) -> SearchStrategy[InvalidRequest]:
    """A strategy of :class:`InvalidRequest`: bodies with exactly one defect of one of ``kinds``.

    ``min_depth`` keeps defects at least that many keys / indexes deep: ``1`` leaves the body's own
    type alone (a request body stays an object; only its keys and what lies below are broken).
    Raises ValueError at once when the schema admits no such defect (``{}`` accepts everything).
    """
    from rpctest.schema.validate import compile_schema

    if kinds is None:
        wanted = frozenset(DEFECT_KINDS)
    else:
        if isinstance(kinds, str):
            kinds = [kinds]
        wanted = frozenset(kinds)
        unknown = sorted(wanted - set(DEFECT_KINDS))
        if unknown:
            raise ValueError(f"unknown defect kind(s) {', '.join(unknown)}; kinds: {', '.join(DEFECT_KINDS)}")
        if not wanted:
            raise ValueError("kinds is empty: name at least one of " + ", ".join(DEFECT_KINDS))
    compiled = compile_schema(schema)
    compiler = SchemaCompiler(formats=formats, allow_surrogates=allow_surrogates, utc=utc)
    sites = [site for site in DefectCompiler(compiler, wanted, min_depth=min_depth).sites(schema) if not site.is_empty]
    if not sites:
        restriction = "" if kinds is None else f" of kind {', '.join(sorted(wanted))}"
        if min_depth:
            restriction += f" at depth >= {min_depth}"
        raise ValueError(f"no one-defect mutation{restriction} exists for the schema {_describe_schema(schema)}")
    is_valid = compiled.is_valid

    def build(hit: Hit) -> InvalidRequest:
        value, path, kind, description = hit
        return InvalidRequest(value, Defect(kind, tuple(path), description))

    return st.one_of(sites).filter(lambda hit: not is_valid(hit[0])).map(build)

