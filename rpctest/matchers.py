"""Matchers: the parts of a stubbed body that are rules, not examples.

A consumer stubs ``body={"id": integer(42), "name": like("Ada")}``: its code under test gets the
examples (``{"id": 42, "name": "Ada"}``), and the contract records both the examples and the rules,
so that a provider is held to what the consumer relies on ("an integer") rather than to its fixture
("42"). The same matchers work in ``errors=`` fields, streamed ``items=`` and ``match=`` patterns,
for every stack, because they are taken out of a value before any stack sees it (:func:`split`).

Rules are kept as Pact V4 matching rules (``{"match": "integer"}``, ``{"match": "regex", "regex":
...}``, ``{"match": "type", "min": 1}``, ``{"match": "datetime", "format": ...}`` with Java's
``DateTimeFormatter`` letters, ``{"combine": "OR", "matchers": [...]}``), keyed by a JSON pointer into
the value where ``*`` stands for every item of an array (Pact's ``[*]``), so that an export to Pact
loses nothing. Two liberties, both documented: ``any_of`` of a literal that is not a string records
``{"match": "equality", "value": ...}`` (Pact's equality compares with the example, and an
alternative has none of its own), and a ``type`` rule inside ``any_of`` carries its ``value``.

Semantics (as Pact's): ``type`` compares the JSON type (integers and decimals are both numbers; null
is only null) and cascades to the children of objects and arrays; ``min``/``max`` bound an array's
length and every item is compared with the example's first item; ``regex`` must match the whole
string (a number is matched in its decimal text); ``integer`` is a whole number, ``decimal`` a
number with a fraction part on the wire (a float), never a bool.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass
from types import FunctionType
from typing import Any, Mapping

from rpctest.exceptions import StubUsageError

__all__ = [
    "Matcher",
    "like",
    "each_like",
    "regex",
    "integer",
    "decimal",
    "datetime",
    "any_of",
    "split",
    "contains_matchers",
    "rule_differences",
    "with_examples_where_ruled",
    "blank_where_ruled",
    "describe_rule",
    "check_rules",
    "Rules",
]

#: pointer (``*`` for every array item) -> a Pact V4 matching rule
Rules = dict[str, dict[str, Any]]

_UNSET: Any = object()


class Matcher:
    """A rule with an example. Subclasses say what the rule is (``rule``) and hold the example."""

    example: Any

    def rule(self) -> dict[str, Any]:  # pragma: no cover - every matcher overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.example!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    __hash__ = None  # type: ignore[assignment]


@dataclass(eq=False, repr=False)
class _Like(Matcher):
    value: Any

    def __post_init__(self) -> None:
        self.example, self.inner = split(self.value)

    def rule(self) -> dict[str, Any]:
        return {"match": "type"}


@dataclass(eq=False, repr=False)
class _EachLike(Matcher):
    item: Any
    min: int = 1
    max: int | None = None

    def __post_init__(self) -> None:
        for name, bound in (("min", self.min), ("max", self.max)):
            if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool) or bound < 0):
                raise StubUsageError(f"each_like({name}=...) must be a whole number of items >= 0, not {bound!r}")
        if self.max is not None and self.max < max(self.min, 1):
            raise StubUsageError(f"each_like(max={self.max}) is below its min ({self.min}) or the one example item")
        item, self.inner = split(self.item)
        self.example = [item] * max(self.min, 1)

    def rule(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"match": "type", "min": self.min}
        if self.max is not None:
            rule["max"] = self.max
        return rule


@dataclass(eq=False, repr=False)
class _Regex(Matcher):
    pattern: str
    example: Any

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str):
            raise StubUsageError(f"regex(pattern, example): the pattern must be a str, not {self.pattern!r}")
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise StubUsageError(f"regex({self.pattern!r}, ...): not a regular expression: {exc}") from None
        problem = _check({"match": "regex", "regex": self.pattern}, None, self.example)
        if problem:
            raise StubUsageError(f"regex({self.pattern!r}, {self.example!r}): the example does not match ({problem}); "
                                 f"give an example the pattern matches whole")

    def rule(self) -> dict[str, Any]:
        return {"match": "regex", "regex": self.pattern}


@dataclass(eq=False, repr=False)
class _Integer(Matcher):
    example: Any = 42

    def __post_init__(self) -> None:
        if _check(self.rule(), None, self.example):
            raise StubUsageError(f"integer({self.example!r}): the example must be an int (not a bool)")

    def rule(self) -> dict[str, Any]:
        return {"match": "integer"}


@dataclass(eq=False, repr=False)
class _Decimal(Matcher):
    example: Any = 1.5

    def __post_init__(self) -> None:
        if _check(self.rule(), None, self.example):
            raise StubUsageError(f"decimal({self.example!r}): the example must be a finite float (a number with a "
                                 f"fraction part on the wire, as Pact's decimal); use integer() for whole numbers")

    def rule(self) -> dict[str, Any]:
        return {"match": "decimal"}


@dataclass(eq=False, repr=False)
class _Datetime(Matcher):
    format: str = "yyyy-MM-dd'T'HH:mm:ss"
    example: Any = _UNSET

    def __post_init__(self) -> None:
        self.strptime, sample = _java_format(self.format)
        if self.example is _UNSET:
            self.example = sample
        problem = _check(self.rule(), None, self.example)
        if problem:
            raise StubUsageError(f"datetime({self.format!r}, {self.example!r}): the example {problem}")

    def rule(self) -> dict[str, Any]:
        return {"match": "datetime", "format": self.format}

    def __repr__(self) -> str:
        return f"datetime({self.format!r}, {self.example!r})"


@dataclass(eq=False, repr=False)
class _AnyOf(Matcher):
    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.options:
            raise StubUsageError("any_of() needs at least one alternative (a matcher or a value)")
        self.rules: list[dict[str, Any]] = []
        for option in self.options:
            if isinstance(option, Matcher):
                if getattr(option, "inner", None):
                    raise StubUsageError(f"any_of: {option!r} holds matchers of its own; an alternative is one rule")
                rule = option.rule()
                if rule.get("match") == "type":
                    rule = {**rule, "value": option.example}
                self.rules.extend(rule["matchers"] if "combine" in rule else [rule])  # any_of(any_of(..)) is flat
            elif contains_matchers(option):
                raise StubUsageError(f"any_of: {option!r} holds matchers; give them as alternatives themselves")
            elif isinstance(option, str):
                self.rules.append({"match": "regex", "regex": re.escape(option)})
            else:
                self.rules.append({"match": "equality", "value": option})
        first = self.options[0]
        self.example = first.example if isinstance(first, Matcher) else first

    def rule(self) -> dict[str, Any]:
        return {"combine": "OR", "matchers": list(self.rules)}

    def __repr__(self) -> str:
        return f"any_of{self.options!r}"


def like(value: Any) -> Matcher:
    """``value`` is an example: any value of the same JSON type matches (for an object or array, its
    keys and items compared the same way, all the way down). Pact's ``type`` rule."""
    return _Like(value)


def each_like(item: Any, min: int = 1, max: int | None = None) -> Matcher:  # noqa: A002 - Pact's names
    """An array of at least ``min`` (at most ``max``) items, each like ``item``. The stub answers
    ``max(min, 1)`` copies of the example. Pact's ``type`` rule with ``min``/``max``."""
    return _EachLike(item, min, max)


def regex(pattern: str, example: Any) -> Matcher:
    """A string the regular expression ``pattern`` matches whole; ``example`` must be one."""
    return _Regex(pattern, example)


def integer(example: int = 42) -> Matcher:
    """Any whole number (never a bool)."""
    return _Integer(example)


def decimal(example: float = 1.5) -> Matcher:
    """Any number with a fraction part on the wire (a float)."""
    return _Decimal(example)


def datetime(format: str = "yyyy-MM-dd'T'HH:mm:ss", example: Any = _UNSET) -> Matcher:  # noqa: A002
    """A string in ``format``, written with Java ``DateTimeFormatter`` letters as Pact's ``datetime``
    (``yyyy MM dd HH mm ss SSS``, ``XXX``, ``ZZZZZ`` or ``Z`` for the offset, ``'T'`` for literal text); without
    an ``example``, one is made from the format."""
    return _Datetime(format, example)


def any_of(*options: Any) -> Matcher:
    """Any one of the alternatives: matchers or literal values. The first is the example."""
    return _AnyOf(options)


#: the public factories: one given uncalled (``body={"id": integer}``) is a usage error, not a value
_FACTORIES: frozenset[object] = frozenset({like, each_like, regex, integer, decimal, datetime, any_of})


# -- taking matchers out of a value -------------------------------------------------------------------


def _escape(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def contains_matchers(value: Any) -> bool:
    """Whether ``value`` holds a matcher anywhere (cheap for the plain bodies most stubs have)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, Matcher):
            return True
        if type(item) is FunctionType and item in _FACTORIES:
            raise StubUsageError(f"{item.__name__} is a matcher factory, not a matcher: call it, {item.__name__}(...)")
        if type(item) is dict:
            pending.extend(item.values())
        elif type(item) in (list, tuple):
            pending.extend(item)
    return False


def split(value: Any, base: str = "") -> tuple[Any, Rules]:
    """``value`` with every matcher replaced by its example, and the rules, by pointer under ``base``.

    A value without matchers comes back as it is (the same object) with no rules.
    """
    if not contains_matchers(value):
        return value, {}
    rules: Rules = {}
    example = _split(value, base, rules)
    return example, rules


def _split(value: Any, pointer: str, rules: Rules) -> Any:
    if isinstance(value, Matcher):
        rules[pointer or ""] = value.rule()
        inner = getattr(value, "inner", {})
        below = pointer + "/*" if isinstance(value, _EachLike) else pointer
        for sub, rule in inner.items():
            rules[below + sub] = rule
        return value.example
    if type(value) is dict:
        return {key: _split(item, f"{pointer}/{_escape(key)}", rules) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_split(item, f"{pointer}/{index}", rules) for index, item in enumerate(value))
    return value


# -- judging a value by the rules ---------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_rule(rule: Mapping[str, Any]) -> str:
    """A rule in words, for findings: ``integer``, ``regex '^[a-z]+$'``, ``type (min 1)``..."""
    if rule.get("combine") == "OR":
        return "any of: " + " | ".join(describe_rule(sub) for sub in rule.get("matchers", []))
    match = rule.get("match")
    if match == "regex":
        return f"regex {rule.get('regex')!r}"
    if match in ("datetime", "timestamp", "date", "time"):
        return f"{match} {_format_of(rule)!r}"
    if match == "equality" and "value" in rule:
        return f"equal to {_short(rule['value'])}"
    if match == "type":
        bounds = [f"{name} {rule[name]}" for name in ("min", "max") if name in rule]
        return "type" + (f" ({', '.join(bounds)})" if bounds else "")
    return str(match)


def _check(rule: Mapping[str, Any], example: Any, actual: Any) -> str | None:
    """Why ``actual`` breaks ``rule`` alone (not its children), or None."""
    if rule.get("combine") == "OR":
        problems = [_check(sub, sub.get("value", example), actual) for sub in rule.get("matchers", [])]
        return None if any(problem is None for problem in problems) else f"{_short(actual)} matches none of them"
    match = rule.get("match")
    if match == "type":
        if _kind(actual) != _kind(example):
            return f"{_kind(actual)} {_short(actual)}, not a {_kind(example)}"
        if isinstance(actual, (list, tuple)):
            if "min" in rule and len(actual) < rule["min"]:
                return f"{len(actual)} item(s), fewer than {rule['min']}"
            if "max" in rule and len(actual) > rule["max"]:
                return f"{len(actual)} item(s), more than {rule['max']}"
        return None
    if match == "integer":
        ok = isinstance(actual, int) and not isinstance(actual, bool)
        return None if ok else f"{_kind(actual)} {_short(actual)}, not an integer"
    if match == "decimal":
        ok = isinstance(actual, float) and math.isfinite(actual)
        return None if ok else f"{_kind(actual)} {_short(actual)}, not a decimal"
    if match == "regex":
        text = actual if isinstance(actual, str) else (str(actual) if _kind(actual) == "number" else None)
        try:
            ok = text is not None and re.fullmatch(rule.get("regex", ""), text) is not None
        except (re.error, TypeError):
            return f"the rule's regex {rule.get('regex')!r} is not a regular expression"
        return None if ok else f"{_short(actual)} does not match"
    if match in ("datetime", "timestamp", "date", "time"):
        if not isinstance(actual, str):
            return f"{_kind(actual)} {_short(actual)}, not a string"
        try:
            pattern, _ = _java_format(_format_of(rule))
            _dt.datetime.strptime(actual, pattern)
        except StubUsageError as exc:
            return str(exc)
        except ValueError:
            return f"{_short(actual)} is not in format {_format_of(rule)!r}"
        return None
    if match == "equality":
        expected = rule.get("value", example)
        same = _kind(actual) == _kind(expected) and actual == expected
        return None if same else f"{_short(actual)}, not {_short(expected)}"
    return f"rpctest does not know the rule {match!r}"


def _format_of(rule: Mapping[str, Any]) -> Any:
    """A date/time rule's format: V4's ``format``, or V3's key named after the rule (``"date": ...``)."""
    return rule.get("format", rule.get(rule.get("match", ""), "yyyy-MM-dd'T'HH:mm:ss"))


def _cascades(rule: Mapping[str, Any] | None) -> bool:
    return rule is not None and bool(rule) and rule.get("match") == "type"


def _under(rules: Rules, pattern: str) -> bool:
    prefix = pattern + "/"
    return any(key.startswith(prefix) for key in rules)


def rule_differences(rules: Rules, example: Any, actual: Any, *, base: str = "") -> list[tuple[str, str, str]]:
    """Where ``actual`` breaks the rules: (pointer, rule in words, what was there), pointers under
    ``base``. Only the ruled parts are judged (and, below a ``type`` rule, everything by type); the
    unmarked rest is the caller's to compare (by shape, exactly, or as a ``match=`` subset)."""
    if not rules:
        return []
    found: list[tuple[str, str, str]] = []
    _walk(rules, example, actual, base, base, False, found)
    return found


def _walk(rules: Rules, example: Any, actual: Any, pointer: str, pattern: str, cascade: bool, found: list[Any]) -> None:
    rule = rules.get(pattern)
    if rule is not None:
        problem = _check(rule, example, actual)
        if problem:
            found.append((pointer, describe_rule(rule), problem))
            return
    elif cascade:
        if _kind(actual) != _kind(example):
            found.append((pointer, "type", f"{_kind(actual)} {_short(actual)}, not a {_kind(example)}"))
            return
    elif not _under(rules, pattern):
        return
    if rule is not None and "combine" in rule:
        return
    deeper = cascade or _cascades(rule)
    if isinstance(example, Mapping) and isinstance(actual, Mapping):
        for key, value in example.items():
            child = f"{pattern}/{_escape(key)}"
            where = f"{pointer}/{_escape(key)}"
            if key not in actual:
                if deeper or child in rules or _under(rules, child):
                    found.append((where, describe_rule(rules[child]) if child in rules else "type", "missing"))
                continue
            _walk(rules, value, actual[key], where, child, deeper, found)
    elif isinstance(example, (list, tuple)) and isinstance(actual, (list, tuple)):
        if not example:
            return
        every = pattern + "/*"
        if rule is not None and ("min" in rule or "max" in rule) or every in rules or _under(rules, every):
            for index, item in enumerate(actual):
                _walk(rules, example[0], item, f"{pointer}/{index}", every, deeper, found)
        else:
            for index, item in enumerate(actual):
                if index >= len(example) and not deeper:
                    break
                _walk(rules, example[min(index, len(example) - 1)], item, f"{pointer}/{index}", f"{pattern}/{index}", deeper, found)


def with_examples_where_ruled(rules: Rules, example: Any, actual: Any, *, base: str = "") -> Any:
    """``actual`` with each ruled part replaced by the example's: what is left to compare the old way.

    A stub server compares a request with a recorded one exactly, a ``match=`` pattern as a subset,
    and live verification a reply by shape; with rules, those comparisons keep working unchanged on
    this value, while :func:`rule_differences` judges the ruled parts. ``actual`` itself is not changed.
    """
    if not rules:
        return actual
    return _substitute(rules, example, actual, base, _example)


def blank_where_ruled(rules: Rules, example: Any, value: Any) -> Any:
    """``value`` with each ruled part (present in it) replaced by None: applied to a ``match=``
    pattern and to a request alike, it leaves the ruled parts out of a subset comparison (a stack
    whose patterns are themselves rules, AsyncAPY's regular expressions, reads None as "any value"),
    while :func:`rule_differences` judges them. ``value`` itself is not changed."""
    if not rules:
        return value
    return _substitute(rules, example, value, "", _blank)


def _example(example: Any) -> Any:
    return example


def _blank(example: Any) -> None:
    return None


def _substitute(rules: Rules, example: Any, actual: Any, pattern: str, fill: Any) -> Any:
    if pattern in rules:
        return fill(example)
    if not _under(rules, pattern):
        return actual
    if isinstance(example, Mapping) and isinstance(actual, Mapping):
        copied = dict(actual)
        for key, value in example.items():
            if key in actual:
                copied[key] = _substitute(rules, value, actual[key], f"{pattern}/{_escape(key)}", fill)
        return copied
    if isinstance(example, (list, tuple)) and isinstance(actual, (list, tuple)):
        copied_list = list(actual)
        for index in range(min(len(example), len(actual))):
            copied_list[index] = _substitute(rules, example[index], actual[index], f"{pattern}/{index}", fill)
        return copied_list
    return actual


# -- recorded rules: checked when a contract is read --------------------------------------------------

_KNOWN = {"type", "integer", "decimal", "regex", "datetime", "timestamp", "date", "time", "equality"}


def check_rules(rules: Any, where: str) -> str | None:
    """Why recorded ``rules`` (pointer -> rule) cannot be used, or None: a contract file from another
    run or repository is read only when rpctest can apply every rule it holds."""
    if not isinstance(rules, Mapping):
        return f"{where} must be an object of JSON pointer -> rule"
    for pointer, rule in rules.items():
        if pointer and not pointer.startswith("/"):
            return f"{where}: {pointer!r} is not a JSON pointer"
        problem = _rule_problem(rule)
        if problem:
            return f"{where}{pointer}: {problem}"
    return None


def _rule_problem(rule: Any) -> str | None:
    if not isinstance(rule, Mapping):
        return "a rule must be an object"
    if "combine" in rule:
        if rule["combine"] != "OR" or not isinstance(rule.get("matchers"), list) or not rule["matchers"]:
            return 'a combined rule must be {"combine": "OR", "matchers": [...]}'
        if any(isinstance(sub, Mapping) and "combine" in sub for sub in rule["matchers"]):
            return "a combined rule holds simple rules only"
        return next((p for p in map(_rule_problem, rule["matchers"]) if p), None)
    match = rule.get("match")
    if match not in _KNOWN:
        return f"unknown rule {match!r} (known: {', '.join(sorted(_KNOWN))})"
    if match == "regex":
        try:
            re.compile(rule.get("regex"))  # type: ignore[type-var]  # a non-string is a TypeError, caught below
        except (re.error, TypeError):
            return f"{rule.get('regex')!r} is not a regular expression"
    if match in ("datetime", "timestamp", "date", "time"):
        try:
            _java_format(_format_of(rule))
        except StubUsageError as exc:
            return str(exc)
    for name in ("min", "max"):
        if name in rule and (not isinstance(rule[name], int) or isinstance(rule[name], bool) or rule[name] < 0):
            return f"{name} must be a whole number >= 0"
    return None


# -- Java DateTimeFormatter letters, as Pact writes formats -------------------------------------------

_JAVA = {
    "yyyy": ("%Y", "2000"), "uuuu": ("%Y", "2000"), "yy": ("%y", "00"), "MM": ("%m", "01"), "dd": ("%d", "02"),
    "HH": ("%H", "03"), "mm": ("%M", "04"), "ss": ("%S", "05"), "SSSSSS": ("%f", "000006"),
    "SSS": ("%f", "006"), "SS": ("%f", "06"), "S": ("%f", "6"),
    "XXX": ("%z", "+00:00"), "XX": ("%z", "+0000"), "X": ("%z", "Z"), "xxx": ("%z", "+00:00"), "xx": ("%z", "+0000"),
    "ZZZZZ": ("%z", "+00:00"), "ZZZ": ("%z", "+0000"), "ZZ": ("%z", "+0000"), "Z": ("%z", "+0000"),
    "EEE": ("%a", "Sun"), "MMM": ("%b", "Jan"), "a": ("%p", "AM"), "hh": ("%I", "03"), "D": ("%j", "002"),
}
_TOKEN = re.compile(r"'([^']*)'|(" + "|".join(sorted(map(re.escape, _JAVA), key=len, reverse=True)) + r")|([A-Za-z])|(.)", re.S)


def _java_format(fmt: Any) -> tuple[str, str]:
    """A Java ``DateTimeFormatter`` pattern as (``strptime`` format, an example string)."""
    if not isinstance(fmt, str) or not fmt:
        raise StubUsageError(f"a datetime format must be a non-empty str of Java DateTimeFormatter letters, not {fmt!r}")
    strp, sample = [], []
    for quoted, token, letter, other in _TOKEN.findall(fmt):
        if token:
            strp.append(_JAVA[token][0])
            sample.append(_JAVA[token][1])
        elif letter:
            raise StubUsageError(
                f"datetime format {fmt!r}: rpctest does not read the letter {letter!r}; it reads "
                f"{', '.join(sorted(_JAVA))} and quoted text such as 'T'"
            )
        else:
            text = quoted if quoted or other == "" else other
            text = "'" if (quoted == "" and not other) else text
            strp.append(text.replace("%", "%%"))
            sample.append(text)
    return "".join(strp), "".join(sample)
