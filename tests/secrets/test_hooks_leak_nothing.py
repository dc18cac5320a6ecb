"""Every hook method of the four APIs, on success and failure paths, leaks no form of any secret.

Failure paths: an error body that echoes the request's credentials in every form (401, 400, 500),
a redirect to another host, a read timeout. What is scanned: return values, every text of every
exception (str, repr, args, attributes such as ``body``, the formatted traceback) and every log
record of the process.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from itertools import islice
from typing import Any
from urllib.parse import quote

import pytest
import requests
from secret_scan import OCTOPUS_QUERY_KEY, PLANTED, hits, texts_of_exception

from airflow_provider_gtm.core.errors import GtmApiError, GtmError
from airflow_provider_gtm.hooks.customeros import CustomerOSHook
from airflow_provider_gtm.hooks.octopus import OctopusConnectHook
from airflow_provider_gtm.hooks.octy import OctyHook
from airflow_provider_gtm.hooks.oktopost import OktopostHook

Call = Callable[[Any], Any]


def first(iterable: Iterable[Any], n: int = 3) -> list[Any]:
    return list(islice(iterable, n))


def batch(result: Any) -> Any:
    return result.to_json() if hasattr(result, "to_json") else {
        "succeeded": getattr(result, "succeeded", None), "failures": [f.to_json() for f in result.failures]}


def batches(results: Iterable[Any]) -> list[Any]:
    return [batch(r) for r in results]


SINCE = datetime.now(timezone.utc) - timedelta(days=3650)

CALLS: dict[str, tuple[type, dict[str, Call]]] = {
    "octy": (OctyHook, {
        "iter_pages": lambda h: [p.records for p in first(h.iter_pages("profiles"), 2)],
        "iter_records": lambda h: first(h.iter_records("items")),
        "get_by_ids": lambda h: first(h.get_by_ids("profiles", ["p1", "p2"])),
        "get_profiles_metadata": lambda h: h.get_profiles_metadata(["p1"]),
        "iter_batches": lambda h: batches(h.iter_batches("profiles.create", [{"customer_id": "c-1"}])),
        "create_profiles": lambda h: batch(h.create_profiles([{"customer_id": "c-2"}, {"customer_id": "bad,id"}])),
        "update_profiles": lambda h: batch(h.update_profiles([{"profile_id": "p-x", "customer_id": "c-3"}])),
        "delete_profiles": lambda h: batch(h.delete_profiles(["p-x"])),
        "create_items": lambda h: batch(h.create_items([{"item_id": "i-1", "item_category": "c",
                                                          "item_name": "n", "item_price": 1.0}])),
        "update_items": lambda h: batch(h.update_items([{"item_id": "i-1", "item_name": "m"}])),
        "delete_items": lambda h: batch(h.delete_items(["i-1"])),
        "create_event_types": lambda h: batch(h.create_event_types([{"event_type": "secret_scan"}])),
        "delete_event_types": lambda h: batch(h.delete_event_types(["et-1"])),
        "create_templates": lambda h: batch(h.create_templates([{"friendly_name": "t", "template_type": "email",
                                                                  "title": "x", "content": "y"}])),
        "update_templates": lambda h: batch(h.update_templates([{"template_id": "t-1", "title": "z"}])),
        "delete_templates": lambda h: batch(h.delete_templates(["t-1"])),
        "create_events": lambda h: batch(h.create_events([{"event_type": "charged", "profile_id": "p1",
                                                            "event_properties": {"payment_method": "card",
                                                                                 "item_id": "i"}}])),
        "create_event": lambda h: h.create_event({"event_type": "churned", "profile_id": "p1"}),
        "create_segment": lambda h: h.create_segment({"segment_name": "s", "segment_type": "static",
                                                      "event_sequence": []}),
        "delete_segments": lambda h: batch(h.delete_segments(["s-1"])),
        "get_recommendations": lambda h: h.get_recommendations(["p1"]),
        "get_churn_report": lambda h: h.get_churn_report(),
        "get_account": lambda h: h.get_account(),
        "set_account": lambda h: h.set_account(contact_name="Scan"),
        "get_algorithms": lambda h: h.get_algorithms(),
        "set_algorithm": lambda h: h.set_algorithm({"algorithm_name": "churn_prediction", "configurations": {}}),
        "test_connection": lambda h: h.test_connection(),
    }),
    "customeros": (CustomerOSHook, {
        "create_organization": lambda h: h.create_organization({"name": "Acme", "website": "acme.io"}),
        "iter_create_organizations": lambda h: batches(h.iter_create_organizations([{"name": "Globex"}, {}])),
        "get_organization": lambda h: h.get_organization("org-1"),
        "create_contact": lambda h: h.create_contact({"email": "ada@example.com", "firstName": "Ada"}),
        "iter_bulk_create_contacts": lambda h: batches(h.iter_bulk_create_contacts([{"email": "b@example.com"},
                                                                                    {"email": "not-an-email"}])),
        "bulk_create_contacts": lambda h: batch(h.bulk_create_contacts([{"email": "c@example.com"}])),
        "start_person_enrichment": lambda h: h.start_person_enrichment(email="grace@example.com"),
        "get_person_enrichment_result": lambda h: h.get_person_enrichment_result("enr-unknown"),
        "enrich_person": lambda h: h.enrich_person(email="linus@example.com", timeout=10),
        "enrich_organization": lambda h: h.enrich_organization(domain="acme.io"),
        "verify_email": lambda h: h.verify_email("ken@example.com"),
        "verify_ip": lambda h: h.verify_ip("192.0.2.1"),
        "upload_bulk_email_verification": lambda h: h.upload_bulk_email_verification(["a@example.com"]),
        "get_bulk_email_verification": lambda h: h.get_bulk_email_verification("job-unknown"),
        "wait_for_bulk_email_verification": lambda h: h.wait_for_bulk_email_verification(
            h.upload_bulk_email_verification(["d@example.com"]).get("jobId", "job-x"), timeout=10),
        "download_bulk_email_verification": lambda h: list(h.download_bulk_email_verification(
            h.upload_bulk_email_verification(["e@example.com"]).get("jobId", "job-y"), timeout=10)),
        "test_connection": lambda h: h.test_connection(),
    }),
    "octopus": (OctopusConnectHook, {
        "iter_feed_pages": lambda h: [p.records for p in first(h.iter_feed_pages("all_posts", page_size=5), 2)],
        "iter_feed": lambda h: first(h.iter_feed("topic_posts", parent_id="topic-1")),
        "get_post": lambda h: h.get_post("post-1"),
        "get_comment": lambda h: h.get_comment("comment-1"),
        "get_reply": lambda h: h.get_reply("reply-1"),
        "get_profile": lambda h: h.get_profile("user-1"),
        "get_topics": lambda h: h.get_topics(),
        "get_translations": lambda h: h.get_translations("post-1"),
        "test_connection": lambda h: h.test_connection(),
    }),
    "oktopost": (OktopostHook, {
        "me": lambda h: h.me(),
        "get_campaign": lambda h: h.get_campaign("001000000000001"),
        "get_message": lambda h: h.get_message("002000000000001"),
        "get_post": lambda h: h.get_post("005000000000001", stats=True),
        "get_credential": lambda h: h.get_credential("003000000000001"),
        "get_board": lambda h: h.get_board("00a000000000001"),
        "get_advocate": lambda h: h.get_advocate("00b000000000001"),
        "find_advocate": lambda h: h.find_advocate("ada@example.com"),
        "get_post_analytics": lambda h: h.get_post_analytics("005000000000001"),
        "iter_pages": lambda h: [p.records for p in first(h.iter_pages("campaigns", count=25), 2)],
        "created_since": lambda h: h.created_since("campaigns", SINCE, max_pages=2),
        "iter_records": lambda h: first(h.iter_records("credentials", count=25)),
        "create_campaign": lambda h: h.create_campaign("Secret scan"),
        "create_message": lambda h: h.create_message("001000000000001", "LinkedIn", "Hello"),
        "create_post": lambda h: h.create_post("002000000000001", ["003000000000001"]),
        "create_board_message": lambda h: h.create_board_message("00a000000000001", "002000000000001"),
        "invite_advocate": lambda h: h.invite_advocate("Ada", "Lovelace", "ada@example.com", "00a000000000001"),
        "iter_create": lambda h: batches(h.iter_create("campaigns", [{"name": "A"}, {"name": ""}])),
        "test_connection": lambda h: h.test_connection(),
    }),
}

SCENARIOS: dict[str, list[dict[str, Any]]] = {
    "success": [],
    "echo_401": [{"kind": "echo_credentials", "status": 401}],
    "echo_400": [{"kind": "echo_credentials", "status": 400}],
    "echo_500": [{"kind": "echo_credentials", "status": 500}],
    "redirect_to_another_host": [{"kind": "redirect", "status": 302}],
    "redirect_308_to_another_host": [{"kind": "redirect", "status": 308,
                                      "location": "http://evil.invalid:9/steal?apiKey=x"}],
}


def drive(api: str, sandbox: Any, faults: list[dict[str, Any]], caplog: pytest.LogCaptureFixture,
          names: Iterable[str] | None = None) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Call every method; ``({call: hits}, {call: outcome})``."""
    hook_class, calls = CALLS[api]
    sandbox.set_faults([{"api": api, **fault} for fault in faults])
    leaks: dict[str, list[str]] = {}
    outcomes: dict[str, str] = {}
    for name, call in calls.items():
        if names is not None and name not in names:
            continue
        hook = hook_class()
        texts: list[str] = []
        try:
            result = call(hook)
            texts.append(json.dumps(result, default=repr))
            outcomes[name] = "ok"
        except GtmError as exc:
            texts.extend(texts_of_exception(exc))
            outcomes[name] = type(exc).__name__
        finally:
            hook.close()
        found = hits("\n".join(texts))
        if found:
            leaks[name] = found
    log_hits = hits(caplog.text + "\n".join(repr(r.__dict__) for r in caplog.records))
    if log_hits:
        leaks["<logs>"] = log_hits
    return leaks, outcomes


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("api", list(CALLS))
def test_every_hook_method_leaks_no_secret(planted, caplog, api, scenario):
    caplog.set_level(logging.DEBUG)
    leaks, outcomes = drive(api, planted, SCENARIOS[scenario], caplog)
    assert leaks == {}
    if scenario == "success":
        # The planted credentials are accepted: most calls succeed (some refer to ids that do not exist).
        assert "GtmAuthError" not in outcomes.values(), outcomes
        assert sum(o == "ok" for o in outcomes.values()) >= len(outcomes) // 3, outcomes
    else:
        assert planted.state()["faults_fired"].get(api, 0) > 0
        # Most calls failed (batch writes report per-record failures instead of raising, and
        # test_connection answers (False, reason)).
        failed = [name for name, outcome in outcomes.items() if outcome != "ok"]
        assert len(failed) >= len(outcomes) // 3, outcomes
    if scenario.startswith("redirect"):
        # Nothing was sent to the other host: every call the sandbox saw is a call it redirected.
        state = planted.state()
        assert state["calls"].get(api, 0) == state["faults_fired"].get(api, 0)
        assert any("redirect to another origin refused" in text for text in [caplog.text] + list(outcomes.values())) \
            or all(o in ("GtmClientError", "ok") for o in outcomes.values()), outcomes


@pytest.mark.parametrize("api", list(CALLS))
def test_read_timeouts_leak_no_secret(planted, caplog, monkeypatch, api):
    caplog.set_level(logging.DEBUG)
    from secret_scan import FAST_EXTRA, connection_env

    for name, value in connection_env(planted, **{**FAST_EXTRA, "read_timeout": 0.3}).items():
        monkeypatch.setenv(name, value)
    names = {"octy": ["iter_records", "create_profiles"], "customeros": ["verify_email", "create_organization"],
             "octopus": ["get_topics", "iter_feed"], "oktopost": ["iter_records", "create_campaign"]}[api]
    leaks, outcomes = drive(api, planted, [{"kind": "delay", "delay": 0.8}], caplog, names)
    assert leaks == {}
    assert all(outcome != "ok" for name, outcome in outcomes.items() if name != "create_profiles"), outcomes


def test_the_echo_fault_really_echoes_every_form(planted):
    """The failure scenarios are meaningful: the raw answers do carry the secrets, in every form."""
    planted.set_faults([{"kind": "echo_credentials", "status": 401}])
    octy, okto = PLANTED["octy"], PLANTED["oktopost"]
    raw = requests.get(planted.base_url("octy") + "/v1/retention/account", auth=(octy["login"], octy["password"]),
                       timeout=5).text
    assert octy["password"] in json.loads(raw)["error"]["reason"]
    assert hits(raw) and len(hits(raw)) >= 5
    raw = requests.get(planted.base_url("octopus") + f"/v1/topics?apiKey={OCTOPUS_QUERY_KEY}",
                       headers={"Authorization": f"Bearer {PLANTED['octopus']['password']}"}, timeout=5).text
    assert OCTOPUS_QUERY_KEY in raw and quote(PLANTED["octopus"]["password"], safe="") in raw
    raw = requests.get(planted.base_url("oktopost") + "/v2/me", auth=(okto["login"], okto["password"]), timeout=5).text
    assert f"{okto['login']}:{okto['password']}" in raw


def test_the_default_sandbox_credentials_are_refused(planted):
    """The planted sandbox accepts only the planted credentials (the suite cannot pass by accident)."""
    from airflow_provider_gtm.sandbox.server import SANDBOX_CREDENTIALS

    default = SANDBOX_CREDENTIALS["customeros"]["password"]
    answer = requests.get(planted.base_url("customeros") + "/customerbase/v1/organizations/x",
                          headers={"X-CUSTOMER-OS-API-KEY": default}, timeout=5)
    assert answer.status_code == 401


def test_an_echoed_secret_is_not_in_api_errors_raised_directly(planted):
    planted.set_faults([{"kind": "echo_credentials", "status": 403}])
    with pytest.raises(GtmApiError) as caught:
        OctopusConnectHook().get_topics()
    assert hits("".join(texts_of_exception(caught.value))) == []
    assert "Invalid credentials" in caught.value.api_message and "***" in caught.value.api_message
