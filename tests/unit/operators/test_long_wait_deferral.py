"""A long rate-limit wait defers a deferrable operator and the resume carries on exactly once.

requests-mock and an injected FakeTimer: nothing sleeps. The Oktopost key block (15 minutes after
a 429) is the main case; a long ``Retry-After`` and a ``RateLimit-Reset`` pause go the same way.
"""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest

from airflow_provider_gtm.compat import (
    AirflowException,
    AirflowFailException,
    DateTimeTrigger,
    ObjectStoragePath,
    TaskDeferred,
)
from airflow_provider_gtm.core.client import ApiProfile, RestClient, RetryPolicy
from airflow_provider_gtm.core.deferral import GtmLongWaitError, deferring_waits_longer_than
from airflow_provider_gtm.core.ratelimit import RateLimiter, Window
from airflow_provider_gtm.core.timing import FakeTimer
from airflow_provider_gtm.hooks.oktopost import OktopostHook
from airflow_provider_gtm.operators.deferral import RESUME_METHOD
from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator, OktopostFetchOperator

US = "https://api.oktopost.com/v2"
ACCOUNT = "001kzy8780tsd6r"
API_KEY = "okto_api_key_7f3c9a1b2d4e6f80"


@pytest.fixture(autouse=True)
def connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_OKTOPOST_DEFAULT", json.dumps(
        {"conn_type": "oktopost", "login": ACCOUNT, "password": API_KEY, "extra": {"retry_backoff": 0}}))


@pytest.fixture
def timer():
    return FakeTimer()


class Ti(SimpleNamespace):
    def xcom_push(self, key, value):
        self.pushed[key] = value


def context():
    return {"ti": Ti(dag_id="d", run_id="r", task_id="t", map_index=-1, pushed={})}


def with_timer(cls, timer):
    """The operator with its hook on the test's clock (the limiter then keeps its state in memory)."""
    class Timed(cls):
        def make_hook(self):
            return OktopostHook(self.conn_id, timer=timer)
    Timed.__name__ = cls.__name__
    return Timed


def campaign_api(requests_mock, refuse_calls=(), retry_after=None):
    """POST /campaign: creates, except the given call numbers (1-based), answered 429."""
    created, calls = [], []

    def answer(request, ctx):
        calls.append(request)
        name = parse_qs(request.text)["name"][0]
        if len(calls) in refuse_calls:
            ctx.status_code = 429
            if retry_after is not None:
                ctx.headers["Retry-After"] = str(retry_after)
            return {"Result": False, "Errors": {"API": {"Error": "Rate limit exceeded"}}}
        created.append(name)
        return {"Result": True, "Campaign": {"Id": f"002{len(created):03d}", "Name": name}}

    requests_mock.post(f"{US}/campaign", json=answer)
    return created, calls


RECORDS = [{"name": f"Launch {i}"} for i in range(5)]


def test_a_key_block_defers_until_it_ends_and_the_resume_sends_the_rest_exactly_once(requests_mock, timer, tmp_path):
    created, calls = campaign_api(requests_mock, refuse_calls={3})
    op = with_timer(OktopostCreateOperator, timer)(
        task_id="t", kind="campaigns", records=RECORDS, deferrable=True, output_base_uri=f"file://{tmp_path}")
    ctx = context()
    start = timer.utcnow()
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)
    trigger = deferred.value.trigger
    assert isinstance(trigger, DateTimeTrigger)
    # Oktopost blocks the key for 15 minutes after a 429: the task waits in the triggerer until then.
    assert trigger.moment == start + timedelta(seconds=900)
    assert deferred.value.method_name == RESUME_METHOD
    assert timer.sleeps == [] or max(timer.sleeps) < 60  # nothing slept through the block on the worker
    assert created == ["Launch 0", "Launch 1"] and len(calls) == 3

    timer.sleep(900)  # the trigger fired: the block is over
    summary = op.resume_after_wait(ctx, event=trigger.moment, **deferred.value.kwargs)
    assert created == [r["name"] for r in RECORDS]  # each campaign created once: nothing sent twice
    assert len(calls) == 6  # the refused one is the only extra call
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (5, 5, 0)
    results = [json.loads(line) for line in open(summary["results_uri"].removeprefix("file://"))]
    assert [r["Name"] for r in results] == [r["name"] for r in RECORDS]


def test_a_block_met_again_after_resuming_defers_again(requests_mock, timer, tmp_path):
    created, _ = campaign_api(requests_mock, refuse_calls={2, 4})
    op = with_timer(OktopostCreateOperator, timer)(
        task_id="t", kind="campaigns", records=RECORDS, batch_size=2, deferrable=True,
        output_base_uri=f"file://{tmp_path}")
    ctx, deferrals, summary = context(), 0, None
    resume = op.execute
    kwargs: dict = {}
    while summary is None:
        try:
            summary = resume(ctx, **kwargs)
        except TaskDeferred as deferred:
            deferrals += 1
            timer.now += (deferred.trigger.moment - timer.utcnow()).total_seconds()
            resume, kwargs = op.resume_after_wait, {"event": None, **deferred.kwargs}
        assert deferrals < 5
    assert deferrals == 2
    assert created == [r["name"] for r in RECORDS]
    assert (summary["submitted"], summary["succeeded"]) == (5, 5)


def test_not_deferrable_fails_retryably_and_the_retry_after_the_block_sends_the_rest(requests_mock, timer, tmp_path):
    created, calls = campaign_api(requests_mock, refuse_calls={3})
    make = with_timer(OktopostCreateOperator, timer)
    kwargs = {"task_id": "t", "kind": "campaigns", "records": RECORDS, "deferrable": False, "on_failures": "warn",
              "output_base_uri": f"file://{tmp_path}"}
    ctx = context()
    # The block outlasts the 300 s wait budget: the task fails so that Airflow retries it. The
    # records the block stopped are not failures (Oktopost processed nothing): never dropped.
    with pytest.raises(AirflowException, match="rate-limit block") as failed:
        make(**kwargs).execute(ctx)
    assert not isinstance(failed.value, AirflowFailException)
    assert created == ["Launch 0", "Launch 1"] and len(calls) == 3

    timer.sleep(900)  # Airflow's retry, after the block
    summary = make(**kwargs).execute(ctx)
    assert created == [r["name"] for r in RECORDS]  # each once
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (5, 5, 0)
    assert open(summary["failures_uri"].removeprefix("file://")).read() == ""


def test_not_deferrable_waits_in_process_when_the_budget_allows(monkeypatch, requests_mock, timer, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_OKTOPOST_DEFAULT", json.dumps(
        {"conn_type": "oktopost", "login": ACCOUNT, "password": API_KEY, "extra": {"max_wait_seconds": 1000}}))
    created, _ = campaign_api(requests_mock, refuse_calls={3})
    op = with_timer(OktopostCreateOperator, timer)(
        task_id="t", kind="campaigns", records=RECORDS, output_base_uri=f"file://{tmp_path}")
    assert op.deferrable is False
    summary = op.execute(context())
    assert sum(timer.sleeps) == pytest.approx(900, abs=1)
    assert created == [r["name"] for r in RECORDS] and summary["succeeded"] == 5


def test_a_wait_under_the_threshold_stays_on_the_worker(requests_mock, timer, tmp_path):
    # A 429 with Retry-After: 30 blocks the key for 30 s: under the 60 s default, waited in-process.
    created, _ = campaign_api(requests_mock, refuse_calls={2}, retry_after=30)
    op = with_timer(OktopostCreateOperator, timer)(
        task_id="t", kind="campaigns", records=RECORDS, deferrable=True, output_base_uri=f"file://{tmp_path}")
    summary = op.execute(context())
    assert summary["succeeded"] == 5 and sum(timer.sleeps) == pytest.approx(30, abs=1)
    assert created == [r["name"] for r in RECORDS]


def test_threshold_from_config_and_per_operator(monkeypatch, requests_mock, timer, tmp_path):
    campaign_api(requests_mock, refuse_calls={2}, retry_after=30)
    monkeypatch.setenv("AIRFLOW__GTM__DEFER_WAITS_LONGER_THAN", "10")
    op = with_timer(OktopostCreateOperator, timer)(
        task_id="t", kind="campaigns", records=RECORDS, deferrable=True, output_base_uri=f"file://{tmp_path}")
    assert op.long_wait_threshold() == 10
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())
    assert deferred.value.trigger.moment == timer.utcnow() + timedelta(seconds=30)
    assert with_timer(OktopostCreateOperator, timer)(
        task_id="t", kind="campaigns", records=RECORDS, deferrable=True, defer_waits_longer_than=45,
    ).long_wait_threshold() == 45
    with pytest.raises(ValueError, match="defer_waits_longer_than"):
        OktopostCreateOperator(task_id="t", kind="campaigns", records=RECORDS, defer_waits_longer_than=-1)
    monkeypatch.setenv("AIRFLOW__GTM__DEFER_WAITS_LONGER_THAN", "soon")
    with pytest.raises(AirflowFailException, match=r"\[gtm\] defer_waits_longer_than"):
        op.execute(context())


def test_deferrable_defaults_to_airflow_setting(monkeypatch):
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert OktopostCreateOperator(task_id="t", kind="campaigns", records=RECORDS).deferrable is True
    assert OktopostFetchOperator(task_id="f", resource="campaigns").deferrable is True
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    assert OktopostCreateOperator(task_id="t", kind="campaigns", records=RECORDS).deferrable is False
    assert OktopostCreateOperator(task_id="t", kind="campaigns", records=RECORDS,
                                  default_args={"deferrable": True}).deferrable is True


@pytest.mark.parametrize("store", ["file", "object store"])
def test_a_fetch_defers_on_a_block_and_resumes_after_its_last_complete_page(requests_mock, timer, tmp_path,
                                                                           monkeypatch, store):
    pages = [
        {"json": {"Result": True, "Items": [{"Id": f"c{i}"} for i in range(25)], "Total": 60}},
        {"status_code": 429, "json": {"Result": False, "Errors": {"API": {"Error": "Rate limit exceeded"}}}},
        {"json": {"Result": True, "Items": [{"Id": f"c{i}"} for i in range(25, 50)], "Total": 60}},
        {"json": {"Result": True, "Items": [{"Id": f"c{i}"} for i in range(50, 60)], "Total": 60}},
    ]
    requests_mock.get(f"{US}/campaign", pages)
    uri = f"file://{tmp_path}/campaigns.jsonl"
    if store == "object store":  # part objects and a checkpoint object (operators/output.py)
        from fsspec.implementations.memory import MemoryFileSystem

        from airflow_provider_gtm.compat import io_fs as sdk_fs

        memory = MemoryFileSystem()
        monkeypatch.setitem(sdk_fs._register_filesystems(), "memory", lambda conn_id: memory)
        uri = f"memory://deferral/{tmp_path.name}/campaigns.jsonl"
    op = with_timer(OktopostFetchOperator, timer)(
        task_id="f", resource="campaigns", count=25, output_uri=uri, deferrable=True)
    ctx = context()
    start = timer.utcnow()
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)
    assert deferred.value.trigger.moment == start + timedelta(seconds=900)
    timer.sleep(900)
    result = op.resume_after_wait(ctx, event=None, **deferred.value.kwargs)
    pages_asked = [parse_qs(r.url.split("?", 1)[1])["_page"][0] for r in requests_mock.request_history]
    assert pages_asked == ["0", "1", "1", "2"]  # page 0 is not fetched again
    ids = [json.loads(line)["Id"] for line in ObjectStoragePath(uri).read_text().splitlines()]
    assert ids == [f"c{i}" for i in range(60)] and result["records"] == 60


def test_a_fetch_not_deferrable_fails_retryably_naming_the_block(requests_mock, timer, tmp_path):
    requests_mock.get(f"{US}/campaign", status_code=429,
                      json={"Result": False, "Errors": {"API": {"Error": "Rate limit exceeded"}}})
    op = with_timer(OktopostFetchOperator, timer)(task_id="f", resource="campaigns", deferrable=False,
                                                 output_uri=f"file://{tmp_path}/c.jsonl")
    with pytest.raises(AirflowException) as info:
        op.execute(context())
    assert type(info.value) is AirflowException and "key blocked until" in str(info.value)


# -- the client: which waits defer --------------------------------------------------------------

PROFILE = ApiProfile(name="paced", follow_ratelimit_headers=True)


def client(timer, limiter=None):
    return RestClient(profile=PROFILE, base_url="https://api.example", timer=timer, limiter=limiter,
                      retry=RetryPolicy(max_attempts=3, max_wait_seconds=600, jitter=0))


def test_client_defers_a_long_retry_after_and_waits_a_short_one(requests_mock, timer):
    requests_mock.get("https://api.example/x", [{"status_code": 429, "headers": {"Retry-After": "120"}},
                                                {"status_code": 429, "headers": {"Retry-After": "20"}},
                                                {"json": {"ok": True}}])
    limiter = RateLimiter([], timer)
    with deferring_waits_longer_than(60), pytest.raises(GtmLongWaitError) as info:
        client(timer, limiter).get_json("/x")
    assert info.value.reason == "Retry-After" and info.value.wait_seconds == 120
    assert info.value.resume_at == timer.utcnow() + timedelta(seconds=120)
    assert timer.sleeps == [] and requests_mock.call_count == 1
    # The pause is recorded for every process using the key; once it is over, a 20 s one is waited.
    timer.now += 120
    with deferring_waits_longer_than(60):
        assert client(timer, limiter).get_json("/x") == {"ok": True}
    assert sum(timer.sleeps) == pytest.approx(20)


def test_client_defers_a_ratelimit_reset_pause_before_sending(requests_mock, timer):
    requests_mock.get("https://api.example/x", json={"ok": True},
                      headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "300"})
    limiter = RateLimiter([Window(100, 60)], timer)
    api = client(timer, limiter)
    with deferring_waits_longer_than(60):
        api.get_json("/x")
        with pytest.raises(GtmLongWaitError) as info:
            api.get_json("/x")
    assert info.value.reason == "pause" and info.value.wait_seconds == pytest.approx(300)
    assert requests_mock.call_count == 1  # nothing sent into the pause


def test_client_outside_the_deferral_context_is_unchanged(requests_mock, timer):
    requests_mock.get("https://api.example/x", [{"status_code": 429, "headers": {"Retry-After": "120"}},
                                                {"json": {"ok": True}}])
    assert client(timer, RateLimiter([], timer)).get_json("/x") == {"ok": True}
    assert timer.sleeps == [120]
