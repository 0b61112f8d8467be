"""Kyoukai route templates (werkzeug rule syntax) without werkzeug: parse, match, build, describe.

A Kyoukai route is a werkzeug rule such as ``/items/<int:item_id>`` or
``/files/<path:name>``. The consumer side of rpctest (stubs, the stub server, the wire client) must
understand those templates where no Kyoukai and no werkzeug are installed, so this module reads the
rule syntax itself: the six converters Kyoukai apps use (``string``/default, ``int``, ``float``,
``path``, ``uuid``, ``any``) and their arguments (``length``, ``minlength``, ``maxlength``,
``fixed_digits``, ``min``, ``max``, ``signed``, ``any``'s items).

**Wire form.** Path values are text on the wire, so a route's parameters are described, matched and
recorded as *strings* (``{"item_id": "5"}``); the JSON Schema of a parameter is the set of strings
the converter accepts *and* a client can send unencoded: Kyoukai never percent-decodes a path
(``/items/%31`` is a 404, observed of 2.2.1.post1), so valid ``string``/``path`` values are drawn
from URL-safe characters. ``int``/``float`` bounds (``min``/``max``) cannot be said by a pattern:
they are checked on match.

Operation names: ``"METHOD /template"`` (``"GET /items/<int:item_id>"``) is the operation of a
provider contract; a stub may also name a concrete path (``"GET /items/5"``).
"""

from __future__ import annotations

import ast
import functools
import re
from urllib.parse import quote
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from rpctest.exceptions import ConfigError

__all__ = [
    "CONVERTERS",
    "Param",
    "RouteTemplate",
    "parse_operation",
    "split_operation",
    "HTTP_METHODS",
]

#: the methods an operation may name (what werkzeug and Kyoukai route)
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CONVERTERS = ("default", "string", "int", "float", "path", "uuid", "any")

_VARIABLE = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<args>.*?)\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_OPERATION = re.compile(r"^(?P<method>[A-Z]+) (?P<path>/\S*)$")
_SAFE = "A-Za-z0-9_-"
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def _parse_args(text: str | None, where: str) -> tuple[list[Any], dict[str, Any]]:
    """``"a, b"`` / ``"length=2"`` / ``"min=1, max=9"`` -> positional and keyword arguments."""
    if not text:
        return [], {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        # werkzeug also accepts bare words (any(a, b)); quote them and retry
        quoted = ", ".join(part.strip() if "=" in part else repr(part.strip()) for part in text.split(","))
        try:
            call = ast.parse(f"f({quoted})", mode="eval").body
        except SyntaxError:
            raise ConfigError(f"cannot read the converter arguments ({text}) in {where}") from None
    assert isinstance(call, ast.Call)

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Name):  # a bare word: werkzeug reads it as a string (True/False aside)
            return {"True": True, "False": False, "None": None}.get(node.id, node.id)
        return ast.literal_eval(node)

    try:
        return [value(a) for a in call.args], {k.arg: value(k.value) for k in call.keywords if k.arg}
    except ValueError:
        raise ConfigError(f"cannot read the converter arguments ({text}) in {where}") from None


@dataclass(frozen=True)
class Param:
    """One URL variable: its name, converter and the converter's arguments."""

    name: str
    converter: str = "default"
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.kwargs)

    def regex(self) -> str:
        """What the converter matches in a path (werkzeug's rule, written here)."""
        opts = self.options
        if self.converter in ("default", "string"):
            if "length" in opts:
                return f"[^/]{{{int(opts['length'])}}}"
            low = int(opts.get("minlength", 1))
            high = opts.get("maxlength")
            return f"[^/]{{{low},{'' if high is None else int(high)}}}"
        if self.converter == "path":
            return "[^/].*?"
        if self.converter == "int":
            digits = f"\\d{{{int(opts['fixed_digits'])}}}" if opts.get("fixed_digits") else "\\d+"
            return ("-?" if opts.get("signed") else "") + digits
        if self.converter == "float":
            return ("-?" if opts.get("signed") else "") + "\\d+\\.\\d+"
        if self.converter == "uuid":
            return _UUID
        if self.converter == "any":
            return "(?:" + "|".join(re.escape(str(item)) for item in self.args) + ")"
        raise ConfigError(f"unknown converter {self.converter!r} for <{self.name}>; rpctest knows {', '.join(CONVERTERS)}")

    def accepts(self, text: str) -> bool:
        """Whether a matched value is in the converter's bounds (``min``/``max`` of int and float)."""
        opts = self.options
        if self.converter not in ("int", "float") or ("min" not in opts and "max" not in opts):
            return True
        number = int(text) if self.converter == "int" else float(text)
        return not (("min" in opts and number < opts["min"]) or ("max" in opts and number > opts["max"]))

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the values a client can send for this variable (wire form: strings)."""
        opts = self.options
        if self.converter == "any":
            return {"type": "string", "enum": [str(item) for item in self.args]}
        if self.converter == "uuid":
            return {"type": "string", "pattern": f"^{_UUID}$", "format": "uuid"}
        if self.converter == "int":
            digits = f"[0-9]{{{int(opts['fixed_digits'])}}}" if opts.get("fixed_digits") else "[0-9]+"
            schema: dict[str, Any] = {"type": "string", "pattern": f"^{'-?' if opts.get('signed') else ''}{digits}$"}
        elif self.converter == "float":
            schema = {"type": "string", "pattern": f"^{'-?' if opts.get('signed') else ''}[0-9]+\\.[0-9]+$"}
        elif self.converter == "path":
            return {"type": "string", "pattern": f"^[{_SAFE}]+(/[{_SAFE}]+)*$"}
        else:
            schema = {"type": "string", "pattern": f"^[{_SAFE}]+$"}
            if "length" in opts:
                schema["minLength"] = schema["maxLength"] = int(opts["length"])
            else:
                schema["minLength"] = int(opts.get("minlength", 1))
                if opts.get("maxlength") is not None:
                    schema["maxLength"] = int(opts["maxlength"])
        bounds = {k: opts[k] for k in ("min", "max") if k in opts}
        if bounds:
            schema["description"] = f"{self.converter} converter bounds {bounds} (checked by the route, not the pattern)"
        return schema

    def example(self) -> str:
        """One value the converter accepts (for probes such as the wrong-method check)."""
        opts = self.options
        if self.converter == "any":
            return str(self.args[0]) if self.args else "x"
        if self.converter == "uuid":
            return "12345678-1234-5678-1234-567812345678"
        if self.converter in ("int", "float"):
            low = opts.get("min", 1)
            number = max(int(low), 1) if self.converter == "int" else max(float(low), 1.0)
            if self.converter == "int" and opts.get("fixed_digits"):
                return str(number).zfill(int(opts["fixed_digits"]))
            return str(number) if self.converter == "int" else f"{number:.1f}"
        if self.converter in ("default", "string") and "length" in opts:
            return "x" * int(opts["length"])
        return "x" * max(int(opts.get("minlength", 1)), 1)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"converter": self.converter}
        if self.args:
            data["args"] = list(self.args)
        if self.kwargs:
            data["options"] = dict(self.kwargs)
        return data


@dataclass(frozen=True)
class RouteTemplate:
    """A werkzeug rule string as rpctest uses it: its variables, a compiled matcher and a builder."""

    template: str
    params: tuple[Param, ...] = ()
    _regex: "re.Pattern[str] | None" = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, template: str) -> "RouteTemplate":
        """The route of ``template``, parsed once per template: the client, the stub server and the
        fuzzer parse the same few routes on every request (a template is immutable, so one parse
        serves them all)."""
        if not isinstance(template, str):
            raise ConfigError(f"a Kyoukai route path starts with '/', not {template!r}")
        return _parsed_route(template) if cls is RouteTemplate else cls._parse(template)

    @classmethod
    def _parse(cls, template: str) -> "RouteTemplate":
        if not isinstance(template, str) or not template.startswith("/"):
            raise ConfigError(f"a Kyoukai route path starts with '/', not {template!r}")
        params: list[Param] = []
        pattern = ["^"]
        position = 0
        for found in _VARIABLE.finditer(template):
            pattern.append(re.escape(template[position:found.start()]))
            args, kwargs = _parse_args(found.group("args"), f"route {template!r}")
            param = Param(found.group("name"), found.group("converter") or "default", tuple(args), tuple(sorted(kwargs.items())))
            if any(p.name == param.name for p in params):
                raise ConfigError(f"route {template!r} names <{param.name}> twice")
            params.append(param)
            pattern.append(f"(?P<{param.name}>{param.regex()})")
            position = found.end()
        rest = template[position:]
        if "<" in rest or ">" in rest:
            raise ConfigError(f"cannot read the URL variable in route {template!r} (werkzeug syntax: <converter:name>)")
        pattern.append(re.escape(rest) + "$")
        return cls(template, tuple(params), re.compile("".join(pattern)))

    @property
    def is_template(self) -> bool:
        return bool(self.params)

    def match(self, path: str) -> dict[str, str] | None:
        """The variables of ``path`` (wire-form strings) when it is this route's, else None."""
        assert self._regex is not None
        found = self._regex.match(path)
        if found is None:
            return None
        values = found.groupdict()
        if not all(param.accepts(values[param.name]) for param in self.params):
            return None
        return values

    def build(self, values: Mapping[str, Any] | None) -> str:
        """The path for ``values``, rendered as text and percent-encoded only where a URL must be
        (Kyoukai decodes nothing, so the app sees exactly these characters)."""
        values = dict(values or {})
        missing = [p.name for p in self.params if p.name not in values]
        if missing:
            raise ConfigError(f"route {self.template!r} needs values for {', '.join(missing)}")

        def render(found: "re.Match[str]") -> str:
            return _text(values[found.group("name")])

        return _VARIABLE.sub(render, self.template)

    def example_path(self) -> str:
        return self.build({p.name: p.example() for p in self.params})

    def params_schema(self) -> dict[str, Any]:
        """The JSON Schema of the ``path`` part of a request envelope."""
        return {
            "type": "object",
            "properties": {p.name: p.schema() for p in self.params},
            "required": [p.name for p in self.params],
            "additionalProperties": False,
        }


@functools.lru_cache(maxsize=1024)
def _parsed_route(template: str) -> RouteTemplate:
    return RouteTemplate._parse(template)


#: what stays as it is in a path (RFC 3986 pchar and "/"); anything else is percent-encoded
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = value if isinstance(value, str) else str(value)
    return quote(text, safe=_PATH_SAFE)


def split_operation(operation: str) -> tuple[str, str] | None:
    """``"GET /items/5"`` -> ``("GET", "/items/5")``; None when it is not ``"METHOD /path"``."""
    if not isinstance(operation, str):
        return None
    found = _OPERATION.match(operation.strip())
    if found is None:
        return None
    return found.group("method"), found.group("path")


def parse_operation(operation: str) -> tuple[str, RouteTemplate]:
    """``"METHOD /path-or-template"`` -> the method and the parsed route (ConfigError otherwise)."""
    parts = split_operation(operation)
    if parts is None:
        raise ConfigError(
            f"a Kyoukai operation is 'METHOD /path' (e.g. 'GET /items/<int:item_id>' or 'GET /items/5'), not {operation!r}"
        )
    method, path = parts
    if method not in HTTP_METHODS:
        raise ConfigError(f"{operation!r}: {method} is not an HTTP method Kyoukai routes ({', '.join(HTTP_METHODS)})")
    return method, RouteTemplate.parse(path.split("?", 1)[0])


def methods_of(operations: Iterable[str], template: str) -> set[str]:
    """The methods the given operation names declare for one path template."""
    found = set()
    for name in operations:
        parts = split_operation(name)
        if parts is not None and parts[1] == template:
            found.add(parts[0])
    return found
