"""Shared pieces of the benchmarks: the sandbox in its own process, connections, timing, tables."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from airflow_provider_gtm.sandbox import SANDBOX_CREDENTIALS

REPO = Path(__file__).resolve().parents[1]
OCTY_AUTH = (SANDBOX_CREDENTIALS["octy"]["login"], SANDBOX_CREDENTIALS["octy"]["password"])


@dataclass
class Sandbox:
    """A sandbox running in a separate process (so that its CPU is not the client's)."""

    url: str
    process: subprocess.Popen[str]

    def base_url(self, api: str) -> str:
        return f"{self.url}/{api}"

    def control(self, path: str, body: Any = None) -> Any:
        method = "GET" if body is None else "POST"
        return requests.request(method, f"{self.url}/_sandbox/{path}", json=body, timeout=30).json()

    def connection_env(self, **extras: dict[str, Any]) -> dict[str, str]:
        ids = {"octy": "OCTY_DEFAULT", "customeros": "CUSTOMEROS_DEFAULT", "octopus": "OCTOPUS_CONNECT_DEFAULT",
               "oktopost": "OKTOPOST_DEFAULT"}
        types = {"octy": "octy", "customeros": "customeros", "octopus": "octopus_connect", "oktopost": "oktopost"}
        env = {}
        for api, conn_id in ids.items():
            creds = SANDBOX_CREDENTIALS[api]
            env[f"AIRFLOW_CONN_{conn_id}"] = json.dumps({
                "conn_type": types[api], "host": self.base_url(api), "login": creds.get("login"),
                "password": creds["password"], "extra": extras.get(api, {})})
        return env


@contextmanager
def sandbox_process(*args: str) -> Iterator[Sandbox]:
    """``python -m airflow_provider_gtm.sandbox --port 0 <args>`` until the block ends."""
    process = subprocess.Popen([sys.executable, "-m", "airflow_provider_gtm.sandbox", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        yield Sandbox(match.group(1), process)
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class Measure:
    seconds: float
    cpu: float
    count: int


def measure(run: Callable[[], int], repeat: int = 3) -> Measure:
    """Best of ``repeat`` runs (wall and client CPU time); ``run`` returns how many records it handled."""
    best: Measure | None = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        count = run()
        result = Measure(time.perf_counter() - wall, time.process_time() - cpu, count)
        if best is None or result.seconds < best.seconds:
            best = result
    assert best is not None
    return best


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    from importlib.metadata import version

    airflow_version = version("apache-airflow")
    return (f"{cpu}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}; "
            f"Airflow {airflow_version}; {platform.platform()}")
