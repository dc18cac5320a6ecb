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
    # The API-key routes of server/customer_routes.go (issue 22, 4th slice).
    "email_tracking": "/outreach/v1/track/email",
    "mailstack_domains": "/mailstack/v1/domains",
    "mailstack_domain_recommendations": "/mailstack/v1/domains/recommendations",
    "mailstack_domain_configure": "/mailstack/v1/domains/configure",
    "mailstack_mailboxes": "/mailstack/v1/domains/{domain}/mailboxes",
    "mailstack_dns": "/mailstack/v1/domains/{domain}/dns",
    "reveal_trackers": "/reveal/v1/trackers",
    "reveal_verify": "/reveal/v1/verify",
    "me": "/me",
}
#: The Flows routes' prefix (``FlowsPath`` of server/customer_routes.go).
FLOWS_PATH = "/flows/v1"

#: Where the route file and the swagger disagree on a path, the swagger's (``@Router`` comments of the
#: same handlers): a hook sends the route file's path first and, when CustomerOS answers that its router
#: has no such route (gin's plain-text 404, not a handler's JSON), the swagger's (docs/choices.md).
SWAGGER_PATHS = {
    "/outreach/v1/track/email": "/outreach/v1/email/tracking",
    "/mailstack/v1/domains": "/domains",
    "/mailstack/v1/domains/configure": "/domains/configure",
    "/mailstack/v1/domains/{domain}/mailboxes": "/domains/{domain}/mailboxes",
}

#: Where the catalogue's path (the swagger's, and what most versions of the route file register) has a
#: twin that another version of ``server/customer_routes.go`` registers instead: sent only after the
#: catalogue's path answers gin's plain-text 404 (docs/choices.md, "organization enrichment").
ROUTE_FILE_TWINS = {
    "/enrich/v1/organization": "/enrich/v1/person/organization",
}

_API = "customeros/customeros packages/server/customer-os-api/"
_VERIFY = _API + "rest/verify/verify_email.go"
#: The route file of the API-key routes below, pinned (index copy), and the handlers' files.
_ROUTES = _API + "server/customer_routes.go@aa4e0bd52ed6"
_HANDLERS = _API + "handlers/"
_SWAGGER = "api-evangelist/customeros@ef5a33b openapi/_original/customeros-swagger.json"


def _call(method: str, path: str, hook_method: str, source: str, records_key: str | None = None) -> Resource:
    return Resource(path, records_key, method=method, hook_method=hook_method, source=source)


def _routes_file_calls() -> dict[str, Resource]:
    """The e-mail tracking, mailstack, reveal and ``/me`` routes of ``server/customer_routes.go``, each
    with the handler file it runs (customeros/customeros, ``handlers/``), then the swagger's variants of
    the same handlers where its path differs (:data:`SWAGGER_PATHS`)."""
    mail = _HANDLERS + "mailstack/"
    rows = {
        "email_tracking": _call(
            "POST", PATHS["email_tracking"], "generate_email_tracking_urls",
            f"{_ROUTES} (registerOutreachRoutes); {_HANDLERS}outreach/outreach.go@383b4a33b619 "
            "(GenerateEmailTrackingUrls: 400 Invalid request body; 200 status, trackingId, trackingPixel?, "
            "trackedLinks?, unsubscribeLink?)"),
        "mailstack_domain_register": _call(
            "POST", PATHS["mailstack_domains"], "register_domain",
            f"{_ROUTES} (registerMailstackRoutes); {mail}domain.go@a5482e1fa547 RegisterNewDomain (201 domain; "
            "400 missing domain/website; 406 TLD/premium/price; 409 Domain already registered); "
            f"{mail}model.go", "domain"),
        "mailstack_domains": _call(
            "GET", PATHS["mailstack_domains"], "get_domains", f"{_ROUTES}; {mail}domain.go@a5482e1fa547 GetDomains",
            "domains"),
        "mailstack_domain_recommendations": _call(
            "GET", PATHS["mailstack_domain_recommendations"], "recommend_domains",
            f"{_ROUTES}; {mail}domain.go@a5482e1fa547 RecommendDomain (?baseName, else 400; at most 20)", "domains"),
        "mailstack_domain_configure": _call(
            "POST", PATHS["mailstack_domain_configure"], "configure_domain",
            f"{_ROUTES}; {mail}domain.go@a5482e1fa547 ConfigureDomain (201 domain; 404 not the tenant's)", "domain"),
        "mailstack_mailbox_create": _call(
            "POST", PATHS["mailstack_mailboxes"], "create_mailbox",
            f"{_ROUTES}; {mail}mailbox.go@a5482e1fa547 RegisterNewMailbox (200 mailbox, password only when "
            f"generated; 404 Domain not found; 409 Username already exists); {mail}model.go MailboxRequest",
            "mailbox"),
        "mailstack_mailboxes": _call(
            "GET", PATHS["mailstack_mailboxes"], "get_mailboxes",
            f"{_ROUTES}; {mail}mailbox.go@a5482e1fa547 GetMailboxes (mailboxes omitted when none)", "mailboxes"),
        "mailstack_dns": _call(
            "GET", PATHS["mailstack_dns"], "get_dns_records",
            f"{_ROUTES}; {mail}dns.go@a5482e1fa547 DNS (404 not the tenant's domain)", "dnsRecords"),
        "mailstack_dns_add": _call(
            "POST", PATHS["mailstack_dns"], "add_dns_record",
            f"{_ROUTES}; {mail}dns.go@a5482e1fa547 AddDNSRecord (201 dnsRecord as sent)", "dnsRecord"),
        "mailstack_dns_delete": _call(
            "DELETE", PATHS["mailstack_dns"], "delete_dns_record",
            f"{_ROUTES}; {mail}dns.go@a5482e1fa547 DeleteDNSRecord (reads a :dnsId the route does not "
            "declare: 500 unable to delete dns record)"),
        "reveal_tracker": _call(
            "POST", PATHS["reveal_trackers"], "provision_tracker",
            f"{_ROUTES} (registerRevealRoutes); {_HANDLERS}reveal_setup/provision_tracker.go@55c3bc9aa77f "
            "(200 tracker: id, domain https://<domain>, createdAt, code)", "tracker"),
        "reveal_verify": _call(
            "GET", PATHS["reveal_verify"], "verify_tracker",
            f"{_ROUTES}; {_HANDLERS}reveal_setup/verify_tracker.go@95da48ec5778 (?domain; 404 domain not found; "
            "tracker.status verified|unverified)", "tracker"),
        "me": _call("GET", PATHS["me"], "get_me",
                    f"{_ROUTES} (registerIDRoutes); {_HANDLERS}me.go@383b4a33b619 (MeResponse: requestId, status, "
                    "tenant)", "tenant"),
    }
    variants = {}
    for name, row in list(rows.items()):
        swagger = SWAGGER_PATHS.get(row.path)
        if swagger:
            variants[f"{name}_swagger"] = _call(
                row.method, swagger, row.hook_method,
                f"{_SWAGGER} ({row.method} {swagger}); the hook's fallback for {row.path}", row.records_key)
    return {**rows, **variants}


#: The Flows routes of ``server/customer_routes.go`` (index id 66456577487, registerFlowRoutes), by
#: catalogue name: (method, path, hook method, handler file and what it answers, records key).
_FLOW_ROUTES: tuple[tuple[str, str, str, str, str, str | None], ...] = (
    ("flows_create", "POST", "/flows", "create_flow",
     "flow_create.go CreateFlow (200 flow, status off, a trigger node; 400 invalid trigger event / flow with "
     "this name already exists)", "flow"),
    ("flows", "GET", "/flows", "get_flows", "flow_get.go GetFlows", "flows"),
    ("flow", "GET", "/flows/{flowId}", "get_flow",
     "flow_get.go GetFlows (404 unable to locate flow / flow does not exist); common.go (flow_ prefix)", "flow"),
    ("flow_update", "PUT", "/flows/{flowId}", "update_flow", "flow_update.go UpdateFlow (sets status off)", "flow"),
    ("flow_delete", "DELETE", "/flows/{flowId}", "delete_flow", "flow_delete.go DeleteFlow (archived, 204)", None),
    ("flow_on", "POST", "/flows/{flowId}/on", "turn_flow_on", "flow_change_status.go TurnOn", "flow"),
    ("flow_off", "POST", "/flows/{flowId}/off", "turn_flow_off", "flow_change_status.go TurnOff", "flow"),
    ("flow_nodes", "GET", "/flows/{flowId}/nodes", "get_flow_nodes", "flow_node_get.go GetFlowNodes", "nodes"),
    ("flow_node_create", "POST", "/flows/{flowId}/nodes", "create_flow_node",
     "flow_node_create.go CreateFlowNode (type, event, eventData; the rest/ copies also positionX/Y, data); "
     "flow_model.go", "node"),
    ("flow_node", "GET", "/flows/{flowId}/nodes/{nodeId}", "get_flow_node",
     "flow_node_get.go GetFlowNodes (node_ prefix)", "node"),
    ("flow_node_update", "PUT", "/flows/{flowId}/nodes/{nodeId}", "update_flow_node",
     "flow_node_update.go UpdateFlowNode (404 node not found)", "node"),
    ("flow_node_delete", "DELETE", "/flows/{flowId}/nodes/{nodeId}", "delete_flow_node",
     "flow_node_delete.go DeleteFlowNode (archived, 204)", None),
    ("flow_edges", "GET", "/flows/{flowId}/edges", "get_flow_edges",
     "flow_edge_get.go GetFlowEdges (404 no edges exist for this flow)", "edges"),
    ("flow_edge_create", "POST", "/flows/{flowId}/edges", "create_flow_edge",
     "flow_edge_create.go CreateFlowEdge (fromNodeId, toNodeId, condition, data; ValidateTransition)", "edge"),
    ("flow_edge", "GET", "/flows/{flowId}/edges/{edgeId}", "get_flow_edge",
     "flow_edge_get.go GetFlowEdges (answers the list edges for one id too)", "edges"),
    ("flow_edge_update", "PUT", "/flows/{flowId}/edges/{edgeId}", "update_flow_edge",
     "flow_edge_update.go UpdateFlowEdge (404 edge not found)", "edge"),
    ("flow_edge_delete", "DELETE", "/flows/{flowId}/edges/{edgeId}", "delete_flow_edge",
     "flow_edge_delete.go DeleteFlowEdge (archived, 204)", None),
    ("flow_agents", "GET", "/agents", "get_flow_agents", "flow_agents.go GetAgents (actions, or one action)",
     "actions"),
    ("flow_listeners", "GET", "/listeners", "get_flow_listeners",
     "flow_listeners.go GetListeners (events, or one event)", "events"),
    ("flow_transitions", "GET", "/transitions", "get_flow_transitions",
     "flow_transitions.go GetTransitions (?fromNode; transitions, or one transition)", "transitions"),
    ("flow_hooks", "GET", "/hooks", "get_flow_webhooks",
     "webhooks.go GetActiveWebhooks (hooks, one hook, or message No active webhooks)", "hooks"),
    ("flow_hook_create", "POST", "/hooks", "create_flow_webhook",
     "webhooks.go CreateWebhook (201 hook: url, integration, secret)", "hook"),
    ("flow_hook_rotate", "POST", "/{tenantId}/i/{integrationId}/rotate", "rotate_flow_webhook",
     "webhooks.go RotateWebhook (201 hook; 401 not the tenant's; 404, in the rest/ copy 500, Unable to identify "
     "webhook)", "hook"),
    ("flow_hook_deactivate", "DELETE", "/{tenantId}/i/{integrationId}", "deactivate_flow_webhook",
     "webhooks.go DeactivateWebhook (200 message Webhook successfully deactivated)", None),
)


def _flow_calls() -> dict[str, Resource]:
    flows = _HANDLERS + "flows/"
    return {name: _call(method, FLOWS_PATH + path, hook, f"{_ROUTES} (index id 66456577487, registerFlowRoutes); "
                        f"{flows}{source}", key)
            for name, method, path, hook, source, key in _FLOW_ROUTES}


CUSTOMEROS = ApiSpec(
    name="customeros",
    display_name="CustomerOS",
    conn_type="customeros",
    default_conn_id="customeros_default",
    conn_name_attr="customeros_conn_id",
    hook_class="airflow_provider_gtm.hooks.customeros.CustomerOSHook",
    hosts={"default": HOST},
    field_labels={"password": "API key", "host": "Base URL"},
    hidden_fields=("schema", "login"),
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
        **_routes_file_calls(),
        "organization_enrichment_route_file": _call(
            "GET", ROUTE_FILE_TWINS[PATHS["organization_enrichment"]], "enrich_organization",
            f"{_ROUTES} (index id 66456577487, registerEnrichRoutes: EnrichOrganization at person/organization; "
            "the index's other copies of the file and the swagger say /enrich/v1/organization); the hook's "
            "fallback for /enrich/v1/organization"),
        **_flow_calls(),
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
