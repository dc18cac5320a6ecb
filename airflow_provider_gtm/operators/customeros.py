"""CustomerOS operators: lookups and enrichment to JSON Lines, and organization/contact batch creates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_gtm.core.batching import BatchResult
from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.core.pagination import Page
from airflow_provider_gtm.hooks.customeros import CustomerOSHook
from airflow_provider_gtm.operators._validation import check_choice, is_template
from airflow_provider_gtm.operators.base import GtmBatchOperator, GtmFetchOperator, _load_records, airflow_errors
from airflow_provider_gtm.triggers.customeros import CustomerOSPersonEnrichmentTrigger

CUSTOMEROS_LOOKUPS = ("organizations", "person_enrichment", "organization_enrichment", "email_verification")
CUSTOMEROS_OPERATIONS = ("organizations.create", "contacts.bulk_create")


class CustomerOSLookupOperator(GtmFetchOperator):
    """Look up or enrich a list of inputs in CustomerOS and write one JSON line per input.

    :param lookup: ``organizations`` (inputs: organization ids), ``person_enrichment`` (inputs:
        ``{"email": ...}`` or ``{"linkedinUrl": ...}``, optionally ``firstName``/``lastName``; answers
        that come later are polled until complete within ``poll_timeout``), ``organization_enrichment``
        (inputs: ``{"domain": ...}`` or ``{"linkedinUrl": ...}``) or ``email_verification`` (inputs:
        addresses).
    :param inputs: the list of inputs (templated; e.g. from an upstream XCom).
    :param poll_timeout: seconds to wait for one person enrichment to complete.

    Each output line is ``{"input": <input>, "result": <the API's answer>}``.
    """

    template_fields: Sequence[str] = (*GtmFetchOperator.template_fields, "lookup", "inputs")
    hook_class = CustomerOSHook

    def __init__(
        self, *, lookup: str, inputs: list[Any] | str, poll_timeout: float = 600, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        check_choice(type(self).__name__, "lookup", lookup, CUSTOMEROS_LOOKUPS)
        if not is_template(inputs) and not isinstance(inputs, list | str):
            raise ValueError("CustomerOSLookupOperator: inputs must be a list (or a template rendering to one)")
        self.lookup = lookup
        self.inputs = inputs
        self.poll_timeout = poll_timeout

    def describe(self) -> str:
        return f"CustomerOS {self.lookup}"

    def _one(self, hook: CustomerOSHook, item: Any) -> Any:
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

    def iter_pages(self, hook: CustomerOSHook, start: Any, limit: int | None) -> Iterator[Page]:  # type: ignore[override]
        inputs = _load_records(self.inputs)
        first = int(start or 0)
        end = len(inputs) if limit is None else min(len(inputs), first + limit)
        # One "page" per input: a retried task resumes after the last input it wrote.
        for index in range(first, end):
            record = {"input": inputs[index], "result": self._one(hook, inputs[index])}
            yield Page(records=[record], number=index - first, total=len(inputs), state=index,
                       next_state=index + 1 if index + 1 < end else None)


class CustomerOSBatchOperator(GtmBatchOperator):
    """Create CustomerOS organizations (one call each; 409 = already exists, with its id) or contacts in bulk.

    :param operation: ``organizations.create`` (records: ``{"name", "website", "customId",
        "linkedinUrl", ...}``) or ``contacts.bulk_create`` (records: ``{"email", "linkedinUrl"}``).

    With ``existing_is_success=True`` an organization that already exists counts as succeeded and
    its existing id is returned among the ``ids``.
    """

    template_fields: Sequence[str] = (*GtmBatchOperator.template_fields, "operation")
    hook_class = CustomerOSHook
    max_batch_size = 500

    def __init__(self, *, operation: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_choice(type(self).__name__, "operation", operation, CUSTOMEROS_OPERATIONS)
        self.operation = operation

    def describe(self) -> str:
        return f"CustomerOS {self.operation}"

    def send(self, hook: CustomerOSHook, records: Iterable[Any]) -> Iterator[BatchResult]:  # type: ignore[override]
        if self.operation == "organizations.create":
            return hook.iter_create_organizations(records, batch_size=self.batch_size or 50)
        return hook.iter_bulk_create_contacts(records, batch_size=self.batch_size or 100)

    def assigned_id(self, accepted: Any) -> Any:
        if not isinstance(accepted, dict):
            return None
        return accepted.get("id") or accepted.get("contactId") or (accepted.get("contact") or {}).get("contactId")


class CustomerOSEnrichPersonOperator(BaseOperator):
    """Enrich one person in CustomerOS and return the completed answer (deferrable while pending).

    The request is sent on the worker; when CustomerOS answers 202 (pending) the task either
    defers to :class:`~airflow_provider_gtm.triggers.customeros.CustomerOSPersonEnrichmentTrigger`
    (``deferrable=True``, no worker slot held while waiting) or polls on the worker.

    :param email: / :param linkedin_url: who to enrich (one is required; templated).
    :param first_name: / :param last_name: optional hints (templated).
    :param poll_timeout: seconds to wait for the answer to complete.
    """

    template_fields: Sequence[str] = ("conn_id", "email", "linkedin_url", "first_name", "last_name")

    def __init__(
        self,
        *,
        conn_id: str = CustomerOSHook.default_conn_name,
        email: str | None = None,
        linkedin_url: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        poll_timeout: float = 600,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not email and not linkedin_url:
            raise ValueError("CustomerOSEnrichPersonOperator: pass email= or linkedin_url= (CustomerOS needs one)")
        self.conn_id = conn_id
        self.email = email
        self.linkedin_url = linkedin_url
        self.first_name = first_name
        self.last_name = last_name
        self.poll_timeout = poll_timeout
        self.deferrable = deferrable

    def execute(self, context: Any) -> Any:
        hook = CustomerOSHook(self.conn_id)
        with airflow_errors("CustomerOS person enrichment"):
            if not self.deferrable:
                return hook.enrich_person(
                    # BaseOperator.email (alert recipients) is shadowed here: issue #13 item 4 renames it.
                    email=self.email or None,  # type: ignore[arg-type]
                    linkedin_url=self.linkedin_url or None,
                    first_name=self.first_name or None, last_name=self.last_name or None,
                    timeout=self.poll_timeout,
                )
            first = hook.start_person_enrichment(
                email=self.email or None,  # type: ignore[arg-type]  # see above
                linkedin_url=self.linkedin_url or None,
                first_name=self.first_name or None, last_name=self.last_name or None,
            )
        if first.get("isComplete", True) or not first.get("resultUrl"):
            return first
        self.defer(
            trigger=CustomerOSPersonEnrichmentTrigger(
                conn_id=self.conn_id, result_url=first["resultUrl"], timeout=self.poll_timeout
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        if event.get("status") == "success":
            return event["result"]
        if event.get("status") == "timeout":
            raise AirflowException(event.get("message", "person enrichment timed out"))
        raise AirflowFailException(event.get("message", "person enrichment failed"))
