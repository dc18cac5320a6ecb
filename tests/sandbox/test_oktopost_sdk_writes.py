"""Contract tests of the Oktopost sandbox for the SDK's other writes (issue 22, third slice).

Each probe follows Oktopost/oktopost-typescript-sdk ``src/resources/**`` (the method, the path, where
the parameters go: form, path or query string) and ``src/types/*.ts`` (the ``Create*Params`` /
``Update*Params`` fields and what the call answers). The catalogue row's ``source`` names the file;
a failing probe prints it.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_gtm.apis.oktopost import OKTOPOST
from airflow_provider_gtm.sandbox import SANDBOX_CREDENTIALS

CREDS = SANDBOX_CREDENTIALS["oktopost"]
AUTH = (CREDS["login"], CREDS["password"])
CREDENTIAL = f"003-{CREDS['login']}-1"

#: Operation → (record, the answer field the SDK returns; ``Result`` for ``BaseApiResponse``). The
#: record is placed as the hook places it: ``id`` in the path, ``Operation.query`` in the query string.
PROBES: dict[str, tuple[dict[str, Any], str]] = {
    "users.create": ({"firstName": "Ada", "lastName": "L", "email": "ada@example.com", "password": "pw",
                      "role": "publisher", "timezone": "UTC"}, "User"),
    "users.update": ({"id": "00As00000000001", "firstName": "Grace"}, "User"),
    "users.delete": ({"id": "00As00000000002"}, "Result"),
    "teams.create": ({"name": "EMEA"}, "Team"),
    "teams.update": ({"id": "teas00000000001", "name": "APAC"}, "Team"),
    "teams.delete": ({"id": "teas00000000002"}, "Result"),
    "cnames.create": ({"cname": "go.example.com"}, "Cname"),
    "cnames.update": ({"id": "cnas00000000001", "cname": "l.example.com"}, "Cname"),
    "cnames.delete": ({"id": "cnas00000000002"}, "Result"),
    "tags.create": ({"tag": "launch"}, "Tag"),
    "tags.update": ({"id": "tags00000000001", "tag": "renamed"}, "Tag"),
    "tags.delete": ({"id": "tags00000000002"}, "Result"),
    "media.create": ({"resource": "upls00000000001"}, "Media"),
    "media.delete": ({"id": "026s00000000002"}, "Result"),
    "uploads.create": ({"source": "https://example.com/a.png", "name": "a.png"}, "Upload"),
    "stories.create": ({"title": "T", "description": "D", "campaignId": "002s00000000001"}, "Result"),
    "stories.update": ({"id": "stys00000000001", "title": "T2"}, "Result"),
    "stories.delete": ({"id": "stys00000000002"}, "Result"),
    "topics.create": ({"boardId": "brds00000000000", "name": "News"}, "Topic"),
    "topics.update": ({"id": "tpcs00000000001", "name": "Events"}, "Topic"),
    "topics.delete": ({"id": "tpcs00000000002"}, "Result"),
    "webhooks.create": ({"event": "post.published", "name": "W", "url": "https://h.example.com"}, "Webhook"),
    "webhooks.update": ({"id": "whks00000000001", "isEnabled": "0"}, "Webhook"),
    "webhooks.delete": ({"id": "whks00000000002"}, "Result"),
    "stream_tabs.create": ({"name": "Listening"}, "StreamTab"),
    "stream_tabs.update": ({"id": "stbs00000000001", "name": "Brand"}, "StreamTab"),
    "stream_tabs.delete": ({"id": "stbs00000000002"}, "Result"),
    "streams.create": ({"streamTabId": "stbs00000000001", "network": "LinkedIn", "credentialId": CREDENTIAL,
                        "type": "keyword", "keyword": "airflow"}, "Stream"),
    "streams.update": ({"id": "str000000000001", "position": "2"}, "Stream"),
    "streams.delete": ({"id": "str000000000001"}, "Result"),
    "links.update": ({"id": "lnks00000000001", "longUrl": "https://example.com/new"}, "Items"),
    "lead_links.update": ({"integrationId": "int1", "linkedRecordId": "r1", "newLinkedRecordId": "r2"}, "Result"),
    "lead_activities.delete": ({"id": "lacs00000000001", "leadId": "leas00000000001"}, "Result"),
    "team_entities.create": ({"id": "002s00000000001", "teamIds": "teas00000000003"}, "Result"),
    "team_entities.delete": ({"id": "002s00000000001", "teamIds": "teas00000000003"}, "Result"),
    "workflow_items.create": ({"entityId": "005s00000000001", "workflowId": "wfl000000000001"}, "Data"),
    "workflow_items.update": ({"id": "wfi000000000001", "isApprove": "1", "note": "ok"}, "Data"),
    "workflow_items.delete": ({"id": "wfi000000000001"}, "Result"),
    "workflow_item_notes.create": ({"id": "wfi000000000001", "note": "Looks good"}, "Result"),
}


@pytest.fixture
def api(gtm_sandbox):
    base = gtm_sandbox.base_url("oktopost") + "/v2"

    def call(method, path, auth=AUTH, **kwargs):
        return requests.request(method, base + path, auth=auth, timeout=10, **kwargs)

    return call


def _send(api, operation: str, record: dict[str, Any]) -> requests.Response:
    row = OKTOPOST.operations[operation]
    fields = dict(record)
    path = row.path.replace("{id}", fields.pop("id")) if "{id}" in row.path else row.path
    query = {name: fields.pop(name) for name in row.query if name in fields}
    return api(row.method, path, params=query or None, data=fields or None)


def test_every_new_sdk_write_has_a_probe():
    """Every write of the catalogue beyond the first slices is probed below (none forgotten)."""
    earlier = {"campaigns", "messages", "posts", "board_messages", "advocate_invites", "credentials", "advocates",
               "leads"}
    assert {n for n in OKTOPOST.operations if n.rpartition(".")[0] not in earlier} == set(PROBES)


@pytest.mark.parametrize("operation", sorted(PROBES))
def test_every_sdk_write_is_served_as_the_sdk_sends_it(gtm_sandbox, api, operation):
    """Oktopost/oktopost-typescript-sdk src/resources/** (the row's source): each create/update/delete/
    add/remove/replace/approve sent as the SDK sends it answers what the SDK returns, and is logged once."""
    row = OKTOPOST.operations[operation]
    record, key = PROBES[operation]
    answer = _send(api, operation, record)
    assert answer.status_code == 200, (row.source, answer.text)
    body = answer.json()
    assert body["Result"] is True and key in body, row.source
    if key == "Items":  # links.update answers a page; the SDK returns Items[0]
        assert body["Items"][0]["LongUrl"] == record["longUrl"]
    changes = gtm_sandbox.state()["apis"]["oktopost"]["changes"]
    assert [c["operation"] for c in changes] == [operation], row.source


@pytest.mark.parametrize("operation", sorted(o for o in PROBES if o.endswith((".update", ".delete"))
                                             and "{id}" in OKTOPOST.operations[o].path
                                             and not o.startswith("team_entities")))
def test_a_change_of_an_unknown_object_is_a_404(api, operation):
    """src/resources/** ``update(id, ...)`` / ``delete(id)`` of an id Oktopost does not have: 404."""
    record = {**PROBES[operation][0], "id": "zzzs99999999999"}
    assert _send(api, operation, record).status_code == 404, OKTOPOST.operations[operation].source


def test_creates_refuse_a_missing_required_field(api):
    """src/types/*.ts Create*Params: every required field, e.g. CreateTopicParams ``boardId, name``."""
    for operation in ("users.create", "topics.create", "webhooks.create", "streams.create", "workflow_items.create"):
        record = dict(PROBES[operation][0])
        record.pop(OKTOPOST.operations[operation].required[-1])
        assert _send(api, operation, record).status_code == 400, operation


def test_user_role_is_one_of_the_sdk_roles(api):
    """src/types/common.ts UserRole: admin, publisher, contributor or read."""
    record = {**PROBES["users.create"][0], "role": "owner"}
    assert _send(api, "users.create", record).status_code == 400


def test_deleted_and_updated_objects_read_back(api):
    """account/users.ts, publishing/tags.ts, events/webhooks.ts: a deleted object's ``get`` is a 404; an
    updated one reads back changed; a created one is readable by its id."""
    assert api("DELETE", "/tag/tags00000000004").json() == {"Result": True}
    assert api("GET", "/tag/tags00000000004").status_code == 404
    assert api("DELETE", "/tag/tags00000000004").status_code == 404
    api("POST", "/user/00As00000000003", data={"timezone": "Europe/Paris"})
    assert api("GET", "/user/00As00000000003").json()["User"]["Timezone"] == "Europe/Paris"
    created = api("POST", "/webhook", data=PROBES["webhooks.create"][0]).json()["Webhook"]
    assert api("GET", f"/webhook/{created['Id']}").json()["Webhook"]["Url"] == "https://h.example.com"


def test_webhook_update_is_served_as_post_and_put(api):
    """src/resources/events/webhooks.ts ``update``: a POST at the newest commit (fbda98d, a revert) and
    a PUT at ec43e8a; the sandbox accepts both (docs/choices.md)."""
    assert api("POST", "/webhook/whks00000000001", data={"name": "A"}).json()["Webhook"]["Name"] == "A"
    assert api("PUT", "/webhook/whks00000000001", data={"name": "B"}).json()["Webhook"]["Name"] == "B"


def test_lead_activity_delete_needs_the_lead_in_the_query(api):
    """src/resources/leads/lead-activities.ts ``delete(id, leadId)``: ``leadId`` in the query string."""
    assert api("DELETE", "/lead-activity/lacs00000000002").status_code == 400
    assert api("DELETE", "/lead-activity/lacs00000000002", params={"leadId": "leas00000000009"}).status_code == 404
    assert api("DELETE", "/lead-activity/lacs00000000002", params={"leadId": "leas00000000002"}).status_code == 200


def test_team_entity_add_and_remove(api):
    """src/resources/account/team-entities.ts: ``add`` POSTs ``teamIds``, ``remove`` DELETEs with the same
    form; ``list`` (GET /team-entity/{id}) shows the team while it is added."""
    api("POST", "/team-entity/002s00000000001", data={"teamIds": "teas00000000005"})
    assert "teas00000000005" in [t["Id"] for t in api("GET", "/team-entity/002s00000000001").json()["Items"]]
    api("DELETE", "/team-entity/002s00000000001", data={"teamIds": "teas00000000005"})
    assert "teas00000000005" not in [t["Id"] for t in api("GET", "/team-entity/002s00000000001").json()["Items"]]
    assert api("POST", "/team-entity/002s00000000001", data={}).status_code == 400


def test_workflow_item_approve_reject_and_notes(api):
    """src/resources/approvals/workflow-items.ts: approve/reject POST ``isApprove`` 1/0 answering ``Data``;
    workflow-item-notes.ts ``create``: a bodiless PUT with ``id`` and ``note`` in the query string."""
    assert api("POST", "/workflow-item/wfi000000000001", data={"isApprove": "0"}).json()["Data"]["Status"] == "rejected"
    assert api("POST", "/workflow-item/wfi000000000001", data={"isApprove": "1"}).json()["Data"]["Status"] == "approved"
    assert api("POST", "/workflow-item/wfi000000000001", data={"isApprove": "2"}).status_code == 400
    assert api("POST", "/workflow-item/wfi000000000001", data={"note": "x"}).status_code == 400  # isApprove is set
    assert api("PUT", "/workflow-item-note", params={"id": "wfi000000000001", "note": "n1"}).json() == {"Result": True}
    assert api("PUT", "/workflow-item-note", params={"id": "wfi000000000001"}).status_code == 400
    assert api("PUT", "/workflow-item-note", params={"id": "wfi999999999999", "note": "n"}).status_code == 404
    notes = api("GET", "/workflow-item-note", params={"id": "wfi000000000001"}).json()["Notes"]
    assert "n1" in [n["Note"] for n in notes]


def test_notifications_update_answers_the_settings(api):
    """src/resources/account/notifications.ts ``update``: POST /notification with UpdateNotificationParams
    (each 0|1), answering the settings under ``Items``."""
    row = OKTOPOST.calls["notifications_update"]
    body = api(row.method, row.path, data={"EmailDaily": "1", "EmailWeekly": "0"}).json()
    assert body["Items"]["EmailDaily"] is True and body["Items"]["EmailWeekly"] is False, row.source
    assert api("POST", "/notification", data={"EmailDaily": "yes"}).status_code == 400
    assert api("POST", "/notification", data={"Nope": "1"}).status_code == 400
