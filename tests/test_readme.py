"""The shell blocks of README.md and of every docs/*.md, run in order as a newcomer pastes them, against a service
started as `make run` does. The README's blocks share one bash session; each docs/*.md file gets a fresh one (a
reader may open it first), with the same BWS_HOST and BWS_URL and the same service.

Every ```sh or ```bash block of README.md runs, in the order of the file, in one bash session (variables and
functions carry over from block to block, as in a terminal), from a directory that looks like the checkout:
`.venv`, `tests`, ... are links to the repository and `data` is the running service's data directory. The service
is `python -m gateway` with nothing configured, as `make run` starts it: an embedded real Redis, the development
client and key in `data/`, real gRPC and HTTP on free ports. The test provides what the README tells the reader
to set by hand: BWS_HOST (gRPC host:port) and BWS_URL (HTTP base URL).

A block fails when any command in it fails (bash's ERR trap, with pipefail) or times out; curl is configured
(the test's own ~/.curlrc) to fail on an HTTP error status, as with --fail-with-body. A failure shows the block,
where it is in the README, the command that failed and everything the block printed.

Markers, an HTML comment on the line right before the fence (invisible on GitHub):
  <!-- not-tested: why -->   the block is not run (needs a container engine, a cluster, or is `make run` itself);
                             use sparingly: every command a newcomer is told to paste should run.
  <!-- test-env: NAME -->    before the block runs, SETUPS[NAME](context) prepares what it needs (e.g. starts a
                             second service with other settings) and returns variables exported into the session.
Blocks must not hard-code localhost:50051 / localhost:8080 (use "$BWS_HOST" and "$BWS_URL") and must not `exit`.
Other fences (```json, ```yaml, ```text, indented code) are documentation, not run.
"""
from __future__ import annotations

import os
import queue
import re
import shlex
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from gateway.infra.auth import make_token
from gateway.infra.clients import ClientRegistry
from templates_store.embedded import EmbeddedRedis, free_port
from tests.conftest import ROOT, stop_service, wait_until_serving

README = ROOT / "README.md"
BLOCK_TIMEOUT = 300
DONE = "__README_BLOCK_DONE__"
FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*(not-tested|test-env):\s*(.*?)\s*-->\s*$")
SHELLS = {"sh", "bash", "shell"}


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    section: str
    text: str
    marker: str | None = None  # "not-tested" | "test-env"
    argument: str = ""
    source: str = "README.md"  # the file, relative to the checkout

    @property
    def name(self) -> str:
        return f"{self.source}:{self.line} ({self.section})"


def shell_blocks(markdown: str, source: str = "README.md") -> list[Block]:
    blocks, lines, i, section = [], markdown.splitlines(), 0, "top"
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") and not line.startswith("#!"):
            section = line.lstrip("#").strip()
        fence = FENCE.match(line)
        if not fence:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines))
        if fence.group(1) in SHELLS:
            previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = MARKER.match(previous)
            blocks.append(Block(i + 1, section, "\n".join(lines[i + 1:end]) + "\n",
                                marker.group(1) if marker else None, marker.group(2) if marker else "", source))
        i = end + 1
    return blocks


@dataclass
class Context:
    """What a test-env setup may use: the directory the blocks run in, a scratch directory, the shell's
    environment, cleanups run at the end, and start_service for a second service with other settings."""
    work: Path
    tmp: Path
    env: dict[str, str]
    cleanups: list[Callable[[], None]]

    def start_service(self, **settings: str) -> dict[str, str]:
        """Another service as `make run` starts it (own data directory, own embedded Redis) with extra BWS_*
        settings; returns BWS_HOST, BWS_URL and BWS_TOKEN (its development client) for the block."""
        service = DevService.start(self.tmp / f"service-{len(self.cleanups)}", self.env, **settings)
        self.cleanups.append(service.stop)
        return service.exports() | {"BWS_TOKEN": make_token_for(service.data / "dev-clients.json")}


@dataclass
class DevService:
    process: subprocess.Popen
    data: Path
    log_path: Path
    grpc_port: int
    http_port: int

    @classmethod
    def start(cls, folder: Path, base_env: dict[str, str], **settings: str) -> "DevService":
        folder.mkdir(parents=True, exist_ok=True)
        grpc_port, http_port = free_port(), free_port()
        env = dict(base_env, PYTHONPATH=str(ROOT), BWS_DATA_DIR=str(folder / "data"), BWS_GRPC_PORT=str(grpc_port),
                   BWS_HTTP_PORT=str(http_port), BWS_BIND_HOST="127.0.0.1", BWS_WORKERS="2", **settings)
        log_path = folder / "service.log"
        process = subprocess.Popen([sys.executable, "-m", "gateway"], cwd=ROOT, env=env,
                                   stdout=log_path.open("w"), stderr=subprocess.STDOUT)
        service = cls(process, folder / "data", log_path, grpc_port, http_port)
        try:
            wait_until_serving(f"127.0.0.1:{grpc_port}", process, log_path)
        except BaseException:
            service.stop()
            raise
        return service

    def exports(self) -> dict[str, str]:
        return {"BWS_HOST": f"127.0.0.1:{self.grpc_port}", "BWS_URL": f"http://127.0.0.1:{self.http_port}"}

    def stop(self) -> None:
        stop_service(self.process)


def make_token_for(clients_file: Path) -> str:
    client = next(iter(ClientRegistry.from_file(clients_file)))
    return make_token(client.client_id, client.key, 3600)


def redis_for_migrate(context: Context) -> dict[str, str]:
    """A real redis-server of the block's own, as the deployment's Redis the migration is pointed at."""
    server = EmbeddedRedis(context.tmp / "migrate-redis", port=free_port()).start()
    context.cleanups.append(server.stop)
    return {"BWS_REDIS_URL": server.url}


# test-env NAME -> setup(context) -> variables exported for that block only (the previous values come back
# after it). Add yours here, e.g. "pad": lambda ctx: ctx.start_service(BWS_PAD_MODEL=str(...)).
SETUPS: dict[str, Callable[[Context], dict[str, str]]] = {"redis": redis_for_migrate,
                                                          "demo": lambda ctx: ctx.start_service(BWS_DEMO="1")}

BLOCKS = shell_blocks(README.read_text())
DOCS = sorted((ROOT / "docs").glob("*.md"))
DOC_BLOCKS = [block for doc in DOCS for block in shell_blocks(doc.read_text(), str(doc.relative_to(ROOT)))]


class Session:
    """One bash process fed block after block, as a terminal would be."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work = work
        self.errors = work / ".readme-errors"
        self.process = subprocess.Popen(["bash", "--noprofile", "--norc"], cwd=work, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        record = f'printf "line %s: %s (exit %s)\\n" "$LINENO" "$BASH_COMMAND" "$?" >> {self.errors}'
        self._send(f"set -o pipefail -o errtrace\ntrap '{record}' ERR\n")

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)

    def _send(self, text: str) -> None:
        self.process.stdin.write(text)
        self.process.stdin.flush()

    def run(self, index: int, block: Block, exports: dict[str, str]) -> tuple[list[str], str]:
        """The failed commands (empty when the block passed) and what the block printed."""
        script, output = self.work / f".readme-block-{index}.sh", self.work / f".readme-output-{index}.txt"
        script.write_text(block.text)
        self.errors.write_text("")
        saved = self.work / f".readme-saved-{index}.sh"
        setup = "".join(f"{{ declare -p {k} 2>/dev/null || echo 'unset {k}'; }} >> {saved}\n"
                        f"export {k}={shlex.quote(v)}\n" for k, v in exports.items())
        restore = f"source {saved}\n" if exports else ""
        self._send(f"{setup}source {script} > {output} 2>&1 < /dev/null\n{restore}echo {DONE}\n")
        try:
            while self.lines.get(timeout=BLOCK_TIMEOUT).strip() != DONE:
                pass
        except queue.Empty:
            return [f"timed out after {BLOCK_TIMEOUT}s"], output.read_text() if output.exists() else ""
        if self.process.poll() is not None:
            return ["the shell exited (no `exit` in README blocks)"], output.read_text()
        failed = [line for line in self.errors.read_text().splitlines() if str(script) not in line]
        return failed, output.read_text()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory):
    """The service (as `make run`), the checkout-like directory and the bash session the blocks share."""
    tmp = tmp_path_factory.mktemp("readme")
    data, work, home = tmp / "data", tmp / "work", tmp / "home"  # data: the service's BWS_DATA_DIR
    for folder in (data, work, home):
        folder.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in ("data", ".git", ".pytest_cache") and not entry.name.startswith(".readme-"):
            (work / entry.name).symlink_to(entry)
    (work / "data").symlink_to(data)
    (home / ".curlrc").write_text("fail-with-body\nshow-error\n")

    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "TERM")
    base = {k: v for k, v in os.environ.items() if k in keep} | {"HOME": str(home), "PYTHONPATH": str(ROOT)}
    service = DevService.start(tmp, base)
    cleanups: list[Callable[[], None]] = [service.stop]
    try:
        # What the README tells the reader to export by hand, pointing at this service.
        shell_env = base | service.exports()
        session = Session(work, shell_env)
        cleanups.append(session.close)
        yield session, Context(work, tmp, shell_env, cleanups), service.log_path
    finally:
        for cleanup in reversed(cleanups):
            cleanup()


def test_the_readme_opens_with_make_run_and_make_test():
    first = BLOCKS[0].text.split("\n")
    assert first[0].startswith("make run") and first[1].startswith("make test")


def test_blocks_are_written_for_the_test():
    for block in BLOCKS + DOC_BLOCKS:
        if block.marker == "not-tested":
            assert block.argument, f"{block.name}: say why it is not tested"
            continue
        if block.marker == "test-env":
            assert block.argument in SETUPS, f"{block.name}: no setup {block.argument!r} in SETUPS"
        for fixed in ("localhost:50051", "localhost:8080"):
            assert fixed not in block.text, f'{block.name}: use "$BWS_HOST" / "$BWS_URL", not {fixed}'
        assert not re.search(r"^\s*exit\b", block.text, re.M), f"{block.name}: `exit` would end the session"
    runnable = [b for b in BLOCKS if b.marker != "not-tested"]
    assert len(runnable) >= len(BLOCKS) - 6, "most README blocks must run"


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[b.name for b in BLOCKS])
def test_block(readme_run, index):
    session, context, log_path = readme_run
    run_block(session, context, log_path, index, BLOCKS[index])


@pytest.fixture(scope="module")
def doc_sessions(readme_run):
    """A fresh bash session per docs/*.md file, in the same directory, against the same service."""
    _, context, _ = readme_run
    sessions: dict[str, Session] = {}
    yield lambda source: sessions.setdefault(source, Session(context.work, context.env))
    for session in sessions.values():
        session.close()


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)), ids=[b.name for b in DOC_BLOCKS])
def test_doc_block(readme_run, doc_sessions, index):
    _, context, log_path = readme_run
    block = DOC_BLOCKS[index]
    run_block(doc_sessions(block.source), context, log_path, 100_000 + index, block)


def run_block(session: Session, context: Context, log_path: Path, index: int, block: Block) -> None:
    if block.marker == "not-tested":
        pytest.skip(f"not-tested: {block.argument}")
    exports = SETUPS[block.argument](context) if block.marker == "test-env" else {}
    failed, output = session.run(index, block, exports)
    if failed:
        pytest.fail(f"{block.name} failed:\n--- block ---\n{block.text}--- failed ---\n" + "\n".join(failed)
                    + f"\n--- output ---\n{output[-6000:]}\n--- service log (end) ---\n"
                    + log_path.read_text()[-2000:], pytrace=False)


def test_the_harness_finds_markers_and_reports_failures(tmp_path):
    markdown = ("# A\n```sh\necho one\n```\n\n<!-- not-tested: needs a cluster -->\n```bash\nkubectl get pods\n```\n"
                "## B\n```json\n{}\n```\n<!-- test-env: tls -->\n\n```sh\nx=2\n```\n")
    blocks = shell_blocks(markdown)
    assert [(b.line, b.section, b.marker, b.argument) for b in blocks] == [
        (2, "A", None, ""), (7, "A", "not-tested", "needs a cluster"), (16, "B", "test-env", "tls")]
    session = Session(tmp_path, {"PATH": os.environ["PATH"]})
    try:
        assert session.run(0, Block(1, "s", "GREETING=hello\n"), {}) == ([], "")
        failed, output = session.run(1, Block(2, "s", 'echo "$GREETING $NAME"\nfalse | cat\necho after\n'),
                                     {"NAME": "it's me"})
        assert failed == ["line 2: cat (exit 1)"]  # the block's line and the pipeline's last command
        assert output == "hello it's me\nafter\n"
        assert session.run(2, Block(3, "s", 'echo "$GREETING ${NAME-gone}"\n'), {}) == ([], "hello gone\n")
    finally:
        session.close()


def test_a_test_env_setup_gets_its_own_service_for_one_block(readme_run):
    session, context, _ = readme_run
    exports = context.start_service(BWS_VERIFY_THRESHOLD="0.7")
    block = Block(1, "s", 'curl -s "$BWS_URL/readyz"\n'
                          '.venv/bin/bws classcount\n'
                          'echo "$BWS_HOST" > .readme-host\n')
    failed, output = session.run(1000, block, exports)
    assert not failed and "0 class(es)" in output, output
    assert (context.work / ".readme-host").read_text().strip() == exports["BWS_HOST"]
    failed, output = session.run(1001, Block(2, "s", 'echo "$BWS_HOST"\n'), {})
    assert output.strip() == context.env["BWS_HOST"] != exports["BWS_HOST"]  # back to the main service
