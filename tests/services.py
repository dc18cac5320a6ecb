"""Real servers for the tests, started on loopback in a temporary folder and stopped after.

Each is a context manager yielding the URL a client uses: :func:`redis_server` (Debian's
``redis-server``), :func:`postgres_server` (Debian's PostgreSQL: a throw-away cluster of its own,
never the machine's), :func:`moto_s3_server` (moto's server from PyPI, an S3-compatible store).
Missing programs skip the test locally and fail it under CI (``make system-deps`` installs them).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing(program: str, install: str) -> None:
    """Skip (locally) or fail (under CI) a test whose server is not installed."""
    message = f"{program} is not installed: {install} installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited with {process.returncode} before it listened") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s") from None
            time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def _listening(command: list[str], port: int, what: str) -> Iterator[None]:
    """Run ``command`` until the block ends; enter once it listens on ``127.0.0.1:port``."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process, what)
        yield
    finally:
        _stop(process)


@contextmanager
def redis_server() -> Iterator[str]:
    """A ``redis-server`` without persistence; yields ``redis://127.0.0.1:<port>``."""
    server = shutil.which("redis-server")
    if server is None:
        missing("redis-server", "`make system-deps`")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="gtm-redis-")
    command = [str(server), "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
               "--dir", workdir]
    try:
        with _listening(command, port, "redis-server"):
            yield f"redis://127.0.0.1:{port}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


@contextmanager
def postgres_server(database: str = "airflow") -> Iterator[str]:
    """A fresh PostgreSQL cluster (trust auth, loopback only); yields a SQLAlchemy psycopg2 URL.

    PostgreSQL refuses to run as root: as root the cluster belongs to Debian's ``postgres`` user.
    """
    bindir = _postgres_bin()
    if bindir is None:
        missing("PostgreSQL", "`make system-deps-distributed`")
    assert bindir is not None
    workdir = Path(tempfile.mkdtemp(prefix="gtm-postgres-"))
    data = workdir / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(workdir, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "airflow", "--auth=trust",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    log = (workdir / "postgres.log").open("wb")
    process = subprocess.Popen([*run_as, str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1",
                                "-p", str(port), "-k", str(workdir), "-c", "fsync=off", "-c", "max_connections=200"],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, "postgres")
        deadline = time.monotonic() + 30
        while subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "airflow",
                              database], capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("createdb failed: " + (workdir / "postgres.log").read_text()[-2000:])
            time.sleep(0.5)
        yield f"postgresql+psycopg2://airflow@127.0.0.1:{port}/{database}"
    finally:
        _stop(process)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """moto's server (S3 and the rest of AWS, in memory); yields its endpoint URL."""
    server = Path(sys.executable).with_name("moto_server")
    if not server.exists():
        missing("moto's server", "`pip install --group distributed` (make test-distributed)")
    port = free_port()
    with _listening([str(server), "-H", "127.0.0.1", "-p", str(port)], port, "moto_server"):
        yield f"http://127.0.0.1:{port}"
