"""send_each stops after a few server errors in a row, and leaves the rest for the task's retry."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.core.batching import MAX_CONSECUTIVE_OUTAGE_ERRORS, send_each
from airflow_provider_gtm.core.errors import (
    GtmClientError,
    GtmOutcomeUnknownError,
    GtmRateLimitError,
    GtmServerError,
    GtmTransportError,
)


def sender(failing: dict[int, Exception]):
    sent: list[int] = []

    def send_one(record: int) -> dict[str, int]:
        sent.append(record)
        if record in failing:
            raise failing[record]
        return {"id": record}

    return send_one, sent


@pytest.mark.parametrize("error", [GtmServerError("down", status=503), GtmTransportError("refused")])
def test_stops_after_consecutive_server_errors_and_flags_the_rest_for_resend(error):
    send_one, sent = sender({i: error for i in range(2, 12)})
    result = send_each(list(range(12)), send_one, lambda r: r)
    assert MAX_CONSECUTIVE_OUTAGE_ERRORS == 3
    assert sent == [0, 1, 2, 3, 4]  # two successes, then three errors: stop
    assert (result.submitted, result.succeeded, result.failed) == (12, 2, 10)
    assert all(f.resend for f in result.failures)
    assert [f.record for f in result.failures if "not sent" in f.error_message] == list(range(5, 12))
    assert [f.record for f in result.failures if not f.sent] == list(range(5, 12))  # never "touched"


def test_a_success_resets_the_count_and_refusals_do_not_count():
    down = GtmServerError("x", status=502)
    failing = {1: down, 2: down, 4: down, 5: GtmClientError("bad", status=400), 6: down, 7: down}
    send_one, sent = sender(failing)
    result = send_each(list(range(9)), send_one, lambda r: r)
    assert sent == list(range(9))  # never three server errors in a row
    assert {f.record: f.resend for f in result.failures} == {1: True, 2: True, 4: True, 5: False, 6: True, 7: True}


def test_unknown_outcomes_count_toward_the_stop_but_are_never_flagged_for_resend():
    send_one, sent = sender({i: GtmOutcomeUnknownError("outcome unknown, timeout") for i in range(6)})
    result = send_each(list(range(6)), send_one, lambda r: r)
    assert sent == [0, 1, 2]
    assert [f.resend for f in result.failures] == [False, False, False, True, True, True]


def test_a_rate_limit_block_is_an_outage_nothing_applied_and_resent_by_the_retry():
    # An Oktopost key block that outlasts the wait budget: 429, nothing processed.
    blocked = GtmRateLimitError("key blocked", status=429, retry_after=900)
    send_one, sent = sender({i: blocked for i in range(1, 10)})
    result = send_each(list(range(10)), send_one, lambda r: r)
    assert sent == [0, 1, 2, 3]
    assert (result.succeeded, result.failed) == (1, 9)
    assert all(f.resend for f in result.failures)  # never a per-record failure "429"
