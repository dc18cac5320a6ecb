"""Contract tests of the CustomerOS sandbox, driven with plain ``requests`` (section 2 of the API reference)."""

from __future__ import annotations

import json

import pytest
import requests

from airflow_provider_gtm.sandbox import SANDBOX_CREDENTIALS

KEY = SANDBOX_CREDENTIALS["customeros"]["password"]


def _found_email(cos, start=0):
    """An address the sandbox enriches (not in the deterministic not-found subset)."""
    for i in range(start, start + 100):
        email = f"person{i}@acme.example"
        response = cos("GET", "/enrich/v1/person", params={"email": email})
        if response.status_code == 202:
            return email, response
    raise AssertionError("no enrichable address found")


# --- auth -------------------------------------------------------------------------------------------
def test_auth_missing_key(gtm_sandbox):
    response = requests.get(gtm_sandbox.base_url("customeros") + "/verify/v1/email",
                            params={"address": "a@b.example"}, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Api key is required"}]}


def test_auth_wrong_key_keeps_curly_quote_typo(gtm_sandbox):
    response = requests.get(gtm_sandbox.base_url("customeros") + "/verify/v1/email",
                            params={"address": "a@b.example"}, headers={"X-CUSTOMER-OS-API-KEY": "wrong_key_123456"},
                            timeout=10)
    assert response.status_code == 401
    assert response.content == '{"errors":[{"message\u201d":"Invalid api key"}]}'.encode()
    assert response.json() == {"errors": [{"message\u201d": "Invalid api key"}]}


def test_auth_ok(cos):
    assert cos("GET", "/verify/v1/email", params={"address": "a@b.example"}).status_code == 200


# --- enrich person ----------------------------------------------------------------------------------
def test_enrich_person_polls_until_complete(cos):
    email, first = _found_email(cos)
    body = first.json()
    assert body["status"] == "success" and body["isComplete"] is False
    assert body["pendingFields"] == ["email"]
    assert body["resultUrl"].startswith(cos.base + "/enrich/v1/person/results/")
    poll1 = requests.get(body["resultUrl"], headers={"X-CUSTOMER-OS-API-KEY": KEY}, timeout=10)
    assert poll1.status_code == 202 and poll1.json()["resultUrl"] == body["resultUrl"]
    poll2 = requests.get(body["resultUrl"], headers={"X-CUSTOMER-OS-API-KEY": KEY}, timeout=10)
    assert poll2.status_code == 200
    done = poll2.json()
    assert done["isComplete"] is True and "pendingFields" not in done
    assert done["data"]["emails"][0]["address"] == email
    again = requests.get(body["resultUrl"], headers={"X-CUSTOMER-OS-API-KEY": KEY}, timeout=10)
    assert again.status_code == 200
    state = cos.sandbox.state()["apis"]["customeros"]["enrichments"]
    assert list(state.values())[0]["complete"] is True


def test_enrichment_polls_configurable(cos):
    cos.sandbox.configure(customeros={"enrichment_polls": 3})
    email, first = _found_email(cos)
    url = first.json()["resultUrl"]
    statuses = [requests.get(url, headers={"X-CUSTOMER-OS-API-KEY": KEY}, timeout=10).status_code for _ in range(3)]
    assert statuses == [202, 202, 200]
    cos.sandbox.configure(customeros={"enrichment_polls": 0})
    immediate = cos("GET", "/enrich/v1/person", params={"email": email})
    assert immediate.status_code == 200
    assert immediate.json()["isComplete"] is True and immediate.json()["data"]["emails"][0]["address"] == email


def test_reset_restores_enrichment_polls_default(cos):
    cos.sandbox.configure(customeros={"enrichment_polls": 5})
    cos.sandbox.reset()
    assert cos.sandbox.state()["config"]["options"]["customeros"]["enrichment_polls"] == 2


def test_include_mobile_number_adds_pending_phone(cos):
    email, _ = _found_email(cos)
    response = cos("GET", "/enrich/v1/person", params={"email": email, "includeMobileNumber": "true"})
    assert response.json()["pendingFields"] == ["email", "phone number"]


def test_enrich_person_not_found_warning(cos):
    response = cos("GET", "/enrich/v1/person", params={"email": "ghost@notfound.example"})
    assert response.status_code == 200
    assert response.json() == {"status": "warning", "message": "Person not found"}


def test_not_found_subset_is_deterministic_and_partial(cos):
    statuses = [cos("GET", "/enrich/v1/person", params={"email": f"user{i}@corp.example"}).status_code
                for i in range(60)]
    assert 0 < statuses.count(200) < 30 and statuses.count(202) > 30
    again = [cos("GET", "/enrich/v1/person", params={"email": f"user{i}@corp.example"}).status_code
             for i in range(60)]
    assert statuses == again


def test_enrich_person_requires_email_or_linkedin(cos):
    response = cos("GET", "/enrich/v1/person", params={"firstName": "Ada"})
    assert response.status_code == 400
    assert response.json() == {"status": "error", "message": "Missing required parameters linkedinUrl or email"}


def test_results_unknown_and_invalid_id(cos):
    missing = cos("GET", "/enrich/v1/person/results/6f1c2a9e-7b3d-4e5f-8a9b-0c1d2e3f4a5b")
    assert missing.status_code == 404 and missing.json() == {"status": "error", "message": "Record not found"}
    assert cos("GET", "/enrich/v1/person/results/not-a-uuid").status_code == 400


# --- enrich organization, verify --------------------------------------------------------------------
def test_enrich_organization(cos):
    response = cos("GET", "/enrich/v1/organization", params={"domain": "acme.com"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in ("success", "warning")
    if body["status"] == "success":
        assert body["data"]["domain"] == "acme.com" and "industry" in body["data"]["industry"]
    assert cos("GET", "/enrich/v1/organization", params={"domain": "x.notfound.example"}).json()["status"] == "warning"
    assert cos("GET", "/enrich/v1/organization").status_code == 400


def test_verify_email_nested_shape(cos):
    body = cos("GET", "/verify/v1/email", params={"address": "jane@acme.example"}).json()
    assert body["status"] == "success" and len(body["requestId"]) == 16
    email = body["email"]
    assert email["emailAddress"] == "jane@acme.example"
    assert email["deliverable"] in ("true", "false", "unknown")
    assert email["syntax"] == {"isValid": True, "user": "jane", "domain": "acme.example"}
    assert set(email["risk"]) == {"isFirewalled", "isFreeProvider", "isMailboxFull", "isPrimaryDomain",
                                  "isRoleMailbox", "isSystemGenerated"}
    bad = cos("GET", "/verify/v1/email", params={"address": "not-an-email"}).json()["email"]
    assert bad["syntax"]["isValid"] is False and bad["deliverable"] == "false"
    assert cos("GET", "/verify/v1/email").status_code == 400


def test_verify_catch_all(cos):
    on = cos("GET", "/verify/v1/email", params={"address": "a@catchall.example"}).json()["email"]
    off = cos("GET", "/verify/v1/email", params={"address": "a@catchall.example", "verifyCatchAll": "false"})
    assert on["isCatchAll"] is True and off.json()["email"]["deliverable"] == "unknown"


def test_verify_ip(cos):
    body = cos("GET", "/verify/v1/ip", params={"address": "8.8.8.8"}).json()
    assert body["ip"]["ipAddress"] == "8.8.8.8"
    assert set(body["ip"]) == {"ipAddress", "geolocation", "network", "organization", "threats", "time_zone"}
    assert cos("GET", "/verify/v1/ip", params={"address": "999.1.1.1"}).status_code == 400


# --- bulk email verification ------------------------------------------------------------------------
def _upload(cos, content, filename="emails.csv", **fields):
    return cos("POST", "/verify/v1/email/bulk", files={"file": (filename, content, "text/csv")}, data=fields)


def test_bulk_verification_job_lifecycle(cos):
    response = _upload(cos, b"email,name\na@acme.example,A\nb@acme.example,B\nbroken,C\n", emailColumn="email")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "File uploaded successfully"
    assert body["resultUrl"] == f"{cos.base}/verify/v1/email/bulk/results/{body['jobId']}"
    assert isinstance(body["estimatedCompletionTs"], int)
    first = cos("GET", f"/verify/v1/email/bulk/results/{body['jobId']}").json()
    assert first["status"] == "processing" and first["results"] is None
    early = cos("GET", f"/verify/v1/email/bulk/results/{body['jobId']}/download")
    assert early.status_code == 202 and early.json()["status"] == "processing"
    second = cos("GET", f"/verify/v1/email/bulk/results/{body['jobId']}").json()
    assert second["status"] == "completed" and second["message"] == "Completed 3 of 3 emails"
    assert second["results"]["totalEmails"] == 3
    assert second["results"]["undeliverable"] >= 1
    download = requests.get(second["results"]["downloadUrl"], headers={"X-CUSTOMER-OS-API-KEY": KEY}, timeout=10)
    assert download.status_code == 200 and download.headers["Content-Type"] == "text/csv"
    lines = download.text.strip().splitlines()
    assert lines[0].startswith("email,name,deliverable") and len(lines) == 4
    assert lines[3].startswith("broken,C,false")


def test_bulk_polls_configurable(cos):
    cos.sandbox.configure(customeros={"bulk_polls": 1})
    job = _upload(cos, b"email\na@acme.example\n").json()["jobId"]
    assert cos("GET", f"/verify/v1/email/bulk/results/{job}").json()["status"] == "completed"


@pytest.mark.parametrize("content,filename,fields,message", [
    (b"email\na@b.example\n", "emails.txt", {}, "Only CSV files are accepted"),
    (b"email\na@b.example\n", "emails.csv", {"emailColumn": "mail"}, "Column 'mail' not found"),
    (b"email,name\na@b.example,A\n", "emails.csv", {},
     "Multiple columns found, please provide 'emailColumn' parameter"),
    (b"email\n", "emails.csv", {}, "No records found in the file"),
])
def test_bulk_upload_errors(cos, content, filename, fields, message):
    response = _upload(cos, content, filename, **fields)
    assert response.status_code == 400
    assert response.json() == {"status": "error", "message": message}


def test_bulk_results_unknown_job(cos):
    assert cos("GET", "/verify/v1/email/bulk/results/nope").status_code == 404


# --- organizations ----------------------------------------------------------------------------------
def test_create_and_get_organization(cos):
    """customeros/customeros@ef492ebda, packages/server/customer-os-api/rest/customerbase/organization.go
    (October 2024, the default ``organization_version`` 1): 201 ``{status, message, id}``; GET answers
    the organization flat."""
    response = cos("POST", "/customerbase/v1/organizations",
                   json={"name": "Acme", "website": "https://www.acme-corp.example/about", "customId": "acme-1"})
    assert response.status_code == 201
    body = response.json()
    assert body == {"status": "success", "message": "Organization created successfully", "id": body["id"]}
    got = cos("GET", f"/customerbase/v1/organizations/{body['id']}")
    org = got.json()
    assert got.status_code == 200 and org["id"] == body["id"] and org["domains"] == ["acme-corp.example"]
    by_cos = cos("GET", f"/customerbase/v1/organizations/{org['cosId']}")
    assert by_cos.json()["id"] == org["id"]
    assert org["id"] in cos.sandbox.state()["apis"]["customeros"]["organizations"]


def test_create_and_get_organization_newest_code(cos):
    """customeros/customeros, rest/customerbase/organization.go with rest/response/response_handler.go
    (newest): HandleCreated 201 ``{requestId, status, organization: {id}}``; a duplicate goes through
    HandleError, which writes status line 500 with ``code: "Conflict"``."""
    cos.sandbox.configure(customeros={"organization_version": 2})
    response = cos("POST", "/customerbase/v1/organizations", json={"name": "Acme", "customId": "acme-1"})
    assert response.status_code == 201
    org_id = response.json()["organization"]["id"]
    assert response.json()["status"] == "success" and response.json()["requestId"]
    assert cos("GET", f"/customerbase/v1/organizations/{org_id}").json()["organization"]["id"] == org_id
    again = cos("POST", "/customerbase/v1/organizations", json={"name": "Other", "customId": "acme-1"})
    assert again.status_code == 500
    assert {k: again.json()[k] for k in ("status", "code", "message")} == {
        "status": "error", "code": "Conflict", "message": "Organization already exists with given custom id"}


@pytest.mark.parametrize("payload", [
    {"name": "Other", "website": "acme-corp.example"},
    {"name": "Other", "customId": "acme-1"},
    {"name": "Other", "linkedinUrl": "https://www.linkedin.com/company/acme/"},
])
def test_organization_conflict_409_with_existing_id(cos, payload):
    """customeros/customeros@ef492ebda, rest/customerbase/organization.go: 409 ``{status, message, id}``."""
    first = cos("POST", "/customerbase/v1/organizations", json={
        "name": "Acme", "website": "https://acme-corp.example", "customId": "acme-1",
        "linkedinUrl": "https://linkedin.com/company/acme"}).json()["id"]
    response = cos("POST", "/customerbase/v1/organizations", json=payload)
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "error" and body["id"] == first
    assert body["message"].startswith("Organization already exists with given ")


def test_organization_conflicts_with_synthetic_domain(cos):
    response = cos("POST", "/customerbase/v1/organizations", json={"website": "https://org7.example.com"})
    assert response.status_code == 409
    assert response.json()["message"] == "Organization already exists with given domain"
    assert response.json()["id"] == "00000000-0000-4000-8000-000000000007"
    assert cos("GET", "/customerbase/v1/organizations/00000000-0000-4000-8000-000000000007").status_code == 200


def test_organization_missing_fields_and_bad_body(cos):
    missing = cos("POST", "/customerbase/v1/organizations", json={"leadSource": "web"})
    assert missing.status_code == 400 and missing.json()["message"] == "Missing organization input fields"
    bad = cos("POST", "/customerbase/v1/organizations", data=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["message"] == "Invalid request body"


def test_organization_partial_success_for_bad_linkedin(cos):
    """customeros/customeros@ef492ebda, rest/customerbase/organization.go: when adding the LinkedIn URL
    fails the handler writes 206 partial_success and, with no return, the 201 success body too: one
    status line (206), two JSON documents."""
    response = cos("POST", "/customerbase/v1/organizations", json={"name": "Beta", "linkedinUrl": "beta-profile"})
    assert response.status_code == 206
    first, end = json.JSONDecoder().raw_decode(response.text)
    second = json.loads(response.text[end:])
    assert first == {"status": "partial_success", "message": "Failed to add linkedin url", "id": first["id"],
                     "partialSuccess": True}
    assert second == {"status": "success", "message": "Organization created successfully", "id": first["id"]}


def test_get_unknown_organization_404(cos):
    response = cos("GET", "/customerbase/v1/organizations/nope")
    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "Organization not found"}


# --- contacts ---------------------------------------------------------------------------------------
def test_create_contact(cos):
    """customeros/customeros rest/customerbase/contact.go with rest/response/response_handler.go
    (newest): 200 ``{requestId, status, contact}``; a record without email or LinkedIn URL gets no body
    (a bare 200); an invalid one a 500 coded "Bad Request" with "<value> | <reason>"."""
    response = cos("POST", "/customerbase/v1/contacts", json={"email": "jo@acme.example"})
    assert response.status_code == 200
    contact = response.json()["contact"]
    assert contact["email"] == "jo@acme.example" and contact["contactId"]
    empty = cos("POST", "/customerbase/v1/contacts", json={})
    assert (empty.status_code, empty.content) == (200, b"")
    invalid = cos("POST", "/customerbase/v1/contacts", json={"email": "bad@@x"})
    assert invalid.status_code == 500
    assert {k: invalid.json()[k] for k in ("status", "code", "message")} == {
        "status": "error", "code": "Bad Request", "message": "bad@@x | invalid email format"}
    assert contact["contactId"] in cos.sandbox.state()["apis"]["customeros"]["contacts"]


ZERO_DETAILS = {"value": "", "recordNumber": 0, "description": ""}


@pytest.mark.parametrize("version, status", [(1, 201), (2, 200)])
def test_bulk_contacts_all_ok_carries_zero_details(cos, version, status):
    """customeros/customeros, rest/customerbase/contact_bulk.go: ``Details BulkErrorDetails
    `json:"details,omitempty"` `` is a struct, which omitempty never omits: a clean answer carries it
    zero-valued. Version 1 (commit 2352973a72c9, c.JSON) answers 201, version 2 (newest,
    responseHandler.HandleSuccess) 200 with a requestId."""
    cos.sandbox.configure(customeros={"bulk_version": version})
    response = cos("POST", "/customerbase/v1/contacts/bulk",
                   json=[{"email": "a@acme.example"}, {"linkedinUrl": "https://linkedin.com/in/b"}])
    assert response.status_code == status
    body = response.json()
    assert body["status"] == "success" and body["summary"] == {"total": 2, "success": 2, "failed": 0}
    assert body["details"] == ZERO_DETAILS
    assert ("requestId" in body) == (version == 2)
    assert len(cos.sandbox.state()["apis"]["customeros"]["contacts"]) == 2


@pytest.mark.parametrize("version, status, word", [(1, 206, "partial_success"), (2, 200, "success")])
def test_bulk_contacts_one_failure_details_object(cos, version, status, word):
    """contact_bulk.go: exactly one failure is one details object; version 1 answers 206
    partial_success, the newest HandleSuccess 200 success."""
    cos.sandbox.configure(customeros={"bulk_version": version})
    response = cos("POST", "/customerbase/v1/contacts/bulk", json=[{"email": "a@acme.example"}, {"email": "bad@@x"}])
    assert response.status_code == status
    body = response.json()
    assert body["status"] == word and body["summary"] == {"total": 2, "success": 1, "failed": 1}
    assert body["details"] == {"value": "bad@@x", "recordNumber": 1, "description": "invalid email format"}


def test_bulk_contacts_several_failures_body_written_twice(cos):
    """contact_bulk.go (newest): several failures go through HandleCreated and then c.JSON(201) again:
    one 201 status line, the body written twice (the second without requestId and status)."""
    response = cos("POST", "/customerbase/v1/contacts/bulk",
                   json=[{"email": "a@acme.example"}, {}, {"email": "nope"}])
    assert response.status_code == 201
    first, end = json.JSONDecoder().raw_decode(response.text)
    second = json.loads(response.text[end:])
    assert second == {"summary": first["summary"], "details": first["details"]}
    body = first
    assert body["status"] == "success"
    assert body["summary"] == {"total": 3, "success": 1, "failed": 2}
    assert [d["recordNumber"] for d in body["details"]] == [1, 2]
    assert body["details"][0]["description"] == "email or linkedinUrl is required"
    assert len(cos.sandbox.state()["apis"]["customeros"]["contacts"]) == 1


def test_bulk_contacts_all_invalid_and_empty(cos):
    invalid = cos("POST", "/customerbase/v1/contacts/bulk", json=[{}, {"email": "x"}])
    assert invalid.status_code == 400
    assert invalid.json() == {"status": "error", "message": "No valid contacts found in request"}
    empty = cos("POST", "/customerbase/v1/contacts/bulk", json=[])
    assert empty.status_code == 400 and empty.json()["message"] == "No contacts provided"
    not_array = cos("POST", "/customerbase/v1/contacts/bulk", json={"email": "a@acme.example"})
    assert not_array.status_code == 400
    assert cos.sandbox.state()["apis"]["customeros"]["contacts"] == {}


def test_contacts_import_csv(cos):
    csv_body = b"email,linkedin_url\na@acme.example,\n,https://linkedin.com/in/b\nbad,\n"
    response = cos("POST", "/customerbase/v1/contacts/import", files={"file": ("c.csv", csv_body, "text/csv")})
    assert response.status_code == 201
    body = response.json()
    assert body["summary"] == {"total": 3, "success": 2, "failed": 1}
    assert body["details"]["recordNumber"] == 3
    headers = cos("POST", "/customerbase/v1/contacts/import", files={"file": ("c.csv", b"mail\nx\n", "text/csv")})
    assert headers.status_code == 400 and headers.json()["message"] == "Missing required headers: email, linkedin_url"
    assert cos("POST", "/customerbase/v1/contacts/import", json=[]).status_code == 415


# --- rate limits, config, errors --------------------------------------------------------------------
def test_no_default_rate_limit(cos):
    assert "customeros" not in cos.sandbox.state()["config"]["rate_limits"]


def test_configured_rate_limit_429(cos):
    cos.sandbox.configure(rate_limits={"customeros": {"windows": [[2, 60]]}})
    try:
        statuses = [cos("GET", "/verify/v1/ip", params={"address": "1.1.1.1"}).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        response = cos("GET", "/verify/v1/ip", params={"address": "1.1.1.1"})
        assert response.json() == {"status": "error", "message": "Too many requests"}
        assert "Retry-After" not in response.headers
        assert cos.sandbox.state()["rate_limited"]["customeros"] == 2
    finally:
        # reset() keeps configured rate limits; drop ours so later tests see the default (none).
        cos.sandbox.app.limit_specs.pop("customeros", None)


def test_configure_validates_options(cos):
    with pytest.raises(ValueError, match="unknown customeros option"):
        cos.sandbox.configure(customeros={"polls": 1})
    with pytest.raises(ValueError):
        cos.sandbox.configure(customeros={"enrichment_polls": -1})


def test_unknown_route_uses_error_body(cos):
    response = cos("GET", "/customerbase/v1/nowhere")
    assert response.status_code == 404 and response.json()["status"] == "error"


# --- answers the hooks used to misread (issue 22) ----------------------------------------------------
def test_bulk_contacts_bad_linkedin_url_is_reported_with_that_url(cos):
    """customeros/customeros packages/server/customer-os-api/rest/customerbase/contact.go
    ``validateContactRecord``: a record whose LinkedIn URL is malformed is refused with that URL as
    ``value`` (not its e-mail); ``contact_bulk.go`` puts it in ``details``."""
    response = cos("POST", "/customerbase/v1/contacts/bulk",
                   json=[{"email": "a@acme.example"}, {"email": "b@acme.example", "linkedinUrl": "not-a-profile"}])
    body = response.json()
    assert body["summary"] == {"total": 2, "success": 1, "failed": 1}
    assert body["details"] == {"value": "not-a-profile", "recordNumber": 1,
                               "description": "invalid LinkedIn URL format"}


def test_bulk_download_before_completion_newer_code_answers_200_success(cos):
    """customeros/customeros packages/server/customer-os-api/rest/verify/verify_email.go, the newer
    ``VerifyHandler`` version: a download before completion goes through
    ``rest/response/response_handler.go`` ``HandleSuccess``: 200 ``{requestId, status: success,
    message}`` and no CSV."""
    cos.sandbox.configure(customeros={"verify_version": 2})
    job = cos("POST", "/verify/v1/email/bulk", files={"file": ("e.csv", b"email\na@acme.example\n", "text/csv")})
    early = cos("GET", f"/verify/v1/email/bulk/results/{job.json()['jobId']}/download")
    assert early.status_code == 200 and early.headers["Content-Type"].startswith("application/json")
    body = early.json()
    assert body["status"] == "success" and "still being processed" in body["message"] and "requestId" in body
