"""Resolving Oktopost posts whose create was lost in flight: list the message's posts and match them."""

from __future__ import annotations

from typing import Any

from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator

STARTED = "2026-11-23T10:00:00+00:00"


class ListingHook:
    def __init__(self, posts: list[dict[str, Any]]) -> None:
        self.posts = posts
        self.asked: list[dict[str, Any]] = []

    def iter_records(self, resource: str, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        assert resource == "posts"
        self.asked.append(params)
        return [p for p in self.posts if p["MessageId"] == params["messageId"]][:limit]


def record(credentials: Any, start: int | None = 1_900_000_000, message: str = "005a") -> dict[str, Any]:
    return {"messageId": message, "credentialIds": credentials, "startDateTime": start}


def resolve(posts: list[dict[str, Any]], records: list[dict[str, Any]]) -> Any:
    operator = OktopostCreateOperator(task_id="w", kind="posts", records=records)
    return operator.resolve_unknown(ListingHook(posts), records, STARTED)  # type: ignore[arg-type]


def test_found_posts_are_matched_by_profiles_and_start_time_and_the_rest_is_resent():
    applied = {"Id": "004x", "MessageId": "005a", "CredentialIds": ["c1"], "StartDateTime": 1_900_000_000,
               "Created": "2026-11-23 10:00:05"}
    other_profile = {**applied, "Id": "004y", "CredentialIds": ["c9"]}
    found, not_applied = resolve([applied, other_profile], [record("c1"), record(["c2"])])
    assert found == [applied] and not_applied == [1]


def test_profile_fields_in_every_documented_shape():
    as_objects = {"Id": "1", "MessageId": "005a", "Credentials": [{"Id": "c1"}, {"Id": "c2"}],
                  "StartDateTime": "1900000000", "Created": "2026-11-23 10:01:00"}
    as_comma_list = {"Id": "2", "MessageId": "005a", "CredentialId": "c3", "Created": "2026-11-23 10:01:00"}
    found, not_applied = resolve([as_objects, as_comma_list], [record("c2,c1"), record(["c3"], start=None)])
    assert [p["Id"] for p in found] == ["1", "2"] and not_applied == []


def test_a_post_created_before_the_chunk_started_is_not_taken_for_the_lost_one():
    older = {"Id": "1", "MessageId": "005a", "CredentialIds": ["c1"], "StartDateTime": 1_900_000_000,
             "Created": "2026-11-23 09:00:00"}
    assert resolve([older], [record("c1")]) == ([], [0])


def test_posts_that_do_not_say_their_profiles_cannot_tell():
    silent = {"Id": "1", "MessageId": "005a", "StartDateTime": 1_900_000_000, "Created": "2026-11-23 10:01:00"}
    assert resolve([silent], [record("c1")]) is None
