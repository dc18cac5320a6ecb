"""Contract tests of the CustomerOS sandbox's Flows routes (``/flows/v1``, issue 22), driven with plain
``requests``.

Vendor files (customeros/customeros, ``packages/server/customer-os-api/``): ``server/customer_routes.go``
at aa4e0bd52ed6 (index id 66456577487, registerFlowRoutes) and ``handlers/flows/``: ``common.go``,
``flow_model.go``, ``flow_create.go``, ``flow_delete.go``, ``flow_agents.go``, ``flow_listeners.go``,
``flow_transitions.go``, ``flow_node_{create,get,update}.go``, ``flow_edge_{create,get,delete}.go`` at
383b4a33b619; ``flow_get.go``, ``flow_update.go``, ``flow_change_status.go``, ``flow_node_delete.go``,
``flow_edge_update.go``, ``webhooks.go`` at a5482e1fa547.
"""

from __future__ import annotations

F = "/flows/v1"


def _error(resp, status, message):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["status"] == "error" and body["message"] == message and body["requestId"].startswith("api_")


def _flow(cos, name="Onboarding"):
    answer = cos("POST", f"{F}/flows", json={"name": name, "triggerOn": "contact_created", "description": "d"})
    assert answer.status_code == 200, answer.text
    return answer.json()["flow"]


def test_flow_create_read_update_switch_and_archive(cos):
    """flow_create.go (status off, visible false, a trigger node; 400 invalid trigger / same name),
    flow_get.go (the flow_ prefix added to check, the id as sent to read), flow_update.go (status off),
    flow_change_status.go, flow_delete.go (204, archived)."""
    flow = _flow(cos)
    assert flow["id"].startswith("flow_") and flow["status"] == "off" and flow["visible"] is False
    assert flow["triggerOn"] == "contact_created" and flow["triggerNodeId"].startswith("node_")
    assert "updatedAt" not in flow
    _error(cos("POST", f"{F}/flows", json={"name": "Onboarding", "triggerOn": "contact_created"}), 400,
           "flow with this name already exists")
    _error(cos("POST", f"{F}/flows", json={"name": "X", "triggerOn": "nope"}), 400, "invalid trigger event")
    _error(cos("POST", f"{F}/flows", data="x"), 400, "unable to parse payload")
    assert [f["id"] for f in cos("GET", f"{F}/flows").json()["flows"]] == [flow["id"]]
    assert cos("GET", f"{F}/flows/{flow['id']}").json()["flow"]["name"] == "Onboarding"
    _error(cos("GET", f"{F}/flows/{flow['id'][5:]}"), 404, "flow does not exist")
    _error(cos("GET", f"{F}/flows/flow_nope"), 404, "unable to locate flow")
    assert cos("POST", f"{F}/flows/{flow['id']}/on").json()["flow"]["status"] == "on"
    updated = cos("PUT", f"{F}/flows/{flow['id']}", json={"name": "Renamed", "visible": True}).json()["flow"]
    assert (updated["name"], updated["visible"], updated["status"]) == ("Renamed", True, "off")
    assert cos("POST", f"{F}/flows/{flow['id']}/off").json()["flow"]["status"] == "off"
    deleted = cos("DELETE", f"{F}/flows/{flow['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert cos("GET", f"{F}/flows").json()["flows"] == []
    assert cos("GET", f"{F}/flows/{flow['id']}").json()["flow"]["status"] == "archived"


def test_nodes_and_edges(cos):
    """flow_node_*.go (a known type, ``event`` required: nil dereference → gin's 500; 404 node not found
    on update; archived on delete) and flow_edge_*.go (ValidateTransition; the one-edge GET answers the
    list; 404 no edges exist for this flow; edge updatedAt is Go's zero time until updated)."""
    flow = _flow(cos)
    nodes = f"{F}/flows/{flow['id']}/nodes"
    assert [n["id"] for n in cos("GET", nodes).json()["nodes"]] == [flow["triggerNodeId"]]
    agent = cos("POST", nodes, json={"type": "agent", "event": "send_email", "eventData": {"t": 1}}).json()["node"]
    assert agent["flowId"] == flow["id"] and agent["eventData"] == {"t": 1}
    _error(cos("POST", nodes, json={"type": "rocket", "event": "x"}), 400, "unable to parse payload")
    missing_event = cos("POST", nodes, json={"type": "agent"})
    assert missing_event.status_code == 500 and missing_event.content == b""
    assert cos("GET", f"{nodes}/{agent['id'][5:]}").json()["node"]["id"] == agent["id"]
    assert cos("GET", f"{nodes}/node_nope").status_code == 500
    renamed = cos("PUT", f"{nodes}/{agent['id']}", json={"type": "agent", "event": "enrich_contact"}).json()["node"]
    assert renamed["event"] == "enrich_contact" and renamed["updatedAt"]
    _error(cos("PUT", f"{nodes}/node_nope", json={}), 404, "node not found")
    edges = f"{F}/flows/{flow['id']}/edges"
    _error(cos("GET", edges), 404, "no edges exist for this flow")
    edge = cos("POST", edges, json={"fromNodeId": flow["triggerNodeId"], "toNodeId": agent["id"],
                                    "condition": "always"}).json()["edge"]
    assert edge["id"].startswith("edge_") and edge["updatedAt"] == "0001-01-01T00:00:00Z"
    _error(cos("POST", edges, json={"fromNodeId": agent["id"], "toNodeId": flow["triggerNodeId"]}), 400,
           "unable to parse payload")
    assert [e["id"] for e in cos("GET", f"{edges}/{edge['id']}").json()["edges"]] == [edge["id"]]
    assert [e["id"] for e in cos("GET", edges).json()["edges"]] == [edge["id"]]
    moved = cos("PUT", f"{edges}/{edge['id']}", json={"fromNodeId": flow["triggerNodeId"], "toNodeId": agent["id"],
                                                       "condition": "later"}).json()["edge"]
    assert moved["condition"] == "later" and moved["updatedAt"] != "0001-01-01T00:00:00Z"
    _error(cos("PUT", f"{edges}/edge_nope", json={}), 404, "edge not found")
    assert cos("DELETE", f"{edges}/{edge['id']}").status_code == 204
    _error(cos("GET", edges), 404, "no edges exist for this flow")
    assert cos("DELETE", f"{nodes}/{agent['id']}").status_code == 204
    assert [n["id"] for n in cos("GET", nodes).json()["nodes"]] == [flow["triggerNodeId"]]
    _error(cos("GET", f"{F}/flows/flow_nope/nodes"), 404, "unable to locate flow")


def test_registries(cos):
    """flow_agents.go (actions), flow_listeners.go (events), flow_transitions.go (?fromNode; one record
    is sent unwrapped as ``transition``)."""
    actions = cos("GET", f"{F}/agents").json()["actions"]
    assert set(actions[0]) == {"action", "name", "description"}
    events = cos("GET", f"{F}/listeners").json()["events"]
    assert set(events[0]) == {"system", "event", "name", "description"}
    assert len(cos("GET", f"{F}/transitions").json()["transitions"]) > 1
    one = cos("GET", f"{F}/transitions", params={"fromNode": "listener"}).json()["transition"]
    assert one["step"] == "listener" and {s["step"] for s in one["availableNextSteps"]} == {"agent", "wait"}


def test_webhooks_create_list_rotate_deactivate(cos):
    """webhooks.go: 201 hook {url, integration, secret}; GET's zero records before the real ones (one
    hook: only the zero record); rotate 201 new url and secret, 401 for another tenant, 404 unknown;
    deactivate 200 message."""
    assert cos("GET", f"{F}/hooks").json()["message"] == "No active webhooks"
    _error(cos("POST", f"{F}/hooks", data="x"), 400, "Missing parameter: integration")
    _error(cos("POST", f"{F}/hooks", json={"integration": "zoom"}), 400, "please provide a valid integration value")
    created = cos("POST", f"{F}/hooks", json={"integration": "CalCom"})
    assert created.status_code == 201
    hook = created.json()["hook"]
    assert hook["integration"] == "calcom" and hook["secret"] and "/flows/v1/sandbox/i/" in hook["url"]
    assert cos("GET", f"{F}/hooks").json()["hook"] == {"url": "", "integration": "", "active": False,
                                                       "createdAt": "0001-01-01T00:00:00Z"}
    cos("POST", f"{F}/hooks", json={"integration": "grain"})
    listed = cos("GET", f"{F}/hooks").json()["hooks"]
    assert [h["integration"] for h in listed] == ["", "", "calcom", "grain"]
    path = hook["url"].split("/flows/v1", 1)[1]
    rotated = cos("POST", f"{F}{path}/rotate")
    assert rotated.status_code == 201 and rotated.json()["hook"]["url"] != hook["url"]
    assert rotated.json()["hook"]["secret"] != hook["secret"]
    _error(cos("POST", f"{F}{path}/rotate"), 404, "Unable to identify webhook")
    _error(cos("POST", f"{F}/other/i/x/rotate"), 401, "Unauthorized")
    new_path = rotated.json()["hook"]["url"].split("/flows/v1", 1)[1]
    assert cos("DELETE", f"{F}{new_path}").json()["message"] == "Webhook successfully deactivated"
    assert cos("GET", f"{F}/hooks").json()["hook"]["url"] == ""  # grain alone: one zero record
