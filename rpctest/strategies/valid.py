"""Valid values from the neutral schema: a compiler from rpctest's JSON Schema dialect to Hypothesis.

Every keyword of the dialect (:mod:`rpctest.schema`) is turned into a generator that hits valid
values directly; :func:`rpctest.schema.validate.compile_schema` stays the authority, and each node
whose generator is not exact by construction (a ``pattern``, ``uniqueItems`` over a tuple,
``anyOf``/``oneOf``/``allOf``/``not``, ``multipleOf``, a keyword outside the dialect) is filtered with
that node's compiled check. :func:`from_schema` filters the whole value once more as a safety net.

Values are made to survive an RPC wire: ints within int64, floats finite, text without lone
surrogates (unless ``allow_surrogates=True``), sets and tuples as lists (the dialect accepts lists for
``x-rpctest-type: set`` / ``tuple``: that is what msgpack and JSON carry), datetimes naive or UTC
(``SchemaCompiler(utc=...)`` picks the UTC object: PySOA's msgpack wants ``pytz.UTC``) and a day
inside ``datetime``'s range (PySOA decodes 9999-12-31T23:59:59.999999 into year 10000 and fails).

Decisions worth knowing:

* ``pattern`` is a *search* (JSON Schema semantics): strings are built from a full match of the
  pattern, padded to the length bounds, then checked.
* ``format`` is an annotation for the validator, but a real service checks it (Conformity's
  EmailAddress), so a string with a known format is drawn from that format's strategy only (built
  ins, :func:`register_format`, or ``formats=``), filtered to the length bounds.
* ``additionalProperties``: ``false`` gives only declared keys; a schema gives up to three extra keys
  drawn from it (names from ``propertyNames``); ``true`` or absent gives at most two extra keys with
  simple scalar values (none at all for ``{"type": "object"}`` beyond that).
* ``allOf`` branches are merged keyword by keyword into one schema (bounds tightened, ``required``
  united, ``properties`` merged); what cannot be merged is left to the filter.
* ``{}`` / ``true`` give a small recursive JSON-like value; ``false`` gives :func:`hypothesis.strategies.nothing`.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import functools
import inspect
import math
import re
from collections.abc import Mapping
from typing import Any, Callable

from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from rpctest.schema.fast import compile_fast, json_equal

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "SchemaCompiler",
    "from_schema",
    "merge_all_of",
    "merge_schemas",
    "or_fallback",
    "register_format",
    "registered_formats",
    "unique_key",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

Check = Callable[[Any], bool]

JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
NATIVE_TYPES = ("datetime", "date", "time", "timedelta", "decimal", "bytes", "set", "tuple", "object")

#: keywords that only apply to one JSON type: they let an untyped schema's type be inferred
FAMILY_KEYWORDS: dict[str, frozenset[str]] = {
    "string": frozenset({"minLength", "maxLength", "pattern", "format"}),
    "number": frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}),
    "array": frozenset({"items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"}),
    "object": frozenset(
        {"properties", "required", "additionalProperties", "propertyNames", "minProperties", "maxProperties"}
    ),
}

#: keywords the generators below satisfy by construction (everything else is checked by a filter)
_EXACT_KEYWORDS = frozenset(
    {
        "type", "x-rpctest-type", "properties", "required", "additionalProperties", "items", "minItems",
        "maxItems", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "enum", "const", "format", "pattern", "prefixItems", "uniqueItems",
        # annotations
        "$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated", "readOnly",
        "writeOnly", "contentEncoding", "contentMediaType", "x-rpctest-lossy", "x-rpctest-native",
        "x-rpctest-class",
    }
)

_NUMERIC_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_LOWER_BOUNDS = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"})
_UPPER_BOUNDS = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"})


# -- formats -------------------------------------------------------------------------------------------

_REGISTERED_FORMATS: dict[str, SearchStrategy[str]] = {}


def register_format(name: str, strategy: SearchStrategy[str]) -> None:
    """Use ``strategy`` for strings with ``"format": name`` (replacing a built-in of that name).

    Registration is process-wide; pass ``formats={name: strategy}`` to :func:`from_schema` for a
    one-off. The strategy must produce ``str`` values; length bounds and patterns of the schema are
    still applied (by filtering), so keep its values within them.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"a format name must be a non-empty string, not {name!r}")
    if not isinstance(strategy, SearchStrategy):
        raise TypeError(f"register_format({name!r}, ...) needs a Hypothesis strategy, not {type(strategy).__name__}")
    _REGISTERED_FORMATS[name] = strategy


def registered_formats() -> dict[str, SearchStrategy[str]]:
    """The format strategies in force: built-ins, then the registered ones (which win)."""
    return {**_builtin_formats(), **_REGISTERED_FORMATS}


def iso_duration(delta: datetime.timedelta) -> str:
    sign = "-" if delta < datetime.timedelta(0) else ""
    delta = abs(delta)
    seconds = delta.seconds + delta.microseconds / 1_000_000
    return f"{sign}P{delta.days}DT{seconds:g}S"


@functools.lru_cache(maxsize=1)
def _builtin_formats() -> dict[str, SearchStrategy[str]]:
    from hypothesis import provisional

    utc = st.just(datetime.timezone.utc)
    return {
        "email": st.emails(),
        "date-time": st.datetimes(timezones=utc).map(lambda value: value.isoformat()),
        "date": st.dates().map(lambda value: value.isoformat()),
        "time": st.times(timezones=utc).map(lambda value: value.isoformat()),
        "duration": st.timedeltas(
            min_value=datetime.timedelta(days=-36500), max_value=datetime.timedelta(days=36500)
        ).map(iso_duration),
        "uuid": st.uuids().map(str),
        "ipv4": st.ip_addresses(v=4).map(str),
        "ipv6": st.ip_addresses(v=6).map(str),
        "hostname": provisional.domains(),
        "uri": provisional.urls(),
    }


# -- helpers ---------------------------------------------------------------------------------------------


def unique_key(value: Any) -> Any:
    """A hashable key under which two values are equal exactly when ``json_equal`` says so."""
    if value is None or isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float, decimal.Decimal)):
        return ("n", value)  # 1 == 1.0 == Decimal(1), as JSON Schema compares numbers
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, Mapping):
        return ("d", frozenset((key, unique_key(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return ("l", tuple(unique_key(item) for item in value))
    try:
        hash(value)
    except TypeError:
        return ("r", repr(value))
    return ("o", value)


def declared_types(schema: Mapping[str, Any]) -> list[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return [declared] if isinstance(declared, str) else list(declared)


def inferred_types(schema: Mapping[str, Any]) -> list[str] | None:
    """The JSON types an untyped schema's keywords talk about (None: no type-specific keyword)."""
    found = [family for family, words in FAMILY_KEYWORDS.items() if words & schema.keys()]
    return found or None


def without(schema: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key not in keys}


def _intersect_types(a: Any, b: Any) -> list[str]:
    left = [a] if isinstance(a, str) else list(a)
    right = [b] if isinstance(b, str) else list(b)
    out: list[str] = []
    for name in left:
        if name in right:
            out.append(name)
        elif (name == "integer" and "number" in right) or (name == "number" and "integer" in right):
            out.append("integer")
    return list(dict.fromkeys(out))


def merge_schemas(a: Any, b: Any) -> Any:
    """One schema a value must match to match both ``a`` and ``b`` (as far as keywords merge simply).

    Keywords that do not merge (two different ``pattern``s, two ``anyOf``s) keep ``a``'s and move
    ``b``'s under ``allOf``, so the result is never looser than ``a`` and ``b`` together.
    """
    if a is False or b is False:
        return False
    if a is True or (isinstance(a, Mapping) and not a):
        return b if b is not True else {}
    if b is True or (isinstance(b, Mapping) and not b):
        return a
    out = dict(a)
    later: list[Any] = []
    for key, value in b.items():
        if key not in out:
            out[key] = value
            continue
        mine = out[key]
        if mine == value:
            continue
        if key == "type":
            types = _intersect_types(mine, value)
            if not types:
                return False
            out[key] = types[0] if len(types) == 1 else types
        elif key == "required":
            out[key] = list(dict.fromkeys([*mine, *value]))
        elif key == "properties":
            merged = dict(mine)
            for name, sub in value.items():
                merged[name] = merge_schemas(merged[name], sub) if name in merged else sub
            out[key] = merged
        elif key in ("additionalProperties", "items", "propertyNames"):
            out[key] = merge_schemas(mine, value)
        elif key in _LOWER_BOUNDS and _is_number(mine) and _is_number(value):
            out[key] = max(mine, value)
        elif key in _UPPER_BOUNDS and _is_number(mine) and _is_number(value):
            out[key] = min(mine, value)
        elif key == "enum":
            out[key] = [item for item in mine if any(json_equal(item, other) for other in value)]
        elif key == "const":
            return False if not json_equal(mine, value) else out
        elif key == "allOf":
            out[key] = [*mine, *value]
        elif key in ("uniqueItems",):
            out[key] = bool(mine) or bool(value)
        elif key in ("description", "title", "default", "examples", "x-rpctest-native", "x-rpctest-lossy"):
            continue
        else:
            later.append({key: value})
    if later:
        out["allOf"] = [*out.get("allOf", []), *later]
    if "enum" in out and not out["enum"]:
        return False
    return out


def _flat_all_of(schema: Any) -> list[Any]:
    """``schema`` as a list of parts, nested ``allOf`` lists spliced in."""
    if not isinstance(schema, Mapping) or "allOf" not in schema:
        return [schema]
    parts = [without(schema, "allOf")]
    for branch in schema["allOf"]:
        parts += _flat_all_of(branch)
    return parts


def merge_all_of(schema: Mapping[str, Any]) -> Any:
    """One schema for ``schema`` and its ``allOf`` branches, merged as far as keywords merge.

    What does not merge (two patterns, two anyOfs) is left out: a generator built from the result
    must still be filtered with the check of ``schema`` itself.
    """
    merged: Any = {}
    for part in _flat_all_of(schema):
        merged = merge_schemas(merged, part)
    if isinstance(merged, Mapping) and "allOf" in merged:
        merged = without(merged, "allOf")
    return merged


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except OverflowError:
        return None


def lower_bound(schema: Mapping[str, Any]) -> tuple[Any, bool] | None:
    """The tightest lower bound and whether it is exclusive."""
    bound = None
    if _is_number(schema.get("minimum")):
        bound = (schema["minimum"], False)
    if _is_number(schema.get("exclusiveMinimum")):
        limit = schema["exclusiveMinimum"]
        if bound is None or limit >= bound[0]:
            bound = (limit, True)
    return bound


def upper_bound(schema: Mapping[str, Any]) -> tuple[Any, bool] | None:
    bound = None
    if _is_number(schema.get("maximum")):
        bound = (schema["maximum"], False)
    if _is_number(schema.get("exclusiveMaximum")):
        limit = schema["exclusiveMaximum"]
        if bound is None or limit <= bound[0]:
            bound = (limit, True)
    return bound


def int_bounds(schema: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """The smallest and largest integer the numeric bounds allow (None: unbounded)."""
    lo = hi = None
    lower, upper = lower_bound(schema), upper_bound(schema)
    if lower is not None:
        lo = math.floor(lower[0]) + 1 if lower[1] else math.ceil(lower[0])
    if upper is not None:
        hi = math.ceil(upper[0]) - 1 if upper[1] else math.floor(upper[0])
    return lo, hi


def float_bounds(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """``st.floats`` keyword arguments for the numeric bounds (None: no finite float fits)."""
    kwargs: dict[str, Any] = {}
    lower, upper = lower_bound(schema), upper_bound(schema)
    if lower is not None:
        limit, exclusive = lower
        value = _float(limit)
        if value is None:
            if limit > 0:
                return None
        else:
            if value < limit:
                value, exclusive = math.nextafter(value, math.inf), False
            elif value > limit:
                exclusive = False
            kwargs.update(min_value=value, exclude_min=exclusive)
    if upper is not None:
        limit, exclusive = upper
        value = _float(limit)
        if value is None:
            if limit < 0:
                return None
        else:
            if value > limit:
                value, exclusive = math.nextafter(value, -math.inf), False
            elif value < limit:
                exclusive = False
            kwargs.update(max_value=value, exclude_max=exclusive)
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if lo is not None and hi is not None:
        if lo > hi or (lo == hi and (kwargs["exclude_min"] or kwargs["exclude_max"])):
            return None
        if kwargs.get("exclude_min") and math.nextafter(lo, math.inf) >= hi and kwargs.get("exclude_max"):
            return None
    return kwargs


#: ``st.characters``' names before Hypothesis renamed them (6.84)
_OLD_CHARACTER_NAMES = {"categories": "whitelist_categories", "exclude_categories": "blacklist_categories",
                        "include_characters": "whitelist_characters", "exclude_characters": "blacklist_characters"}


def _characters_of(**options: Any) -> SearchStrategy[str]:
    """``st.characters(**options)`` under the names of the Hypothesis installed."""
    if not _renamed_character_options():
        options = {_OLD_CHARACTER_NAMES.get(name, name): value for name, value in options.items()}
    return st.characters(**options)


@functools.lru_cache(maxsize=1)
def _renamed_character_options() -> bool:
    return "exclude_categories" in inspect.signature(st.characters).parameters


@functools.lru_cache(maxsize=2)
def _characters(allow_surrogates: bool) -> SearchStrategy[str]:
    excluded: tuple[Any, ...] = () if allow_surrogates else ("Cs",)  # Any: Hypothesis types the names as literals
    return _characters_of(exclude_categories=excluded)


#: a character class is spelled out (or its complement) up to this many characters
_LISTED_CHARACTERS = 4096


@functools.lru_cache(maxsize=256)
def atom_characters(atom: str, allow_surrogates: bool) -> SearchStrategy[str] | None:
    """One character matching the single-character regex ``atom`` (a literal, ``.``, ``\\d``, a class
    of literals and ranges or its complement), as ``st.characters`` or ``st.just``; None for any other
    atom (``\\w``, ``\\s``, a class naming categories), which ``st.from_regex`` draws instead.

    The same characters ``st.from_regex(atom, fullmatch=True)`` draws, but as a strategy ``st.text``
    draws a whole string of in one step, where from_regex's characters are drawn one at a time, each
    through its group cache and a fullmatch filter: most of the time of drawing a path parameter
    such as ``^[A-Za-z0-9_-]+$``."""
    try:
        try:
            from re import _parser as parser  # type: ignore[attr-defined]
        except ImportError:  # Python < 3.11
            import sre_parse as parser
        items = list(parser.parse(atom).data)
    except Exception:  # noqa: BLE001 - a private API: not understood means from_regex
        return None
    if len(items) != 1:
        return None
    op, value = str(items[0][0]), items[0][1]
    no_surrogates: tuple[Any, ...] = () if allow_surrogates else ("Cs",)
    if op == "LITERAL":
        char = chr(value)
        return st.just(char) if allow_surrogates or not 0xD800 <= value <= 0xDFFF else None
    if op == "NOT_LITERAL":
        return _characters_of(exclude_categories=no_surrogates, exclude_characters=chr(value))
    if op == "ANY":  # no DOTALL in a single atom: anything but a newline
        return _characters_of(exclude_categories=no_surrogates, exclude_characters="\n")
    if op != "IN":
        return None
    members = list(value)
    negated = bool(members) and str(members[0][0]) == "NEGATE"
    if negated:
        members = members[1:]
    if [str(kind) for kind, _ in members] == ["CATEGORY"] and str(members[0][1]) == "CATEGORY_DIGIT" and not negated:
        return _characters_of(categories=("Nd",))  # Python's \d on text: Unicode category Nd
    listed: list[str] = []
    for kind, item in members:
        if str(kind) == "LITERAL":
            listed.append(chr(item))
        elif str(kind) == "RANGE" and item[1] - item[0] < _LISTED_CHARACTERS:
            listed.extend(chr(code) for code in range(item[0], item[1] + 1))
        else:
            return None
        if len(listed) > _LISTED_CHARACTERS:
            return None
    if negated:
        return _characters_of(exclude_categories=no_surrogates, exclude_characters="".join(listed))
    kept = "".join(sorted({c for c in listed if allow_surrogates or not 0xD800 <= ord(c) <= 0xDFFF}))
    return _characters_of(categories=(), include_characters=kept) if kept else None


@functools.lru_cache(maxsize=2)
def _shared_pieces(allow_surrogates: bool) -> tuple[SearchStrategy[str], SearchStrategy[Any], SearchStrategy[Any]]:
    """(alphabet, scalars, JSON-like values) of a compiler: built once per process, not per
    :class:`SchemaCompiler` (``st.recursive`` does real work when it is built, and the fuzz engine
    compiles every operation's schema on each run). Strategies hold no state between draws."""
    alphabet = _characters(allow_surrogates)
    scalars: SearchStrategy[Any] = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(INT64_MIN, INT64_MAX),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(alphabet, max_size=20),
    )
    json_values: SearchStrategy[Any] = st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(alphabet, max_size=10), children, max_size=4),
        ),
        max_leaves=8,
    )
    return alphabet, scalars, json_values


def or_fallback(
    strategy: SearchStrategy[Any], accept: Callable[[Any], bool], fallback: SearchStrategy[Any], *, tries: int = 1
) -> SearchStrategy[Any]:
    """A value of ``strategy`` that ``accept`` takes (``tries`` attempts), else one of ``fallback``.

    Unlike ``.filter`` it never rejects a test case, so Hypothesis' health checks stay quiet where
    ``strategy`` rarely fits.
    """

    @st.composite
    def chosen(draw: Any) -> Any:
        for _ in range(tries):
            value = draw(strategy)
            if accept(value):
                return value
        return draw(fallback)

    return chosen()


def _lists(
    elements: SearchStrategy[Any], *, min_size: int = 0, max_size: int | None = None, unique_by: Any = None
) -> SearchStrategy[list[Any]]:
    """``st.lists``, but an impossible element gives the empty list (or nothing), not an error."""
    if elements.is_empty:
        return st.just([]) if min_size == 0 else st.nothing()
    return st.lists(elements, min_size=min_size, max_size=max_size, unique_by=unique_by)


_ATOM = re.compile(
    r"""(\[(?:\\.|[^\]\\])+\]|\\[dDwWsS]|\\[^A-Za-z0-9]|\.|[^.^$*+?{}\[\]\\|()])"""  # one character's rule
    r"""(\*|\+|\?|\{\d+(?:,\d*)?\})?"""  # its quantifier
)


def _simple_pattern(pattern: str) -> tuple[bool, bool, list[tuple[str, int, int | None]] | None]:
    """Whether ``pattern`` is anchored left and right, and its atoms if it is a plain atom sequence.

    Atoms: ``(single-character regex, least, most)``; None when the pattern has groups, alternation,
    lazy quantifiers or anything else this small reader does not take apart.
    """
    body = pattern
    left = body.startswith("^") or body.startswith("\\A")
    if left:
        body = body[1:] if body.startswith("^") else body[2:]
    right = False
    if body.endswith("\\Z"):
        right, body = True, body[:-2]
    elif body.endswith("$") and _unescaped_end(body):
        right, body = True, body[:-1]
    atoms: list[tuple[str, int, int | None]] = []
    position = 0
    while position < len(body):
        match = _ATOM.match(body, position)
        if match is None:
            return left, right, None
        atom, quantifier = match.group(1), match.group(2)
        high: int | None
        low, high = 1, 1
        if quantifier == "*":
            low, high = 0, None
        elif quantifier == "+":
            low, high = 1, None
        elif quantifier == "?":
            low, high = 0, 1
        elif quantifier:
            numbers = quantifier[1:-1].split(",")
            low = int(numbers[0])
            high = low if len(numbers) == 1 else (int(numbers[1]) if numbers[1] else None)
        if high is not None and high < low:
            return left, right, None
        atoms.append((atom, low, high))
        position = match.end()
    return left, right, atoms if atoms else None


def pattern_shape(pattern: str) -> tuple[int, int, bool, bool] | None:
    """(shortest match, longest match, anchored at the start, anchored at the end) of a Python
    regex, read with ``re``'s own parser; None when it cannot be read."""
    try:
        try:
            from re import _parser as parser  # type: ignore[attr-defined]
        except ImportError:  # Python < 3.11
            import sre_parse as parser
        parsed = parser.parse(pattern)
        low, high = parsed.getwidth()
        data = list(parsed.data)
    except Exception:  # noqa: BLE001 - a private API: unknown means "no shape"
        return None

    def anchor(item: Any, names: tuple[str, ...]) -> bool:
        return str(item[0]) == "AT" and str(item[1]) in names

    left = bool(data) and anchor(data[0], ("AT_BEGINNING", "AT_BEGINNING_STRING"))
    right = bool(data) and anchor(data[-1], ("AT_END", "AT_END_STRING"))
    return low, high, left, right


def _unescaped_end(body: str) -> bool:
    """Whether the final ``$`` of ``body`` is an anchor (not escaped by an odd run of backslashes)."""
    run = len(body[:-1]) - len(body[:-1].rstrip("\\"))
    return run % 2 == 0


def check_for(schema: Any) -> Check:
    """A validity check for one (sub)schema: the compiled closures, else jsonschema's verdict."""
    fast = compile_fast(schema)
    if fast is not None:
        return fast
    from rpctest.schema.validate import _validator_class

    check: Callable[[Any], bool] = _validator_class()(schema).is_valid
    return check


# -- the compiler -----------------------------------------------------------------------------------------


class SchemaCompiler:
    """Turns schema nodes into strategies of valid values (memoized per node object)."""

    def __init__(
        self,
        *,
        formats: Mapping[str, SearchStrategy[str]] | None = None,
        allow_surrogates: bool = False,
        utc: datetime.tzinfo = datetime.timezone.utc,
    ) -> None:
        for name, strategy in (formats or {}).items():
            if not isinstance(strategy, SearchStrategy):
                raise TypeError(f"formats[{name!r}] must be a Hypothesis strategy, not {type(strategy).__name__}")
        self.formats: dict[str, SearchStrategy[str]] = {**registered_formats(), **(formats or {})}
        self.allow_surrogates = allow_surrogates
        self.utc = utc
        self.alphabet, self.scalars, self.json_values = _shared_pieces(allow_surrogates)
        self._strategies: dict[int, tuple[Any, SearchStrategy[Any]]] = {}
        self._checks: dict[int, tuple[Any, Check]] = {}

    # -- shared pieces

    def text(self, min_size: int = 0, max_size: int | None = None) -> SearchStrategy[str]:
        return st.text(self.alphabet, min_size=min_size, max_size=max_size)

    def check(self, schema: Any) -> Check:
        hit = self._checks.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        check = check_for(schema)
        self._checks[id(schema)] = (schema, check)
        return check

    def valid(self, schema: Any) -> SearchStrategy[Any]:
        """A strategy of values valid for ``schema`` (a node of the dialect)."""
        hit = self._strategies.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        strategy = self._build(schema)
        self._strategies[id(schema)] = (schema, strategy)  # keeps ``schema`` alive: ids stay unique
        return strategy

    # -- dispatch

    def _build(self, schema: Any) -> SearchStrategy[Any]:
        if schema is True:
            return self.json_values
        if schema is False:
            return st.nothing()
        if not isinstance(schema, Mapping):
            raise TypeError(f"a schema is a mapping or a boolean, not {type(schema).__name__}: {schema!r}")
        if "allOf" in schema:
            return self.valid(merge_all_of(schema)).filter(self.check(schema))
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                base = without(schema, keyword)
                options = [merge_schemas(base, branch) for branch in schema[keyword]]
                strategies = [self.valid(option) for option in options if option is not False]
                if not strategies:
                    return st.nothing()
                return st.one_of(strategies).filter(self.check(schema))
        if "not" in schema:
            return self.valid(without(schema, "not")).filter(self.check(schema))
        strategy, exact = self._node(schema)
        if not exact or not _EXACT_KEYWORDS.issuperset(schema):
            strategy = strategy.filter(self.check(schema))
        return strategy

    def _node(self, schema: Mapping[str, Any]) -> tuple[SearchStrategy[Any], bool]:
        if "const" in schema or "enum" in schema:
            options = [schema["const"]] if "const" in schema else list(schema["enum"])
            check = self.check(schema)
            fitting = [option for option in options if check(option)]
            if not fitting:
                return st.nothing(), True
            return st.sampled_from(fitting).map(copy.deepcopy), True
        types = declared_types(schema)
        nullable = types is not None and "null" in types
        native = schema.get("x-rpctest-type")
        if native in NATIVE_TYPES:
            strategy, exact = self._native(native, schema)
            return (st.one_of(st.none(), strategy) if nullable else strategy), exact
        untyped = types is None
        if types is None:
            types = inferred_types(schema)
            if types is None:
                return self.json_values, True
        parts = [self._typed(name, schema) for name in dict.fromkeys(types)]
        strategy = st.one_of([part for part, _ in parts])
        if untyped and strategy.is_empty:  # the keywords' own type is impossible: other types still pass
            return self.json_values, False
        return strategy, all(exact for _, exact in parts)

    def _typed(self, name: str, schema: Mapping[str, Any]) -> tuple[SearchStrategy[Any], bool]:
        if name == "null":
            return st.none(), True
        if name == "boolean":
            return st.booleans(), True
        if name == "integer":
            return self._integers(schema)
        if name == "number":
            return self._numbers(schema)
        if name == "string":
            return self._strings(schema)
        if name == "array":
            return self._arrays(schema)
        if name == "object":
            return self._objects(schema)
        raise ValueError(f"unknown JSON type {name!r} in schema {schema!r}")

    # -- numbers

    def _integers(self, schema: Mapping[str, Any]) -> tuple[SearchStrategy[int], bool]:
        lo, hi = int_bounds(schema)
        # stay within int64 (what msgpack carries) unless the schema's range lies outside it
        wire_lo = INT64_MIN if lo is None else max(lo, INT64_MIN)
        wire_hi = INT64_MAX if hi is None else min(hi, INT64_MAX)
        if wire_lo <= wire_hi:
            lo, hi = wire_lo, wire_hi
        if lo is not None and hi is not None and lo > hi:
            return st.nothing(), True
        step = schema.get("multipleOf")
        if isinstance(step, int) and not isinstance(step, bool) and step > 0:
            k_lo = None if lo is None else -((-lo) // step)
            k_hi = None if hi is None else hi // step
            if k_lo is not None and k_hi is not None and k_lo > k_hi:
                return st.nothing(), True
            return st.integers(k_lo, k_hi).map(lambda k: k * step), True
        return st.integers(lo, hi), "multipleOf" not in schema

    def _floats(self, schema: Mapping[str, Any]) -> SearchStrategy[float] | None:
        kwargs = float_bounds(schema)
        if kwargs is None:
            return None
        return st.floats(allow_nan=False, allow_infinity=False, **kwargs)

    def _numbers(self, schema: Mapping[str, Any]) -> tuple[SearchStrategy[Any], bool]:
        ints, exact = self._integers(schema)
        step: Any = schema.get("multipleOf")
        if _is_number(step) and not isinstance(step, int) and step > 0:
            # floats hit a float multiple only by luck: draw k * step instead, checked by the filter
            scaled = {key: schema[key] / step for key in _NUMERIC_BOUNDS if _is_number(schema.get(key))}
            lo, hi = int_bounds(scaled)
            lo = -(2**52) if lo is None else max(lo, -(2**52))
            hi = 2**52 if hi is None else min(hi, 2**52)
            if lo > hi:
                return st.nothing(), True
            return st.integers(lo, hi).map(lambda k: k * step), False
        floats = self._floats(schema) if "multipleOf" not in schema else None
        if floats is None:
            return ints, exact
        return st.one_of(ints, floats), exact

    def _decimals(self, schema: Mapping[str, Any]) -> tuple[SearchStrategy[decimal.Decimal], bool]:
        lower, upper = lower_bound(schema), upper_bound(schema)
        lo = hi = None
        exclusive = False
        if lower is not None:
            lo, exclusive = decimal.Decimal(lower[0]), lower[1]  # Decimal(float) is exact
        if upper is not None:
            hi, exclusive = decimal.Decimal(upper[0]), exclusive or upper[1]
        if lo is not None and hi is not None and (lo > hi or (lo == hi and exclusive)):
            return st.nothing(), True
        strategy = st.decimals(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)
        return strategy, not exclusive and "multipleOf" not in schema

    # -- strings

    def _strings(self, schema: Mapping[str, Any]) -> tuple[SearchStrategy[str], bool]:
        lo = int(schema.get("minLength", 0))
        hi = schema.get("maxLength")
        hi = int(hi) if hi is not None else None
        if hi is not None and hi < lo:
            return st.nothing(), True
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            return self.pattern_strings(pattern, lo, hi), True
        fmt = schema.get("format")
        strategy = self.formats.get(fmt) if isinstance(fmt, str) else None
        if strategy is not None:
            if lo == 0 and hi is None:
                return strategy, True
            # a formatted value of the right length, else plain text (still valid: format is an annotation)
            return or_fallback(strategy, lambda s: isinstance(s, str) and lo <= len(s) and (hi is None or len(s) <= hi),
                               self.text(lo, hi), tries=3), True
        return self.text(lo, hi), True

    def pattern_strings(self, pattern: str, lo: int = 0, hi: int | None = None) -> SearchStrategy[str]:
        """Strings in which ``pattern`` finds a match (a search), ``lo`` to ``hi`` characters long.

        A pattern that is a plain sequence of single-character atoms with quantifiers (``^[a-z]+$``,
        ``[A-Z]{3}-\\d{4}``, ``\\S``) is generated atom by atom with the lengths chosen up front, so
        length bounds cost no rejections; any other pattern goes through ``st.from_regex``. Free
        (unanchored) ends are padded with text to reach ``lo``.
        """
        search = re.compile(pattern).search

        def fits(value: str) -> bool:
            return lo <= len(value) and (hi is None or len(value) <= hi) and search(value) is not None

        shape = pattern_shape(pattern)
        left, right = (shape[2], shape[3]) if shape is not None else (False, False)
        simple_left, simple_right, atoms = _simple_pattern(pattern)
        if atoms is not None and (simple_left, simple_right) == (left, right):
            core = self._atom_strings(atoms, lo if left and right else 0, hi)
        else:
            try:
                core = st.from_regex(pattern, fullmatch=True, alphabet=self.alphabet)
            except Exception:  # noqa: BLE001 - a pattern Hypothesis cannot generate from: filter plain text
                return self.text(lo, hi).filter(fits)
        if core.is_empty:
            return st.nothing()
        built: dict[tuple[Any, ...], SearchStrategy[Any]] = {}  # see _sized

        def integers(low: int, high: int) -> SearchStrategy[int]:
            return _sized(built, ("int", low, high), lambda: st.integers(low, high))

        def text(size: int) -> SearchStrategy[str]:
            return _sized(built, ("text", size), lambda: self.text(size, size))

        @st.composite
        def padded(draw: Any) -> str:
            for _ in range(3):  # a core of the wrong length is redrawn a few times before giving up
                value: str = draw(core)
                if hi is not None and len(value) > hi:
                    continue
                need = max(0, lo - len(value))
                room = need + 4 if hi is None else min(hi - len(value), need + 4)
                if left and right:  # nothing can be added to a match of the whole string
                    if need:
                        continue
                    room = 0
                count = draw(integers(need, room)) if room > need else need
                if count:
                    before = 0 if left else count if right else draw(integers(0, count))
                    value = draw(text(before)) + value + draw(text(count - before))
                if fits(value):
                    return value
            reject()

        return padded()

    def _atom_characters(self, atom: str) -> SearchStrategy[str]:
        """One character matching ``atom`` (a single-character regex) from the compiler's alphabet."""
        fast = atom_characters(atom, self.allow_surrogates)
        return fast if fast is not None else st.from_regex(atom, fullmatch=True, alphabet=self.alphabet)

    def _atom_strings(self, atoms: list[tuple[str, int, int | None]], lo: int, hi: int | None) -> SearchStrategy[str]:
        """Strings of the atoms in sequence, each repeated within its bounds, ``lo`` to ``hi`` long."""
        characters = [self._atom_characters(atom) for atom, _, _ in atoms]
        if any(strategy.is_empty for strategy in characters):
            return st.nothing()
        least = sum(low for _, low, _ in atoms)
        most = None if any(high is None for _, _, high in atoms) else sum(high for _, _, high in atoms)  # type: ignore[misc]
        bottom = max(lo, least)
        top = min(x for x in (hi, most, bottom + 10) if x is not None)
        if top < bottom:
            return st.nothing()

        spans = [math.inf if high is None else high - low for _, low, high in atoms]
        after = [sum(spans[index + 1:]) for index in range(len(spans))]  # what the later atoms can still take
        built: dict[tuple[Any, ...], SearchStrategy[Any]] = {}  # see _sized

        def integers(low: int, high: int) -> SearchStrategy[int]:
            return _sized(built, ("int", low, high), lambda: st.integers(low, high))

        def text(index: int, size: int) -> SearchStrategy[str]:
            return _sized(built, ("text", index, size), lambda: st.text(characters[index], min_size=size, max_size=size))

        @st.composite
        def strings(draw: Any) -> str:
            total = draw(integers(bottom, top)) if top > bottom else bottom
            spare = total - least
            parts = []
            for index, (span, rest, (_, low, _)) in enumerate(zip(spans, after, atoms, strict=True)):
                smallest, largest = max(0, spare - rest), min(spare, span)
                extra = draw(integers(int(smallest), int(largest))) if largest > smallest else int(largest)
                spare -= extra
                parts.append(draw(text(index, low + extra)))
            return "".join(parts)

        return strings()

    # -- arrays

    def _arrays(self, schema: Mapping[str, Any], *, unique: bool = False) -> tuple[SearchStrategy[list[Any]], bool]:
        prefix = list(schema.get("prefixItems") or ())
        items = schema.get("items", True)
        lo = int(schema.get("minItems", 0))
        hi = schema.get("maxItems")
        hi = int(hi) if hi is not None else None
        unique = unique or bool(schema.get("uniqueItems"))
        if items is False:
            hi = len(prefix) if hi is None else min(hi, len(prefix))
        if hi is not None and hi < lo:
            return st.nothing(), True
        item = self.valid(items)
        by = unique_key if unique else None
        if not prefix:
            return _lists(item, min_size=lo, max_size=hi, unique_by=by), True
        firsts = [self.valid(sub) for sub in prefix]
        count = len(prefix)

        @st.composite
        def arrays(draw: Any) -> list[Any]:
            top = count if hi is None else min(count, hi)
            bottom = min(lo, count)
            taken = draw(st.integers(bottom, top)) if top > bottom else top
            out = [draw(strategy) for strategy in firsts[:taken]]
            if taken == count and items is not False and (hi is None or hi > count):
                out += draw(
                    _lists(item, min_size=max(0, lo - count), max_size=None if hi is None else hi - count, unique_by=by)
                )
            return out

        return arrays(), not unique

    # -- objects

    def key_names(self, schema: Mapping[str, Any], *, readable: bool = False) -> SearchStrategy[str]:
        """Names for keys beyond ``properties`` (``propertyNames`` when the schema has one)."""
        names = schema.get("propertyNames")
        declared = schema.get("properties") or {}
        if isinstance(names, Mapping) and names:
            strategy = self.valid(merge_schemas(names, {"type": "string"}))
        elif readable:
            strategy = st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True), self.text(1, 12))
        else:
            strategy = self.text(max_size=12)
        return strategy.filter(lambda name: isinstance(name, str) and name not in declared)

    def _objects(self, schema: Mapping[str, Any]) -> tuple[SearchStrategy[dict[str, Any]], bool]:
        properties: Mapping[str, Any] = schema.get("properties") or {}
        required = list(dict.fromkeys(schema.get("required") or ()))
        extra = schema.get("additionalProperties", True)
        fixed: dict[str, SearchStrategy[Any]] = {}
        for key in required:
            if key in properties:
                fixed[key] = self.valid(properties[key])
            elif extra is False:
                return st.nothing(), True
            else:
                fixed[key] = self.valid(extra)
        optional = {key: self.valid(sub) for key, sub in properties.items() if key not in fixed}
        base = st.fixed_dictionaries(fixed, optional=optional) if optional else st.fixed_dictionaries(fixed)
        exact = not ({"propertyNames", "minProperties", "maxProperties"} & schema.keys())
        if extra is False:
            return base, exact
        if isinstance(extra, Mapping):
            values, most = self.valid(extra), 3
        else:  # true or absent: a few simple keys, no deep values
            values, most = self.scalars, 2
        room = schema.get("maxProperties")
        if isinstance(room, int):
            most = max(0, min(most, room - len(fixed)))
        least = 0
        if isinstance(schema.get("minProperties"), int):  # declared optional keys may make up the rest
            least = max(0, schema["minProperties"] - len(properties) - len(set(fixed) - set(properties)))
            most = max(most, least)
        names = self.key_names(schema)
        if names.is_empty or values.is_empty:
            if least:
                return st.nothing(), True
            return base, exact
        extras = st.dictionaries(names, values, min_size=least, max_size=most)
        return st.tuples(base, extras).map(lambda pair: {**pair[0], **pair[1]}), exact

    # -- natives

    def _native(self, native: str, schema: Mapping[str, Any]) -> tuple[SearchStrategy[Any], bool]:
        if native == "datetime":
            # naive or UTC (what PySOA's msgpack ext 1 and 10 carry), a day inside datetime's range: a
            # stack that sends float seconds rounds 9999-12-31T23:59:59.999999 into year 10000
            low, high = datetime.datetime(1, 1, 2), datetime.datetime(9999, 12, 30)
            return st.one_of(st.datetimes(low, high), st.datetimes(low, high, timezones=st.just(self.utc))), True
        if native == "date":
            return st.dates(), True
        if native == "time":
            return st.times(), True
        if native == "timedelta":
            return st.timedeltas(), True
        if native == "decimal":
            return self._decimals(schema)
        if native == "bytes":
            hi = schema.get("maxLength")
            return st.binary(min_size=int(schema.get("minLength", 0)), max_size=hi), True
        if native == "set":
            return self._arrays(schema, unique=True)
        if native == "tuple":
            return self._arrays(schema)
        return self._instances(schema), True

    def _instances(self, schema: Mapping[str, Any]) -> SearchStrategy[Any]:
        wanted = schema.get("x-rpctest-class")
        if not wanted:
            return self.json_values
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        classes = []
        for name in names:
            module, _, qualname = name.rpartition(".")
            try:
                import importlib

                target: Any = importlib.import_module(module)
                for part in qualname.split("."):
                    target = getattr(target, part)
            except (ImportError, AttributeError, ValueError):
                continue
            classes.append(target)
        if not classes:
            raise ValueError(
                f"cannot generate instances of {' or '.join(names)} (not importable here); "
                "register a strategy with hypothesis.strategies.register_type_strategy and import it, or "
                "pass a schema without x-rpctest-class"
            )
        return st.one_of([st.from_type(cls) for cls in classes])


#: how many strategies of given bounds one pattern's generator keeps (:func:`_sized`)
_SIZED_KEPT = 256


def _sized(built: dict[tuple[Any, ...], SearchStrategy[Any]], key: tuple[Any, ...],
           build: Callable[[], SearchStrategy[Any]]) -> SearchStrategy[Any]:
    """The strategy of ``key`` (its kind and bounds) a pattern's generator built before, else a new
    one (kept, up to :data:`_SIZED_KEPT`). Building ``st.integers``/``st.text`` for every draw cost
    Hypothesis' argument checks each time; the same strategy draws the same values."""
    found = built.get(key)
    if found is None:
        found = build()
        if len(built) < _SIZED_KEPT:
            built[key] = found
    return found


def from_schema(
    schema: Mapping[str, Any] | bool,
    *,
    formats: Mapping[str, SearchStrategy[str]] | None = None,
    allow_surrogates: bool = False,
    utc: datetime.tzinfo = datetime.timezone.utc,
) -> SearchStrategy[Any]:
    """A strategy of values valid for ``schema`` (checked with ``compile_schema(schema).is_valid``).

    ``utc`` is the tzinfo object aware datetimes get: a stack's serializer may accept only its own
    (PySOA's msgpack wants ``pytz.UTC``), so the fuzz engine passes the adapter's choice.
    """
    from rpctest.schema.validate import compile_schema

    compiled = compile_schema(schema)  # a malformed schema fails here, not mid-run
    compiler = SchemaCompiler(formats=formats, allow_surrogates=allow_surrogates, utc=utc)
    return compiler.valid(schema).filter(compiled.is_valid)
