"""What every fetch and batch-write operator shares, written once for the four APIs.

- :class:`GtmFetchOperator` streams pages from a hook's paginator into a JSON Lines file at
  ``output_uri`` (one page in memory at a time), checkpoints after each page so that a retried
  task resumes after the last complete page, and returns a small XCom ``{"uri", "records", "pages"}``.
- :class:`GtmBatchOperator` reads records (a list, or JSON Lines at ``input_uri``) one chunk at a
  time, lets the hook send each chunk, writes every failure to ``failures_uri`` with the API's
  reason, and returns ``{"submitted", "succeeded", "failed", "failures_uri"}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, ClassVar

from airflow.sdk import BaseOperator, ObjectStoragePath
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_gtm.core.batching import BatchResult
from airflow_provider_gtm.core.errors import GtmApiError, GtmConfigError, GtmError
from airflow_provider_gtm.core.hook import GtmBaseHook
from airflow_provider_gtm.core.pagination import Page
from airflow_provider_gtm.core.records import encode_record

OUTPUT_BASE_ENV = "AIRFLOW__GTM__OUTPUT_BASE_URI"
FAILURE_POLICIES = ("fail", "warn", "ratio")


def default_output_base() -> str:
    """Where outputs go when no URI is given: ``[gtm] output_base_uri``, else ``$AIRFLOW_HOME/gtm-data``.

    On a distributed executor, set it to shared storage (``s3://bucket/gtm``) so that every worker
    sees every file.
    """
    from airflow_provider_gtm import config

    configured = config.get("output_base_uri")  # airflow.cfg [gtm], or $AIRFLOW__GTM__OUTPUT_BASE_URI
    if configured:
        return configured.rstrip("/")
    home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    return f"file://{os.path.abspath(home)}/gtm-data"


def _safe(part: object) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", str(part)).strip("_") or "_"


def default_uri(context: Mapping[str, Any], base: str | None, name: str) -> str:
    """``<base>/<dag_id>/<run_id>/<task_id>[/map_<i>]/<name>``: unique per run, task and map index."""
    ti = context["ti"]
    parts = [base or default_output_base(), _safe(ti.dag_id), _safe(ti.run_id), _safe(ti.task_id)]
    map_index = getattr(ti, "map_index", -1)
    if map_index is not None and map_index >= 0:
        parts.append(f"map_{map_index}")
    parts.append(name)
    return "/".join(parts)


@contextlib.contextmanager
def airflow_errors(what: str) -> Iterator[None]:
    """Map provider errors onto Airflow's meaning: bad input and auth fail at once, the rest retry."""
    try:
        yield
    except GtmConfigError as exc:
        raise AirflowFailException(f"{what}: {exc}") from None
    except GtmApiError as exc:
        if exc.retryable:
            raise AirflowException(f"{what}: {exc}") from None
        raise AirflowFailException(f"{what}: {exc}") from None
    except GtmError as exc:
        raise AirflowFailException(f"{what}: {exc}") from None


def _dumps(record: Any) -> str:
    # Lone surrogates are escaped and unwritable records are named (core/records.py).
    return encode_record(record)


class _JsonLinesWriter:
    """Writes JSON lines to an ObjectStoragePath; on a local file it can resume after a checkpoint."""

    def __init__(self, path: ObjectStoragePath, *, resume: bool) -> None:
        self.path = path
        self.local = getattr(path, "protocol", "file") in ("file", "local", "")
        self.checkpoint_path = ObjectStoragePath(f"{path}.checkpoint.json") if self.local else None
        self.state: dict[str, Any] | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume and self.checkpoint_path is not None and self.checkpoint_path.exists():
            with contextlib.suppress(ValueError, OSError):
                self.state = json.loads(self.checkpoint_path.read_text())
        self._fh: IO[bytes]
        if self.state is not None and self.local:
            local = self._local_path()
            fh = open(local, "r+b" if os.path.exists(local) else "w+b")  # noqa: SIM115
            # Drop whatever the failed try wrote after its last complete page.
            fh.truncate(int(self.state.get("bytes", 0)))
            fh.seek(0, os.SEEK_END)
            self._fh = fh
        else:
            self.state = None
            self._fh = self.path.open("wb")

    def _local_path(self) -> str:
        raw = str(self.path)
        return raw[len("file://"):] if raw.startswith("file://") else getattr(self.path, "path", raw)

    def write_records(self, records: Iterable[Any]) -> None:
        self._fh.write("".join(_dumps(r) + "\n" for r in records).encode())

    def commit(self, state: dict[str, Any]) -> None:
        """Mark everything written so far as complete (the resume point)."""
        self._fh.flush()
        if self.checkpoint_path is not None:
            state = {**state, "bytes": self._fh.tell()}
            self.checkpoint_path.write_text(json.dumps(state, default=str))

    def close(self, *, success: bool) -> None:
        self._fh.close()
        if success and self.checkpoint_path is not None and self.checkpoint_path.exists():
            self.checkpoint_path.unlink()


class GtmFetchOperator(BaseOperator):
    """Base of the fetch operators: stream every page of a list into JSON Lines at ``output_uri``.

    :param conn_id: the Airflow connection id (templated).
    :param output_uri: where to write (an ``ObjectStoragePath`` URI, templated). Default:
        ``<output_base_uri>/<dag_id>/<run_id>/<task_id>[/map_<i>]/records.jsonl``.
    :param output_base_uri: base for the default ``output_uri`` (default: ``[gtm] output_base_uri``
        i.e. env ``AIRFLOW__GTM__OUTPUT_BASE_URI``, else ``$AIRFLOW_HOME/gtm-data``).
    :param limit: stop after this many records.
    :param resume: on a retried try, continue after the last complete page instead of starting over
        (local files; other stores always start over, which also never duplicates lines).
    :param log_every_pages: progress is logged every this many pages.
    :param max_pages: safety bound: fail (without retries) rather than fetch more pages than this,
        so a list that never ends cannot run forever (``None``: no bound). Unlike ``limit``, reaching
        it is an error: the list was not fetched whole.
    :param max_records: the same bound in records (``None``, the default: no bound).
    """

    template_fields: Sequence[str] = ("conn_id", "output_uri", "output_base_uri", "limit")
    #: Default ``max_pages``: 100,000 pages is millions of records for every API here.
    default_max_pages: ClassVar[int | None] = 100_000
    ui_color = "#e8f4ea"
    hook_class: ClassVar[type[GtmBaseHook]]

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        output_uri: str | None = None,
        output_base_uri: str | None = None,
        limit: int | None = None,
        resume: bool = True,
        log_every_pages: int = 10,
        max_pages: int | None = -1,
        max_records: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_pages == -1:
            max_pages = self.default_max_pages
        for name, bound in (("max_pages", max_pages), ("max_records", max_records)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int) or bound < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {bound!r}")
        self.max_pages = max_pages
        self.max_records = max_records
        self.conn_id = conn_id or self.hook_class.default_conn_name
        self.output_uri = output_uri
        self.output_base_uri = output_base_uri
        if limit is not None and not isinstance(limit, str) and (not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
        self.limit: int | str | None = limit  # a template renders to a string
        self.resume = resume
        if log_every_pages < 1:
            raise ValueError(f"log_every_pages must be >= 1, got {log_every_pages!r}")
        self.log_every_pages = log_every_pages

    # -- what subclasses provide --------------------------------------------------------------

    def make_hook(self) -> GtmBaseHook:
        return self.hook_class(self.conn_id)

    def iter_pages(self, hook: GtmBaseHook, start: Any, limit: int | None) -> Iterator[Page]:
        """Pages of the list, starting at ``start`` (``None`` = the beginning)."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short description of what is fetched, for logs and messages."""
        return self.task_id

    def extra_xcom(self, last_page: Page | None) -> dict[str, Any]:
        """What the API adds to the XCom (e.g. ``total``)."""
        if last_page is not None and last_page.total is not None:
            return {"total": last_page.total}
        return {}

    # -- the loop -----------------------------------------------------------------------------

    def execute(self, context: Any) -> dict[str, Any]:
        limit = int(self.limit) if self.limit not in (None, "", "None") else None
        uri = self.output_uri or default_uri(context, self.output_base_uri, "records.jsonl")
        path = ObjectStoragePath(uri)
        writer = _JsonLinesWriter(path, resume=self.resume)
        state = writer.state or {}
        records, pages = int(state.get("records", 0)), int(state.get("pages", 0))
        start = state.get("next_state")
        if writer.state:
            self.log.info(
                "Resuming %s after %d complete pages (%d records) in %s", self.describe(), pages, records, uri
            )
        remaining = None if limit is None else max(0, limit - records)
        hook = self.make_hook()
        started = time.monotonic()
        last: Page | None = None
        success = False
        try:
            with airflow_errors(f"Fetching {self.describe()}"):
                if remaining != 0:
                    for page in self.iter_pages(hook, start, remaining):
                        self._check_bounds(pages + 1, records + len(page.records))
                        writer.write_records(page.records)
                        records += len(page.records)
                        pages += 1
                        last = page
                        writer.commit({"records": records, "pages": pages, "next_state": page.next_state})
                        if pages % self.log_every_pages == 0:
                            self._progress(records, pages, started, page.total)
            success = True
        finally:
            writer.close(success=success)
            hook.close()
        self._progress(records, pages, started, last.total if last else None, done=True)
        result = {"uri": str(path), "records": records, "pages": pages, **self.extra_xcom(last)}
        total = last.total if last is not None else None
        if total is not None and records != total and (limit is None or records < limit):
            # The list ended on its documented end signal, but the count differs from the API's own
            # total (records added or removed while paging, or an API that miscounts): say so.
            self.log.warning(
                "%s: the list ended with %d records but the API's total is %d", self.describe(), records, total
            )
            result["count_mismatch"] = {"records": records, "total": total}
        return result

    def _check_bounds(self, pages: int, records: int) -> None:
        """Fail, without retries, past ``max_pages``/``max_records`` (a list that does not end)."""
        for name, bound, value in (("max_pages", self.max_pages, pages), ("max_records", self.max_records, records)):
            if bound is not None and value > bound:
                raise AirflowFailException(
                    f"Fetching {self.describe()}: the list goes on past {name}={bound} ({pages} pages, "
                    f"{records} records) without its end signal; stopped. If the list really is this long, "
                    f"raise {name} (or pass {name}=None)."
                )

    def _progress(self, records: int, pages: int, started: float, total: int | None, *, done: bool = False) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        of_total = f" of {total}" if total is not None else ""
        self.log.info(
            "%s %s: %d records%s, %d pages, %.0f records/s",
            "Fetched" if done else "Fetching", self.describe(), records, of_total, pages, records / elapsed,
        )


def _check_policy(on_failures: Any, max_failure_ratio: Any, error: type[Exception]) -> None:
    """Validate the partial-failure policy (templated values are checked once rendered)."""
    if isinstance(on_failures, str) and "{{" in on_failures:
        return
    if on_failures not in FAILURE_POLICIES:
        raise error(f"on_failures must be one of {FAILURE_POLICIES}, got {on_failures!r}")
    if isinstance(max_failure_ratio, str) and "{{" in max_failure_ratio:
        return
    try:
        ratio = float(max_failure_ratio)
    except (TypeError, ValueError):
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise error(f"max_failure_ratio must be a number between 0 and 1, got {max_failure_ratio!r}")


def _load_records(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise GtmConfigError(
                "records must be a list of objects (or its JSON text); the rendered value is not JSON: "
                f"{value[:80]!r}"
            ) from None
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise GtmConfigError(f"records must be a list of objects, got {type(value).__name__}")
    return value


def read_json_lines(uri: str) -> Iterator[Any]:
    """Stream records from a JSON Lines file, one line at a time."""
    path = ObjectStoragePath(uri)
    if not path.exists():
        raise GtmConfigError(
            f"input_uri {uri!r} does not exist; point it at a JSON Lines file (e.g. a fetch XCom's uri)"
        )
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError:
                raise GtmConfigError(f"input_uri {uri!r}: line {number} is not valid JSON") from None


class GtmBatchOperator(BaseOperator):
    """Base of the batch-write operators: send records in chunks and account for every one.

    :param conn_id: the Airflow connection id (templated).
    :param records: records to send: a list (templated; e.g. from an upstream XCom), or its JSON text.
    :param input_uri: JSON Lines to send instead of ``records`` (templated), read a chunk at a time.
    :param failures_uri: where failures go, one JSON line each ``{"record", "identifier",
        "error_message", "status"}`` (templated; default next to the run's other outputs).
    :param results_uri: where the API's returned objects go (one per accepted record; default next
        to ``failures_uri``), so downstream tasks can use the ids the API assigned.
    :param batch_size: records per call (default: the API's limit).
    :param on_failures: ``"fail"`` (default: fail the task if any record failed), ``"warn"`` (succeed
        and log a warning) or ``"ratio"`` (fail only above ``max_failure_ratio``). The failures file
        and the XCom are written either way.
    :param max_failure_ratio: with ``on_failures="ratio"``, the largest acceptable failed/submitted.
    :param existing_is_success: count "already exists" answers (Octy duplicate identifiers,
        CustomerOS 409) as succeeded, so re-running after a lost response neither duplicates
        records nor fails on its own earlier work. They are still reported in the XCom as ``existing``.
    """

    template_fields: Sequence[str] = (
        "conn_id", "records", "input_uri", "failures_uri", "results_uri", "on_failures", "max_failure_ratio",
    )
    ui_color = "#fdf1e0"
    hook_class: ClassVar[type[GtmBaseHook]]
    max_batch_size: ClassVar[int] = 500
    #: How many assigned ids go into the XCom itself (all of them are in results_uri).
    max_xcom_ids: ClassVar[int] = 1000

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        records: list[Any] | str | None = None,
        input_uri: str | None = None,
        failures_uri: str | None = None,
        results_uri: str | None = None,
        output_base_uri: str | None = None,
        batch_size: int | None = None,
        on_failures: str = "fail",
        max_failure_ratio: float = 0.0,
        existing_is_success: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (records is None) == (input_uri is None):
            raise ValueError(
                f"{type(self).__name__}: pass exactly one of records= (a list, e.g. from an upstream XCom) "
                "or input_uri= (a JSON Lines file)"
                + (", not both" if records is not None else "; neither was given")
            )
        _check_policy(on_failures, max_failure_ratio, ValueError)
        if batch_size is not None and (not isinstance(batch_size, int) or not 1 <= batch_size <= self.max_batch_size):
            raise ValueError(f"batch_size must be an integer from 1 to {self.max_batch_size}, got {batch_size!r}")
        self.conn_id = conn_id or self.hook_class.default_conn_name
        self.records = records
        self.input_uri = input_uri
        self.failures_uri = failures_uri
        self.results_uri = results_uri
        self.output_base_uri = output_base_uri
        self.batch_size = batch_size
        self.on_failures = on_failures
        self.max_failure_ratio = max_failure_ratio
        self.existing_is_success = existing_is_success

    # -- what subclasses provide --------------------------------------------------------------

    def make_hook(self) -> GtmBaseHook:
        return self.hook_class(self.conn_id)

    def send(self, hook: GtmBaseHook, records: Iterable[Any]) -> Iterator[BatchResult]:
        """Send the records and yield one checked result per chunk."""
        raise NotImplementedError

    def assigned_id(self, accepted: Any) -> Any:
        """The id the API assigned to an accepted record (``None`` when it assigns none)."""
        return None

    def describe(self) -> str:
        return self.task_id

    # -- the loop -----------------------------------------------------------------------------

    def _input(self) -> Iterator[Any]:
        if self.input_uri:
            return read_json_lines(self.input_uri)
        return iter(_load_records(self.records))

    def execute(self, context: Any) -> dict[str, Any]:
        failures_uri = self.failures_uri or default_uri(context, self.output_base_uri, "failures.jsonl")
        results_uri = self.results_uri or re.sub(r"[^/]*$", "results.jsonl", failures_uri, count=1)
        failures_path, results_path = ObjectStoragePath(failures_uri), ObjectStoragePath(results_uri)
        failures_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.parent.mkdir(parents=True, exist_ok=True)
        submitted = succeeded = failed = existing = 0
        reasons: Counter[str] = Counter()
        examples: dict[str, list[Any]] = {}
        ids: list[Any] = []
        hook = self.make_hook()
        with (
            airflow_errors(f"Sending {self.describe()}"),
            failures_path.open("wb") as failures_fh,
            results_path.open("wb") as results_fh,
        ):
            try:
                for result in self.send(hook, self._input()):
                    result.check()
                    submitted += result.submitted
                    succeeded += result.succeeded
                    lines = []
                    for accepted in result.accepted:
                        lines.append(_dumps(accepted) + "\n")
                        new_id = self.assigned_id(accepted)
                        if new_id is not None and len(ids) <= self.max_xcom_ids:
                            ids.append(new_id)
                    for failure in result.failures:
                        if failure.already_exists and self.existing_is_success:
                            existing += 1
                            succeeded += 1
                            lines.append(_dumps({"existing": True, **failure.to_json()}) + "\n")
                            if failure.existing_id is not None and len(ids) <= self.max_xcom_ids:
                                ids.append(failure.existing_id)
                            continue
                        failed += 1
                        reasons[failure.error_message] += 1
                        examples.setdefault(failure.error_message, [])
                        if len(examples[failure.error_message]) < 5:
                            examples[failure.error_message].append(failure.identifier)
                        failures_fh.write((_dumps(failure.to_json()) + "\n").encode())
                    results_fh.write("".join(lines).encode())
            finally:
                hook.close()
        if submitted != succeeded + failed:
            raise AirflowFailException(
                f"accounting error: submitted {submitted} != succeeded {succeeded} + failed {failed}"
            )
        summary: dict[str, Any] = {
            "submitted": submitted,
            "succeeded": succeeded,
            "failed": failed,
            "failures_uri": str(failures_path),
            "results_uri": str(results_path),
        }
        if existing:
            summary["existing"] = existing
        if ids:
            summary["ids"] = ids[: self.max_xcom_ids]
            if len(ids) > self.max_xcom_ids:
                summary["ids_truncated"] = True
        self._log_summary(summary, reasons, examples)
        self._apply_policy(context, summary)
        return summary

    def _log_summary(self, summary: dict[str, Any], reasons: Counter[str], examples: dict[str, list[Any]]) -> None:
        self.log.info(
            "%s: submitted %d, succeeded %d, failed %d%s",
            self.describe(), summary["submitted"], summary["succeeded"], summary["failed"],
            f", already existing {summary['existing']}" if summary.get("existing") else "",
        )
        for message, count in reasons.most_common(20):
            self.log.warning("  %d x %r, e.g. %s", count, message, ", ".join(map(str, examples[message])))
        if summary["failed"]:
            self.log.warning("Every failure, with its record: %s", summary["failures_uri"])

    def _apply_policy(self, context: Any, summary: dict[str, Any]) -> None:
        _check_policy(self.on_failures, self.max_failure_ratio, AirflowFailException)
        max_ratio = float(self.max_failure_ratio)
        failed, submitted = summary["failed"], summary["submitted"]
        if not failed or self.on_failures == "warn":
            return
        ratio = failed / submitted if submitted else 0.0
        if self.on_failures == "ratio" and ratio <= max_ratio:
            self.log.warning("%.1f%% failed, within max_failure_ratio %.1f%%", ratio * 100, max_ratio * 100)
            return
        # Push the summary before failing so downstream tasks and people can still see what went wrong.
        context["ti"].xcom_push(key="return_value", value=summary)
        over = f" ({ratio:.1%} > max_failure_ratio {max_ratio:.1%})" if self.on_failures == "ratio" else ""
        raise AirflowFailException(
            f"{self.describe()}: {failed} of {submitted} records failed{over}; see {summary['failures_uri']}"
        )
