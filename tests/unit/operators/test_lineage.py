"""Lineage helpers, asset-event metadata, OpenLineage facets and the Oktopost app link, without Airflow's DB."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from types import SimpleNamespace

import pytest

from airflow_provider_gtm.compat import Asset
from airflow_provider_gtm.operators.customeros import CustomerOSBatchOperator
from airflow_provider_gtm.operators.lineage import (
    file_dataset_name,
    infer_schema,
    newest,
)
from airflow_provider_gtm.operators.links import OktopostAppLink
from airflow_provider_gtm.operators.octopus import OctopusFetchOperator
from airflow_provider_gtm.operators.octy import OctyBatchOperator, OctyFetchOperator
from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator, OktopostFetchOperator


def write_lines(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return f"file://{path}"


def test_schema_is_the_union_of_top_level_fields_with_their_json_types():
    records = [{"id": "a", "n": 1, "tags": [], "x": None}, {"id": "b", "n": 2.5, "meta": {}, "x": None}, "not-a-record"]
    assert infer_schema(records) == [
        ("id", "string"), ("n", "integer|number"), ("tags", "array"), ("x", "null"), ("meta", "object"),
    ]


def test_watermark_is_the_newest_creation_time_of_either_kind(tmp_path):
    epoch = write_lines(tmp_path / "a.jsonl", [{"createdAt": 5}, {"createdAt": 9}, {"other": 1}, {"createdAt": 7}])
    iso = write_lines(tmp_path / "b.jsonl",
                      [{"created_at": "2026-01-02 00:00:00"}, {"created_at": "2026-03-01 00:00:00"}])
    assert newest(epoch, ("createdAt",)) == 9
    assert newest(iso, ("created_at",)) == "2026-03-01 00:00:00"
    assert newest(epoch, ("Created",)) is None
    assert newest(epoch, ()) is None
    assert newest(f"file://{tmp_path}/missing.jsonl", ("createdAt",)) is None


def test_file_dataset_names_follow_openlineage_conventions():
    assert file_dataset_name("file:///data/run/records.jsonl") == ("file", "/data/run/records.jsonl")
    assert file_dataset_name("s3://bucket/gtm/records.jsonl") == ("s3://bucket", "gtm/records.jsonl")


def test_default_assets_name_the_api_and_resource_and_survive_airflow_normalisation():
    assert OktopostFetchOperator.output_asset("advocates").uri == "x-gtm-oktopost://api.oktopost.com/advocates"
    assert OctopusFetchOperator.output_asset("all_posts").uri == "x-gtm-octopus://connect.octopuscommunity.com/all_posts"
    assert OctyFetchOperator.output_asset("profiles", host="https://eu.example.com").uri == (
        "x-gtm-octy://eu.example.com/profiles"
    )
    assert OctyFetchOperator.output_asset("profiles").name == "gtm_octy_profiles"


class Event(SimpleNamespace):
    pass


def test_after_execute_keeps_the_result_fills_asset_events_and_still_calls_the_authors_hook(tmp_path):
    uri = write_lines(tmp_path / "posts.jsonl", [{"id": "p1", "createdAt": 100}, {"id": "p2", "createdAt": 300}])
    asset = OctopusFetchOperator.output_asset("all_posts")
    called = []
    op = OctopusFetchOperator(task_id="posts", feed="all_posts", outlets=[asset],
                              post_execute=lambda context, result: called.append(result))
    events: defaultdict[Asset, Event] = defaultdict(lambda: Event(extra={}))
    result = {"uri": uri, "records": 2, "pages": 1}
    op._post_execute_hook({"outlet_events": events}, result)
    assert events[asset].extra == {"records": 2, "uri": uri, "watermark": 300}
    assert called == [result]
    assert op.__dict__["_gtm_result"] is result


def test_no_outlet_means_no_asset_event_and_no_file_read(tmp_path):
    op = OctopusFetchOperator(task_id="posts", feed="all_posts")
    op._post_execute_hook({"outlet_events": None}, {"uri": f"file://{tmp_path}/absent.jsonl", "records": 0})


ol = pytest.importorskip("airflow.providers.openlineage", reason="needs the openlineage extra")


def test_fetch_lineage_names_the_endpoint_by_the_connection_host(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_OCTY_DEFAULT", json.dumps(
        {"conn_type": "octy", "host": "http://127.0.0.1:8790/octy", "login": "pk_live_abcdef",
         "password": "sk_live_abcdef"}
    ))
    uri = write_lines(tmp_path / "records.jsonl", [{"profile_id": "p", "created_at": "2026-01-01 00:00:00"}])
    op = OctyFetchOperator(task_id="profiles", resource="profiles")
    op._pre_execute_hook({})  # reads the connection in the task process, before execute()
    op._post_execute_hook({"outlet_events": {}}, {"uri": uri, "records": 1, "pages": 1, "total": 1})
    lineage = op.get_openlineage_facets_on_complete(None)
    (source,) = lineage.inputs
    assert (source.namespace, source.name) == ("octy://127.0.0.1:8790", "octy/v1/retention/profiles")
    (output,) = lineage.outputs
    assert (output.namespace, output.name) == ("file", str(tmp_path / "records.jsonl"))
    assert output.outputFacets["outputStatistics"].rowCount == 1
    assert output.outputFacets["outputStatistics"].size == (tmp_path / "records.jsonl").stat().st_size
    assert [(f.name, f.type) for f in output.facets["schema"].fields] == [("profile_id", "string"),
                                                                          ("created_at", "string")]
    assert lineage.run_facets["gtm"].total == 1


def test_without_a_connection_the_public_host_names_the_endpoint(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_OKTOPOST_DEFAULT", raising=False)
    op = OktopostCreateOperator(task_id="c", kind="campaigns", records=[{"name": "x"}])
    op._pre_execute_hook({})
    (target,) = op.get_openlineage_facets_on_failure(None).outputs
    assert (target.namespace, target.name) == ("oktopost://api.oktopost.com", "v2/campaign")


def test_the_facet_methods_never_read_the_connection(monkeypatch):
    """They run in the listener's forked child, where reaching the supervisor is unsafe."""
    monkeypatch.setenv("AIRFLOW_CONN_OKTOPOST_DEFAULT", json.dumps(
        {"conn_type": "oktopost", "host": "http://127.0.0.1:9/oktopost", "login": "001acct", "password": "k" * 20}))
    op = OktopostCreateOperator(task_id="c", kind="campaigns", records=[{"name": "x"}])
    monkeypatch.setattr(op, "make_hook", lambda: pytest.fail("the connection was read"))
    (target,) = op.get_openlineage_facets_on_complete(None).outputs
    assert target.namespace == "oktopost://api.oktopost.com"


def test_a_batch_that_failed_on_its_policy_reports_its_failures_file(tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_CUSTOMEROS_DEFAULT", raising=False)
    ti = SimpleNamespace(dag_id="d", run_id="r", task_id="c", map_index=-1)
    failures = tmp_path / "d" / "r" / "c" / "failures.jsonl"
    failures.parent.mkdir(parents=True)
    write_lines(failures, [{"identifier": "a"}, {"identifier": "b"}])
    op = CustomerOSBatchOperator(task_id="c", operation="contacts.bulk_create", records=[],
                                 output_base_uri=f"file://{tmp_path}")
    api, failed = op.get_openlineage_facets_on_failure(ti).outputs
    assert api.name == "customerbase/v1/contacts" and api.outputFacets == {}
    assert failed.name == str(failures)
    assert failed.outputFacets["outputStatistics"].rowCount == 2
    assert op.get_openlineage_facets_on_failure(None).outputs[0].name == "customerbase/v1/contacts"


def test_batch_lineage_counts_and_the_failures_file(tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_CUSTOMEROS_DEFAULT", raising=False)
    failures = write_lines(tmp_path / "failures.jsonl", [{"record": {}, "identifier": "x", "error_message": "bad",
                                                           "status": 400}])
    op = CustomerOSBatchOperator(task_id="c", operation="contacts.bulk_create", input_uri=f"file://{tmp_path}/in.jsonl")
    op._post_execute_hook({}, {"submitted": 3, "succeeded": 2, "failed": 1, "failures_uri": failures})
    lineage = op.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [("file", f"{tmp_path}/in.jsonl")]
    api, failed = lineage.outputs
    assert (api.namespace, api.name) == ("customeros://api.customeros.ai", "customerbase/v1/contacts")
    assert api.outputFacets["outputStatistics"].rowCount == 2
    assert failed.outputFacets["outputStatistics"].rowCount == 1
    facet = lineage.run_facets["gtm"]
    assert (facet.submitted, facet.succeeded, facet.failed) == (3, 2, 1)


def test_octy_batch_names_its_operation_endpoint(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_OCTY_DEFAULT", raising=False)
    op = OctyBatchOperator(task_id="e", operation="events.create", records=[])
    (target,) = op.get_openlineage_facets_on_complete(None).outputs
    assert target.name == "v1/retention/events/create/batch"


def test_importing_the_operators_does_not_import_openlineage():
    code = ("import sys, airflow_provider_gtm.operators.octy, airflow_provider_gtm.operators.oktopost, "
            "airflow_provider_gtm.operators.octopus, airflow_provider_gtm.operators.customeros; "
            "print(sorted(m for m in sys.modules if m.startswith(('openlineage', "
            "'airflow.providers.openlineage.extractors', 'airflow.providers.openlineage.plugins'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


class TiKey(SimpleNamespace):
    def xcom_pull(self, task_ids, key):
        assert (task_ids, key) == (self.task_id, "return_value")
        return self.value


def test_oktopost_link_opens_the_first_created_object(monkeypatch):
    op = OktopostCreateOperator(task_id="campaign", kind="campaigns", records=[{"name": "x"}])
    (link,) = op.operator_extra_links
    assert isinstance(link, OktopostAppLink)
    ti = TiKey(task_id="campaign", value={"submitted": 1, "succeeded": 1, "failed": 0, "ids": ["002abc"]})
    assert link.get_link(op, ti_key=ti) == "https://app.oktopost.com/campaigns/002abc"
    monkeypatch.setenv("AIRFLOW__GTM__OKTOPOST_APP_LINK", "https://eu.example.com/app/{kind}?id={id}")
    assert link.get_link(op, ti_key=ti) == "https://eu.example.com/app/campaigns?id=002abc"
    assert link.get_link(op, ti_key=TiKey(task_id="campaign", value={"ids": []})) == ""
    assert link.get_link(op, ti_key=TiKey(task_id="campaign", value=None)) == ""
