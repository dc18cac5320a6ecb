"""Batching and partial-failure results, shared by every batch write of every API.

A batch call answers with what it accepted and what it refused, in the API's own shape. The API
module turns that into a :class:`BatchResult` with :func:`reconcile`, which matches every refused
entry back to the record that was sent, so that each submitted record ends either succeeded or in
``failures`` with the API's own message: ``submitted == succeeded + failed``, always.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from airflow_provider_gtm.core.errors import GtmApiError, GtmConfigError, GtmError

OUTCOME_UNKNOWN = "outcome unknown"
NOT_ACKNOWLEDGED = "the API reported no outcome for this record"


@dataclass
class Failure:
    """One record the API refused (or whose outcome is unknown), with the API's own words."""

    record: Any
    identifier: Any
    error_message: str
    status: int | None = None
    already_exists: bool = False
    #: The id of the record that already exists, when the API tells it (CustomerOS 409).
    existing_id: Any = None

    def to_json(self) -> dict[str, Any]:
        """The failure-file line: ``{"record", "identifier", "error_message", "status"}`` (+ ``existing_id``)."""
        line = {
            "record": self.record,
            "identifier": self.identifier,
            "error_message": self.error_message,
            "status": self.status,
        }
        if self.already_exists:
            line["already_exists"] = True
        if self.existing_id is not None:
            line["existing_id"] = self.existing_id
        return line


@dataclass
class BatchResult:
    """Outcome of sending records: counts, the objects the API returned, and every failure."""

    submitted: int = 0
    succeeded: int = 0
    accepted: list[Any] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def check(self) -> BatchResult:
        """Assert the invariant ``submitted == succeeded + failed``."""
        if self.submitted != self.succeeded + self.failed:
            raise GtmError(
                f"batch accounting mismatch: submitted {self.submitted} != succeeded "
                f"{self.succeeded} + failed {self.failed}"
            )
        return self

    def extend(self, other: BatchResult) -> BatchResult:
        """Add another result into this one (for callers that want one total)."""
        self.submitted += other.submitted
        self.succeeded += other.succeeded
        self.accepted.extend(other.accepted)
        self.failures.extend(other.failures)
        return self

    @classmethod
    def all_failed(
        cls,
        records: Sequence[Any],
        error: GtmApiError | str,
        identifier: Callable[[Any], Any],
        *,
        status: int | None = None,
    ) -> BatchResult:
        """Every record of a chunk failed with the same error (e.g. outcome unknown, or a 4xx)."""
        message = error.api_message if isinstance(error, GtmApiError) else error
        if isinstance(error, GtmApiError) and status is None:
            status = error.status
        failures = [Failure(r, identifier(r), message, status) for r in records]
        return cls(submitted=len(records), succeeded=0, failures=failures).check()


def chunked(records: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Split an iterable into lists of at most ``size`` items without reading ahead."""
    if size < 1:
        raise ValueError(f"batch size must be >= 1, got {size}")
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def freeze(value: Any) -> Hashable:
    """A hashable, order-independent key for a JSON value (to match echoed records)."""
    if isinstance(value, Hashable) and not isinstance(value, tuple):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def reconcile(
    chunk: Sequence[Any],
    *,
    accepted: Sequence[Any],
    rejected: Sequence[Any],
    record_key: Callable[[Any], Any],
    rejected_key: Callable[[Any], Any],
    rejected_message: Callable[[Any], str],
    accepted_key: Callable[[Any], Any] | None = None,
    status: int | None = None,
    already_exists: Callable[[str], bool] = lambda message: False,
) -> BatchResult:
    """Match an API's accepted/refused lists back to the records of the chunk that was sent.

    - Each refused entry is matched to a sent record with the same key (``record_key`` /
      ``rejected_key``); unmatched ones are still reported, with the entry as the record.
    - When ``accepted_key`` is given, sent records that are neither refused nor among the accepted
      objects are reported as failed ("the API reported no outcome"), so nothing goes missing.
    - Without ``accepted_key``, the records not refused count as succeeded.
    """
    pending: dict[Any, list[int]] = defaultdict(list)
    for index, record in enumerate(chunk):
        pending[freeze(record_key(record))].append(index)
    resolved: set[int] = set()
    failures: list[Failure] = []
    for entry in rejected:
        key = rejected_key(entry)
        message = rejected_message(entry)
        slots = pending.get(freeze(key))
        if slots:
            index = slots.pop(0)
            resolved.add(index)
            failures.append(Failure(chunk[index], key, message, status, already_exists(message)))
        else:
            failures.append(Failure(entry, key, message, status, already_exists(message)))

    if accepted_key is not None:
        acknowledged: dict[Any, int] = defaultdict(int)
        for item in accepted:
            acknowledged[freeze(accepted_key(item))] += 1
        for index, record in enumerate(chunk):
            if index in resolved:
                continue
            key = freeze(record_key(record))
            if acknowledged.get(key, 0) > 0:
                acknowledged[key] -= 1
            else:
                failures.append(Failure(record, record_key(record), NOT_ACKNOWLEDGED, status))
                resolved.add(index)

    succeeded = len(chunk) - len(resolved)
    extra = len(failures) - len(resolved)  # refusals that matched no sent record
    if extra:
        # The API refused entries we cannot tie to a sent record: count them against the
        # records we could not confirm, never more than were sent.
        succeeded = max(0, succeeded - extra)
    result = BatchResult(submitted=len(chunk), succeeded=succeeded, accepted=list(accepted), failures=failures)
    if result.submitted != result.succeeded + result.failed:
        raise GtmError(
            f"the API reported {len(rejected)} refusals for {len(chunk)} records sent; "
            "cannot account for every record"
        )
    return result


def send_each(
    records: Sequence[Any],
    send_one: Callable[[Any], Any],
    identifier: Callable[[Any], Any],
    *,
    already_exists: Callable[[GtmApiError], Any] = lambda error: None,
) -> BatchResult:
    """Send records one call each (APIs without a batch endpoint) and collect a :class:`BatchResult`.

    ``send_one(record)`` returns the API's object for the record. A :class:`GtmApiError` (after the
    client's own retries) makes that record a failure with the API's message; a write whose outcome
    is unknown is reported as such. ``already_exists(error)`` returns the existing id (or ``True``)
    when the error means "already exists", so the failure is flagged for the caller's policy.
    """
    result = BatchResult(submitted=len(records))
    for record in records:
        try:
            result.accepted.append(send_one(record))
            result.succeeded += 1
        except GtmApiError as error:
            existing = already_exists(error)
            result.failures.append(
                Failure(
                    record,
                    identifier(record),
                    error.api_message,
                    error.status,
                    already_exists=existing is not None,
                    existing_id=existing if existing is not True else None,
                )
            )
    return result.check()


def check_batch_size(batch_size: Any, api: str, maximum: int | None = None) -> int:
    """``batch_size`` if it is an integer from 1 (to ``maximum``), else a :class:`GtmConfigError` naming it."""
    is_count = isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size >= 1
    if not is_count or (maximum is not None and batch_size > maximum):
        allowed = f"from 1 to {maximum}" if maximum else ">= 1"
        raise GtmConfigError(f"{api}: batch_size must be an integer {allowed}, got {batch_size!r}.")
    return batch_size


def split_invalid(
    chunk: Sequence[Any], problem: Callable[[Any], str | None], identifier: Callable[[Any], Any]
) -> tuple[BatchResult, list[Any]]:
    """Check each record before sending: ``(failures of the records that fail, records to send)``.

    ``problem(record)`` returns why the record cannot be sent (naming the field), or ``None``. A
    refused record is a failure with that reason and no status, and is never sent.
    """
    refused = BatchResult()
    valid: list[Any] = []
    for record in chunk:
        reason = problem(record)
        if reason is None:
            valid.append(record)
        else:
            refused.submitted += 1
            refused.failures.append(Failure(record, identifier(record), reason, None))
    return refused, valid


def run_batches(
    records: Iterable[Any],
    size: int,
    send_chunk: Callable[[list[Any]], BatchResult],
) -> Iterator[BatchResult]:
    """Send records in chunks of ``size`` and yield each chunk's checked result."""
    for chunk in chunked(records, size):
        yield send_chunk(chunk).check()


def collect(results: Iterable[BatchResult]) -> BatchResult:
    """Fold per-chunk results into one."""
    total = BatchResult()
    for result in results:
        total.extend(result)
    return total.check()
