"""CustomerOSHook: the API-key header, both error shapes, 409 as "exists", bulk details, polling."""

from __future__ import annotations

import json
import logging

import pytest
import requests

from airflow_provider_gtm.core.client import RetryPolicy
from airflow_provider_gtm.core.errors import (
    GtmApiError,
    GtmAuthError,
    GtmClientError,
    GtmConfigError,
    GtmNotFoundError,
    GtmPollTimeoutError,
    GtmServerError,
)
from airflow_provider_gtm.hooks.customeros import CustomerOSHook, customeros_error_message

from .support import query, sent, set_connection

KEY = "cos_live_4f1e9a7b3c2d8e6f"
API = "https://api.customeros.ai"
ORGS = f"{API}/customerbase/v1/organizations"
BULK = f"{API}/customerbase/v1/contacts/bulk"
RESULT_URL = f"{API}/enrich/v1/person/results/6f1c2b9e-8d7a-4c3b-9e2f-1a0b9c8d7e6f"
# The API-key middleware's body, with the curly quote inside the key name exactly as served.
INVALID_KEY = '{"errors":[{"message\u201d":"Invalid api key"}]}'


def set_conn(monkeypatch, *, host=None, password=KEY, extra=None):
    set_connection(monkeypatch, "customeros_default", "customeros", host=host, extra=extra, password=password)


@pytest.fixture
def hook(monkeypatch, timer):
    set_conn(monkeypatch)
    return CustomerOSHook(timer=timer, retry=RetryPolicy(max_attempts=4, jitter=0))


def counts(result) -> tuple[int, int, int]:
    return result.submitted, result.succeeded, result.failed


# -- connection, auth, errors --------------------------------------------------------------------

def test_api_key_header_and_default_host(hook, requests_mock):
    requests_mock.get(f"{ORGS}/C-A12-B45", json={"status": "success", "organization": {"id": "C-A12-B45"}})
    assert hook.get_organization("C-A12-B45") == {"id": "C-A12-B45"}
    request = requests_mock.last_request
    assert request.headers["X-CUSTOMER-OS-API-KEY"] == KEY
    assert "Authorization" not in request.headers
    assert request.headers["User-Agent"].startswith("airflow-provider-gtm/")


def test_missing_key_and_non_loopback_http(monkeypatch, timer, requests_mock):
    set_conn(monkeypatch, password="")
    with pytest.raises(GtmConfigError, match=r"no API key: set the connection's 'password' field"):
        CustomerOSHook(timer=timer).get_organization("x")
    set_conn(monkeypatch, host="http://customeros.internal:8080")
    with pytest.raises(GtmConfigError, match="loopback"):
        CustomerOSHook(timer=timer).get_organization("x")
    assert requests_mock.call_count == 0
    set_conn(monkeypatch, host="http://localhost:8790/customeros")
    requests_mock.get("http://localhost:8790/customeros/customerbase/v1/organizations/x", json={"organization": {}})
    CustomerOSHook(timer=timer).get_organization("x")
    assert requests_mock.call_count == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"status":"error","message":"Missing organization input fields"}', "Missing organization input fields"),
        ('{"errors":[{"message":"Api key is required"}]}', "Api key is required"),
        (INVALID_KEY, "Invalid api key"),
        ('{"errors":["bad tenant", "expired"]}', "bad tenant; expired"),
    ],
)
def test_error_message_reads_both_shapes(text, expected):
    assert customeros_error_message(json.loads(text), text) == expected


def test_refused_key_is_an_auth_error_without_the_key(hook, requests_mock, caplog):
    caplog.set_level(logging.DEBUG)
    requests_mock.get(f"{ORGS}/x", status_code=401, text=INVALID_KEY)
    with pytest.raises(GtmAuthError) as info:
        hook.get_organization("x")
    assert info.value.api_message == "Invalid api key" and requests_mock.call_count == 1
    assert all(KEY not in t for t in (str(info.value), repr(info.value.body), caplog.text))


def test_test_connection(hook, requests_mock):
    requests_mock.get(f"{ORGS}/connection-test", [
        {"status_code": 404, "json": {"status": "error", "message": "Resource not found"}},
        {"status_code": 401, "text": INVALID_KEY},
    ])
    assert hook.test_connection() == (True, "Connected to CustomerOS: API key accepted.")
    ok, message = hook.test_connection()
    assert not ok and "HTTP 401: Invalid api key" in message and KEY not in message


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, GtmClientError), (401, GtmAuthError), (403, GtmAuthError), (404, GtmNotFoundError)],
)
def test_client_errors_not_retried(hook, requests_mock, timer, status, error_type):
    requests_mock.get(f"{API}/verify/v1/ip", status_code=status, json={"status": "error", "message": "nope"})
    with pytest.raises(error_type, match="nope"):
        hook.verify_ip("203.0.113.7")
    assert requests_mock.call_count == 1 and timer.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_reads_retried_on_5xx(hook, requests_mock, timer, status):
    requests_mock.get(f"{API}/verify/v1/ip", [{"status_code": status, "json": {"message": "Internal error"}},
                                              {"json": {"status": "success", "ip": "203.0.113.7"}}])
    assert hook.verify_ip("203.0.113.7")["ip"] == "203.0.113.7"
    assert requests_mock.call_count == 2 and timer.sleeps == [1.0]


def test_429_honours_retry_after_else_backs_off(hook, requests_mock, timer):
    requests_mock.get(f"{API}/verify/v1/email", [
        {"status_code": 429, "headers": {"Retry-After": "12"}, "json": {"message": "Too many requests"}},
        {"status_code": 429, "json": {"message": "Too many requests"}},
        {"json": {"status": "success", "email": {"deliverable": "true"}}},
    ])
    assert hook.verify_email("ada@acme.example")["email"]["deliverable"] == "true"
    assert timer.sleeps == [12.0, 2.0]  # the server's wait, then the exponential backoff (attempt 2)


# -- organizations -------------------------------------------------------------------------------

def test_create_organization_both_success_shapes(hook, requests_mock):
    requests_mock.post(ORGS, [
        {"status_code": 201, "json": {"status": "success", "requestId": "r1",
                                      "organization": {"id": "org-1", "name": "Acme"}}},
        {"status_code": 201, "json": {"status": "success", "message": "created", "id": "org-2"}},
        {"status_code": 206, "json": {"status": "partial_success", "message": "Failed to add linkedin url",
                                      "id": "org-3", "partialSuccess": True}},
    ])
    record = {"name": "Acme", "website": "acme.example", "leadSource": "airflow"}
    assert hook.create_organization(record) == {"id": "org-1", "already_exists": False, "status": "success",
                                                "organization": {"id": "org-1", "name": "Acme"}}
    assert sent(requests_mock.last_request) == record
    assert hook.create_organization(record)["id"] == "org-2"
    partial = hook.create_organization(record)
    assert (partial["id"], partial["status"], partial["message"]) == (
        "org-3", "partial_success", "Failed to add linkedin url")


def test_409_returns_the_existing_id(hook, requests_mock):
    requests_mock.post(ORGS, status_code=409, json={
        "status": "error", "message": "Organization already exists with given domain", "id": "org-9"})
    assert hook.create_organization({"website": "acme.example"}) == {
        "id": "org-9", "already_exists": True, "status": "error", "own_retry": False,
        "message": "Organization already exists with given domain"}


def test_409_answering_the_clients_own_retry_is_this_calls_work(hook, requests_mock):
    # The first attempt met a 503 (it may have created the organization); the client's retry got 409.
    requests_mock.post(ORGS, [
        {"status_code": 503, "json": {"message": "unavailable"}},
        {"status_code": 409, "json": {"status": "error", "message": "Organization already exists", "id": "org-9"}},
    ])
    answer = hook.create_organization({"website": "acme.example"})
    assert (answer["id"], answer["already_exists"], answer["own_retry"]) == ("org-9", True, True)
    (result,) = list(hook.iter_create_organizations([{"website": "acme.example"}]))
    # A fresh call with no retry: a 409 is a genuine "already exists", flagged for the caller's policy.
    assert (result.succeeded, result.failed) == (0, 1) and result.failures[0].already_exists


def test_create_organization_retried_after_5xx_lands_on_409(hook, requests_mock, timer):
    # The first call was applied before the 502: the resend comes back as 409 with the id, not a duplicate.
    requests_mock.post(ORGS, [
        {"status_code": 502},
        {"status_code": 409, "json": {"status": "error", "message": "Organization already exists", "id": "org-5"}},
    ])
    assert hook.create_organization({"customId": "acme"})["id"] == "org-5"
    assert requests_mock.call_count == 2 and len(timer.sleeps) == 1


def test_create_organization_refusals(hook, requests_mock):
    requests_mock.post(ORGS, status_code=400, json={"status": "error", "message": "Invalid request body"})
    with pytest.raises(GtmClientError, match="Invalid request body"):
        hook.create_organization({"name": "Acme"})
    with pytest.raises(GtmConfigError, match="one of name, customId, website or linkedinUrl"):
        hook.create_organization({"leadSource": "x"})
    assert requests_mock.call_count == 1


def test_iter_create_organizations_accounts_for_every_record(hook, requests_mock):
    requests_mock.post(ORGS, [
        {"status_code": 201, "json": {"organization": {"id": "org-1"}}},
        {"status_code": 409, "json": {"status": "error", "message": "Organization already exists", "id": "org-2"}},
        {"status_code": 400, "json": {"status": "error", "message": "Invalid website"}},
        {"status_code": 201, "json": {"organization": {"id": "org-4"}}},
    ])
    records = [{"customId": "a"}, {"website": "b.example"}, {"name": "C", "website": "c..example"},
               {"relationship": "x"}, {"name": "D"}]
    results = list(hook.iter_create_organizations(records, batch_size=3))
    assert [counts(r) for r in results] == [(3, 1, 2), (2, 1, 1)]
    failures = [f for r in results for f in r.failures]
    assert [(f.identifier, f.error_message, f.status, f.already_exists, f.existing_id) for f in failures] == [
        ("b.example", "Organization already exists", 409, True, "org-2"),
        ("c..example", "Invalid website", 400, False, None),
        (None, "an organization needs one of name, customId, website or linkedinUrl", None, False, None),
    ]
    assert requests_mock.call_count == 4
    with pytest.raises(GtmConfigError, match="batch_size"):
        hook.iter_create_organizations([], batch_size=0)


def test_get_organization_not_found_and_missing_id(hook, requests_mock):
    requests_mock.get(f"{ORGS}/nope", status_code=404, json={"status": "error", "message": "Resource not found"})
    with pytest.raises(GtmNotFoundError, match="Resource not found"):
        hook.get_organization("nope")
    with pytest.raises(GtmConfigError, match="organization_id"):
        hook.get_organization("")


# -- contacts ------------------------------------------------------------------------------------

def test_create_contact(hook, requests_mock):
    requests_mock.post(f"{API}/customerbase/v1/contacts", status_code=201,
                       json={"status": "success", "contact": {"id": "ct-1", "email": "ada@acme.example"}})
    assert hook.create_contact({"email": "ada@acme.example"}) == {"id": "ct-1", "email": "ada@acme.example"}
    with pytest.raises(GtmConfigError, match="'email' or 'linkedinUrl'"):
        hook.create_contact({"firstName": "Ada"})
    assert requests_mock.call_count == 1


def test_bulk_details_object_for_one_failure(hook, requests_mock):
    requests_mock.post(BULK, status_code=201, json={
        "summary": {"total": 3, "success": 2, "failed": 1},
        "details": {"value": "not-an-email", "recordNumber": 2, "description": "Invalid email"},
    })
    records = [{"email": "a@acme.example"}, {"email": "not-an-email"}, {"linkedinUrl": "https://linkedin.com/in/c"}]
    result = hook.bulk_create_contacts(records)
    assert counts(result) == (3, 2, 1)
    assert [(f.record, f.identifier, f.error_message, f.status) for f in result.failures] == [
        ({"email": "not-an-email"}, "not-an-email", "Invalid email", 201)]
    assert sent(requests_mock.last_request) == records


def test_bulk_details_list_zero_based_and_by_value(hook, requests_mock):
    requests_mock.post(BULK, status_code=207, json={
        "summary": {"total": 4, "success": 1, "failed": 3},
        "details": [
            {"value": "x@", "recordNumber": 0, "description": "Invalid email"},
            {"value": "y@", "recordNumber": 1, "description": "Invalid email"},
            {"value": "dup@acme.example", "description": "Contact already exists"},
        ],
    })
    records = [{"email": "x@"}, {"email": "y@"}, {"email": "ok@acme.example"}, {"email": "dup@acme.example"}]
    result = hook.bulk_create_contacts(records)
    assert counts(result) == (4, 1, 3)
    assert result.accepted == [{"email": "ok@acme.example"}]
    assert {f.identifier: f.error_message for f in result.failures} == {
        "x@": "Invalid email", "y@": "Invalid email", "dup@acme.example": "Contact already exists"}


def test_bulk_record_number_when_value_is_absent_or_repeated(hook, requests_mock):
    requests_mock.post(BULK, status_code=201, json={"summary": {"total": 3, "success": 1, "failed": 2}, "details": [
        {"recordNumber": 3, "description": "Invalid email"},  # past the end 0-based: the 3rd record, 1-based
        {"value": "same@acme.example", "recordNumber": 1, "description": "Contact already exists"},  # 0-based
    ]})
    records = [{"email": "same@acme.example", "n": 1}, {"email": "same@acme.example", "n": 2}, {"email": "z@"}]
    result = hook.bulk_create_contacts(records)
    assert [(f.record, f.error_message) for f in result.failures] == [
        (records[1], "Contact already exists"), (records[2], "Invalid email")]


def test_bulk_unmatched_refusal_still_counted(hook, requests_mock):
    requests_mock.post(BULK, status_code=201, json={
        "summary": {"total": 2, "success": 1, "failed": 1},
        "details": {"value": "someone@else.example", "recordNumber": 9, "description": "Invalid email"}})
    result = hook.bulk_create_contacts([{"email": "a@acme.example"}, {"email": "b@acme.example"}])
    assert counts(result) == (2, 1, 1)
    assert result.failures[0].identifier == "someone@else.example"


def test_bulk_all_invalid_400_is_a_result(hook, requests_mock):
    requests_mock.post(BULK, status_code=400, json={"status": "error", "message": "No valid contacts found in request"})
    result = hook.bulk_create_contacts([{"email": "x@"}, {"email": "y@"}])
    assert counts(result) == (2, 0, 2)
    assert {(f.error_message, f.status) for f in result.failures} == {("No valid contacts found in request", 400)}


def test_bulk_never_resent_after_5xx_or_timeout(hook, requests_mock, timer):
    requests_mock.post(BULK, [{"status_code": 503}, {"exc": requests.ReadTimeout("read timed out")},
                              {"status_code": 201, "json": {}}])
    records = [{"email": f"p{i}@acme.example"} for i in range(5)] + [{"firstName": "no id"}]
    results = list(hook.iter_bulk_create_contacts(records, batch_size=3))
    assert [counts(r) for r in results] == [(3, 0, 3), (3, 0, 3)]
    unknown = [f for r in results for f in r.failures if f.identifier]
    assert len(unknown) == 5 and all(f.error_message.startswith("outcome unknown") for f in unknown)
    assert [f.error_message for r in results for f in r.failures if not f.identifier] == [
        "a contact needs 'email' or 'linkedinUrl'"]
    assert requests_mock.call_count == 2 and timer.sleeps == []


# -- enrichment ----------------------------------------------------------------------------------

def pending(**extra):
    return {"status": "success", "isComplete": False, "pendingFields": ["email"], "resultUrl": RESULT_URL, **extra}


def test_enrich_person_polls_result_url_until_complete(hook, requests_mock, timer):
    requests_mock.get(f"{API}/enrich/v1/person", status_code=202, json=pending())
    done = {"status": "success", "isComplete": True, "data": {"emails": ["ada@acme.example"]}}
    requests_mock.get(RESULT_URL, [{"status_code": 202, "json": pending()}, {"status_code": 202, "json": pending()},
                                   {"json": done}])
    assert hook.enrich_person(linkedin_url="https://linkedin.com/in/ada", first_name="Ada",
                              include_mobile_number=True) == done
    assert query(requests_mock.request_history[0]) == {
        "linkedinUrl": "https://linkedin.com/in/ada", "firstName": "Ada", "includeMobileNumber": "true"}
    assert timer.sleeps == [1.0, 2.0]
    assert all(r.method == "GET" for r in requests_mock.request_history)


def test_enrich_person_complete_at_once_or_not_found(hook, requests_mock):
    requests_mock.get(f"{API}/enrich/v1/person", json={"status": "warning", "message": "Person not found"})
    assert hook.enrich_person(email="ghost@acme.example") == {"status": "warning", "message": "Person not found"}
    assert requests_mock.call_count == 1
    with pytest.raises(GtmConfigError, match="email= or linkedin_url="):
        hook.enrich_person(first_name="Ada")


def test_enrich_person_times_out_with_a_clear_error(hook, requests_mock, timer):
    requests_mock.get(f"{API}/enrich/v1/person", status_code=202, json=pending())
    requests_mock.get(RESULT_URL, status_code=202, json=pending())
    with pytest.raises(GtmPollTimeoutError, match="still pending after 10s"):
        hook.enrich_person(email="ada@acme.example", timeout=10)
    assert sum(timer.sleeps) == pytest.approx(10)


def test_result_url_on_another_host_never_gets_the_key(hook, requests_mock):
    requests_mock.get(f"{API}/enrich/v1/person", status_code=202,
                      json=pending(resultUrl="https://evil.example/enrich/v1/person/results/1"))
    with pytest.raises(GtmConfigError, match="not at the connection's host"):
        hook.enrich_person(email="ada@acme.example")
    assert [r.hostname for r in requests_mock.request_history] == ["api.customeros.ai"]


def test_result_polled_by_id_or_relative_path(hook, requests_mock):
    requests_mock.get(f"{API}/enrich/v1/person/results/abc", json={"isComplete": True, "data": {}})
    assert hook.get_person_enrichment_result("abc") == (True, {"isComplete": True, "data": {}})
    assert hook.get_person_enrichment_result("/enrich/v1/person/results/abc")[0] is True
    with pytest.raises(GtmConfigError, match="not a person-enrichment result"):
        hook.get_person_enrichment_result(f"{API}/customerbase/v1/organizations/x")


def test_enrich_organization(hook, requests_mock):
    requests_mock.get(f"{API}/enrich/v1/organization", json={"status": "success", "data": {"name": "Acme"}})
    assert hook.enrich_organization(domain="acme.example")["data"] == {"name": "Acme"}
    assert query(requests_mock.last_request) == {"domain": "acme.example"}
    with pytest.raises(GtmConfigError, match="domain= or linkedin_url="):
        hook.enrich_organization()


# -- verification --------------------------------------------------------------------------------

def test_verify_email_and_ip_parameters(hook, requests_mock):
    requests_mock.get(f"{API}/verify/v1/email", json={"status": "success", "deliverable": "false"})
    requests_mock.get(f"{API}/verify/v1/ip", json={"status": "success", "threats": {"isProxy": False}})
    assert hook.verify_email("ada@acme.example", verify_catch_all=False)["deliverable"] == "false"
    assert query(requests_mock.last_request) == {"address": "ada@acme.example", "verifyCatchAll": "false"}
    hook.verify_ip("203.0.113.7")
    assert query(requests_mock.last_request) == {"address": "203.0.113.7"}
    with pytest.raises(GtmConfigError, match="verify_email needs an address"):
        hook.verify_email("")


def test_bulk_email_verification_upload_poll_and_download(hook, requests_mock, timer):
    requests_mock.post(f"{API}/verify/v1/email/bulk", json={
        "message": "File uploaded successfully", "jobId": "job-1", "estimatedCompletionTs": 1767225700,
        "resultUrl": f"{API}/verify/v1/email/bulk/results/job-1"})
    requests_mock.get(f"{API}/verify/v1/email/bulk/results/job-1", [
        {"json": {"jobId": "job-1", "status": "processing", "results": None}},
        {"json": {"jobId": "job-1", "status": "processing", "results": None}},
        {"json": {"jobId": "job-1", "status": "completed", "results": {"totalEmails": 2, "deliverable": 1}}},
    ])
    requests_mock.get(f"{API}/verify/v1/email/bulk/results/job-1/download",
                      text="email,deliverable\r\nada@acme.example,true\r\nbob@acme.example,false\r\n",
                      headers={"Content-Type": "text/csv"})
    job = hook.upload_bulk_email_verification(iter(["ada@acme.example", "bob@acme.example"]), verify_catch_all=False)
    assert job["jobId"] == "job-1"
    body = requests_mock.last_request.body
    assert requests_mock.last_request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'filename="emails.csv"' in body and b"email\r\nada@acme.example\r\nbob@acme.example\r\n" in body
    assert b'name="emailColumn"\r\n\r\nemail' in body and b'name="verifyCatchAll"\r\n\r\nfalse' in body
    assert hook.wait_for_bulk_email_verification("job-1")["results"]["totalEmails"] == 2
    assert timer.sleeps == [2.0, 4.0]
    assert list(hook.download_bulk_email_verification("job-1")) == [
        {"email": "ada@acme.example", "deliverable": "true"}, {"email": "bob@acme.example", "deliverable": "false"}]
    with pytest.raises(GtmConfigError, match="at least one address"):
        hook.upload_bulk_email_verification([])


# -- answers shaped as customeros/customeros writes them (packages/server/customer-os-api/...) -----

ZERO_DETAILS = {"value": "", "recordNumber": 0, "description": ""}


@pytest.mark.parametrize("status, envelope", [
    (201, {"status": "success"}),  # rest/customerbase/contact_bulk.go, c.JSON era (commit 2352973)
    (200, {"requestId": "api_0123456789abcdef", "status": "success"}),  # responseHandler era (HandleSuccess)
])
def test_bulk_all_success_zero_details_is_not_a_failure(hook, requests_mock, status, envelope):
    """Go's omitempty never omits the BulkErrorDetails struct: every clean answer carries it zeroed."""
    requests_mock.post(BULK, status_code=status, json={
        **envelope, "summary": {"total": 2, "success": 2, "failed": 0}, "details": ZERO_DETAILS})
    records = [{"email": "a@acme.example"}, {"email": "b@acme.example"}]
    result = hook.bulk_create_contacts(records)
    assert counts(result) == (2, 2, 0) and result.failures == []


def test_bulk_first_record_failing_alone_is_still_a_failure(hook, requests_mock):
    """recordNumber 0 with a value and a description is record 0 refused (206, one failure)."""
    requests_mock.post(BULK, status_code=206, json={
        "status": "partial_success", "summary": {"total": 2, "success": 1, "failed": 1},
        "details": {"value": "x@", "recordNumber": 0, "description": "invalid email format"}})
    result = hook.bulk_create_contacts([{"email": "x@"}, {"email": "b@acme.example"}])
    assert counts(result) == (2, 1, 1)
    assert [(f.identifier, f.error_message) for f in result.failures] == [("x@", "invalid email format")]


def test_bulk_body_written_twice_is_read_once(hook, requests_mock):
    """The newest handler calls HandleCreated and then c.JSON(201, resp): two documents in one body."""
    details = [{"value": "x@", "recordNumber": 0, "description": "invalid email format"},
               {"value": "", "recordNumber": 2, "description": "email or linkedin url is required"}]
    first = {"requestId": "api_0123456789abcdef", "status": "success",
             "summary": {"total": 4, "success": 2, "failed": 2}, "details": details}
    second = {"summary": first["summary"], "details": details}
    requests_mock.post(BULK, status_code=201, text=json.dumps(first) + json.dumps(second),
                       headers={"Content-Type": "application/json; charset=utf-8"})
    records = [{"email": "x@"}, {"email": "b@acme.example"}, {"email": "", "linkedinUrl": ""},
               {"email": "d@acme.example"}]
    result = hook.bulk_create_contacts([records[0], records[1], {"email": "c@", "linkedinUrl": "x"}, records[3]])
    assert requests_mock.call_count == 1
    assert counts(result) == (4, 2, 2)
    assert sorted(f.error_message for f in result.failures) == ["email or linkedin url is required",
                                                                "invalid email format"]


def test_create_organization_206_then_201_body_is_confirmed_once(hook, requests_mock):
    """organization.go (October 2024): a failed LinkedIn URL writes 206 partial_success and then, with
    no return, the 201 success body: one POST, the organization created, never re-sent."""
    partial = {"status": "partial_success", "message": "Failed to add linkedin url", "id": "org-3",
               "partialSuccess": True}
    created = {"status": "success", "message": "Organization created successfully", "id": "org-3"}
    requests_mock.post(ORGS, status_code=206, text=json.dumps(partial) + json.dumps(created))
    answer = hook.create_organization({"name": "Acme", "linkedinUrl": "acme"})
    assert (answer["id"], answer["already_exists"], answer["status"]) == ("org-3", False, "partial_success")
    results = list(hook.iter_create_organizations([{"name": "Acme", "linkedinUrl": "acme"}]))
    assert requests_mock.call_count == 2  # one per call above, no resend
    assert (results[0].succeeded, results[0].failed) == (1, 0)


def test_bulk_verification_download_before_completion_keeps_polling(hook, requests_mock, timer):
    """rest/verify/verify_email.go: the download answers 202 {"status": "processing"} until done."""
    processing = {"status": "processing",
                  "message": "The bulk request is still being processed. Please try again later."}
    requests_mock.get(f"{API}/verify/v1/email/bulk/results/job-1/download", [
        {"status_code": 202, "json": processing},
        {"status_code": 202, "json": processing},
        {"status_code": 200, "text": "email,deliverable\nada@acme.example,true\n",
         "headers": {"Content-Type": "text/csv"}},
    ])
    assert list(hook.download_bulk_email_verification("job-1")) == [{"email": "ada@acme.example",
                                                                      "deliverable": "true"}]
    assert timer.sleeps == [2.0, 4.0]


def test_bulk_verification_download_still_processing_times_out(hook, requests_mock, timer):
    requests_mock.get(f"{API}/verify/v1/email/bulk/results/job-1/download", status_code=202,
                      json={"status": "processing", "message": "still being processed"})
    with pytest.raises(GtmPollTimeoutError, match="still pending"):
        list(hook.download_bulk_email_verification("job-1", timeout=10))


def test_bulk_verification_download_newer_200_success_still_processing_keeps_polling(hook, requests_mock, timer):
    """rest/verify/verify_email.go (newer VerifyHandler version) answers a download before completion
    through rest/response/response_handler.go HandleSuccess: 200 {"status": "success", "message":
    "The bulk request is still being processed..."}; it is polled again, never read as 0 CSV rows."""
    still = {"requestId": "api_0123456789abcdef", "status": "success",
             "message": "The bulk request is still being processed. Please try again later."}
    requests_mock.get(f"{API}/verify/v1/email/bulk/results/job-1/download", [
        {"status_code": 200, "json": still},
        {"status_code": 200, "text": "email,deliverable\nada@acme.example,true\n",
         "headers": {"Content-Type": "text/csv"}},
    ])
    assert list(hook.download_bulk_email_verification("job-1")) == [{"email": "ada@acme.example",
                                                                      "deliverable": "true"}]
    assert timer.sleeps == [2.0]


def test_bulk_verification_download_other_json_is_an_error_not_rows(hook, requests_mock, timer):
    requests_mock.get(f"{API}/verify/v1/email/bulk/results/job-1/download", status_code=200,
                      json={"status": "success", "message": "nothing to see"})
    with pytest.raises(GtmApiError, match="expected the results CSV.*nothing to see"):
        list(hook.download_bulk_email_verification("job-1"))


def test_bulk_refusal_value_matches_the_linkedin_url(hook, requests_mock):
    """rest/customerbase/contact.go validateContactRecord: a bad LinkedIn URL is reported as ``value``."""
    requests_mock.post(f"{API}/customerbase/v1/contacts/bulk", status_code=200, json={
        "status": "success", "summary": {"total": 2, "success": 1, "failed": 1},
        "details": {"value": "bad-url", "recordNumber": 1, "description": "invalid LinkedIn URL format"}})
    records = [{"email": "a@acme.example"}, {"email": "b@acme.example", "linkedinUrl": " bad-url "}]
    result = hook.bulk_create_contacts(records)
    assert [f.record for f in result.failures] == [records[1]]
    assert result.accepted == [records[0]]


def test_newest_error_handler_500_with_conflict_code_is_already_exists(hook, requests_mock, timer):
    """rest/response/response_handler.go (newest): HandleError writes c.JSON(500, ...) with
    ``code: http.StatusText(status)``: a 500 coded "Conflict" is the 409, not a server fault."""
    requests_mock.post(ORGS, status_code=500, json={
        "requestId": "api_0123456789abcdef", "status": "error", "code": "Conflict",
        "message": "Organization already exists with given custom id"})
    answer = hook.create_organization({"customId": "acme-1"})
    assert (answer["id"], answer["already_exists"], answer["message"]) == (
        None, True, "Organization already exists with given custom id")
    assert requests_mock.call_count == 1 and timer.sleeps == []


def test_newest_error_handler_500_coded_bad_request_is_not_retried(hook, requests_mock, timer):
    requests_mock.get(f"{ORGS}/x", status_code=500, json={
        "requestId": "api_0123456789abcdef", "status": "error", "code": "Not Found"})
    with pytest.raises(GtmNotFoundError):
        hook.get_organization("x")
    assert requests_mock.call_count == 1
    requests_mock.get(f"{ORGS}/y", [{"status_code": 500, "json": {"status": "error", "code": "Internal Server Error",
                                                                   "message": "Failed"}},
                                    {"status_code": 200, "json": {"organization": {"id": "y"}}}])
    assert hook.get_organization("y") == {"id": "y"}


def test_get_organization_206_shapes(hook, requests_mock):
    """organization.go: the October 2024 code answers 206 with the (partial) organization flat; the
    2025 code answers 206 with only the bare string "Unable to retrieve full organization data"."""
    requests_mock.get(f"{ORGS}/a", status_code=206, json={
        "status": "partial_success", "message": "Failed to retrieve completed organization data",
        "id": "a", "customId": "acme-1", "name": "Acme", "domains": [], "externalLinks": []})
    assert hook.get_organization("a")["id"] == "a"
    requests_mock.get(f"{ORGS}/b", status_code=206, json="Unable to retrieve full organization data")
    with pytest.raises(GtmServerError, match="Unable to retrieve full organization data") as caught:
        hook.get_organization("b")
    assert caught.value.retryable


def test_duplicate_without_an_id_is_still_flagged_already_exists(hook, requests_mock):
    """The newest organization.go duplicate (500 coded Conflict) names no existing id."""
    requests_mock.post(ORGS, status_code=500, json={"requestId": "api_1", "status": "error", "code": "Conflict",
                                                    "message": "Organization already exists with given domain"})
    (result,) = hook.iter_create_organizations([{"website": "acme.example"}])
    (failure,) = result.failures
    assert failure.already_exists and failure.existing_id is None and failure.status == 409


@pytest.mark.parametrize("answer", [
    {"text": ""},  # contact.go writes nothing for a body it cannot bind: gin's bare 200
    {"json": {"requestId": "api_1", "status": "success", "contact": {"email": "ada@acme.example", "contactId": ""}}},
])
def test_create_contact_without_a_saved_contact_is_an_error(hook, requests_mock, answer):
    """rest/customerbase/contact.go: processContact returns "" when saving fails, and the handler still
    answers 200 HandleSuccess with that empty contactId; neither answer confirms a contact."""
    requests_mock.post(f"{API}/customerbase/v1/contacts", status_code=200, **answer)
    with pytest.raises(GtmApiError, match="without a saved contact"):
        hook.create_contact({"email": "ada@acme.example"})
