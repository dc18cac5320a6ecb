"""Issue 23: a lookup for a lost answer settles only on this task's own work, never someone else's."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_gtm.core.batching import BatchResult, Failure
from airflow_provider_gtm.core.settlement import outcome_of
from airflow_provider_gtm.operators.octy import OctyBatchOperator
from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator

START = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def created(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")


class CampaignHook:
    def __init__(self, campaigns: list[dict[str, Any]]) -> None:
        self.campaigns = campaigns

    def created_since(self, resource: str, since: datetime) -> list[dict[str, Any]]:
        return [c for c in self.campaigns if datetime.strptime(c["Created"], "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=timezone.utc) >= since]


def resolve(campaigns: list[dict[str, Any]], records: list[Any], window: str) -> Any:
    operator = OktopostCreateOperator(task_id="c", kind="campaigns", records=records)
    return operator.resolve_unknown(CampaignHook(campaigns), records, window)  # type: ignore[arg-type]


WINDOW = f"{START.isoformat()}/{(START + timedelta(seconds=30)).isoformat()}"


def test_a_campaign_matching_every_field_sent_in_the_window_is_this_tasks():
    mine = {"Id": "002a", "Name": "Product launch", "Url": "https://x.example", "Created": created(0.2)}
    found, not_applied = resolve([mine], [{"name": "Product launch", "url": "https://x.example"}], WINDOW)
    assert (found, not_applied) == ([mine], [])


def test_another_runs_campaign_of_the_same_name_created_later_is_not_adopted():
    # Run A's create was lost before it was applied; run B created its own "Product launch" later.
    theirs = {"Id": "002b", "Name": "Product launch", "Url": "", "Created": created(10)}
    assert resolve([theirs], [{"name": "Product launch"}], WINDOW) == ([], [0])


def test_the_same_name_with_other_fields_is_not_this_tasks():
    theirs = {"Id": "002b", "Name": "Product launch", "Url": "https://other.example", "Created": created(0.1)}
    assert resolve([theirs], [{"name": "Product launch", "url": "https://x.example"}], WINDOW) == ([], [0])


def test_more_matching_campaigns_than_lost_records_is_left_to_a_person():
    two = [{"Id": f"002{i}", "Name": "Product launch", "Url": "", "Created": created(0.1 * i)} for i in (1, 2)]
    assert resolve(two, [{"name": "Product launch"}], WINDOW) is None


class ProfileHook:
    def __init__(self, profiles: list[dict[str, Any]]) -> None:
        self.profiles = profiles
        self.asked: list[list[str]] = []

    def get_by_ids(self, resource: str, ids: list[str]) -> list[dict[str, Any]]:
        self.asked.append(list(ids))
        return [p for p in self.profiles if p["customer_id"] in ids]


def profile(customer_id: str, name: str) -> dict[str, Any]:
    return {"customer_id": customer_id, "profile_data": {"name": name}, "platform_info": {"s": "t"},
            "has_charged": False}


def test_octy_already_exists_counts_as_own_only_when_the_stored_profile_matches():
    sent = [profile("c1", "Mine"), profile("c2", "Mine")]
    stored = [{**profile("c1", "Mine"), "profile_id": "p1"}, {**profile("c2", "Someone else"), "profile_id": "p2"}]
    operator = OctyBatchOperator(task_id="p", operation="profiles.create", records=sent)
    hook = ProfileHook(stored)
    assert operator.confirm_own_work(hook, sent, None) == [True, False]  # type: ignore[arg-type]
    assert hook.asked == [["c1", "c2"]]
    # Both met "already exists" on the client's own retry of a call that may have applied them.
    result = BatchResult(submitted=2, failures=[
        Failure(r, r["customer_id"], "Another profile exists with provided customer_id", 400, already_exists=True,
                own_work=True) for r in sent])
    outcome = outcome_of(result, sent, confirm=lambda records: operator.confirm_own_work(hook, records, None))
    assert [a["identifier"] for a in outcome.accepted] == ["c1"]
    assert [f["identifier"] for f in outcome.failures] == ["c2"]
