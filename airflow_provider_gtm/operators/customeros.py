"""CustomerOS operators: lookups and enrichment to JSON Lines, and organization/contact batch creates."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_gtm.apis.customeros import CUSTOMEROS
from airflow_provider_gtm.compat import AirflowException, AirflowFailException, BaseOperator, ObjectStoragePath
from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.core.records import encode_record
from airflow_provider_gtm.operators._validation import check_choice
from airflow_provider_gtm.operators.base import GtmBatchOperator, LazyHookClass
from airflow_provider_gtm.operators.deferral import default_deferrable, defers_long_waits
from airflow_provider_gtm.operators.errors import airflow_errors
from airflow_provider_gtm.operators.lookup import GtmLookupOperator
from airflow_provider_gtm.operators.output import lease_path

if TYPE_CHECKING:
    from airflow_provider_gtm.core.batching import BatchResult
    from airflow_provider_gtm.core.submissions import SubmissionLedger
    from airflow_provider_gtm.hooks.customeros import CustomerOSHook

CUSTOMEROS_LOOKUPS = tuple(CUSTOMEROS.resources)
CUSTOMEROS_OPERATIONS = tuple(CUSTOMEROS.operations)


def resume_from_trigger(what: str, event: dict[str, Any]) -> Any:
    """Turn a trigger's failure event into Airflow's meaning; return the event of a success.

    A timeout, a 5xx, a rate limit or a transport error fails the task so that Airflow retries it;
    auth and other 4xx answers fail it without retries.
    """
    status = event.get("status")
    if status == "success":
        return event
    message = f"{what}: {event.get('message', status)}"
    if status == "timeout" or (status == "error" and event.get("retryable")):
        raise AirflowException(message)
    raise AirflowFailException(message)


def _is_pending(answer: Any) -> bool:
    return isinstance(answer, dict) and answer.get("isComplete", True) is False and bool(answer.get("resultUrl"))


class CustomerOSLookupOperator(GtmLookupOperator["CustomerOSHook"]):
    """Look up or enrich a list of inputs in CustomerOS and write one JSON line per input.

    :param lookup: ``organizations`` (inputs: organization ids), ``person_enrichment`` (inputs:
        ``{"email": ...}`` or ``{"linkedinUrl": ...}``, optionally ``firstName``/``lastName``; answers
        that come later are polled until complete within ``poll_timeout``), ``organization_enrichment``
        (inputs: ``{"domain": ...}`` or ``{"linkedinUrl": ...}``) or ``email_verification`` (inputs:
        addresses).
    :param inputs: the list of inputs (templated; e.g. from an upstream XCom).
    :param poll_timeout: seconds to wait for one person enrichment to complete (for all of them
        together when deferred).
    :param deferrable: for ``person_enrichment``: submit every enrichment on the worker, then wait
        for all of them together in one :class:`CustomerOSPersonEnrichmentsTrigger` with no worker
        slot held. The submitted requests are recorded as they are answered (a submission ledger
        beside the output, keyed like the write ledger): a retried try polls them instead of
        submitting them again. Every lookup also defers a long rate-limit wait (see
        :class:`~airflow_provider_gtm.operators.deferral.LongWaitDeferral`). Default:
        ``[operators] default_deferrable``.

    Each output line is ``{"input": <input>, "result": <the API's answer>}``; the XCom is
    ``{"uri", "records", "inputs"}`` (see :class:`~airflow_provider_gtm.operators.lookup.GtmLookupOperator`).
    """

    template_fields: Sequence[str] = (*GtmLookupOperator.template_fields, "lookup")
    hook_class = LazyHookClass["CustomerOSHook"]("airflow_provider_gtm.hooks.customeros.CustomerOSHook")
    default_conn_id = CUSTOMEROS.default_conn_id
    default_api_host = CUSTOMEROS.default_host

    def __init__(
        self, *, lookup: str, inputs: list[Any] | str, poll_timeout: float = 600, deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(inputs=inputs, deferrable=deferrable, **kwargs)
        check_choice(type(self).__name__, "lookup", lookup, CUSTOMEROS_LOOKUPS)
        self.lookup = lookup
        self.poll_timeout = poll_timeout

    def describe(self) -> str:
        return f"CustomerOS {self.lookup}"

    lineage_api = CUSTOMEROS.name

    def lineage_endpoint(self) -> str:
        spec = CUSTOMEROS.resources.get(self.lookup)
        return spec.path if spec else self.lookup

    def answer(self, hook: CustomerOSHook, item: Any) -> Any:
        if self.lookup == "organizations":
            return hook.get_organization(str(item))
        if self.lookup == "email_verification":
            return hook.verify_email(str(item))
        if not isinstance(item, dict):
            raise GtmConfigError(f"{self.lookup} inputs must be objects such as {{'email': ...}}, got {item!r}")
        if self.lookup == "organization_enrichment":
            return hook.enrich_organization(domain=item.get("domain"), linkedin_url=item.get("linkedinUrl"))
        return hook.enrich_person(
            email=item.get("email"),
            linkedin_url=item.get("linkedinUrl"),
            first_name=item.get("firstName"),
            last_name=item.get("lastName"),
            timeout=self.poll_timeout,
        )

    # -- deferrable person enrichment: submit all on the worker, wait together in the triggerer ----

    @defers_long_waits
    def execute(self, context: Any) -> dict[str, Any]:
        if not (self.deferrable and self.lookup == "person_enrichment"):
            return super().execute(context)
        from airflow_provider_gtm.core.lease import LEDGER_LEASE

        uri = str(self.output_path(context))
        inputs = self.limited_inputs()
        directory = self._submissions_dir(context, uri, inputs)
        submitted = 0
        # One live submitter (core/lease.py): the ledger is read once this try holds its lease, and
        # the guard (kill flag, lease) is asked before every submission.
        try:
            what = f"the submission ledger {directory}"
            with airflow_errors(f"Submitting {len(inputs)} CustomerOS person enrichments"), \
                    self.writer_session(directory / LEDGER_LEASE, context, what) as guard:
                ledger = self._submissions(context, uri, inputs, guard.check_lease)
                if len(ledger):
                    self.log.info("%d of %d person enrichments were submitted by an earlier try (%s): polling them, "
                                  "not submitting them again", len(ledger), len(inputs), ledger.directory)
                hook = self.hook
                for index, item in enumerate(inputs):
                    if ledger.answer(index) is not None:
                        continue
                    if not isinstance(item, dict):
                        raise GtmConfigError(f"person_enrichment inputs must be objects such as {{'email': ...}}, "
                                             f"got {item!r}")
                    guard.check()
                    answer = hook.start_person_enrichment(
                        email=item.get("email"), linkedin_url=item.get("linkedinUrl"),
                        first_name=item.get("firstName"), last_name=item.get("lastName"),
                    )
                    # Recorded before the next submission: a retry re-uses it (core/submissions.py).
                    ledger.record(index, item, answer)
                    submitted += 1
        finally:
            self.release_hook()
        answers = [ledger.answer(index) for index in range(len(inputs))]
        pending = list(dict.fromkeys(str(a["resultUrl"]) for a in answers if a is not None and _is_pending(a)))
        self.log.info("Submitted %d person enrichments (%d recorded earlier); %d pending",
                      submitted, len(inputs) - submitted, len(pending))
        if not pending:
            return self._write_output(uri, ledger, inputs, {}, context)
        self.log.info("Deferring: the triggerer waits for the %d pending answers together", len(pending))
        from airflow_provider_gtm.triggers.customeros import CustomerOSPersonEnrichmentsTrigger

        self.defer(
            trigger=CustomerOSPersonEnrichmentsTrigger(
                conn_id=self.conn_id, result_urls=pending, timeout=self.poll_timeout
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        event = resume_from_trigger("CustomerOS person enrichments", event)
        # The same URI and ledger as before deferring: they depend only on the task instance and its inputs.
        uri = str(self.output_path(context))
        inputs = self.limited_inputs()
        return self._write_output(uri, self._submissions(context, uri, inputs), inputs, event.get("results") or {},
                                  context)

    def _submissions_dir(self, context: Any, uri: str, inputs: list[Any]) -> ObjectStoragePath:
        from airflow_provider_gtm.core.ledger import LEDGER_DIR, ledger_key

        digest = hashlib.sha256("".join(encode_record(item) + "\n" for item in inputs).encode()).hexdigest()
        key = ledger_key(context, digest, {"class": type(self).__name__, "lookup": self.lookup,
                                           "conn_id": self.conn_id})
        return ObjectStoragePath(uri).parent / LEDGER_DIR / key

    def _submissions(self, context: Any, uri: str, inputs: list[Any],
                     guard: Callable[[], None] | None = None) -> SubmissionLedger:
        """The submission ledger of this task instance and inputs, beside the output (like the write ledger)."""
        from airflow_provider_gtm.core.submissions import SubmissionLedger

        return SubmissionLedger(self._submissions_dir(context, uri, inputs), guard)

    def _write_output(self, uri: str, ledger: SubmissionLedger, inputs: list[Any],
                      results: dict[str, Any], context: Any = None) -> dict[str, Any]:
        from airflow_provider_gtm.core.lease import published

        path = ObjectStoragePath(uri)
        count = 0
        # Written whole under the output's lease and published in one step (a rename, one object
        # put): a second try writing at the same time can neither interleave nor half-overwrite it.
        with airflow_errors(f"Writing {path}"), \
                self.writer_session(lease_path(path), context or {}, f"the output {path}") as guard, \
                published(path, guard) as out:
            for index, item in enumerate(inputs):
                answer = ledger.answer(index)
                if answer is None:  # pragma: no cover - every input is recorded before deferring
                    raise AirflowException(f"CustomerOS person enrichment {index} has no recorded submission")
                result = results[str(answer["resultUrl"])] if _is_pending(answer) else answer
                out.write((encode_record({"input": item, "result": result}) + "\n").encode())
                count += 1
        self.log.info("Fetched CustomerOS person_enrichment: %d records", count)
        return {"uri": str(path), "records": count, "inputs": len(inputs)}


class CustomerOSBatchOperator(GtmBatchOperator["CustomerOSHook"]):
    """Create CustomerOS organizations (one call each; 409 = already exists, with its id) or contacts in bulk.

    :param operation: ``organizations.create`` (records: ``{"name", "website", "customId",
        "linkedinUrl", ...}``) or ``contacts.bulk_create`` (records: ``{"email", "linkedinUrl"}``).

    With ``existing_is_success=True`` an organization that already exists counts as succeeded and
    its existing id is returned among the ``ids``.
    """

    template_fields: Sequence[str] = (*GtmBatchOperator.template_fields, "operation")
    hook_class = LazyHookClass["CustomerOSHook"]("airflow_provider_gtm.hooks.customeros.CustomerOSHook")
    default_conn_id = CUSTOMEROS.default_conn_id
    default_api_host = CUSTOMEROS.default_host
    max_batch_size = CUSTOMEROS.batch_max
    sync_api = CUSTOMEROS.name

    def __init__(self, *, operation: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_choice(type(self).__name__, "operation", operation, CUSTOMEROS_OPERATIONS)
        self.operation = operation
        self.check_sync()
        # organizations.create is one call per organization (for the progress log's time left).
        self.one_call_per_record = operation == "organizations.create"

    def describe(self) -> str:
        return f"CustomerOS {self.operation}"

    lineage_api = CUSTOMEROS.name

    def lineage_endpoint(self) -> str:
        spec = CUSTOMEROS.operations.get(self.operation) or CUSTOMEROS.operations["contacts.bulk_create"]
        return spec.dataset

    def default_batch_size(self) -> int:
        return 50 if self.operation == "organizations.create" else 100  # the hook's defaults, as send() uses

    def send(self, hook: CustomerOSHook, records: Iterable[Any]) -> Iterator[BatchResult]:
        if self.operation == "organizations.create":
            return hook.iter_create_organizations(records, batch_size=self.batch_size or 50)
        return hook.iter_bulk_create_contacts(records, batch_size=self.batch_size or 100)

    def validate_record(self, record: Any) -> str | None:
        """The identity a record needs to be sent at all (the hook's own check, run before any write)."""
        from airflow_provider_gtm.hooks.customeros import contact_problem, organization_problem

        check = organization_problem if self.operation == "organizations.create" else contact_problem
        return check(record)

    def can_resolve_unknown(self, records: list[Any]) -> bool:
        spec = CUSTOMEROS.operations.get(self.operation)
        return spec is not None and spec.can_resolve(records)

    def resolve_unknown(
        self, hook: CustomerOSHook, records: list[Any], started_at: str | None
    ) -> tuple[list[Any], list[int]] | None:
        """Organizations: CustomerOS v1 has no lookup, but it refuses a second organization with the
        same website domain, customId or LinkedIn URL (409 with the existing id). So records that
        carry one of them are sent again: a 409 then means the lost try created it (a success).
        Contacts: no lookup and no such refusal: ``None`` (a person decides).
        """
        if not self.can_resolve_unknown(records):
            return None
        return [], list(range(len(records)))

    def assigned_id(self, accepted: Any) -> Any:
        if not isinstance(accepted, dict):
            return None
        return accepted.get("id") or accepted.get("contactId") or (accepted.get("contact") or {}).get("contactId")


class CustomerOSEnrichPersonOperator(BaseOperator):
    """Enrich one person in CustomerOS and return the completed answer (deferrable while pending).

    The request is sent on the worker; when CustomerOS answers 202 (pending) the task either
    defers to :class:`~airflow_provider_gtm.triggers.customeros.CustomerOSPersonEnrichmentTrigger`
    (``deferrable=True``, no worker slot held while waiting) or polls on the worker.

    :param person_email: / :param linkedin_url: who to enrich (one is required; templated). The
        argument is not called ``email``: that is ``BaseOperator.email``, the failure-alert recipients.
    :param first_name: / :param last_name: optional hints (templated).
    :param poll_timeout: seconds to wait for the answer to complete.
    :param deferrable: wait in the triggerer instead of on the worker (default:
        ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = ("conn_id", "person_email", "linkedin_url", "first_name", "last_name")

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        person_email: str | None = None,
        linkedin_url: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        poll_timeout: float = 600,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not person_email and not linkedin_url:
            raise ValueError(
                "CustomerOSEnrichPersonOperator: pass person_email= or linkedin_url= (CustomerOS needs one); "
                "email= is BaseOperator's failure-alert recipients, not the person to enrich"
            )
        self.conn_id = conn_id or CUSTOMEROS.default_conn_id
        self.person_email = person_email
        self.linkedin_url = linkedin_url
        self.first_name = first_name
        self.last_name = last_name
        self.poll_timeout = poll_timeout
        self.deferrable = default_deferrable() if deferrable is None else bool(deferrable)

    def execute(self, context: Any) -> Any:
        from airflow_provider_gtm.hooks.customeros import CustomerOSHook

        hook = CustomerOSHook(self.conn_id)
        email, linkedin_url = self.person_email or None, self.linkedin_url or None
        first_name, last_name = self.first_name or None, self.last_name or None
        try:
            with airflow_errors("CustomerOS person enrichment"):
                if not self.deferrable:
                    return hook.enrich_person(email=email, linkedin_url=linkedin_url, first_name=first_name,
                                              last_name=last_name, timeout=self.poll_timeout)
                first = hook.start_person_enrichment(email=email, linkedin_url=linkedin_url, first_name=first_name,
                                                     last_name=last_name)
        finally:
            hook.close()
        if not _is_pending(first):
            return first
        from airflow_provider_gtm.triggers.customeros import CustomerOSPersonEnrichmentTrigger

        self.defer(
            trigger=CustomerOSPersonEnrichmentTrigger(
                conn_id=self.conn_id, result_url=str(first["resultUrl"]), timeout=self.poll_timeout
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        return resume_from_trigger("CustomerOS person enrichment", event)["result"]
