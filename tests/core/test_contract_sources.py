"""Contracts from other repositories: ``git+URL@REF#PATH`` (a real git repository made by the test,
fetched with the real git into the cache), ``git:REF:PATH`` directories, for verify, serve and diff."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from rpctest.cli import main
from rpctest.contracts.gitsource import GitSpec, parse_git_spec
from rpctest.contracts.sources import cache_dir, load_sources
from rpctest.exceptions import ConfigError
from served_calc import served_add

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = "contracts/consumers/rpctest-examples--pysoa--users.json"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, check=True,
                          capture_output=True, text=True, timeout=30)
    return done.stdout.strip()


@pytest.fixture()
def consumer_repo(tmp_path: Path) -> Path:
    """Another team's repository: the examples' consumer and provider contracts on main, tagged v1."""
    repo = tmp_path / "web"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    shutil.copytree(ROOT / "contracts", repo / "contracts", ignore=shutil.ignore_patterns("*.md"))
    (repo / "package.json").write_text('{"not": "a contract"}')  # outside PATH: never read
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "v1")
    _git(repo, "tag", "v1")
    return repo


def _break_consumer(repo: Path) -> None:
    """Commit a consumer contract whose stubbed body breaks the provider's response schema."""
    path = repo / CONSUMER
    data = json.loads(path.read_text())
    for item in data["interactions"]:
        if item["operation"] == "get_user" and "body" in item["response"]:
            item["response"]["body"]["user"]["id"] = "one"
    path.write_text(json.dumps(data, indent=2))
    _git(repo, "commit", "-qam", "a broken consumer")


def test_verify_reads_contracts_at_a_branch_of_another_repository(consumer_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = f"git+file://{consumer_repo}@main#contracts"
    assert main(["contracts", "verify", source]) == 0
    assert "0 finding(s) in 19 interaction(s) of 5 consumer contract(s) against 5 provider contract(s)" in capsys.readouterr().out
    # fetched into the cache (a bare repository keyed by the URL), nothing written to the working tree
    assert list((cache_dir() / "git").glob("*/repo.git/HEAD"))
    # a branch moves: the next use fetches it again and sees the new commit
    _break_consumer(consumer_repo)
    assert main(["contracts", "verify", source]) == 1
    out = capsys.readouterr().out
    # the finding names the file as the other repository names it, not the cache's copy
    assert f"ERROR [response_schema] {CONSUMER} interaction #" in out
    assert str(cache_dir()) not in out


def test_a_tag_and_a_commit_id_are_read_from_the_cache_once_fetched(consumer_repo: Path, tmp_path: Path) -> None:
    commit = _git(consumer_repo, "rev-parse", "HEAD")
    tagged = load_sources([f"git+file://{consumer_repo}@v1#contracts/consumers"])
    by_commit = load_sources([f"git+file://{consumer_repo}@{commit}#contracts/consumers"])
    assert [c.path for c in tagged] == [c.path for c in by_commit]
    assert [str(c.path) for c in tagged][0].startswith("contracts/consumers/rpctest-examples--")
    assert [c.path for c in load_sources([f"git+file://{consumer_repo}#contracts/consumers"])] == [c.path for c in tagged]  # HEAD
    shutil.move(str(consumer_repo), str(tmp_path / "gone"))  # the remote is gone: tags and commits need no fetch
    assert len(load_sources([f"git+file://{consumer_repo}@v1#contracts/consumers"])) == 5
    assert len(load_sources([f"git+file://{consumer_repo}@{commit[:12]}#contracts/consumers"])) == 5


def test_concurrent_reads_of_one_repository_take_turns(consumer_repo: Path) -> None:
    """Two jobs fetching one URL at once (pytest -n 2, parallel CI steps) both get the files: git would
    refuse the second writer of a ref ("cannot lock ref") rather than wait."""
    from concurrent.futures import ThreadPoolExecutor

    source = f"git+file://{consumer_repo}@main#contracts/consumers"
    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(lambda _: len(load_sources([source])), range(4)))
    assert counts == [5, 5, 5, 5]


def test_a_branch_fetched_before_is_used_offline_with_a_warning(consumer_repo: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    source = f"git+file://{consumer_repo}@main#contracts"
    assert main(["contracts", "verify", source]) == 0
    capsys.readouterr()
    shutil.move(str(consumer_repo), str(tmp_path / "offline"))
    assert main(["contracts", "verify", source]) == 0
    err = capsys.readouterr().err
    assert f"rpctest: warning: cannot reach file://{consumer_repo} (" in err
    assert "using main as fetched at " in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("git+file://{repo}@nope#contracts", "file://{repo} has no branch or tag 'nope'; it has main, v1"),
        ("git+file://{repo}@main#missing", "cannot read git+file://{repo}@main#missing: fatal: path 'missing' does not exist in"),
        ("git+file://{repo}@main", "name the contracts' path in the repository after '#'"),
        ("git+file://{repo}/nowhere@main#contracts", "cannot reach file://{repo}/nowhere ("),
        ("git+file://{repo}@0123456789abcdef0123456789abcdef01234567#contracts", "has no commit 0123456789abcdef"),
    ],
)
def test_bad_urls_refs_and_paths_are_usage_errors(spec: str, message: str, consumer_repo: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "verify", spec.format(repo=consumer_repo)]) == 2
    err = capsys.readouterr().err
    assert "rpctest: error: " in err and message.format(repo=consumer_repo) in err, err
    assert "Traceback" not in err


def test_a_bad_file_in_another_repository_is_named_as_that_repository_names_it(consumer_repo: Path,
                                                                              capsys: pytest.CaptureFixture[str]) -> None:
    (consumer_repo / CONSUMER).write_text('{"rpctest_contract": 2, "kind": "consumer"')
    _git(consumer_repo, "commit", "-qam", "truncated")
    source = f"git+file://{consumer_repo}@main#contracts"
    assert main(["contracts", "verify", source]) == 2
    err = capsys.readouterr().err
    assert f"rpctest: error: {CONSUMER}: " in err and f"(from {source})" in err, err
    assert str(cache_dir()) not in err


@pytest.fixture()
def silent_server() -> Iterator[int]:
    """A TCP server that accepts and never answers: a remote that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in accepted:
        conn.close()
    server.close()


def test_a_remote_that_never_answers_times_out(silent_server: int, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RPCTEST_GIT_TIMEOUT", "1")
    started = time.monotonic()
    assert main(["contracts", "verify", f"git+http://127.0.0.1:{silent_server}/web.git@main#contracts"]) == 2
    assert time.monotonic() - started < 15
    err = capsys.readouterr().err
    assert f"cannot reach http://127.0.0.1:{silent_server}/web.git (no answer in 1 s)" in err, err


def test_a_token_in_the_url_is_never_shown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "verify", "git+https://ci:tok3n@127.0.0.1:9/web.git@main#contracts"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach https://ci:***@127.0.0.1:9/web.git (" in err, err
    assert "tok3n" not in err
    urls = [path.read_text() for path in (cache_dir() / "git").glob("*/url")]
    assert "https://ci:***@127.0.0.1:9/web.git\n" in urls and not any("tok3n" in url for url in urls)


def test_git_ref_path_names_a_directory_of_this_repository(consumer_repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(consumer_repo)
    _break_consumer(consumer_repo)
    assert main(["contracts", "verify", "git:v1:contracts"]) == 0
    assert main(["contracts", "verify", "git:HEAD:contracts"]) == 1
    assert f"ERROR [response_schema] {CONSUMER}" in capsys.readouterr().out


def test_diff_reads_old_and_the_consumers_from_another_repository(consumer_repo: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    provider = "contracts/providers/pysoa--users.json"
    new = json.loads((consumer_repo / provider).read_text())
    new["operations"]["get_user"]["errors"] = [*new["operations"]["get_user"].get("errors", []), "GONE"]
    (tmp_path / "new.json").write_text(json.dumps(new))
    url = f"git+file://{consumer_repo}@main"
    code = main(["contracts", "diff", f"{url}#{provider}", str(tmp_path / "new.json"), "--consumers", f"{url}#contracts/consumers"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "ERROR [error_code_added] pysoa:users operation 'get_user'" in out
    assert "(contracts/consumers/rpctest-examples--pysoa--users.json)" in out


def test_serve_answers_from_contracts_of_another_repository(consumer_repo: Path) -> None:
    """``rpctest serve`` (a real process) serves the other repository's recorded interactions."""
    assert served_add(f"git+file://{consumer_repo}@main#contracts/consumers") == {"status": "ok", "sum": 5}


@pytest.mark.parametrize(
    ("spec", "url", "ref", "path"),
    [
        ("git+https://github.com/org/web.git@main#contracts/consumers", "https://github.com/org/web.git", "main", "contracts/consumers"),
        ("git+https://github.com/org/web.git#contracts", "https://github.com/org/web.git", "HEAD", "contracts"),
        ("git+ssh://git@github.com/org/web.git@release/1.0#contracts/", "ssh://git@github.com/org/web.git", "release/1.0", "contracts"),
        ("git+ssh://git@github.com/org/web.git#contracts", "ssh://git@github.com/org/web.git", "HEAD", "contracts"),
        ("git+git@github.com:org/web.git@v2#c", "git@github.com:org/web.git", "v2", "c"),
        ("git+git@github.com:org/web.git#c", "git@github.com:org/web.git", "HEAD", "c"),
        ("git+file:///srv/git/web@3f2a9c1#c/x.json", "file:///srv/git/web", "3f2a9c1", "c/x.json"),
    ],
)
def test_git_plus_urls_are_split_into_url_ref_and_path(spec: str, url: str, ref: str, path: str) -> None:
    assert parse_git_spec(spec) == GitSpec(spec, url, ref, path)


def test_plain_paths_are_not_git_sources() -> None:
    assert parse_git_spec("contracts/consumers") is None
    with pytest.raises(ConfigError, match="a revision is written git:REF:PATH"):
        parse_git_spec("git:main")


def test_a_url_that_is_no_repository_gives_gits_reason_not_its_last_line(consumer_repo: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """git ends its complaint with "Please make sure you have the correct access rights / and the
    repository exists."; its last line alone read "(and the repository exists.)", saying the opposite of
    what was wrong. The message gives git's ``fatal:`` reason."""
    assert main(["contracts", "verify", f"git+file://{consumer_repo}/nowhere@main#contracts"]) == 2
    err = capsys.readouterr().err
    assert "does not appear to be a git repository" in err, err
    assert "and the repository exists" not in err, err
