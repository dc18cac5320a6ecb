"""OctyHook: Basic auth, the cursor-header paging, every failed_to_* shape, retries and rate limits."""

from __future__ import annotations

import base64
import json
import logging

import pytest
import requests

from airflow_provider_gtm.core.client import RetryPolicy
from airflow_provider_gtm.core.errors import (
    GtmAuthError,
    GtmClientError,
    GtmConfigError,
    GtmNotFoundError,
    GtmPaginationError,
    GtmRateLimitError,
)
from airflow_provider_gtm.hooks.octy import OctyHook, octy_error_message

from .support import query, sent, set_connection

PUBLIC = "pk_7d2f0c0e4a1b4c2e"
SECRET = "sk_9b8a7c6d5e4f3a2b1c0d"
API = "https://api.octy.ai"
PROFILES = f"{API}/v1/retention/profiles"


def set_conn(monkeypatch, *, host=None, login=PUBLIC, password=SECRET, extra=None):
    set_connection(monkeypatch, "octy_default", "octy", host=host, extra=extra, login=login, password=password)


@pytest.fixture
def hook(monkeypatch, timer):
    set_conn(monkeypatch)
    return OctyHook(timer=timer, retry=RetryPolicy(max_attempts=4, jitter=0))


def octy_error(status: int, reason: str, *messages: str, meta: str = "Bad request") -> dict:
    """Octy's error template (request_meta + error.reason + error.errors[].error_message)."""
    return {
        "request_meta": {"request_status": "Failure", "message": meta},
        "error": {"code": status, "reason": reason, "errors": [{"error_message": m} for m in messages]},
    }


def page(records_key: str, records: list, *, total: int | None = None) -> dict:
    meta = {"request_status": "Success", "message": "ok", "count": len(records)}
    if total is not None:
        meta["total"] = total
    return {"request_meta": meta, records_key: records}


def ids_of(request) -> list[str]:
    """The ``ids`` query value exactly as sent."""
    return query(request)["ids"].split(",")


# -- connection, auth, transport -----------------------------------------------------------------

def test_basic_auth_user_agent_and_default_host(hook, requests_mock):
    requests_mock.get(f"{API}/v1/configurations/account",
                      json={"request_meta": {"request_status": "Success"}, "account_data": {"account_id": "a1"}})
    assert hook.get_account() == {"account_id": "a1"}
    request = requests_mock.last_request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()
    assert request.headers["User-Agent"].startswith("airflow-provider-gtm/")


def test_post_sends_exact_json_content_type_and_length(hook, requests_mock):
    # Octy checks both: 415 without exactly application/json, 411 without Content-Length.
    requests_mock.post(f"{API}/v1/retention/events/create", status_code=201, json={"event_id": "e1"})
    hook.create_event({"event_type": "charged", "profile_id": "p1", "event_properties": {}})
    request = requests_mock.last_request
    assert request.headers["Content-Type"] == "application/json"
    assert int(request.headers["Content-Length"]) == len(request.body)


def test_connection_is_read_lazily(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_OCTY_DEFAULT", raising=False)
    assert OctyHook().conn_id == "octy_default"


@pytest.mark.parametrize(("field", "label"), [("login", "Public key"), ("password", "Secret key")])
def test_missing_key_is_named(monkeypatch, timer, requests_mock, field, label):
    set_conn(monkeypatch, **{field: " "})
    with pytest.raises(GtmConfigError) as info:
        OctyHook(timer=timer).get_account()
    assert label in str(info.value) and repr(field) in str(info.value)
    assert requests_mock.call_count == 0


def test_plain_http_only_for_loopback(monkeypatch, timer, requests_mock):
    set_conn(monkeypatch, host="http://octy.example.com")
    with pytest.raises(GtmConfigError, match="loopback"):
        OctyHook(timer=timer).get_account()
    assert requests_mock.call_count == 0
    set_conn(monkeypatch, host="http://127.0.0.1:8790/octy")
    requests_mock.get("http://127.0.0.1:8790/octy/v1/configurations/account", json={"account_data": {"x": 1}})
    assert OctyHook(timer=timer).get_account() == {"x": 1}


def test_test_connection_ok_and_refused(hook, requests_mock):
    requests_mock.get(
        f"{API}/v1/configurations/account",
        [
            {"json": {"account_data": {"contact_email_address": "ops@acme.example"}}},
            {"status_code": 401, "json": octy_error(401, "Invalid authentication credentials", meta="Unauthorized")},
        ],
    )
    assert hook.test_connection() == (True, "Connected to Octy: ops@acme.example.")
    ok, message = hook.test_connection()
    assert not ok and "HTTP 401: Invalid authentication credentials" in message
    assert SECRET not in message


def test_secret_never_in_error_or_logs(hook, requests_mock, caplog):
    caplog.set_level(logging.DEBUG)
    requests_mock.get(f"{API}/v1/configurations/account",
                      [{"status_code": 503}, {"status_code": 403, "json": octy_error(403, "Forbidden")}])
    with pytest.raises(GtmAuthError) as info:
        hook.get_account()
    texts = [str(info.value), repr(info.value.body), caplog.text]
    assert all(SECRET not in t and PUBLIC not in t for t in texts)
    assert "retrying" in caplog.text  # the 503 was logged, without the key


# -- errors, retries -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, GtmClientError), (401, GtmAuthError), (403, GtmAuthError), (404, GtmNotFoundError)],
)
def test_client_errors_are_not_retried(hook, requests_mock, timer, status, error_type):
    requests_mock.get(f"{API}/v1/retention/churn_prediction/report", status_code=status,
                      json=octy_error(status, "Not possible", "No churn report for this account"))
    with pytest.raises(error_type) as info:
        hook.get_churn_report()
    assert info.value.status == status
    assert info.value.api_message == "Not possible: No churn report for this account"
    assert requests_mock.call_count == 1 and timer.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_reads_retried_on_5xx(hook, requests_mock, timer, status):
    requests_mock.get(f"{API}/v1/configurations/retention/algorithms",
                      [{"status_code": status}, {"json": {"algorithms": [{"algorithm_name": "rec"}]}}])
    assert hook.get_algorithms() == {"algorithms": [{"algorithm_name": "rec"}]}
    assert requests_mock.call_count == 2 and timer.sleeps == [1.0]


def test_429_waits_retry_after_seconds(hook, requests_mock, timer):
    too_many = octy_error(429, "You have exceeded the total number of allowed requests to this endpoint: 120",
                          meta="Too many requests")
    requests_mock.get(f"{API}/v1/retention/churn_prediction/report",
                      [{"status_code": 429, "json": too_many, "headers": {"Retry-After": "17"}},
                       {"json": {"churn_prediction_report": {"high": 3}}}])
    assert hook.get_churn_report() == {"high": 3}
    assert timer.sleeps == [17.0]


def test_429_with_http_date_and_budget_exhausted(monkeypatch, requests_mock, timer):
    set_conn(monkeypatch, extra={"max_wait_seconds": 30})
    # FakeTimer's wall clock starts at 2026-01-01T00:00:00Z: this date is 120 s later.
    requests_mock.get(f"{API}/v1/configurations/account", status_code=429,
                      headers={"Retry-After": "Thu, 01 Jan 2026 00:02:00 GMT"},
                      json=octy_error(429, "You have exceeded the total number of allowed requests"))
    with pytest.raises(GtmRateLimitError) as info:
        OctyHook(timer=timer).get_account()
    assert info.value.retry_after == pytest.approx(120)
    assert "the server asked to wait 120s" in str(info.value)
    assert requests_mock.call_count == 1 and timer.sleeps == []


def test_default_limit_paces_the_121st_call(hook, requests_mock, timer):
    requests_mock.get(f"{API}/v1/configurations/account", json={"account_data": {}})
    for _ in range(121):
        hook.get_account()
    assert timer.sleeps == [pytest.approx(60.1)]


def test_rate_limits_extra_overrides_default(monkeypatch, requests_mock, timer):
    set_conn(monkeypatch, extra={"rate_limits": [[2, 10]]})
    hook = OctyHook(timer=timer)
    requests_mock.get(f"{API}/v1/configurations/account", json={"account_data": {}})
    for _ in range(3):
        hook.get_account()
    assert timer.sleeps == [pytest.approx(10.1)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (octy_error(400, "Invalid customer identifier(s) provided", "No customer profiles were found"),
         "Invalid customer identifier(s) provided: No customer profiles were found"),
        (octy_error(400, "Missing Parameters"), "Missing Parameters"),
        ({"request_meta": {"request_status": "Failure", "message": "Unsupported media type"}},
         "Unsupported media type"),
        ({"error": "Unknown server error"}, "Unknown server error"),
        ({"error": {"code": "400", "reason": "", "errors": [{"error_message": "a"}, {"error_message": "b"}]}},
         "a; b"),
    ],
)
def test_error_message_reads_every_template_variant(body, expected):
    assert octy_error_message(body, json.dumps(body)) == expected


# -- lists ---------------------------------------------------------------------------------------

def test_cursor_header_pages_until_the_total_is_reached(hook, requests_mock):
    requests_mock.get(
        PROFILES,
        [
            {"json": page("profiles", [{"profile_id": "p1"}, {"profile_id": "p2"}], total=5),
             "headers": {"cursor": "2"}},
            {"json": page("profiles", [{"profile_id": "p3"}, {"profile_id": "p4"}], total=5),
             "headers": {"cursor": "4"}},
            {"json": page("profiles", [{"profile_id": "p5"}], total=5)},  # no header needed at the total
        ],
    )
    pages = list(hook.iter_pages("profiles"))
    assert [[r["profile_id"] for r in p.records] for p in pages] == [["p1", "p2"], ["p3", "p4"], ["p5"]]
    assert [p.next_state for p in pages] == [2, 4, None]
    assert [r.headers["cursor"] for r in requests_mock.request_history] == ["0", "2", "4"]


def test_missing_cursor_header_before_the_total_is_an_error_not_an_end(hook, requests_mock, timer):
    # Before issue #10 a missing header ended the list silently (3 of 5 records, task "success").
    requests_mock.get(PROFILES, [
        {"json": page("profiles", [{"profile_id": "p1"}, {"profile_id": "p2"}], total=5), "headers": {"cursor": "2"}},
        {"json": page("profiles", [{"profile_id": "p3"}], total=5)},
    ])
    with pytest.raises(GtmPaginationError, match="no usable 'cursor' header") as caught:
        list(hook.iter_records("profiles"))
    assert caught.value.retryable
    assert requests_mock.call_count == 1 + 4  # the page was re-fetched 3 times
    assert timer.sleeps == [1.0, 2.0, 4.0]


def test_cursor_exhausted_400_before_the_total_is_an_error(hook, requests_mock, timer):
    exhausted = octy_error(400, "No customer profiles found", "Customer profiles pagination cursor exhausted")
    requests_mock.get(PROFILES, [
        {"json": page("profiles", [{"profile_id": "p1"}], total=3), "headers": {"cursor": "1"}},
        {"status_code": 400, "json": exhausted},
        {"json": page("profiles", [{"profile_id": "p2"}, {"profile_id": "p3"}], total=3), "headers": {"cursor": "3"}},
    ])
    assert [r["profile_id"] for r in hook.iter_records("profiles")] == ["p1", "p2", "p3"]
    assert timer.sleeps == [1.0]


@pytest.mark.parametrize(("total", "ends"), [(100, True), (250, False)])
def test_resumed_fetch_checks_an_exhausted_answer_against_the_total(hook, requests_mock, total, ends):
    # A resumed fetch knows no total yet: "exhausted" at cursor 100 is the end only if the list has 100.
    exhausted = octy_error(400, "No customer profiles found", "Customer profiles pagination cursor exhausted")

    def answer(request, context):
        if request.headers["cursor"] == "0":
            context.headers["cursor"] = "1"
            return page("profiles", [{"profile_id": "p0"}], total=total)
        context.status_code = 400
        return exhausted

    requests_mock.get(PROFILES, json=answer)
    if ends:
        assert list(hook.iter_pages("profiles", start=100)) == []
    else:
        with pytest.raises(GtmPaginationError, match="exhausted before its total 250"):
            list(hook.iter_pages("profiles", start=100))


def test_404_on_the_first_page_is_not_an_empty_list(hook, requests_mock):
    requests_mock.get(PROFILES, status_code=404, json={"detail": "Not Found"})
    with pytest.raises(GtmNotFoundError):
        list(hook.iter_records("profiles"))


def test_cursor_exhausted_400_ends_the_list(hook, requests_mock):
    exhausted = octy_error(400, "No customer profiles found", "Customer profiles pagination cursor exhausted")
    requests_mock.get(
        f"{API}/v1/retention/items",
        [
            {"json": page("items", [{"item_id": "i1"}, {"item_id": "i2"}]), "headers": {"cursor": "2"}},
            {"status_code": 400, "json": exhausted},
        ],
    )
    assert [r["item_id"] for r in hook.iter_records("items")] == ["i1", "i2"]
    assert requests_mock.call_count == 2


def test_other_400_during_paging_is_an_error(hook, requests_mock):
    requests_mock.get(f"{API}/v1/retention/segments", status_code=400,
                      json=octy_error(400, "Missing Parameters", "Please provide a valid object identifier"))
    with pytest.raises(GtmClientError, match="Missing Parameters"):
        list(hook.iter_records("segments"))


def test_list_ends_when_cursor_reaches_total(hook, requests_mock):
    requests_mock.get(f"{API}/v1/retention/events/types",
                      json=page("event_types", [{"event_type": "a"}, {"event_type": "b"}], total=2),
                      headers={"cursor": "2"})
    assert len(list(hook.iter_records("event_types"))) == 2
    assert requests_mock.call_count == 1


def test_start_offset_and_limit(hook, requests_mock):
    requests_mock.get(f"{API}/v1/retention/messaging/templates",
                      [{"json": page("templates", [{"template_id": f"t{i}"} for i in range(100)]),
                        "headers": {"cursor": str(300 + 100 * n)}} for n in range(3)])
    pages = list(hook.iter_pages("templates", start=200, limit=150))
    assert [len(p.records) for p in pages] == [100, 50]
    assert pages[-1].next_state is None
    assert [r.headers["cursor"] for r in requests_mock.request_history] == ["200", "300"]


def test_repeated_cursor_is_an_error_after_refetching(hook, requests_mock, caplog):
    # Before issue #10 this ended the list with a warning and reported success.
    caplog.set_level(logging.WARNING)
    requests_mock.get(PROFILES, json=page("profiles", [{"profile_id": "p"}]), headers={"cursor": "1"})
    with pytest.raises(GtmPaginationError, match="did not advance"):
        list(hook.iter_pages("profiles", start=1))
    assert requests_mock.call_count == 4
    assert "re-fetching the page" in caplog.text


def test_profile_filters_sent_as_query(hook, requests_mock):
    requests_mock.get(PROFILES, json=page("profiles", [], total=0))
    list(hook.iter_records("profiles", filters={"rfm": "1-5", "churn_prob": "high", "segments": ["vip", "eu"]}))
    assert requests_mock.last_request.qs == {"rfm": ["1-5"], "churn_prob": ["high"], "segments": ["vip,eu"]}


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda h: h.iter_pages("customers"), "resource='customers'"),
        (lambda h: h.iter_pages("items", filters={"rfm": "1-5"}), "filters apply to resource='profiles'"),
        (lambda h: h.iter_pages("profiles", filters={"country": "FR"}), r"\['country'\]"),
        (lambda h: h.iter_pages("profiles", filters={"churn_prob": "extreme"}), "churn_prob"),
        (lambda h: h.iter_batches("profiles.upsert", []), "operation='profiles.upsert'"),
        (lambda h: h.iter_batches("profiles.create", [], batch_size=501), "batch_size"),
        (lambda h: h.iter_batches("profiles.create", [], batch_size=True), "batch_size"),
        (lambda h: h.create_segment({"segment_type": "behavioural"}), "segment_name"),
    ],
)
def test_bad_arguments_fail_before_any_call(hook, requests_mock, call, pattern):
    with pytest.raises(GtmConfigError, match=pattern):
        call(hook)
    assert requests_mock.call_count == 0


def test_get_by_ids_in_chunks_of_100(hook, requests_mock):
    def answer(request, context):
        ids = ids_of(request)
        return page("profiles", [{"profile_id": i} for i in ids])

    requests_mock.get(PROFILES, json=answer)
    ids = [f"P{i}" for i in range(150)]
    assert [r["profile_id"] for r in hook.get_by_ids("profiles", ids)] == ids
    assert [len(ids_of(r)) for r in requests_mock.request_history] == [100, 50]
    assert "cursor" not in requests_mock.last_request.headers


def test_get_by_ids_none_found_is_empty(hook, requests_mock):
    requests_mock.get(f"{API}/v1/retention/items", status_code=400,
                      json=octy_error(400, "Invalid item identifier(s) provided", "No items were found"))
    assert list(hook.get_by_ids("items", ["nope"])) == []


def test_profiles_metadata(hook, requests_mock):
    requests_mock.get(f"{PROFILES}/metadata", json={"profiles_meta": [{"identifier": "c1", "exists": True}]})
    assert hook.get_profiles_metadata(["c1"]) == [{"identifier": "c1", "exists": True}]
    assert requests_mock.last_request.qs == {"ids": ["c1"]}


# -- batch writes --------------------------------------------------------------------------------

def test_profiles_create_partial_failure_keyed_by_customer_id(hook, requests_mock):
    requests_mock.post(f"{PROFILES}/create", status_code=201, json={
        "request_meta": {"request_status": "Success", "message": "Customer profiles created.", "count": 1},
        "profiles": [{"profile_id": "p1", "customer_id": "c1"}],
        "failed_to_create": [{"customer_id": "c2", "error_message": "Another profile exists with provided "
                                                                   "customer_id : c2"}],
    })
    records = [{"customer_id": "c1", "profile_data": {"a": 1}}, {"customer_id": "c2", "profile_data": {"a": 2}}]
    result = hook.create_profiles(records)
    assert (result.submitted, result.succeeded, result.failed) == (2, 1, 1)
    assert result.accepted == [{"profile_id": "p1", "customer_id": "c1"}]
    (failure,) = result.failures
    assert failure.record == records[1] and failure.identifier == "c2" and failure.already_exists
    assert failure.error_message == "Another profile exists with provided customer_id : c2"
    assert sent(requests_mock.last_request) == {"profiles": records}


def test_seed_identifier_shape_is_matched_too(hook, requests_mock):
    requests_mock.post(f"{API}/v1/retention/items/create", status_code=201, json={
        "items": [{"item_id": "i1"}],
        "failed_to_create": [{"identifier": "i2", "error_message": "item_price must be an integer"}],
    })
    result = hook.create_items([{"item_id": "i1"}, {"item_id": "i2", "item_price": "x"}])
    assert [(f.identifier, f.error_message, f.record) for f in result.failures] == [
        ("i2", "item_price must be an integer", {"item_id": "i2", "item_price": "x"})]


def test_every_record_failed_400_is_a_result(hook, requests_mock):
    body = octy_error(400, "No profiles created!")
    body["error"]["errors"] = [{"customer_id": "c1", "error_message": "profile_data must have at least one key"},
                               {"customer_id": "c2", "error_message": "customer_id contains invalid characters"}]
    requests_mock.post(f"{PROFILES}/create", status_code=400, json=body)
    result = hook.create_profiles([{"customer_id": "c1"}, {"customer_id": "c2"}])
    assert (result.submitted, result.succeeded, result.failed) == (2, 0, 2)
    assert {f.identifier: (f.error_message, f.status) for f in result.failures} == {
        "c1": ("profile_data must have at least one key", 400),
        "c2": ("customer_id contains invalid characters", 400),
    }


def test_whole_chunk_refusal_reports_each_record(hook, requests_mock):
    body = octy_error(422, "Missing or invalid JSON parameters", meta="Unprocessable Entity")
    body["error"]["errors"] = [{"loc": ["body", "items"], "msg": "too many", "type": "value_error"}]
    requests_mock.post(f"{API}/v1/retention/items/update", status_code=422, json=body)
    result = hook.update_items([{"item_id": "i1"}, {"item_id": "i2"}])
    assert [(f.identifier, f.error_message, f.status) for f in result.failures] == [
        ("i1", "Missing or invalid JSON parameters", 422), ("i2", "Missing or invalid JSON parameters", 422)]


def test_malformed_records_fail_without_being_sent(hook, requests_mock):
    requests_mock.post(f"{PROFILES}/update", status_code=201, json={"profiles": [{"profile_id": "p1"}]})
    result = hook.update_profiles([{"profile_id": "p1", "status": "active"}, {"customer_id": "c9"}, "p2"])
    assert (result.submitted, result.succeeded, result.failed) == (3, 1, 2)
    assert [f.error_message for f in result.failures] == [
        "field 'profile_id' is missing; every profiles.update record needs it (a non-empty string)",
        "profiles.update takes objects; got str"]
    assert sent(requests_mock.last_request) == {"profiles": [{"profile_id": "p1", "status": "active"}]}


def test_chunks_of_batch_size_and_counts_add_up(hook, requests_mock):
    def answer(request, context):
        items = sent(request)["items"]
        context.status_code = 201
        return {"items": [i for i in items if i["item_id"] != "i3"],
                "failed_to_create": [{"item_id": "i3", "error_message": "item_description too long"}]
                if any(i["item_id"] == "i3" for i in items) else []}

    requests_mock.post(f"{API}/v1/retention/items/create", json=answer)
    results = list(hook.iter_batches("items.create", ({"item_id": f"i{n}"} for n in range(7)), batch_size=3))
    assert [(r.submitted, r.succeeded, r.failed) for r in results] == [(3, 3, 0), (3, 2, 1), (1, 1, 0)]
    assert [len(sent(r)["items"]) for r in requests_mock.request_history] == [3, 3, 1]


def test_deletes_take_ids_and_match_failures(hook, requests_mock):
    requests_mock.post(f"{PROFILES}/delete", status_code=201, json={
        "deleted_profiles": [{"profile_id": "p1", "customer_id": "c1"}],
        "failed_to_delete": [{"profile_id": "p2", "error_message": "No match found for deletion"}],
    })
    requests_mock.post(f"{API}/v1/retention/events/types/delete", json={
        "deleted_event_types": [],
        "failed_to_delete": [{"event_type_id": "et1", "error_message": "No match found for deletion"}],
    })
    result = hook.delete_profiles(["p1", "p2", ""])
    assert sent(requests_mock.request_history[0]) == {"profiles": ["p1", "p2"]}
    assert sorted((f.identifier, f.error_message) for f in result.failures) == [
        ("", "profiles.delete takes ids (non-empty strings); got ''"), ("p2", "No match found for deletion")]
    result = hook.delete_event_types(["et1"])
    assert sent(requests_mock.last_request) == {"event_type_ids": ["et1"]}
    assert (result.succeeded, result.failures[0].identifier) == (0, "et1")


def test_event_types_create_and_items_delete(hook, requests_mock):
    requests_mock.post(f"{API}/v1/retention/events/types/create", status_code=201, json={
        "event_types": [{"event_type_id": "et1", "event_type": "post_liked"}],
        "failed_to_create": [{"event_type": "charged", "error_message": "System event type exists: charged"}],
    })
    requests_mock.post(f"{API}/v1/retention/items/delete", json={
        "deleted_items": [{"item_id": "i1"}],
        "failed_to_delete": [{"item_id": "i2", "error_message": "No item found with item_id : i2"}]})
    created = hook.create_event_types([{"event_type": "post_liked", "event_properties": ["topic"]},
                                       {"event_type": "charged", "event_properties": []}])
    assert (created.succeeded, [(f.identifier, f.error_message, f.already_exists) for f in created.failures]) == (
        1, [("charged", "System event type exists: charged", True)])
    deleted = hook.delete_items(["i1", "i2"])
    assert sent(requests_mock.last_request) == {"items": ["i1", "i2"]}
    assert (deleted.succeeded, deleted.failures[0].identifier) == (1, "i2")


def test_template_writes_use_their_keys(hook, requests_mock):
    requests_mock.post(f"{API}/v1/retention/messaging/templates/create", status_code=201, json={
        "templates": [], "failed_to_create": [{"friendly_name": "welcome", "error_message": "title required"}]})
    requests_mock.post(f"{API}/v1/retention/messaging/templates/update", json={"templates": [{"template_id": "t1"}]})
    requests_mock.post(f"{API}/v1/retention/messaging/templates/delete", json={
        "deleted_templates": ["t1"], "failed_to_delete": []})
    assert hook.create_templates([{"friendly_name": "welcome"}]).failures[0].error_message == "title required"
    assert hook.update_templates([{"template_id": "t1", "title": "Hi"}]).succeeded == 1
    assert hook.delete_templates(["t1"]).succeeded == 1
    assert sent(requests_mock.last_request) == {"template_ids": ["t1"]}


def test_events_failures_echo_the_event(hook, requests_mock):
    events = [{"event_type": "charged", "profile_id": "p1", "event_properties": {"item_id": "i1"}},
              {"event_type": "signup", "profile_id": "p2", "event_properties": {}},
              {"event_type": "charged", "event_properties": {}}]
    requests_mock.post(f"{API}/v1/retention/events/create/batch", status_code=201, json={
        "created_events": [{"event_id": "e1", "profile_id": "p1", "event_type": "charged"}],
        "failed_to_create": [{"event_type": "signup", "profile_id": "p2", "event_properties": {},
                              "error_message": "Unknown event type supplied with this request."}],
    })
    result = hook.create_events(events)
    assert (result.submitted, result.succeeded, result.failed) == (3, 1, 2)
    assert [(f.record, f.error_message) for f in result.failures] == [
        (events[2], "field 'profile_id' is missing; every events.create record needs it (a non-empty string)"),
        (events[1], "Unknown event type supplied with this request."),
    ]


def test_identifier_creates_are_retried_after_5xx(hook, requests_mock, timer):
    # Octy refuses a duplicate customer_id, so resending after a 503 cannot create a profile twice.
    requests_mock.post(f"{PROFILES}/create", [
        {"status_code": 503},
        {"status_code": 201, "json": {"profiles": [{"profile_id": "p1", "customer_id": "c1"}]}},
    ])
    assert hook.create_profiles([{"customer_id": "c1"}]).succeeded == 1
    assert requests_mock.call_count == 2 and len(timer.sleeps) == 1


def test_other_writes_report_outcome_unknown_instead_of_resending(hook, requests_mock, timer):
    requests_mock.post(f"{API}/v1/retention/events/create/batch", [
        {"status_code": 504}, {"status_code": 201, "json": {"created_events": []}}])
    requests_mock.post(f"{PROFILES}/update", exc=requests.ReadTimeout("read timed out"))
    events = hook.create_events([{"event_type": "churned", "profile_id": "p1"}])
    update = hook.update_profiles([{"profile_id": "p1"}, {"profile_id": "p2"}])
    for result in (events, update):
        assert result.succeeded == 0 and result.failed == result.submitted
        assert all("outcome unknown" in f.error_message for f in result.failures)
    assert [r.path for r in requests_mock.request_history] == [
        "/v1/retention/events/create/batch", "/v1/retention/profiles/update"]
    assert timer.sleeps == []


def test_write_retried_after_429_and_refused_connection(hook, requests_mock, timer):
    refused = requests.ConnectionError("Failed to establish a new connection: [Errno 111] Connection refused")
    requests_mock.post(f"{PROFILES}/update", [
        {"status_code": 429, "headers": {"Retry-After": "3"}, "json": octy_error(429, "Too many")},
        {"exc": refused},
        {"status_code": 201, "json": {"profiles": [{"profile_id": "p1"}]}},
    ])
    assert hook.update_profiles([{"profile_id": "p1"}]).succeeded == 1
    assert requests_mock.call_count == 3 and timer.sleeps[0] == 3.0


# -- single calls --------------------------------------------------------------------------------

def test_segments(hook, requests_mock):
    requests_mock.post(f"{API}/v1/retention/segments/create", status_code=201,
                       json={"segment_id": "s1", "segment_name": "vip"})
    requests_mock.post(f"{API}/v1/retention/segments/delete", json={
        "deleted_segments": ["s1"], "failed_to_delete": [{"segment_id": "s2", "error_message": "Not found"}]})
    assert hook.create_segment({"segment_name": "vip", "segment_type": "live"})["segment_id"] == "s1"
    result = hook.delete_segments(["s1", "s2"])
    assert sent(requests_mock.last_request) == {"segments": ["s1", "s2"]}
    assert (result.succeeded, [(f.identifier, f.error_message) for f in result.failures]) == (1, [("s2", "Not found")])


def test_recommendations_in_chunks_of_100(hook, requests_mock):
    def answer(request, context):
        return {"recommendations": [{"profile_id": p, "items": []} for p in sent(request)["profile_ids"]]}

    requests_mock.post(f"{API}/v1/retention/recommendations", json=answer)
    out = hook.get_recommendations(f"p{i}" for i in range(120))
    assert len(out) == 120 and out[119]["profile_id"] == "p119"
    assert [len(sent(r)["profile_ids"]) for r in requests_mock.request_history] == [100, 20]


def test_account_and_algorithm_configuration(hook, requests_mock):
    requests_mock.post(f"{API}/v1/configurations/account/set",
                       json={"account_data": {"contact_name": "Ada", "webhook_url": "https://acme.example/hook"}})
    requests_mock.post(f"{API}/v1/configurations/retention/algorithms/set", json={"request_meta": {}, "ok": True})
    assert hook.set_account(contact_name="Ada", webhook_url="https://acme.example/hook")["contact_name"] == "Ada"
    assert sent(requests_mock.request_history[0]) == {"contact_name": "Ada", "webhook_url": "https://acme.example/hook"}
    assert hook.set_algorithm({"algorithm_name": "churn_prediction", "configurations": {"x": 1}})["ok"] is True
    assert sent(requests_mock.last_request) == {"algorithm_name": "churn_prediction", "configurations": {"x": 1}}


# -- answers shaped as simonbermudez/octy-services-wasm (upstream f514fe2) writes them --------------

EVENTS = f"{API}/v1/retention/events/create/batch"


def created_event(event: dict, number: int) -> dict:
    """events/services/events.py ret_valid_events entry."""
    return {"event_id": f"event_{number}", "profile_id": event["profile_id"], "event_type_id": "et_1",
            "event_type": event["event_type"], "event_properties": event["event_properties"],
            "created_at": "Mon, 23 Nov 2026 02:00:00 GMT"}


def test_refused_event_blamed_by_every_echoed_field(hook, requests_mock):
    """events/services/events.py: a refused event is echoed whole (event_type, event_properties,
    profile_id, error_message) in failed_to_create; events/api/routers/dto/events.py answers 201."""
    events = [{"event_type": "charged", "profile_id": "p1", "event_properties": {"amount": 10}},
              {"event_type": "charged", "profile_id": "p1", "event_properties": {"amount": "ten"}}]
    requests_mock.post(EVENTS, status_code=201, json={
        "request_meta": {"request_status": "Success", "message": "Events created.", "count": 1},
        "created_events": [created_event(events[0], 1)],
        "failed_to_create": [{**events[1], "error_message": "Invalid event property data type: amount"}]})
    result = hook.create_events(events)
    assert (result.submitted, result.succeeded, result.failed) == (2, 1, 1)
    assert [(f.record, f.error_message) for f in result.failures] == [
        (events[1], "Invalid event property data type: amount")]


def test_created_events_confirm_each_record_by_its_fields(hook, requests_mock):
    """A created_events list that lacks one sent event leaves that one "outcome unknown", not success."""
    events = [{"event_type": "charged", "profile_id": "p1", "event_properties": {"amount": n}} for n in (1, 2)]
    requests_mock.post(EVENTS, status_code=201, json={
        "request_meta": {"request_status": "Success", "message": "Events created.", "count": 2},
        "created_events": [created_event(events[0], 1), created_event(events[0], 2)],
        "failed_to_create": []})
    result = hook.create_events(events)
    assert result.succeeded == 1
    assert [f.record for f in result.failures] == [events[1]]
    assert "outcome unknown" in result.failures[0].error_message


def test_422_names_the_record_and_field_and_the_rest_is_sent_again(hook, requests_mock):
    """*/api/routers/error_handlers.py validation_handler: 422 with pydantic's errors (loc, msg, type)
    in error.errors; nothing was stored, so the records it does not name are sent again alone."""
    events = [{"event_type": "charged", "profile_id": "p1", "event_properties": {"n": 1}},
              {"event_type": "charged", "profile_id": "p2", "event_properties": "oops"},
              {"event_type": "viewed", "profile_id": "p3", "event_properties": {"n": 3}}]
    invalid = {"request_meta": {"request_status": "Failure", "message": "Unprocessable Entity"},
               "error": {"code": 422, "reason": "Missing or invalid JSON parameters", "errors": [
                   {"loc": ["body", "events", 1, "event_properties"], "msg": "value is not a valid dict",
                    "type": "type_error.dict"}]}}
    ok = {"request_meta": {"request_status": "Success", "message": "Events created.", "count": 2},
          "created_events": [created_event(events[0], 1), created_event(events[2], 2)], "failed_to_create": []}
    requests_mock.post(EVENTS, [{"status_code": 422, "json": invalid}, {"status_code": 201, "json": ok}])
    result = hook.create_events(events)
    assert (result.submitted, result.succeeded, result.failed) == (3, 2, 1)
    assert [(f.record, f.error_message, f.status) for f in result.failures] == [
        (events[1], "invalid: event_properties: value is not a valid dict", 422)]
    assert sent(requests_mock.request_history[1]) == {"events": [events[0], events[2]]}


def test_422_naming_no_record_fails_the_chunk_with_octys_words(hook, requests_mock):
    """The BatchCreateEvents length validator names the list, not a record (pydantic v2 shape)."""
    requests_mock.post(EVENTS, status_code=422, json={
        "request_meta": {"request_status": "Failure", "message": "Unprocessable Entity"},
        "error": {"code": 422, "reason": "Missing or invalid JSON parameters", "errors": [
            {"type": "value_error", "loc": ["body", "events"], "msg": "Value error, too many", "input": []}]}})
    result = hook.create_events([{"event_type": "a", "profile_id": "p", "event_properties": {}}])
    assert result.failed == 1 and requests_mock.call_count == 1
    assert "Missing or invalid JSON parameters" in result.failures[0].error_message


@pytest.mark.parametrize("operation, path, accepted_key, record, message, exists", [
    ("profiles.create", "profiles/create", "profiles", {"customer_id": "c1"},
     "Another profile exists with provided customer_id: c1", True),
    ("items.create", "items/create", "items", {"item_id": "i1"},
     "Another item exists with provided item_id : i1", True),
    ("templates.create", "messaging/templates/create", "templates", {"friendly_name": "t1"},
     "Failed to created new message template. Template(s) with provided friendly_name(s) already exist. : t1",
     True),
    ("event_types.create", "events/types/create", "event_types", {"event_type": "charged"},
     "System event type exists: charged", True),
    ("event_types.create", "events/types/create", "event_types", {"event_type": "x"}, "Conflict: x", True),
    ("event_types.create", "events/types/create", "event_types", {"event_type": "x"},
     "Another custom event type exists with provided event_type : x", True),  # before June 2025
    ("profiles.create", "profiles/create", "profiles", {"customer_id": "c1"},
     "Another profile exists with provided customer_id : c1", True),  # older spacing
    ("items.update", "items/update", "items", {"item_id": "i1"},
     "Another item exists with provided item_id : i1", False),
    ("profiles.update", "profiles/update", "profiles", {"profile_id": "p1"},
     "No profile exists with provided profile_id", False),
    ("items.delete", "items/delete", "deleted_items", "i1", "No item exists with provided item_id : i1", False),
])
def test_already_exists_only_for_the_wordings_octy_sends_on_create(hook, requests_mock, operation, path,
                                                                    accepted_key, record, message, exists):
    """*/data/repositories/implementation/*_repository.py at f514fe2: the duplicate wordings; "No ...
    exists with provided ..." is a refusal, and an update's "Another ... exists" is a conflict."""
    key = {"profiles.create": "customer_id", "items.create": "item_id", "templates.create": "friendly_name",
           "event_types.create": "event_type", "items.update": "item_id", "profiles.update": "profile_id"}
    entry = {key[operation]: record[key[operation]]} if isinstance(record, dict) else {"item_id": record}
    rejected = "failed_to_" + operation.split(".")[1]
    requests_mock.post(f"{API}/v1/retention/{path}", json={
        "request_meta": {"request_status": "Success", "message": "ok"}, accepted_key: [],
        rejected: [{**entry, "error_message": message}]})
    result = hook._run(operation, [record])
    assert result.failed == 1 and result.failures[0].error_message == message
    assert result.failures[0].already_exists is exists


# -- issue 22: endpoints from octy-services-wasm@f514fe2 -------------------------------------------------

def test_recommendations_keep_model_meta_data(hook, requests_mock):
    """recommendation/api/routers/dto/recommendation.py: ``model_meta_data`` beside the entries."""
    meta = {"training_job_id": "tj1", "model_accuracy_score": 0.9, "recommender_event_type": "charged",
            "model_created_at": "2026-01-01"}
    requests_mock.post(f"{API}/v1/retention/recommendations",
                       json={"recommendations": [{"profile_id": "p1", "recommendations": []}], "model_meta_data": meta})
    assert hook.get_recommendations(["p1"]) == [{"profile_id": "p1", "recommendations": [], "model_meta_data": meta}]


def test_generate_content_splits_by_the_request_model_limits(hook, requests_mock):
    """messaging/api/routers/request_models/messaging.py GenerateContent: ≤ 100 messages per call,
    ≤ 25 data objects per message, each template once per call."""
    requests_mock.post(f"{API}/v1/retention/messaging/content/generate", json=lambda request, context: {
        "generated_messages": [{"template_id": m["template_id"]} for m in sent(request)["messages"]],
        "failed_messages": [], "failed_templates": []})
    messages = [{"template_id": f"t{i}", "data": [{"x": "1"}]} for i in range(101)]
    messages.append({"template_id": "t0", "data": [{"x": str(i)} for i in range(30)]})
    out = hook.generate_content(messages)
    calls = [sent(r)["messages"] for r in requests_mock.request_history]
    assert [len(c) for c in calls] == [100, 2, 1]  # t0 appears 3 times: 3 calls
    assert all(len({m["template_id"] for m in c}) == len(c) for c in calls)
    assert sorted(len(m["data"]) for c in calls for m in c if m["template_id"] == "t0") == [1, 5, 25]
    assert len(out["generated_messages"]) == 103
    with pytest.raises(GtmConfigError, match="message 1 needs a template_id"):
        hook.generate_content([{"data": []}])


def test_checkout_event_and_delete_all(hook, requests_mock):
    """events/api/routers/events.py: checkout_id is a query parameter; 400 'No event found' is None.
    events/services/event_types.py: 400 'No event types deleted!' is an empty result."""
    not_found = {"request_meta": {"request_status": "Failure"}, "error": {
        "code": 400, "reason": "No event found", "errors": [{"error_message": "No event found with provided params"}]}}
    requests_mock.post(f"{API}/v1/retention/events", [{"json": {"event": {"event_type_id": "e1"}}},
                                                      {"status_code": 400, "json": not_found}])
    assert hook.get_checkout_event("chk 1") == {"event_type_id": "e1"}
    assert query(requests_mock.last_request) == {"checkout_id": "chk 1"}
    assert hook.get_checkout_event("chk 2") is None
    none_left = {"request_meta": {"request_status": "Failure"}, "error": {
        "code": 400, "reason": "No event types deleted!", "errors": []}}
    requests_mock.post(f"{API}/v1/retention/events/types/delete/all", [
        {"json": {"deleted_event_types": [{"event_type_id": "x"}], "failed_to_delete": []}},
        {"status_code": 400, "json": none_left}])
    assert hook.delete_all_event_types()["deleted_event_types"] == [{"event_type_id": "x"}]
    assert hook.delete_all_event_types() == {"deleted_event_types": [], "failed_to_delete": []}
