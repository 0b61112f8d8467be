"""rpctest's project configuration: ``[tool.rpctest]`` in pyproject.toml, or ``rpctest.toml``.

The configuration is found the way pytest finds its own: walking up from a start directory. It is
validated against the published JSON Schema (``rpctest/schemas/config.schema.json``) so that a typo
is reported with the file and the dotted key instead of being silently ignored.

Importing this module must stay cheap: the pytest plugin imports it at start-up, so jsonschema is
imported only when a configuration file is actually validated.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from rpctest.exceptions import ConfigError as ConfigError  # re-exported: callers catch config.ConfigError

__all__ = [
    "CONFIG_FILE",
    "PYPROJECT_FILE",
    "ServiceConfig",
    "RpctestConfig",
    "load",
    "current",
    "set_current",
    "merge",
    "schema",
]

CONFIG_FILE = "rpctest.toml"
PYPROJECT_FILE = "pyproject.toml"

DEFAULT_CONTRACTS_DIR = "contracts"
DEFAULT_RECORD = False
DEFAULT_RECORD_MODE = "replace"
RECORD_MODES = ("replace", "merge")
#: what a recording writes: rpctest's own contract files, or Pact V4 files (``rpctest.contracts.pact``)
DEFAULT_RECORD_FORMAT = "rpctest"
RECORD_FORMATS = ("rpctest", "pact")
DEFAULT_STRICT = True
#: the largest contract file rpctest reads, in bytes: far above any real contract, far below what
#: would exhaust a CI job's memory once parsed
DEFAULT_MAX_CONTRACT_SIZE = 32 * 1024 * 1024

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class ServiceConfig:
    """One ``[tool.rpctest.services.NAME]`` table: which stack a service speaks and where it is."""

    name: str
    stack: str
    address: str | None = None
    provider: str | None = None
    match: Mapping[str, Any] | None = None
    expected_errors: Mapping[str, tuple[str | int, ...]] = field(default_factory=lambda: _EMPTY)
    #: modules holding the service's provider state handlers (``states = [...]``)
    states: tuple[str, ...] = ()
    #: what the CLI sends to this service besides requests (``rpctest.credentials``), as written:
    #: ``${VAR}`` is read from the environment only when a command reaches the service
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    token: str | None = None
    auth: str | None = None
    context: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    switches: tuple[int, ...] = ()


@dataclass(frozen=True)
class RpctestConfig:
    """The effective configuration; ``source`` is the file it came from (None: all defaults)."""

    consumer: str
    contracts_dir: Path
    record: bool
    strict: bool
    redis_url: str | None
    services: Mapping[str, ServiceConfig]
    source: Path | None
    root: Path
    record_mode: str = DEFAULT_RECORD_MODE
    record_format: str = DEFAULT_RECORD_FORMAT
    providers: tuple[Path, ...] = ()
    max_contract_size: int = DEFAULT_MAX_CONTRACT_SIZE

    def stack_for(self, service: str) -> str | None:
        """The configured stack of ``service``, or None so the caller can apply its own default."""
        entry = self.services.get(service)
        return entry.stack if entry is not None else None


# --------------------------------------------------------------------------------------------------
# finding and reading the file


@dataclass(frozen=True)
class _Found:
    """A configuration file and the rpctest table inside it (None when no file configures rpctest)."""

    path: Path | None
    table: Any
    prefix: tuple[str, ...]  # the dotted key of the table inside the file
    root: Path
    project_name: str | None


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse ``path``; a syntax error becomes a ConfigError naming the file and the line."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_display(path)}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{_display(path)}: cannot read: {exc.strerror or exc}") from None


def _project_name(data: Mapping[str, Any]) -> str | None:
    """``[project] name`` if it is a usable string (the default consumer name)."""
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return name if isinstance(name, str) and name else None


def _start_dir(start: Path | str | None) -> Path:
    """The directory to search from: cwd by default, a file's directory when given a file."""
    path = Path(start) if start is not None else Path.cwd()
    path = path.expanduser().absolute()
    return path.parent if path.is_file() else path


def _find(start: Path) -> _Found:
    """Walk up from ``start``: rpctest.toml wins over pyproject.toml in the same directory.

    A pyproject.toml without ``[tool.rpctest]`` does not stop the walk (as with pytest's ini
    files), but the nearest one still names the project, for the default consumer.
    """
    nearest_pyproject: tuple[Path, str | None] | None = None
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            name = nearest_pyproject[1] if nearest_pyproject else None
            if (directory / PYPROJECT_FILE).is_file():
                name = _project_name(_read_toml(directory / PYPROJECT_FILE))
            return _Found(candidate, _read_toml(candidate), (), directory, name)
        candidate = directory / PYPROJECT_FILE
        if candidate.is_file():
            data = _read_toml(candidate)
            tool = data.get("tool")
            if isinstance(tool, dict) and "rpctest" in tool:
                return _Found(candidate, tool["rpctest"], ("tool", "rpctest"), directory, _project_name(data))
            if nearest_pyproject is None:
                nearest_pyproject = (directory, _project_name(data))
    if nearest_pyproject is not None:
        return _Found(None, {}, (), nearest_pyproject[0], nearest_pyproject[1])
    return _Found(None, {}, (), start, None)


# --------------------------------------------------------------------------------------------------
# validation


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    from importlib.resources import files

    return files("rpctest").joinpath("schemas", "config.schema.json").read_text(encoding="utf-8")


def schema() -> dict[str, Any]:
    """The configuration's JSON Schema (a fresh copy: callers may modify it)."""
    return copy.deepcopy(_parsed_schema())


@functools.lru_cache(maxsize=1)
def _parsed_schema() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(_schema_text())
    return parsed


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    """The compiled validator; jsonschema is imported here, never at module import time."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_parsed_schema())


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _dotted(parts: Iterable[str | int]) -> str:
    """A TOML-style dotted key: ``tool.rpctest.services."a.b".stack``, list indices as ``[0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        key = part if _BARE_KEY.match(part) else json.dumps(part)
        out += f".{key}" if out else key
    return out or "(top level)"


def _error_lines(error: Any, prefix: tuple[str, ...]) -> list[str]:
    """One human line per problem; unknown keys are named with the allowed ones listed."""
    path = (*prefix, *error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(key for key in error.instance if key not in allowed)
        return [
            f"{_dotted((*path, key))}: unknown key {key!r}; allowed keys: {', '.join(allowed)}"
            for key in unknown
        ]
    return [f"{_dotted(path)}: {error.message}"]


def _validate(found: _Found) -> None:
    """Raise a ConfigError listing every schema violation, each with the file and dotted key."""
    errors = sorted(_validator().iter_errors(found.table), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return
    where = _display(found.path) if found.path is not None else "configuration"
    lines = [line for error in errors for line in _error_lines(error, found.prefix)]
    raise ConfigError("\n".join(f"{where}: {line}" for line in lines))


# --------------------------------------------------------------------------------------------------
# building the dataclasses


def _service(name: str, table: Mapping[str, Any]) -> ServiceConfig:
    expected = {op: tuple(codes) for op, codes in table.get("expected_errors", {}).items()}
    match = table.get("match")
    return ServiceConfig(
        name=name,
        stack=table["stack"],
        address=table.get("address"),
        provider=table.get("provider"),
        match=MappingProxyType(dict(match)) if match is not None else None,
        expected_errors=MappingProxyType(expected),
        states=tuple(table.get("states", ())),
        headers=MappingProxyType(dict(table.get("headers", {}))),
        token=table.get("token"),
        auth=table.get("auth"),
        context=MappingProxyType(dict(table.get("context", {}))),
        switches=tuple(table.get("switches", ())),
    )


def _build(found: _Found) -> RpctestConfig:
    table: Mapping[str, Any] = found.table
    contracts_dir = Path(table.get("contracts_dir", DEFAULT_CONTRACTS_DIR)).expanduser()
    providers = tuple(_rooted(found.root, Path(p).expanduser()) for p in table.get("providers", ()))
    services = {name: _service(name, entry) for name, entry in table.get("services", {}).items()}
    return RpctestConfig(
        consumer=table.get("consumer") or found.project_name or found.root.name,
        contracts_dir=contracts_dir if contracts_dir.is_absolute() else found.root / contracts_dir,
        record=table.get("record", DEFAULT_RECORD),
        record_mode=table.get("record_mode", DEFAULT_RECORD_MODE),
        record_format=table.get("record_format", DEFAULT_RECORD_FORMAT),
        providers=providers,
        max_contract_size=int(table.get("max_contract_size", DEFAULT_MAX_CONTRACT_SIZE)),  # a TOML 1.0 is an integer to JSON Schema
        strict=table.get("strict", DEFAULT_STRICT),
        redis_url=table.get("redis_url"),
        services=MappingProxyType(services),
        source=found.path,
        root=found.root,
    )


def _rooted(root: Path, path: Path) -> Path:
    return path if path.is_absolute() else root / path


def load(start: Path | str | None = None) -> RpctestConfig:
    """Find, validate and return the configuration that applies at ``start`` (default: cwd).

    Without any configuration file the defaults apply, so a project can use rpctest before it
    writes any configuration. Raises :class:`ConfigError` for a TOML syntax error or a bad value.
    """
    found = _find(_start_dir(start))
    if found.path is not None:
        _validate(found)
    return _build(found)


# --------------------------------------------------------------------------------------------------
# the process-wide configuration


#: the configuration in effect, with the working directory it was loaded for (a str: ``os.getcwd()``
#: is compared on every stubbed call of some stacks, and a Path costs more to build than the syscall)
_current: tuple[str | None, RpctestConfig] | None = None


def current() -> RpctestConfig:
    """The configuration in effect: the one the pytest plugin set, else loaded (once) from cwd.

    A loaded configuration is reloaded if the working directory changed since, so that a tool
    that changes directory does not use another project's settings.
    """
    global _current
    if _current is not None:
        cwd, cfg = _current
        if cwd is None or cwd == os.getcwd():
            return cfg
    cfg = load()
    _current = (os.getcwd(), cfg)
    return cfg


def set_current(cfg: RpctestConfig | None) -> None:
    """Pin the configuration ``current()`` returns (None forgets it and reloads on next use)."""
    global _current
    _current = (None, cfg) if cfg is not None else None


_OVERRIDE_TYPES: dict[str, type | tuple[type, ...]] = {
    "consumer": str,
    "contracts_dir": (str, os.PathLike),
    "record": bool,
    "record_mode": str,
    "record_format": str,
    "providers": (list, tuple),
    "max_contract_size": int,
    "strict": bool,
    "redis_url": str,
    "services": Mapping,
    "source": (str, os.PathLike),
    "root": (str, os.PathLike),
}


def merge(cfg: RpctestConfig, **overrides: Any) -> RpctestConfig:
    """``cfg`` with the non-None ``overrides`` applied: the command line and ini options win.

    Path values are taken as given (a relative path from the command line is relative to the
    working directory, as the user typed it).
    """
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in _OVERRIDE_TYPES:
            raise ConfigError(f"unknown rpctest setting {key!r}; known settings: {', '.join(_OVERRIDE_TYPES)}")
        if value is None:
            continue
        expected: Any = _OVERRIDE_TYPES[key]  # Any: isinstance against it must not narrow value to object
        if not isinstance(value, expected):
            raise ConfigError(f"rpctest setting {key}: {value!r} has the wrong type")
        if key == "max_contract_size" and (isinstance(value, bool) or value < 1):
            raise ConfigError(f"rpctest setting max_contract_size: {value!r} is not a positive number of bytes")
        if key == "record_mode" and value not in RECORD_MODES:
            raise ConfigError(f"rpctest setting record_mode: {value!r} is not one of {', '.join(RECORD_MODES)}")
        if key == "record_format" and value not in RECORD_FORMATS:
            raise ConfigError(f"rpctest setting record_format: {value!r} is not one of {', '.join(RECORD_FORMATS)}")
        if key in ("contracts_dir", "source", "root"):
            value = Path(value)
        elif key == "providers":
            value = tuple(Path(item) for item in value)
        elif key == "services":
            value = MappingProxyType(dict(value))
        changes[key] = value
    return dataclasses.replace(cfg, **changes) if changes else cfg


def _display(path: Path) -> str:
    """``path`` relative to cwd when it is below it (short messages), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
