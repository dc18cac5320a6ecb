"""Each per-API fact is written once, in ``airflow_provider_gtm/apis/``, and every reader agrees with it.

The readers: the hooks' class attributes and tables, the operators' choices/defaults/limits/lineage
names and lost-answer rules, the provider info (connection types and form), the connection fields
and the sandbox (connections, prefixes). The sandbox's route tables are written on their own on
purpose (it stands for the vendor: a wrong path in a spec must fail here, not be served back), so
they are compared with the specs instead of read from them.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_gtm import get_provider_info
from airflow_provider_gtm.apis import ApiSpec, by_conn_type, by_name, specs
from airflow_provider_gtm.apis.customeros import CUSTOMEROS
from airflow_provider_gtm.apis.octopus import OCTOPUS
from airflow_provider_gtm.apis.octy import OCTY
from airflow_provider_gtm.apis.oktopost import OKTOPOST

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "airflow_provider_gtm"
SNAPSHOT = Path(__file__).with_name("provider_info_snapshot.json")
SPECS = {spec.name: spec for spec in specs()}
HOOKS = {
    "octy": "airflow_provider_gtm.hooks.octy.OctyHook",
    "customeros": "airflow_provider_gtm.hooks.customeros.CustomerOSHook",
    "octopus": "airflow_provider_gtm.hooks.octopus.OctopusConnectHook",
    "oktopost": "airflow_provider_gtm.hooks.oktopost.OktopostHook",
}


def _load(dotted: str):
    import importlib

    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _operators():
    from airflow_provider_gtm.operators.customeros import CustomerOSBatchOperator, CustomerOSLookupOperator
    from airflow_provider_gtm.operators.octopus import OctopusFetchOperator
    from airflow_provider_gtm.operators.octy import OctyBatchOperator, OctyFetchOperator
    from airflow_provider_gtm.operators.oktopost import (
        OktopostBatchOperator,
        OktopostCreateOperator,
        OktopostFetchOperator,
    )

    return {"octy": [OctyFetchOperator, OctyBatchOperator], "customeros": [CustomerOSLookupOperator,
            CustomerOSBatchOperator], "octopus": [OctopusFetchOperator],
            "oktopost": [OktopostFetchOperator, OktopostCreateOperator, OktopostBatchOperator]}


# -- the specs themselves ------------------------------------------------------------------------------


def test_specs_import_nothing_heavy():
    """Importing every spec loads neither the HTTP stack, tenacity, Airflow nor a hook."""
    code = ("import json, sys\nimport airflow_provider_gtm.apis as a\n"
            "import airflow_provider_gtm.apis.octy, airflow_provider_gtm.apis.customeros\n"
            "import airflow_provider_gtm.apis.octopus, airflow_provider_gtm.apis.oktopost\n"
            "a.specs()\nprint(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    heavy = ("requests", "urllib3", "tenacity", "airflow", "airflow_provider_gtm.hooks",
             "airflow_provider_gtm.core", "airflow_provider_gtm.operators", "airflow_provider_gtm.sandbox")
    assert not sorted(m for m in loaded if m.split(".")[0] in heavy[:4] or m.startswith(heavy[4:]))
    assert {m for m in loaded if m.startswith("airflow_provider_gtm")} == {
        "airflow_provider_gtm", "airflow_provider_gtm.apis", "airflow_provider_gtm.apis.model",
        *(f"airflow_provider_gtm.apis.{n}" for n in SPECS)}


def test_four_specs_with_distinct_names_and_connections():
    assert list(SPECS) == ["octy", "customeros", "octopus", "oktopost"]
    for attribute in ("name", "conn_type", "default_conn_id", "conn_name_attr", "hook_class"):
        assert len({getattr(spec, attribute) for spec in specs()}) == 4, attribute
    for spec in specs():
        assert by_name(spec.name) is spec and by_conn_type(spec.conn_type) is spec
        assert spec.default_host.startswith("https://") and spec.external_doc_url.startswith("https://")
        assert spec.hook_class == HOOKS[spec.name]
    assert dict(OKTOPOST.hosts) == {"us": "https://api.oktopost.com", "eu": "https://eu-api.oktopost.com"}
    with pytest.raises(KeyError):
        by_name("nope")


def test_every_write_the_client_resends_or_settles_cites_its_vendor_source():
    for spec in specs():
        assert spec.source, spec.name
        for name, op in spec.operations.items():
            if op.safe_to_retry or op.resolution:
                assert op.source, f"{spec.name} {name}"
            if op.resolution == "resend":
                assert op.unique_fields, f"{spec.name} {name}"


@pytest.mark.parametrize(("spec", "operation", "records", "expected"), [
    (OCTY, "profiles.create", [{"customer_id": "c1"}, {"customer_id": "c2"}], True),
    (OCTY, "profiles.create", [{"customer_id": "c1"}, {"profile_data": {}}], False),
    (OCTY, "items.create", [{"item_id": "i1"}], True),
    (OCTY, "items.create", ["i1"], False),
    (OCTY, "event_types.create", [{"event_type": "x"}], False),
    (OCTY, "profiles.update", [{"profile_id": "p"}], False),
    (CUSTOMEROS, "organizations.create", [{"website": "a.io"}, {"customId": "1"}, {"linkedinUrl": "l"}], True),
    (CUSTOMEROS, "organizations.create", [{"website": "a.io"}, {"name": "only a name"}], False),
    (CUSTOMEROS, "contacts.bulk_create", [{"email": "a@b.c"}], False),
    (OKTOPOST, "campaigns.create", [{"name": "x"}], True),
    (OKTOPOST, "posts.create", [{}], True),
    (OKTOPOST, "advocate_invites.create", [{"email": "a@b.c"}], True),
    (OKTOPOST, "messages.create", [{"campaignId": "c"}], False),
    (OKTOPOST, "board_messages.create", [{"boardId": "b"}], False),
    # Updates and deletes are looked up by id (GET <path>/{id}) before anything is re-sent.
    (OKTOPOST, "campaigns.update", [{"id": "002x", "name": "n"}], True),
    (OKTOPOST, "messages.delete", [{"id": "005x"}], True),
    (OKTOPOST, "posts.delete", [{"id": "004x"}], True),
])
def test_lost_answer_rules(spec, operation, records, expected):
    """The rules the operators had written in ``can_resolve_unknown``, now read from the specs."""
    assert spec.operations[operation].can_resolve(records) is expected


# -- provider info -------------------------------------------------------------------------------------


def test_provider_info_equals_the_snapshot_taken_before_the_specs():
    """tests/unit/provider_info_snapshot.json is get_provider_info() as it was before apis/ existed."""
    expected = json.loads(SNAPSHOT.read_text())
    info = json.loads(json.dumps(get_provider_info()))
    assert list(info) == list(expected)
    for key in expected:
        assert info[key] == expected[key], key
    for got, want in zip(info["connection-types"], expected["connection-types"], strict=True):
        assert list(got["ui-field-behaviour"]["relabeling"]) == list(want["ui-field-behaviour"]["relabeling"])
        assert list(got["ui-field-behaviour"]["placeholders"]) == list(want["ui-field-behaviour"]["placeholders"])


def test_provider_info_connection_types_are_the_specs():
    info = get_provider_info()
    assert [c["connection-type"] for c in info["connection-types"]] == [s.conn_type for s in specs()]
    for conf, spec in zip(info["connection-types"], specs(), strict=True):
        assert conf["hook-class-name"] == spec.hook_class and conf["hook-name"] == spec.display_name
        behaviour = conf["ui-field-behaviour"]
        assert behaviour["hidden-fields"] == list(spec.hidden_fields)
        assert behaviour["relabeling"] == spec.relabeling()
        assert behaviour["placeholders"] == spec.ui_placeholders()
    assert [i["external-doc-url"] for i in info["integrations"]] == [s.external_doc_url for s in specs()]
    assert [h["python-modules"] for h in info["hooks"]] == [[s.hook_module] for s in specs()]
    assert [o["python-modules"] for o in info["operators"]] == [[s.operators_module] for s in specs()]


def test_connection_fields_read_the_specs():
    from airflow_provider_gtm.connection_fields import DEFAULT_RATE_LIMITS, OCTOPUS_DEFAULT_PATHS, conn_fields

    assert OCTOPUS_DEFAULT_PATHS == dict(OCTOPUS.paths)
    for spec in specs():
        assert DEFAULT_RATE_LIMITS[spec.conn_type] == [list(w) for w in spec.rate_windows]
        rate = conn_fields(spec.conn_type)["rate_limits"]
        assert rate["description"].endswith(spec.rate_limit_note)
        assert rate["schema"]["default"] == [list(w) for w in spec.rate_windows]
    data_center = conn_fields(OKTOPOST.conn_type)["data_center"]["schema"]
    assert data_center["enum"] == list(OKTOPOST.hosts) and data_center["default"] == "us"


# -- hooks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SPECS))
def test_hook_class_attributes_are_the_spec(name):
    spec, hook = SPECS[name], _load(HOOKS[name])
    assert hook.conn_name_attr == spec.conn_name_attr
    assert hook.default_conn_name == spec.default_conn_id
    assert hook.conn_type == spec.conn_type
    assert hook.hook_name == spec.display_name
    assert hook.default_host == spec.default_host
    assert hook.field_labels == dict(spec.field_labels)
    assert hook.profile.name == spec.name
    assert [(w.limit, w.seconds) for w in hook.profile.default_windows] == [(c, float(s)) for c, s in
                                                                           spec.rate_windows]


def test_hook_tables_are_built_from_the_specs():
    from airflow_provider_gtm.hooks import customeros, octopus, octy, oktopost

    assert {n: (r.path, r.records_key) for n, r in octy.RESOURCES.items()} == {
        n: (r.path, r.records_key) for n, r in OCTY.resources.items()}
    for name, op in octy.OPERATIONS.items():
        spec = OCTY.operations[name]
        assert (op.path, op.body_key, op.accepted_key, op.rejected_key, op.identifier, op.safe_to_retry) == (
            spec.path, spec.body_key, spec.accepted_key, spec.rejected_key, spec.identifier, spec.safe_to_retry)
    assert list(octy.OPERATIONS) == list(OCTY.operations) and octy.BATCH_MAX == OCTY.batch_max
    assert customeros.ORGANIZATIONS == CUSTOMEROS.operations["organizations.create"].path
    assert customeros.CONTACTS == CUSTOMEROS.operations["contacts.bulk_create"].dataset
    assert customeros.PERSON == CUSTOMEROS.resources["person_enrichment"].path
    assert octopus.DEFAULT_PATHS == dict(OCTOPUS.paths) and octopus.FEEDS == tuple(OCTOPUS.resources)
    assert octopus.DEFAULT_PARENT_PARAMS == {
        "topic_posts": "topicId", "post_comments": "postId", "comment_replies": "commentId", "user_posts": "octopusId"}
    assert oktopost.RESOURCE_PATHS == {n: r.path for n, r in OKTOPOST.resources.items()}
    assert oktopost.DATA_CENTERS == dict(OKTOPOST.hosts) and oktopost.API_PREFIX == OKTOPOST.path_prefix
    assert oktopost.PAGE_SIZES == OKTOPOST.resources["campaigns"].page_sizes
    assert oktopost.CLICK_PAGE_SIZES == OKTOPOST.resources["clicks"].page_sizes
    for kind, create in oktopost.CREATE_SPECS.items():
        spec = OKTOPOST.operations[f"{kind}.create"]
        assert (create.path, create.required, create.optional, create.response_key, create.identifier) == (
            spec.path, spec.required, spec.optional, spec.response_key, spec.identifier)
    # Issue 22: stories, team-entity add and workflow-item notes answer BaseApiResponse too.
    assert oktopost._RESULT_ONLY_CREATES == {"board_messages", "advocate_invites", "stories", "team_entities",
                                             "workflow_item_notes"}
    publishing = {f"{r}.{w}" for r in ("campaigns", "messages", "posts") for w in ("update", "delete")}
    # Issue 22: social profiles (update is the SDK's only PUT), board messages, advocates, leads.
    others = {"credentials.update", "credentials.delete", "board_messages.delete", "advocates.delete", "leads.delete"}
    # Issue 22 (3rd slice): the SDK's other updates and deletes (src/resources/**).
    sdk = {f"{r}.{w}" for r in ("users", "teams", "cnames", "tags", "stories", "topics", "webhooks", "stream_tabs",
                                "streams", "workflow_items") for w in ("update", "delete")}
    sdk |= {"media.delete", "links.update", "lead_links.update", "lead_activities.delete", "team_entities.delete"}
    assert set(oktopost.CHANGE_OPERATIONS) == publishing | others | sdk
    for name, op in oktopost.CHANGE_OPERATIONS.items():
        assert op is OKTOPOST.operations[name]
        if name in publishing:  # the SDK's update(id, params) / delete(id)
            assert op.path.endswith("/{id}") and op.identifier == "id"
            assert op.method == ("DELETE" if op.write == "delete" else "POST")
    assert OKTOPOST.operations["credentials.update"].method == "PUT"
    remove = OKTOPOST.operations["board_messages.delete"]  # remove({boardId, messageId}): a form, no id in the path
    assert (remove.method, remove.path, remove.required) == ("DELETE", "/board-message", ("boardId", "messageId"))
    assert OKTOPOST.operations["advocates.delete"].required == ("id", "boardId")  # delete(id, boardId)
    assert oktopost.OKTOPOST_PROFILE.block_on_429_seconds == OKTOPOST.rate_block_seconds == 900


# -- operators -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SPECS))
def test_operator_defaults_are_the_spec(name):
    spec = SPECS[name]
    for operator in _operators()[name]:
        assert operator.default_conn_id == spec.default_conn_id
        assert operator.default_api_host == spec.default_host
        assert operator.lineage_api == spec.name
        hook = operator.hook_class
        assert f"{hook.__module__}.{hook.__qualname__}" == spec.hook_class
        if hasattr(operator, "max_batch_size") and spec.operations:
            assert operator.max_batch_size == spec.batch_max


def test_operator_choices_are_the_specs():
    from airflow_provider_gtm.operators import customeros, octopus, octy, oktopost

    assert octy.OCTY_RESOURCES == tuple(OCTY.resources)
    # Upserts are the spec's too: a create and an update sharing the record's key.
    assert octy.OCTY_OPERATIONS == (*OCTY.operations, *OCTY.upserts()) == (*OCTY.operations, "items.upsert")
    assert customeros.CUSTOMEROS_LOOKUPS == tuple(CUSTOMEROS.resources)
    assert customeros.CUSTOMEROS_OPERATIONS == tuple(CUSTOMEROS.operations)
    assert octopus.OCTOPUS_FEEDS == tuple(OCTOPUS.resources)
    assert oktopost.OKTOPOST_RESOURCES == tuple(OKTOPOST.resources)
    assert oktopost.OKTOPOST_CREATE_KINDS == tuple(
        name.removesuffix(".create") for name, op in OKTOPOST.operations.items() if op.write == "create")
    assert oktopost.OKTOPOST_CREATE_KINDS == (
        "campaigns", "messages", "posts", "board_messages", "advocate_invites",
        # Issue 22 (3rd slice): the SDK's other creates, in catalogue order.
        "users", "teams", "cnames", "tags", "media", "uploads", "stories", "topics", "webhooks", "stream_tabs",
        "streams", "team_entities", "workflow_items", "workflow_item_notes")
    assert oktopost.OKTOPOST_OPERATIONS == tuple(OKTOPOST.operations)
    for name, op in OKTOPOST.operations.items():  # every write is named <resource>.<create|update|delete>
        assert name.rpartition(".")[2] == op.write
    assert octy.OctyBatchOperator.unique_keys == {"profiles.create": "customer_id", "items.create": "item_id"}
    assert (OCTY.batch_max, CUSTOMEROS.batch_max, OKTOPOST.batch_max) == (500, 500, 100)


def test_operator_lineage_endpoints_are_the_specs_paths():
    ops = _operators()
    octy_fetch, octy_batch = ops["octy"]
    assert octy_fetch(task_id="a", resource="templates").lineage_endpoint() == "/v1/retention/messaging/templates"
    assert octy_batch(task_id="b", operation="events.create", records=[]).lineage_endpoint() == (
        "/v1/retention/events/create/batch")
    lookup, batch = ops["customeros"]
    assert lookup(task_id="c", lookup="organization_enrichment", inputs=[]).lineage_endpoint() == (
        "/enrich/v1/organization")
    assert batch(task_id="d", operation="contacts.bulk_create", records=[]).lineage_endpoint() == (
        "/customerbase/v1/contacts")
    assert batch(task_id="e", operation="organizations.create", records=[]).lineage_endpoint() == (
        "/customerbase/v1/organizations")
    (feed,) = ops["octopus"]
    assert feed(task_id="f", feed="post_comments", parent_id="p1").lineage_endpoint() == "/v1/feeds/comments/p1"
    fetch, create, batch = ops["oktopost"]
    assert fetch(task_id="g", resource="clicks", count=200).lineage_endpoint() == "/v2/click"
    assert create(task_id="h", kind="board_messages", records=[]).lineage_endpoint() == "/v2/board-message"
    assert batch(task_id="i", operation="posts.delete", records=[]).lineage_endpoint() == "/v2/post"
    assert batch(task_id="j", operation="board_messages.create", records=[]).lineage_endpoint() == (
        "/v2/board-message")


# -- sandbox -------------------------------------------------------------------------------------------


def test_sandbox_connections_and_prefixes_are_the_specs():
    from airflow_provider_gtm.sandbox.server import CONNECTIONS, SandboxApp

    assert CONNECTIONS == {s.name: (s.default_conn_id, s.conn_type) for s in specs()}
    assert set(SandboxApp(records=5).apis) == set(SPECS)


def test_sandbox_rate_limits_match_the_client_windows():
    """The sandbox enforces the vendor's limits on its own; the client paces under the same ones."""
    from airflow_provider_gtm.sandbox.server import SandboxApp

    apis = SandboxApp(records=5).apis
    for name in ("octy", "oktopost"):
        assert [tuple(w) for w in apis[name].default_rate_limit.windows] == [
            (c, float(s)) for c, s in SPECS[name].rate_windows]
    assert apis["oktopost"].default_rate_limit.block_seconds == OKTOPOST.rate_block_seconds


#: Spec endpoints the sandbox serves under another shape (method, path as served), with the reason.
SERVED_AS = {
    # CustomerOS's organization lookup is GET <organizations>/<id>; the bare path is only POSTed to.
    ("customeros", "GET", "/customerbase/v1/organizations"): ("GET", "/customerbase/v1/organizations/x"),
}
#: Spec endpoints the sandbox deliberately does not serve (none today).
NOT_IN_SANDBOX: dict[tuple[str, str, str], str] = {}


def _endpoints(spec: ApiSpec):
    for resource in spec.resources.values():
        yield resource.method, spec.path_prefix + resource.path
    for operation in spec.operations.values():
        yield operation.method, spec.path_prefix + operation.path
    for call in spec.calls.values():
        yield call.method, spec.path_prefix + call.path


@pytest.mark.parametrize("name", ["octy", "customeros", "oktopost"])
def test_every_spec_endpoint_is_served_by_the_sandbox_routes(name):
    from airflow_provider_gtm.sandbox.server import SandboxApp

    api = SandboxApp(records=5).apis[name]
    routes = api.routes()
    for method, path in _endpoints(SPECS[name]):
        if (name, method, path) in NOT_IN_SANDBOX:
            continue
        served_method, served_path = SERVED_AS.get((name, method, path), (method, path))
        assert any(r.method == served_method and r.match(served_path) is not None for r in routes), (
            f"{name}: {method} {path} is not in the sandbox's route table")
    if name == "customeros":  # every named path too (person results are <prefix><id>)
        for key, path in CUSTOMEROS.paths.items():
            probe = path + "x" if path.endswith("/") else path
            assert any(r.match(probe) is not None for r in routes), key


def test_octopus_sandbox_serves_the_spec_paths():
    """Octopus's sandbox resolves paths at request time from its own (independent) defaults."""
    from airflow_provider_gtm.sandbox import octopus

    assert octopus.DEFAULT_PATHS == dict(OCTOPUS.paths)
    assert octopus.DEFAULT_PARENT_PARAMS == {f: r.parent_param for f, r in OCTOPUS.resources.items() if r.parent_param}
    assert set(octopus.FEED_KEYS) == set(OCTOPUS.resources)


# -- written once ----------------------------------------------------------------------------------------

LITERALS = ("https://api.octy.ai", "https://api.customeros.ai", "https://connect.octopuscommunity.com",
            "https://api.oktopost.com", "https://eu-api.oktopost.com", "octy_default", "customeros_default",
            "octopus_connect_default", "oktopost_default", "https://api-docs.octy.ai/", "https://docs.customeros.ai/",
            "https://developers.oktopost.com/")
#: Where a literal may stay outside apis/, with the reason.
ALLOWED = {
    # The sandbox's error template quotes Octy's docs link as Octy does (the sandbox stands for the vendor).
    ("sandbox/octy.py", "https://api-docs.octy.ai/"),
}


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_hosts_and_connection_ids_are_written_only_in_the_specs():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("apis/"):
            continue
        tree = ast.parse(path.read_text())
        docstrings = _docstring_nodes(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                for literal in LITERALS:
                    if literal in node.value and (relative, literal) not in ALLOWED:
                        offenders.append(f"{relative}:{node.lineno}: {literal}")
    assert not offenders, "\n".join(offenders)


def test_the_allowed_exceptions_still_exist():
    """An exception that no longer applies is removed from ALLOWED (so the list stays true)."""
    for relative, literal in ALLOWED:
        assert literal in (PACKAGE / relative).read_text(), (relative, literal)


@pytest.mark.parametrize("name", list(SPECS))
def test_every_hook_method_the_catalogue_names_exists(name):
    """A row's ``hook_method`` is what a data team calls: it must be a method of the API's hook."""
    import importlib

    spec = SPECS[name]
    module, _, cls = spec.hook_class.rpartition(".")
    hook = getattr(importlib.import_module(module), cls)
    rows = [*spec.resources.values(), *spec.operations.values(), *spec.calls.values()]
    for row in rows:
        if row.hook_method:
            assert callable(getattr(hook, row.hook_method, None)), f"{name}: {row.hook_method}"


def test_octy_limits_are_the_request_models():
    """octy-services-wasm@f514fe2: GenerateContent's MESSAGE_GEN_LIMIT / MAX_MESSAGE_DATA (production
    configmap) and MAX_REC_PREDICTIONS, read by the hook from the catalogue."""
    assert OCTY.calls["content_generate"].limits == (("messages", 100), ("data_per_message", 25))
    assert OCTY.calls["recommendations"].limit("profile_ids") == 100
    assert OCTY.calls["checkout_event"].parent_param == "checkout_id"
    assert all(OCTY.calls[name].method == "POST" for name in (
        "recommendations", "content_generate", "event_types_delete_all", "checkout_event"))
    assert all(call.source for spec in specs() for call in spec.calls.values())


# -- docs/endpoints.md ---------------------------------------------------------------------------------


def test_docs_endpoints_md_is_the_catalogue():
    """docs/endpoints.md is generated from the catalogue: regenerate it with
    ``python -m airflow_provider_gtm.apis.docs > docs/endpoints.md`` when this fails."""
    from airflow_provider_gtm.apis.docs import render

    written = (REPO / "docs" / "endpoints.md").read_text(encoding="utf-8")
    assert written == render(), "stale: python -m airflow_provider_gtm.apis.docs > docs/endpoints.md"


def test_docs_endpoints_has_one_row_per_catalogued_endpoint():
    from airflow_provider_gtm.apis.docs import render, rows

    table_rows = [line for line in render().splitlines()
                  if line.startswith("| ") and not line.startswith(("| method", "| ---"))]
    assert len(table_rows) == sum(len(s.resources) + len(s.operations) + len(s.calls) for s in specs())
    for spec in specs():
        for row in rows(spec):
            assert row[0] in ("GET", "POST", "PUT", "DELETE") and row[1].startswith("`/"), row


@pytest.mark.parametrize("name", list(SPECS))
def test_operators_the_catalogue_names_take_its_keys(name):
    """``fetch_operator(<fetch_argument>=<resource>)`` and ``batch_operator(operation=<operation>)``, as
    docs/endpoints.md writes them, are real operators that accept exactly those names."""
    import importlib

    spec = SPECS[name]
    module = importlib.import_module(spec.operators_module)
    if spec.fetch_operator:
        operator = getattr(module, spec.fetch_operator)
        for resource in spec.resources:
            extra = {"inputs": []} if spec.fetch_argument == "lookup" else {}
            if spec.name == "oktopost" and resource == "messages":
                extra = {"filters": {"campaignId": "002x"}}
            if spec.name == "octopus" and spec.resources[resource].parent_param:
                extra = {"parent_id": "p1"}
            operator(task_id="t", **{spec.fetch_argument: resource}, **extra)
    if spec.batch_operator:
        operator = getattr(module, spec.batch_operator)
        for operation in spec.operations:
            operator(task_id="t", operation=operation, records=[])


def test_customeros_route_file_rows_and_their_swagger_paths():
    """customeros/customeros server/customer_routes.go@aa4e0bd52ed6 (issue 22): every e-mail tracking,
    mailstack, reveal and ``/me`` route is a row citing that file; each path the swagger writes otherwise
    (api-evangelist/customeros customeros-swagger.json) is a ``_swagger`` row with the same hook method."""
    from airflow_provider_gtm.apis.customeros import SWAGGER_PATHS

    route_file = {(r.method, r.path) for r in CUSTOMEROS.calls.values()
                  if "customer_routes.go@aa4e0bd" in r.source and not r.path.startswith("/flows/v1/")}
    mail = "/mailstack/v1/domains"
    assert route_file == {
        ("POST", "/outreach/v1/track/email"), ("POST", mail), ("GET", mail), ("GET", f"{mail}/recommendations"),
        ("POST", f"{mail}/configure"), ("POST", f"{mail}/{{domain}}/mailboxes"),
        ("GET", f"{mail}/{{domain}}/mailboxes"), *((m, f"{mail}/{{domain}}/dns") for m in ("GET", "POST", "DELETE")),
        ("POST", "/reveal/v1/trackers"), ("GET", "/reveal/v1/verify"), ("GET", "/me"),
        ("GET", "/enrich/v1/person/organization")}
    for name, row in CUSTOMEROS.calls.items():
        if row.path in SWAGGER_PATHS:
            twin = CUSTOMEROS.calls[f"{name}_swagger"]
            assert (twin.method, twin.path, twin.hook_method) == (row.method, SWAGGER_PATHS[row.path], row.hook_method)


def test_customeros_organization_enrichment_has_its_route_file_twin():
    """customer_routes.go@aa4e0bd52ed6 (index id 66456577487) registers EnrichOrganization at
    ``/enrich/v1/person/organization``: a row with the lookup's hook method, and the twin the hook asks."""
    from airflow_provider_gtm.apis.customeros import ROUTE_FILE_TWINS

    lookup = CUSTOMEROS.resources["organization_enrichment"]
    twin = CUSTOMEROS.calls["organization_enrichment_route_file"]
    assert ROUTE_FILE_TWINS == {lookup.path: twin.path} == {"/enrich/v1/organization": "/enrich/v1/person/organization"}
    assert (twin.method, twin.hook_method) == (lookup.method, lookup.hook_method)


#: Every public route of octy-services-wasm@f514fe2 ``*/api/routers/*.py`` (issue 22): the routers'
#: ``/v1/admin/*`` (admin, account, billing) and ``/v1/internal/*`` routes (every service, all of
#: octy_jobs) and the ``healthz`` probes are left out; billing and octy_jobs have no other route.
OCTY_PUBLIC_ROUTES = {
    ("GET", "/v1/account/authenticate"),  # account/api/routers/auth.py
    ("GET", "/v1/retention/churn_prediction/report"),  # churn_prediction/api/routers/churn_prediction.py
    ("GET", "/v1/configurations/account"), ("POST", "/v1/configurations/account/set"),
    ("GET", "/v1/configurations/retention/algorithms"), ("POST", "/v1/configurations/retention/algorithms/set"),
    *(("POST", f"/v1/retention/events/types/{w}") for w in ("create", "delete", "delete/all")),
    ("GET", "/v1/retention/events/types"),  # events/api/routers/event_types.py
    ("POST", "/v1/retention/events/create"), ("POST", "/v1/retention/events/create/batch"),
    ("POST", "/v1/retention/events"),  # events/api/routers/events.py
    ("GET", "/v1/retention/items"), *(("POST", f"/v1/retention/items/{w}") for w in ("create", "update", "delete")),
    ("GET", "/v1/retention/messaging/templates"), ("POST", "/v1/retention/messaging/content/generate"),
    *(("POST", f"/v1/retention/messaging/templates/{w}") for w in ("create", "update", "delete")),
    ("GET", "/v1/retention/profiles"), ("GET", "/v1/retention/profiles/metadata"),
    *(("POST", f"/v1/retention/profiles/{w}") for w in ("create", "update", "delete")),
    ("POST", "/v1/retention/recommendations"),  # recommendation/api/routers/recommendation.py
    ("GET", "/v1/retention/segments"), ("POST", "/v1/retention/segments/create"),
    ("POST", "/v1/retention/segments/delete"),  # segmentation/api/routers/segmentation.py
}


def test_octy_catalogue_is_every_public_router_route():
    """octy-services-wasm@f514fe2 ``*/api/routers/*.py`` (issue 22): one catalogue row per public
    route, none beyond them, and each row's hook method named."""
    rows = [*OCTY.resources.values(), *OCTY.operations.values(), *OCTY.calls.values()]
    assert sorted((r.method, r.path) for r in rows) == sorted(OCTY_PUBLIC_ROUTES)
    assert all(r.hook_method and r.source for r in rows)


def test_customeros_flows_rows_are_the_route_files_flow_routes():
    """customer_routes.go@aa4e0bd52ed6 (index id 66456577487) registerFlowRoutes (issue 22): flows CRUD and
    on/off, nodes and edges CRUD, agents, listeners, transitions, hooks, rotate and deactivate; each row
    cites its handlers/flows/ file and names a hook method."""
    f, n, e = "/flows/v1/flows", "/flows/v1/flows/{flowId}/nodes", "/flows/v1/flows/{flowId}/edges"
    expected = {("POST", f), ("GET", f), *((m, f + "/{flowId}") for m in ("GET", "PUT", "DELETE")),
                ("POST", f + "/{flowId}/on"), ("POST", f + "/{flowId}/off"),
                ("GET", n), ("POST", n), *((m, n + "/{nodeId}") for m in ("GET", "PUT", "DELETE")),
                ("GET", e), ("POST", e), *((m, e + "/{edgeId}") for m in ("GET", "PUT", "DELETE")),
                ("GET", "/flows/v1/agents"), ("GET", "/flows/v1/listeners"), ("GET", "/flows/v1/transitions"),
                ("GET", "/flows/v1/hooks"), ("POST", "/flows/v1/hooks"),
                ("POST", "/flows/v1/{tenantId}/i/{integrationId}/rotate"),
                ("DELETE", "/flows/v1/{tenantId}/i/{integrationId}")}
    rows = [r for r in CUSTOMEROS.calls.values() if r.path.startswith("/flows/v1/")]
    assert sorted((r.method, r.path) for r in rows) == sorted(expected)
    assert all("registerFlowRoutes" in r.source and "handlers/flows/" in r.source and r.hook_method for r in rows)

