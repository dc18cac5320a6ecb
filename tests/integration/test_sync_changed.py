"""``sync="changed"`` against the sandbox: a second sync sends only what changed, in as few calls as Octy allows,
and a killed second sync, retried, still writes every record exactly once; ``dry_run=True`` sends nothing and
its plan is what the real run then does."""

from __future__ import annotations

import multiprocessing
import signal
from collections import Counter
from typing import Any

import pytest

from airflow_provider_gtm.compat import AirflowFailException
from airflow_provider_gtm.core.syncstate import state_directory, sync_history
from airflow_provider_gtm.operators.octy import OctyBatchOperator
from airflow_provider_gtm.operators.sync import plan_of
from tests.integration.support import Ti, lines
from tests.integration.test_kill_and_retry import KILL_POINTS, Case, _child
from tests.integration.test_kill_and_retry import context as retry_context


def item(i: int, price: int | None = None) -> dict[str, Any]:
    # ``status``: Octy's update requires it; its create stores every item "active".
    return {"item_id": f"sku{i}", "item_category": "shoes", "item_name": f"Shoe {i}", "item_description": "x",
            "item_price": 100 + i if price is None else price, "status": "active"}


def upsert(records: list[Any], base: str, **kwargs: Any) -> OctyBatchOperator:
    return OctyBatchOperator(task_id="sync_items", operation="items.upsert", sync="changed", records=records,
                             output_base_uri=base, **kwargs)


def run(operator: OctyBatchOperator, run_id: str) -> dict[str, Any]:
    ctx = {"ti": Ti(dag_id="sync", run_id=run_id, task_id=operator.task_id, map_index=-1, pushed={})}
    return operator.execute(ctx)


def octy_calls(sandbox: Any) -> int:
    return int(sandbox.state()["calls"].get("octy", 0))


def stored(sandbox: Any) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for record in sandbox.state()["apis"]["octy"]["items"].values():
        found.setdefault(record.get("item_id"), []).append(record)
    return found


@pytest.fixture
def sandbox(gtm_sandbox_connections):
    gtm_sandbox_connections.configure(rate_limits=False)
    return gtm_sandbox_connections


CHANGED = (1, 50, 99)


def test_second_sync_sends_only_the_3_changed_records_in_one_call(sandbox, tmp_path):
    base = f"file://{tmp_path}/out"
    records = [item(i) for i in range(100)]
    first = run(upsert(records, base, batch_size=100), "r1")
    assert (first["submitted"], first["succeeded"], first["failed"], first["unchanged"]) == (100, 100, 0, 0)

    changed = [item(i, price=999) if i in CHANGED else item(i) for i in range(100)]
    before = octy_calls(sandbox)
    second = run(upsert(changed, base, batch_size=100), "r2")
    assert octy_calls(sandbox) - before == 1, "three changed items are one items/update call"
    assert (second["submitted"], second["succeeded"], second["failed"], second["unchanged"]) == (3, 3, 0, 97)
    assert second["submitted"] + second["unchanged"] == len(changed)
    assert sorted(r["item_id"] for r in lines(second["results_uri"])) == sorted(f"sku{i}" for i in CHANGED)
    items = stored(sandbox)
    assert all(len(items[f"sku{i}"]) == 1 for i in range(100))
    assert {i: items[f"sku{i}"][0]["item_price"] for i in (0, *CHANGED)} == {0: 100, 1: 999, 50: 999, 99: 999}

    before = octy_calls(sandbox)
    third = run(upsert(changed, base, batch_size=100), "r3")
    assert octy_calls(sandbox) == before, "nothing changed: nothing is sent"
    assert (third["submitted"], third["unchanged"]) == (0, 100)


def test_a_refused_record_is_sent_again_on_the_next_sync(sandbox, tmp_path):
    base = f"file://{tmp_path}/out"
    records = [item(i) for i in range(5)] + [{**item(5), "item_price": "cheap"}]
    first = run(upsert(records, base, on_failures="warn"), "r1")
    assert (first["succeeded"], first["failed"]) == (5, 1)
    again = run(upsert(records, base, on_failures="warn"), "r2")
    # Unchanged, but its last send failed: it is sent again (and refused again, with Octy's words).
    assert (again["submitted"], again["failed"], again["unchanged"]) == (1, 1, 5)
    assert "item_price must be an integer" in lines(again["failures_uri"])[0]["error_message"]


def test_sync_history_says_when_each_record_went_and_what_the_api_said(sandbox, tmp_path):
    base = f"file://{tmp_path}/out"
    refused = {**item(1), "item_price": "cheap"}
    run(upsert([item(0), refused], base, on_failures="warn"), "r1")
    run(upsert([item(0, price=5), refused, item(2)], base, on_failures="warn"), "r2")
    run(upsert([item(0, price=5), refused, item(2)], base, on_failures="warn"), "r3")
    directory = state_directory(base, "octy_default", "items.upsert")
    sent = sync_history(directory, "sku0")
    assert [(e["run_id"], e["outcome"], e["api_id"]) for e in sent] == [("r1", "succeeded", "sku0"),
                                                                         ("r2", "succeeded", "sku0")]
    assert sent[0]["digest"] != sent[1]["digest"] and sent[1]["task_id"] == "sync_items"
    refusals = sync_history(directory, "sku1")
    assert [(e["run_id"], e["outcome"]) for e in refusals] == [("r1", "refused"), ("r2", "refused"), ("r3", "refused")]
    assert "item_price must be an integer" in refusals[-1]["error_message"]
    # Append-only: one object per task instance that sent something, none rewritten.
    assert len(list((tmp_path / "out" / "_sync" / "octy_default" / "items.upsert" / "history").iterdir())) == 3


def test_deleting_the_state_makes_the_next_sync_a_full_one(sandbox, tmp_path):
    base = f"file://{tmp_path}/out"
    records = [item(i) for i in range(4)]
    run(upsert(records, base), "r1")
    state = tmp_path / "out" / "_sync" / "octy_default" / "items.upsert"
    assert len(list(state.glob("*.json"))) == 1
    for path in state.glob("*.json"):
        path.unlink()
    # All four are new to the state again: creates, which Octy answers "already exists" (its own words).
    full = run(upsert(records, base, on_failures="warn", existing_is_success=True), "r2")
    assert (full["submitted"], full["unchanged"]) == (4, 0)


NEW = 3


def _second_sync(records: list[Any], base: str) -> OctyBatchOperator:
    # One record per chunk: the kill points of test_kill_and_retry (chunk 1 of several) fall mid-run.
    return OctyBatchOperator(task_id="w", operation="items.upsert", sync="changed", records=records,
                             output_base_uri=base, batch_size=1)


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_killed_second_sync_is_resumed_exactly_once(sandbox, tmp_path, point):
    base = f"file://{tmp_path}/out"
    run(upsert([item(i) for i in range(100)], base), "r0")
    # New items first: chunk 1, the one the kill interrupts, is a create (the harder case to settle).
    second = [item(1000 + n) for n in range(NEW)] + [item(i, price=999) if i in CHANGED else item(i)
                                                    for i in range(100)]
    method, call, when = KILL_POINTS[point]
    case = Case("octy", _second_sync, lambda n: second, lambda r: r["item_id"],
                lambda state: [i.get("item_id") for i in state["items"].values()], lookup=True)
    child = multiprocessing.get_context("fork").Process(target=_child, args=(case, second, base, method, call, when))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL, "the first try must die at the kill point"

    ctx = retry_context()  # the same task instance as the killed try: it resumes the ledger
    summary = _second_sync(second, base).execute(ctx)
    counts = Counter(case.stored(sandbox.state()["apis"]["octy"]))
    assert {r["item_id"]: counts[r["item_id"]] for r in second} == {r["item_id"]: 1 for r in second}
    assert (summary["submitted"], summary["succeeded"], summary["failed"], summary["unchanged"]) == (6, 6, 0, 97)
    items = stored(sandbox)
    assert [items[f"sku{i}"][0]["item_price"] for i in CHANGED] == [999, 999, 999]

    before = octy_calls(sandbox)
    after = run(upsert(second, base), "r9")
    assert octy_calls(sandbox) == before and (after["submitted"], after["unchanged"]) == (0, 103)


def test_dry_run_sends_nothing_and_its_plan_is_what_the_real_run_does(sandbox, tmp_path):
    base = f"file://{tmp_path}/out"
    run(upsert([item(i) for i in range(100)], base), "r1")
    second = [item(i, price=999) if i in CHANGED else item(i) for i in range(100)] + [item(500), item(501)]

    before = octy_calls(sandbox)
    preview = run(upsert(second, base, dry_run="True"), "r2")
    assert octy_calls(sandbox) == before, "a dry run makes no call at all"
    assert preview["dry_run"] is True and preview["sent"] == 0
    plan = plan_of(preview)
    assert sorted(plan["would_update"]) == sorted(f"sku{i}" for i in CHANGED)
    assert sorted(plan["would_create"]) == ["sku500", "sku501"]
    assert (preview["unchanged"], preview["invalid"]) == (97, 0)
    assert not (tmp_path / "out" / "sync" / "r2" / "sync_items" / "_ledger").exists()

    real = run(upsert(second, base), "r3")
    results = lines(real["results_uri"])
    done = {r["item_id"]: ("update" if r.get("updated_at") else "create") for r in results}
    assert done == {**{k: "update" for k in plan["would_update"]}, **{k: "create" for k in plan["would_create"]}}
    assert (real["submitted"], real["unchanged"]) == (len(done), plan["counts"]["unchanged"])


def test_dry_run_lists_invalid_records_with_their_reasons(sandbox, tmp_path):
    base = f"file://{tmp_path}/out"
    records = [item(0), {"item_name": "no id"}, item(0)]
    before = octy_calls(sandbox)
    preview = run(upsert(records, base, dry_run=True), "r1")
    assert octy_calls(sandbox) == before
    plan = plan_of(preview)
    assert [entry["record"] for entry in plan["invalid"]] == [2, 3]
    assert "'item_id' is missing" in plan["invalid"][0]["reason"]
    assert "appears twice" in plan["invalid"][1]["reason"]
    # The real run refuses the same input before its first write.
    with pytest.raises(AirflowFailException, match="nothing was sent"):
        run(upsert(records, base), "r2")
    assert octy_calls(sandbox) == before


def test_a_key_twice_is_refused_even_when_its_first_record_is_unchanged(sandbox, tmp_path):
    base = f"file://{tmp_path}/out"
    run(upsert([item(0)], base), "r1")
    before = octy_calls(sandbox)
    with pytest.raises(AirflowFailException, match="record 2 cannot be synced, nothing was sent: .*appears twice"):
        run(upsert([item(0), item(0, price=7)], base), "r2")
    assert octy_calls(sandbox) == before


def test_a_retry_after_the_policy_failed_the_task_counts_every_record_once(sandbox, tmp_path):
    base = f"file://{tmp_path}/out"
    records = [item(i) for i in range(5)] + [{**item(5), "item_price": "cheap"}]
    ctx = {"ti": Ti(dag_id="sync", run_id="r1", task_id="sync_items", map_index=-1, pushed={})}
    with pytest.raises(AirflowFailException, match="1 of 6 records failed"):
        upsert(records, base).execute(ctx)
    first = ctx["ti"].pushed["return_value"]
    assert (first["submitted"], first["failed"], first["unchanged"]) == (6, 1, 0)
    # Airflow's retry of the same task instance: the state now holds the five it confirmed.
    before = octy_calls(sandbox)
    with pytest.raises(AirflowFailException, match="1 of 6 records failed"):
        upsert(records, base).execute(ctx)
    again = ctx["ti"].pushed["return_value"]
    assert octy_calls(sandbox) == before, "what the first try settled is not sent again"
    assert (again["submitted"], again["succeeded"], again["failed"], again["unchanged"]) == (6, 5, 1, 0)


def test_oktopost_updates_one_call_per_record_only_the_changed_ones_go(sandbox, tmp_path):
    from airflow_provider_gtm.operators.oktopost import OktopostBatchOperator, OktopostCreateOperator

    base = f"file://{tmp_path}/out"
    created = run(OktopostCreateOperator(task_id="campaigns", kind="campaigns", output_base_uri=base,
                                         records=[{"name": f"C{i}"} for i in range(20)]), "r0")
    campaigns = [{"id": i, "name": f"Campaign {n}"} for n, i in enumerate(created["ids"])]

    def rename(records: list[dict[str, Any]], run_id: str) -> tuple[int, dict[str, Any]]:
        before = int(sandbox.state()["calls"].get("oktopost", 0))
        summary = run(OktopostBatchOperator(task_id="rename", operation="campaigns.update", sync="changed",
                                            records=records, output_base_uri=base), run_id)
        return int(sandbox.state()["calls"].get("oktopost", 0)) - before, summary

    assert rename(campaigns, "r1")[0] == 20
    changed = [dict(c, name=c["name"] + "!") if n in (2, 9, 17) else c for n, c in enumerate(campaigns)]
    calls, summary = rename(changed, "r2")
    assert calls == 3 and (summary["submitted"], summary["unchanged"]) == (3, 17)
    names = {c["Id"]: c["Name"] for c in sandbox.state()["apis"]["oktopost"]["campaigns"].values()}
    assert [names[changed[n]["id"]] for n in (2, 9, 17)] == ["Campaign 2!", "Campaign 9!", "Campaign 17!"]
