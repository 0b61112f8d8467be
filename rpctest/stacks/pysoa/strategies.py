"""Hypothesis strategies of valid values straight from live Conformity fields.

The neutral strategies (:mod:`rpctest.strategies`) work from the exported JSON-Schema dialect, which
loses what Conformity can say and JSON Schema cannot (see :mod:`.schema`). When the provider's code
is importable, these strategies read the field objects themselves, so nothing is lost in translation:
every value a strategy here produces satisfies ``field.errors(value) == []``. Where a rule cannot be
read (an ``additional_validator``, a ``BooleanValidator``, a field class that overrides ``errors()``,
an ``ObjectInstance``), candidate values are filtered through the field's own ``errors()``.

Values also survive PySOA's wire by default (``wire=True``): PySOA's client turns tuples and sets into
lists and its MessagePack serializer carries only naive or UTC datetimes, dates, naive times and
Decimals besides JSON's types, so

* integers stay within int64, floats are finite, strings hold no lone surrogates (a lone surrogate
  is encoded by the client with ``surrogatepass`` but cannot be decoded by a Redis-gateway server,
  which then stops; pass ``surrogates=True`` to look for exactly that);
* ``Set``, ``Tuple``, ``TimeDelta``, ``TZInfo``, ``TypeReference`` and (most) ``ObjectInstance``
  fields have no value that arrives intact, so their strategy is empty: an optional key with such a
  field is left out, a required one makes :func:`request_strategy` raise :class:`UnsatisfiableField`;
* datetimes are whole seconds between 1700 and 2250: PySOA packs a datetime as
  ``int(seconds * 1e6)`` through a float, which changes about 1 % of microsecond values by 1 µs
  (enough to cross a ``gt``/``gte`` bound) but keeps whole seconds exact in that range.

``wire=False`` gives everything the field accepts (frozensets, tuples, timedeltas, classes, time
zones): for calling an action's schema directly.

Custom field classes, or better strategies for known ones, are plugged in with :func:`register`;
a registered factory's values are still checked with ``field.errors()``.

pysoa and conformity are imported inside functions only: importing this module imports neither.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import math
import threading
from typing import Any, Callable, Iterable

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from rpctest.exceptions import ConfigError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "UnsatisfiableField",
    "from_field",
    "register",
    "registered",
    "request_strategy",
    "unregister",
    "wire_safe",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

#: the datetime window where PySOA's MessagePack datetime round trip is exact (whole seconds)
WIRE_DATETIME_MIN = datetime.datetime(1700, 1, 1)
WIRE_DATETIME_MAX = datetime.datetime(2250, 1, 1)

StrategyFactory = Callable[[Any], SearchStrategy]

_REGISTRY: dict[type, StrategyFactory] = {}
_REGISTRY_LOCK = threading.Lock()

#: how many candidates a filtered node draws before giving up on the example (Hypothesis' own
#: ``.filter`` tries 3 times; a BooleanValidator or a custom rule can reject more than half)
_TRIES = 12


class UnsatisfiableField(ConfigError):
    """No value of a (required) field can be generated under the chosen constraints (e.g. ``wire=True``)."""


# -- registry --------------------------------------------------------------------------------------


def register(field_class: type, strategy_factory: StrategyFactory) -> None:
    """Use ``strategy_factory(field)`` for instances of ``field_class`` (and its subclasses).

    The most specific registered or built-in class in the field's MRO wins, so registering
    ``UnicodeString`` does not change ``EmailAddress``. Values are still filtered through
    ``field.errors()``, so a factory may be approximate (mostly valid) but not wrong.
    """
    if not isinstance(field_class, type):
        raise ConfigError(f"register() needs a Conformity field class, not {field_class!r}")
    if not callable(strategy_factory):
        raise ConfigError(f"register() needs a callable taking the field and returning a strategy, not {strategy_factory!r}")
    with _REGISTRY_LOCK:
        _REGISTRY[field_class] = strategy_factory


def unregister(field_class: type) -> None:
    """Forget what :func:`register` said about ``field_class`` (no error if nothing was registered)."""
    with _REGISTRY_LOCK:
        _REGISTRY.pop(field_class, None)


def registered() -> dict[type, StrategyFactory]:
    """A copy of the registered overrides."""
    with _REGISTRY_LOCK:
        return dict(_REGISTRY)


# -- public entry points ---------------------------------------------------------------------------


def from_field(field: Any, *, wire: bool = True, surrogates: bool = False) -> SearchStrategy:
    """A strategy of values ``field`` accepts (``field.errors(value) == []``).

    ``wire``: only values that reach a PySOA server unchanged (module docstring); ``surrogates``:
    let strings contain lone surrogates (they stop a Redis-gateway server: use it to find that).
    An empty strategy (``.is_empty``) means no value exists under these constraints.
    """
    return _Builder(wire=wire, surrogates=surrogates).build(field)


def request_strategy(action_class: Any, *, wire: bool = True, surrogates: bool = False) -> SearchStrategy:
    """Valid request bodies for a PySOA ``Action`` class (its ``request_schema``).

    A ``SwitchedAction`` is generated for its default action. An action without a request schema
    accepts any body; ``{}`` is generated. Raises :class:`UnsatisfiableField` when a required key
    has no value under the constraints (a ``Set`` or ``Tuple`` with ``wire=True``).
    """
    action_class = _default_action(action_class)
    schema = getattr(action_class, "request_schema", None) if isinstance(action_class, type) else action_class
    if schema is None:
        return st.just({})
    strategy = from_field(schema, wire=wire, surrogates=surrogates)
    if strategy.is_empty:
        name = getattr(action_class, "__name__", repr(action_class))
        raise UnsatisfiableField(
            f"no request body of {name} can be generated{' that survives PySOA’s wire' if wire else ''}: "
            f"{_why_empty(schema, wire=wire, surrogates=surrogates) or 'its request schema accepts no value'}"
        )
    return strategy


def _default_action(action_class: Any) -> Any:
    """The action a SwitchedAction runs without switches (its DEFAULT_ACTION entry, else the last)."""
    mapping = getattr(action_class, "switch_to_action_map", None)
    if not isinstance(action_class, type) or not mapping:
        return action_class
    default = getattr(action_class, "DEFAULT_ACTION", object())
    for switch, target in mapping:
        if switch is default:
            return target
    return list(mapping)[-1][1]


def _why_empty(field: Any, *, wire: bool, surrogates: bool, path: str = "") -> str:
    """The first required key (dotted) whose field has no value, for the error message."""
    contents = getattr(field, "contents", None)
    if isinstance(contents, dict):
        optional = set(getattr(field, "optional_keys", ()) or ())
        for key, child in contents.items():
            if key in optional:
                continue
            where = f"{path}.{key}" if path else str(key)
            if from_field(child, wire=wire, surrogates=surrogates).is_empty:
                deeper = _why_empty(child, wire=wire, surrogates=surrogates, path=where)
                return deeper or f"the required key {where!r} ({type(child).__name__}) has no such value"
    return ""


# -- values that survive the wire ------------------------------------------------------------------


def utc_tzinfo() -> Any:
    """PySOA's UTC object: its msgpack serializer tests ``tzinfo == pytz.UTC``, nothing else."""
    try:
        import pytz
    except ImportError:  # pragma: no cover - pysoa depends on pytz
        return datetime.timezone.utc
    return pytz.UTC


def wire_safe(value: Any, *, surrogates: bool = False) -> bool:
    """Whether PySOA's client and MessagePack serializer carry ``value`` unchanged."""
    if value is None or isinstance(value, (bool, bytes)):
        return True
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return surrogates or not any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    if isinstance(value, decimal.Decimal):
        return value.is_finite()
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None and value.tzinfo != utc_tzinfo():
            return False
        naive = value.replace(tzinfo=None)
        return value.microsecond == 0 and WIRE_DATETIME_MIN <= naive <= WIRE_DATETIME_MAX
    if isinstance(value, datetime.date):
        return type(value) is datetime.date
    if isinstance(value, datetime.time):
        return value.tzinfo is None
    if isinstance(value, list):
        return all(wire_safe(item, surrogates=surrogates) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, (str, int)) and not isinstance(key, bool) and wire_safe(key, surrogates=surrogates)
            and wire_safe(item, surrogates=surrogates)
            for key, item in value.items()
        )
    return False


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


# -- the builder -----------------------------------------------------------------------------------


def _finite(bound: Any) -> bool:
    if bound is None or isinstance(bound, bool):
        return False
    try:
        return math.isfinite(bound)
    except (TypeError, ValueError, OverflowError):
        return False


class _Builder:
    def __init__(self, *, wire: bool, surrogates: bool) -> None:
        self.wire = wire
        self.surrogates = surrogates

    # -- dispatch --------------------------------------------------------------------------------

    def build(self, field: Any) -> SearchStrategy:
        """The strategy for ``field``: registered override, built-in rule, or a filtered guess."""
        from conformity import fields

        if not isinstance(field, fields.Base):
            raise ConfigError(f"from_field() needs a Conformity field instance, not {field!r}")
        if type(field).errors is fields.Base.errors:
            return st.nothing()  # Base.errors rejects every value (conformity 1.28.2's Deprecated has no other)
        overrides = registered()
        klass: Any  # a Conformity class: untyped, so mypy would see a bare type
        for klass in type(field).__mro__:
            if klass in overrides:
                return self._checked(field, overrides[klass](field), tries=_TRIES)
            method = _builder_table().get(klass)
            if method is not None:
                strategy, exact = method(self, field)
                if strategy.is_empty:
                    return st.nothing()
                custom = type(field).errors is not klass.errors
                validator = getattr(field, "additional_validator", None) is not None
                if exact and not custom and not validator:
                    return strategy
                return self._checked(field, strategy, tries=_TRIES if custom or validator else 4)
        # a class rpctest does not know: JSON-like candidates, kept when the field accepts them
        return self._checked(field, self._json_like(), tries=_TRIES)

    def _checked(self, field: Any, strategy: SearchStrategy, *, tries: int) -> SearchStrategy:
        """Values of ``strategy`` that ``field.errors()`` accepts (and, for the wire, that survive it)."""
        if strategy.is_empty:
            return st.nothing()
        mutates = _mutates(field)
        wire, surrogates = self.wire, self.surrogates

        def accepted(value: Any) -> bool:
            if wire and not wire_safe(value, surrogates=surrogates):
                return False
            try:
                return not field.errors(copy.deepcopy(value) if mutates else value)
            except Exception:  # noqa: BLE001 - a field that crashes on a value does not accept it
                return False

        @st.composite
        def checked(draw: Callable[[SearchStrategy], Any]) -> Any:
            for _ in range(tries):
                value = draw(strategy)
                if accepted(value):
                    return value
            from hypothesis import reject

            reject()

        return checked()

    # -- scalars -----------------------------------------------------------------------------------

    def _alphabet(self) -> SearchStrategy:
        surrogates: Any = "Cs"  # Any: Hypothesis types the category names as literals
        return st.characters(exclude_categories=()) if self.surrogates else st.characters(exclude_categories=(surrogates,))

    def _text(self, min_size: int = 0, max_size: int | None = None) -> SearchStrategy:
        return st.text(self._alphabet(), min_size=min_size, max_size=max_size)

    def _ints(self, lo: int | None = None, hi: int | None = None) -> SearchStrategy:
        if self.wire:
            lo = INT64_MIN if lo is None else max(lo, INT64_MIN)
            hi = INT64_MAX if hi is None else min(hi, INT64_MAX)
        if lo is not None and hi is not None and lo > hi:
            return st.nothing()
        return st.integers(min_value=lo, max_value=hi)

    def _scalars(self) -> SearchStrategy:
        return st.one_of(
            st.none(),
            st.booleans(),
            self._ints(),
            st.floats(allow_nan=False, allow_infinity=False),
            self._text(max_size=20),
        )

    def _json_like(self) -> SearchStrategy:
        keys = self._text(max_size=8)
        return st.recursive(
            self._scalars(),
            lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
            max_leaves=8,
        )

    @staticmethod
    def _int_bounds(field: Any) -> tuple[int | None, int | None, bool]:
        """Integer bounds from gt/gte/lt/lte (ints, floats or Decimals), and whether they are exact."""
        lo: int | None = None
        hi: int | None = None
        exact = True
        for name in ("gt", "gte", "lt", "lte"):
            bound = getattr(field, name, None)
            if bound is None:
                continue
            if not _finite(bound):
                exact = False  # an infinite or NaN bound: the filter decides
                continue
            if name == "gt":
                value = math.floor(bound) + 1
            elif name == "gte":
                value = math.ceil(bound)
            elif name == "lt":
                value = math.ceil(bound) - 1
            else:
                value = math.floor(bound)
            if name in ("gt", "gte"):
                lo = value if lo is None else max(lo, value)
            else:
                hi = value if hi is None else min(hi, value)
        return lo, hi, exact

    def integer(self, field: Any) -> tuple[SearchStrategy, bool]:
        lo, hi, exact = self._int_bounds(field)
        return self._ints(lo, hi), exact

    def float_(self, field: Any) -> tuple[SearchStrategy, bool]:
        lo: float | None = None
        hi: float | None = None
        exclude_lo = exclude_hi = False
        for name in ("gt", "gte"):
            bound: Any = getattr(field, name, None)
            if _finite(bound) and (lo is None or float(bound) >= lo):
                lo, exclude_lo = float(bound), name == "gt"
        for name in ("lt", "lte"):
            bound = getattr(field, name, None)
            if _finite(bound) and (hi is None or float(bound) <= hi):
                hi, exclude_hi = float(bound), name == "lt"
        options = []
        if lo is None or hi is None or lo < hi or (lo == hi and not (exclude_lo or exclude_hi)):
            options.append(
                st.floats(
                    min_value=lo, max_value=hi, exclude_min=exclude_lo and lo is not None,
                    exclude_max=exclude_hi and hi is not None, allow_nan=False, allow_infinity=False,
                )
            )
        int_lo, int_hi, _ = self._int_bounds(field)
        options.append(self._ints(int_lo, int_hi))  # Float accepts ints
        return st.one_of(options), False  # float() of a Decimal bound may round across it: filter

    def decimal_(self, field: Any) -> tuple[SearchStrategy, bool]:
        lo = max((getattr(field, n) for n in ("gt", "gte") if _finite(getattr(field, n, None))), default=None)
        hi = min((getattr(field, n) for n in ("lt", "lte") if _finite(getattr(field, n, None))), default=None)
        if lo is not None and hi is not None and lo > hi:
            return st.nothing(), True
        return st.decimals(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False), False

    def boolean(self, field: Any) -> tuple[SearchStrategy, bool]:
        return st.booleans(), True

    def null(self, field: Any) -> tuple[SearchStrategy, bool]:
        return st.none(), True

    def constant(self, field: Any) -> tuple[SearchStrategy, bool]:
        values = sorted(field.values, key=repr)
        if self.wire:
            values = [value for value in values if wire_safe(value, surrogates=self.surrogates)]
        return (st.sampled_from(values) if values else st.nothing()), True

    def anything(self, field: Any) -> tuple[SearchStrategy, bool]:
        return self._json_like(), True

    def hashable(self, field: Any) -> tuple[SearchStrategy, bool]:
        scalars = self._scalars()
        if self.wire:
            return scalars, True
        return scalars | st.tuples(scalars, scalars), True

    def unicode(self, field: Any) -> tuple[SearchStrategy, bool]:
        min_size = field.min_length or 0
        if field.allow_blank is False:
            strategy = self._text(max(min_size, 1), field.max_length).filter(lambda s: bool(s.strip()))
        else:
            strategy = self._text(min_size, field.max_length)
        if field.max_length is not None and min_size > field.max_length:
            return st.nothing(), True
        return strategy, True

    def bytes_(self, field: Any) -> tuple[SearchStrategy, bool]:
        min_size = field.min_length or 0
        if field.max_length is not None and min_size > field.max_length:
            return st.nothing(), True
        strategy = st.binary(min_size=min_size, max_size=field.max_length)
        if field.allow_blank is False:
            strategy = st.binary(min_size=max(min_size, 1), max_size=field.max_length).filter(lambda b: bool(b.strip()))
        return strategy, True

    def unicode_decimal(self, field: Any) -> tuple[SearchStrategy, bool]:
        return st.one_of(
            st.decimals(allow_nan=True, allow_infinity=True).map(str),
            st.integers().map(str),
            st.floats(allow_nan=False, allow_infinity=False).map(repr),
        ), True

    def email(self, field: Any) -> tuple[SearchStrategy, bool]:
        atom = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=8)
        local = st.lists(atom, min_size=1, max_size=3).map(".".join)
        label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
        tld = st.from_regex(r"[a-z]{2,6}", fullmatch=True)
        domain = st.builds(lambda labels, top: ".".join([*labels, top]), st.lists(label, min_size=1, max_size=3), tld)
        whitelist = sorted(field.domain_whitelist or ())
        if whitelist:
            domain = domain | st.sampled_from(whitelist)
        return st.builds(lambda user, host: f"{user}@{host}", local, domain), False  # lengths: filter

    def ipv4(self, field: Any) -> tuple[SearchStrategy, bool]:
        return st.ip_addresses(v=4).map(str), False

    def ipv6(self, field: Any) -> tuple[SearchStrategy, bool]:
        return st.ip_addresses(v=6).map(str), False

    # -- structures --------------------------------------------------------------------------------

    def sequence(self, field: Any) -> tuple[SearchStrategy, bool]:
        if field.max_length is not None and (field.min_length or 0) > field.max_length:
            return st.nothing(), True
        return st.lists(self.build(field.contents), min_size=field.min_length or 0, max_size=field.max_length), True

    def set_(self, field: Any) -> tuple[SearchStrategy, bool]:
        if self.wire:  # PySOA's client sends a set as a list, which Set rejects
            return st.nothing(), True
        items = self.build(field.contents).filter(_hashable)
        return st.frozensets(items, min_size=field.min_length or 0, max_size=field.max_length), False

    def tuple_(self, field: Any) -> tuple[SearchStrategy, bool]:
        if self.wire:  # PySOA's client sends a tuple as a list, which Tuple rejects
            return st.nothing(), True
        return st.tuples(*(self.build(item) for item in field.contents)), True

    def dictionary(self, field: Any) -> tuple[SearchStrategy, bool]:
        required: dict[Any, SearchStrategy] = {}
        optional: dict[Any, SearchStrategy] = {}
        for key, child in field.contents.items():
            strategy = self.build(child)
            if key in field.optional_keys:
                if not strategy.is_empty:
                    optional[key] = strategy
            elif strategy.is_empty:
                return st.nothing(), True
            else:
                required[key] = strategy
        strategy = st.fixed_dictionaries(required, optional=optional)
        if field.allow_extra_keys:
            known = set(field.contents)
            extras = st.dictionaries(self._text(max_size=8).filter(lambda k: k not in known), self._json_like(), max_size=2)
            strategy = st.builds(lambda base, more: {**more, **base}, strategy, extras)
        return strategy, True

    def schemaless(self, field: Any) -> tuple[SearchStrategy, bool]:
        from conformity import fields

        key_field = field.key_type
        if type(key_field) in (fields.Hashable, fields.Anything):
            keys = self._text(max_size=10)  # keys every serializer carries
        else:
            keys = self.build(key_field).filter(_hashable)
        if keys.is_empty:
            return (st.just({}) if not field.min_length else st.nothing()), True
        lo, hi = field.min_length or 0, field.max_length
        if hi is not None and lo > hi:
            return st.nothing(), True
        return st.dictionaries(keys, self.build(field.value_type), min_size=lo, max_size=hi), True

    # -- meta --------------------------------------------------------------------------------------

    def nullable(self, field: Any) -> tuple[SearchStrategy, bool]:
        return st.none() | self.build(field.field), True

    def any_(self, field: Any) -> tuple[SearchStrategy, bool]:
        options = [self.build(option) for option in field.options]
        if not field.options:  # Any() accepts everything
            return self._json_like(), True
        options = [option for option in options if not option.is_empty]
        return (st.one_of(options) if options else st.nothing()), True

    def all_(self, field: Any) -> tuple[SearchStrategy, bool]:
        if not field.requirements:
            return self._json_like(), True
        # every requirement as the source of candidates, the All itself as the judge
        sources = [self.build(requirement) for requirement in field.requirements]
        sources = [source for source in sources if not source.is_empty]
        if len(sources) < len(field.requirements):
            return st.nothing(), True
        return st.one_of(sources), False

    def polymorph(self, field: Any) -> tuple[SearchStrategy, bool]:
        branches = []
        path = field.switch_field.split(".")
        for key, branch in field.contents_map.items():
            strategy = self.build(branch)
            if strategy.is_empty:
                continue
            if key != "__default__":

                def switched(value: Any, key: Any = key) -> Any:
                    return _with_switch(value, path, key)

                strategy = strategy.map(switched)
            branches.append(strategy)
        return (st.one_of(branches) if branches else st.nothing()), False

    def object_instance(self, field: Any) -> tuple[SearchStrategy, bool]:
        classes = field.valid_type if isinstance(field.valid_type, tuple) else (field.valid_type,)
        options = [self._instances_of(klass) for klass in classes]
        options = [option for option in options if not option.is_empty]
        return (st.one_of(options) if options else st.nothing()), False

    def _instances_of(self, klass: type) -> SearchStrategy:
        wire_types: list[tuple[type, Callable[[], SearchStrategy]]] = [
            (bool, st.booleans),
            (int, self._ints),
            (float, lambda: st.floats(allow_nan=False, allow_infinity=False)),
            (str, self._text),
            (bytes, st.binary),
            (decimal.Decimal, lambda: st.decimals(allow_nan=False, allow_infinity=False)),
            (type(None), st.none),
            (list, lambda: st.lists(self._scalars(), max_size=3)),
            (dict, lambda: st.dictionaries(self._text(max_size=8), self._scalars(), max_size=3)),
        ]
        for candidate, make in wire_types:
            if klass is candidate:
                return make()
        if self.wire:
            return st.nothing()  # an arbitrary object does not survive serialization
        try:
            return st.from_type(klass)
        except Exception:  # noqa: BLE001 - Hypothesis cannot build it: nothing, unless registered
            return st.nothing()

    def boolean_validator(self, field: Any) -> tuple[SearchStrategy, bool]:
        return st.one_of(self._scalars(), self._json_like()), False

    def type_reference(self, field: Any) -> tuple[SearchStrategy, bool]:
        if self.wire:
            return st.nothing(), True  # a class is not a value any serializer carries
        classes = _classes_under(field.base_classes) or [int, str, float, bool, dict, list, object]
        return st.sampled_from(classes), False

    def python_path(self, field: Any) -> tuple[SearchStrategy, bool]:
        from conformity import fields

        value_schema = field.value_schema
        if isinstance(value_schema, fields.TypeReference):
            paths = [_path_of(klass) for klass in _classes_under(value_schema.base_classes)]
        else:
            paths = []
        paths += _STDLIB_PATHS
        paths = [path for path in dict.fromkeys(paths) if path]
        return (st.sampled_from(paths) if paths else st.nothing()), False

    def class_config(self, field: Any) -> tuple[SearchStrategy, bool]:
        from conformity import fields

        attribute = fields.ClassConfigurationSchema._init_schema_attribute
        options = []
        for klass in _classes_under(field.base_class):
            schema = getattr(klass, attribute, None)
            path = _path_of(klass)
            if schema is None or not path:
                continue
            kwargs = self.build(schema)
            if kwargs.is_empty:
                continue
            options.append(st.fixed_dictionaries({"path": st.just(path), "kwargs": kwargs}))
        return (st.one_of(options) if options else st.nothing()), False

    def deprecated(self, field: Any) -> tuple[SearchStrategy, bool]:
        # conformity 1.28.2's Deprecated has no errors() of its own, so Base's rejects every value and
        # build() answers nothing before it gets here; a Deprecated that delegates gets these, checked
        return self.build(field.field), False

    # -- temporal ----------------------------------------------------------------------------------

    def _temporal_bounds(self, field: Any, step: Any) -> tuple[Any, Any]:
        lo = hi = None
        for name in ("gt", "gte"):
            bound = getattr(field, name, None)
            if bound is not None:
                value = bound + step if name == "gt" else bound
                lo = value if lo is None else max(lo, value)
        for name in ("lt", "lte"):
            bound = getattr(field, name, None)
            if bound is not None:
                value = bound - step if name == "lt" else bound
                hi = value if hi is None else min(hi, value)
        return lo, hi

    def datetime_(self, field: Any) -> tuple[SearchStrategy, bool]:
        step = datetime.timedelta(seconds=1) if self.wire else datetime.timedelta(microseconds=1)
        try:
            lo, hi = self._temporal_bounds(field, step)
        except (OverflowError, TypeError):
            return st.datetimes(), False
        aware = any(b is not None and b.tzinfo is not None for b in (lo, hi))
        if aware:
            utc = utc_tzinfo()
            lo = lo.astimezone(utc).replace(tzinfo=None) if lo is not None else None
            hi = hi.astimezone(utc).replace(tzinfo=None) if hi is not None else None
        floor, ceiling = (WIRE_DATETIME_MIN, WIRE_DATETIME_MAX) if self.wire else (datetime.datetime.min, datetime.datetime.max)
        lo = max(lo, floor) if lo is not None else floor
        hi = min(hi, ceiling) if hi is not None else ceiling
        if self.wire:  # whole seconds, rounded inwards
            lo = lo if lo.microsecond == 0 else lo.replace(microsecond=0) + datetime.timedelta(seconds=1)
            hi = hi.replace(microsecond=0)
        if lo > hi:
            return st.nothing(), True
        strategy = st.datetimes(min_value=lo, max_value=hi, timezones=st.just(utc_tzinfo()) if aware else st.none())
        if self.wire:
            strategy = strategy.map(lambda d: d.replace(microsecond=0))
        return strategy, False

    def date_(self, field: Any) -> tuple[SearchStrategy, bool]:
        try:
            lo, hi = self._temporal_bounds(field, datetime.timedelta(days=1))
        except (OverflowError, TypeError):
            return st.dates(), False
        lo = lo if lo is not None else datetime.date.min
        hi = hi if hi is not None else datetime.date.max
        return (st.dates(min_value=lo, max_value=hi) if lo <= hi else st.nothing()), False

    def time_(self, field: Any) -> tuple[SearchStrategy, bool]:
        # times have no arithmetic: generate in the closed bounds, the field excludes gt/lt themselves
        lo = max((b for b in (field.gt, field.gte) if b is not None), default=datetime.time.min)
        hi = min((b for b in (field.lt, field.lte) if b is not None), default=datetime.time.max)
        if lo.tzinfo is not None or hi.tzinfo is not None:
            return st.nothing(), True  # PySOA's MessagePack drops a time's zone; aware bounds: out of scope
        return (st.times(min_value=lo, max_value=hi) if lo <= hi else st.nothing()), False

    def timedelta_(self, field: Any) -> tuple[SearchStrategy, bool]:
        if self.wire:
            return st.nothing(), True  # neither PySOA serializer encodes a timedelta
        try:
            lo, hi = self._temporal_bounds(field, datetime.timedelta(microseconds=1))
        except (OverflowError, TypeError):
            return st.timedeltas(), False
        lo = lo if lo is not None else datetime.timedelta.min
        hi = hi if hi is not None else datetime.timedelta.max
        return (st.timedeltas(min_value=lo, max_value=hi) if lo <= hi else st.nothing()), False

    def tzinfo(self, field: Any) -> tuple[SearchStrategy, bool]:
        if self.wire:
            return st.nothing(), True
        offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
            lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes))
        )
        return st.just(datetime.timezone.utc) | st.just(utc_tzinfo()) | offsets, False


def _with_switch(value: Any, path: list[str], key: Any) -> Any:
    """``value`` with the Polymorph switch at ``path`` set to ``key`` (unchanged if there is no place for it)."""
    if not isinstance(value, dict):
        return value
    value = dict(value)
    node = value
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return value
        child = dict(child)
        node[part] = child
        node = child
    node[path[-1]] = key
    return value


def _classes_under(bases: Any) -> list[type]:
    """``bases`` and every subclass of them that is importable by its path (module-level classes)."""
    if bases is None:
        return []
    roots = bases if isinstance(bases, tuple) else (bases,)
    seen: dict[type, None] = {}
    stack = list(roots)
    while stack:
        klass = stack.pop(0)
        if klass in seen:
            continue
        seen[klass] = None
        try:
            stack.extend(type.__subclasses__(klass))
        except TypeError:
            continue
    return [klass for klass in seen if "<locals>" not in klass.__qualname__]


def _path_of(klass: type) -> str:
    if "<locals>" in klass.__qualname__:
        return ""
    return f"{klass.__module__}:{klass.__qualname__}"


#: importable objects a PythonPath without a type rule may name (its value_schema filters them)
_STDLIB_PATHS = [
    "decimal.Decimal",
    "datetime:datetime",
    "json.dumps",
    "os.path.join",
    "collections:OrderedDict",
    "math.pi",
    "logging.INFO",
    "string.ascii_letters",
]


def _mutates(field: Any) -> bool:
    """Whether ``field.errors()`` may change the value (ClassConfigurationSchema adds 'object' and 'path')."""
    from conformity import fields

    seen: set[int] = set()

    def walk(node: Any) -> bool:
        if id(node) in seen or not isinstance(node, fields.Base):
            return False
        seen.add(id(node))
        if isinstance(node, fields.ClassConfigurationSchema):
            return True
        children: Iterable[Any] = ()
        for attribute in ("contents", "field", "key_type", "value_type", "options", "requirements", "contents_map", "value_schema"):
            value = getattr(node, attribute, None)
            if isinstance(value, dict):
                children = [*children, *value.values()]
            elif isinstance(value, (list, tuple)):
                children = [*children, *value]
            elif value is not None:
                children = [*children, value]
        return any(walk(child) for child in children)

    return walk(field)


_TABLE: dict[type, Callable[[_Builder, Any], tuple[SearchStrategy, bool]]] | None = None
_TABLE_LOCK = threading.Lock()


def _builder_table() -> dict[type, Callable[[_Builder, Any], tuple[SearchStrategy, bool]]]:
    """Conformity class -> builder method, built on first use (conformity imported then)."""
    global _TABLE
    if _TABLE is None:
        with _TABLE_LOCK:
            if _TABLE is None:
                from conformity import fields

                b = _Builder
                _TABLE = {
                    fields.Integer: b.integer,
                    fields.Float: b.float_,
                    fields.Decimal: b.decimal_,
                    fields.Boolean: b.boolean,
                    fields.Null: b.null,
                    fields.Constant: b.constant,
                    fields.Anything: b.anything,
                    fields.Hashable: b.hashable,
                    fields.UnicodeString: b.unicode,
                    fields.ByteString: b.bytes_,
                    fields.UnicodeDecimal: b.unicode_decimal,
                    fields.EmailAddress: b.email,
                    fields.IPv4Address: b.ipv4,
                    fields.IPv6Address: b.ipv6,
                    fields.List: b.sequence,
                    fields.Sequence: b.sequence,
                    fields.Set: b.set_,
                    fields.Tuple: b.tuple_,
                    fields.Dictionary: b.dictionary,
                    fields.SchemalessDictionary: b.schemaless,
                    fields.Nullable: b.nullable,
                    fields.Any: b.any_,
                    fields.All: b.all_,
                    fields.Polymorph: b.polymorph,
                    fields.ObjectInstance: b.object_instance,
                    fields.BooleanValidator: b.boolean_validator,
                    fields.TypeReference: b.type_reference,
                    fields.PythonPath: b.python_path,
                    fields.ClassConfigurationSchema: b.class_config,
                    fields.Deprecated: b.deprecated,
                    fields.DateTime: b.datetime_,
                    fields.Date: b.date_,
                    fields.Time: b.time_,
                    fields.TimeDelta: b.timedelta_,
                    fields.TZInfo: b.tzinfo,
                }
    return _TABLE
