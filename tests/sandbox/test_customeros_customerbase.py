"""Contract tests of the CustomerOS sandbox's other customerbase routes (issue 22, third slice): the
contact CSV import and the organization's primary external link, driven with plain ``requests``."""

from __future__ import annotations

from airflow_provider_gtm.apis.customeros import CUSTOMEROS

ORG = "00000000-0000-4000-8000-000000000007"
MISSING = "00000000-0000-4000-8000-999999999999"


def _link(org: str, system: str) -> str:
    return CUSTOMEROS.calls["organization_primary_link"].path.replace("{id}", org).replace("{externalSystem}", system)


def test_contact_import_takes_a_csv_with_email_and_linkedin_url(cos):
    """customeros/customeros packages/server/customer-os-api/server/customer_routes.go (POST
    /customerbase/v1/contacts/import), rest/customerbase/contact_bulk.go (multipart ``file``, CSV
    headers ``email``, ``linkedin_url``; the bulk answer with ``summary`` and ``details``)."""
    path = CUSTOMEROS.calls["contacts_import"].path
    csv = b"email,linkedin_url\nada@example.com,\nnot-an-email,\n"
    answer = cos("POST", path, files={"file": ("c.csv", csv, "text/csv")})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["summary"]["success"] == 1 and body["summary"]["failed"] == 1
    assert cos("POST", path, files={"file": ("c.txt", csv, "text/plain")}).status_code == 400
    assert cos("POST", path, files={"file": ("c.csv", b"name\nx\n", "text/csv")}).status_code == 400
    assert cos("POST", path, json=[{"email": "a@b.co"}]).status_code == 415


def test_primary_external_link_is_set_per_system(cos, gtm_sandbox):
    """customeros/customeros rest/customerbase/organization.go SetPrimaryExternalSystemId: JSON
    ``externalId``; the system lower-cased; 404 "Organization not found" before 404 "External system
    not found"; 200 with ``organizationId, externalSystem, primaryExternalId``."""
    answer = cos("PUT", _link(ORG, "Stripe"), json={"externalId": "cus_123"})
    assert answer.status_code == 200, CUSTOMEROS.calls["organization_primary_link"].source
    assert answer.json() == {"status": "success", "message": "Primary external ID set successfully",
                             "organizationId": ORG, "externalSystem": "stripe", "primaryExternalId": "cus_123"}
    unknown_system = cos("PUT", _link(ORG, "myerp"), json={"externalId": "1"})
    assert (unknown_system.status_code, unknown_system.json()["message"]) == (404, "External system not found")
    missing = cos("PUT", _link(MISSING, "myerp"), json={"externalId": "1"})
    assert (missing.status_code, missing.json()["message"]) == (404, "Organization not found")
    assert cos("PUT", _link(ORG, "hubspot"), data="not json").status_code == 400
    assert gtm_sandbox.state()["apis"]["customeros"]["primary_links"] == [
        {"organizationId": ORG, "externalSystem": "stripe", "externalId": "cus_123"}]
