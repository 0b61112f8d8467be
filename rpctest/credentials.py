"""What a caller sends besides the request: credentials and request context, in neutral terms.

A CI job points ``rpctest fuzz --address`` or ``contracts verify --live --address`` at a real service,
and real services check who calls: a pykern server wants its handshake token, a ZeroJSON method its
authenticator's token, a Kyoukai route an ``Authorization`` header, a PySOA action reads the request
context and switches. :class:`Credentials` holds all of that once, whatever the stack; each stack's
wire client maps the parts its protocol has (``StackAdapter.credential_options`` names them) and a
part a stack has no place for is a usage error naming what that stack does take, never silently
dropped (an unauthenticated run would only report "access denied" on every case).

They come from the command line (``--header``, ``--token``, ``--auth``, ``--context``, ``--switch``)
and from ``[tool.rpctest.services.NAME]`` (the same keys), where ``${VAR}`` reads an environment
variable so that secrets stay out of files. Secret values are registered as they are built and
:func:`redact` masks them in whatever rpctest prints or writes, and ``repr`` never shows them.

Importing this module stays cheap: the CLI imports it for every command that reaches a target.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rpctest.exceptions import ConfigError

__all__ = [
    "Credentials",
    "OPTIONS",
    "from_options",
    "from_service",
    "for_target",
    "interpolate",
    "parse_header",
    "parse_auth",
    "parse_context",
    "redact",
    "option_names",
    "MASK",
]

#: what a masked secret reads as
MASK = "***"
#: the command-line option of each part, by the name adapters use in ``credential_options``
OPTIONS: Mapping[str, str] = MappingProxyType({
    "header": "--header NAME:VALUE",
    "token": "--token VALUE",
    "auth": "--auth USER:PASSWORD",
    "context": "--context KEY=VALUE",
    "switch": "--switch N",
})
#: secrets shorter than this are not masked: masking "1" or "ab" would garble every report, and a
#: value that short protects nothing anyway
_MIN_SECRET = 4
_SECRETS: set[str] = set()
_EMPTY: Mapping[str, Any] = MappingProxyType({})
# RFC 9110's token characters: what an HTTP field name may be made of
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_VARIABLE = re.compile(r"\$\$|\$\{([^}]*)\}")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, repr=False)
class Credentials:
    """Headers, a token, basic auth, request context and switches to send with every call.

    ``headers``: HTTP fields (Kyoukai); ``token``: the stack's own token (pykern's handshake,
    ZeroJSON's ``org.pycom.auth`` extension, an HTTP bearer token); ``basic``: (user, password) for
    HTTP basic auth; ``context`` and ``switches``: PySOA's request context and switches. Empty parts
    are not sent; an empty object sends nothing at all.
    """

    headers: tuple[tuple[str, str], ...] = ()
    token: str | None = None
    basic: tuple[str, str] | None = None
    context: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    switches: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for secret in self.secrets():
            if len(secret) >= _MIN_SECRET:
                _SECRETS.add(secret)

    def __bool__(self) -> bool:
        return bool(self.given())

    def given(self) -> list[str]:
        """The parts that are set, by the names adapters use (``header``, ``token``, ...)."""
        parts = {"header": self.headers, "token": self.token is not None, "auth": self.basic,
                 "context": self.context, "switch": self.switches}
        return [name for name, value in parts.items() if value]

    def secrets(self) -> list[str]:
        """The values never to print: the token, the password (and the basic-auth header value that
        encodes it, which a service may echo), every header value."""
        found = [value for _, value in self.headers]
        if self.token is not None:
            found.append(self.token)
        if self.basic is not None:
            import base64

            found.append(self.basic[1])
            found.append(base64.b64encode(f"{self.basic[0]}:{self.basic[1]}".encode()).decode("ascii"))
        return found

    def header_map(self) -> dict[str, str]:
        """The headers as a dict (a later header of the same name wins, as on the command line)."""
        return dict(self.headers)

    def over(self, base: "Credentials") -> "Credentials":
        """These credentials given on top of ``base`` (the command line over the configuration):
        headers and context merge by name, this side winning; switches add up; a token or basic
        auth given here replaces the base's."""
        headers = {name.lower(): (name, value) for name, value in base.headers}
        headers.update({name.lower(): (name, value) for name, value in self.headers})
        return Credentials(
            headers=tuple(headers.values()),
            token=self.token if self.token is not None else base.token,
            basic=self.basic if self.basic is not None else base.basic,
            context=MappingProxyType({**base.context, **self.context}),
            switches=tuple(dict.fromkeys([*base.switches, *self.switches])),
        )

    def refuse_unsupported(self, stack: str, supported: Iterable[str], why: str = "") -> None:
        """A :class:`ConfigError` naming each part ``stack`` has no place for, and what it takes."""
        accepted = set(supported)
        extra = [name for name in self.given() if name not in accepted]
        if not extra:
            return
        takes = ", ".join(OPTIONS[name] for name in OPTIONS if name in accepted)
        raise ConfigError(
            f"{option_names(extra)}: {stack} has no place for it{f' ({why})' if why else ''}; "
            f"{f'it takes {takes}' if takes else 'leave credentials out'} (on the command line or in [tool.rpctest.services])"
        )

    def describe(self) -> str:
        """What is sent, secrets masked (for a report's header)."""
        parts = [f"header {name}: {MASK}" for name, _ in self.headers]
        if self.token is not None:
            parts.append(f"token {MASK}")
        if self.basic is not None:
            parts.append(f"basic auth {self.basic[0]}:{MASK}")
        parts.extend(f"context {key}={json.dumps(value, default=str)}" for key, value in self.context.items())
        if self.switches:
            parts.append("switches " + ",".join(str(s) for s in self.switches))
        return "; ".join(parts) or "no credentials"

    def __repr__(self) -> str:
        return f"Credentials({self.describe()})"


def option_names(parts: Iterable[str]) -> str:
    """The command-line options of credential ``parts``, for messages: ``--token, --header``."""
    return ", ".join(OPTIONS[name].split()[0] for name in parts)


def redact(text: str) -> str:
    """``text`` with every secret this process was given masked (longest first, so that a secret
    that contains another is masked whole)."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


# --------------------------------------------------------------------------------------------------
# parsing what a user writes


def parse_header(text: str, *, where: str = "--header") -> tuple[str, str]:
    """``NAME:VALUE`` as (name, value), the name checked as an HTTP field name, the value as one HTTP
    can carry (:func:`check_header_value`)."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not _HEADER_NAME.match(name):
        shown = name if _HEADER_NAME.match(name) else repr(name)
        raise ConfigError(f"{where}: give NAME:VALUE, e.g. \"X-Api-Key: $API_KEY\" ({shown} is not a header name followed by ':')")
    return name, check_header_value(value.strip(), where=f"{where} {name}")


def check_header_value(value: str, *, where: str) -> str:
    """``value``, if an HTTP header can carry it: printable ASCII (and tabs) on one line. Anything else
    is refused here, where it is given: sent, a line break failed every request as a transport error
    and a non-ASCII character crashed the HTTP client. The message says where, never which character
    (the value may be a secret)."""
    for index, char in enumerate(value):
        if char in "\r\n":
            problem = "a line break"
        elif ord(char) > 126:
            problem = "a character outside printable ASCII"
        elif ord(char) < 32 and char != "\t":
            problem = "a control character"
        else:
            continue
        raise ConfigError(f"{where}: the value holds {problem} (at {index}); an HTTP header value is printable ASCII on one "
                          "line: give it encoded as the service expects (e.g. base64)")
    return value


def parse_auth(text: str, *, where: str = "--auth") -> tuple[str, str]:
    """``USER:PASSWORD`` as (user, password); the password may itself hold colons."""
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise ConfigError(f"{where}: give USER:PASSWORD (HTTP basic auth), with a ':' after a non-empty user name")
    return user, password


def parse_context(text: str, *, where: str = "--context") -> tuple[str, Any]:
    """``KEY=VALUE`` as (key, value): VALUE is JSON when it parses as JSON (``user_id=42`` is the
    number 42, ``roles=["admin"]`` a list), else the text as it is (``locale=en_US``). A VALUE that
    starts as a JSON object, array or string does (``{``, ``[``, ``"``) must be JSON: sent as text, a
    brace the shell ate would reach the service as a string nobody asked for."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"{where}: give KEY=VALUE (e.g. user_id=42, or switches=1,2), not {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError as exc:
        if raw.lstrip().startswith(("{", "[", '"')):
            raise ConfigError(
                f"{where}: the value of {key} starts as JSON but is not valid JSON ({exc.msg} at column {exc.colno} of "
                f"{raw!r}); quote the whole option for the shell (--context '{key}={{\"id\": 42}}')"
            ) from None
        return key, raw


def _switches(value: Any, where: str) -> tuple[int, ...]:
    """Switches from ``--switch``, ``--context switches=1,2`` or a list: whole numbers only."""
    items: Sequence[Any]
    if isinstance(value, str):
        items = [item.strip() for item in value.split(",") if item.strip()]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        items = [value]
    out: list[int] = []
    for item in items:
        try:
            if isinstance(item, bool) or (not isinstance(item, (int, str))):
                raise ValueError(item)
            out.append(int(item))
        except ValueError:
            raise ConfigError(f"{where}: a PySOA switch is a whole number, not {item!r}") from None
    return tuple(out)


def from_options(
    *,
    headers: Iterable[str] = (),
    token: str | None = None,
    auth: str | None = None,
    context: Iterable[str] = (),
    switches: Iterable[str | int] = (),
) -> Credentials:
    """Credentials from the command line's ``--header``, ``--token``, ``--auth``, ``--context``
    and ``--switch`` values (``--context switches=...`` adds switches, as PySOA's client does)."""
    parsed = dict(parse_context(item) for item in context)
    found = list(_switches(list(switches), "--switch"))
    if "switches" in parsed:
        found.extend(_switches(parsed.pop("switches"), "--context switches"))
    return Credentials(
        headers=tuple(parse_header(item) for item in headers),
        token=token,
        basic=parse_auth(auth) if auth is not None else None,
        context=MappingProxyType(parsed),
        switches=tuple(dict.fromkeys(found)),
    )


# --------------------------------------------------------------------------------------------------
# the configuration's entries


def interpolate(value: str, *, where: str, environ: Mapping[str, str] | None = None) -> str:
    """``value`` with each ``${VAR}`` replaced by the environment variable (``$$`` is a literal ``$``).

    An unset variable is a :class:`ConfigError` naming it and ``where`` it is used, not an empty
    secret sent to the service (which would only come back as a wall of "access denied").
    """
    env = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        if not _VARIABLE_NAME.match(name):
            raise ConfigError(f"{where}: ${{{name}}} is not an environment variable name (letters, digits, _; write $$ for a literal $)")
        if name not in env:
            raise ConfigError(f"{where}: the environment variable {name} is not set (named as ${{{name}}}); set it, or give the value on the command line")
        return env[name]

    return _VARIABLE.sub(replace, value)


def _interpolated(value: Any, where: str, environ: Mapping[str, str] | None) -> Any:
    if isinstance(value, str):
        return interpolate(value, where=where, environ=environ)
    if isinstance(value, Mapping):
        return {key: _interpolated(item, f"{where}.{key}", environ) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolated(item, f"{where}[{i}]", environ) for i, item in enumerate(value)]
    return value


def from_service(entry: Any, *, environ: Mapping[str, str] | None = None, over: Credentials | None = None) -> Credentials:
    """The credentials of a ``[tool.rpctest.services.NAME]`` entry (a :class:`~rpctest.config.ServiceConfig`),
    ``${VAR}`` read from the environment now: a variable only this service uses is needed only
    when a command reaches this service, and not for a value the command line replaces (``over``)."""
    if entry is None:
        return Credentials()
    given = over or Credentials()
    replaced = {name.lower() for name, _ in given.headers}
    table = f"[tool.rpctest.services.{entry.name}]"
    headers = tuple((name, interpolate(value, where=f"{table} headers.{name}", environ=environ))
                    for name, value in entry.headers.items() if name.lower() not in replaced)
    for name, value in headers:
        parse_header(f"{name}:", where=f"{table} headers")
        check_header_value(value, where=f"{table} headers.{name}")
    token = None
    if entry.token is not None and given.token is None:
        token = interpolate(entry.token, where=f"{table} token", environ=environ)
    auth = None
    if entry.auth is not None and given.basic is None:
        auth = parse_auth(interpolate(entry.auth, where=f"{table} auth", environ=environ), where=f"{table} auth")
    context = {key: _interpolated(value, f"{table} context.{key}", environ) for key, value in entry.context.items()}
    switches = list(entry.switches)
    if "switches" in context:
        switches.extend(_switches(context.pop("switches"), f"{table} context.switches"))
    return Credentials(headers=headers, token=token, basic=auth, context=MappingProxyType(context),
                       switches=tuple(dict.fromkeys(switches)))


def for_target(stack: str, given: Credentials, *, address: str | None, service: str | None) -> Credentials:
    """What a command sends to its target: ``given`` (the command line) over the credentials of the
    ``[tool.rpctest.services]`` entry of ``address`` or ``service``, checked against what ``stack``
    can carry. Without an address (an in-process provider), the command line's only: a configured
    service's credentials are those of the running service, not of its code."""
    found = given
    if address is not None:
        from rpctest.contracts.export import service_entry

        found = given.over(from_service(service_entry(None, address, service), over=given))
    if found:
        from rpctest.stacks import get_adapter

        get_adapter(stack).check_credentials(found)
    return found
