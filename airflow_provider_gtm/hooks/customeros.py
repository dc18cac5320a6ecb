"""CustomerOS REST API v1: customer base, enrichment, e-mail and IP verification.

Documented choices:

- Errors come in two shapes, ``{"status": "error", "message": ...}`` (handlers) and
  ``{"errors": [{"message": ...}]}`` (the API-key middleware, whose "Invalid api key" body has a
  curly quote inside the key name): both are read, the latter by taking the entry's first text.
- ``POST /customerbase/v1/organizations`` answering 409 means "already exists" and carries the
  existing ``id``: :meth:`CustomerOSHook.create_organization` returns it instead of raising. Org
  creates are retried after a timeout or 5xx because a duplicate comes back as that 409.
- ``POST /customerbase/v1/organizations``: the existing ``id`` comes with the 409 of the October
  2024 code only; the newest error handler writes the duplicate as a 500 coded ``Conflict``
  (:func:`customeros_status` reads it as the 409). A 206 followed by a second body (2024) is one
  created organization, confirmed by the first body's ``id``.
- Bulk contacts: ``details`` is an object for none or one failure (none: Go's zero-valued struct,
  no failure) and a list for several; each entry is matched to the record sent by ``recordNumber``
  (0-based or 1-based, checked against a non-empty ``value``), else by ``value``. ``value`` is the
  field the server refused, the e-mail *or* the LinkedIn URL (``validateContactRecord`` in
  ``rest/customerbase/contact.go`` reports a bad LinkedIn URL with that URL), so it is matched
  against both fields of a record, trimmed as the server trims them. A bulk call is
  never resent after a timeout or 5xx (no idempotency key exists):
  its records are reported with "outcome unknown".
- Person enrichment answers 202 with ``resultUrl`` while pending: it is polled (GET only) with a
  growing interval within a time budget, and only when it points at the connection's own host.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import requests

from airflow_provider_gtm.apis.customeros import CUSTOMEROS, ROUTE_FILE_TWINS, SWAGGER_PATHS
from airflow_provider_gtm.core.batching import (
    BatchResult,
    Failure,
    check_batch_size,
    collect,
    confirm_count,
    run_batches,
    send_each,
    split_invalid,
)
from airflow_provider_gtm.core.client import ApiProfile, generic_error_message
from airflow_provider_gtm.core.errors import (
    GtmApiError,
    GtmConfigError,
    GtmNotFoundError,
    GtmPollTimeoutError,
    GtmServerError,
)
from airflow_provider_gtm.core.hook import GtmBaseHook
from airflow_provider_gtm.core.urls import join_url

ORGANIZATIONS = CUSTOMEROS.paths["organizations"]
CONTACTS = CUSTOMEROS.paths["contacts"]
PERSON = CUSTOMEROS.paths["person"]
RESULTS_PREFIX = CUSTOMEROS.paths["person_results"]
BULK_VERIFY = CUSTOMEROS.paths["email_bulk_verification"]
_ORGANIZATION_IDS = ("name", "customId", "website", "linkedinUrl")  # an organization needs one of them


def customeros_error_message(body: Any, text: str) -> str:
    """CustomerOS's own words from ``{status, message}`` or ``{"errors": [{"message"}]}``."""
    if isinstance(body, Mapping):
        if isinstance(body.get("message"), str) and body["message"]:
            return body["message"]
        errors = body.get("errors")
        if isinstance(errors, list):
            texts = []
            for entry in errors:
                if isinstance(entry, Mapping):
                    texts += [str(v) for v in entry.values() if isinstance(v, str) and v][:1]
                elif isinstance(entry, str):
                    texts.append(entry)
            if texts:
                return "; ".join(texts)
    return generic_error_message(body, text)


_STATUS_BY_TEXT = {HTTPStatus(code).phrase: code for code in (400, 401, 403, 404, 409, 415, 422, 429)}


def customeros_status(status: int, body: Any) -> int:
    """The status an answer means: the newest ``rest/response/response_handler.go`` ``HandleError``
    writes every error with status line 500 and the real status's text in ``code`` (e.g.
    ``{"status": "error", "code": "Conflict", "message": "Organization already exists ..."}``)."""
    if status == 500 and isinstance(body, Mapping) and body.get("status") == "error":
        return _STATUS_BY_TEXT.get(str(body.get("code")), status)
    return status


CUSTOMEROS_PROFILE = ApiProfile(name=CUSTOMEROS.name, error_message=customeros_error_message,
                                status_of=customeros_status)


def organization_problem(record: Any) -> str | None:
    """Why CustomerOS cannot take ``record`` as an organization at all (``None``: it can be sent).

    Only identity: formats and values are left to CustomerOS's own answer for the record.
    """
    if isinstance(record, Mapping) and any(record.get(k) for k in _ORGANIZATION_IDS):
        return None
    return "an organization needs one of name, customId, website or linkedinUrl"


def contact_problem(record: Any) -> str | None:
    """Why CustomerOS cannot take ``record`` as a contact at all (``None``: it can be sent)."""
    if isinstance(record, Mapping) and _contact_identity(record):
        return None
    return "a contact needs 'email' or 'linkedinUrl'"


def _contact_identity(record: Any) -> Any:
    if isinstance(record, Mapping):
        return record.get("email") or record.get("linkedinUrl")
    return record


class CustomerOSHook(GtmBaseHook):
    """CustomerOS (``https://api.customeros.ai``): password = API key, sent as ``X-CUSTOMER-OS-API-KEY``.

    :param conn_id: the Airflow connection id (default ``customeros_default``).
    """

    conn_name_attr = CUSTOMEROS.conn_name_attr
    default_conn_name = CUSTOMEROS.default_conn_id
    conn_type = CUSTOMEROS.conn_type
    hook_name = CUSTOMEROS.display_name
    profile: ClassVar[ApiProfile] = CUSTOMEROS_PROFILE
    default_host: ClassVar[str] = CUSTOMEROS.default_host
    field_labels: ClassVar[dict[str, str]] = dict(CUSTOMEROS.field_labels)

    def _credentials(self) -> tuple[requests.auth.AuthBase | None, dict[str, str], str]:
        key = self.require("password")
        return None, {"X-CUSTOMER-OS-API-KEY": key}, key

    def _probe(self) -> str:
        # Any authenticated call proves the key; an unknown organization answers 404 (still authenticated).
        resp = self.client.request("GET", f"{ORGANIZATIONS}/connection-test", accept_statuses=(404,))
        return "API key accepted" if resp.status in (200, 206, 404) else ""

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = self.client.get_json(path, params={k: v for k, v in (params or {}).items() if v is not None})
        return body if isinstance(body, dict) else {}

    # -- organizations ----------------------------------------------------------------------------

    def create_organization(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /customerbase/v1/organizations``.

        :param record: ``{"name", "customId", "website", "linkedinUrl", "leadSource", "relationship", "icpFit"}``;
            at least one of name, customId, website, linkedinUrl.
        :return: ``{"id", "already_exists", "status", "organization"?, "message"?}``; a 409 (same
            domain, customId or LinkedIn URL) returns the existing id with ``already_exists=True``.
        :raises GtmConfigError: no identifying field; :class:`GtmApiError` on other refusals.
        """
        if not isinstance(record, Mapping) or not any(record.get(k) for k in _ORGANIZATION_IDS):
            raise GtmConfigError("CustomerOS: an organization needs one of name, customId, website or linkedinUrl.")
        resp = self.client.request("POST", ORGANIZATIONS, json=dict(record), safe_to_retry=True,
                                   accept_statuses=(409,))
        body = resp.data if isinstance(resp.data, dict) else {}
        if resp.status == 409:
            # After a timeout or 5xx the client sent it again: the 409 may answer its own first attempt.
            return {"id": body.get("id"), "already_exists": True, "status": body.get("status"),
                    "own_retry": resp.earlier_attempt_may_have_applied,
                    "message": customeros_error_message(body, resp.text)}
        organization = body["organization"] if isinstance(body.get("organization"), Mapping) else {}
        return {"id": organization.get("id") or body.get("id"), "already_exists": False,
                "status": body.get("status"), "organization": organization or None,
                **({"message": body["message"]} if body.get("message") else {})}

    def iter_create_organizations(self, records: Iterable[Any], *, batch_size: int = 50) -> Iterator[BatchResult]:
        """Create organizations one call each; yield a :class:`BatchResult` per ``batch_size`` records.

        "Already exists" (409) is a failure flagged ``already_exists`` with ``existing_id`` so that
        the caller's policy (``existing_is_success``) decides.
        """
        def identifier(record: Any) -> Any:
            if isinstance(record, Mapping):
                return record.get("customId") or record.get("website") or record.get("name") or record.get(
                    "linkedinUrl")
            return record

        def send_one(record: Any) -> Any:
            answer = self.create_organization(record)
            if answer["already_exists"] and not answer.get("own_retry"):
                raise _Exists(answer)
            return answer

        def send_chunk(chunk: list[Any]) -> BatchResult:
            local, valid = split_invalid(chunk, organization_problem, identifier)
            result = send_each(valid, send_one, identifier,
                               # the newest code's duplicate carries no id: still "already exists"
                               already_exists=lambda e: (e.answer.get("id") or True) if isinstance(e, _Exists)
                               else None,
                               confirms=lambda answer: bool(answer.get("id")))  # no id: nothing confirms it
            return local.extend(result).check()

        return run_batches(records, check_batch_size(batch_size, "CustomerOS"), send_chunk)

    def get_organization(self, organization_id: str) -> dict[str, Any]:
        """``GET /customerbase/v1/organizations/{id}`` (id or COS id such as ``C-A12-B45``): the organization.

        :raises GtmNotFoundError: when CustomerOS knows no such organization.
        """
        if not organization_id:
            raise GtmConfigError("CustomerOS: organization_id is required.")
        resp = self.client.request("GET", f"{ORGANIZATIONS}/{organization_id}")
        body = resp.data if isinstance(resp.data, dict) else {}
        if isinstance(body.get("organization"), dict):
            return body["organization"]
        if body.get("id"):
            return body  # the October 2024 code answers the organization flat (206: partial data)
        # A 206 without the organization: the 2025 code answers a bare JSON string
        # "Unable to retrieve full organization data" (organization.go); nothing to return, retry later.
        raise GtmServerError(
            f"CustomerOS answered {resp.status} without the organization: "
            f"{customeros_error_message(resp.data, resp.text) if isinstance(resp.data, dict) else resp.text[:200]}",
            api="customeros", status=resp.status, method="GET", path=ORGANIZATIONS)

    def get_organization_invoices(self, organization_id: str) -> list[dict[str, Any]]:
        """``GET /billing/v1/organizations/{id}/invoices`` (id or COS id): the organization's invoices
        (``id, number, dueDate, invoiceStatus, amount, currency, paymentLink, publicUrl``), all in one
        answer (customeros/customeros rest/billing/invoice.go, model.go ``InvoicesResponse``).

        :raises GtmNotFoundError: when CustomerOS knows no such organization.
        """
        if not organization_id:
            raise GtmConfigError("CustomerOS: organization_id is required.")
        row = CUSTOMEROS.calls["organization_invoices"]
        path = row.path.replace("{id}", quote(str(organization_id), safe=""))
        body = self.client.get_json(path)
        invoices = body.get(row.records_key) if isinstance(body, dict) and row.records_key else None
        return list(invoices) if isinstance(invoices, list) else []

    def set_primary_external_id(self, organization_id: str, external_system: str, external_id: str
                                ) -> dict[str, Any]:
        """``PUT /customerbase/v1/organizations/{id}/links/{externalSystem}/primary`` with ``{"externalId"}``:
        set or replace the organization's primary id in ``stripe``, ``hubspot`` or ``close``; returns the
        answer (``status, message, organizationId, externalSystem, primaryExternalId``). Sent again after
        a timeout or 5xx: setting the same primary id twice is the same state.

        :raises GtmNotFoundError: no such organization, or an external system CustomerOS does not know
            (customeros/customeros rest/customerbase/organization.go SetPrimaryExternalSystemId).
        """
        if not organization_id or not external_system or not external_id:
            raise GtmConfigError("CustomerOS: organization_id, external_system and external_id are required.")
        path = CUSTOMEROS.calls["organization_primary_link"].path.replace(
            "{id}", quote(str(organization_id), safe="")).replace(
            "{externalSystem}", quote(str(external_system).lower(), safe=""))
        resp = self.client.request("PUT", path, json={"externalId": str(external_id)}, safe_to_retry=True)
        return resp.data if isinstance(resp.data, dict) else {}

    # -- the API-key routes of server/customer_routes.go (issue 22) --------------------------------

    def _route_call(self, name: str, *, path_params: Mapping[str, str] | None = None,
                    params: Mapping[str, Any] | None = None, json: Any = None) -> dict[str, Any]:
        """Send the catalogue's ``calls[name]``; where the swagger names the route otherwise
        (:data:`~airflow_provider_gtm.apis.customeros.SWAGGER_PATHS`) and CustomerOS's router has no
        route at the route file's path (gin's plain-text 404, not a handler's JSON error), send it to
        the swagger's path instead. Returns the JSON answer (``{}`` when there is none)."""
        row = CUSTOMEROS.calls[name]
        return self._send_to_twins(row.method, row.path, path_params=path_params, params=params, json=json)

    def _send_to_twins(self, method: str, template: str, *, path_params: Mapping[str, str] | None = None,
                       params: Mapping[str, Any] | None = None, json: Any = None) -> dict[str, Any]:
        """Send to ``template``, then to its twin (:data:`SWAGGER_PATHS`, :data:`ROUTE_FILE_TWINS`) when
        CustomerOS's router has no route there (gin's plain-text 404, not a handler's JSON error)."""
        twin = SWAGGER_PATHS.get(template) or ROUTE_FILE_TWINS.get(template)
        paths = [template] + ([twin] if twin else [])
        query = {k: v for k, v in (params or {}).items() if v is not None} or None
        for attempt, candidate in enumerate(paths):
            path = candidate
            for key, value in (path_params or {}).items():
                path = path.replace("{" + key + "}", quote(str(value), safe=""))
            try:
                # Reads and the DNS delete are the same state when sent twice; the POSTs (a domain
                # purchase, a mailbox, a tracker) are not resent after a timeout or 5xx.
                resp = self.client.request(method, path, params=query, json=json,
                                           safe_to_retry=method in ("GET", "DELETE"),
                                           expect_json=method != "DELETE")
            except GtmNotFoundError as error:
                if attempt + 1 < len(paths) and _router_miss(error.body):
                    continue
                raise
            return resp.data if isinstance(resp.data, dict) else {}
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _records(self, name: str, answer: Mapping[str, Any]) -> list[Any]:
        key = CUSTOMEROS.calls[name].records_key
        value = answer.get(key) if key else None
        return list(value) if isinstance(value, list) else []

    def generate_email_tracking_urls(self, *, campaign_id: str, recipient_id: str, message_id: str | None = None,
                                     tracker_domain: str | None = None, track_opens: bool = False,
                                     track_clicks: bool = False, links: Iterable[str] = (),
                                     unsubscribe_link: str | None = None) -> dict[str, Any]:
        """``POST /outreach/v1/track/email`` (the swagger's ``/outreach/v1/email/tracking`` when the
        router has no such route): tracking pixel, tracked links and unsubscribe link for one message.

        :return: ``{"status", "trackingId", "trackingPixel"?, "trackedLinks"?: [{"original", "tracked"}],
            "unsubscribeLink"?}`` (customeros/customeros handlers/outreach/outreach.go).
        """
        if not campaign_id or not recipient_id:
            raise GtmConfigError("CustomerOS: email tracking needs campaign_id and recipient_id.")
        body: dict[str, Any] = {"campaignId": campaign_id, "recipientId": recipient_id, "trackOpens": track_opens,
                                "trackClicks": track_clicks, "links": list(links)}
        if message_id:
            body["messageId"] = message_id
        if tracker_domain:
            body["trackerDomain"] = tracker_domain
        if unsubscribe_link:
            body.update(generateUnsubscribeLink=True, unsubscribeLink=unsubscribe_link)
        return self._route_call("email_tracking", json=body)

    def register_domain(self, domain: str, website: str) -> dict[str, Any]:
        """``POST /mailstack/v1/domains``: buy and configure a mail domain; the ``DomainRecord``
        (``domain, createdDate, expiredDate, nameservers``). Never resent after a timeout (it purchases).

        :raises GtmConflictError: "Domain already registered"; :class:`GtmClientError` (406) for a TLD,
            premium or price CustomerOS refuses (handlers/mailstack/domain.go).
        """
        if not domain or not website:
            raise GtmConfigError("CustomerOS: register_domain needs domain and website.")
        answer = self._route_call("mailstack_domain_register", json={"domain": domain, "website": website})
        return dict(answer.get("domain") or {})

    def get_domains(self) -> list[dict[str, Any]]:
        """``GET /mailstack/v1/domains``: the tenant's active mail domains (``DomainRecord`` each)."""
        return self._records("mailstack_domains", self._route_call("mailstack_domains"))

    def recommend_domains(self, base_name: str) -> list[str]:
        """``GET /mailstack/v1/domains/recommendations?baseName=``: up to 20 outbound domain names."""
        if not base_name:
            raise GtmConfigError("CustomerOS: recommend_domains needs base_name.")
        answer = self._route_call("mailstack_domain_recommendations", params={"baseName": base_name})
        return self._records("mailstack_domain_recommendations", answer)

    def configure_domain(self, domain: str, website: str) -> dict[str, Any]:
        """``POST /mailstack/v1/domains/configure``: (re)configure DNS and mail of a tenant's domain;
        the ``DomainRecord``. :raises GtmNotFoundError: not one of the tenant's domains."""
        if not domain or not website:
            raise GtmConfigError("CustomerOS: configure_domain needs domain and website.")
        answer = self._route_call("mailstack_domain_configure", json={"domain": domain, "website": website})
        return dict(answer.get("domain") or {})

    def create_mailbox(self, domain: str, username: str, *, password: str | None = None,
                       forwarding_to: Iterable[str] = (), webmail_enabled: bool = False,
                       linked_user: str | None = None) -> dict[str, Any]:
        """``POST /mailstack/v1/domains/{domain}/mailboxes``: the ``MailboxRecord`` (``email,
        forwardingEnabled, forwardingTo, webmailEnabled``, and ``password`` when CustomerOS generated it).

        :raises GtmNotFoundError: "Domain not found"; :class:`GtmConflictError`: "Username already exists".
        """
        if not domain or not username:
            raise GtmConfigError("CustomerOS: create_mailbox needs domain and username.")
        body: dict[str, Any] = {"username": username, "forwardingTo": list(forwarding_to),
                                "webmailEnabled": webmail_enabled}
        if password:
            body["password"] = password
        if linked_user:
            body["linkedUser"] = linked_user
        answer = self._route_call("mailstack_mailbox_create", path_params={"domain": domain}, json=body)
        return dict(answer.get("mailbox") or {})

    def get_mailboxes(self, domain: str) -> list[dict[str, Any]]:
        """``GET /mailstack/v1/domains/{domain}/mailboxes``: the domain's mailboxes (CustomerOS omits
        ``mailboxes`` when there are none: an empty list here)."""
        if not domain:
            raise GtmConfigError("CustomerOS: get_mailboxes needs a domain.")
        return self._records("mailstack_mailboxes",
                             self._route_call("mailstack_mailboxes", path_params={"domain": domain}))

    def get_dns_records(self, domain: str) -> list[dict[str, Any]]:
        """``GET /mailstack/v1/domains/{domain}/dns``: ``[{id: "dns_<id>", type, name, content}]``
        (``dnsRecords`` is null when the zone has none: an empty list here).

        :raises GtmNotFoundError: not one of the tenant's domains.
        """
        if not domain:
            raise GtmConfigError("CustomerOS: get_dns_records needs a domain.")
        return self._records("mailstack_dns", self._route_call("mailstack_dns", path_params={"domain": domain}))

    def add_dns_record(self, domain: str, *, type: str, name: str, content: str) -> dict[str, Any]:  # noqa: A002
        """``POST /mailstack/v1/domains/{domain}/dns`` with ``{type, name, content}``: the record as sent."""
        if not domain or not type or not content:
            raise GtmConfigError("CustomerOS: add_dns_record needs domain, type and content.")
        answer = self._route_call("mailstack_dns_add", path_params={"domain": domain},
                                  json={"type": type, "name": name, "content": content})
        return dict(answer.get("dnsRecord") or {})

    def delete_dns_record(self, domain: str, dns_id: str) -> None:
        """``DELETE /mailstack/v1/domains/{domain}/dns`` (``dnsId`` sent as a query parameter).

        The handler (handlers/mailstack/dns.go ``DeleteDNSRecord``) reads a ``:dnsId`` path parameter
        that the route (server/customer_routes.go) does not declare, so CustomerOS deletes nothing and
        answers 500 "unable to delete dns record": this raises :class:`GtmServerError` until the vendor
        fixes its route (docs/choices.md).
        """
        if not domain or not dns_id:
            raise GtmConfigError("CustomerOS: delete_dns_record needs domain and dns_id.")
        self._route_call("mailstack_dns_delete", path_params={"domain": domain}, params={"dnsId": dns_id})

    def provision_tracker(self, domain: str) -> dict[str, Any]:
        """``POST /reveal/v1/trackers`` ``{domain}``: whitelist a website for visitor reveal; the tracker
        (``id``, ``domain`` as ``https://<host>``, ``createdAt``, ``code`` to paste into the site)."""
        if not domain:
            raise GtmConfigError("CustomerOS: provision_tracker needs a domain.")
        return dict(self._route_call("reveal_tracker", json={"domain": domain}).get("tracker") or {})

    def verify_tracker(self, domain: str) -> dict[str, Any]:
        """``GET /reveal/v1/verify?domain=``: the tracker with ``status`` ``verified`` or ``unverified``.

        :raises GtmNotFoundError: "domain not found" (no tracker provisioned for it).
        """
        if not domain:
            raise GtmConfigError("CustomerOS: verify_tracker needs a domain.")
        return dict(self._route_call("reveal_verify", params={"domain": domain}).get("tracker") or {})

    def get_me(self) -> str:
        """``GET /me``: the tenant the API key belongs to (handlers/me.go ``MeResponse.tenant``)."""
        return str(self._route_call("me").get("tenant") or "")

    # -- Flows (/flows/v1, handlers/flows/*.go; issue 22) -----------------------------------------

    def _flow_call(self, name: str, *, path_params: Mapping[str, str] | None = None,
                   params: Mapping[str, Any] | None = None, json: Any = None) -> dict[str, Any]:
        """Send the catalogue's ``calls[name]``. Reads, PUTs, on/off and the archiving DELETEs leave the
        same state when sent twice, so they are resent after a timeout or 5xx; the POSTs that create a
        flow, node, edge or webhook (or rotate a secret) are not."""
        row = CUSTOMEROS.calls[name]
        path = row.path
        for key, value in (path_params or {}).items():
            if not value:
                raise GtmConfigError(f"CustomerOS: {row.hook_method} needs {key}.")
            path = path.replace("{" + key + "}", quote(str(value), safe=""))
        resends = row.method != "POST" or path.endswith(("/on", "/off"))
        resp = self.client.request(row.method, path, json=json, safe_to_retry=resends,
                                   params={k: v for k, v in (params or {}).items() if v is not None} or None,
                                   expect_json=row.method != "DELETE")
        return resp.data if isinstance(resp.data, dict) else {}

    @staticmethod
    def _one_or_many(answer: Mapping[str, Any], many: str, single: str) -> list[dict[str, Any]]:
        # flow_agents.go, flow_listeners.go, flow_transitions.go, webhooks.go send exactly one record
        # unwrapped under a singular key.
        if isinstance(answer.get(many), list):
            return [dict(r) for r in answer[many] if isinstance(r, Mapping)]
        return [dict(answer[single])] if isinstance(answer.get(single), Mapping) else []

    def get_flows(self) -> list[dict[str, Any]]:
        """``GET /flows/v1/flows``: the tenant's flows."""
        return self._one_or_many(self._flow_call("flows"), "flows", "flow")

    def get_flow(self, flow_id: str) -> dict[str, Any]:
        """``GET /flows/v1/flows/{flowId}``: one flow (an id as the API gave it, ``flow_…``)."""
        return dict(self._flow_call("flow", path_params={"flowId": flow_id}).get("flow") or {})

    def create_flow(self, name: str, trigger_on: str, *, description: str | None = None,
                    visible: bool | None = None) -> dict[str, Any]:
        """``POST /flows/v1/flows``: a flow (``off``) with its trigger node; ``trigger_on`` is a listener
        event (:meth:`get_flow_listeners`). A second flow of the same name is refused (400)."""
        if not name or not trigger_on:
            raise GtmConfigError("CustomerOS: create_flow needs a name and trigger_on.")
        body: dict[str, Any] = {"name": name, "triggerOn": trigger_on}
        if description is not None:
            body["description"] = description
        if visible is not None:
            body["visible"] = visible
        return dict(self._flow_call("flows_create", json=body).get("flow") or {})

    def update_flow(self, flow_id: str, **fields: Any) -> dict[str, Any]:
        """``PUT /flows/v1/flows/{flowId}`` with ``name``, ``description``, ``triggerOn``, ``visible``…;
        CustomerOS turns the flow ``off`` on every update (flow_update.go)."""
        return dict(self._flow_call("flow_update", path_params={"flowId": flow_id}, json=fields).get("flow") or {})

    def delete_flow(self, flow_id: str) -> None:
        """``DELETE /flows/v1/flows/{flowId}``: the flow is archived (204)."""
        self._flow_call("flow_delete", path_params={"flowId": flow_id})

    def turn_flow_on(self, flow_id: str) -> dict[str, Any]:
        """``POST /flows/v1/flows/{flowId}/on``."""
        return dict(self._flow_call("flow_on", path_params={"flowId": flow_id}).get("flow") or {})

    def turn_flow_off(self, flow_id: str) -> dict[str, Any]:
        """``POST /flows/v1/flows/{flowId}/off``."""
        return dict(self._flow_call("flow_off", path_params={"flowId": flow_id}).get("flow") or {})

    def get_flow_nodes(self, flow_id: str) -> list[dict[str, Any]]:
        """``GET /flows/v1/flows/{flowId}/nodes``: the flow's active nodes."""
        return self._one_or_many(self._flow_call("flow_nodes", path_params={"flowId": flow_id}), "nodes", "node")

    def get_flow_node(self, flow_id: str, node_id: str) -> dict[str, Any]:
        """``GET /flows/v1/flows/{flowId}/nodes/{nodeId}``."""
        ids = {"flowId": flow_id, "nodeId": node_id}
        return dict(self._flow_call("flow_node", path_params=ids).get("node") or {})

    def create_flow_node(self, flow_id: str, node: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /flows/v1/flows/{flowId}/nodes`` with ``type``, ``event`` (required by the handler) and
        ``eventData`` (copies of the handler also take ``positionX``, ``positionY``, ``data``: sent as given)."""
        if not isinstance(node, Mapping) or not node.get("type") or node.get("event") is None:
            raise GtmConfigError("CustomerOS: a flow node needs a type and an event.")
        return dict(self._flow_call("flow_node_create", path_params={"flowId": flow_id}, json=dict(node))
                    .get("node") or {})

    def update_flow_node(self, flow_id: str, node_id: str, node: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /flows/v1/flows/{flowId}/nodes/{nodeId}`` with ``type``, ``event``, ``eventData``."""
        ids = {"flowId": flow_id, "nodeId": node_id}
        return dict(self._flow_call("flow_node_update", path_params=ids, json=dict(node)).get("node") or {})

    def delete_flow_node(self, flow_id: str, node_id: str) -> None:
        """``DELETE /flows/v1/flows/{flowId}/nodes/{nodeId}``: archived (204)."""
        self._flow_call("flow_node_delete", path_params={"flowId": flow_id, "nodeId": node_id})

    def get_flow_edges(self, flow_id: str) -> list[dict[str, Any]]:
        """``GET /flows/v1/flows/{flowId}/edges``: the flow's edges; ``[]`` when CustomerOS answers 404
        "no edges exist for this flow" (a handler's JSON 404 on a flow that exists)."""
        try:
            answer = self._flow_call("flow_edges", path_params={"flowId": flow_id})
        except GtmNotFoundError as error:
            if _no_edges(error.body):
                return []
            raise
        return self._one_or_many(answer, "edges", "edge")

    def get_flow_edge(self, flow_id: str, edge_id: str) -> dict[str, Any] | None:
        """``GET /flows/v1/flows/{flowId}/edges/{edgeId}``: the edge, ``None`` when the flow has no such
        edge. The handler answers this path with the list ``edges`` (flow_edge_get.go), so the edge is
        the entry with that id (``edge_`` added as CustomerOS adds it)."""
        ids = {"flowId": flow_id, "edgeId": edge_id}
        try:
            answer = self._flow_call("flow_edge", path_params=ids)
        except GtmNotFoundError as error:
            if _no_edges(error.body):
                return None
            raise
        wanted = edge_id if edge_id.lower().startswith("edge_") else f"edge_{edge_id}"
        edges = self._one_or_many(answer, "edges", "edge")
        return next((e for e in edges if e.get("id") == wanted), edges[0] if len(edges) == 1 else None)

    def create_flow_edge(self, flow_id: str, from_node_id: str, to_node_id: str, *, condition: str | None = None,
                         data: Any = None) -> dict[str, Any]:
        """``POST /flows/v1/flows/{flowId}/edges``: an edge the transitions registry allows (else 400)."""
        body: dict[str, Any] = {"fromNodeId": from_node_id, "toNodeId": to_node_id}
        if condition is not None:
            body["condition"] = condition
        if data is not None:
            body["data"] = data
        return dict(self._flow_call("flow_edge_create", path_params={"flowId": flow_id}, json=body).get("edge") or {})

    def update_flow_edge(self, flow_id: str, edge_id: str, edge: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /flows/v1/flows/{flowId}/edges/{edgeId}`` with ``fromNodeId``, ``toNodeId``, ``condition``,
        ``data`` (CustomerOS writes from/to as sent: send both)."""
        ids = {"flowId": flow_id, "edgeId": edge_id}
        return dict(self._flow_call("flow_edge_update", path_params=ids, json=dict(edge)).get("edge") or {})

    def delete_flow_edge(self, flow_id: str, edge_id: str) -> None:
        """``DELETE /flows/v1/flows/{flowId}/edges/{edgeId}``: archived (204)."""
        self._flow_call("flow_edge_delete", path_params={"flowId": flow_id, "edgeId": edge_id})

    def get_flow_agents(self) -> list[dict[str, Any]]:
        """``GET /flows/v1/agents``: ``{action, name, description}`` records."""
        return self._one_or_many(self._flow_call("flow_agents"), "actions", "action")

    def get_flow_listeners(self) -> list[dict[str, Any]]:
        """``GET /flows/v1/listeners``: ``{system, event, name, description}`` records."""
        return self._one_or_many(self._flow_call("flow_listeners"), "events", "event")

    def get_flow_transitions(self, from_node: str | None = None) -> list[dict[str, Any]]:
        """``GET /flows/v1/transitions`` (``?fromNode=``): ``{step, type, availableNextSteps}`` records."""
        answer = self._flow_call("flow_transitions", params={"fromNode": from_node or None})
        return self._one_or_many(answer, "transitions", "transition")

    def get_flow_webhooks(self) -> list[dict[str, Any]]:
        """``GET /flows/v1/hooks``: the active webhooks. webhooks.go fills its answer with as many zero
        records as hooks before the real ones (and answers one hook with a zero record only): records
        without a ``url`` are dropped, so a single hook comes back as ``[]`` until CustomerOS fixes it."""
        records = self._one_or_many(self._flow_call("flow_hooks"), "hooks", "hook")
        return [r for r in records if r.get("url")]

    def create_flow_webhook(self, integration: str) -> dict[str, Any]:
        """``POST /flows/v1/hooks``: ``{url, integration, secret}``; for an integration that has one, the
        webhook is replaced (a new URL and secret)."""
        if not integration:
            raise GtmConfigError("CustomerOS: create_flow_webhook needs an integration.")
        return dict(self._flow_call("flow_hook_create", json={"integration": integration}).get("hook") or {})

    @staticmethod
    def _webhook_ids(url: str | None, tenant_id: str | None, integration_id: str | None) -> dict[str, str]:
        if url:
            parts = urlsplit(url).path.rstrip("/").split("/")
            if len(parts) >= 3 and parts[-2] == "i":
                tenant_id, integration_id = parts[-3], parts[-1]
        if not tenant_id or not integration_id:
            raise GtmConfigError("CustomerOS: a flow webhook is named by its url, or tenant_id and integration_id.")
        return {"tenantId": tenant_id, "integrationId": integration_id}

    def rotate_flow_webhook(self, url: str | None = None, *, tenant_id: str | None = None,
                            integration_id: str | None = None) -> dict[str, Any]:
        """``POST /flows/v1/{tenantId}/i/{integrationId}/rotate``: a new ``{url, integration, secret}``."""
        ids = self._webhook_ids(url, tenant_id, integration_id)
        return dict(self._flow_call("flow_hook_rotate", path_params=ids).get("hook") or {})

    def deactivate_flow_webhook(self, url: str | None = None, *, tenant_id: str | None = None,
                                integration_id: str | None = None) -> str:
        """``DELETE /flows/v1/{tenantId}/i/{integrationId}``: CustomerOS's message."""
        ids = self._webhook_ids(url, tenant_id, integration_id)
        return str(self._flow_call("flow_hook_deactivate", path_params=ids).get("message") or "")

    # -- contacts ---------------------------------------------------------------------------------

    def import_contacts_csv(self, records: Iterable[Mapping[str, Any]], *, file_name: str = "contacts.csv"
                            ) -> dict[str, Any]:
        """``POST /customerbase/v1/contacts/import``: the contacts as one CSV upload (multipart ``file``,
        headers ``email, linkedin_url``), for lists too large to send as JSON. Returns CustomerOS's bulk
        answer (``requestId``, ``summary`` with ``success``/``failed``, ``details`` naming each refused row
        by ``recordNumber``, 1 for the first data row). Not resent after a timeout (CustomerOS does not
        deduplicate contacts); :class:`CustomerOSBatchOperator` with ``contacts.bulk_create`` is the
        ledgered way to write contacts.

        :param records: dicts with ``email`` and/or ``linkedinUrl``.
        :raises GtmConfigError: when no record has an e-mail or LinkedIn URL.
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["email", "linkedin_url"])
        count = 0
        for record in records:
            if not _contact_identity(record):
                raise GtmConfigError(f"CustomerOS: contact #{count + 1} needs 'email' or 'linkedinUrl'.")
            writer.writerow([record.get("email") or "", record.get("linkedinUrl") or ""])
            count += 1
        if not count:
            raise GtmConfigError("CustomerOS: a contact import needs at least one contact.")
        resp = self.client.request(
            "POST", CUSTOMEROS.calls["contacts_import"].path,
            files={"file": (file_name, buffer.getvalue().encode(), "text/csv")})
        return resp.data if isinstance(resp.data, dict) else {}


    def create_contact(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /customerbase/v1/contacts`` with ``{"email", "linkedinUrl"}``; returns the ``contact``.

        :raises GtmApiError: when the answer holds no ``contact`` with a ``contactId``:
            ``rest/customerbase/contact.go`` writes no body at all for a record it cannot bind (a
            bare 200), and answers ``contactId: ""`` when saving failed.
        """
        if not _contact_identity(record):
            raise GtmConfigError("CustomerOS: a contact needs 'email' or 'linkedinUrl'.")
        resp = self.client.request("POST", CONTACTS, json=dict(record))
        body = resp.data if isinstance(resp.data, dict) else {}
        contact = body.get("contact")
        if not isinstance(contact, dict) or not (contact.get("contactId") or contact.get("id")):
            raise GtmApiError(
                f"CustomerOS answered {resp.status} without a saved contact (no contactId); "
                "the contact was not confirmed", api="customeros", status=resp.status, method="POST", path=CONTACTS)
        return contact

    def iter_bulk_create_contacts(self, records: Iterable[Any], *, batch_size: int = 100) -> Iterator[BatchResult]:
        """``POST /customerbase/v1/contacts/bulk`` per chunk; yield a :class:`BatchResult` per chunk.

        :param records: ``{"email", "linkedinUrl"}`` dicts (one of the two required; others fail
            without being sent).
        """
        return run_batches(records, check_batch_size(batch_size, "CustomerOS"), self._bulk_chunk)

    def bulk_create_contacts(self, records: Iterable[Any]) -> BatchResult:
        """All of :meth:`iter_bulk_create_contacts` folded into one result."""
        return collect(self.iter_bulk_create_contacts(records))

    def _bulk_chunk(self, chunk: list[Any]) -> BatchResult:
        local, valid = split_invalid(chunk, contact_problem, _contact_identity)
        valid = [dict(record) for record in valid]
        if not valid:
            return local.check()
        try:
            resp = self.client.request("POST", f"{CONTACTS}/bulk", json=valid)
        except GtmApiError as error:
            return local.extend(BatchResult.all_failed(valid, error, _contact_identity))
        body = resp.data if isinstance(resp.data, dict) else {}
        details = body.get("details")
        entries = [details] if isinstance(details, Mapping) else [d for d in details or [] if isinstance(d, Mapping)]
        # Go's omitempty never omits a struct: an all-success answer carries the zero-valued entry
        # {"value": "", "recordNumber": 0, "description": ""}; it names no failure.
        entries = [entry for entry in entries if not _is_zero_detail(entry)]
        failed_at: dict[int, Mapping[str, Any]] = {}
        for entry in entries:
            index = _match_detail(valid, entry, failed_at)
            failed_at[index if index is not None else -1 - len(failed_at)] = entry
        result = BatchResult(submitted=len(valid))
        for index, record in enumerate(valid):
            refusal = failed_at.get(index)
            if refusal is None:
                result.succeeded += 1
                result.accepted.append(record)
            else:
                result.failures.append(Failure(record, _contact_identity(record),
                                               str(refusal.get("description") or "refused by CustomerOS"), resp.status))
        unmatched = [entry for key, entry in failed_at.items() if key < 0]
        for entry in unmatched:  # a refusal we cannot tie to a record: charge it to a success
            if result.succeeded:
                result.succeeded -= 1
                result.accepted.pop()
            result.failures.append(Failure(entry, entry.get("value"), str(entry.get("description")), resp.status))
        # Confirmation rule: the records not refused succeed only when CustomerOS's own summary says so.
        summary = body["summary"] if isinstance(body.get("summary"), Mapping) else {}
        result = confirm_count(result, summary.get("success"), _contact_identity, status=resp.status)
        return local.extend(result.check())

    # -- enrichment -------------------------------------------------------------------------------

    def start_person_enrichment(self, *, email: str | None = None, linkedin_url: str | None = None,
                                first_name: str | None = None, last_name: str | None = None,
                                include_mobile_number: bool = False) -> dict[str, Any]:
        """``GET /enrich/v1/person``: the first answer (``isComplete`` false and ``resultUrl`` while pending).

        :raises GtmConfigError: when neither ``email`` nor ``linkedin_url`` is given.
        """
        if not email and not linkedin_url:
            raise GtmConfigError("CustomerOS person enrichment needs email= or linkedin_url=.")
        params = {"email": email, "linkedinUrl": linkedin_url, "firstName": first_name, "lastName": last_name}
        if include_mobile_number:
            params["includeMobileNumber"] = "true"
        resp = self.client.request("GET", PERSON, params={k: v for k, v in params.items() if v})
        return resp.data if isinstance(resp.data, dict) else {}

    def _result_path(self, result_url: str) -> str:
        if "://" not in result_url and "/" not in result_url.strip("/"):
            return RESULTS_PREFIX + result_url.strip("/")
        base = urlsplit(self.client.base_url)
        target = urlsplit(result_url if "://" in result_url else join_url(self.client.base_url, result_url))
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            raise GtmConfigError(
                f"CustomerOS resultUrl points at {target.scheme}://{target.netloc}, not at the connection's host; "
                "refusing to send the API key there."
            )
        path = target.path
        prefix = base.path.rstrip("/")
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix):]
        if not path.startswith(RESULTS_PREFIX):
            raise GtmConfigError(f"CustomerOS resultUrl {path!r} is not a person-enrichment result.")
        return path

    def get_person_enrichment_result(self, result_url: str) -> tuple[bool, dict[str, Any]]:
        """Poll a ``resultUrl`` (or its id) once: ``(complete, body)``; 202 means still pending."""
        path = self._result_path(result_url)
        resp = self.client.request("GET", path)
        body = resp.data if isinstance(resp.data, dict) else {}
        return resp.status != 202 and body.get("isComplete", True) is not False, body

    def enrich_person(self, *, email: str | None = None, linkedin_url: str | None = None,
                      first_name: str | None = None, last_name: str | None = None, timeout: float = 600,
                      include_mobile_number: bool = False) -> dict[str, Any]:
        """Enrich a person and poll until CustomerOS completes the answer, within ``timeout`` seconds.

        :return: the complete answer (``status`` ``success``, or ``warning`` "Person not found").
        :raises GtmPollTimeoutError: when the answer is still pending after ``timeout`` seconds.
        """
        first = self.start_person_enrichment(email=email, linkedin_url=linkedin_url, first_name=first_name,
                                             last_name=last_name, include_mobile_number=include_mobile_number)
        if first.get("isComplete", True) is not False or not first.get("resultUrl"):
            return first
        url = str(first["resultUrl"])
        return self._poll(lambda: self.get_person_enrichment_result(url), timeout, "person enrichment")

    def _poll(self, poll: Callable[[], tuple[bool, dict[str, Any]]], timeout: float, what: str,
              interval: float = 1.0, max_interval: float = 30.0) -> dict[str, Any]:
        timer = self._timer
        deadline = timer.monotonic() + timeout
        while True:
            complete, body = poll()
            if complete:
                return body
            remaining = deadline - timer.monotonic()
            if remaining <= 0:
                raise GtmPollTimeoutError(
                    f"CustomerOS {what} still pending after {timeout:g}s; raise the timeout or try later",
                    api="customeros", status=202,
                )
            timer.sleep(min(interval, remaining))
            interval = min(interval * 2, max_interval)

    def enrich_organization(self, *, domain: str | None = None, linkedin_url: str | None = None) -> dict[str, Any]:
        """``GET /enrich/v1/organization`` by ``domain`` or ``linkedin_url``: the answer (``data`` when found).
        A build whose router has no such route (gin's 404) is asked at ``/enrich/v1/person/organization``,
        where one version of ``server/customer_routes.go`` registers the same handler."""
        if not domain and not linkedin_url:
            raise GtmConfigError("CustomerOS organization enrichment needs domain= or linkedin_url=.")
        return self._send_to_twins("GET", CUSTOMEROS.paths["organization_enrichment"],
                                   params={"domain": domain, "linkedinUrl": linkedin_url})

    # -- verification -----------------------------------------------------------------------------

    def verify_email(self, address: str, *, verify_catch_all: bool = True) -> dict[str, Any]:
        """``GET /verify/v1/email``: the verdict (``email.deliverable`` etc.; flat fields in older builds)."""
        if not address:
            raise GtmConfigError("CustomerOS: verify_email needs an address.")
        return self._get(CUSTOMEROS.paths["email_verification"], {"address": address,
                                               "verifyCatchAll": "true" if verify_catch_all else "false"})

    def verify_ip(self, address: str) -> dict[str, Any]:
        """``GET /verify/v1/ip``: geolocation, network, organization and threat flags of an IP."""
        if not address:
            raise GtmConfigError("CustomerOS: verify_ip needs an address.")
        return self._get(CUSTOMEROS.paths["ip_verification"], {"address": address})

    def upload_bulk_email_verification(self, emails: Iterable[str], *, verify_catch_all: bool = True,
                                       file_name: str = "emails.csv") -> dict[str, Any]:
        """``POST /verify/v1/email/bulk`` with the addresses as a one-column CSV: ``{jobId, resultUrl, ...}``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["email"])
        count = 0
        for address in emails:
            writer.writerow([address])
            count += 1
        if not count:
            raise GtmConfigError("CustomerOS: bulk email verification needs at least one address.")
        resp = self.client.request(
            "POST", BULK_VERIFY, files={"file": (file_name, buffer.getvalue().encode(), "text/csv")},
            data={"emailColumn": "email", "verifyCatchAll": "true" if verify_catch_all else "false"},
        )
        return resp.data if isinstance(resp.data, dict) else {}

    def get_bulk_email_verification(self, job_id: str) -> dict[str, Any]:
        """``GET /verify/v1/email/bulk/results/{jobId}``: ``status`` processing|completed and ``results``."""
        return self._get(CUSTOMEROS.calls["email_bulk_results"].path.replace("{id}", quote(job_id, safe="")))

    def wait_for_bulk_email_verification(self, job_id: str, *, timeout: float = 3600) -> dict[str, Any]:
        """Poll a bulk verification job until ``completed``; :class:`GtmPollTimeoutError` after ``timeout``."""
        def poll() -> tuple[bool, dict[str, Any]]:
            body = self.get_bulk_email_verification(job_id)
            return str(body.get("status")).lower() == "completed", body

        return self._poll(poll, timeout, f"bulk email verification {job_id}", interval=2.0, max_interval=60.0)

    def download_bulk_email_verification(self, job_id: str, *, timeout: float = 3600) -> Iterator[dict[str, str]]:
        """The result rows (CSV) of a job, streamed row by row.

        Before the job completes CustomerOS answers 202 ``{"status": "processing", "message"}``
        (``rest/verify/verify_email.go``, ``DownloadBulkEmailVerificationResults``) or, in the newer
        ``VerifyHandler`` version of that file, **200** ``{"requestId", "status": "success", "message":
        "The bulk request is still being processed..."}`` (``rest/response/response_handler.go``
        ``HandleSuccess``). Both are polled again within ``timeout`` seconds, never read as an empty
        CSV; any other JSON object where the CSV was asked for is an error, not 0 rows.
        :class:`GtmPollTimeoutError` when still processing after ``timeout``.
        """
        path = CUSTOMEROS.calls["email_bulk_download"].path.replace("{id}", quote(job_id, safe=""))

        def poll() -> tuple[bool, dict[str, Any]]:
            resp = self.client.request("GET", path, expect_json=False)
            if _still_processing(resp.status, resp.text):
                return False, {"text": resp.text}
            answer = _json_object(resp.text)
            if answer is not None:
                # A CSV never starts with "{": a JSON object here is an answer about the job, not rows.
                raise GtmApiError(
                    "expected the results CSV, got a JSON answer: "
                    + str(answer.get("message") or answer.get("error") or answer.get("status") or "no message"),
                    api=CUSTOMEROS.name, status=resp.status, method="GET", path=path)
            return True, {"text": resp.text}

        body = self._poll(poll, timeout, f"bulk email verification {job_id} download", interval=2.0,
                          max_interval=60.0)
        yield from csv.DictReader(io.StringIO(body["text"]))


#: The newer verify_email.go answers a download before completion with 200 and this message only.
_STILL_PROCESSING_WORDS = "still being processed"


def _json_object(text: str) -> dict[str, Any] | None:
    """``text`` as a JSON object, or ``None`` when it is not one (a CSV, say)."""
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return None
    try:
        body = json.loads(stripped)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _still_processing(status: int, text: str) -> bool:
    """A 202, or a JSON answer saying the job is still processing where a CSV was asked for.

    Older ``verify_email.go``: 202 ``{"status": "processing"}``; newer: 200 ``{"status": "success",
    "message": "The bulk request is still being processed. ..."}``.
    """
    if status == 202:
        return True
    body = _json_object(text)
    if body is None:
        return False
    return (str(body.get("status", "")).lower() == "processing"
            or _STILL_PROCESSING_WORDS in str(body.get("message", "")).lower())


class _Exists(GtmApiError):
    """Internal: a 409 answer turned into a per-record failure carrying the existing id."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__(str(answer.get("message") or "Organization already exists"), api="customeros", status=409)
        self.answer = answer


def _router_miss(body: Any) -> bool:
    """A 404 from CustomerOS's router (gin answers an unknown route with the text "404 page not found"),
    as opposed to a handler's 404, which is a JSON object with ``status`` (enum/api_errors.go)."""
    return not (isinstance(body, Mapping) and "status" in body)


def _no_edges(body: Any) -> bool:
    """flow_edge_get.go's 404 for a flow without edges (not "unable to locate flow")."""
    return isinstance(body, Mapping) and "no edges" in str(body.get("message") or "")


def _is_zero_detail(entry: Mapping[str, Any]) -> bool:
    """The Go zero value of ``BulkErrorDetails`` (customeros/customeros, ``rest/customerbase/contact_bulk.go``)."""
    return not entry.get("value") and not entry.get("description") and not entry.get("recordNumber")


def _refusable_values(record: Any) -> set[str]:
    """The values a bulk refusal may name for ``record``: its e-mail and its LinkedIn URL, trimmed.

    customeros/customeros ``rest/customerbase/contact.go`` ``validateContactRecord`` reports the
    trimmed e-mail for an e-mail problem and the trimmed LinkedIn URL for a LinkedIn problem.
    """
    if not isinstance(record, Mapping):
        return {str(record).strip()}
    return {str(record[key]).strip() for key in ("email", "linkedinUrl")
            if isinstance(record.get(key), str) and record[key].strip()}


def _match_detail(records: list[dict[str, Any]], entry: Mapping[str, Any], taken: Mapping[int, Any]) -> int | None:
    raw = entry.get("value")
    value = raw.strip() if isinstance(raw, str) and raw.strip() else None  # "" when the record had no value
    number = entry.get("recordNumber")
    if isinstance(number, int):
        for index in (number, number - 1):
            if 0 <= index < len(records) and index not in taken and (
                    value is None or value in _refusable_values(records[index])):
                return index
    for index, record in enumerate(records):
        if index not in taken and value is not None and value in _refusable_values(record):
            return index
    return None


__all__ = ["CustomerOSHook", "customeros_error_message"]
