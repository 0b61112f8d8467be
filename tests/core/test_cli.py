"""rpctest.cli: exit codes, --version, --help and the doctor subcommand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rpctest import cli, doctor
from rpctest._version import __version__
from rpctest.exceptions import ConfigError
from rpctest.stacks import STACKS


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"rpctest {__version__}\n"


def test_help_lists_doctor(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: rpctest")
    assert "doctor" in out
    assert "3 internal error" in out


def test_subcommand_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--help"]) == 0
    assert "--json" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["bogus"], "invalid choice: 'bogus'"),
        ([], "the following arguments are required: COMMAND"),
        (["doctor", "--jsn"], "unrecognized arguments: --jsn"),
        (["--nope", "doctor"], "unrecognized arguments: --nope"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert expected in captured.err
    assert "usage: rpctest" in captured.err
    assert captured.out == ""


def test_doctor_names_all_five_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["doctor"])
    out = capsys.readouterr().out
    assert out.startswith(f"rpctest {__version__} on Python ")
    stack_lines = [line.split()[0] for line in out.splitlines() if line and line.split()[0] in STACKS]
    assert stack_lines == list(STACKS)
    assert code == (1 if doctor.has_errors(doctor.diagnose()) else 0)


def test_doctor_json_parses(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["doctor", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert [s["stack"] for s in data["stacks"]] == list(STACKS)
    assert {s["status"] for s in data["stacks"]} <= {"usable", "missing", "broken"}
    assert data["environment"]["rpctest"] == __version__
    # the core session has no stack library; a development venv may have pysoa
    assert data["stacks"][0]["status"] == ("usable" if doctor.module_exists("pysoa") else "missing")
    assert code == 0  # nothing installed is broken


def _broken_kyoukai(*_args: object, **_kwargs: object) -> list[doctor.StackReport]:
    problem = doctor.Problem("pip picked Kyoukai 2.1.4", "reinstall", "error")
    return [
        doctor.StackReport("pysoa", "missing", {}, [doctor.Problem("not installed", "x", "error")]),
        doctor.StackReport("kyoukai", "broken", {"Kyoukai": "2.1.4"}, [problem]),
    ]


def test_doctor_exits_1_when_an_installed_stack_is_broken(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(doctor, "diagnose", _broken_kyoukai)
    assert cli.main(["doctor"]) == 1
    assert "error: pip picked Kyoukai 2.1.4" in capsys.readouterr().out


def test_doctor_exits_0_when_only_missing_stacks_have_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(doctor, "diagnose", lambda: _broken_kyoukai()[:1])
    assert cli.main(["doctor", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stacks"][0]["status"] == "missing"


def test_config_error_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def boom() -> None:
        raise ConfigError("pyproject.toml: tool.rpctest.record: 'yes' is not of type 'boolean'")

    monkeypatch.setattr(doctor, "diagnose", boom)
    assert cli.main(["doctor"]) == 2
    err = capsys.readouterr().err
    assert err == "rpctest: error: pyproject.toml: tool.rpctest.record: 'yes' is not of type 'boolean'\n"


def test_unexpected_exception_exits_3(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def boom() -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(doctor, "diagnose", boom)
    assert cli.main(["doctor"]) == 3
    err = capsys.readouterr().err
    assert "rpctest: internal error: KeyError: 'surprise'" in err
    assert "please report it" in err
    assert "Traceback" in err


def test_commands_plug_in_as_small_functions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_COMMANDS", list(cli._COMMANDS))

    @cli.command
    def _register_hello(subparsers) -> None:
        parser = subparsers.add_parser("hello", help="say hello")
        parser.add_argument("name")
        parser.set_defaults(handler=lambda args: print(f"hello {args.name}") or 0)

    assert cli.main(["hello", "ann"]) == 0
    assert capsys.readouterr().out == "hello ann\n"


def test_import_is_cheap() -> None:
    code = (
        "import sys, rpctest.cli; "
        "print(sorted(m for m in ('jsonschema', 'rpctest.doctor', 'rpctest.config', 'pysoa', 'json')"
        " if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_installed_console_script_version() -> None:
    script = Path(sys.executable).with_name("rpctest")
    assert script.is_file(), f"console script missing next to {sys.executable}"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"rpctest {__version__}\n"


def test_openapi_export_is_for_http_stacks_and_says_so() -> None:
    from rpctest.contracts.format import ProviderContract

    with pytest.raises(Exception, match="--format openapi is for HTTP stacks \\(kyoukai\\); zerojson has no OpenAPI form"):
        cli._write_openapi(ProviderContract("zerojson", "shop", {}), None)


def test_the_framing_probe_is_json_or_a_recorded_request() -> None:
    """--probe: JSON is the request of the first operation; a consumer contract gives its first recorded
    request of the earliest operation in the list (what rpctest serve answers)."""
    consumer = str(Path(__file__).resolve().parents[2] / "contracts/consumers/rpctest-examples--asyncapy--calc.json")
    assert cli._probe_request('{"action": "add", "a": 2}', ["add", "divide"]) == ("add", {"action": "add", "a": 2})
    assert cli._probe_request(consumer, ["divide", "add"]) == ("divide", {"a": 10, "action": "divide", "b": 0})
    assert cli._probe_request(consumer, ["echo", "add"]) == ("add", {"a": 2, "action": "add", "b": 3})
    with pytest.raises(ConfigError, match="--probe takes a JSON request or a consumer contract file"):
        cli._probe_request("{not json", ["add"])
    with pytest.raises(ConfigError, match="no recorded request of echo"):
        cli._probe_request(consumer, ["echo"])


@pytest.mark.parametrize("flag", ["-q", "--verbose"])
def test_quiet_or_verbose_after_the_command_says_where_it_goes(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``rpctest contracts verify -q`` answered only "unrecognized arguments: -q": the options that apply
    to every command go before it, and the error says so with the command line that works."""
    from rpctest.cli import main

    assert main(["contracts", "verify", "contracts", flag]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments" in err
    assert f"rpctest: {flag} goes before the command: rpctest {flag} contracts verify contracts" in err, err
