"""What every fetch and batch-write operator shares, written once for the four APIs: the two loops.

- :class:`GtmFetchOperator` streams pages from a hook's paginator into a JSON Lines file at ``output_uri`` (one
  page in memory at a time; ``operators/output.py`` writes it), checkpoints after each page so that a retried
  task resumes after the last complete page, and returns a small XCom ``{"uri", "records", "pages"}``.
- :class:`GtmBatchOperator` reads records (a list, or JSON Lines at ``input_uri``) one chunk at a time, settles
  each chunk exactly once against its write ledger (``core/settlement.py``), writes every failure to
  ``failures_uri`` with the API's reason, and returns ``{"submitted", "succeeded", "failed", "failures_uri"}``.
  ``sync=`` and ``dry_run=`` are ``operators/sync.py``'s, through the seams ``select_input`` and ``after_settled``.

Both are generic over their hook type (``GtmFetchOperator[OctyHook]``): ``self.hook`` is built on
first use in ``execute`` (never at DAG parse) and closed when ``execute`` ends.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_gtm.compat import AirflowException, AirflowFailException, BaseOperator, ObjectStoragePath
from airflow_provider_gtm.core.gcfreeze import long_lived_objects_frozen
from airflow_provider_gtm.core.lease import StopsOnKill
from airflow_provider_gtm.operators._validation import check_failure_policy
from airflow_provider_gtm.operators.deferral import LongWaitDeferral, defers_long_waits, settled_before_wait
from airflow_provider_gtm.operators.errors import airflow_errors
from airflow_provider_gtm.operators.hook_owner import HookOwner, HookT, LazyHookClass
from airflow_provider_gtm.operators.inputs import batch_input, preflight
from airflow_provider_gtm.operators.lineage import GtmLineageMixin
from airflow_provider_gtm.operators.output import default_uri, fetch_binding, lease_path, open_fetch_writer
from airflow_provider_gtm.operators.progress import BatchProgress, hook_windows
from airflow_provider_gtm.operators.sync import SyncMixin
from airflow_provider_gtm.operators.watermark import IncrementalFetch, Watermark, default_variable_key

if TYPE_CHECKING:
    # Types only: the hooks (requests, urllib3, tenacity) load in execute, not when a DAG file is parsed.
    from airflow_provider_gtm.core.batching import BatchResult
    from airflow_provider_gtm.core.pagination import Page

class GtmFetchOperator(HookOwner[HookT], LongWaitDeferral, GtmLineageMixin, StopsOnKill, BaseOperator):
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
    :param watermark_field: the record field that grows over time (e.g. Octopus ``createdAt``): the
        XCom gets ``"watermark"`` (its newest value and the ids carrying it).
    :param since_last_watermark: continue from the watermark of the last successful run of this task
        (kept in an Airflow Variable, see :mod:`airflow_provider_gtm.operators.watermark`) and record
        the new one when the output is complete. Operators whose API can filter by it say how.
    :param watermark_variable: the Variable's key (default ``gtm_watermark__<dag_id>__<task_id>``).
    :param id_field: the record field that identifies a record (default ``id``).
    :param deferrable: defer a rate-limit wait longer than ``defer_waits_longer_than`` (an Oktopost
        key block, a long ``Retry-After``) instead of holding a worker; the fetch then resumes after
        its last complete page (operators/deferral.py). Default: ``[operators] default_deferrable``.
    :param defer_waits_longer_than: seconds (default ``[gtm] defer_waits_longer_than``, 60).
    """

    template_fields: Sequence[str] = ("conn_id", "output_uri", "output_base_uri", "limit")
    #: Default ``max_pages``: 100,000 pages is millions of records for every API here.
    default_max_pages: ClassVar[int | None] = 100_000
    ui_color = "#e8f4ea"

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
        watermark_field: str | None = None,
        since_last_watermark: bool = False,
        watermark_variable: str | None = None,
        id_field: str = "id",
        deferrable: bool | None = None,
        defer_waits_longer_than: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._init_long_wait(deferrable, defer_waits_longer_than)
        if since_last_watermark and not watermark_field:
            raise ValueError(f"{type(self).__name__}: since_last_watermark=True needs watermark_field=")
        self.watermark_field = watermark_field
        self.since_last_watermark = since_last_watermark
        self.watermark_variable = watermark_variable
        self.id_field = id_field
        self.incremental: IncrementalFetch | None = None
        if max_pages == -1:
            max_pages = self.default_max_pages
        for name, bound in (("max_pages", max_pages), ("max_records", max_records)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int) or bound < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {bound!r}")
        self.max_pages = max_pages
        self.max_records = max_records
        self.conn_id = conn_id or self.default_conn_id
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

    def pages(self, hook: HookT, start: Any, limit: int | None) -> Iterator[Page]:
        """The list's pages through ``hook``, from ``start`` (``None``: the beginning; else a
        checkpointed ``Page.next_state``) for at most ``limit`` records."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short description of what is fetched, for logs and messages."""
        return self.task_id

    def query_arguments(self) -> dict[str, Any]:
        """The rendered arguments that decide what is fetched (a checkpoint is bound to them).

        Every templated field but the output location; a subclass with a non-templated argument
        that changes the query adds it here.
        """
        skip = {"output_uri", "output_base_uri"}
        return {name: getattr(self, name, None) for name in self.template_fields if name not in skip}

    def watermark_seed(self) -> Watermark | None:
        """Where a watermark starts before any run recorded one (e.g. the origin time asked for)."""
        return None

    def start_incremental(self, context: Any, checkpoint: Mapping[str, Any] | None) -> IncrementalFetch | None:
        if not self.watermark_field:
            return None
        ti = context["ti"]
        key = (self.watermark_variable or default_variable_key(ti.dag_id, ti.task_id)) if self.since_last_watermark \
            else None
        return IncrementalFetch(field_name=self.watermark_field, id_field=self.id_field, variable_key=key,
                                run_id=ti.run_id, seed=self.watermark_seed(), checkpoint=checkpoint)

    def extra_xcom(self, last_page: Page | None) -> dict[str, Any]:
        """What the API adds to the XCom (e.g. ``total``)."""
        if last_page is not None and last_page.total is not None:
            return {"total": last_page.total}
        return {}

    # -- the loop -----------------------------------------------------------------------------

    @defers_long_waits
    def execute(self, context: Any) -> dict[str, Any]:
        limit = int(self.limit) if self.limit not in (None, "", "None") else None
        uri = self.output_uri or default_uri(context, self.output_base_uri, "records.jsonl")
        path = ObjectStoragePath(uri)
        binding = fetch_binding(context, self, self.query_arguments())
        writer = open_fetch_writer(path, resume=self.resume, binding=binding,
                                   session=self.writer_session(lease_path(path), context, f"the output {uri}"))
        if writer.ignored:
            self.log.warning("Not resuming from the checkpoint next to %s: %s; starting over", uri, writer.ignored)
        state = writer.state or {}
        records, pages = int(state.get("records", 0)), int(state.get("pages", 0))
        start = state.get("next_state")
        if writer.state:
            self.log.info(
                "Resuming %s after %d complete pages (%d records) in %s", self.describe(), pages, records, uri
            )
        remaining = None if limit is None else max(0, limit - records)
        self.incremental = incremental = self.start_incremental(context, writer.state)
        hook = self.hook
        started = time.monotonic()
        last: Page | None = None
        success = False
        try:
            with airflow_errors(f"Fetching {self.describe()}"), long_lived_objects_frozen():
                if remaining != 0:
                    for page in self.pages(hook, start, remaining):
                        self._check_bounds(pages + 1, records + len(page.records))
                        writer.write_records(page.records)
                        records += len(page.records)
                        pages += 1
                        last = page
                        if incremental is not None:
                            incremental.observe(page.records)
                        writer.commit({"records": records, "pages": pages, "next_state": page.next_state,
                                       **(incremental.checkpoint() if incremental is not None else {})})
                        if pages % self.log_every_pages == 0:
                            self._progress(records, pages, started, page.total)
            success = True
        finally:
            writer.close(success=success)
            self.release_hook()
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
        if incremental is not None:
            incremental.finish(result)
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


class GtmBatchOperator(SyncMixin, HookOwner[HookT], LongWaitDeferral, GtmLineageMixin, StopsOnKill, BaseOperator):
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
    :param deferrable: defer a rate-limit wait longer than ``defer_waits_longer_than`` (an Oktopost
        key block, a long ``Retry-After``) instead of holding a worker; on resume the write ledger
        carries every confirmed chunk (operators/deferral.py). Default: ``[operators] default_deferrable``.
    :param defer_waits_longer_than: seconds (default ``[gtm] defer_waits_longer_than``, 60).
    """

    template_fields: Sequence[str] = ("conn_id", "records", "input_uri", "failures_uri", "results_uri",
                                      "on_failures", "max_failure_ratio", "dry_run_flag")
    template_fields_renderers = {"records": "json"}  # the Rendered Template view shows JSON, not a Python repr
    ui_color = "#fdf1e0"
    max_batch_size: ClassVar[int] = 500
    #: How many assigned ids go into the XCom itself (all of them are in results_uri).
    max_xcom_ids: ClassVar[int] = 1000
    #: True when the API takes one call per record (the progress log's time left counts calls).
    one_call_per_record: bool = False

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
        deferrable: bool | None = None,
        defer_waits_longer_than: float | None = None,
        sync: str = "all", dry_run: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(sync=sync, dry_run=dry_run, **kwargs)  # SyncMixin's (operators/sync.py)
        self._init_long_wait(deferrable, defer_waits_longer_than)
        if (records is None) == (input_uri is None):
            raise ValueError(
                f"{type(self).__name__}: pass exactly one of records= (a list, e.g. from an upstream XCom) "
                "or input_uri= (a JSON Lines file)"
                + (", not both" if records is not None else "; neither was given")
            )
        check_failure_policy(on_failures, max_failure_ratio, ValueError)
        if batch_size is not None:
            from airflow_provider_gtm.core.batching import check_batch_size  # the hooks' own check

            check_batch_size(batch_size, type(self).__name__, self.max_batch_size)
        self.conn_id = conn_id or self.default_conn_id
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

    def send(self, hook: HookT, records: Iterable[Any]) -> Iterator[BatchResult]:
        """Send the records and yield one checked result per chunk."""
        raise NotImplementedError

    def assigned_id(self, accepted: Any) -> Any:
        """The id the API assigned to an accepted record (``None`` when it assigns none)."""
        return None

    # -- the loop -----------------------------------------------------------------------------

    def _input(self) -> Iterator[Any]:
        return self.select_input(batch_input(self.input_uri, self.records))

    #: Records per ledger chunk of a one-call-per-record API when ``batch_size`` is not given.
    ledger_chunk_size: ClassVar[int] = 50

    def chunk_size(self) -> int:
        """Records per ledger chunk: one request (``batch_size``, else the hook's), or a run of one-record calls."""
        default = self.ledger_chunk_size if self.one_call_per_record else self.default_batch_size()
        return int(self.batch_size or default)

    def default_batch_size(self) -> int:
        return self.max_batch_size  # the most the API takes in one request: what the hooks send by default

    #: Record fields that name a record in messages (the first one present is used).
    identifier_fields: ClassVar[tuple[str, ...]] = ("customer_id", "item_id", "event_type", "email", "domain",
                                                    "name", "messageId", "id")

    def record_identifier(self, record: Any) -> Any:
        """What names a record in the failures file when the API gave no answer for it."""
        if isinstance(record, Mapping):
            for name in self.identifier_fields:
                if record.get(name) not in (None, ""):
                    return record[name]
            return None
        return record

    def validate_record(self, record: Any) -> str | None:
        """What is wrong with one record before anything is sent (``None``: nothing); per API."""
        return None

    def ledger_arguments(self) -> dict[str, Any]:
        """The arguments that decide what is sent: a retry with other arguments starts a new ledger."""
        names = ("operation", "kind", "conn_id", "batch_size", "existing_is_success")
        return {"class": type(self).__name__, **{n: getattr(self, n, None) for n in names}}

    def resolve_unknown(
        self, hook: HookT, records: list[Any], started_at: str | None
    ) -> tuple[list[Any], list[int]] | None:
        """Find out whether records an earlier try sent (its answer never recorded) were applied.

        Return ``(found, not_applied)``: the API's objects for the records it has (they count as
        succeeded, even if this task's earlier try created them) and the positions in ``records`` it
        does not have (sent again). ``None`` when the API cannot tell: nothing is resent and the
        records are reported as outcome unknown for a person to decide. Per API, in its operator.
        """
        return None

    def can_resolve_unknown(self, records: list[Any]) -> bool:
        """Whether :meth:`resolve_unknown` can settle these records (without asking the API): if so a
        lost answer fails the task retryably and the retry looks it up; else a person decides."""
        return False

    def confirm_own_work(self, hook: HookT, records: list[Any], started_at: str | None) -> list[bool] | None:
        """Per record met by "already exists": does the existing one match what was sent (``None``: unchecked)?"""
        return None

    def _preflight(self) -> str:
        """Check every record before the first write; return a digest of the input (one read, counted)."""
        check_failure_policy(self.on_failures, self.max_failure_ratio, AirflowFailException)
        where = f"input_uri {self.input_uri!r}" if self.input_uri else "records"
        with airflow_errors(f"Checking {self.describe()}"), long_lived_objects_frozen():
            digest, self._input_count = preflight(self._input(), self.validate_record, self.describe(), where)
        return digest

    @defers_long_waits
    def execute(self, context: Any) -> dict[str, Any]:
        # Loaded here, not at DAG parse time (see LazyHookClass).
        from airflow_provider_gtm.core.batching import chunked
        from airflow_provider_gtm.core.lease import LEDGER_LEASE, guarded, published
        from airflow_provider_gtm.core.ledger import LEDGER_DIR, ledger_key, open_ledger, task_ledger_key
        from airflow_provider_gtm.core.settlement import BatchTally, ChunkPolicy, outage_message, settle_chunk

        if self.is_dry_run():
            return self.plan_dry_run(context)
        input_digest = self._preflight()
        chunk_size = self.chunk_size()
        failures_uri = self.failures_uri or default_uri(context, self.output_base_uri, "failures.jsonl")
        results_uri = self.results_uri or re.sub(r"[^/]*$", "results.jsonl", failures_uri, count=1)
        failures_path, results_path = ObjectStoragePath(failures_uri), ObjectStoragePath(results_uri)
        failures_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.parent.mkdir(parents=True, exist_ok=True)
        directory = failures_path.parent / LEDGER_DIR / task_ledger_key(context)
        total, arguments = self._input_count, self.ledger_arguments()
        # One ledger per task instance, whatever its input (core/ledger.py), one live writer (core/lease.py):
        # it is read only once this try holds its lease, so a try taking over replays all it recorded.
        # The files are rewritten whole on every try from the ledger (carried results first), so a retry never
        # loses or duplicates what an earlier try recorded; each try's copy is published only while it holds the lease.
        with (
            airflow_errors(f"Sending {self.describe()}"),
            self.writer_session(directory / LEDGER_LEASE, context, f"the write ledger {directory}") as guard,
            published(failures_path, guard) as failures_fh,
            published(results_path, guard) as results_fh,
            long_lived_objects_frozen(),  # as in a fetch: each record is new dicts, Airflow's objects are old
        ):
            ledger = open_ledger(directory, input_digest, total, arguments, guard=guard.check_lease, log=self.log,
                                 legacy=directory.parent / ledger_key(context, input_digest, arguments))
            if not ledger.empty:
                self.log.info("Resuming %s from its write ledger %s", self.describe(), ledger.directory)
                chunk_size = ledger.chunk_size or chunk_size  # the chunks it recorded (see WriteLedger.chunk_size)
            hook = self.hook
            policy = ChunkPolicy(
                # The guard is asked before every call: a killed try (on_kill) or one that lost its
                # lease stops there, and the chunk records the rest as not sent.
                send=lambda part: guarded(settled_before_wait(self.send(hook, part)), guard),
                resolve=lambda part, started_at: self._resolve_lost(hook, part, started_at),
                confirm_own=lambda part, started_at: self.confirm_own_work(hook, part, started_at),
                can_resolve=self.can_resolve_unknown,
                identifier=self.record_identifier,
                existing_is_success=self.existing_is_success,
                label=self.describe(),
            )
            progress = BatchProgress(
                self.log, f"Sending {self.describe()}", total=total,
                windows=hook_windows(hook), calls_per_chunk=None if self.one_call_per_record else 1,
            )
            tally = BatchTally(failures_fh, results_fh, assigned_id=self.assigned_id, max_ids=self.max_xcom_ids)
            unknown = []
            tally.add_earlier(ledger)
            try:
                for index, chunk in enumerate(chunked(self._input(), chunk_size)):
                    settled = settle_chunk(ledger, index, chunk, policy)
                    unknown.extend(settled.unknown)
                    outcome = settled.outcome
                    if outcome is None:
                        continue
                    tally.add(outcome)
                    progress.chunk(tally.submitted, tally.succeeded, tally.failed)
                    if outcome.resend or outcome.inflight:
                        # Fail retryably now instead of spending the retry budget chunk after chunk.
                        raise AirflowException(outage_message(self.describe(), index, outcome, ledger.directory))
                for failure in unknown:
                    tally.add_unknown(failure)
                tally.add_left_over(ledger)
            finally:
                self.release_hook()
            summary = tally.summary(str(failures_path), str(results_path))
        self.after_settled(context, summary)
        tally.log_summary(self.log, self.describe(), summary)
        if tally.unknown:
            context["ti"].xcom_push(key="return_value", value=summary)
            raise AirflowFailException(
                f"{self.describe()}: {tally.unknown} records were sent (by an earlier try or this one) without an "
                "answer that says whether they were applied, and the API cannot tell; they were not sent again. "
                f"A person must decide: they are in the failures file {failures_path} as 'outcome unknown' "
                f"(write ledger: {ledger.directory})"
            )
        self._apply_policy(context, summary)
        return summary

    def _resolve_lost(self, hook: HookT, records: list[Any], started_at: str | None
                      ) -> tuple[list[Any], list[int]] | None:
        with airflow_errors(f"Looking up {self.describe()} sent by an earlier try"):
            return self.resolve_unknown(hook, records, started_at)

    def _apply_policy(self, context: Any, summary: dict[str, Any]) -> None:
        check_failure_policy(self.on_failures, self.max_failure_ratio, AirflowFailException)
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


__all__ = ["GtmBatchOperator", "GtmFetchOperator", "HookT", "LazyHookClass"]
