"""``make airflow-ui`` (scripts/demo.py --ui) from a clean environment: the UI answers on loopback,
the sample DAGs are listed through the REST API with the login the setup generates, and stopping it
stops every process it started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DAGS = {"gtm_community_engagement_to_retention", "gtm_advocates_to_customer_base", "gtm_publish_campaign",
               "gtm_fetch_oktopost_advocates", "gtm_land_community_posts"}

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def processes_with_home(home: Path) -> list[int]:
    """Processes whose environment names this Airflow home (what the UI command started)."""
    found = []
    marker = f"AIRFLOW_HOME={home}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if marker in environ.split(b"\0") and stat.split(")")[-1].split()[0] != "Z":
            found.append(int(entry.name))
    return found


def non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", 9))  # no packet is sent: it only picks the outgoing interface
            address = sock.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_make_airflow_ui_serves_the_sample_dags_on_loopback(tmp_path):
    port = free_port()
    demo_dir = tmp_path / "demo"
    home = demo_dir / "airflow-home"
    # As from a fresh clone: the venv is not on PATH and not activated, nothing Airflow in the environment.
    env = {"HOME": os.environ.get("HOME", str(tmp_path)), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    log = (tmp_path / "ui.log").open("wb")
    ui = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "demo.py"), "--ui", "--ui-port", str(port),
         "--demo-dir", str(demo_dir)],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        listed: set[str] = set()
        token = None
        while time.monotonic() < deadline and listed != SAMPLE_DAGS:
            assert ui.poll() is None, (tmp_path / "ui.log").read_text()[-3000:]
            time.sleep(2)
            try:
                if token is None:
                    passwords = home / "simple_auth_manager_passwords.json.generated"
                    if not passwords.exists():
                        continue
                    password = json.loads(passwords.read_text())["admin"]
                    answer = requests.post(f"{base}/auth/token", json={"username": "admin", "password": password},
                                           timeout=10)
                    if answer.status_code not in (200, 201):
                        continue
                    token = answer.json()["access_token"]
                dags = requests.get(f"{base}/api/v2/dags", headers={"Authorization": f"Bearer {token}"}, timeout=10)
                if dags.status_code == 200:
                    listed = {d["dag_id"] for d in dags.json()["dags"]}
            except requests.ConnectionError:
                continue
        assert listed == SAMPLE_DAGS, (tmp_path / "ui.log").read_text()[-3000:]
        page = requests.get(f"{base}/", timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()
        # The REST API does not answer without the login.
        assert requests.get(f"{base}/api/v2/dags", timeout=10).status_code == 401
        # Bound to loopback only: the machine's other address does not answer.
        other = non_loopback_address()
        if other is not None:
            with socket.socket() as sock, pytest.raises(OSError):
                sock.settimeout(3)
                sock.connect((other, port))
        running = processes_with_home(home)
        assert len(running) >= 4  # api-server, scheduler, dag-processor, triggerer (and their helpers)
    finally:
        with_home_before = processes_with_home(home)
        ui.send_signal(signal.SIGTERM)
        try:
            ui.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            for pid in processes_with_home(home):
                os.kill(pid, signal.SIGKILL)
            raise
        log.close()
    assert ui.returncode == 0
    assert with_home_before
    left = processes_with_home(home)
    for pid in left:  # leave nothing behind even when the assertion below fails
        os.kill(pid, signal.SIGKILL)
    assert left == []
