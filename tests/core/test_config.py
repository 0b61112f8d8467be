"""rpctest.config: finding, validating and merging the [tool.rpctest] configuration."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rpctest import config
from rpctest.config import RpctestConfig, ServiceConfig
from rpctest.exceptions import ConfigError
from rpctest.stacks import STACKS

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def pyproject(tmp_path: Path, rpctest_table: str, project: str = 'name = "shop"') -> Path:
    return write(tmp_path / "pyproject.toml", f"[project]\n{project}\n\n{textwrap.dedent(rpctest_table)}")


def config_error(start: Path) -> str:
    with pytest.raises(ConfigError) as info:
        config.load(start)
    return str(info.value)


@pytest.fixture(autouse=True)
def _forget_current(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start each test unpinned, and give back whatever the pytest plugin had pinned afterwards."""
    monkeypatch.setattr(config, "_current", None)


# --------------------------------------------------------------------------------------------------
# valid configurations


def test_full_valid_config(tmp_path: Path) -> None:
    pyproject(
        tmp_path,
        """
        [tool.rpctest]
        consumer = "web-frontend"
        contracts_dir = "build/contracts"
        record = true
        strict = false
        redis_url = "redis://localhost:6379/0"

        [tool.rpctest.services.users]
        stack = "pysoa"
        provider = "users.server:UserServer"
        expected_errors = { get_user = ["NOT_FOUND", 404] }

        [tool.rpctest.services.orders]
        stack = "asyncapy"
        address = "tcp://127.0.0.1:1500"
        match = { list = { action = "^list$" } }
        """,
    )
    cfg = config.load(tmp_path)
    assert cfg.consumer == "web-frontend"
    assert cfg.contracts_dir == tmp_path / "build" / "contracts"
    assert cfg.record is True and cfg.strict is False
    assert cfg.redis_url == "redis://localhost:6379/0"
    assert cfg.source == tmp_path / "pyproject.toml" and cfg.root == tmp_path
    users = cfg.services["users"]
    assert users == ServiceConfig(
        name="users",
        stack="pysoa",
        provider="users.server:UserServer",
        expected_errors={"get_user": ("NOT_FOUND", 404)},
    )
    assert cfg.services["orders"].match == {"list": {"action": "^list$"}}
    assert cfg.services["orders"].address == "tcp://127.0.0.1:1500"
    assert cfg.stack_for("orders") == "asyncapy"
    assert cfg.stack_for("unknown") is None


def test_defaults_from_an_empty_table(tmp_path: Path) -> None:
    pyproject(tmp_path, "[tool.rpctest]\n")
    cfg = config.load(tmp_path)
    assert cfg.consumer == "shop"  # the [project] name
    assert cfg.contracts_dir == tmp_path / "contracts"
    assert (cfg.record, cfg.strict, cfg.redis_url, dict(cfg.services)) == (False, True, None, {})
    assert cfg.source == tmp_path / "pyproject.toml"


def test_no_config_file_gives_defaults(tmp_path: Path) -> None:
    project = tmp_path / "my-project"
    project.mkdir()
    cfg = config.load(project)
    assert cfg.source is None
    assert cfg.root == project
    assert cfg.consumer == "my-project"  # no pyproject: the directory name
    assert cfg.contracts_dir == project / "contracts"
    assert cfg.strict is True and cfg.record is False


def test_pyproject_without_table_names_the_consumer(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "billing"\n')
    cfg = config.load(tmp_path)
    assert cfg.source is None
    assert cfg.consumer == "billing"


def test_default_consumer_without_project_name_is_the_directory(tmp_path: Path) -> None:
    root = tmp_path / "svc"
    write(root / "pyproject.toml", "[tool.rpctest]\nrecord = true\n")
    assert config.load(root).consumer == "svc"


def test_walks_up_from_a_subdirectory_and_a_file(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.rpctest]\ncontracts_dir = "c"\n')
    nested = tmp_path / "tests" / "unit"
    nested.mkdir(parents=True)
    test_file = write(nested / "test_x.py", "")
    for start in (nested, test_file, str(nested)):
        cfg = config.load(start)
        assert cfg.source == tmp_path / "pyproject.toml"
        assert cfg.contracts_dir == tmp_path / "c"  # relative to the file, not to start


def test_pyproject_without_table_does_not_stop_the_walk(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.rpctest]\nconsumer = "outer"\n')
    write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "inner"\n')
    cfg = config.load(tmp_path / "sub")
    assert cfg.source == tmp_path / "pyproject.toml"
    assert cfg.consumer == "outer"


def test_rpctest_toml_wins_in_the_same_directory(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.rpctest]\nconsumer = "from-pyproject"\nrecord = true\n')
    write(tmp_path / "rpctest.toml", 'contracts_dir = "pacts"\n[services.users]\nstack = "pykern"\n')
    cfg = config.load(tmp_path)
    assert cfg.source == tmp_path / "rpctest.toml"
    assert cfg.consumer == "shop"  # not merged with [tool.rpctest]; [project] name still the default
    assert cfg.record is False
    assert cfg.contracts_dir == tmp_path / "pacts"
    assert cfg.stack_for("users") == "pykern"


def test_nearer_pyproject_wins_over_outer_rpctest_toml(tmp_path: Path) -> None:
    write(tmp_path / "rpctest.toml", 'consumer = "outer"\n')
    pyproject(tmp_path / "inner", '[tool.rpctest]\nconsumer = "inner"\n')
    assert config.load(tmp_path / "inner").consumer == "inner"


def test_absolute_contracts_dir_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    write(tmp_path / "rpctest.toml", f"contracts_dir = {str(target)!r}\n")
    assert config.load(tmp_path).contracts_dir == target


def test_repository_pyproject_loads_and_validates() -> None:
    # compared with the raw table, so that editing the repository's services does not break this test
    import tomllib

    table = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["rpctest"]
    cfg = config.load(REPO)
    assert cfg.source == REPO / "pyproject.toml"
    assert cfg.consumer == table.get("consumer", "rpctest")
    assert cfg.contracts_dir == REPO / table.get("contracts_dir", "contracts")
    assert set(cfg.services) == set(table.get("services", {}))
    for name, entry in table.get("services", {}).items():
        assert cfg.stack_for(name) == entry["stack"] in STACKS
        assert cfg.services[name].provider == entry.get("provider")


# --------------------------------------------------------------------------------------------------
# errors: each names the file and the dotted key


def test_bad_stack_names_file_key_and_choices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pyproject(tmp_path, '[tool.rpctest.services.users]\nstack = "pysao"\n')
    message = config_error(tmp_path)
    assert message == (
        "pyproject.toml: tool.rpctest.services.users.stack: 'pysao' is not one of "
        "['asyncapy', 'kyoukai', 'pykern', 'pysoa', 'zerojson']"
    )


def test_error_in_rpctest_toml_has_no_tool_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "project" / "rpctest.toml", 'record = "yes"\n')
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    tmp_path = tmp_path / "project"
    message = config_error(tmp_path)
    assert str(tmp_path / "rpctest.toml") in message  # outside cwd: the full path
    assert ": record: 'yes' is not of type 'boolean'" in message
    assert "tool.rpctest" not in message


def test_unknown_top_level_key_lists_allowed_keys(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.rpctest]\ncontract_dir = "c"\n')
    message = config_error(tmp_path)
    assert "pyproject.toml: tool.rpctest.contract_dir: unknown key 'contract_dir'" in message
    assert "allowed keys: consumer, contracts_dir, max_contract_size, providers, record, record_format, record_mode, redis_url, services, strict" in message


def test_unknown_service_key_lists_allowed_keys(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.rpctest.services.users]\nstack = "pysoa"\nadress = "x"\n')
    message = config_error(tmp_path)
    assert "tool.rpctest.services.users.adress: unknown key 'adress'" in message
    assert "allowed keys: address, auth, context, expected_errors, headers, match, provider, stack, states, switches, token" in message


def test_missing_stack(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.rpctest.services.users]\naddress = "x"\n')
    assert "tool.rpctest.services.users: 'stack' is a required property" in config_error(tmp_path)


def test_bad_provider_pattern(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.rpctest.services.users]\nstack = "pysoa"\nprovider = "users.server"\n')
    message = config_error(tmp_path)
    assert "tool.rpctest.services.users.provider: 'users.server' does not match" in message


def test_bad_expected_error_code_names_the_index(tmp_path: Path) -> None:
    pyproject(
        tmp_path,
        '[tool.rpctest.services.users]\nstack = "pysoa"\nexpected_errors = { get_user = ["INVALID", 1.5] }\n',
    )
    message = config_error(tmp_path)
    assert "tool.rpctest.services.users.expected_errors.get_user[1]: 1.5 is not of type" in message


def test_dotted_service_name_is_quoted(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.rpctest.services."org.shop.orders"]\nstack = "zmq"\n')
    assert 'tool.rpctest.services."org.shop.orders".stack:' in config_error(tmp_path)


def test_every_error_is_reported(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.rpctest]\nrecord = 1\nstrict = "no"\n')
    lines = config_error(tmp_path).splitlines()
    assert len(lines) == 2
    assert any("tool.rpctest.record:" in line for line in lines)
    assert any("tool.rpctest.strict:" in line for line in lines)


def test_table_that_is_not_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool]\nrpctest = 3\n")
    assert "tool.rpctest: 3 is not of type 'object'" in config_error(tmp_path)


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.rpctest]\nconsumer = \n')
    message = config_error(tmp_path)
    assert "pyproject.toml: invalid TOML:" in message
    assert "line 4" in message


def test_toml_syntax_error_in_rpctest_toml(tmp_path: Path) -> None:
    write(tmp_path / "rpctest.toml", "strict = true\nstrict = false\n")
    message = config_error(tmp_path)
    assert "rpctest.toml: invalid TOML:" in message and "line 2" in message


# --------------------------------------------------------------------------------------------------
# merge, current, schema


def _base(tmp_path: Path) -> RpctestConfig:
    pyproject(tmp_path, '[tool.rpctest]\nconsumer = "c"\n')
    return config.load(tmp_path)


def test_merge_applies_non_none_overrides(tmp_path: Path) -> None:
    cfg = _base(tmp_path)
    merged = config.merge(cfg, record=True, strict=None, contracts_dir="out", consumer=None)
    assert merged.record is True
    assert merged.strict is True  # None: not overridden
    assert merged.consumer == "c"
    assert merged.contracts_dir == Path("out")
    assert cfg.record is False  # the original is untouched


def test_merge_without_overrides_returns_the_same_config(tmp_path: Path) -> None:
    cfg = _base(tmp_path)
    assert config.merge(cfg, record=None) is cfg


def test_merge_rejects_unknown_keys_and_wrong_types(tmp_path: Path) -> None:
    cfg = _base(tmp_path)
    with pytest.raises(ConfigError, match="unknown rpctest setting 'recrod'"):
        config.merge(cfg, recrod=True)
    with pytest.raises(ConfigError, match="record"):
        config.merge(cfg, record="yes")


def test_current_loads_from_cwd_and_set_current_pins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = tmp_path / "a"
    pyproject(first, '[tool.rpctest]\nconsumer = "a"\n')
    monkeypatch.chdir(first)
    loaded = config.current()
    assert loaded.consumer == "a"
    assert config.current() is loaded  # cached

    pinned = config.merge(loaded, consumer="pinned")
    config.set_current(pinned)
    monkeypatch.chdir(tmp_path)
    assert config.current() is pinned  # what the plugin set wins regardless of cwd

    config.set_current(None)
    assert config.current().consumer == tmp_path.name  # reloaded from the new cwd


def test_current_reloads_when_cwd_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pyproject(tmp_path / "a", '[tool.rpctest]\nconsumer = "a"\n')
    pyproject(tmp_path / "b", '[tool.rpctest]\nconsumer = "b"\n')
    monkeypatch.chdir(tmp_path / "a")
    assert config.current().consumer == "a"
    monkeypatch.chdir(tmp_path / "b")
    assert config.current().consumer == "b"


def test_schema_is_valid_draft_2020_12_and_documented() -> None:
    from jsonschema import Draft202012Validator

    data = config.schema()
    Draft202012Validator.check_schema(data)
    assert data["$id"] == "https://rpctest.invalid/schemas/config.schema.json"
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    service = data["$defs"]["service"]
    assert service["properties"]["stack"]["enum"] == sorted(STACKS)
    for properties in (data["properties"], service["properties"]):
        for name, prop in properties.items():
            assert prop.get("title") and prop.get("description"), name
    data["title"] = "changed"
    assert config.schema()["title"] != "changed"  # callers get a copy


def test_schema_defaults_match_the_loader(tmp_path: Path) -> None:
    props = config.schema()["properties"]
    cfg = config.load(tmp_path)
    assert cfg.contracts_dir == cfg.root / props["contracts_dir"]["default"]
    assert cfg.record is props["record"]["default"]
    assert cfg.strict is props["strict"]["default"]


def test_import_does_not_import_jsonschema() -> None:
    code = "import sys, rpctest.config; print('jsonschema' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
