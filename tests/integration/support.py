"""What the integration tests share: a task instance for operators run outside Airflow, and output files."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace


class Ti(SimpleNamespace):
    def xcom_push(self, key, value):
        self.pushed[key] = value


def context():
    return {"ti": Ti(dag_id="d", run_id="r", task_id="t", map_index=-1, pushed={})}


def lines(uri: str) -> list[dict]:
    path = Path(uri.removeprefix("file://"))
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
