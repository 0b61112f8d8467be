"""The neutral credentials: what the command line and ``[tool.rpctest.services]`` give, ``${VAR}``
read from the environment, secrets masked, and a part a stack has no place for refused by name."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from rpctest import config, credentials
from rpctest.cli import main
from rpctest.credentials import Credentials, from_options, from_service, interpolate, redact
from rpctest.exceptions import ConfigError


@pytest.fixture(autouse=True)
def _secrets_of_this_test_only() -> Iterator[None]:
    """The process-wide set of secrets to mask is left as each test found it ("application/json"
    masked in a later test's output would be this module's doing)."""
    before = set(credentials._SECRETS)
    yield
    credentials._SECRETS.clear()
    credentials._SECRETS.update(before)


def test_command_line_values_are_parsed() -> None:
    found = from_options(
        headers=["X-Api-Key: k-1234", "Accept:application/json"], token="tok-5678", auth="ci:pa:ss-word",
        context=["user_id=42", "locale=en_US", 'roles=["admin"]', "switches=3,4"], switches=[5, 3],
    )
    assert found.headers == (("X-Api-Key", "k-1234"), ("Accept", "application/json"))
    assert found.token == "tok-5678" and found.basic == ("ci", "pa:ss-word")  # a password may hold colons
    assert dict(found.context) == {"user_id": 42, "locale": "en_US", "roles": ["admin"]}
    assert found.switches == (5, 3, 4)
    assert found.given() == ["header", "token", "auth", "context", "switch"]
    assert not Credentials() and Credentials().given() == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"headers": ["no colon"]}, "--header: give NAME:VALUE"),
    ({"headers": ["Bad Name: x"]}, "'Bad Name' is not a header name"),
    ({"auth": "nocolon"}, "--auth: give USER:PASSWORD"),
    ({"auth": ":pw"}, "--auth: give USER:PASSWORD"),
    ({"context": ["novalue"]}, "--context: give KEY=VALUE"),
    ({"context": ["switches=1,x"]}, "a PySOA switch is a whole number, not 'x'"),
])
def test_bad_values_say_what_to_write(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_options(**kwargs)  # type: ignore[arg-type]


def test_the_command_line_wins_over_the_configuration() -> None:
    base = Credentials(headers=(("x-api-key", "from-file"), ("X-Tenant", "t1")), token="file-token",
                       context={"user_id": 1, "locale": "de"}, switches=(1,))
    merged = from_options(headers=["X-Api-Key: from-cli"], context=["user_id=2"], switches=[2]).over(base)
    assert merged.header_map() == {"X-Api-Key": "from-cli", "X-Tenant": "t1"}  # header names are case-insensitive
    assert merged.token == "file-token" and dict(merged.context) == {"user_id": 2, "locale": "de"}
    assert merged.switches == (1, 2)


def test_environment_variables_are_interpolated_and_an_unset_one_is_named() -> None:
    env = {"API_KEY": "k-9", "USER": "ci"}
    assert interpolate("Bearer ${API_KEY}", where="x", environ=env) == "Bearer k-9"
    assert interpolate("$${API_KEY} costs $$5", where="x", environ=env) == "${API_KEY} costs $5"
    with pytest.raises(ConfigError, match=r"headers.X-Key: the environment variable MISSING_KEY is not set \(named as \$\{MISSING_KEY\}\)"):
        interpolate("${MISSING_KEY}", where="headers.X-Key", environ=env)
    with pytest.raises(ConfigError, match="not an environment variable name"):
        interpolate("${1BAD}", where="token", environ=env)


def test_a_service_entry_becomes_credentials(tmp_path: Path) -> None:
    (tmp_path / "rpctest.toml").write_text(
        '[services.vault]\nstack = "kyoukai"\naddress = "http://127.0.0.1:9"\ntoken = "${VAULT_TOKEN}"\n'
        'auth = "ci:${VAULT_PASSWORD}"\nswitches = [7]\n'
        '[services.vault.headers]\nX-Api-Key = "${VAULT_KEY}"\n'
        '[services.vault.context]\nuser_id = 42\nregion = "${REGION}"\nswitches = [8]\n',
        encoding="utf-8",
    )
    entry = config.load(tmp_path).services["vault"]
    assert entry.token == "${VAULT_TOKEN}"  # read as written: the environment is read when a command needs it
    env = {"VAULT_TOKEN": "t-1111", "VAULT_PASSWORD": "p-2222", "VAULT_KEY": "k-3333", "REGION": "eu"}
    found = from_service(entry, environ=env)
    assert found.token == "t-1111" and found.basic == ("ci", "p-2222") and found.header_map() == {"X-Api-Key": "k-3333"}
    assert dict(found.context) == {"user_id": 42, "region": "eu"} and found.switches == (7, 8)
    with pytest.raises(ConfigError, match=r"\[tool.rpctest.services.vault\] token: the environment variable VAULT_TOKEN is not set"):
        from_service(entry, environ={k: v for k, v in env.items() if k != "VAULT_TOKEN"})
    # a value the command line replaces needs no variable
    given = from_options(token="cli-token-1", auth="ci:cli-pass-2", headers=["x-api-key: cli-key-3"])
    assert given.over(from_service(entry, environ={"REGION": "us"}, over=given)).header_map() == {"x-api-key": "cli-key-3"}


def test_the_schema_refuses_a_bad_entry(tmp_path: Path) -> None:
    (tmp_path / "rpctest.toml").write_text(
        '[services.vault]\nstack = "kyoukai"\nswitches = ["one"]\n[services.vault.headers]\n"Bad Name" = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path)
    assert "services.vault.switches[0]" in str(caught.value) and "Bad Name" in str(caught.value)


def test_secrets_are_masked_wherever_they_are_printed() -> None:
    found = from_options(headers=["X-Api-Key: key-abcdef"], token="token-123456", auth="ci:pass-7890", context=["user_id=4242"])
    encoded = base64.b64encode(b"ci:pass-7890").decode()
    text = f"sent key-abcdef, token-123456 and Basic {encoded}; user 4242"
    assert redact(text) == f"sent {credentials.MASK}, {credentials.MASK} and Basic {credentials.MASK}; user 4242"
    assert "token-123456" not in repr(found) and "key-abcdef" not in repr(found) and "user_id=4242" in repr(found)
    short = from_options(token="ab")  # too short to mask without garbling every report
    assert short.token == "ab" and redact("ab cd") == "ab cd"


def test_a_part_a_stack_cannot_send_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    """No stack library is needed to say so: the adapter declares what it takes."""
    code = main(["fuzz", "--stack", "asyncapy", "--address", "tcp://127.0.0.1:9", "--token", "tok-asyncapy-1"])
    err = capsys.readouterr().err
    assert code == 2 and "--token: AsyncAPY / AsyncAProto has no place for it" in err and "tok-asyncapy-1" not in err
    code = main(["contracts", "verify", "--live", "--stack", "pysoa", "--address", "redis://127.0.0.1:9/0#service.x",
                 "--header", "X-A: 1", "--auth", "u:p"])
    err = capsys.readouterr().err
    assert code == 2 and "--header, --auth: PySOA has no place for it" in err and "it takes --context KEY=VALUE, --switch N" in err


def test_exporting_from_code_calls_nothing_so_credentials_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "export", "--stack", "pykern", "--provider", "x.y:Z", "--token", "tok-provider-1"]) == 2
    assert "exporting from --provider reads its declarations and calls nothing" in capsys.readouterr().err


def test_every_command_that_reaches_a_target_takes_them(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["fuzz"], ["contracts", "verify"], ["contracts", "export"], ["contracts", "diff"], ["replay"]):
        assert main([*command, "--help"]) == 0
        out = capsys.readouterr().out
        assert all(option in out for option in ("--header NAME:VALUE", "--token VALUE", "--auth USER:PASSWORD",
                                                "--context KEY=VALUE", "--switch N")), command


@pytest.mark.parametrize("text", ['user={"id": 42', "roles=[admin]", 'who="alice'])
def test_context_that_looks_like_json_but_does_not_parse_is_refused(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``--context user={"id": 42`` (a brace lost to the shell) used to be sent as the text '{"id": 42',
    silently; a VALUE that starts as JSON does must parse as JSON, and the error says where it breaks."""
    code = main(["fuzz", "--stack", "pysoa", "--address", "redis://127.0.0.1:9/0#service.x", "--context", text])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--context" in err and "is not valid JSON" in err and "column" in err, err
    assert "Traceback" not in err


def test_context_text_values_stay_text() -> None:
    assert credentials.parse_context("locale=en_US") == ("locale", "en_US")
    assert credentials.parse_context("switches=1,2") == ("switches", "1,2")
    assert credentials.parse_context("user_id=42") == ("user_id", 42)
    assert credentials.parse_context('roles=["admin"]') == ("roles", ["admin"])


@pytest.mark.parametrize(("value", "says"), [("a\nb", "a line break"), ("caf\u00e9", "outside printable ASCII"),
                                             ("a\x00b", "a control character")])
def test_a_header_value_http_cannot_carry_is_refused_where_it_is_given(value: str, says: str) -> None:
    """A newline in ``--header`` failed every fuzz case as a TRANSPORT error (209 failures, exit 1), and
    a non-ASCII value crashed with a UnicodeEncodeError (exit 3): both are refused as they are parsed."""
    with pytest.raises(ConfigError) as raised:
        from_options(headers=[f"X-Api-Key: {value}"])
    assert str(raised.value).startswith("--header X-Api-Key: ") and says in str(raised.value)
    assert "base64" in str(raised.value)


def test_a_configured_header_value_is_checked_after_interpolation() -> None:
    entry = config.ServiceConfig(name="shop", stack="kyoukai", headers={"X-Api-Key": "${KEY}"})
    with pytest.raises(ConfigError, match=r"\[tool.rpctest.services.shop\] headers.X-Api-Key: .*a line break"):
        from_service(entry, environ={"KEY": "one\r\ntwo"})
    assert from_service(entry, environ={"KEY": "ok-123"}).headers == (("X-Api-Key", "ok-123"),)


def test_the_header_hint_quotes_as_a_shell_expands() -> None:
    """The hint read 'X-Api-Key: ${API_KEY}' (single quotes): copied, it sent the text ${API_KEY}, since
    rpctest reads ${VAR} only in the configuration file; it shows the shell's double quotes."""
    with pytest.raises(ConfigError) as raised:
        from_options(headers=["NoColon"])
    assert "\"X-Api-Key: $API_KEY\"" in str(raised.value) and "${" not in str(raised.value)
