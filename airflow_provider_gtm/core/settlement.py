"""Settling each chunk of a batch write exactly once, and accounting for every record of the task.

**Exactly-once rule** (one for every batch write of every API): a chunk's outcome comes from the
write ledger when an earlier try recorded it (nothing is sent), from a lookup when an earlier try
sent it and died before recording the answer (only where the API can tell), and otherwise from
sending what is still unsent. The ledger records a chunk as *sent* before the call and *done*
after the answer, so a kill at any point leaves a state the next try can act on without sending a
confirmed record twice:

- a record the API confirmed is carried, never resent;
- a record known not applied (``Outcome.NOT_APPLIED``/``NOT_SENT``: a server error, an outage stop,
  a rate-limit block) is resent by the next try;
- a record whose outcome is unknown (``Outcome.UNKNOWN``: a lost answer, an answer that confirms
  nothing) goes *in flight*: the next try looks it up where the API can tell (``resolve``), and
  otherwise it is reported for a person to decide. It is never resent blindly.

:func:`settle_chunk` applies the rule to one chunk; :class:`BatchTally` adds the settled outcomes up
and is the one place where result and failure lines are written. Neither needs Airflow: the batch
operator (``operators/base.py``) passes in how to send and how to look up.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, Any, Protocol

import msgspec

from airflow_provider_gtm.core import jsonio, redact
from airflow_provider_gtm.core.batching import BatchResult, Failure, Outcome
from airflow_provider_gtm.core.errors import GtmApiError, GtmError, GtmOutcomeUnknownError
from airflow_provider_gtm.core.ledger import ChunkOutcome, WriteLedger, chunk_content
from airflow_provider_gtm.core.records import encode_record

log = logging.getLogger(__name__)
redact.protect(log)  # no secret reaches a log line, even outside a task (core/redact.py)

#: The failure message of a record an earlier try sent whose outcome no lookup could settle.
OUTCOME_UNKNOWN_RETRY = (
    "outcome unknown: an earlier try sent this record and stopped before the answer was recorded; "
    "not sent again, check it and decide"
)
#: The failure message of a record whose write this try sent without a confirming answer (a
#: timeout or 5xx on a write the API does not deduplicate, an empty answer) and no lookup can settle.
OUTCOME_UNKNOWN_LOST = (
    "outcome unknown: the answer to this write was lost or confirmed nothing (timeout, 5xx, empty answer) "
    "and the API cannot tell whether it was applied; not sent again, check it and decide"
)

#: The failure message of a record an earlier try (with another input) sent without a recorded
#: answer, and which the changed input no longer holds.
OUTCOME_UNKNOWN_DROPPED = (
    "outcome unknown: an earlier try of this task instance sent this record and stopped before the answer "
    "was recorded, and the input has changed since and no longer holds it; check it and decide"
)

#: Where failure reasons past :attr:`BatchTally.max_reasons` distinct ones are counted.
OTHER_REASONS = "(other reasons, each in the failures file)"

#: ``send(records) -> one checked result per call``, in the order the records were given.
Send = Callable[[list[Any]], Iterable[BatchResult]]
#: ``resolve(records, window) -> (the API's objects for those it has, positions it lacks)``, or
#: ``None`` when the API cannot tell.
Resolve = Callable[[list[Any], "str | None"], "tuple[list[Any], list[int]] | None"]


class TaskLog(Protocol):
    """The two calls :meth:`BatchTally.log_summary` makes (a ``logging.Logger`` or an operator's ``log``)."""

    def info(self, event: Any, *args: Any) -> Any: ...
    def warning(self, event: Any, *args: Any) -> Any: ...


@dataclass
class ChunkPolicy:
    """What the API allows when settling a chunk (per operation, from its operator).

    :param send: sends records and yields one checked result per call.
    :param resolve: looks up records an earlier try sent without a recorded answer.
    :param can_resolve: whether ``resolve`` can settle these records (asked without calling the API).
    :param identifier: what names a record in the failures file.
    :param existing_is_success: an "already exists" answer counts as succeeded.
    :param label: what is written, for log lines.
    :param confirm_own: per record this task may have created (an "already exists" answer to the
        client's own retry, or to a resend after a lost answer): whether the existing record matches
        what was sent, so it is this task's work (``None``: the API cannot be asked; taken as its own).
    """

    send: Send
    resolve: Resolve
    can_resolve: Callable[[list[Any]], bool]
    identifier: Callable[[Any], Any]
    existing_is_success: bool = False
    label: str = "batch write"
    confirm_own: Callable[[list[Any], str | None], list[bool] | None] | None = None


@dataclass
class ChunkSettlement:
    """A chunk's settled outcome, and the records nobody can settle (reported, never resent).

    ``outcome`` is ``None`` when the whole chunk is unknown.
    """

    outcome: ChunkOutcome | None
    unknown: list[Failure] = field(default_factory=list)


def settle_chunk(ledger: WriteLedger, index: int, chunk: list[Any], policy: ChunkPolicy) -> ChunkSettlement:
    """Settle chunk ``index`` under the exactly-once rule (see the module doc); record it in ``ledger``.

    An error of the API (after the client's own retries) is raised after the ledger has recorded
    what the chunk's earlier calls settled; the next try resumes from there.
    """
    unknown: list[Failure] = []

    def report_unknown(records: Iterable[Any], message: str) -> None:
        unknown.extend(Failure(r, policy.identifier(r), message, None, outcome=Outcome.UNKNOWN) for r in records)

    recorded = ledger.count(index)
    if recorded is not None and recorded != len(chunk):
        # Positions in a ledger entry index the chunk it was written for: never apply them to other records.
        raise GtmError(f"{policy.label}: the write ledger {ledger.directory} recorded chunk {index} with {recorded} "
                       f"records, this try's chunk {index} has {len(chunk)}; nothing of it was sent. A person must "
                       "look (was the ledger or the input edited?)")
    content = chunk_content(chunk, policy.identifier)
    outcome = ledger.done(index)
    if outcome is None:
        seeded = None if ledger.unknown(index) else ledger.seed(content)
        if ledger.unknown(index):
            # An earlier try sent the chunk and died before recording the answer.
            outcome = ChunkOutcome(inflight=list(range(len(chunk))))
        elif seeded is not None:
            # An earlier try with another input or arguments met some of these records: what it
            # settled is not sent, what it left in flight is looked up from when it was sent.
            outcome, first_sent = seeded
            ledger.mark_sent(index, len(chunk), first_sent or datetime.now(timezone.utc).isoformat(), content)
            ledger.mark_done(index, outcome, answered=False)
        else:
            outcome = ChunkOutcome(resend=list(range(len(chunk))))
    if outcome.inflight:
        part = [chunk[i] for i in outcome.inflight]
        resolved = policy.resolve(part, ledger.window(index))
        if resolved is None:
            report_unknown(part, OUTCOME_UNKNOWN_RETRY)
            if not (outcome.accepted or outcome.failures or outcome.confirmed):
                return ChunkSettlement(None, unknown)
            return ChunkSettlement(ChunkOutcome(outcome.accepted, outcome.failures, confirmed=outcome.confirmed),
                                   unknown)
        found, not_applied = resolved
        log.info("%s chunk %d: an earlier try's answer was lost; the API has %d of its records, %d are sent again",
                 policy.label, index, len(found), len(not_applied))
        earlier = outcome
        outcome = earlier.merge(
            ChunkOutcome(accepted=list(found), resend=list(not_applied), touched=list(not_applied)),
            earlier.inflight,
        )
        # What the earlier try left to resend (not in flight) is still to be sent.
        outcome.resend = sorted({*outcome.resend, *earlier.resend})
        outcome.touched = sorted({*outcome.touched, *earlier.touched})
        ledger.mark_done(index, outcome)
    if not outcome.resend:
        return ChunkSettlement(outcome, unknown)

    positions = outcome.resend
    # What the API answers "already exists" for now may be this task's own earlier work.
    touched = set(outcome.touched)
    own = {i for i, position in enumerate(positions) if position in touched}
    part = [chunk[i] for i in positions]
    started_at = datetime.now(timezone.utc).isoformat()
    # The creation window of what this task may have created starts when it first sent the chunk.
    window = (ledger.started_at(index) if ledger.unknown(index) or ledger.done(index) else None) or started_at
    if len(positions) == len(chunk) and not ledger.unknown(index) and ledger.done(index) is None:
        ledger.mark_sent(index, len(chunk), started_at, content)
    else:
        # Resending part of a chunk: record what is in flight first, like a first send.
        outcome.resend, outcome.inflight = [], positions
        ledger.mark_sent(index, len(chunk), started_at, content)
        ledger.mark_done(index, outcome, answered=False)
    base = ChunkOutcome(outcome.accepted, outcome.failures, confirmed=outcome.confirmed)
    confirm_own = policy.confirm_own
    confirm = None if confirm_own is None else (lambda records: confirm_own(records, window))
    result = BatchResult()
    try:
        for piece in policy.send(part):
            result.extend(piece.check())
    except GtmApiError as error:
        # What earlier calls of this part settled is kept. Hooks send a part in order, one answer
        # per call: the first ``submitted`` are settled. The rest stays in flight when the call may
        # have been applied (a lookup, else a person), and is resent when the API answered with an
        # error before applying anything (refused, rate limit run out, connection never made).
        settled = result.submitted
        sent = base.merge(outcome_of(result, part[:settled], own=own, existing_is_success=policy.existing_is_success,
                                     confirm=confirm), positions[:settled])
        left = sent.inflight if isinstance(error, GtmOutcomeUnknownError) else sent.resend
        left.extend(positions[settled:])
        ledger.mark_done(index, sent)
        raise
    outcome = base.merge(outcome_of(result.check(), part, own=own, existing_is_success=policy.existing_is_success,
                                    confirm=confirm), positions)
    ledger.mark_done(index, outcome)
    if outcome.inflight and not policy.can_resolve([chunk[i] for i in outcome.inflight]):
        # Nothing can tell whether these landed: never resent, a person decides (the ledger keeps
        # them in flight, so a retry reports them the same way).
        report_unknown((chunk[i] for i in outcome.inflight), OUTCOME_UNKNOWN_LOST)
        outcome = ChunkOutcome(outcome.accepted, outcome.failures, resend=outcome.resend,
                               confirmed=outcome.confirmed, touched=outcome.touched)
    return ChunkSettlement(outcome, unknown)


def outage_message(label: str, index: int, outcome: ChunkOutcome, ledger: object) -> str:
    """Why a batch task stops at chunk ``index``: records left to resend or in flight after the client's retries.

    Server errors, a key block or lost answers: the task fails retryably at once, and the next try
    looks up what may have been applied, resends what was not, and resumes the rest from the ledger.
    """
    return (
        f"{label}: chunk {index}: {len(outcome.resend)} records met an outage (server errors, no connection "
        "or a rate-limit block; or not sent after several in a row) "
        f"and {len(outcome.inflight)} have an unknown outcome; failing so that Airflow "
        f"retries the task, which resumes from the write ledger {ledger}"
    )


def outcome_of(
    result: BatchResult, chunk: Sequence[Any], *, own: set[int] | None = None, existing_is_success: bool = False,
    confirm: Callable[[list[Any]], list[bool] | None] | None = None,
) -> ChunkOutcome:
    """A chunk's checked result as its ledger entry: what is settled, what is resent, what is in flight.

    ``own``: positions this task sent before (a lost answer or a server error): an "already exists"
    answer for them is this task's work, a success whatever ``existing_is_success`` says; so is one
    the client's own retry met (``Failure.own_work``), provided ``confirm`` (when given) says the
    existing record matches what was sent: one that does not is someone else's ("already exists").
    """
    own = own or set()
    outcome = ChunkOutcome(accepted=list(result.accepted))
    # Some answers confirm by count without returning objects: keep the count right.
    outcome.confirmed = max(0, result.succeeded - len(result.accepted))
    used: set[int] = set()
    candidates: list[Failure] = []
    for failure in result.failures:
        maybe_applied = failure.outcome is Outcome.UNKNOWN
        # A 5xx the API put in a per-record answer applied nothing for that record either.
        server_error = failure.status is not None and failure.status >= 500
        if failure.resend or maybe_applied or server_error:
            position = _position(chunk, failure.record, used)
            if position is not None:
                used.add(position)
                if maybe_applied:
                    outcome.inflight.append(position)
                else:
                    outcome.resend.append(position)
                    if failure.sent:
                        outcome.touched.append(position)
                continue
        position = _position(chunk, failure.record, used) if failure.already_exists else None
        if position is not None:
            used.add(position)
        mine = failure.own_work or (position is not None and position in own)
        if failure.already_exists and (existing_is_success or mine):
            candidates.append(failure)
            continue
        outcome.failures.append(failure.to_json())
    # Asked once per chunk, only when "already exists" is not a success anyway.
    matches = confirm([f.record for f in candidates]) if candidates and confirm and not existing_is_success else None
    for number, failure in enumerate(candidates):
        if matches is None or matches[number]:
            outcome.accepted.append({"existing": True, **failure.to_json()})
        else:
            outcome.failures.append(failure.to_json())
    return outcome


def _position(chunk: Sequence[Any], record: Any, used: set[int]) -> int | None:
    """Where a failed record sits in its chunk (hooks may hand back a copy, so compare by value)."""
    for i, candidate in enumerate(chunk):
        if i not in used and candidate is record:
            return i
    encoded = encode_record(record)
    for i, candidate in enumerate(chunk):
        if i not in used and encode_record(candidate) == encoded:
            return i
    return None


def _lines(objects: list[Any]) -> bytes:
    """Result lines for a chunk's accepted objects, in one encoder call (per object only for the rare
    object the fast encoder refuses, e.g. one echoing a NaN: :func:`encode_record` writes it anyway)."""
    try:
        return jsonio.encode_lines(objects)
    except (TypeError, ValueError, OverflowError, RecursionError, msgspec.EncodeError):
        return "".join(encode_record(item) + "\n" for item in objects).encode()


class BatchTally:
    """The running account of a batch task: counts, failure reasons, assigned ids, and its two files.

    Every settled chunk goes through :meth:`add` and every record reported for a person through
    :meth:`add_unknown`; they are the one place result lines (the API's objects) and failure lines
    (``{"record", "identifier", "error_message", "status", "outcome"}``) are written.
    ``submitted == succeeded + failed`` holds after every call (:meth:`check`).

    :param failures: binary file the failure lines go to.
    :param results: binary file the accepted objects go to.
    :param assigned_id: the id the API assigned to an accepted object (``None`` when it assigns none).
    :param max_ids: how many assigned ids the summary carries.
    """

    #: Examples of identifiers kept per failure reason.
    examples_per_reason = 5
    #: Distinct failure reasons counted one by one (memory stays flat with the input); the rest are lumped.
    max_reasons = 1000

    def __init__(self, failures: IO[bytes], results: IO[bytes], *, assigned_id: Callable[[Any], Any],
                 max_ids: int) -> None:
        self._failures = failures
        self._results = results
        self._assigned_id = assigned_id
        self._max_ids = max_ids
        self.submitted = self.succeeded = self.failed = self.existing = self.unknown = 0
        self.reasons: Counter[str] = Counter()
        self.examples: dict[str, list[Any]] = {}
        self.ids: list[Any] = []

    def add(self, outcome: ChunkOutcome) -> None:
        """Count a settled chunk and write its result and failure lines."""
        for accepted in outcome.accepted:
            if type(accepted) is dict and accepted.get("existing") is True:
                self.existing += 1
                new_id = accepted.get("existing_id")
            else:
                new_id = self._assigned_id(accepted)
            if new_id is not None and len(self.ids) <= self._max_ids:
                self.ids.append(new_id)
        self._results.write(_lines(outcome.accepted))
        succeeded = len(outcome.accepted) + outcome.confirmed
        self.submitted += succeeded
        self.succeeded += succeeded
        for line in outcome.failures:
            self._fail(line)

    def add_earlier(self, ledger: WriteLedger) -> None:
        """Count what earlier generations of the ledger settled (another input or arguments), once."""
        if ledger.prior is not None:
            for outcome in ledger.prior.outcomes():
                self.add(ChunkOutcome(outcome.accepted, outcome.failures, confirmed=outcome.confirmed))

    def add_left_over(self, ledger: WriteLedger) -> None:
        """Report records an earlier generation left in flight that this input no longer holds."""
        if ledger.prior is not None:
            for identifier, digest in ledger.prior.left_in_flight():
                self.add_unknown(Failure({"identifier": identifier, "digest": digest}, identifier,
                                         OUTCOME_UNKNOWN_DROPPED, None, outcome=Outcome.UNKNOWN))

    def add_unknown(self, failure: Failure) -> None:
        """Count and write a record whose outcome nobody can settle (a person decides)."""
        self.unknown += 1
        self._fail(failure.to_json())

    def _fail(self, line: dict[str, Any]) -> None:
        self.submitted += 1
        self.failed += 1
        message = str(line.get("error_message"))
        if message not in self.reasons and len(self.reasons) >= self.max_reasons:
            # Messages naming their record (Octy's "... customer_id: mx0") would grow without bound.
            message = OTHER_REASONS
        self.reasons[message] += 1
        examples = self.examples.setdefault(message, [])
        if len(examples) < self.examples_per_reason:
            examples.append(line.get("identifier"))
        self._failures.write((encode_record(line) + "\n").encode())

    def check(self) -> None:
        """Raise when the counts do not add up (a bug, never a partial failure of the API)."""
        if self.submitted != self.succeeded + self.failed:
            raise GtmError(
                f"accounting error: submitted {self.submitted} != succeeded {self.succeeded} + failed {self.failed}"
            )

    def log_summary(self, logger: TaskLog, label: str, summary: dict[str, Any]) -> None:
        """The task log's account: counts, the 20 most frequent reasons with examples, the failures file."""
        existing = f", already existing {self.existing}" if self.existing else ""
        logger.info("%s: submitted %d, succeeded %d, failed %d%s", label, self.submitted, self.succeeded,
                    self.failed, existing)
        for message, count in self.reasons.most_common(20):
            logger.warning("  %d x %r, e.g. %s", count, message, ", ".join(map(str, self.examples[message])))
        if self.failed:
            logger.warning("Every failure, with its record: %s", summary["failures_uri"])

    def summary(self, failures_uri: str, results_uri: str) -> dict[str, Any]:
        """The XCom: ``{"submitted", "succeeded", "failed", "failures_uri", "results_uri"}`` and, when
        there are any, ``existing``, ``ids`` (``ids_truncated``) and ``outcome_unknown``."""
        self.check()
        summary: dict[str, Any] = {
            "submitted": self.submitted,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "failures_uri": failures_uri,
            "results_uri": results_uri,
        }
        if self.existing:
            summary["existing"] = self.existing
        if self.ids:
            summary["ids"] = self.ids[: self._max_ids]
            if len(self.ids) > self._max_ids:
                summary["ids_truncated"] = True
        if self.unknown:
            summary["outcome_unknown"] = self.unknown
        return summary
