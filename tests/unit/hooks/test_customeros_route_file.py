"""CustomerOSHook's methods for the API-key routes of ``server/customer_routes.go`` (issue 22): the route
file's path first, the swagger's after gin's plain-text 404 only (customeros/customeros
server/customer_routes.go@aa4e0bd52ed6; api-evangelist/customeros openapi/_original/customeros-swagger.json)."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.core.client import RetryPolicy
from airflow_provider_gtm.core.errors import (
    GtmConfigError,
    GtmNotFoundError,
    GtmOutcomeUnknownError,
    GtmServerError,
)
from airflow_provider_gtm.hooks.customeros import CustomerOSHook

from .support import set_connection

API = "https://api.customeros.ai"
GIN_404 = {"status_code": 404, "text": "404 page not found", "headers": {"Content-Type": "text/plain"}}


@pytest.fixture
def hook(monkeypatch, timer):
    set_connection(monkeypatch, "customeros_default", "customeros", password="cos_key")
    return CustomerOSHook(timer=timer, retry=RetryPolicy(max_attempts=2, jitter=0))


def test_tracking_falls_back_to_the_swagger_path_on_a_router_404(hook, requests_mock):
    requests_mock.post(f"{API}/outreach/v1/track/email", **GIN_404)
    swagger = requests_mock.post(f"{API}/outreach/v1/email/tracking",
                                 json={"status": "success", "trackingId": "m1", "trackingPixel": "p"})
    answer = hook.generate_email_tracking_urls(campaign_id="c", recipient_id="r", message_id="m1", track_opens=True,
                                               links=["https://a.example"], unsubscribe_link="https://a.example/u")
    assert answer["trackingId"] == "m1"
    assert swagger.last_request.json() == {"campaignId": "c", "recipientId": "r", "trackOpens": True,
                                           "trackClicks": False, "links": ["https://a.example"], "messageId": "m1",
                                           "generateUnsubscribeLink": True, "unsubscribeLink": "https://a.example/u"}


def test_a_handlers_404_is_not_a_reason_to_try_the_other_path(hook, requests_mock):
    requests_mock.post(f"{API}/mailstack/v1/domains/configure", status_code=404,
                       json={"requestId": "api_1", "status": "error", "message": "Resource not found"})
    other = requests_mock.post(f"{API}/domains/configure", json={})
    with pytest.raises(GtmNotFoundError):
        hook.configure_domain("x.com", "https://x.com")
    assert not other.called


def test_route_file_path_first_and_records(hook, requests_mock):
    requests_mock.get(f"{API}/mailstack/v1/domains", json={"status": "success", "domains": [{"domain": "a.com"}]})
    requests_mock.get(f"{API}/mailstack/v1/domains/a.com/mailboxes", json={"status": "success"})
    requests_mock.get(f"{API}/mailstack/v1/domains/recommendations", json={"domains": ["geta.com"]})
    requests_mock.get(f"{API}/mailstack/v1/domains/a.com/dns", json={"status": "success", "dnsRecords": None})
    requests_mock.post(f"{API}/mailstack/v1/domains/a.com/mailboxes", json={"mailbox": {"email": "x@a.com"}})
    requests_mock.get(f"{API}/me", json={"requestId": "api_1", "status": "success", "tenant": "acme"})
    assert hook.get_domains() == [{"domain": "a.com"}]
    assert hook.get_mailboxes("a.com") == []  # omitted when none
    assert hook.recommend_domains("a") == ["geta.com"]
    assert requests_mock.request_history[-1].qs == {"basename": ["a"]}
    assert hook.get_dns_records("a.com") == []  # null when none
    assert hook.create_mailbox("a.com", "x", forwarding_to=["f@b.c"]) == {"email": "x@a.com"}
    assert requests_mock.last_request.json() == {"username": "x", "forwardingTo": ["f@b.c"], "webmailEnabled": False}
    assert hook.get_me() == "acme"


def test_dns_delete_surfaces_the_vendors_500_and_arguments_are_checked(hook, requests_mock):
    requests_mock.delete(f"{API}/mailstack/v1/domains/a.com/dns", status_code=500,
                         json={"requestId": "api_1", "status": "error", "message": "unable to delete dns record"})
    with pytest.raises(GtmServerError):
        hook.delete_dns_record("a.com", "dns_1")
    assert requests_mock.last_request.qs == {"dnsid": ["dns_1"]}
    for call in (lambda: hook.register_domain("", "w"), lambda: hook.provision_tracker(""),
                 lambda: hook.verify_tracker(""), lambda: hook.generate_email_tracking_urls(campaign_id="",
                                                                                             recipient_id="r")):
        with pytest.raises(GtmConfigError):
            call()


def test_organization_enrichment_asks_the_route_file_twin_after_a_router_404_only(hook, requests_mock):
    """customer_routes.go@aa4e0bd52ed6 (index id 66456577487): ``/enrich/v1/person/organization``; the
    swagger and the catalogue: ``/enrich/v1/organization``, asked first."""
    requests_mock.get(f"{API}/enrich/v1/organization", **GIN_404)
    twin = requests_mock.get(f"{API}/enrich/v1/person/organization", json={"status": "success", "data": {"n": 1}})
    assert hook.enrich_organization(linkedin_url="https://linkedin.com/company/acme")["data"] == {"n": 1}
    assert twin.last_request.qs == {"linkedinurl": ["https://linkedin.com/company/acme"]}
    requests_mock.get(f"{API}/enrich/v1/organization", status_code=404,
                      json={"requestId": "api_1", "status": "error", "message": "Resource not found"})
    calls = twin.call_count
    with pytest.raises(GtmNotFoundError):
        hook.enrich_organization(domain="acme.com")
    assert twin.call_count == calls


def test_flows_resend_reads_and_archives_but_not_creates(hook, requests_mock):
    """handlers/flows/*.go (issue 22): GETs, PUTs, on/off and the archiving DELETEs are the same state when
    sent twice; a flow, node, edge or webhook create is not. One record comes unwrapped (flow_agents.go)."""
    agents = requests_mock.get(f"{API}/flows/v1/agents", [
        {"status_code": 500, "json": {}}, {"json": {"status": "success", "action": {"action": "a", "name": "A"}}}])
    assert hook.get_flow_agents() == [{"action": "a", "name": "A"}] and agents.call_count == 2
    created = requests_mock.post(f"{API}/flows/v1/flows", status_code=500, json={})
    with pytest.raises(GtmOutcomeUnknownError):  # not resent: the 500 may have created it
        hook.create_flow("F", "contact_created")
    assert created.call_count == 1
    archived = requests_mock.delete(f"{API}/flows/v1/flows/flow_1", [{"status_code": 500, "json": {}},
                                                                    {"status_code": 204, "text": ""}])
    hook.delete_flow("flow_1")
    assert archived.call_count == 2
    requests_mock.get(f"{API}/flows/v1/hooks", json={"status": "success", "hooks": [
        {"url": "", "integration": ""}, {"url": "https://h/flows/v1/t/i/1", "integration": "grain"}]})
    assert [h["integration"] for h in hook.get_flow_webhooks()] == ["grain"]
    with pytest.raises(GtmConfigError):
        hook.get_flow("")
