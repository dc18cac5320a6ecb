"""OctyHook, CustomerOSHook and OctopusConnectHook against the sandbox over loopback."""

from __future__ import annotations

import json

import pytest

from airflow_provider_gtm.core.errors import GtmConfigError, GtmNotFoundError, GtmPollTimeoutError
from airflow_provider_gtm.core.timing import FakeTimer
from airflow_provider_gtm.hooks.customeros import CustomerOSHook
from airflow_provider_gtm.hooks.octopus import OctopusConnectHook
from airflow_provider_gtm.hooks.octy import OctyHook


def profile(customer_id: str) -> dict:
    return {"customer_id": customer_id, "profile_data": {"name": customer_id}, "platform_info": {"src": "it"},
            "has_charged": False}


# -- Octy --------------------------------------------------------------------------------------------

def test_octy_pages_across_many_pages_and_resumes(gtm_sandbox_connections):
    gtm_sandbox_connections.configure(records=730)
    hook = OctyHook()
    pages = list(hook.iter_pages("profiles"))
    ids = [p["profile_id"] for page in pages for p in page.records]
    assert len(pages) == 8 and len(set(ids)) == 730
    resumed = list(hook.iter_pages("profiles", start=pages[5].next_state))
    assert [p["profile_id"] for page in resumed for p in page.records] == ids[600:]
    assert len(list(hook.iter_records("items", limit=150))) == 150


def test_octy_partial_failure_batch_accounts_for_every_record(gtm_sandbox_connections):
    hook = OctyHook()
    records = [profile(f"it{i}") for i in range(6)] + [profile("bad,one"), {"profile_data": {}}]
    result = hook.create_profiles(records)
    assert (result.submitted, result.succeeded, result.failed) == (8, 6, 2)
    reasons = {f.identifier: f.error_message for f in result.failures}
    assert reasons["bad,one"].startswith("Illegal character")
    assert "customer_id" in reasons[None]
    again = hook.create_profiles([profile("it0")])
    assert again.failures[0].already_exists and "it0" in again.failures[0].error_message
    stored = gtm_sandbox_connections.state()["apis"]["octy"]["profiles"]
    assert sorted(p["customer_id"] for p in stored.values()) == [f"it{i}" for i in range(6)]


def test_octy_all_failed_400_is_a_result_not_a_crash(gtm_sandbox_connections):
    result = OctyHook().create_items([{"item_id": "a,b", "item_category": "c", "item_name": "n",
                                       "item_description": "d", "item_price": 1}])
    assert result.failed == 1 and result.succeeded == 0 and result.failures[0].status == 400


def test_octy_events_segments_and_reads(gtm_sandbox_connections):
    hook = OctyHook()
    assert hook.create_event_types([{"event_type": "it_event", "event_properties": ["k"]}]).succeeded == 1
    pid = next(hook.iter_records("profiles"))["profile_id"]
    events = hook.create_events([{"event_type": "it_event", "profile_id": pid, "event_properties": {"k": 1}},
                                 {"event_type": "unknown_type", "profile_id": pid, "event_properties": {}}])
    assert (events.succeeded, events.failed) == (1, 1)
    assert hook.get_recommendations([pid])[0]["profile_id"] == pid
    assert list(hook.get_by_ids("profiles", [pid]))[0]["profile_id"] == pid
    assert hook.get_profiles_metadata([pid])[0]["profile"]["profile_exists"] is True
    assert "churn_data" in hook.get_churn_report()
    assert hook.get_account()["contact_email_address"]
    assert hook.test_connection()[0] is True


def test_octy_server_error_on_a_read_is_retried(gtm_sandbox_connections):
    gtm_sandbox_connections.set_faults([{"api": "octy", "path": "/v1/retention/items", "kind": "status",
                                         "status": 503, "calls": [2], "retry_after": 0}])
    assert len(list(OctyHook().iter_records("items"))) == 250


def test_octy_dropped_create_is_retried_and_lands_once(gtm_sandbox_connections):
    # Profile creates are safe to retry (Octy refuses a duplicate customer_id).
    gtm_sandbox_connections.set_faults([{"api": "octy", "path": "/v1/retention/profiles/create",
                                         "kind": "drop", "calls": [1]}])
    result = OctyHook().create_profiles([profile("once")])
    assert result.submitted == result.succeeded + result.failed == 1
    stored = gtm_sandbox_connections.state()["apis"]["octy"]["profiles"]
    assert [p["customer_id"] for p in stored.values()] == ["once"]


# -- CustomerOS ----------------------------------------------------------------------------------

def test_customeros_organizations_contacts_and_409(gtm_sandbox_connections):
    hook = CustomerOSHook()
    created = hook.create_organization({"name": "Acme", "website": "https://acme.io"})
    again = hook.create_organization({"name": "Acme again", "website": "acme.io"})
    assert again == {**again, "id": created["id"], "already_exists": True}
    assert hook.get_organization(created["id"])["name"] == "Acme"
    with pytest.raises(GtmNotFoundError):
        hook.get_organization("nope")
    bulk = hook.bulk_create_contacts([{"email": "a@acme.io"}, {"email": "broken"}, {"email": "b@acme.io"}])
    assert (bulk.submitted, bulk.succeeded, bulk.failed) == (3, 2, 1)
    assert bulk.failures[0].identifier == "broken" and bulk.failures[0].error_message
    assert hook.create_contact({"email": "c@acme.io"})["email"] == "c@acme.io"
    assert len(gtm_sandbox_connections.state()["apis"]["customeros"]["contacts"]) == 3


def test_octy_recommendations_keep_the_model_that_answered(gtm_sandbox_connections):
    """octy-services-wasm@f514fe2 recommendation/api/routers/dto/recommendation.py: ``model_meta_data``
    is answered beside the recommendations; each entry keeps it."""
    hook = OctyHook()
    pid = next(hook.iter_records("profiles"))["profile_id"]
    (entry,) = hook.get_recommendations([pid])
    assert entry["profile_id"] == pid and entry["model_meta_data"]["training_job_id"]


def test_octy_generate_content_over_several_calls(gtm_sandbox_connections):
    """octy-services-wasm@f514fe2 messaging/api/routers/request_models/messaging.py GenerateContent:
    ≤ 100 messages and ≤ 25 data objects per message per call, each template once per call; the hook
    splits and spreads them (here 2 templates x 30 data objects: 2 calls)."""
    hook = OctyHook()
    templates = [t["template_id"] for t in hook.iter_records("templates", limit=2)]
    before = gtm_sandbox_connections.state()["calls"]["octy"]
    data = [{"first_name": f"P{i}", "item_name": "boots"} for i in range(30)] + [{"first_name": "NoItem"}]
    out = hook.generate_content([{"template_id": t, "data": data} for t in templates])
    assert gtm_sandbox_connections.state()["calls"]["octy"] - before == 2
    assert len(out["generated_messages"]) == 60 and len(out["failed_messages"]) == 2
    assert out["generated_messages"][0]["content"] == "Hi P0, we picked boots for you."
    assert out["failed_messages"][0]["provided_data"] == {"first_name": "NoItem"}


def test_octy_delete_all_event_types_and_checkout_lookup(gtm_sandbox_connections):
    """octy-services-wasm@f514fe2 events/api/routers/event_types.py (delete/all; 400 'No event types
    deleted!' when none is left) and events.py (``POST /v1/retention/events?checkout_id=``; 400 'No
    event found')."""
    gtm_sandbox_connections.configure(records=3)
    hook = OctyHook()
    assert len(hook.delete_all_event_types()["deleted_event_types"]) == 3
    assert hook.delete_all_event_types() == {"deleted_event_types": [], "failed_to_delete": []}
    assert hook.create_event_types([{"event_type": "checkout_contact_info_submitted",
                                     "event_properties": ["checkout_id"]}]).succeeded == 1
    pid = next(hook.iter_records("profiles"))["profile_id"]
    hook.create_event({"event_type": "checkout_contact_info_submitted", "profile_id": pid,
                       "event_properties": {"checkout_id": "chk_9"}})
    event = hook.get_checkout_event("chk_9")
    assert event is not None and event["event_properties"]["checkout_id"] == "chk_9" and event["event_type_id"]
    assert hook.get_checkout_event("chk_other") is None


def test_octy_authenticate_returns_the_account_jwt(gtm_sandbox_connections):
    """octy-services-wasm@f514fe2 account/api/routers/auth.py and dto/auth.py: ``auth.jwt``."""
    token = OctyHook().authenticate()
    assert token and isinstance(token, str)


def test_customeros_enrichment_polls_to_completion(gtm_sandbox_connections):
    gtm_sandbox_connections.configure(customeros={"enrichment_polls": 3})
    timer = FakeTimer()
    answer = CustomerOSHook(timer=timer).enrich_person(email="grace@acme.io", timeout=60)
    # Third poll completes: two waits in between, growing.
    assert answer["isComplete"] is True and timer.sleeps == [1.0, 2.0]


def test_customeros_verification_and_bulk_job(gtm_sandbox_connections):
    hook = CustomerOSHook(timer=FakeTimer())
    assert hook.verify_email("ada@acme.io")["email"]["emailAddress"] == "ada@acme.io"
    assert "ip" in hook.verify_ip("203.0.113.7")
    assert hook.enrich_organization(domain="acme.io")["status"] in ("success", "warning")
    job = hook.upload_bulk_email_verification(["a@acme.io", "b@acme.io"])
    assert hook.wait_for_bulk_email_verification(job["jobId"], timeout=60)["status"] == "completed"
    assert [row["email"] for row in hook.download_bulk_email_verification(job["jobId"])] == ["a@acme.io",
                                                                                           "b@acme.io"]


def test_customeros_bulk_refusal_for_a_linkedin_url_is_charged_to_its_record(gtm_sandbox_connections):
    """customeros/customeros packages/server/customer-os-api/rest/customerbase/contact.go
    ``validateContactRecord``: a bad LinkedIn URL is refused with the URL as ``value``; the failure
    belongs to the record carrying that URL, never to another one."""
    hook = CustomerOSHook()
    records = [{"email": "first@acme.io"}, {"email": "second@acme.io", "linkedinUrl": "acme-second"},
               {"email": "third@acme.io"}]
    result = hook.bulk_create_contacts(records)
    assert (result.submitted, result.succeeded, result.failed) == (3, 2, 1)
    (failure,) = result.failures
    assert failure.record == records[1] and failure.error_message == "invalid LinkedIn URL format"
    assert [r["email"] for r in result.accepted] == ["first@acme.io", "third@acme.io"]


@pytest.mark.parametrize("version", [1, 2])
def test_customeros_bulk_download_waits_for_completion_in_every_version(gtm_sandbox_connections, version):
    """customeros/customeros packages/server/customer-os-api/rest/verify/verify_email.go: a download
    before completion is 202 ``processing`` (September 2024) or, in the newer ``VerifyHandler``
    version, 200 ``{"status": "success", "message": "The bulk request is still being processed..."}``;
    both are waited out, never read as a CSV with no rows."""
    gtm_sandbox_connections.configure(customeros={"verify_version": version, "bulk_polls": 1})
    hook = CustomerOSHook(timer=FakeTimer())
    job = hook.upload_bulk_email_verification(["a@acme.io", "b@acme.io"])
    # The sandbox completes a job when its status is polled; until then every download answer says
    # "still processing": the hook keeps waiting (here: until its budget ends), it never yields 0 rows.
    with pytest.raises(GtmPollTimeoutError):
        list(hook.download_bulk_email_verification(job["jobId"], timeout=5))
    assert hook.get_bulk_email_verification(job["jobId"])["status"] == "completed"
    rows = list(hook.download_bulk_email_verification(job["jobId"], timeout=5))
    assert [row["email"] for row in rows] == ["a@acme.io", "b@acme.io"]


# -- Octopus -------------------------------------------------------------------------------------

def test_octopus_feeds_details_and_cursor_resume(gtm_sandbox_connections):
    hook = OctopusConnectHook()
    pages = list(hook.iter_feed_pages("all_posts", page_size=20, order="Asc", origin_time=0, direction="After"))
    ids = [p["id"] for page in pages for p in page.records]
    assert len(pages) == 13 and len(set(ids)) == 250
    resumed = list(hook.iter_feed_pages("all_posts", page_size=20, start_cursor=pages[10].next_state))
    assert [p["id"] for page in resumed for p in page.records] == ids[220:]
    post = pages[0].records[0]
    comment = next(hook.iter_feed("post_comments", parent_id=post["id"]))
    assert next(hook.iter_feed("comment_replies", parent_id=comment["id"]))["parentID"] == comment["id"]
    assert hook.get_post(post["id"], retrieve_latest_comments=True)["latestComments"]
    assert hook.get_comment(comment["id"])["id"] == comment["id"]
    assert hook.get_profile(post["createdBy"]["profileID"])["profile"]["octopusId"] == post["createdBy"]["profileID"]
    assert any(p["id"] == post["id"] for p in hook.iter_feed("user_posts", parent_id=post["createdBy"]["profileID"]))
    assert len(hook.get_topics()) == 5
    assert "translations" in hook.get_translations(post["id"])


def test_octopus_header_pacing_avoids_429(gtm_sandbox_connections):
    gtm_sandbox_connections.configure(rate_limits={"octopus": {"windows": [[3, 1]]}})
    hook = OctopusConnectHook()
    for _ in range(7):
        hook.get_topics()
    assert gtm_sandbox_connections.state()["rate_limited"].get("octopus", 0) == 0


def test_octopus_configurable_paths(gtm_sandbox_connections, monkeypatch):
    gtm_sandbox_connections.configure(octopus={"paths": {"all_posts": "/v1/posts/all"}, "cursor_field": "next"})
    conn = gtm_sandbox_connections.connections()["octopus_connect_default"]
    conn["extra"] = {"paths": {"all_posts": "/v1/posts/all"}, "cursor_field": "next"}
    monkeypatch.setenv("AIRFLOW_CONN_OCTOPUS_CONNECT_DEFAULT", json.dumps(conn))
    assert len(list(OctopusConnectHook().iter_feed("all_posts", page_size=20))) == 250
    conn["extra"] = {"paths": {"everything": "/x"}}
    monkeypatch.setenv("AIRFLOW_CONN_OCTOPUS_CONNECT_DEFAULT", json.dumps(conn))
    with pytest.raises(GtmConfigError, match="everything"):
        OctopusConnectHook().path("all_posts")


def test_customeros_organization_invoices(gtm_sandbox_connections):
    """customeros/customeros rest/billing/invoice.go, rest/billing/model.go (issue 22)."""
    hook = CustomerOSHook()
    invoices = hook.get_organization_invoices("00000000-0000-4000-8000-000000000007")
    assert invoices and all(inv["currency"] == "USD" for inv in invoices)
    with pytest.raises(GtmNotFoundError):
        hook.get_organization_invoices("00000000-0000-4000-8000-999999999999")


def test_customeros_contact_import_and_primary_link(gtm_sandbox_connections):
    """customeros/customeros rest/customerbase/contact_bulk.go (contacts/import: a CSV upload) and
    rest/customerbase/organization.go SetPrimaryExternalSystemId (issue 22, third slice)."""
    from airflow_provider_gtm.core.errors import GtmConfigError

    hook = CustomerOSHook()
    answer = hook.import_contacts_csv([{"email": "imp1@example.com"}, {"linkedinUrl": "https://www.linkedin.com/in/x"},
                                       {"email": "bad"}])
    assert answer["summary"]["success"] == 2 and answer["summary"]["failed"] == 1
    details = answer["details"]  # one refusal is an object, several a list (contact_bulk.go)
    assert [d["recordNumber"] for d in ([details] if isinstance(details, dict) else details)] == [3]
    with pytest.raises(GtmConfigError):
        hook.import_contacts_csv([{"name": "no identity"}])
    org = "00000000-0000-4000-8000-000000000007"
    assert hook.set_primary_external_id(org, "HubSpot", "42")["externalSystem"] == "hubspot"
    with pytest.raises(GtmNotFoundError):
        hook.set_primary_external_id(org, "myerp", "42")
