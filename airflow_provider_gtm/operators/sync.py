"""Change detection and dry runs for every batch write operator (``sync=`` and ``dry_run=``).

:class:`SyncMixin` is a base of :class:`~airflow_provider_gtm.operators.base.GtmBatchOperator`. It
reaches the batch loop through two seams only, so that the loop and the write ledger stay its own
business:

- :meth:`SyncMixin.select_input` filters the input records before they are chunked (both when the
  preflight checks them and when the loop sends them): with ``sync="changed"`` a record whose
  content is the one the API last confirmed for its key is left out and counted ``unchanged``;
- :meth:`SyncMixin.after_settled` is called with the summary once every record sent is settled
  (accepted, or in the failures file): the keys sent and confirmed get their new digest in the
  state (``core/syncstate.py``), the keys that failed or ended unknown are marked to be sent again,
  and each record sent gets a line in the sync history (key, digest, outcome, the API's id or words).

The state is read once per try, before the preflight, and written only after everything is
settled, so every try of a task instance selects the same records: a killed try's retry resumes
the same ledger and sends nothing twice.

``unchanged`` is beside the batch result, not inside it: ``submitted == succeeded + failed`` counts
what was sent, and ``submitted + unchanged`` is the input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from itertools import groupby
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_gtm.compat import AirflowFailException, ObjectStoragePath
from airflow_provider_gtm.operators._validation import check_failure_policy, is_template

if TYPE_CHECKING:
    from airflow_provider_gtm.apis.model import ApiSpec, Operation
    from airflow_provider_gtm.core.syncstate import SyncState

#: ``all``: send every input record (the default); ``changed``: only those new or changed since the
#: API last confirmed them.
SYNC_MODES = ("all", "changed")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


def as_flag(value: Any, name: str = "dry_run") -> bool:
    """A rendered boolean (a trigger form's Param renders to ``"True"``/``"False"`` in a template)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in (*_TRUE, *_FALSE):
        return value.strip().lower() in _TRUE
    raise AirflowFailException(f"{name} must be true or false, got {value!r}")


class _Selection:
    """One pass over the input against the state: what is sent, with its key and digest."""

    def __init__(self, state: SyncState, field: str, label: str) -> None:
        self.state = state
        self.field = field
        self.label = label
        self.unchanged = 0
        #: key → digest of every record this pass lets through.
        self.sent: dict[str, str] = {}
        #: Every key met in this pass (sent or unchanged): a second record with one is refused.
        self.seen: set[str] = set()

    def classify(self, record: Any) -> tuple[str | None, str | None, str]:
        """``(key, digest, verdict)``; verdict ``unchanged``, ``new``, ``changed`` or a problem."""
        from airflow_provider_gtm.core.syncstate import content_digest, record_key

        key = record_key(record, self.field)
        if key is None:
            return None, None, f"field {self.field!r} is missing; sync='changed' names every record by it"
        if key in self.seen:
            return key, None, f"{self.field} {key} appears twice in the input; a sync takes one record per key"
        self.seen.add(key)
        digest = content_digest(record)
        known = self.state.digest(key)
        return key, digest, ("unchanged" if known == digest else "changed" if known else "new")

    def select(self, records: Iterable[Any]) -> Iterator[Any]:
        self.unchanged, self.sent, self.seen = 0, {}, set()
        for number, record in enumerate(records, start=1):
            key, digest, verdict = self.classify(record)
            if key is None or digest is None:
                raise AirflowFailException(f"{self.label}: record {number} cannot be synced, nothing was sent: "
                                           f"{verdict}")
            if verdict == "unchanged":
                self.unchanged += 1
                continue
            self.sent[key] = digest
            yield record


class SyncMixin:
    """``sync=`` and ``dry_run=`` for a batch write operator (see the module doc).

    :param sync: ``"all"`` (default): send every record; ``"changed"``: send only the records new or
        changed since the API last confirmed them, by the operation's key in the API spec. The
        state lives under ``<output_base_uri>/_sync/<conn_id>/<operation>/`` (delete it for a
        full sync). ``<resource>.upsert`` (where the API has a create and an update sharing the key,
        e.g. Octy ``items.upsert``) creates the new records and updates the changed ones.
    :param dry_run: run every check that comes before the first write (the failure policy, each
        record's own check, change detection), send nothing, and write a plan
        (``would_create``, ``would_update``, ``would_delete``, ``unchanged``, ``invalid`` with
        reasons) to ``plan.json`` beside the failures file; the XCom has its counts. Templated (as
        ``dry_run_flag``): ``dry_run="{{ params.dry_run }}"`` works.
    """

    #: The API (spec name) this operator writes to (set by the API's operator).
    sync_api: ClassVar[str] = ""
    #: Templated attributes whose ``__init__`` argument has another name (``dry_run=`` is kept as
    #: ``dry_run_flag``: ``BaseOperator.dry_run()`` is Airflow's own).
    template_field_arguments: ClassVar[dict[str, str]] = {"dry_run_flag": "dry_run"}

    # What GtmBatchOperator provides (declared for the type checker).
    conn_id: str
    records: Any
    input_uri: str | None
    failures_uri: str | None
    output_base_uri: str | None
    on_failures: str
    max_failure_ratio: Any
    task_id: str
    log: Any

    def __init__(self, *, sync: str = "all", dry_run: bool | str = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if sync not in SYNC_MODES:
            raise ValueError(f"{type(self).__name__}: sync={sync!r} is not supported; use one of {SYNC_MODES}")
        if not is_template(dry_run):
            try:
                as_flag(dry_run)
            except AirflowFailException as error:
                raise ValueError(f"{type(self).__name__}: {error}") from None
        self.sync = sync
        # Not ``self.dry_run``: BaseOperator.dry_run() is Airflow's own (``airflow tasks test --dry-run``).
        self.dry_run_flag = dry_run
        self._selection: _Selection | None = None

    # -- what the API's operator provides -------------------------------------------------------

    def sync_operation(self) -> str:
        """The spec's operation name (``items.upsert``, ``campaigns.update``...)."""
        return str(getattr(self, "operation", "") or "")

    def check_sync(self) -> None:
        """Refuse at DAG parse what cannot be synced (called once the operation is known)."""
        name = self.sync_operation()
        if is_template(name) or not self.sync_api:
            return
        spec = self._api_spec()
        upsert = name in spec.upserts()
        if upsert and self.sync != "changed":
            raise ValueError(f"{type(self).__name__}: {name} tells new records from changed ones by the sync "
                             "state; it needs sync='changed'")
        if self.sync == "changed" and not self._key_field():
            raise ValueError(
                f"{type(self).__name__}: sync='changed' needs a field that names each record across runs, and "
                f"{spec.display_name} {name} has none in the API spec (each record is a new occurrence, "
                "e.g. an event); use sync='all'"
            )

    def _api_spec(self) -> ApiSpec:
        from airflow_provider_gtm.apis import by_name

        return by_name(self.sync_api)

    def _spec_operation(self) -> Operation | None:
        spec = self._api_spec()
        name = self.sync_operation()
        create = spec.upserts().get(name, (name, ""))[0]
        return spec.operations.get(create)

    def _key_field(self) -> str:
        operation = self._spec_operation()
        return operation.key if operation is not None else ""

    def routed_operation(self, record: Any) -> str:
        """The operation a record goes through: for ``<resource>.upsert``, the create when the state
        has never seen its key, else the update; otherwise the operation itself."""
        name = self.sync_operation()
        pair = self._api_spec().upserts().get(name) if self.sync_api else None
        if pair is None:
            return name
        from airflow_provider_gtm.core.syncstate import record_key

        state = self._selection.state if self._selection is not None else None
        key = record_key(record, self._key_field())
        return pair[1] if state is not None and key is not None and state.digest(key) is not None else pair[0]

    def send_routed(self, records: Iterable[Any], send: Any) -> Iterator[Any]:
        """Send ``records`` through ``send(operation, run)`` one run of same-operation records at a
        time, in input order (the settlement reads the answers in that order)."""
        for operation, run in groupby(records, key=self.routed_operation):
            yield from send(operation, list(run))

    # -- the seams GtmBatchOperator calls -------------------------------------------------------

    def _open_state(self) -> SyncState:
        from airflow_provider_gtm.core.syncstate import SyncState, state_directory
        from airflow_provider_gtm.operators.output import default_output_base

        base = self.output_base_uri or default_output_base()
        return SyncState.load(state_directory(base, str(self.conn_id), self.sync_operation()))

    def select_input(self, records: Iterator[Any]) -> Iterator[Any]:
        """The records to send: all of them, or with ``sync="changed"`` the new and changed ones."""
        if self.sync != "changed":
            return records
        if self._selection is None:
            state = self._open_state()
            self.log.info("Sync state %s: %d keys confirmed earlier", state.directory, len(state.digests))
            self._selection = _Selection(state, self._key_field(), self._label())
        return self._selection.select(records)

    def after_settled(self, context: Any, summary: dict[str, Any]) -> None:
        """Record what the API confirmed (every record sent and not in the failures file) in the state, and
        what happened to each record sent in the sync history."""
        selection, self._selection = self._selection, None
        if selection is None:
            return
        from datetime import datetime, timezone

        from airflow_provider_gtm.core.ledger import task_ledger_key
        from airflow_provider_gtm.core.syncstate import record_key
        from airflow_provider_gtm.operators.inputs import read_json_lines

        changes: dict[str, str | None] = dict(selection.sent)
        failed: dict[str, dict[str, Any]] = {}
        if summary.get("failed") and ObjectStoragePath(summary["failures_uri"]).exists():
            for line in read_json_lines(summary["failures_uri"]):
                key = record_key(line.get("record"), selection.field) if isinstance(line, Mapping) else None
                if key in changes:
                    changes[key] = None
                    failed[key] = line
        ids = self._assigned_ids(summary, selection.field, set(changes))
        ti, at = context["ti"], datetime.now(timezone.utc).isoformat(timespec="seconds")
        history = [{"key": key, "digest": digest, "at": at, "dag_id": ti.dag_id, "run_id": ti.run_id,
                    "task_id": ti.task_id, "map_index": getattr(ti, "map_index", -1),
                    **({"outcome": failed[key].get("outcome") or "refused",
                        "error_message": failed[key].get("error_message"), "status": failed[key].get("status")}
                       if key in failed else {"outcome": "succeeded", "api_id": ids.get(key)})}
                   for key, digest in selection.sent.items()]
        task_key = task_ledger_key(context)
        where = selection.state.record(changes, task_key)
        selection.state.record_history(history, task_key)
        # A retry after an earlier try of this task instance settled (and recorded) some records sees them as
        # unchanged, while its ledger carries them into ``submitted``: counted once, as submitted.
        carried = max(0, int(summary["submitted"]) - len(selection.sent))
        summary["unchanged"] = max(0, selection.unchanged - carried)
        self.log.info("%s: unchanged %d (not sent: the API confirmed the same content before); sync state %s",
                      self._label(), summary["unchanged"], where or selection.state.directory)

    def _assigned_ids(self, summary: Mapping[str, Any], field: str, keys: set[str]) -> dict[str, Any]:
        """key → the id the API assigned, from the results file where its objects carry the key field."""
        from airflow_provider_gtm.core.syncstate import record_key
        from airflow_provider_gtm.operators.inputs import read_json_lines

        assigned = getattr(self, "assigned_id", lambda accepted: None)
        # Oktopost answers in PascalCase (``Id`` for the ``id`` sent).
        fields = (field, field[:1].upper() + field[1:])
        ids: dict[str, Any] = {}
        uri = summary.get("results_uri")
        if not summary.get("succeeded") or not uri or not ObjectStoragePath(uri).exists():
            return ids
        for line in read_json_lines(uri):
            key = next((k for k in (record_key(line, f) for f in fields) if k is not None), None)
            if key in keys:
                ids[key] = assigned(line)
        return ids

    def describe(self) -> str:
        """A short description of what is written, for logs and messages (the API's operator says more)."""
        return self.task_id

    def _label(self) -> str:
        return self.describe()

    # -- dry run --------------------------------------------------------------------------------

    def is_dry_run(self) -> bool:
        return as_flag(self.dry_run_flag)

    def plan_dry_run(self, context: Any) -> dict[str, Any]:
        """Check everything a real run checks before its first write, send nothing, write the plan."""
        from airflow_provider_gtm.core.records import encode_record
        from airflow_provider_gtm.operators.inputs import batch_input
        from airflow_provider_gtm.operators.output import default_uri

        check_failure_policy(self.on_failures, self.max_failure_ratio, AirflowFailException)
        identify = getattr(self, "record_identifier", lambda record: record)
        validate = getattr(self, "validate_record", lambda record: None)
        plan: dict[str, list[Any]] = {"would_create": [], "would_update": [], "would_delete": [],
                                      "unchanged": [], "invalid": []}
        selection = _Selection(self._open_state(), self._key_field(), self._label()) \
            if self.sync == "changed" else None
        self._selection = selection
        for number, record in enumerate(batch_input(self.input_uri, self.records), start=1):
            identifier = identify(record)
            problem = validate(record)
            verdict = "new"
            if selection is not None:
                key, digest, verdict = selection.classify(record)
                if digest is None:
                    problem = problem or verdict
                elif not problem and verdict != "unchanged":
                    selection.sent[key or ""] = digest
            if problem:
                plan["invalid"].append({"record": number, "identifier": identifier, "reason": problem})
            elif verdict == "unchanged":
                plan["unchanged"].append(identifier)
            else:
                routed = self._api_spec().operations.get(self.routed_operation(record)) if self.sync_api else None
                write = routed.write if routed is not None else "create"
                plan[f"would_{write}"].append(identifier)
        self._selection = None
        counts = {name: len(entries) for name, entries in plan.items()}
        where = (re.sub(r"[^/]*$", "plan.json", self.failures_uri, count=1) if self.failures_uri
                 else default_uri(context, self.output_base_uri, "plan.json"))
        path = ObjectStoragePath(where)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(encode_record({"dry_run": True, "operation": self.sync_operation(), "sync": self.sync,
                                       "counts": counts, **plan}))
        self.log.warning(
            "DRY RUN of %s: NOTHING WAS SENT. Would create %d, update %d, delete %d; unchanged %d; invalid %d. "
            "Plan: %s", self._label(), counts["would_create"], counts["would_update"], counts["would_delete"],
            counts["unchanged"], counts["invalid"], path,
        )
        if counts["invalid"]:
            self.log.warning("A real run would send nothing: %d records are invalid (reasons in the plan), e.g. %s",
                             counts["invalid"], plan["invalid"][0])
        return {"dry_run": True, "sent": 0, **counts, "plan_uri": str(path)}


def plan_of(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The plan file a dry run's XCom points to."""
    return dict(json.loads(ObjectStoragePath(summary["plan_uri"]).read_text()))


__all__ = ["SYNC_MODES", "SyncMixin", "as_flag", "plan_of"]
