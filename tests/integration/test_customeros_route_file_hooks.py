"""CustomerOSHook's route-file methods (issue 22) against the sandbox over loopback: each path set alone,
so the swagger fallback after gin's router 404 runs end to end (customeros/customeros
server/customer_routes.go@aa4e0bd52ed6, handlers/mailstack/*.go, handlers/reveal_setup/*.go, handlers/me.go;
api-evangelist/customeros openapi/_original/customeros-swagger.json)."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.core.errors import GtmConflictError, GtmNotFoundError
from airflow_provider_gtm.hooks.customeros import CustomerOSHook


@pytest.mark.parametrize("paths_version", [0, 1, 2])
def test_mailstack_tracking_reveal_and_me_on_every_path_set(gtm_sandbox_connections, paths_version):
    gtm_sandbox_connections.configure(customeros={"paths_version": paths_version})
    hook = CustomerOSHook()
    assert hook.register_domain("reach.io", "https://acme.example")["domain"] == "reach.io"
    with pytest.raises(GtmConflictError):
        hook.register_domain("reach.io", "https://acme.example")
    assert [d["domain"] for d in hook.get_domains()] == ["reach.io"]
    assert hook.configure_domain("reach.io", "https://acme.example")["nameservers"]
    assert hook.get_mailboxes("reach.io") == []
    assert hook.create_mailbox("reach.io", "ann", password="Secret123!")["email"] == "ann@reach.io"
    with pytest.raises(GtmNotFoundError):
        hook.create_mailbox("other.io", "ann")
    assert [m["email"] for m in hook.get_mailboxes("reach.io")] == ["ann@reach.io"]
    assert len(hook.recommend_domains("acme")) == 20
    assert hook.add_dns_record("reach.io", type="TXT", name="_dmarc", content="v=DMARC1")["name"] == "_dmarc"
    assert {r["type"] for r in hook.get_dns_records("reach.io")} >= {"MX", "TXT"}
    urls = hook.generate_email_tracking_urls(campaign_id="c", recipient_id="r", track_opens=True)
    assert urls["trackingPixel"] and urls["trackingId"]
    assert hook.provision_tracker("shop.example")["domain"] == "https://shop.example"
    assert hook.verify_tracker("shop.example")["status"] == "unverified"
    assert hook.get_me() == "sandbox"


@pytest.mark.parametrize("paths_version", [0, 1, 2])
def test_enrich_organization_on_every_path_set(gtm_sandbox_connections, paths_version):
    """customer_routes.go@aa4e0bd52ed6 (index id 66456577487): ``/enrich/v1/person/organization``; the
    swagger: ``/enrich/v1/organization``. The hook asks the catalogued path first, the twin after gin's 404."""
    gtm_sandbox_connections.configure(customeros={"paths_version": paths_version})
    before = gtm_sandbox_connections.state()["calls"].get("customeros", 0)
    answer = CustomerOSHook().enrich_organization(domain="acme.com")
    assert answer["status"] == "success" and answer["data"]["name"]
    calls = gtm_sandbox_connections.state()["calls"].get("customeros", 0) - before
    assert calls == (2 if paths_version == 1 else 1)
