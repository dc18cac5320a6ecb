"""A submission ledger: the requests a task started at an API that answers later, kept durably.

CustomerOS person enrichment answers a submission with a ``resultUrl`` polled later. Submitting
again is not harmless (each submission is a new enrichment request, and costs credits), so a retried
task must poll the requests its earlier try started instead of starting them again. Each answered
submission is one small JSON object ``submission_<index>.json`` (``{"index", "input", "result"}``),
written as soon as the API answered and before the next submission, in the same store and under the
same key as the write ledger (``core/ledger.py``: DAG, run, task, map index and a fingerprint of
the inputs and arguments), so only a retry of the same task instance with the same inputs reads it.

A try killed between sending a submission and recording its answer leaves that one input
unrecorded: the retry submits it again (the API offers no way to find it); every recorded one is
re-used. A file that does not have the shape written here (``index`` an integer, ``result`` an
object) is torn: that input counts as unrecorded, and reading it never raises.

Only the try holding the submission ledger's lease (``core/lease.py``) submits and records: every
record first asks the ``guard``, which raises when this try was killed or lost its lease.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.core.ledger import listed, write_whole
from airflow_provider_gtm.core.records import encode_record


class SubmissionLedger:
    """The recorded submissions of one task instance + inputs; every answer is one object."""

    def __init__(self, directory: ObjectStoragePath, guard: Callable[[], None] | None = None) -> None:
        self.directory = directory
        self._guard = guard
        self.directory.mkdir(parents=True, exist_ok=True)
        self._answers: dict[int, Mapping[str, Any]] = {}
        self._load()

    def _path(self, index: int) -> ObjectStoragePath:
        return self.directory / f"submission_{index:07d}.json"

    def _load(self) -> None:
        for entry in listed(self.directory):
            name = entry.name
            if not (name.startswith("submission_") and name.endswith(".json")):
                continue
            try:
                data = json.loads(entry.read_text())
            except (ValueError, OSError):
                continue  # a torn write: that input is submitted again
            if not isinstance(data, dict):
                continue  # not the shape written here: torn
            index, result = data.get("index"), data.get("result")
            if isinstance(index, int) and not isinstance(index, bool) and index >= 0 and isinstance(result, Mapping):
                self._answers[index] = result

    def check(self) -> None:
        """Raise when this try may no longer submit or record (killed, or its lease lost)."""
        if self._guard is not None:
            self._guard()

    def __len__(self) -> int:
        return len(self._answers)

    def answer(self, index: int) -> Mapping[str, Any] | None:
        """The API's first answer to input ``index``, when an earlier try (or this one) recorded it."""
        return self._answers.get(index)

    def record(self, index: int, item: Any, answer: Mapping[str, Any]) -> None:
        """Keep the answer to input ``index`` (call before submitting the next input)."""
        self.check()
        path = self._path(index)
        write_whole(path, encode_record({"index": index, "input": item, "result": dict(answer)}))
        self._answers[index] = dict(answer)
