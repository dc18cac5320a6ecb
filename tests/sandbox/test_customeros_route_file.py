"""Contract tests of the CustomerOS sandbox's API-key routes of ``server/customer_routes.go`` (issue 22):
e-mail tracking, mailstack, reveal and ``/me``, driven with plain ``requests``.

Vendor files (customeros/customeros, ``packages/server/customer-os-api/``): ``server/customer_routes.go``
at aa4e0bd52ed63952a787e15f18353eda5e6be82c; ``handlers/outreach/outreach.go`` and ``handlers/me.go`` at
383b4a33b619; ``handlers/mailstack/{domain,mailbox,dns,model}.go`` and ``handlers/utils.go`` at
a5482e1fa547; ``handlers/reveal_setup/provision_tracker.go`` at 55c3bc9aa77f and ``verify_tracker.go`` at
95da48ec5778; ``enum/api_errors.go``, ``enum/api_base_response.go``. The swagger paths:
api-evangelist/customeros ``openapi/_original/customeros-swagger.json``.
"""

from __future__ import annotations

import pytest


def _error(resp, status, message):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["status"] == "error" and body["message"] == message and body["requestId"].startswith("api_")


@pytest.mark.parametrize("path", ["/outreach/v1/track/email", "/outreach/v1/email/tracking"])
def test_email_tracking_on_both_paths(cos, path):
    """outreach.go GenerateEmailTrackingUrls (route file: /track/email; its @Router and the swagger:
    /email/tracking): a bare ``{status, trackingId, ...}``; pixel, links and unsubscribe as asked."""
    body = cos("POST", path, json={"campaignId": "c1", "recipientId": "r1", "messageId": "m1", "trackOpens": True,
                                   "trackClicks": True, "links": ["https://a.example/x"],
                                   "generateUnsubscribeLink": True, "unsubscribeLink": "https://a.example/u"}).json()
    assert body["status"] == "success" and body["trackingId"] == "m1"
    assert body["trackingPixel"] and body["unsubscribeLink"]
    assert body["trackedLinks"][0]["original"] == "https://a.example/x"
    plain = cos("POST", path, json={"campaignId": "c1", "recipientId": "r1"}).json()
    assert set(plain) == {"status", "trackingId"} and len(plain["trackingId"]) == 64
    assert cos("POST", path, data="nope").json()["message"] == "Invalid request body"


def test_paths_version_serves_one_path_set_and_gin_404s_the_other(cos, gtm_sandbox):
    gtm_sandbox.configure(customeros={"paths_version": 1})
    missing = cos("GET", "/domains")
    assert missing.status_code == 404 and missing.text == "404 page not found"
    assert cos("GET", "/mailstack/v1/domains").status_code == 200
    gtm_sandbox.configure(customeros={"paths_version": 2})
    assert cos("GET", "/mailstack/v1/domains").status_code == 404
    assert cos("GET", "/domains").status_code == 200


def test_mailstack_domains_mailboxes_and_dns(cos):
    """domain.go RegisterNewDomain/ConfigureDomain/GetDomains/RecommendDomain, mailbox.go, dns.go."""
    _error(cos("POST", "/mailstack/v1/domains", json={"website": "https://w.example"}), 400,
           "Missing required field: domain")
    _error(cos("POST", "/mailstack/v1/domains", json={"domain": "x.com"}), 400, "Missing required field: website")
    _error(cos("POST", "/mailstack/v1/domains", json={"domain": "x.zz", "website": "w"}), 406,
           "Domain TLD not supported")
    _error(cos("POST", "/mailstack/v1/domains", json={"domain": "taken.com", "website": "w"}), 409,
           "Domain already registered")
    made = cos("POST", "/mailstack/v1/domains", json={"domain": "outbound.com", "website": "https://w.example"})
    assert made.status_code == 201
    assert set(made.json()["domain"]) == {"domain", "createdDate", "expiredDate", "nameservers"}
    _error(cos("POST", "/mailstack/v1/domains", json={"domain": "outbound.com", "website": "w"}), 409,
           "Domain already registered")
    assert [d["domain"] for d in cos("GET", "/domains").json()["domains"]] == ["outbound.com"]
    assert cos("POST", "/domains/configure", json={"domain": "outbound.com", "website": "w"}).status_code == 201
    _error(cos("POST", "/mailstack/v1/domains/configure", json={"domain": "nope.com", "website": "w"}), 404,
           "Resource not found")
    _error(cos("GET", "/mailstack/v1/domains/recommendations"), 400, "must provide baseName parameter")
    assert len(cos("GET", "/mailstack/v1/domains/recommendations", params={"baseName": "acme"}).json()["domains"]) \
        == 20
    # mailboxes: omitted when none; 404 Domain not found; 409 Username already exists; password when generated
    assert "mailboxes" not in cos("GET", "/mailstack/v1/domains/outbound.com/mailboxes").json()
    _error(cos("POST", "/mailstack/v1/domains/other.com/mailboxes", json={"username": "ann"}), 404,
           "Domain not found")
    _error(cos("POST", "/domains/outbound.com/mailboxes", json={"username": "a b"}), 400, "username is invalid")
    box = cos("POST", "/domains/outbound.com/mailboxes", json={"username": "ann"}).json()["mailbox"]
    assert box["email"] == "ann@outbound.com" and box["password"] and box["forwardingEnabled"] is True
    assert box["forwardingTo"][-1].startswith("bcc@")
    _error(cos("POST", "/mailstack/v1/domains/outbound.com/mailboxes", json={"username": "ann"}), 409,
           "Username already exists")
    listed = cos("GET", "/domains/outbound.com/mailboxes").json()["mailboxes"]
    assert [m["email"] for m in listed] == ["ann@outbound.com"] and "password" not in listed[0]
    # dns: 404 for another tenant's domain; records; add answers the record as sent; delete fails (no :dnsId)
    _error(cos("GET", "/mailstack/v1/domains/nope.com/dns"), 404, "Resource not found")
    records = cos("GET", "/mailstack/v1/domains/outbound.com/dns").json()["dnsRecords"]
    assert records and all(r["id"].startswith("dns_") for r in records)
    added = cos("POST", "/mailstack/v1/domains/outbound.com/dns", json={"type": "TXT", "name": "x", "content": "y"})
    assert added.status_code == 201 and added.json()["dnsRecord"]["content"] == "y"
    _error(cos("DELETE", "/mailstack/v1/domains/nope.com/dns"), 404, "domain not found")
    _error(cos("DELETE", "/mailstack/v1/domains/outbound.com/dns"), 500, "unable to delete dns record")


def test_reveal_trackers_and_me(cos):
    """provision_tracker.go (cleanDomain: https://<host>), verify_tracker.go (404 domain not found), me.go."""
    _error(cos("POST", "/reveal/v1/trackers", json={}), 400, "domain not provided")
    tracker = cos("POST", "/reveal/v1/trackers", json={"domain": "http://www.shop.example/"}).json()["tracker"]
    assert tracker["domain"] == "https://shop.example" and tracker["code"] and tracker["id"]
    _error(cos("GET", "/reveal/v1/verify"), 400, "must provide domain")
    _error(cos("GET", "/reveal/v1/verify", params={"domain": "other.example"}), 404, "domain not found")
    verified = cos("GET", "/reveal/v1/verify", params={"domain": "shop.example"}).json()["tracker"]
    assert verified["status"] == "unverified" and "code" not in verified
    me = cos("GET", "/me").json()
    assert me["status"] == "success" and me["tenant"] and me["requestId"].startswith("api_")


def test_organization_enrichment_on_both_paths_and_per_paths_version(cos, gtm_sandbox):
    """customer_routes.go@aa4e0bd52ed6 (index id 66456577487) registerEnrichRoutes puts EnrichOrganization
    at ``/enrich/v1/person/organization``; the swagger (and the index's other copies of the file) at
    ``/enrich/v1/organization`` (rest/enrich/enrich_organization.go): the same answer on both, and
    ``paths_version`` serves one of them, gin's plain-text 404 on the other."""
    for path in ("/enrich/v1/organization", "/enrich/v1/person/organization"):
        body = cos("GET", path, params={"domain": "acme.com"}).json()
        assert body["status"] == "success" and body["data"]["website"].endswith("acme.com"), body
        assert cos("GET", path).status_code == 400
    gtm_sandbox.configure(customeros={"paths_version": 1})
    missing = cos("GET", "/enrich/v1/organization", params={"domain": "acme.com"})
    assert missing.status_code == 404 and missing.text == "404 page not found"
    assert cos("GET", "/enrich/v1/person/organization", params={"domain": "acme.com"}).status_code == 200
    gtm_sandbox.configure(customeros={"paths_version": 2})
    assert cos("GET", "/enrich/v1/person/organization", params={"domain": "acme.com"}).text == "404 page not found"
    assert cos("GET", "/enrich/v1/organization", params={"domain": "acme.com"}).status_code == 200
