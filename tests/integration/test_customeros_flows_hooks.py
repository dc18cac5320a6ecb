"""CustomerOSHook's Flows methods (issue 22) against the sandbox over loopback (customeros/customeros
server/customer_routes.go@aa4e0bd52ed6 index id 66456577487 registerFlowRoutes; handlers/flows/*.go)."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.core.errors import GtmConfigError, GtmNotFoundError
from airflow_provider_gtm.hooks.customeros import CustomerOSHook


def test_flow_lifecycle_nodes_edges_and_registries(gtm_sandbox_connections):
    hook = CustomerOSHook()
    trigger = hook.get_flow_listeners()[0]["event"]
    flow = hook.create_flow("Onboarding", trigger, description="first")
    assert flow["status"] == "off" and [f["id"] for f in hook.get_flows()] == [flow["id"]]
    assert hook.get_flow(flow["id"])["description"] == "first"
    assert hook.turn_flow_on(flow["id"])["status"] == "on"
    assert hook.update_flow(flow["id"], name="Renamed")["status"] == "off"
    assert hook.turn_flow_off(flow["id"])["status"] == "off"
    action = hook.get_flow_agents()[0]["action"]
    node = hook.create_flow_node(flow["id"], {"type": "agent", "event": action, "eventData": {"a": 1}})
    assert {n["id"] for n in hook.get_flow_nodes(flow["id"])} == {flow["triggerNodeId"], node["id"]}
    assert hook.get_flow_node(flow["id"], node["id"])["eventData"] == {"a": 1}
    assert hook.update_flow_node(flow["id"], node["id"], {"type": "agent", "event": action})["updatedAt"]
    assert hook.get_flow_edges(flow["id"]) == [] and hook.get_flow_edge(flow["id"], "edge_x") is None
    edge = hook.create_flow_edge(flow["id"], flow["triggerNodeId"], node["id"], condition="always")
    assert hook.get_flow_edge(flow["id"], edge["id"][5:])["id"] == edge["id"]
    assert hook.update_flow_edge(flow["id"], edge["id"], {"fromNodeId": flow["triggerNodeId"],
                                                          "toNodeId": node["id"], "condition": "c"})["condition"] == "c"
    hook.delete_flow_edge(flow["id"], edge["id"])
    hook.delete_flow_node(flow["id"], node["id"])
    assert [n["id"] for n in hook.get_flow_nodes(flow["id"])] == [flow["triggerNodeId"]]
    hook.delete_flow(flow["id"])
    assert hook.get_flows() == []
    with pytest.raises(GtmNotFoundError):
        hook.get_flow("flow_nope")
    transition = hook.get_flow_transitions("listener")
    assert len(transition) == 1 and transition[0]["availableNextSteps"]
    with pytest.raises(GtmConfigError):
        hook.create_flow_node(flow["id"], {"type": "agent"})


def test_flow_webhooks(gtm_sandbox_connections):
    hook = CustomerOSHook()
    assert hook.get_flow_webhooks() == []
    calcom = hook.create_flow_webhook("calcom")
    grain = hook.create_flow_webhook("grain")
    assert {h["integration"] for h in hook.get_flow_webhooks()} == {"calcom", "grain"}
    rotated = hook.rotate_flow_webhook(calcom["url"])
    assert rotated["url"] != calcom["url"] and rotated["secret"] != calcom["secret"]
    tenant, _, integration_id = grain["url"].split("/flows/v1/")[1].partition("/i/")
    assert hook.deactivate_flow_webhook(tenant_id=tenant, integration_id=integration_id) == (
        "Webhook successfully deactivated")
    assert hook.get_flow_webhooks() == []  # one left: webhooks.go answers it as a zero record
    with pytest.raises(GtmConfigError):
        hook.rotate_flow_webhook("https://x.example/nothing")
