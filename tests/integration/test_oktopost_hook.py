"""OktopostHook against the sandbox over loopback: every method, paging, limits, faults."""

from __future__ import annotations

import json

import pytest

from airflow_provider_gtm.core.errors import GtmApiError
from airflow_provider_gtm.hooks.oktopost import OktopostHook


@pytest.fixture
def hook(gtm_sandbox_connections):
    hook = OktopostHook()
    yield hook
    hook.close()


def set_extra(monkeypatch, sandbox, **extra):
    conn = sandbox.connections()["oktopost_default"]
    conn["extra"] = extra
    monkeypatch.setenv("AIRFLOW_CONN_OKTOPOST_DEFAULT", json.dumps(conn))


def test_read_methods(hook):
    assert hook.me()["Account"]["Id"] == "001sandbox0acct"
    campaign = next(hook.iter_records("campaigns", count=25))
    assert hook.get_campaign(campaign["Id"])["Id"] == campaign["Id"]
    post = next(hook.iter_records("posts", count=25))
    assert hook.get_post(post["Id"], stats=True)["Stats"]
    assert set(hook.get_post_analytics(post["Id"])) >= {"LinkClicks", "Shares"}
    message = next(hook.iter_records("messages", params={"campaignId": campaign["Id"]}, count=25))
    assert hook.get_message(message["Id"])["CampaignId"] == campaign["Id"]
    credential = next(hook.iter_records("credentials", params={"network": "LinkedIn"}))
    assert hook.get_credential(credential["Id"])["Network"] == "LinkedIn"
    board = next(hook.iter_records("boards"))
    assert hook.get_board(board["Id"])["Id"] == board["Id"]
    advocate = next(hook.iter_records("advocates", count=25))
    assert hook.get_advocate(advocate["Id"])["Email"] == advocate["Email"]
    assert next(hook.iter_records("clicks", count=200))["Id"]


def test_paging_reads_every_record_once(gtm_sandbox, hook):
    gtm_sandbox.configure(records=260)
    pages = list(hook.iter_pages("leads", count=25))
    ids = [r["Id"] for page in pages for r in page.records]
    assert len(pages) == 11 and len(ids) == len(set(ids)) == 260


def test_create_chain_and_refusals_keep_the_count(gtm_sandbox, hook):
    campaign = hook.create_campaign("Integration")
    message = hook.create_message(campaign["Id"], "LinkedIn", "Hello")
    credential = next(hook.iter_records("credentials", params={"network": "LinkedIn"}))
    post = hook.create_post(message["Id"], [credential["Id"]], start_date_time=1893488400)
    board = next(hook.iter_records("boards"))
    assert hook.create_board_message(board["Id"], message["Id"]) is not None
    assert hook.invite_advocate("Ada", "Lovelace", "ada@example.com", board["Id"]) == {"Result": True}

    records = [{"messageId": message["Id"], "credentialIds": [credential["Id"]]},
               {"messageId": message["Id"], "credentialIds": ["003-nosuch"]},
               {"credentialIds": [credential["Id"]]}]
    results = list(hook.iter_create("posts", records))
    submitted = sum(r.submitted for r in results)
    succeeded = sum(r.succeeded for r in results)
    failures = [f for r in results for f in r.failures]
    assert (submitted, succeeded, len(failures)) == (3, 1, 2)
    assert any("003-nosuch" in f.error_message for f in failures)
    assert any("messageId" in f.error_message for f in failures)
    state = gtm_sandbox.state()["apis"]["oktopost"]
    assert post["Id"] in state["posts"] and len(state["posts"]) == 2


def test_client_side_limits_keep_the_key_unblocked(gtm_sandbox, monkeypatch):
    # The sandbox enforces 4 calls per second and a long block; the hook paces to the same windows.
    gtm_sandbox.configure(rate_limits={"oktopost": {"windows": [[4, 1]], "block_seconds": 900}})
    set_extra(monkeypatch, gtm_sandbox, rate_limits=[[4, 1]])
    hook = OktopostHook()
    for _ in range(10):
        hook.me()
    assert gtm_sandbox.state()["rate_limited"].get("oktopost", 0) == 0


def test_a_block_longer_than_the_budget_fails_saying_when_it_ends(gtm_sandbox, monkeypatch):
    gtm_sandbox.configure(rate_limits={"oktopost": {"windows": [[1, 60]], "block_seconds": 900}})
    set_extra(monkeypatch, gtm_sandbox, rate_limits=[], max_wait_seconds=5)
    hook = OktopostHook()
    hook.me()
    with pytest.raises(GtmApiError) as excinfo:
        hook.me()
    assert excinfo.value.status == 429
    assert "block" in str(excinfo.value).lower()
    assert "okto_sandbox_key" not in str(excinfo.value)


def test_a_server_error_on_a_read_is_retried(gtm_sandbox, monkeypatch):
    set_extra(monkeypatch, gtm_sandbox, rate_limits=[])
    gtm_sandbox.set_faults([{"api": "oktopost", "path": "/v2/me", "kind": "status", "status": 503, "calls": [1],
                             "retry_after": 0}])
    assert OktopostHook().me()["Result"] is True
    assert gtm_sandbox.state()["faults_fired"]["oktopost"] == 1


def test_a_timeout_on_a_write_is_reported_not_resent(gtm_sandbox, monkeypatch):
    set_extra(monkeypatch, gtm_sandbox, rate_limits=[], read_timeout=0.3)
    gtm_sandbox.set_faults([{"api": "oktopost", "path": "/v2/campaign", "method": "POST", "kind": "delay",
                             "delay": 1.0, "calls": [1]}])
    results = list(OktopostHook().iter_create("campaigns", [{"name": "Slow"}]))
    assert sum(r.failed for r in results) == 1
    assert "unknown" in results[0].failures[0].error_message.lower()
    assert gtm_sandbox.state()["calls"]["oktopost"] == 1  # never sent twice


def test_get_post_with_stats_keeps_the_stats_beside_the_post(hook):
    """Oktopost/oktopost-typescript-sdk src/resources/publishing/posts.ts ``get``: ``Stats`` is answered
    beside ``Post`` and merged into the returned post."""
    post = next(hook.iter_records("posts", count=25))
    with_stats = hook.get_post(post["Id"], stats=True)
    assert with_stats["Id"] == post["Id"]
    assert set(with_stats["Stats"]) >= {"LinkClicks", "Conversions", "Shares"}
    assert "Stats" not in hook.get_post(post["Id"])


def test_find_advocate_returns_the_advocate_or_none(hook):
    """Oktopost/oktopost-typescript-sdk src/resources/advocacy/advocates.ts ``list({email})`` answers a
    page ``{Result, Items, Total}``: the hook returns the matching item, and ``None`` for an empty page
    (so an "invite if not found" check invites)."""
    advocate = next(hook.iter_records("advocates", count=25))
    found = hook.find_advocate(advocate["Email"])
    assert found is not None and found["Id"] == advocate["Id"] and "Items" not in found
    assert hook.find_advocate("nobody@nowhere.example") is None
    board = next(hook.iter_records("boards"))
    assert hook.invite_advocate("Ada", "Lovelace", "ada.find@example.com", board["Id"]) == {"Result": True}
    invited = hook.find_advocate("ADA.find@example.com")
    assert invited is not None and invited["Email"] == "ada.find@example.com"
    assert board["Id"] in hook.get_advocate(invited["Id"], board_id=board["Id"])["BoardIds"]
