"""CustomerOS REST API v1 (https://docs.customeros.ai/): the facts the provider uses, written once.

Sources: the API docs (paths, the ``X-CUSTOMER-OS-API-KEY`` header) and customeros/customeros
(``rest/customerbase/organization.go`` answers a second organization with the same website domain,
customId or LinkedIn URL with 409 and the existing id, ``rest/response/response_handler.go`` writes it
as a 500 coded ``Conflict`` in the newest code; ``rest/customerbase/contact_bulk.go`` has no such
refusal and no idempotency key).
"""

from __future__ import annotations

from airflow_provider_gtm.apis.model import ApiSpec, Operation, Resource

HOST = "https://api.customeros.ai"
BATCH_MAX = 500  # records per operator chunk

PATHS = {
    "organizations": "/customerbase/v1/organizations",
    "contacts": "/customerbase/v1/contacts",
    "contacts_bulk": "/customerbase/v1/contacts/bulk",
    "person": "/enrich/v1/person",
    "person_results": "/enrich/v1/person/results/",
    "organization_enrichment": "/enrich/v1/organization",
    "email_verification": "/verify/v1/email",
    "ip_verification": "/verify/v1/ip",
    "email_bulk_verification": "/verify/v1/email/bulk",
    "organization_invoices": "/billing/v1/organizations/{id}/invoices",
    "contacts_import": "/customerbase/v1/contacts/import",
    "organization_primary_link": "/customerbase/v1/organizations/{id}/links/{externalSystem}/primary",
}

_API = "customeros/customeros packages/server/customer-os-api/"
_VERIFY = _API + "rest/verify/verify_email.go"


def _call(method: str, path: str, hook_method: str, source: str, records_key: str | None = None) -> Resource:
    return Resource(path, records_key, method=method, hook_method=hook_method, source=source)


CUSTOMEROS = ApiSpec(
    name="customeros",
    display_name="CustomerOS",
    conn_type="customeros",
    default_conn_id="customeros_default",
    conn_name_attr="customeros_conn_id",
    hook_class="airflow_provider_gtm.hooks.customeros.CustomerOSHook",
    hosts={"default": HOST},
    field_labels={"password": "API key", "host": "Base URL"},
    hidden_fields=("schema", "port", "login"),
    placeholders={
        "host": HOST,
        "password": "sent as the X-CUSTOMER-OS-API-KEY header",
        "extra": '{"read_timeout": 60}',
    },
    external_doc_url="https://docs.customeros.ai/",
    rate_windows=(),
    rate_limit_note="CustomerOS publishes no limit; its 429 answers are honoured.",
    resources={
        # Lookups (CustomerOSLookupOperator): one call per input; organizations are GET <path>/<id>.
        "organizations": Resource(PATHS["organizations"], hook_method="get_organization",
                                  source=_API + "rest/customerbase/organization.go (GET <path>/{id})"),
        "person_enrichment": Resource(PATHS["person"], hook_method="enrich_person",
                                      source=_API + "rest/enrich/enrich_person.go"),
        "organization_enrichment": Resource(PATHS["organization_enrichment"], hook_method="enrich_organization",
                                            source=_API + "rest/enrich/enrich_organization.go"),
        "email_verification": Resource(PATHS["email_verification"], hook_method="verify_email", source=_VERIFY),
    },
    calls={
        "contact_create": _call("POST", PATHS["contacts"], "create_contact", _API + "rest/customerbase/contact.go",
                                "contact"),
        "person_results": _call("GET", PATHS["person_results"] + "{id}", "get_person_enrichment_result",
                                _API + "rest/enrich/enrich_person.go"),
        "ip_verification": _call("GET", PATHS["ip_verification"], "verify_ip", _API + "rest/verify/verify_ip.go"),
        "email_bulk_upload": _call("POST", PATHS["email_bulk_verification"], "upload_bulk_email_verification",
                                   _VERIFY),
        "email_bulk_results": _call("GET", PATHS["email_bulk_verification"] + "/results/{id}",
                                    "get_bulk_email_verification", _VERIFY),
        "organization_invoices": _call(
            "GET", PATHS["organization_invoices"], "get_organization_invoices",
            _API + "server/routes.go (registerInvoiceRoutes); rest/billing/invoice.go; rest/billing/model.go "
            "(InvoicesResponse); api-evangelist/customeros openapi/_original/customeros-swagger.json", "invoices"),
        "contacts_import": _call(
            "POST", PATHS["contacts_import"], "import_contacts_csv",
            _API + "server/customer_routes.go (registerCustomerBaseRoutes: POST contacts/import); "
            "rest/customerbase/contact_bulk.go (multipart 'file', a CSV with the headers email, linkedin_url; "
            "the bulk answer: requestId, summary, details)"),
        "organization_primary_link": _call(
            "PUT", PATHS["organization_primary_link"], "set_primary_external_id",
            _API + "server/routes.go, server/customer_routes.go (PUT organizations/:id/links/:externalSystem/"
            "primary); rest/customerbase/organization.go SetPrimaryExternalSystemId (body externalId; 404 "
            "Organization not found / External system not found); api-evangelist/customeros "
            "openapi/_original/customeros-swagger.json"),
        "email_bulk_download": _call("GET", PATHS["email_bulk_verification"] + "/results/{id}/download",
                                     "download_bulk_email_verification",
                                     _VERIFY + " (before completion: 202 processing, or 200 'still being processed')"),
    },
    operations={
        "organizations.create": Operation(
            "POST", PATHS["organizations"], batch_max=BATCH_MAX, safe_to_retry=True, resolution="resend",
            unique_fields=("website", "customId", "linkedinUrl"), hook_method="iter_create_organizations",
            response_key="id",
            source="customeros/customeros rest/customerbase/organization.go (409 with the existing id); "
            "rest/response/response_handler.go (500 coded Conflict)"),
        "contacts.bulk_create": Operation(
            "POST", PATHS["contacts_bulk"], batch_max=BATCH_MAX, dataset_path=PATHS["contacts"],
            hook_method="iter_bulk_create_contacts",
            source="customeros/customeros rest/customerbase/contact_bulk.go"),
    },
    paths=PATHS,
    fetch_operator="CustomerOSLookupOperator",
    fetch_argument="lookup",
    batch_operator="CustomerOSBatchOperator",
    source="https://docs.customeros.ai/; customeros/customeros",
)
