"""A durable watermark for incremental fetches: each run continues where the last successful one ended.

On Airflow 3 a cron-scheduled run has a zero-length data interval (start == end), so
``origin_time="{{ data_interval_start }}"`` fetches only what appeared after the run itself started:
everything created between two runs is lost, and a manual run with defaults fetches nothing. A
watermark does not depend on the schedule:

- the fetch task records the newest value of ``watermark_field`` it wrote (e.g. Octopus
  ``createdAt``) and the ids of the records that carry exactly that value, in its XCom
  (``"watermark"``) and, once its output file is complete, in an Airflow Variable;
- the next run's fetch starts from that value, keeps records newer than it and those at exactly
  that value whose id it has not seen, so an API that treats the origin as inclusive or exclusive,
  or several records created in the same millisecond, neither loses nor repeats a record;
- the Variable also remembers where the run that wrote it started, so a retried or cleared fetch
  of that same run starts from there again and rewrites the same records (plus newer ones)
  instead of skipping its own.

A run that fails after its fetch keeps its records in its output file: clear the failed tasks of that
run (Airflow's own recovery) rather than expecting the next run to fetch them again. A failed or
retried fetch never moves the watermark.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_gtm.compat import fromisoformat

if TYPE_CHECKING:
    from airflow_provider_gtm.apis.model import Resource
    from airflow_provider_gtm.core.pagination import Page

log = logging.getLogger(__name__)


def _comparable(value: Any) -> Any:
    """Numbers compare as numbers (epoch ms); anything else as text (ISO-8601 strings sort in time order)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if isinstance(value, str) and (moment := _http_date(value)) is not None:
        return moment.timestamp()  # Octy's "Thu, 01 Jan 2026 00:00:00 GMT" does not sort as text
    return str(value)


#: The HTTP date Octy writes its ``created_at``/``updated_at`` in (octy-services-wasm@f514fe2
#: events/api/routers/dto/events.py formats ``created_at`` so).
_HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"


def _http_date(text: str) -> datetime | None:
    if not text.endswith(" GMT") or "," not in text:
        return None
    try:
        return datetime.strptime(text.strip(), _HTTP_DATE).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


@dataclass
class Watermark:
    """The newest ``value`` seen, and the ids of the records that carry exactly that value."""

    value: Any
    ids: list[str] = field(default_factory=list)

    def admits(self, value: Any, record_id: Any) -> bool:
        """True for a record the fetch that recorded this watermark has not written."""
        mine, theirs = _comparable(self.value), _comparable(value)
        if type(mine) is not type(theirs):
            return True  # cannot compare: keep the record rather than lose it
        return bool(theirs > mine) or (theirs == mine and str(record_id) not in self.ids)

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "ids": sorted(self.ids)}

    @classmethod
    def from_json(cls, data: Any) -> Watermark | None:
        if not isinstance(data, Mapping) or data.get("value") is None:
            return None
        return cls(value=data["value"], ids=[str(i) for i in data.get("ids") or []])


class WatermarkTracker:
    """Follows the newest ``field`` value among the records a fetch writes (page by page)."""

    def __init__(self, field_name: str, *, id_field: str = "id", start: Watermark | None = None) -> None:
        self.field = field_name
        self.id_field = id_field
        self.current: Watermark | None = Watermark(start.value, list(start.ids)) if start else None

    def observe(self, records: Iterable[Any]) -> None:
        for record in records:
            if not isinstance(record, Mapping) or record.get(self.field) is None:
                continue
            value, record_id = record[self.field], str(record.get(self.id_field))
            if self.current is None:
                self.current = Watermark(value, [record_id])
                continue
            mine, theirs = _comparable(self.current.value), _comparable(value)
            if type(mine) is not type(theirs):
                continue
            if theirs > mine:
                self.current = Watermark(value, [record_id])
            elif theirs == mine and record_id not in self.current.ids:
                self.current.ids.append(record_id)

    def to_json(self) -> dict[str, Any] | None:
        return self.current.to_json() if self.current is not None else None


def dry_run_of(context: Any) -> bool:
    """Whether the DAG run was triggered with the sample DAGs' ``dry_run`` Param on."""
    params = context.get("params") if isinstance(context, Mapping) else None
    value = params.get("dry_run") if isinstance(params, Mapping) else None
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def default_variable_key(dag_id: str, task_id: str) -> str:
    """``gtm_watermark__<dag_id>__<task_id>``: the Variable a fetch keeps its watermark in."""
    return f"gtm_watermark__{dag_id}__{task_id}"


def load_start(variable_key: str, run_id: str) -> Watermark | None:
    """Where this run's fetch starts: the last successful fetch's watermark, or, for a retry or a
    re-run of the run that wrote it, the watermark that run itself started from."""
    from airflow_provider_gtm.compat import variable_get

    raw = variable_get(variable_key)
    if raw is None:
        return None
    try:
        stored = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(stored, Mapping):
        return None
    if stored.get("run_id") == run_id:
        return Watermark.from_json(stored.get("started_from"))
    return Watermark.from_json(stored)


def save(variable_key: str, run_id: str, started_from: Watermark | None, reached: dict[str, Any] | None) -> None:
    """Record the watermark a complete fetch reached (nothing when it saw no record and had no start)."""
    from airflow_provider_gtm.compat import Variable

    if reached is None:
        return
    stored = {**reached, "run_id": run_id, "started_from": started_from.to_json() if started_from else None}
    Variable.set(variable_key, json.dumps(stored), description="airflow-provider-gtm incremental fetch watermark")


class IncrementalFetch:
    """The watermark side of one fetch task: where it starts, what it reached, and recording it.

    Built by :class:`~airflow_provider_gtm.operators.base.GtmFetchOperator` when ``watermark_field``
    is set; ``since_last_watermark=True`` also reads and records the Variable.
    """

    def __init__(self, *, field_name: str, id_field: str, variable_key: str | None, run_id: str,
                 seed: Watermark | None, checkpoint: Mapping[str, Any] | None) -> None:
        self.variable_key = variable_key
        self.run_id = run_id
        self.start = load_start(variable_key, run_id) if variable_key else None
        begin = self.start or seed
        self.tracker = WatermarkTracker(field_name, id_field=id_field, start=begin)
        if checkpoint and checkpoint.get("watermark"):
            # A resumed try: what the pages already written reached.
            self.tracker.current = Watermark.from_json(checkpoint["watermark"])

    def observe(self, records: Iterable[Any]) -> None:
        self.tracker.observe(records)

    def checkpoint(self) -> dict[str, Any]:
        return {"watermark": self.tracker.to_json()}

    def finish(self, result: dict[str, Any]) -> None:
        """Add ``watermark`` to the XCom and, the output being complete, record it for the next run."""
        reached = self.tracker.to_json()
        result["watermark"] = reached
        if self.variable_key:
            save(self.variable_key, self.run_id, self.start, reached)


def epoch_of(value: Any, unit: str) -> int | None:
    """A watermark value as Unix seconds or milliseconds (``unit``), or ``None`` when it is no time.

    Numbers and numeric strings are taken in ``unit`` already; ISO 8601 strings, and Oktopost's
    ``YYYY-MM-DD HH:MM:SS`` (UTC when no zone is given), are converted.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = _http_date(text) or fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    seconds = moment.timestamp()
    return int(seconds * 1000) if unit == "epoch_ms" else int(seconds)


def keep_unwritten(pages: Iterable[Page], since: Watermark, field_name: str, id_field: str) -> Iterator[Page]:
    """The pages with only the records ``since`` admits (newer, or at its value and not yet written).

    What makes an incremental fetch exact whichever way the API reads its filter: sent one unit
    early, the records at exactly the watermark come back and the ones already written are dropped
    here; a list the API cannot filter (read whole) keeps only what is new. ``total`` is lowered by
    what was dropped so far, so the fetch's count check still compares like with like.
    """
    dropped = 0
    for page in pages:
        kept = [r for r in page.records
                if not isinstance(r, dict) or since.admits(r.get(field_name), r.get(id_field))]
        dropped += len(page.records) - len(kept)
        total = None if page.total is None else page.total - dropped
        yield dataclasses.replace(page, records=kept, total=total)


class CatalogueWatermark:
    """Mixed into a fetch operator whose lists are catalogued rows (:class:`~airflow_provider_gtm.apis.model.Resource`).

    With ``since_last_watermark=True`` the watermark becomes the API's own filter where the row names
    one (``since_param``, on the field ``since_field``): :meth:`since_filter` gives the parameter and
    its value one unit early. Where it names none, the list is read whole and :meth:`since_pages`
    keeps only the records past the watermark. A record's id is the row's ``id_key`` unless the task
    gave ``id_field``.
    """

    id_field: str
    watermark_field: str | None
    incremental: IncrementalFetch | None
    #: Whether ``id_field`` was left to the catalogue (set by the operator's ``__init__``).
    id_field_from_catalogue: bool = False

    def catalogue_row(self) -> Resource | None:
        """The catalogue row of the list this task fetches (``None``: not a catalogued list)."""
        raise NotImplementedError

    def start_incremental(self, context: Any, checkpoint: Mapping[str, Any] | None) -> IncrementalFetch | None:
        row = self.catalogue_row()
        if self.id_field_from_catalogue and row is not None and row.id_key:
            self.id_field = row.id_key
        incremental: IncrementalFetch | None = super().start_incremental(context, checkpoint)  # type: ignore[misc]
        if incremental is not None and incremental.variable_key and dry_run_of(context):
            # A dry run's fetch starts where the last real run left off and leaves the mark there: the real
            # run after it must fetch (and write) the same records.
            log.info("Dry run (params.dry_run): the watermark %s is read, not recorded", incremental.variable_key)
            incremental.variable_key = None
        return incremental

    def since(self) -> Watermark | None:
        """Where this incremental run starts (``None``: not incremental, or the first run)."""
        return self.incremental.start if self.incremental is not None else None

    def since_filter(self) -> tuple[str, int] | None:
        """``(parameter, value)``: the watermark as the API's own filter, one unit early, or ``None``."""
        since, row = self.since(), self.catalogue_row()
        if since is None or row is None or not row.since_param or not row.since_unit:
            return None
        if (self.watermark_field or row.since_field) != row.since_field:
            return None  # the API filters on another field than the one the watermark follows
        value = epoch_of(since.value, row.since_unit)
        return None if value is None else (row.since_param, value - 1)

    def since_pages(self, pages: Iterable[Page]) -> Iterable[Page]:
        """``pages`` with what the last run wrote dropped (unchanged when not incremental)."""
        since = self.since()
        if since is None:
            return pages
        return keep_unwritten(pages, since, self.watermark_field or "", self.id_field)
