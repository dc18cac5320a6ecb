"""Batching and partial-failure results, shared by every batch write of every API.

A batch call answers with what it accepted and what it refused, in the API's own shape. The API
module turns that into a :class:`BatchResult` with :func:`reconcile`, which matches every refused
entry back to the record that was sent, so that each submitted record ends either succeeded or in
``failures`` with the API's own message: ``submitted == succeeded + failed``, always.

**Confirmation rule** (one for every write): a record counts as succeeded only when the answer
confirms it: it is among the objects the API returned, or the API's own summary count accounts for
it unambiguously. An answer that confirms nothing (empty, ``{}``, a summary that does not add up)
makes the unconfirmed records failures with an "outcome unknown" message, never successes.

**Pre-send check**: :func:`split_invalid` refuses, per record and before anything is sent, values
that cannot be sent faithfully (NaN, Infinity, lone surrogates, non-JSON types), naming the field.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from itertools import islice
from typing import Any

from airflow_provider_gtm.core import redact
from airflow_provider_gtm.core.deferral import GtmLongWaitError
from airflow_provider_gtm.core.errors import (
    GtmApiError,
    GtmConfigError,
    GtmError,
    GtmOutcomeUnknownError,
    GtmRateLimitError,
    GtmServerError,
    GtmTransportError,
)
from airflow_provider_gtm.core.gcfreeze import long_lived_objects_frozen

log = logging.getLogger(__name__)
redact.protect(log)  # no secret reaches a log line, even outside a task (core/redact.py)

#: The failure message of a record the answer neither confirmed nor refused (it may have been applied).
NOT_ACKNOWLEDGED = "outcome unknown, the API's answer neither confirms nor refuses this record"
#: A one-call-per-record loop stops after this many outage errors in a row (:func:`is_outage`, each
#: after the client's own retries): the API is down or the key is blocked, and every further record
#: would spend the whole retry budget again. What was not sent is left for the task's retry (the
#: write ledger resumes it).
MAX_CONSECUTIVE_OUTAGE_ERRORS = 3
#: The failure message of a record not sent because the loop stopped at an outage.
NOT_SENT_OUTAGE = (
    "not sent: {count} calls in a row met an outage (server errors, no connection or a rate-limit block); "
    "sent again on retry"
)


def is_outage(error: GtmApiError) -> bool:
    """An error that outlasted the client's retries and says nothing about the record itself.

    A 5xx or transport failure (the API is down or unreachable) or a 429 whose wait outlasts the
    budget (an Oktopost key block: nothing was processed).
    """
    if isinstance(error, GtmServerError | GtmTransportError | GtmOutcomeUnknownError | GtmRateLimitError):
        return True
    return error.status is not None and error.status >= 500


def applied_nothing(error: GtmApiError) -> bool:
    """An outage after which the record is known not applied, or safe to send again.

    A :class:`GtmOutcomeUnknownError` (a non-idempotent write that timed out or met a 5xx) may
    have been applied: it is resolved by a lookup or by a person, never resent blindly.
    """
    return is_outage(error) and not isinstance(error, GtmOutcomeUnknownError)


class Outcome(str, Enum):  # noqa: UP042 - StrEnum is Python 3.11+, the provider runs on 3.10
    """What became of a record that did not succeed: set where the failure is made, never read from words.

    The message (``Failure.error_message``) is for people; this field is what the batch loop and the
    write ledger act on.
    """

    #: The API refused the record (a 4xx, a ``failed_to_*`` entry, a pre-send check): final.
    REFUSED = "refused"
    #: The record may or may not have been applied (a lost answer, an answer that confirms nothing):
    #: a lookup settles it where the API can tell, else a person; never resent blindly.
    UNKNOWN = "unknown"
    #: Sent, and known not applied (a server error or outage on a call that applied nothing): the
    #: task's retry sends it again.
    NOT_APPLIED = "not_applied"
    #: Never sent (the loop stopped at an outage before reaching it): the task's retry sends it.
    NOT_SENT = "not_sent"


def error_outcome(error: GtmApiError) -> Outcome:
    """The outcome of a record whose call ended in ``error`` (after the client's own retries)."""
    if isinstance(error, GtmOutcomeUnknownError):
        return Outcome.UNKNOWN
    return Outcome.NOT_APPLIED if applied_nothing(error) else Outcome.REFUSED


@dataclass
class Failure:
    """One record that did not succeed, with the API's own words and what became of it (``outcome``)."""

    record: Any
    identifier: Any
    error_message: str
    status: int | None = None
    already_exists: bool = False
    #: The id of the record that already exists, when the API tells it (CustomerOS 409).
    existing_id: Any = None
    outcome: Outcome = Outcome.REFUSED
    #: "Already exists" answered to the client's own retry of this write (an earlier attempt of
    #: the same call may have created it): this task's own work, a success.
    own_work: bool = False

    def __post_init__(self) -> None:
        # The API's words may echo the request's credentials: they never reach a failures file.
        self.error_message = redact.scrub(self.error_message)

    @property
    def resend(self) -> bool:
        """Known not applied (or never sent): the task's retry sends it again."""
        return self.outcome in (Outcome.NOT_APPLIED, Outcome.NOT_SENT)

    @property
    def sent(self) -> bool:
        """Whether the record reached the API at all."""
        return self.outcome is not Outcome.NOT_SENT

    def to_json(self) -> dict[str, Any]:
        """The failure-file line: ``{"record", "identifier", "error_message", "status", "outcome"}``
        (+ ``already_exists``, ``existing_id``)."""
        line = {
            "record": self.record,
            "identifier": self.identifier,
            "error_message": self.error_message,
            "status": self.status,
            "outcome": self.outcome.value,
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
        """Every record of a chunk failed with the same error (e.g. outcome unknown, or a 4xx).

        A :class:`GtmLongWaitError` is not a failure of the records (nothing was sent; the task
        defers until the wait ends and sends them then): it is raised again.
        """
        if isinstance(error, GtmLongWaitError):
            raise error
        message = error.api_message if isinstance(error, GtmApiError) else error
        if isinstance(error, GtmApiError) and status is None:
            status = error.status
        outcome = error_outcome(error) if isinstance(error, GtmApiError) else Outcome.REFUSED
        failures = [Failure(r, identifier(r), message, status, outcome=outcome) for r in records]
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
    confirmed_count: int | None = None,
    status: int | None = None,
    already_exists: Callable[[str], bool] = lambda message: False,
) -> BatchResult:
    """Match an API's accepted/refused lists back to the records of the chunk that was sent.

    - Each refused entry is matched to a sent record with the same key (``record_key`` /
      ``rejected_key``). A refusal tied to no record leaves the records not confirmed one to one
      "outcome unknown", with its message in theirs (it may be any of them).
    - With ``accepted_key``, a record not refused succeeds only when an accepted object has its key.
    - Without it, the records not refused succeed only when the API's count of successes
      (``confirmed_count``, else the number of ``accepted`` objects) is exactly the number of them.
    - Every other record is a failure with :data:`NOT_ACKNOWLEDGED` ("outcome unknown"): an empty
      or ``{}`` answer confirms nothing, so it never counts as success.
    """
    pending: dict[Any, list[int]] = defaultdict(list)
    for index, record in enumerate(chunk):
        pending[freeze(record_key(record))].append(index)
    resolved: set[int] = set()
    failures: list[Failure] = []
    unmatched: list[Failure] = []  # refusals that matched no sent record
    for entry in rejected:
        key = rejected_key(entry)
        message = rejected_message(entry)
        slots = pending.get(freeze(key))
        if slots:
            index = slots.pop(0)
            resolved.add(index)
            failures.append(Failure(chunk[index], key, message, status, already_exists(message)))
        else:
            unmatched.append(Failure(entry, key, message, status, already_exists(message)))

    unresolved = [index for index in range(len(chunk)) if index not in resolved]
    if accepted_key is not None:
        acknowledged: dict[Any, int] = defaultdict(int)
        for item in accepted:
            acknowledged[freeze(accepted_key(item))] += 1
        unconfirmed = []
        for index in unresolved:
            key = freeze(record_key(chunk[index]))
            if acknowledged.get(key, 0) > 0:
                acknowledged[key] -= 1
            else:
                unconfirmed.append(index)
    else:
        confirmed = len(accepted) if confirmed_count is None else confirmed_count
        # Counted confirmation holds only when the count accounts for every record not refused
        # and no refusal is left that could belong to one of them.
        unconfirmed = [] if confirmed == len(unresolved) and not unmatched else unresolved
    if unconfirmed:
        note = ""
        if unmatched:
            said = "; ".join(sorted({f.error_message for f in unmatched}))[:300]
            note = f" (the API also refused {len(unmatched)} entries tied to no record: {said})"
        for index in unconfirmed:
            record = chunk[index]
            failures.append(Failure(record, record_key(record), NOT_ACKNOWLEDGED + note, status,
                                    outcome=Outcome.UNKNOWN))
            resolved.add(index)
    elif unmatched:
        log.warning("the API confirmed every record sent and also refused %d entries tied to no record: %s",
                    len(unmatched), "; ".join(f.error_message for f in unmatched[:5]))

    succeeded = len(chunk) - len(resolved)
    result = BatchResult(submitted=len(chunk), succeeded=succeeded, accepted=list(accepted), failures=failures)
    if result.submitted != result.succeeded + result.failed:
        raise GtmError(
            f"the API reported {len(rejected)} refusals for {len(chunk)} records sent; "
            "cannot account for every record"
        )
    return result


def confirm_count(result: BatchResult, confirmed: Any, identifier: Callable[[Any], Any],
                  *, status: int | None = None) -> BatchResult:
    """Apply the confirmation rule to a result built from refusals only (e.g. CustomerOS bulk details).

    ``confirmed`` is the API's own count of successes (its summary). Unless it is an integer equal
    to ``result.succeeded``, the records counted as succeeded are not confirmed: they become
    "outcome unknown" failures (their objects leave ``accepted``).
    """
    if isinstance(confirmed, int) and not isinstance(confirmed, bool) and confirmed == result.succeeded:
        return result
    if not result.succeeded:
        return result
    said = "no count of successes" if confirmed is None else f"{confirmed!r} successes"
    message = f"{NOT_ACKNOWLEDGED} (its summary says {said} for {result.succeeded} records not refused)"
    unconfirmed = result.accepted
    result.failures.extend(Failure(record, identifier(record), message, status, outcome=Outcome.UNKNOWN)
                           for record in unconfirmed)
    result.accepted = []
    result.succeeded = 0
    return result.check()


def answer_confirms(answer: Any) -> bool:
    """Whether a one-record write's answer confirms it: a non-empty object, list or value."""
    if answer is None:
        return False
    if isinstance(answer, Mapping | list | str):
        return bool(answer)
    return True


def mark_own_work(result: BatchResult, retried: bool) -> BatchResult:
    """Flag the "already exists" failures of a call whose earlier attempt may have applied it."""
    if retried:
        for failure in result.failures:
            if failure.already_exists:
                failure.own_work = True
    return result


#: Asked before each call of a one-call-per-record loop (:func:`send_each`); it raises a
#: :class:`GtmApiError` to stop the loop before the next call (a killed task, a lost lease).
_BEFORE_EACH_CALL: ContextVar[Callable[[], None] | None] = ContextVar("gtm_before_each_call", default=None)


@contextlib.contextmanager
def asking_before_each_call(check: Callable[[], None]) -> Iterator[None]:
    """Within the block, :func:`send_each` calls ``check()`` before every call it makes.

    A chunk of a one-call-per-record API is many calls (Oktopost: up to a minute of them under its
    rate limit); a check between chunks only would let a killed task go on sending for that long.
    """
    token = _BEFORE_EACH_CALL.set(check)
    try:
        yield
    finally:
        _BEFORE_EACH_CALL.reset(token)


def send_each(
    records: Sequence[Any],
    send_one: Callable[[Any], Any],
    identifier: Callable[[Any], Any],
    *,
    already_exists: Callable[[GtmApiError], Any] = lambda error: None,
    confirms: Callable[[Any], bool] = answer_confirms,
) -> BatchResult:
    """Send records one call each (APIs without a batch endpoint) and collect a :class:`BatchResult`.

    ``send_one(record)`` returns the API's object for the record. A :class:`GtmApiError` (after the
    client's own retries) makes that record a failure with the API's message; a write whose outcome
    is unknown is reported as such. ``already_exists(error)`` returns the existing id (or ``True``)
    when the error means "already exists", so the failure is flagged for the caller's policy.
    An answer that ``confirms`` rejects (by default an empty answer or ``{}``) makes the record an
    "outcome unknown" failure: the call may have been applied, but nothing says it was.

    After :data:`MAX_CONSECUTIVE_OUTAGE_ERRORS` outage errors in a row (:func:`is_outage`,
    each after the client's own retries) the loop stops: the records not sent yet are failures
    with outcome ``NOT_SENT`` (:data:`NOT_SENT_OUTAGE`), like those whose server error applied nothing,
    so the batch operator fails retryably and its retry sends them.
    """
    result = BatchResult(submitted=len(records))
    consecutive = 0
    before_call = _BEFORE_EACH_CALL.get()
    for position, record in enumerate(records):
        if before_call is not None:
            try:
                before_call()
            except GtmApiError as stop:
                # Not sent (the task was killed, or lost its lease): what the records before it
                # settled goes with the error, like a long wait's (operators/deferral.py).
                result.submitted = position
                stop.partial = result.check()
                raise
        if consecutive >= MAX_CONSECUTIVE_OUTAGE_ERRORS:
            message = NOT_SENT_OUTAGE.format(count=consecutive)
            log.warning("stopping after %d outage errors in a row; %d records not sent", consecutive,
                        len(records) - position)
            result.failures.extend(Failure(r, identifier(r), message, None, outcome=Outcome.NOT_SENT)
                                   for r in records[position:])
            break
        try:
            answer = send_one(record)
            consecutive = 0
            if confirms(answer):
                result.accepted.append(answer)
                result.succeeded += 1
            else:
                result.failures.append(Failure(record, identifier(record), NOT_ACKNOWLEDGED, None,
                                               outcome=Outcome.UNKNOWN))
        except GtmLongWaitError as wait:
            # Not sent: the task defers. What the records before it settled goes with the error.
            result.submitted = position
            wait.partial = result.check()
            raise
        except GtmApiError as error:
            consecutive = consecutive + 1 if is_outage(error) else 0
            existing = already_exists(error)
            result.failures.append(
                Failure(
                    record,
                    identifier(record),
                    error.api_message,
                    error.status,
                    already_exists=existing is not None,
                    existing_id=existing if existing is not True else None,
                    outcome=error_outcome(error),
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
    chunk: Sequence[Any],
    problem: Callable[[Any], str | None],
    identifier: Callable[[Any], Any],
    *,
    convertible: tuple[type, ...] = (),
) -> tuple[BatchResult, list[Any]]:
    """Check each record before sending: ``(failures of the records that fail, records to send)``.

    ``problem(record)`` returns why the record cannot be sent (naming the field), or ``None``. Before
    it, :func:`unsendable` refuses values no API can receive faithfully (every batch path calls
    this function, so the check is the same for all; ``convertible`` names the extra types the
    hook converts itself, e.g. Oktopost's datetimes). A refused record is a failure with that
    reason and no status, and is never sent.
    """
    refused = BatchResult()
    valid: list[Any] = []
    for record in chunk:
        reason = unsendable(record, convertible) or problem(record)
        if reason is None:
            valid.append(record)
        else:
            refused.submitted += 1
            refused.failures.append(Failure(record, identifier(record), reason, None))
    return refused, valid


_MAX_DEPTH = 64


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(text: str) -> str | None:
    found = _SURROGATE.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def _clean_text(text: str) -> bool:
    return text.isascii() or _SURROGATE.search(text) is None


def _plainly_sendable(value: Any, depth: int) -> bool:
    """Whether ``value`` is made only of exact JSON types with nothing to refuse (the common case).

    Exact-type dispatch (``type(x) is str``): no ABC ``isinstance`` per value. ``False`` only
    means "not certain": :func:`unsendable`'s full walk then decides and names the field.
    """
    kind = type(value)
    if kind is dict:
        if depth >= _MAX_DEPTH:
            return False
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or _SURROGATE.search(key) is None):
                return False
            item_kind = type(item)
            if item_kind is str:
                if not (item.isascii() or _SURROGATE.search(item) is None):
                    return False
            elif item is not None and item_kind is not int and item_kind is not bool and \
                    not _plainly_sendable(item, depth + 1):
                return False
        return True
    if kind is str:
        return _clean_text(value)
    if value is None or kind is int or kind is bool:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return depth < _MAX_DEPTH and all(_plainly_sendable(item, depth + 1) for item in value)
    return False


def unsendable(record: Any, convertible: tuple[type, ...] = ()) -> str | None:
    """Why ``record`` cannot be sent as JSON or form data faithfully, naming the field; else ``None``.

    Refused: NaN and ±Infinity (not JSON, RFC 8259), strings holding a lone surrogate (a broken
    emoji: not encodable as UTF-8, and a JSON ``\\udXXX`` escape of it is replaced or refused by
    servers), values JSON has no type for (bytes, sets, dates, objects), non-string keys and
    nesting deeper than 64 levels. Values of the ``convertible`` types are left to the hook.
    """
    return None if _plainly_sendable(record, 0) else _walk(record, convertible)


def _walk(record: Any, convertible: tuple[type, ...]) -> str | None:
    """:func:`unsendable`'s full walk: every value, naming the first field that cannot be sent."""
    stack: list[tuple[str, Any, int]] = [("", record, 0)]
    while stack:
        where, value, depth = stack.pop()
        name = f"field {where!r}" if where else "the record"
        if value is None or isinstance(value, bool | int) or (convertible and isinstance(value, convertible)):
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                return f"{name} is {value!r}, which JSON cannot carry; send null or a number"
            continue
        if isinstance(value, str):
            bad = _lone_surrogate(value) if not value.isascii() else None
            if bad:
                return f"{name} holds a lone surrogate {bad} (broken Unicode, e.g. half an emoji); fix the text"
            continue
        if depth >= _MAX_DEPTH:
            return f"{name} is nested more than {_MAX_DEPTH} levels deep"
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    return f"{name} has a key {key!r} that is not a string"
                bad = _lone_surrogate(key) if not key.isascii() else None
                if bad:
                    return f"{name} has a key holding a lone surrogate {bad}"
                stack.append((f"{where}.{key}" if where else key, item, depth + 1))
            continue
        if isinstance(value, list | tuple):
            stack.extend((f"{where}[{i}]", item, depth + 1) for i, item in enumerate(value))
            continue
        return f"{name} is a {type(value).__name__}, which JSON cannot carry; convert it first"
    return None


def run_batches(
    records: Iterable[Any],
    size: int,
    send_chunk: Callable[[list[Any]], BatchResult],
) -> Iterator[BatchResult]:
    """Send records in chunks of ``size`` and yield each chunk's checked result.

    Each chunk runs with the objects that existed before it frozen (core/gcfreeze.py): its answer
    is thousands of new objects, and in a process with Airflow loaded each collection they
    triggered walked all of Airflow's (~5 ms a chunk of 500, half the hook's CPU).
    """
    for chunk in chunked(records, size):
        with long_lived_objects_frozen():
            result = send_chunk(chunk)
        yield result.check()


def collect(results: Iterable[BatchResult]) -> BatchResult:
    """Fold per-chunk results into one."""
    total = BatchResult()
    for result in results:
        total.extend(result)
    return total.check()
