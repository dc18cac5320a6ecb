"""Incremental fetches of each API against the sandbox: a second run makes only the calls its filter needs.

Each test runs the same fetch task twice (``since_last_watermark=True``), adds records between the
runs, and prints the sandbox's call count of both runs. Where the vendor's list takes a time filter
(Octopus ``originTime``, Oktopost ``after``) the second run asks only for what is new; where it takes
none (Octy, octy-services-wasm@f514fe2 ``*/api/routers/*.py``: ``ids`` and the offset cursor only)
the list is read whole and only the new records are written. CustomerOS has no list with a filter
and no fetch operator (its lists are per-organization reads): nothing to run incrementally there.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_gtm.apis import by_name
from airflow_provider_gtm.apis.model import READ_WHOLE
from airflow_provider_gtm.operators.octopus import OctopusFetchOperator
from airflow_provider_gtm.operators.octy import OctyFetchOperator
from airflow_provider_gtm.operators.oktopost import OktopostFetchOperator


class Variables:
    """Airflow's Variable API as the task SDK offers it (get/set), kept in a dict."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str, default: Any = None, default_var: Any = None) -> Any:  # default_var: Airflow 2
        return self.values.get(key, default if default is not None else default_var)

    def set(self, key: str, value: str, description: str | None = None) -> None:
        self.values[key] = value


@pytest.fixture
def variables(monkeypatch):
    from airflow_provider_gtm import compat

    store = Variables()
    monkeypatch.setattr(compat, "Variable", store)  # where the provider takes Variable from, on every line
    return store


def run(sandbox, tmp_path, make, run_id: str, api: str) -> tuple[list[dict], int, dict]:
    """One try of the fetch task: the records it wrote, the calls it made to ``api``, its XCom."""
    uri = f"file://{tmp_path}/{run_id}.jsonl"
    op = make(uri)
    before = sandbox.state()["calls"].get(api, 0)
    xcom = op.execute({"ti": SimpleNamespace(dag_id="d", run_id=run_id, task_id="t", map_index=-1)})
    calls = sandbox.state()["calls"].get(api, 0) - before
    records = [json.loads(line) for line in open(uri.removeprefix("file://"))]
    return records, calls, xcom


def test_oktopost_posts_second_run_asks_only_after_the_watermark(gtm_sandbox_connections, variables, tmp_path):
    """Oktopost/oktopost-typescript-sdk src/types/publishing.ts (PostListParams ``after``): the watermark
    ``Created`` one second early becomes ``after``; the post at the watermark is dropped by ``Id``."""
    sandbox = gtm_sandbox_connections
    sandbox.configure(records=250)

    def make(uri: str) -> OktopostFetchOperator:
        return OktopostFetchOperator(task_id="t", resource="posts", watermark_field="Created",
                                     since_last_watermark=True, output_uri=uri, resume=False)

    first, first_calls, xcom = run(sandbox, tmp_path, make, "run1", "oktopost")
    assert len(first) == 250 and xcom["watermark"]["ids"] == [first[-1]["Id"]]
    sandbox.configure(records=262)
    second, second_calls, _ = run(sandbox, tmp_path, make, "run2", "oktopost")
    third, third_calls, _ = run(sandbox, tmp_path, make, "run3", "oktopost")
    print(f"oktopost posts: first run {first_calls} calls, second run {second_calls} calls, "
          f"third (nothing new) {third_calls}")
    assert first_calls == 3  # 250 posts, 100 a page
    assert [p["Id"] for p in second] == [f"004s{i:011d}" for i in range(250, 262)]
    assert second_calls == 1 and third == [] and third_calls == 1


def test_oktopost_clicks_take_the_watermark_as_after(gtm_sandbox_connections, variables, tmp_path):
    """Oktopost/oktopost-typescript-sdk src/types/analytics.ts (ClickListParams ``after``, ``_count`` 200)."""
    sandbox = gtm_sandbox_connections
    sandbox.configure(records=450)

    def make(uri: str) -> OktopostFetchOperator:
        return OktopostFetchOperator(task_id="t", resource="clicks", count=200, watermark_field="Created",
                                     since_last_watermark=True, output_uri=uri, resume=False)

    first, first_calls, _ = run(sandbox, tmp_path, make, "run1", "oktopost")
    sandbox.configure(records=455)
    second, second_calls, _ = run(sandbox, tmp_path, make, "run2", "oktopost")
    print(f"oktopost clicks: first run {first_calls} calls, second run {second_calls} calls")
    assert (len(first), first_calls) == (450, 3)
    assert (len(second), second_calls) == (5, 1)


def test_oktopost_list_without_a_time_filter_is_read_whole_and_filtered_after(
        gtm_sandbox_connections, variables, tmp_path):
    """Oktopost/oktopost-typescript-sdk src/types/publishing.ts (CampaignListParams: ``q``, ``status``,
    ``withTags`` and paging; no time filter): the second run reads every page, writes only what is new."""
    sandbox = gtm_sandbox_connections
    sandbox.configure(records=150)
    assert by_name("oktopost").resources["campaigns"].since_param == ""

    def make(uri: str) -> OktopostFetchOperator:
        return OktopostFetchOperator(task_id="t", resource="campaigns", watermark_field="Created",
                                     since_last_watermark=True, output_uri=uri, resume=False)

    first, first_calls, _ = run(sandbox, tmp_path, make, "run1", "oktopost")
    sandbox.configure(records=160)
    second, second_calls, _ = run(sandbox, tmp_path, make, "run2", "oktopost")
    print(f"oktopost campaigns ({READ_WHOLE}): first run {first_calls} calls, second run {second_calls} calls")
    assert (len(first), first_calls) == (150, 2)
    assert (len(second), second_calls) == (10, 2)


def test_octopus_all_posts_second_run_asks_only_after_the_watermark(gtm_sandbox_connections, variables, tmp_path):
    """Octopus seed page 002_75bcc6fce979b39c.txt (all posts: ``originTime`` ms, ``direction=After``)."""
    sandbox = gtm_sandbox_connections
    sandbox.configure(records=100)

    def make(uri: str) -> OctopusFetchOperator:
        return OctopusFetchOperator(task_id="t", feed="all_posts", order="Asc", watermark_field="createdAt",
                                    since_last_watermark=True, output_uri=uri, resume=False)

    first, first_calls, _ = run(sandbox, tmp_path, make, "run1", "octopus")
    sandbox.configure(records=103)
    second, second_calls, _ = run(sandbox, tmp_path, make, "run2", "octopus")
    print(f"octopus all_posts: first run {first_calls} calls, second run {second_calls} calls")
    assert len(first) == 100 and first_calls == 5  # 20 a page
    assert [p["id"] for p in second] == ["post-00000100", "post-00000101", "post-00000102"]
    assert second_calls == 1


def test_octy_profiles_are_read_whole_and_only_new_ones_written(gtm_sandbox_connections, variables, tmp_path):
    """octy-services-wasm@f514fe2 profiles/api/routers/profiles.py (``GET /v1/retention/profiles`` takes
    ``ids``, ``rfm``, ``churn_prob``, ``segments`` and the cursor: no time filter): read whole, filtered
    after on ``created_at`` (an HTTP date, compared as a time), ids ``profile_id``."""
    from airflow_provider_gtm.hooks.octy import OctyHook

    sandbox = gtm_sandbox_connections
    sandbox.configure(records=250)
    assert by_name("octy").resources["profiles"].since_param == ""

    def make(uri: str) -> OctyFetchOperator:
        return OctyFetchOperator(task_id="t", resource="profiles", watermark_field="created_at",
                                 since_last_watermark=True, output_uri=uri, resume=False)

    first, first_calls, xcom = run(sandbox, tmp_path, make, "run1", "octy")
    created = OctyHook().create_profiles([
        {"customer_id": f"inc{i}", "profile_data": {"name": f"inc{i}"}, "platform_info": {"src": "it"},
         "has_charged": False} for i in range(4)])
    assert created.succeeded == 4
    second, second_calls, _ = run(sandbox, tmp_path, make, "run2", "octy")
    print(f"octy profiles ({READ_WHOLE}): first run {first_calls} calls, second run {second_calls} calls")
    assert len(first) == 250 and first_calls == 3 and xcom["watermark"]["ids"]
    assert sorted(p["customer_id"] for p in second) == ["inc0", "inc1", "inc2", "inc3"]
    assert second_calls == 3  # no filter to narrow it: every page again


def test_customeros_has_no_list_with_a_filter():
    """customeros/customeros packages/server/customer-os-api/server/routes.go and the swagger
    (api-evangelist/customeros openapi/_original/customeros-swagger.json): no list takes a time, id
    or order filter, so no CustomerOS row is incremental."""
    assert not any(row.since_param for row in by_name("customeros").resources.values())
