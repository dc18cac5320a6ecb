"""Contract tests of the Octy sandbox, driven with plain ``requests`` (section 1 of the API reference)."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from airflow_provider_gtm.sandbox import SANDBOX_CREDENTIALS

CREDS = SANDBOX_CREDENTIALS["octy"]
AUTH = (CREDS["login"], CREDS["password"])
R = "/v1/retention"


@pytest.fixture
def octy(gtm_sandbox):
    session = requests.Session()
    session.auth = AUTH
    base = gtm_sandbox.base_url("octy")

    def call(method, path, **kwargs):
        return session.request(method, base + path, timeout=10, **kwargs)

    call.sandbox = gtm_sandbox
    call.base = base
    yield call
    session.close()


def _error(response, status, reason=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["request_meta"]["request_status"] == "Failure"
    assert body["error"]["code"] == status
    if reason is not None:
        assert body["error"]["reason"] == reason
    return body


def _profile(customer_id, **extra):
    return {"customer_id": customer_id, "profile_data": {"age": 30}, "platform_info": {"os": "ios"},
            "has_charged": False, **extra}


# --- auth -------------------------------------------------------------------------------------------
def test_auth_ok_returns_request_meta(octy):
    response = octy("GET", f"{R}/profiles", headers={"cursor": "0"})
    assert response.status_code == 200
    assert response.json()["request_meta"]["request_status"] == "Success"


def test_missing_authorization_is_400_missing_header(gtm_sandbox):
    response = requests.get(gtm_sandbox.base_url("octy") + f"{R}/profiles", headers={"cursor": "0"}, timeout=10)
    body = _error(response, 400, "Missing header")
    assert body["request_meta"]["message"] == "Bad request"


@pytest.mark.parametrize("auth", [(CREDS["login"], "sk_wrong_secret_key_123"),
                                  ("pk_wrong_public_123", CREDS["password"])])
def test_wrong_keys_are_401_authentication_failed(gtm_sandbox, auth):
    response = requests.get(gtm_sandbox.base_url("octy") + f"{R}/profiles", auth=auth, headers={"cursor": "0"},
                            timeout=10)
    body = _error(response, 401, "Authentication failed")
    assert body["request_meta"]["message"] == "Unauthorized"
    assert body["error"]["errors"][0]["error_message"] == "Invalid public_key or secret_key provided"


def test_non_basic_authorization_is_401(gtm_sandbox):
    token = base64.b64encode(f"{CREDS['login']}:{CREDS['password']}".encode()).decode()
    response = requests.get(gtm_sandbox.base_url("octy") + f"{R}/profiles",
                            headers={"Authorization": f"Bearer {token}", "cursor": "0"}, timeout=10)
    _error(response, 401, "Authentication failed")


# --- pagination -------------------------------------------------------------------------------------
def test_cursor_pagination_end_to_end(octy):
    seen, cursor, pages = [], "0", 0
    while True:
        response = octy("GET", f"{R}/profiles", headers={"cursor": cursor})
        if response.status_code == 400:
            body = _error(response, 400, "No customer profiles found")
            assert "pagination cursor exhausted" in body["error"]["errors"][0]["error_message"]
            break
        pages += 1
        meta = response.json()["request_meta"]
        profiles = response.json()["profiles"]
        assert meta["count"] == len(profiles) and meta["total"] == 250
        assert int(response.headers["cursor"]) == int(cursor) + len(profiles)
        seen += [p["profile_id"] for p in profiles]
        cursor = response.headers["cursor"]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 250
    assert seen[0] == "profile_000000000000" and seen[-1] == "profile_000000000249"


def test_page_size_is_100(octy):
    response = octy("GET", f"{R}/items", headers={"cursor": "0"})
    assert response.json()["request_meta"]["count"] == 100
    assert response.headers["cursor"] == "100"


def test_missing_ids_and_cursor_is_400_missing_parameters(octy):
    body = _error(octy("GET", f"{R}/profiles"), 400, "Missing Parameters")
    assert "(-H cursor: str)" in body["error"]["errors"][0]["error_message"]


def test_non_integer_cursor_is_400(octy):
    _error(octy("GET", f"{R}/items", headers={"cursor": "abc"}), 400, "Missing Parameters")


def test_ids_lookup_by_profile_and_customer_id(octy):
    response = octy("GET", f"{R}/profiles", params={"ids": "profile_000000000003,customer_000000000007,nope"})
    assert response.status_code == 200
    ids = [p["profile_id"] for p in response.json()["profiles"]]
    assert ids == ["profile_000000000003", "profile_000000000007"]
    assert response.json()["request_meta"]["count"] == 2


def test_ids_not_found_is_400(octy):
    _error(octy("GET", f"{R}/profiles", params={"ids": "nope1,nope2"}), 400)


def test_more_than_100_ids_is_400(octy):
    ids = ",".join(f"profile_{i:012d}" for i in range(101))
    body = _error(octy("GET", f"{R}/profiles", params={"ids": ids}), 400, "Invalid Parameters")
    assert "maximum number of 100" in body["error"]["errors"][0]["error_message"]


def test_profile_filters(octy):
    response = octy("GET", f"{R}/profiles", params={"churn_prob": "high", "rfm": "200-400"}, headers={"cursor": "0"})
    assert response.status_code == 200
    profiles = response.json()["profiles"]
    assert profiles and all(p["churn_probability"] == "high" and 200 < p["rfm_score"] < 400 for p in profiles)
    assert response.json()["request_meta"]["total"] == len(profiles)
    tagged = octy("GET", f"{R}/profiles", params={"segments": "synthetic_segment_1"}, headers={"cursor": "0"})
    assert all(t["segment_tag"] == "synthetic_segment_1" for p in tagged.json()["profiles"]
               for t in p["segment_tags"])
    _error(octy("GET", f"{R}/profiles", params={"rfm": "abc"}, headers={"cursor": "0"}), 400,
           "Invalid query string argument")


def test_repeat_cursor_fault(octy):
    octy.sandbox.set_faults([{"api": "octy", "path": f"{R}/segments", "kind": "repeat_cursor"}])
    response = octy("GET", f"{R}/segments", headers={"cursor": "100"})
    assert response.status_code == 200 and response.headers["cursor"] == "100"


@pytest.mark.parametrize("path,key,first", [
    ("/items", "items", "item_000000000000"),
    ("/events/types", "event_types", "custom_event_type_000000000000"),
    ("/segments", "segments", "segment_000000000000"),
    ("/messaging/templates", "templates", "template_000000000000"),
])
def test_every_list_pages(octy, path, key, first):
    response = octy("GET", R + path, headers={"cursor": "0"})
    assert response.status_code == 200
    assert response.json()[key][0][f"{key[:-1]}_id"] == first
    _error(octy("GET", R + path, headers={"cursor": "250"}), 400)


# --- profiles ---------------------------------------------------------------------------------------
def test_create_profiles_partial_failure(octy):
    response = octy("POST", f"{R}/profiles/create", json={"profiles": [
        _profile("cust_new_1"),
        _profile("bad.id"),
        _profile("customer_000000000005"),
        {"customer_id": "cust_new_2", "profile_data": {}, "platform_info": {"os": "ios"}, "has_charged": True},
        {"profile_data": {"a": 1}, "platform_info": {"b": 2}, "has_charged": True},
    ]})
    assert response.status_code == 201
    body = response.json()
    assert body["request_meta"]["count"] == 1
    assert body["profiles"][0]["customer_id"] == "cust_new_1"
    assert body["profiles"][0]["profile_id"].startswith("profile_")
    failed = {f["customer_id"]: f["error_message"] for f in body["failed_to_create"]}
    assert set(failed) == {"bad.id", "customer_000000000005", "cust_new_2", None}
    assert "Illegal character" in failed["bad.id"]
    # profiles/data/repositories/implementation/profiles_repository.py (f514fe2) wording.
    assert failed["customer_000000000005"] == "Another profile exists with provided customer_id: customer_000000000005"
    assert "at least one single key pair" in failed["cust_new_2"]
    assert "customer_id" in failed[None]
    state = octy.sandbox.state()["apis"]["octy"]
    assert [p["customer_id"] for p in state["profiles"].values()] == ["cust_new_1"]


def test_created_profile_appears_after_synthetic_ones_and_by_id(octy):
    created = octy("POST", f"{R}/profiles/create", json={"profiles": [_profile("cust_tail")]}).json()
    profile_id = created["profiles"][0]["profile_id"]
    last = octy("GET", f"{R}/profiles", headers={"cursor": "200"})
    assert last.json()["request_meta"]["total"] == 251
    assert last.json()["profiles"][-1]["profile_id"] == profile_id
    by_id = octy("GET", f"{R}/profiles", params={"ids": "cust_tail"})
    assert by_id.json()["profiles"][0]["profile_id"] == profile_id


def test_create_profiles_all_failed_is_400_with_errors(octy):
    response = octy("POST", f"{R}/profiles/create", json={"profiles": [_profile("a,b"), _profile("x" * 61)]})
    body = _error(response, 400, "No profiles created!")
    assert [e["customer_id"] for e in body["error"]["errors"]] == ["a,b", "x" * 61]
    assert all(e["error_message"] for e in body["error"]["errors"])


def test_more_than_500_records_is_422(octy):
    response = octy("POST", f"{R}/profiles/create", json={"profiles": [_profile(f"c{i}") for i in range(501)]})
    body = _error(response, 422, "Missing or invalid JSON parameters")
    assert body["request_meta"]["message"] == "Unprocessable Entity"
    assert octy.sandbox.state()["apis"]["octy"]["profiles"] == {}


def test_post_headers_content_type_must_be_exact(octy):
    response = octy("POST", f"{R}/profiles/create", data=b'{"profiles": []}',
                    headers={"Content-Type": "application/json; charset=utf-8"})
    _error(response, 400, "Missing header")


def test_post_headers_content_length_required(octy):
    def chunks():
        yield b'{"profiles": []}'

    response = octy("POST", f"{R}/profiles/delete", data=chunks(), headers={"Content-Type": "application/json"})
    _error(response, 411, "Invalid headers provided")


def test_items_create_does_not_check_post_headers(octy):
    item = {"item_id": "sku_1", "item_category": "shoes", "item_name": "Runner", "item_description": "Fast",
            "item_price": 1999}
    response = octy("POST", f"{R}/items/create", data=json.dumps({"items": [item]}),
                    headers={"Content-Type": "text/plain"})
    assert response.status_code == 201


def test_update_profiles(octy):
    response = octy("POST", f"{R}/profiles/update", json={"profiles": [
        {**_profile("customer_000000000001"), "profile_id": "profile_000000000001", "status": "inactive"},
        {**_profile("cust_x"), "profile_id": "profile_missing", "status": "active"},
        {**_profile("customer_000000000003"), "profile_id": "profile_000000000002", "status": "active"},
        {**_profile("cust_y"), "profile_id": "profile_000000000004", "status": "sleeping"},
    ]})
    assert response.status_code == 201
    body = response.json()
    assert [p["profile_id"] for p in body["profiles"]] == ["profile_000000000001"]
    failed = {f["profile_id"]: f["error_message"] for f in body["failed_to_update"]}
    assert failed["profile_missing"] == "No profile exists with provided profile_id : profile_missing"
    assert "Another profile exists" in failed["profile_000000000002"]
    assert "Invalid status" in failed["profile_000000000004"]
    got = octy("GET", f"{R}/profiles", params={"ids": "profile_000000000001"}).json()["profiles"][0]
    assert got["status"] == "inactive" and got["profile_data"] == {"age": 30}


def test_delete_profiles_and_state(octy):
    response = octy("POST", f"{R}/profiles/delete", json={"profiles": ["profile_000000000000", "profile_nope"]})
    assert response.status_code == 201
    body = response.json()
    assert body["deleted_profiles"] == [{"profile_id": "profile_000000000000", "customer_id": "customer_000000000000"}]
    assert body["failed_to_delete"][0]["profile_id"] == "profile_nope"
    first = octy("GET", f"{R}/profiles", headers={"cursor": "0"}).json()
    assert first["profiles"][0]["profile_id"] == "profile_000000000001"
    assert first["request_meta"]["total"] == 249
    assert octy.sandbox.state()["apis"]["octy"]["deleted"]["profiles"] == ["profile_000000000000"]
    octy.sandbox.reset()
    assert octy("GET", f"{R}/profiles", headers={"cursor": "0"}).json()["request_meta"]["total"] == 250


def test_profiles_metadata(octy):
    response = octy("GET", f"{R}/profiles/metadata", params={"ids": "customer_000000000002,ghost"})
    meta = response.json()["profiles_meta"]
    assert meta[0]["profile"]["profile_exists"] is True and meta[0]["profile"]["profile_id"] == "profile_000000000002"
    assert meta[1]["profile"]["profile_exists"] is False
    assert meta[0]["merged_info"]["was_merged"] is False


# --- events -----------------------------------------------------------------------------------------
def test_create_single_event(octy):
    response = octy("POST", f"{R}/events/create", json={
        "event_type": "charged", "event_properties": {"payment_method": "card", "item_id": "item_000000000001"},
        "profile_id": "profile_000000000001", "created_at": "2024-05-01 10:00:00"})
    assert response.status_code == 201
    body = response.json()
    assert body["event_id"].startswith("event_") and body["created_at"] == "Wed, 01 May 2024 10:00:00 GMT"
    assert body["event_id"] in octy.sandbox.state()["apis"]["octy"]["events"]


def test_create_events_batch_partial_failure(octy):
    events = [
        {"event_type": "custom_event_3", "event_properties": {"page": "/"}, "profile_id": "profile_000000000001"},
        {"event_type": "never_defined", "event_properties": {}, "profile_id": "profile_000000000001"},
        {"event_type": "charged", "event_properties": {}, "profile_id": "profile_000000000001"},
        {"event_type": "churned", "event_properties": {}, "profile_id": "profile_ghost"},
    ]
    response = octy("POST", f"{R}/events/create/batch", json={"events": events})
    assert response.status_code == 201
    body = response.json()
    assert body["created_events"][0]["event_type_id"] == "custom_event_type_000000000003"
    failed = body["failed_to_create"]
    assert [f["event_type"] for f in failed] == ["never_defined", "charged", "churned"]
    assert failed[0]["error_message"] == "Unknown event type supplied with this request."
    assert failed[0]["event_properties"] == {} and failed[0]["profile_id"] == "profile_000000000001"


def test_events_batch_all_failed(octy):
    response = octy("POST", f"{R}/events/create/batch",
                    json={"events": [{"event_type": "nope", "event_properties": {}, "profile_id": "p"}]})
    body = _error(response, 400, "Invalid events data provided. No events were created.")
    assert body["error"]["errors"][0]["event_type"] == "nope"


def test_event_types_create_and_delete(octy):
    response = octy("POST", f"{R}/events/types/create", json={"event_types": [
        {"event_type": "signed_up", "event_properties": ["plan"]},
        {"event_type": "charged", "event_properties": []},
        {"event_type": "has space", "event_properties": []},
        {"event_type": "custom_event_1", "event_properties": []},
    ]})
    assert response.status_code == 201
    body = response.json()
    created = body["event_types"][0]
    assert created["event_type"] == "signed_up" and created["event_type_id"].startswith("custom_event_type_")
    failed = {f["event_type"]: f["error_message"] for f in body["failed_to_create"]}
    assert failed["charged"] == "System event type exists: charged"
    assert "Illegal character" in failed["has space"]
    # events/data/repositories/implementation/event_types_repository.py (f514fe2): duplicate key on insert.
    assert failed["custom_event_1"] == "Conflict: custom_event_1"
    ok = octy("POST", f"{R}/events/create", json={"event_type": "signed_up", "event_properties": {"plan": "pro"},
                                                   "profile_id": "profile_000000000001"})
    assert ok.status_code == 201
    deleted = octy("POST", f"{R}/events/types/delete",
                   json={"event_type_ids": [created["event_type_id"], "custom_event_type_nope"]})
    assert deleted.status_code == 200
    assert deleted.json()["deleted_event_types"] == [{"event_type_id": created["event_type_id"]}]
    assert deleted.json()["failed_to_delete"] == [{"event_type_id": "custom_event_type_nope",
                                                   "error_message": "No match found for deletion"}]


def test_event_types_delete_all(octy):
    octy.sandbox.configure(records=3)
    response = octy("POST", f"{R}/events/types/delete/all")
    assert response.status_code == 200
    assert [d["event_type"] for d in response.json()["deleted_event_types"]] == [
        "custom_event_0", "custom_event_1", "custom_event_2"]
    _error(octy("GET", f"{R}/events/types", headers={"cursor": "0"}), 400)


# --- items ------------------------------------------------------------------------------------------
def _item(item_id, **extra):
    return {"item_id": item_id, "item_category": "shoes", "item_name": "Runner", "item_description": "Fast shoe",
            "item_price": 1999, **extra}


def test_items_create_validation(octy):
    response = octy("POST", f"{R}/items/create", json={"items": [
        _item("sku_1"), _item("item_000000000002"), _item("sku_2", item_description="x" * 41),
        _item("sku_3", item_price="12"), _item("sku'4"),
    ]})
    assert response.status_code == 201
    body = response.json()
    assert [i["item_id"] for i in body["items"]] == ["sku_1"]
    failed = {f["item_id"]: f["error_message"] for f in body["failed_to_create"]}
    assert failed["item_000000000002"] == "Another item exists with provided item_id : item_000000000002"
    assert "item_description" in failed["sku_2"] and "item_price" in failed["sku_3"]
    assert "Illegal character" in failed["sku'4"]


def test_items_update_and_delete(octy):
    response = octy("POST", f"{R}/items/update", json={"items": [
        _item("item_000000000001", status="inactive"), _item("sku_ghost", status="active"),
        _item("item_000000000002", status="gone")]})
    assert response.status_code == 200
    body = response.json()
    assert body["items"][0]["status"] == "inactive"
    assert {f["item_id"] for f in body["failed_to_update"]} == {"sku_ghost", "item_000000000002"}
    dup = octy("POST", f"{R}/items/update", json={"items": [_item("item_000000000001", status="active")] * 2})
    _error(dup, 400)
    deleted = octy("POST", f"{R}/items/delete", json={"items": ["item_000000000001", "sku_ghost"]})
    assert deleted.status_code == 200
    assert deleted.json()["deleted_items"] == [{"item_id": "item_000000000001"}]
    assert deleted.json()["failed_to_delete"][0]["item_id"] == "sku_ghost"
    assert octy.sandbox.state()["apis"]["octy"]["deleted"]["items"] == ["item_000000000001"]


# --- segments, recommendations, churn, templates, configuration --------------------------------------
def test_segments_create_and_delete(octy):
    segment = {"segment_name": "buyers", "segment_type": "past", "segment_sub_type": 3, "segment_timeframe": 30,
               "event_sequence": [{"event_type": "charged", "exp_timeframe": 0, "action_inaction": "action",
                                   "event_properties": None}]}
    response = octy("POST", f"{R}/segments/create", json=segment)
    assert response.status_code == 201
    body = response.json()
    assert body["segment_status"] == "processing" and body["segment_id"].startswith("segment_")
    _error(octy("POST", f"{R}/segments/create", json=segment), 400)  # name taken
    _error(octy("POST", f"{R}/segments/create", json={**segment, "segment_name": "x", "segment_type": "live",
                                                     "segment_sub_type": 3}), 400)
    by_name = octy("GET", f"{R}/segments", params={"ids": "buyers"})
    assert by_name.json()["segments"][0]["segment_id"] == body["segment_id"]
    deleted = octy("POST", f"{R}/segments/delete", json={"segments": [body["segment_id"], "segment_nope"]})
    assert deleted.status_code == 200
    assert deleted.json()["deleted_segments"] == [{"segment_id": body["segment_id"]}]
    assert deleted.json()["failed_to_delete"][0]["segment_id"] == "segment_nope"


def test_recommendations(octy):
    response = octy("POST", f"{R}/recommendations", json={"profile_ids": ["profile_000000000001", "ghost"]})
    assert response.status_code == 200
    recs = response.json()["recommendations"]
    assert len(recs[0]["recommendations"]) == 10 and recs[0]["error"] is None
    assert recs[1]["recommendations"] == [] and recs[1]["error"]
    assert response.json()["model_meta_data"]["recommender_event_type"] == "charged"
    over = octy("POST", f"{R}/recommendations", json={"profile_ids": [f"p{i}" for i in range(101)]})
    _error(over, 422)


def test_churn_report(octy):
    report = octy("GET", f"{R}/churn_prediction/report").json()["churn_prediction_report"]
    assert set(report) == {"training_job_data", "churn_data"}
    assert "current_churn_percentage" in report["churn_data"]


def test_templates_crud(octy):
    template = {"friendly_name": "welcome", "template_type": "email", "title": "Hi", "content": "Hello {name}",
                "default_values": {"name": "there"}, "metadata": {}}
    created = octy("POST", f"{R}/messaging/templates/create",
                   json={"templates": [template, {"friendly_name": "broken"}]})
    assert created.status_code == 201
    template_id = created.json()["templates"][0]["template_id"]
    assert created.json()["failed_to_create"][0]["friendly_name"] == "broken"
    updated = octy("POST", f"{R}/messaging/templates/update",
                   json={"templates": [{"template_id": template_id, "title": "Hello"}]})
    assert updated.json()["templates"][0]["title"] == "Hello"
    deleted = octy("POST", f"{R}/messaging/templates/delete", json={"template_ids": [template_id]})
    assert deleted.json()["deleted_templates"] == [{"template_id": template_id}]


def test_account_and_algorithms_configuration(octy):
    account = {"contact_email_address": "ops@example.com", "contact_name": "Ops", "contact_surname": "Team",
               "webhook_url": "https://hooks.example.com/octy"}
    response = octy("POST", "/v1/configurations/account/set", json=account)
    assert response.status_code == 202
    assert octy("GET", "/v1/configurations/account").json()["account_data"]["webhook_url"] == account["webhook_url"]
    _error(octy("POST", "/v1/configurations/account/set", json={**account, "contact_email_address": "nope"}), 400)
    algo = octy("POST", "/v1/configurations/retention/algorithms/set",
                json={"algorithm_name": "churn", "configurations": {"profile_features": ["age"]}})
    assert algo.status_code == 202
    _error(octy("POST", "/v1/configurations/retention/algorithms/set",
                json={"algorithm_name": "churn", "configurations": {"profile_features": ["charged"]}}), 400)


def test_unknown_route_and_method_use_octy_template(octy):
    _error(octy("GET", f"{R}/nowhere"), 404)
    _error(octy("GET", f"{R}/profiles/create"), 405)


# --- rate limit -------------------------------------------------------------------------------------
def test_rate_limit_429_in_octy_template_without_retry_after(octy):
    octy.sandbox.configure(rate_limits={"octy": {"windows": [[3, 60]]}})
    try:
        statuses = [octy("GET", f"{R}/churn_prediction/report").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = octy("GET", f"{R}/churn_prediction/report")
        body = _error(response, 429)
        assert body["request_meta"]["message"] == "Too many requests"
        assert "Retry-After" not in response.headers
        assert octy.sandbox.state()["rate_limited"]["octy"] == 2
    finally:
        octy.sandbox.configure(rate_limits={"octy": {"windows": [[120, 60]]}})


def test_default_rate_limit_is_120_per_minute(octy):
    assert octy.sandbox.state()["config"]["rate_limits"]["octy"]["windows"] == [[120, 60.0]]
    assert octy.sandbox.state()["config"]["rate_limits"]["octy"]["retry_after"] is False


def test_configure_rejects_unknown_options(octy):
    with pytest.raises(ValueError, match="unknown octy option"):
        octy.sandbox.configure(octy={"pagesize": 5})


def test_page_size_option_changes_the_list_page(octy):
    octy.sandbox.configure(octy={"page_size": 7})
    try:
        response = requests.get(octy.sandbox.base_url("octy") + "/v1/retention/items", auth=AUTH,
                                headers={"cursor": "0"}, timeout=10)
        assert len(response.json()["items"]) == 7 and response.headers["cursor"] == "7"
    finally:
        octy.sandbox.configure(octy={"page_size": 100})


def test_events_batch_validation_422_names_record_and_field(octy):
    """simonbermudez/octy-services-wasm@f514fe2: events/api/routers/request_models/events.py declares
    ``CreateEvent(event_type: str, event_properties: dict, profile_id: str, created_at: Optional[str])``;
    events/api/routers/error_handlers.py ``validation_handler`` answers 422 with pydantic's errors
    (``loc`` = ["body", "events", index, field], ``msg``, ``type``) in ``error.errors``; nothing is created."""
    events = [{"event_type": "custom_event_3", "event_properties": {"page": "/"}, "profile_id": "profile_000000000001"},
              {"event_type": "custom_event_3", "event_properties": "oops", "profile_id": "profile_000000000001"},
              {"event_type": "custom_event_3", "profile_id": "profile_000000000001"}]
    response = octy("POST", f"{R}/events/create/batch", json={"events": events})
    body = _error(response, 422, "Missing or invalid JSON parameters")
    assert body["request_meta"]["message"] == "Unprocessable Entity"
    assert [(e["loc"], e["msg"]) for e in body["error"]["errors"]] == [
        (["body", "events", 1, "event_properties"], "value is not a valid dict"),
        (["body", "events", 2, "event_properties"], "field required")]
    assert octy.sandbox.state()["apis"]["octy"]["events"] == {} or all(
        e["event_type"] != "custom_event_3" for e in octy.sandbox.state()["apis"]["octy"]["events"].values())


def test_refused_event_echoed_whole(octy):
    """events/services/events.py (f514fe2): a refused event is echoed with event_type, event_properties,
    profile_id and error_message; created ones come back with the same three fields (and event_id)."""
    who = "profile_000000000001"
    events = [{"event_type": "custom_event_3", "event_properties": {"page": "/a"}, "profile_id": who},
              {"event_type": "never_defined", "event_properties": {"page": "/b"}, "profile_id": who}]
    body = octy("POST", f"{R}/events/create/batch", json={"events": events}).json()
    assert {k: body["created_events"][0][k] for k in ("event_type", "event_properties", "profile_id")} == events[0]
    refused = {**events[1], "error_message": "Unknown event type supplied with this request."}
    assert body["failed_to_create"] == [refused]


def test_profiles_create_pydantic_validation_version(octy):
    """simonbermudez/octy-services-wasm@f514fe2 profiles/api/routers/request_models/profiles.py: the
    customer_id rule and the no-null-values rule are pydantic validators, so a bad record makes the
    whole request a 422 naming it (error_handlers.py validation_handler); nothing is created."""
    octy.sandbox.configure(octy={"profiles_validation": "pydantic"})
    response = octy("POST", f"{R}/profiles/create", json={"profiles": [
        {"customer_id": "ok_1", "profile_data": {"a": 1}, "platform_info": {"os": "ios"}, "has_charged": False},
        {"customer_id": "bad.id", "profile_data": {"a": 1}, "platform_info": {"os": "ios"}, "has_charged": False},
        {"customer_id": "ok_2", "profile_data": {"a": ""}, "platform_info": {"os": "ios"}, "has_charged": False},
    ]})
    body = _error(response, 422, "Missing or invalid JSON parameters")
    assert [(e["loc"], e["msg"]) for e in body["error"]["errors"]] == [
        (["body", "profiles", 1, "customer_id"], "Illegal character(s) found in provided customer identifier : ['.']"),
        (["body", "profiles", 2, "profile_data"], "Invalid profile_data attribute provided. Null values or empty "
                                                  "strings can not be provided as profile_data values. Invalid key "
                                                  "pair value: (a : )")]
    assert octy.sandbox.state()["apis"]["octy"]["profiles"] == {}


# --- issue 22: endpoints the hooks did not reach ----------------------------------------------------
def test_event_types_delete_all_with_nothing_left_is_400(octy):
    """octy-services-wasm@f514fe2 events/services/event_types.py ``delete_all_event_types``: nothing
    deleted → OctyException(400, 'No event types deleted!'); the DTO's message otherwise
    (events/api/routers/dto/event_types.py) is 'Custom event type(s) deleted.'."""
    octy.sandbox.configure(records=2)
    first = octy("POST", f"{R}/events/types/delete/all")
    assert first.json()["request_meta"]["message"] == "Custom event type(s) deleted."
    _error(octy("POST", f"{R}/events/types/delete/all"), 400, "No event types deleted!")


def test_checkout_event_lookup_by_query_parameter(octy):
    """octy-services-wasm@f514fe2 events/api/routers/events.py: ``POST /v1/retention/events`` with
    ``checkout_id`` as a query parameter answers ``{"event": ...}`` (events_repository.py: the latest
    ``checkout_contact_info_submitted`` event, ``event_type_id`` = its id) or 400 'No event found'."""
    created = octy("POST", f"{R}/events/types/create", json={"event_types": [
        {"event_type": "checkout_contact_info_submitted", "event_properties": ["checkout_id"]}]})
    assert created.status_code == 201, created.text
    profile = octy("GET", f"{R}/profiles", headers={"cursor": "0"}).json()["profiles"][0]["profile_id"]
    for n in (1, 2):
        octy("POST", f"{R}/events/create", json={
            "event_type": "checkout_contact_info_submitted", "profile_id": profile,
            "event_properties": {"checkout_id": "chk_1", "n": str(n)}, "created_at": f"2026-01-0{n} 00:00:00"})
    found = octy("POST", f"{R}/events", params={"checkout_id": "chk_1"})
    assert found.status_code == 200
    event = found.json()["event"]
    assert event["event_properties"]["n"] == "2" and event["event_type_id"]
    _error(octy("POST", f"{R}/events", params={"checkout_id": "chk_none"}), 400, "No event found")


def test_content_generate_fills_placeholders_per_data_object(octy):
    """octy-services-wasm@f514fe2 messaging/api/routers/messaging.py + services/template_engine.py:
    one generated message per data object, ``{{tag}}`` filled (empty → the template's default), a
    missing tag fails that message only; GenerateContentDTO lists generated_messages, failed_messages,
    failed_templates."""
    template = octy("GET", f"{R}/messaging/templates", headers={"cursor": "0"}).json()["templates"][0]
    answer = octy("POST", f"{R}/messaging/content/generate", json={"messages": [
        {"template_id": template["template_id"],
         "data": [{"first_name": "Ada", "item_name": "boots"}, {"first_name": "", "item_name": "hats"},
                  {"first_name": "Bob"}]}]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [m["content"] for m in body["generated_messages"]] == [
        "Hi Ada, we picked boots for you.", "Hi there, we picked hats for you."]
    assert body["generated_messages"][0]["friendly_name"] == template["friendly_name"]
    assert body["failed_messages"] == [{"template_id": template["template_id"], "provided_data": {"first_name": "Bob"},
                                        "error_message": "Missing required data parameter for this message: "
                                                         "'item_name'"}]
    assert body["request_meta"]["count"] == 2 and body["failed_templates"] == []


def test_content_generate_limits_and_unknown_template(octy):
    """request_models/messaging.py GenerateContent (MESSAGE_GEN_LIMIT 100, MAX_MESSAGE_DATA 25, no
    template twice) → 422; template_engine.py indexes a missing template → 500."""
    template_id = octy("GET", f"{R}/messaging/templates", headers={"cursor": "0"}).json()["templates"][0]["template_id"]
    too_many = [{"template_id": f"t{i}", "data": []} for i in range(101)]
    _error(octy("POST", f"{R}/messaging/content/generate", json={"messages": too_many}), 422)
    too_much_data = [{"template_id": template_id, "data": [{}] * 26}]
    _error(octy("POST", f"{R}/messaging/content/generate", json={"messages": too_much_data}), 422)
    twice = [{"template_id": template_id, "data": []}] * 2
    _error(octy("POST", f"{R}/messaging/content/generate", json={"messages": twice}), 422)
    _error(octy("POST", f"{R}/messaging/content/generate",
                json={"messages": [{"template_id": "template_nope", "data": [{}]}]}), 500)


def test_recommendations_carry_model_meta_data(octy):
    """recommendation/api/routers/dto/recommendation.py: ``model_meta_data`` beside the entries."""
    profile = octy("GET", f"{R}/profiles", headers={"cursor": "0"}).json()["profiles"][0]["profile_id"]
    body = octy("POST", f"{R}/recommendations", json={"profile_ids": [profile]}).json()
    assert set(body["model_meta_data"]) == {"training_job_id", "model_accuracy_score", "recommender_event_type",
                                            "model_created_at"}


def test_account_authenticate_answers_the_jwt_in_body_and_header(octy, gtm_sandbox):
    """octy-services-wasm@f514fe2 account/api/routers/auth.py (``GET /v1/account/authenticate``, the
    account service's only route outside /v1/admin and /v1/internal), dto/auth.py (``auth.jwt`` and
    the ``X-AUTH-JWT`` header, 200), services/auth.py (no header → 400, wrong keys → 401)."""
    answer = octy("GET", "/v1/account/authenticate")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["request_meta"]["request_status"] == "Success"
    assert body["auth"]["jwt"] and answer.headers["X-AUTH-JWT"] == body["auth"]["jwt"]
    url = gtm_sandbox.base_url("octy") + "/v1/account/authenticate"
    _error(requests.get(url, timeout=10), 400, "Missing header")
    _error(requests.get(url, auth=(CREDS["login"], "sk_wrong"), timeout=10), 401, "Authentication failed")
