"""sync= and dry_run= are checked when the DAG is parsed; the sync state reads back what was written, folded or not."""

from __future__ import annotations

import json

import pytest

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.core.syncstate import SyncState, content_digest, record_key, state_directory
from airflow_provider_gtm.operators.customeros import CustomerOSBatchOperator
from airflow_provider_gtm.operators.octy import OctyBatchOperator
from airflow_provider_gtm.operators.oktopost import OktopostBatchOperator, OktopostCreateOperator


def test_events_have_no_identifying_field_so_sync_changed_is_refused_at_parse():
    with pytest.raises(ValueError, match=r"Octy events.create has none in the API spec .*new occurrence"):
        OctyBatchOperator(task_id="t", operation="events.create", records=[], sync="changed")


@pytest.mark.parametrize("make", [
    lambda: CustomerOSBatchOperator(task_id="t", operation="contacts.bulk_create", records=[], sync="changed"),
    lambda: OktopostCreateOperator(task_id="t", kind="messages", records=[], sync="changed"),
])
def test_operations_without_a_key_refuse_sync_changed(make):
    with pytest.raises(ValueError, match="sync='changed' needs a field that names each record"):
        make()


def test_operations_with_a_key_take_sync_changed():
    assert OctyBatchOperator(task_id="t", operation="items.update", records=[], sync="changed").sync == "changed"
    oktopost = OktopostBatchOperator(task_id="t", operation="campaigns.update", records=[], sync="changed")
    assert oktopost.sync_operation() == "campaigns.update"
    # A templated operation is only known at run time.
    OctyBatchOperator(task_id="t", operation="{{ params.op }}", records=[], sync="changed")


def test_upsert_needs_the_state():
    with pytest.raises(ValueError, match="items.upsert tells new records from changed ones .* needs sync='changed'"):
        OctyBatchOperator(task_id="t", operation="items.upsert", records=[])


@pytest.mark.parametrize("kwargs, message", [
    ({"sync": "some"}, "sync='some' is not supported"),
    ({"dry_run": "perhaps"}, "dry_run must be true or false"),
])
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        OctyBatchOperator(task_id="t", operation="items.create", records=[], **kwargs)


def test_dry_run_may_be_templated_and_is_not_airflows_own_dry_run():
    operator = OctyBatchOperator(task_id="t", operation="items.create", records=[], dry_run="{{ params.dry_run }}")
    assert "dry_run_flag" in operator.template_fields
    assert callable(operator.dry_run)  # BaseOperator.dry_run() (``airflow tasks test --dry-run``) still works


def test_keys_tell_numbers_from_strings_and_digests_ignore_field_order():
    assert record_key({"id": 1}, "id") != record_key({"id": "1"}, "id")
    assert record_key({"id": ""}, "id") is None and record_key("x", "id") is None
    assert content_digest({"a": 1, "b": 2}) == content_digest({"b": 2, "a": 1})


def test_state_replays_deltas_and_folds_them(tmp_path):
    directory = state_directory(f"file://{tmp_path}", "octy conn", "items.upsert")
    state = SyncState.load(directory)
    for n in range(5):
        state.record({"k": f"d{n}", f"k{n}": "x"}, f"task{n}")
    state.record({"k1": None}, "task9")  # failed: sent again next time
    assert len(list(directory.iterdir())) == 6
    folded = SyncState.load(directory, compact_after=3)
    assert folded.digests == {"k": "d4", "k0": "x", "k2": "x", "k3": "x", "k4": "x"}
    names = sorted(p.name for p in directory.iterdir())
    assert len(names) == 1 and names[0].endswith("~folded.json")
    # A delta written after the fold sorts after it, so it wins.
    folded.record({"k": "d5"}, "task10")
    assert SyncState.load(directory).digests["k"] == "d5"


def test_an_unreadable_delta_counts_its_records_as_changed(tmp_path):
    directory = state_directory(f"file://{tmp_path}", "c", "op")
    SyncState.load(directory).record({"a": "1"}, "t1")
    (ObjectStoragePath(f"file://{tmp_path}/_sync/c/op") / "99999999T000000000000Z-torn.json").write_text('{"rec')
    assert SyncState.load(directory).digests == {"a": "1"}
    assert json.loads(sorted(directory.iterdir(), key=lambda p: p.name)[0].read_text())["records"] == {"a": "1"}
