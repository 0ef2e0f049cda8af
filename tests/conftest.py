"""Shared fixtures: a real Oxigraph server process on 127.0.0.1, started and stopped here."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _cache_in_a_temp_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Catalog stores go to a temporary folder (inherited by `rkg` subprocesses), not ~/.cache."""
    old = os.environ.get("RKG_CACHE_DIR")
    os.environ["RKG_CACHE_DIR"] = str(tmp_path_factory.mktemp("rkg-cache"))
    yield
    if old is None:
        os.environ.pop("RKG_CACHE_DIR", None)
    else:
        os.environ["RKG_CACHE_DIR"] = old


def _oxigraph_binary() -> str:
    """The `oxigraph` command of the `oxigraph` PyPI package: beside Python, else on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file():
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    return found


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    probe = url + "/query?query=ASK%7B%7D"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oxigraph exited early: {log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(probe, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"oxigraph did not start within 30 s: {log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a fresh `oxigraph serve` (on-disk store in a temp folder) for this session."""
    binary = _oxigraph_binary()
    folder = tmp_path_factory.mktemp("oxigraph")
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                "serve",
                "--location",
                str(folder / "store"),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# ---------------------------------------------------------------- Virtuoso

#: In CI (`.ci/run`) a missing Virtuoso binary fails the run instead of skipping its tests.
REQUIRE_VIRTUOSO = "RKG_REQUIRE_VIRTUOSO"

#: A fresh Virtuoso database has one administrator, dba, with this password.
VIRTUOSO_USER = "dba"
VIRTUOSO_PASSWORD = "dba"

VIRTUOSO_INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{isql_port}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {db}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
MaxQueryMem = 1G
ThreadsPerQuery = 4

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {db}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime = 120
"""


def _virtuoso_binary() -> str:
    found = shutil.which("virtuoso-t")
    if found is None:
        message = "Virtuoso is not installed (apt-get install virtuoso-opensource)"
        if os.environ.get(REQUIRE_VIRTUOSO) == "1":
            pytest.fail(f"{message}; {REQUIRE_VIRTUOSO}=1 requires it", pytrace=False)
        pytest.skip(message)
    return found


class VirtuosoServer:
    """One private `virtuoso-t` in its own database folder, HTTP and ISQL on free loopback ports."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.http_port = free_port()
        self.isql_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.user = VIRTUOSO_USER
        self.password = VIRTUOSO_PASSWORD
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"

    def start(self, timeout: float = 60) -> None:
        binary = _virtuoso_binary()
        ini = self.folder / "virtuoso.ini"
        ini.write_text(
            VIRTUOSO_INI.format(db=self.folder, isql_port=self.isql_port, http_port=self.http_port)
        )
        log = self.folder / "server.out"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [binary, "+foreground", "+configfile", str(ini)],
                cwd=self.folder,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        probe = self.sparql + "?query=ASK%7B%7D"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited early: {self._log()}")
            try:
                with urllib.request.urlopen(probe, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"virtuoso-t did not answer within {timeout:g} s: {self._log()}")

    def kill(self) -> None:
        """Stop the store at once (SIGKILL), as a crash or a pulled plug would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def _log(self) -> str:
        parts = []
        for name in ("server.out", "virtuoso.log"):
            path = self.folder / name
            if path.is_file():
                parts.append(path.read_text(errors="replace")[-2000:])
        return "\n".join(parts)


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    """A fresh private Virtuoso for this session (fails, never skips, under RKG_REQUIRE_VIRTUOSO)."""
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
