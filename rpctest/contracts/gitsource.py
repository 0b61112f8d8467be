"""Contract files at a revision of a git repository: this one (``git:REF:PATH``) or another one
(``git+URL@REF#PATH``), read with the real ``git`` and written as plain files the loader reads.

**Why files on disk.** Every command reads contracts with ``format.load_many`` (size limits, strict
JSON, the recording journal). Rather than a second reader for blobs, the files of ``REV:PATH`` are
written into the user's cache under the id of the git object they come from (``trees/OID``): the
same tree is the same directory, whatever repository or ref named it, and is written once.

**Another repository** is fetched into a bare repository of its own in the cache, keyed by its URL,
so nothing of the checkout a command runs in is touched. A branch is fetched again on every use (it
moves); a tag fetched before, or a commit already in the cache, is used without asking the remote.
When the remote cannot be reached, a branch fetched before is used, with a warning naming when. Every
git process has a timeout and runs in its own process group, so a stalled remote (and git's helper
processes under it) is ended rather than left to hang the command; git never prompts for a password.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from rpctest.exceptions import ConfigError

__all__ = ["GitSpec", "parse_git_spec", "redact", "GIT_TIMEOUT", "FETCH_TIMEOUT", "materialise", "fetch_timeout"]

#: seconds for a git command on a local repository
GIT_TIMEOUT = 30.0
#: seconds for a git command that talks to a remote (``RPCTEST_GIT_TIMEOUT`` overrides it)
FETCH_TIMEOUT = 120.0
#: where a fetched repository's refs are kept in its cache, apart from anything git itself names
_HEADS, _TAGS, _OTHER = "refs/rpctest/heads/", "refs/rpctest/tags/", "refs/rpctest/other/"
_HEX = re.compile(r"[0-9a-f]{7,64}")
#: modes of a blob that is a file (not a symlink 120000, not a submodule 160000)
_FILE_MODES = ("100644", "100755")


@dataclass(frozen=True)
class GitSpec:
    """A path at a revision: ``url`` None for the repository of the working directory."""

    spec: str
    url: str | None
    ref: str
    path: str

    @property
    def shown(self) -> str:
        """The spec as messages show it: a password or token in the URL replaced by ``***``."""
        return redact(self.spec)

    @property
    def shown_url(self) -> str:
        return redact(self.url or "")


def redact(text: str) -> str:
    """``text`` with the secret of any ``scheme://user:secret@host`` (a CI token) replaced by ``***``."""
    return re.sub(r"(://[^/@:\s]*:)[^/@\s]+@", r"\1***@", text)


def parse_git_spec(spec: str) -> GitSpec | None:
    """The git source ``spec`` names, or None when it is not one (a plain path)."""
    if spec.startswith("git+"):
        return _parse_remote(spec)
    if spec.startswith("git:"):
        ref, sep, path = spec[4:].partition(":")
        if not sep or not ref or not path:
            raise ConfigError(f"{spec!r}: a revision is written git:REF:PATH (e.g. git:origin/main:contracts/providers/X.json)")
        return GitSpec(spec, None, ref, path)
    return None


def _parse_remote(spec: str) -> GitSpec:
    """``git+URL@REF#PATH``: REF after the last ``@`` that follows the URL's own (``git@host``)."""
    form = "git+URL@REF#PATH (e.g. git+https://github.com/org/web.git@main#contracts/consumers)"
    location, sep, path = spec[4:].partition("#")
    path = path.strip("/")
    if not sep or not path:
        raise ConfigError(f"{redact(spec)!r}: name the contracts' path in the repository after '#': {form}")
    url, ref = location, "HEAD"
    head, at, tail = location.rpartition("@")
    if at and tail and _is_repository_url(head):
        url, ref = head, tail
    if not url:
        raise ConfigError(f"{redact(spec)!r}: no repository URL: {form}")
    return GitSpec(spec, url, ref, path)


def _is_repository_url(text: str) -> bool:
    """Whether ``text`` is a whole repository URL (and not ``ssh://git`` cut at ``git@host``)."""
    if "://" in text:
        rest = text.split("://", 1)[1]
        return "/" in rest.strip("/") or text.startswith("file://")
    if re.match(r"^[\w.-]+@[\w.-]+:", text) or re.match(r"^[\w.-]+:[^/]", text):  # scp-like host:path
        return True
    return text.startswith(("/", ".", "~")) or os.sep in text


def fetch_timeout() -> float:
    """Seconds a command talking to a remote may take: ``RPCTEST_GIT_TIMEOUT``, else the default."""
    raw = os.environ.get("RPCTEST_GIT_TIMEOUT")
    if not raw:
        return FETCH_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"RPCTEST_GIT_TIMEOUT={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"RPCTEST_GIT_TIMEOUT={raw!r} must be more than 0 seconds")
    return value


def materialise(spec: GitSpec, cache: Path, *, cwd: Path | str | None = None, timeout: float | None = None,
                warn: Callable[[str], None] | None = None) -> Path:
    """The files of ``spec`` on disk: a file for a blob, a directory (its ``*.json`` files, recursively)
    for a tree."""
    if spec.url is None:
        return _extract(_Git(cwd=cwd), spec, spec.ref, cache)
    git, commit = _fetched(spec, cache, timeout if timeout is not None else fetch_timeout(), warn or _stderr)
    return _extract(git, spec, commit, cache)


def _stderr(message: str) -> None:
    print(f"rpctest: warning: {message}", file=sys.stderr)


# -- running git ---------------------------------------------------------------------------------------

class _GitFailed(Exception):
    """git failed; ``reason`` is the line of its stderr that says why: its first ``fatal:``/``error:``
    line (git often ends with advice, such as "and the repository exists.", that alone misleads), else
    its last line."""

    def __init__(self, stderr: str, timed_out: float | None = None) -> None:
        lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
        said = [line for line in lines if line.startswith(("fatal:", "error:"))]
        self.reason = (said or lines or ["git failed"])[0 if said else -1]
        self.timed_out = timed_out
        super().__init__(self.reason)


@dataclass(frozen=True)
class _Git:
    """git in a working directory (``cwd``) or on a bare repository (``git_dir``)."""

    cwd: Path | str | None = None
    git_dir: Path | None = None

    def run(self, *args: str, timeout: float = GIT_TIMEOUT, stdin: bytes | None = None) -> bytes:
        prefix = ["git", f"--git-dir={self.git_dir}"] if self.git_dir is not None else ["git"]
        return run_git([*prefix, *args], cwd=self.cwd, timeout=timeout, stdin=stdin)


def run_git(argv: Sequence[str], *, cwd: Path | str | None, timeout: float, stdin: bytes | None = None) -> bytes:
    """Run git; its output, or :class:`_GitFailed`. On a timeout the whole process group is killed
    (``git fetch`` runs ``git-remote-https`` and ``ssh`` under it)."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GCM_INTERACTIVE="never", LC_ALL="C")
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    try:
        process = subprocess.Popen(list(argv), cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True)
    except FileNotFoundError:
        raise ConfigError("reading contracts from git needs git on PATH (apt-get install git)") from None
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise _GitFailed("", timed_out=timeout) from None
    if process.returncode != 0:
        raise _GitFailed(err.decode("utf-8", "replace"))
    return out


# -- a revision's files --------------------------------------------------------------------------------

def _extract(git: _Git, spec: GitSpec, rev: str, cache: Path) -> Path:
    """Write the blob or tree ``rev:path`` into ``cache/trees`` (once per object id); its path."""
    hint = (
        "(PATH is from the repository's root; fetch the ref first in a shallow CI checkout)" if spec.url is None
        else f"(PATH is from the root of {spec.shown_url})"
    )
    try:
        kind = git.run("cat-file", "-t", f"{rev}:{spec.path}").decode().strip()
        oid = git.run("rev-parse", "--verify", "--end-of-options", f"{rev}:{spec.path}").decode().strip()
    except _GitFailed as exc:
        problem = f"no answer in {exc.timed_out:.0f} s" if exc.timed_out else exc.reason
        raise ConfigError(f"cannot read {spec.shown}: {problem} {hint}") from None
    target = cache / "trees" / oid
    name = Path(spec.path).name
    if kind == "blob":
        done = target / name
        if not done.is_file():
            _publish(target, {name: git.run("cat-file", "blob", oid)})
        return done
    if kind != "tree":
        raise ConfigError(f"cannot read {spec.shown}: {spec.path} is a {kind}, not a file or directory")
    if not target.is_dir():
        _publish(target, _tree_files(git, oid))
    return target


def _tree_files(git: _Git, tree: str) -> dict[str, bytes]:
    """The ``*.json`` files of ``tree`` (recursively), by path inside it: what the loader reads."""
    listing = git.run("ls-tree", "-r", "-z", "--full-tree", tree).split(b"\0")
    wanted: dict[str, str] = {}
    for entry in listing:
        if not entry:
            continue
        meta, _, name = entry.decode("utf-8", "surrogateescape").partition("\t")
        mode, kind, oid = meta.split()
        if kind == "blob" and mode in _FILE_MODES and name.endswith(".json") and ".." not in Path(name).parts:
            wanted[name] = oid
    if not wanted:
        return {}
    batch = git.run("cat-file", "--batch", stdin="".join(f"{oid}\n" for oid in wanted.values()).encode())
    files, offset = {}, 0
    for name in wanted:
        header_end = batch.index(b"\n", offset)
        size = int(batch[offset:header_end].split()[2])
        files[name] = batch[header_end + 1:header_end + 1 + size]
        offset = header_end + 1 + size + 1
    return files


def _publish(target: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into ``target`` as one step: a staged directory renamed into place, so a reader
    never sees half a tree and two writers of the same object agree."""
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = target.parent / f".{target.name}.{os.getpid()}.{time.monotonic_ns()}"
    try:
        stage.mkdir()
        for name, data in files.items():
            path = stage / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            os.rename(stage, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)


# -- another repository --------------------------------------------------------------------------------

def _fetched(spec: GitSpec, cache: Path, timeout: float, warn: Callable[[str], None]) -> tuple[_Git, str]:
    """The cached bare repository of ``spec.url``, holding ``spec.ref``'s commit, and that commit."""
    assert spec.url is not None
    root = cache / "git" / hashlib.sha256(spec.url.encode()).hexdigest()[:20]
    git = _Git(git_dir=root / "repo.git")
    with _fetch_lock(root, spec, timeout):
        if not (root / "repo.git" / "HEAD").exists():
            _Git().run("init", "--bare", "-q", str(root / "repo.git"))
            (root / "url").write_text(spec.shown_url + "\n", encoding="utf-8")  # for a person looking in the cache
        kept = _local_commit(git, spec.ref)
        if kept is not None:
            return git, kept
        try:
            remote = _remote_refs(git, spec.url, timeout)
        except _GitFailed as exc:
            problem = f"no answer in {exc.timed_out:.0f} s" if exc.timed_out else exc.reason
            cached = _local_ref(git, _HEADS + spec.ref) or _local_ref(git, _OTHER + spec.ref)
            if cached is None:
                raise ConfigError(
                    f"cannot read {spec.shown}: cannot reach {spec.shown_url} ({redact(problem)}); check the URL (`git ls-remote URL` "
                    f"must work here, with its credentials) and that no network is needed offline: nothing of it is cached"
                ) from None
            warn(f"cannot reach {spec.shown_url} ({redact(problem)}); using {spec.ref} as fetched {_fetched_when(git, spec.ref)} "
                 f"(commit {cached[:12]})")
            return git, cached
        return git, _fetch_ref(git, spec, remote, timeout)


@contextlib.contextmanager
def _fetch_lock(root: Path, spec: GitSpec, timeout: float) -> Iterator[None]:
    """One fetch into one cached repository at a time (two CI jobs, pytest -n 2): git itself refuses a
    second writer of a ref with "cannot lock ref" rather than waiting."""
    import filelock  # rpctest's dependency; imported when a repository is fetched

    root.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(root / "fetch.lock"), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise ConfigError(f"cannot read {spec.shown}: another rpctest has been fetching {spec.shown_url} into "
                          f"{root} for {timeout:.0f} s; let it finish and run again") from None
    try:
        yield
    finally:
        lock.release()


def _local_commit(git: _Git, ref: str) -> str | None:
    """The commit of ``ref`` if the cache can answer without the remote: a commit id it holds, or a
    tag fetched before (tags do not move; branches do, so they are always fetched again)."""
    if _HEX.fullmatch(ref):
        with contextlib.suppress(_GitFailed):
            return git.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    return _local_ref(git, _TAGS + ref)


def _local_ref(git: _Git, name: str) -> str | None:
    try:
        return git.run("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}").decode().strip()
    except _GitFailed:
        return None


def _remote_refs(git: _Git, url: str, timeout: float) -> dict[str, str]:
    out = git.run("ls-remote", "--", url, timeout=timeout).decode("utf-8", "replace")
    refs = {}
    for line in out.splitlines():
        oid, _, name = line.partition("\t")
        if name:
            refs[name] = oid
    return refs


def _fetch_ref(git: _Git, spec: GitSpec, remote: dict[str, str], timeout: float) -> str:
    """Fetch ``spec.ref`` (a branch, a tag, a full ref name, ``HEAD`` or a commit id) into the cache."""
    ref = spec.ref
    for source, local in ((f"refs/heads/{ref}", _HEADS + ref), (f"refs/tags/{ref}", _TAGS + ref),
                          (ref, _OTHER + ref)):
        if source in remote and (source.startswith("refs/") or source == "HEAD"):
            _fetch(git, spec, [f"+{source}:{local}"], timeout)
            _stamp(git, ref).write_text(time.strftime("%Y-%m-%d %H:%M:%S %Z") + "\n", encoding="utf-8")
            commit = _local_ref(git, local)
            assert commit is not None
            return commit
    if _HEX.fullmatch(ref):
        try:
            _fetch(git, spec, [ref], timeout)
        except ConfigError:  # a server that takes no unadvertised commit: everything, then look
            _fetch(git, spec, ["+refs/heads/*:" + _HEADS + "*", "+refs/tags/*:" + _TAGS + "*"], timeout, depth=False)
        found = _local_commit(git, ref)
        if found is not None:
            return found
        raise ConfigError(f"cannot read {spec.shown}: {spec.shown_url} has no commit {ref}")
    names = sorted(n.split("/", 2)[2] for n in remote if n.startswith(("refs/heads/", "refs/tags/")) and not n.endswith("^{}"))
    shown = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
    raise ConfigError(f"cannot read {spec.shown}: {spec.shown_url} has no branch or tag {ref!r}" +
                      (f"; it has {shown}" if shown else " (it has no branches)"))


def _fetch(git: _Git, spec: GitSpec, refspecs: list[str], timeout: float, depth: bool = True) -> None:
    try:
        git.run("fetch", "--quiet", "--no-tags", *(["--depth=1"] if depth else []), "--", str(spec.url), *refspecs,
                timeout=timeout)
    except _GitFailed as exc:
        problem = f"no answer in {exc.timed_out:.0f} s" if exc.timed_out else exc.reason
        raise ConfigError(f"cannot read {spec.shown}: fetching {spec.ref} from {spec.shown_url} failed ({redact(problem)})") from None


def _stamp(git: _Git, ref: str) -> Path:
    """Where the time ``ref`` was last fetched is kept, for the warning of an offline use."""
    assert git.git_dir is not None
    return git.git_dir.parent / ("fetched-" + hashlib.sha256(ref.encode()).hexdigest()[:16])


def _fetched_when(git: _Git, ref: str) -> str:
    try:
        return "at " + _stamp(git, ref).read_text(encoding="utf-8").strip()
    except OSError:
        return "before"
