"""CustomerOS operators: lookups and enrichment to JSON Lines, and organization/contact batch creates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from airflow_provider_gtm.core.batching import BatchResult
from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.core.pagination import Page
from airflow_provider_gtm.hooks.customeros import CustomerOSHook
from airflow_provider_gtm.operators._validation import check_choice, is_template
from airflow_provider_gtm.operators.base import GtmBatchOperator, GtmFetchOperator, _load_records

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
