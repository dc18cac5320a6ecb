"""CustomerOS's Flows routes (``/flows/v1``, issue 22) in the sandbox, mixed into
:class:`~airflow_provider_gtm.sandbox.customeros.CustomerOSSandbox`.

Each handler follows its file in customeros/customeros ``packages/server/customer-os-api/handlers/flows/``
(``flow_{create,get,update,delete,change_status}.go``, ``flow_node_{create,get,update,delete}.go``,
``flow_edge_{create,get,update,delete}.go``, ``flow_{agents,listeners,transitions}.go``, ``webhooks.go``,
``common.go``, ``flow_model.go``), registered by ``server/customer_routes.go`` (index id 66456577487).
Errors are ``SendError``'s ``{requestId, status: "error", message}``; successes carry ``BaseResponse``.

What the handlers do, kept here:

- ``:flowId`` is checked with a ``flow_`` prefix added when missing (``common.go``) but a flow is then
  read by the id as sent: an id without the prefix passes the check and answers 404 "flow does not
  exist" on ``GET``. ``:nodeId`` / ``:edgeId`` get their ``node_`` / ``edge_`` prefix the same way.
- A new flow is ``off``, ``visible`` false unless sent, with a trigger node (the listener event named
  by ``triggerOn``, which must be a listener event: else 400 "invalid trigger event"); a second flow
  with the same name is 400 "flow with this name already exists". ``PUT`` writes the sent fields and
  turns the flow ``off`` (``buildFlowEntity`` always sets that status). ``DELETE`` archives: 204.
- ``GET .../edges`` and ``GET .../edges/:edgeId`` both answer the list ``edges`` (``flow_edge_get.go``
  sends every id to the list branch), 404 "no edges exist for this flow" when empty. A new edge must
  join two nodes of the flow whose types the transitions registry links (else 400).
- Reading or deleting a node that does not exist, or creating one without ``event``, dereferences a
  nil pointer in the handler: gin's recovery answers 500 with no body.
- ``GET /hooks`` allocates its result slice at full length and then appends (``webhooks.go``): one hook
  answers ``hook`` = the zero record, several answer ``hooks`` = that many zero records followed by
  the real ones; none answers ``message`` "No active webhooks". ``POST /hooks`` for an integration
  that has a hook replaces it (a new path and secret, as ``CreateIntegrationWebhook`` rotates).

Stand-ins for the registries the sandbox has no copy of (docs/choices.md): :data:`LISTENERS`,
:data:`AGENTS`, :data:`TRANSITIONS` and the webhook integrations :data:`INTEGRATIONS`.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

from airflow_provider_gtm.sandbox.framework import Request, Response, Route, json_response

FLOWS = "/flows/v1"
ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time.Time, which omitempty never omits
#: Listener events (``flow_listeners.go`` records): system, event, name, description.
LISTENERS = (("customeros", "contact_created", "Contact created", "A contact is added"),
             ("calcom", "meeting_booked", "Meeting booked", "A cal.com booking arrives"))
#: Agents (``flow_agents.go`` records): action, name, description.
AGENTS = (("send_email", "Send e-mail", "Sends an e-mail to the contact"),
          ("enrich_contact", "Enrich contact", "Enriches the contact"))
#: Node types and which may follow which (``flow_transitions.go``): the listener node is a flow's trigger.
LISTENER_NODE = "listener"
TRANSITIONS = {LISTENER_NODE: ("agent", "wait"), "agent": ("agent", "wait", "end"), "wait": ("agent", "end"),
               "end": ()}
NODE_EVENTS = {LISTENER_NODE: {e for _, e, _, _ in LISTENERS}, "agent": {a for a, _, _ in AGENTS},
               "wait": {"delay"}, "end": {"end"}}
INTEGRATIONS = ("calcom", "fathom", "grain", "postmark")


class CustomerOSFlowsApis:
    """Handlers and state of the ``/flows/v1`` routes."""

    ctx: Any  # the SandboxContext (CustomerOSSandbox)

    def _request_id(self) -> str:  # provided by CustomerOSSandbox
        raise NotImplementedError

    def _flows_reset(self) -> None:
        self.flows: dict[str, dict[str, Any]] = {}
        self.flow_nodes: dict[str, dict[str, Any]] = {}
        self.flow_edges: dict[str, dict[str, Any]] = {}
        self.flow_hooks: dict[str, dict[str, Any]] = {}  # integration -> {path, secret, createdAt, active}
        self._flows_seq = 0

    def _flows_state(self) -> dict[str, Any]:
        return {"flows": {k: dict(v) for k, v in self.flows.items()},
                "flow_nodes": {k: dict(v) for k, v in self.flow_nodes.items()},
                "flow_edges": {k: dict(v) for k, v in self.flow_edges.items()},
                "flow_hooks": {k: dict(v) for k, v in self.flow_hooks.items()}}

    def flows_routes(self) -> list[Route]:
        f, n, e = f"{FLOWS}/flows", f"{FLOWS}/flows/{{flowId}}/nodes", f"{FLOWS}/flows/{{flowId}}/edges"
        table = (
            ("POST", f, self.create_flow), ("GET", f, self.get_flows),
            ("GET", f"{f}/{{flowId}}", self.get_flows), ("PUT", f"{f}/{{flowId}}", self.update_flow),
            ("DELETE", f"{f}/{{flowId}}", self.delete_flow),
            ("POST", f"{f}/{{flowId}}/on", self.turn_flow_on), ("POST", f"{f}/{{flowId}}/off", self.turn_flow_off),
            ("GET", n, self.get_nodes), ("POST", n, self.create_node), ("GET", f"{n}/{{nodeId}}", self.get_nodes),
            ("PUT", f"{n}/{{nodeId}}", self.update_node), ("DELETE", f"{n}/{{nodeId}}", self.delete_node),
            ("GET", e, self.get_edges), ("POST", e, self.create_edge), ("GET", f"{e}/{{edgeId}}", self.get_edges),
            ("PUT", f"{e}/{{edgeId}}", self.update_edge), ("DELETE", f"{e}/{{edgeId}}", self.delete_edge),
            ("GET", f"{FLOWS}/agents", self.get_agents), ("GET", f"{FLOWS}/listeners", self.get_listeners),
            ("GET", f"{FLOWS}/transitions", self.get_transitions),
            ("GET", f"{FLOWS}/hooks", self.get_hooks), ("POST", f"{FLOWS}/hooks", self.create_hook),
            ("POST", f"{FLOWS}/{{tenantId}}/i/{{integrationId}}/rotate", self.rotate_hook),
            ("DELETE", f"{FLOWS}/{{tenantId}}/i/{{integrationId}}", self.deactivate_hook),
        )

        def locked(handler: Any) -> Any:
            def served(request: Request) -> Response:
                with self.ctx.lock:  # one writer at a time, as the other CustomerOS routes
                    return handler(request)
            return served

        return [Route(method, path, locked(handler)) for method, path, handler in table]

    # --- helpers ----------------------------------------------------------------------------------
    def _flows_fail(self, status: int, message: str) -> Response:
        return json_response({"requestId": "api_" + self._request_id(), "status": "error", "message": message},
                             status)

    def _flows_ok(self, status: int = 200, **body: Any) -> Response:
        return json_response({"requestId": "api_" + self._request_id(), "status": "success", **body}, status)

    @staticmethod
    def _panic() -> Response:
        # A nil pointer dereferenced in the handler: gin's Recovery middleware answers 500, no body.
        return Response(status=500, body=b"", content_type="text/plain")

    @staticmethod
    def _json_object(request: Request) -> dict[str, Any] | None:
        try:
            body = request.json()
        except Exception:  # noqa: BLE001 - anything gin's ShouldBindJSON would refuse
            return None
        return body if isinstance(body, dict) else None

    def _new_id(self, prefix: str) -> str:
        self._flows_seq += 1
        return f"{prefix}{self.ctx.rng('flows', self._flows_seq).getrandbits(48):012x}"

    def _now_iso(self) -> str:
        return dt.datetime.fromtimestamp(self.ctx.clock.now(), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    @staticmethod
    def _prefixed(value: str, prefix: str) -> str:
        return value if value.lower().startswith(prefix) else prefix + value

    def _owned_flow(self, request: Request) -> tuple[str, Response | None]:
        """``common.go`` validateFlowBelongsToTenant: the prefixed id, or 404 "unable to locate flow"."""
        flow_id = self._prefixed(request.path_params["flowId"], "flow_")
        if flow_id not in self.flows:
            return flow_id, self._flows_fail(404, "unable to locate flow")
        return flow_id, None

    @staticmethod
    def _flow_out(flow: dict[str, Any], *, with_updated: bool = True) -> dict[str, Any]:
        out = {k: v for k, v in flow.items() if k != "updatedAt" or (with_updated and v)}
        if not out.get("description"):
            out.pop("description", None)
        return out

    @staticmethod
    def _node_out(node: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in node.items() if k != "status" and v is not None}

    @staticmethod
    def _edge_out(edge: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in edge.items() if k != "status" and (v is not None or k == "updatedAt")}
        out["updatedAt"] = edge.get("updatedAt") or ZERO_TIME
        return out

    # --- flows ------------------------------------------------------------------------------------
    def create_flow(self, request: Request) -> Response:
        """flow_create.go CreateFlow."""
        body = self._json_object(request)
        if body is None:
            return self._flows_fail(400, "unable to parse payload")
        trigger = str(body.get("triggerOn") or "")
        if trigger not in NODE_EVENTS[LISTENER_NODE]:
            return self._flows_fail(400, "invalid trigger event")
        name = str(body.get("name") or "")
        if any(f["name"] == name for f in self.flows.values()):
            return self._flows_fail(400, "flow with this name already exists")
        flow_id = self._new_id("flow_")
        now = self._now_iso()
        node_id = self._new_id("node_")
        self.flow_nodes[node_id] = {"id": node_id, "flowId": flow_id, "type": LISTENER_NODE, "event": trigger,
                                    "createdAt": now, "status": "active"}
        visible = body.get("visible")
        self.flows[flow_id] = {"id": flow_id, "name": name, "description": str(body.get("description") or ""),
                               "triggerOn": trigger, "triggerNodeId": node_id,
                               "visible": bool(visible) if visible is not None else False, "status": "off",
                               "createdAt": now, "updatedAt": None}
        return self._flows_ok(flow=self._flow_out(self.flows[flow_id], with_updated=False))

    def get_flows(self, request: Request) -> Response:
        """flow_get.go GetFlows: every flow that is not archived, or one by its id as sent."""
        if "flowId" not in request.path_params:
            return self._flows_ok(flows=[self._flow_out(f) for f in self.flows.values() if f["status"] != "archived"])
        _, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        flow = self.flows.get(request.path_params["flowId"])
        if flow is None:
            return self._flows_fail(404, "flow does not exist")
        return self._flows_ok(flow=self._flow_out(flow))

    def update_flow(self, request: Request) -> Response:
        """flow_update.go UpdateFlow: the sent fields; the status is set to off."""
        flow_id, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        body = self._json_object(request)
        if body is None:
            return self._flows_fail(400, "unable to parse payload")
        trigger = str(body.get("triggerOn") or "")
        if trigger and trigger not in NODE_EVENTS[LISTENER_NODE]:
            return self._flows_fail(400, "invalid trigger event")
        flow = self.flows[flow_id]
        for key in ("name", "description", "triggerOn", "triggerNodeId"):
            if body.get(key):
                flow[key] = str(body[key])
        flow["visible"] = bool(body.get("visible") or False)
        flow["status"] = "off"
        flow["updatedAt"] = self._now_iso()
        return self._flows_ok(flow=self._flow_out(flow, with_updated=False))

    def delete_flow(self, request: Request) -> Response:
        """flow_delete.go DeleteFlow: archived, 204 (no body is written with a 204)."""
        flow_id, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        self.flows[flow_id]["status"] = "archived"
        return Response(status=204, body=b"", content_type="application/json")

    def _set_status(self, request: Request, status: str) -> Response:
        flow_id, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        self.flows[flow_id]["status"] = status
        return self._flows_ok(flow=self._flow_out(self.flows[flow_id], with_updated=False))

    def turn_flow_on(self, request: Request) -> Response:
        """flow_change_status.go TurnOn."""
        return self._set_status(request, "on")

    def turn_flow_off(self, request: Request) -> Response:
        """flow_change_status.go TurnOff."""
        return self._set_status(request, "off")

    # --- nodes ------------------------------------------------------------------------------------
    def _active_node(self, flow_id: str, node_id: str) -> dict[str, Any] | None:
        node = self.flow_nodes.get(node_id)
        return node if node and node["flowId"] == flow_id and node["status"] == "active" else None

    def get_nodes(self, request: Request) -> Response:
        """flow_node_get.go GetFlowNodes: the flow's active nodes, or one (missing: nil dereference)."""
        flow_id, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        if "nodeId" not in request.path_params:
            return self._flows_ok(nodes=[self._node_out(n) for n in self.flow_nodes.values()
                                         if n["flowId"] == flow_id and n["status"] == "active"])
        node = self._active_node(flow_id, self._prefixed(request.path_params["nodeId"], "node_"))
        return self._flows_ok(node=self._node_out(node)) if node else self._panic()

    def create_node(self, request: Request) -> Response:
        """flow_node_create.go CreateFlowNode: a known type; ``event`` required (nil dereference) and valid."""
        flow_id, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        body = self._json_object(request)
        if body is None or body.get("type") not in NODE_EVENTS:
            return self._flows_fail(400, "unable to parse payload")
        if body.get("event") is None:
            return self._panic()
        if body["event"] not in NODE_EVENTS[body["type"]]:
            return self._flows_fail(400, "unable to parse payload")
        node_id = self._new_id("node_")
        self.flow_nodes[node_id] = {"id": node_id, "flowId": flow_id, "type": body["type"], "event": body["event"],
                                    "createdAt": self._now_iso(), "eventData": body.get("eventData"),
                                    "status": "active"}
        return self._flows_ok(node=self._node_out(self.flow_nodes[node_id]))

    def update_node(self, request: Request) -> Response:
        """flow_node_update.go UpdateFlowNode: an active node of the flow, else 404 "node not found"."""
        flow_id, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        body = self._json_object(request)
        if body is None:
            return self._flows_fail(400, "unable to parse requst")
        node = self._active_node(flow_id, self._prefixed(request.path_params["nodeId"], "node_"))
        if node is None:
            return self._flows_fail(404, "node not found")
        node.update(type=body.get("type") or node["type"], event=body.get("event"), updatedAt=self._now_iso())
        if body.get("eventData") is not None:
            node["eventData"] = body["eventData"]
        return self._flows_ok(node=self._node_out(node))

    def delete_node(self, request: Request) -> Response:
        """flow_node_delete.go DeleteFlowNode: archived, 204; a node the flow does not have fails (500)."""
        flow_id, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        node = self._active_node(flow_id, self._prefixed(request.path_params["nodeId"], "node_"))
        if node is None:
            return self._panic()
        node["status"] = "archived"
        return Response(status=204, body=b"", content_type="application/json")

    # --- edges ------------------------------------------------------------------------------------
    def get_edges(self, request: Request) -> Response:
        """flow_edge_get.go GetFlowEdges: always the list, narrowed to ``:edgeId`` when one is given."""
        flow_id, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        wanted = request.path_params.get("edgeId")
        edge_id = self._prefixed(wanted, "edge_") if wanted else None
        edges = [self._edge_out(e) for e in self.flow_edges.values() if e["flowId"] == flow_id
                 and e["status"] == "active" and (edge_id is None or e["id"] == edge_id)]
        if not edges:
            return self._flows_fail(404, "no edges exist for this flow")
        return self._flows_ok(edges=edges)

    def create_edge(self, request: Request) -> Response:
        """flow_edge_create.go CreateFlowEdge: ValidateTransition between the two nodes' types."""
        flow_id, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        body = self._json_object(request)
        source = self._active_node(flow_id, str((body or {}).get("fromNodeId") or ""))
        target = self._active_node(flow_id, str((body or {}).get("toNodeId") or ""))
        if body is None or source is None or target is None or target["type"] not in TRANSITIONS[source["type"]]:
            return self._flows_fail(400, "unable to parse payload")
        edge_id = self._new_id("edge_")
        self.flow_edges[edge_id] = {"id": edge_id, "flowId": flow_id, "fromNodeId": source["id"],
                                    "toNodeId": target["id"], "condition": body.get("condition"),
                                    "createdAt": self._now_iso(), "updatedAt": None, "data": body.get("data"),
                                    "status": "active"}
        return self._flows_ok(edge=self._edge_out(self.flow_edges[edge_id]))

    def update_edge(self, request: Request) -> Response:
        """flow_edge_update.go UpdateFlowEdge: 404 "edge not found"; from, to, condition and data as sent."""
        flow_id, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        body = self._json_object(request)
        if body is None:
            return self._flows_fail(400, "unable to parse payload")
        edge = self.flow_edges.get(self._prefixed(request.path_params["edgeId"], "edge_"))
        if edge is None or edge["flowId"] != flow_id or edge["status"] != "active":
            return self._flows_fail(404, "edge not found")
        edge.update(fromNodeId=str(body.get("fromNodeId") or ""), toNodeId=str(body.get("toNodeId") or ""),
                    condition=body.get("condition"), updatedAt=self._now_iso())
        if body.get("data") is not None:
            edge["data"] = body["data"]
        return self._flows_ok(edge=self._edge_out(edge))

    def delete_edge(self, request: Request) -> Response:
        """flow_edge_delete.go DeleteFlowEdge: archived, 204; an edge the flow does not have fails (500)."""
        flow_id, refusal = self._owned_flow(request)
        if refusal:
            return refusal
        edge = self.flow_edges.get(self._prefixed(request.path_params["edgeId"], "edge_"))
        if edge is None or edge["flowId"] != flow_id or edge["status"] != "active":
            return self._panic()
        edge["status"] = "archived"
        return Response(status=204, body=b"", content_type="application/json")

    # --- registries -------------------------------------------------------------------------------
    def _one_or_many(self, single: str, many: str, records: list[dict[str, Any]]) -> Response:
        # flow_agents.go, flow_listeners.go, flow_transitions.go: exactly one record is sent unwrapped.
        return self._flows_ok(**({single: records[0]} if len(records) == 1 else {many: records}))

    def get_agents(self, request: Request) -> Response:
        """flow_agents.go GetAgents: ``actions`` (``action`` when there is one)."""
        return self._one_or_many("action", "actions", [{"action": a, "name": n, "description": d}
                                                        for a, n, d in AGENTS])

    def get_listeners(self, request: Request) -> Response:
        """flow_listeners.go GetListeners: ``events`` (``event`` when there is one)."""
        return self._one_or_many("event", "events", [{"system": s, "event": e, "name": n, "description": d}
                                                      for s, e, n, d in LISTENERS])

    def get_transitions(self, request: Request) -> Response:
        """flow_transitions.go GetTransitions (``?fromNode=``): ``transitions`` or one ``transition``."""
        wanted = request.arg("fromNode") or ""
        records = [{"step": step, "type": step,
                    "availableNextSteps": [{"step": t, "type": t} for t in nexts]}
                   for step, nexts in TRANSITIONS.items() if not wanted or step == wanted]
        return self._one_or_many("transition", "transitions", records)

    # --- webhooks ---------------------------------------------------------------------------------
    def _hook_url(self, request: Request, path: str) -> str:
        host = request.header("Host") or "127.0.0.1"
        return f"http://{host}/customeros{FLOWS}/{path}"

    def _issue_hook(self, request: Request, integration: str) -> Response:
        tenant = "sandbox"
        path = f"{tenant}/i/{zlib.crc32(self._new_id('').encode()):08x}{self._flows_seq:04d}"
        secret = self._new_id("whsec_")
        self.flow_hooks[integration] = {"path": path, "secret": secret, "createdAt": self._now_iso(), "active": True}
        return self._flows_ok(201, hook={"url": self._hook_url(request, path), "integration": integration,
                                         "secret": secret})

    def get_hooks(self, request: Request) -> Response:
        """webhooks.go GetActiveWebhooks, with its slice allocated at full length before appending."""
        active = [(k, h) for k, h in self.flow_hooks.items() if h["active"]]
        if not active:
            return self._flows_ok(message="No active webhooks")
        zero = {"url": "", "integration": "", "createdAt": ZERO_TIME, "active": False}
        records = [dict(zero) for _ in active] + [
            {"url": self._hook_url(request, h["path"]), "integration": k, "createdAt": h["createdAt"],
             "active": True} for k, h in active]
        return self._flows_ok(**({"hook": records[0]} if len(active) == 1 else {"hooks": records}))

    def create_hook(self, request: Request) -> Response:
        """webhooks.go CreateWebhook: 201 ``hook`` {url, integration, secret}."""
        body = self._json_object(request)
        if body is None:
            return self._flows_fail(400, "Missing parameter: integration")
        integration = str(body.get("integration") or "").lower()
        if integration not in INTEGRATIONS:
            return self._flows_fail(400, "please provide a valid integration value")
        return self._issue_hook(request, integration)

    def _hook_at(self, request: Request) -> tuple[str | None, Response | None]:
        if request.path_params["tenantId"] != "sandbox":
            return None, self._flows_fail(401, "Unauthorized")
        path = f"{request.path_params['tenantId']}/i/{request.path_params['integrationId']}"
        for integration, hook in self.flow_hooks.items():
            if hook["path"] == path and hook["active"]:
                return integration, None
        return None, None

    def rotate_hook(self, request: Request) -> Response:
        """webhooks.go RotateWebhook: a new path and secret (201); an unknown path is 404."""
        integration, refusal = self._hook_at(request)
        if refusal:
            return refusal
        if integration is None:
            return self._flows_fail(404, "Unable to identify webhook")
        return self._issue_hook(request, integration)

    def deactivate_hook(self, request: Request) -> Response:
        """webhooks.go DeactivateWebhook: 200 ``message``; a path with no hook fails in the service (500)."""
        integration, refusal = self._hook_at(request)
        if refusal:
            return refusal
        if integration is None:
            return self._flows_fail(500, "Internal server error")
        self.flow_hooks[integration]["active"] = False
        return self._flows_ok(message="Webhook successfully deactivated")
