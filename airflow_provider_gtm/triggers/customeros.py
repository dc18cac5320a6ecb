"""Deferrable polling for CustomerOS answers that come later (person enrichment).

The worker submits the enrichment requests (starting an enrichment is not something to repeat);
these triggers only poll the results with GET, so a triggerer restart that re-runs :meth:`run`
repeats nothing harmful. Events are plain JSON.

An error event says whether Airflow may retry the task: ``"retryable": true`` for a 5xx, a rate
limit or a transport error that outlasted the in-call retries, ``false`` for auth and other 4xx
answers (the operator turns it into ``AirflowFailException``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_gtm.core.errors import GtmApiError, GtmError


def error_event(exc: GtmError) -> dict[str, Any]:
    """The event for a failed poll: the message and whether retrying the task can help."""
    retryable = isinstance(exc, GtmApiError) and exc.retryable
    status = getattr(exc, "status", None)
    return {"status": "error", "message": str(exc), "retryable": bool(retryable), "http_status": status}


class CustomerOSPersonEnrichmentsTrigger(BaseTrigger):
    """Poll several person-enrichment ``resultUrl``\\ s together until all are complete or time runs out.

    :param conn_id: the CustomerOS connection id.
    :param result_urls: the ``resultUrl``\\ s (or their ids) from the 202 answers.
    :param timeout: seconds from ``started_at`` after which the trigger gives up.
    :param poll_interval: first wait between polling rounds; doubles up to ``max_poll_interval``.
    :param started_at: epoch seconds when polling started (kept across triggerer restarts).

    Emits ``{"status": "success", "results": {<result_url>: <body>}}``, ``{"status": "timeout",
    "message", "pending": [...]}`` or ``{"status": "error", "message", "retryable", "http_status"}``.
    """

    def __init__(
        self,
        *,
        conn_id: str,
        result_urls: list[str],
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        max_poll_interval: float = 30.0,
        started_at: float | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.result_urls = list(result_urls)
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.started_at = started_at if started_at is not None else time.time()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "result_urls": self.result_urls,
                "timeout": self.timeout,
                "poll_interval": self.poll_interval,
                "max_poll_interval": self.max_poll_interval,
                "started_at": self.started_at,
            },
        )

    async def _hook(self) -> Any:
        from airflow_provider_gtm.compat import BaseHook
        from airflow_provider_gtm.hooks.customeros import CustomerOSHook

        hook = CustomerOSHook(self.conn_id)
        # A sync connection lookup inside the event loop fails on Airflow 3: fetch it async and hand it over.
        hook.__dict__["connection"] = await BaseHook.aget_connection(self.conn_id)
        return hook

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await self._hook()
        interval = self.poll_interval
        pending = list(dict.fromkeys(self.result_urls))
        results: dict[str, Any] = {}
        try:
            while True:
                for url in list(pending):
                    try:
                        # The hook is synchronous (pacing, retries): one poll at a time in a thread.
                        complete, body = await asyncio.to_thread(hook.get_person_enrichment_result, url)
                    except GtmError as exc:
                        yield TriggerEvent(error_event(exc))
                        return
                    if complete:
                        results[url] = body
                        pending.remove(url)
                if not pending:
                    yield TriggerEvent({"status": "success", "results": results})
                    return
                if time.time() - self.started_at + interval > self.timeout:
                    yield TriggerEvent(
                        {
                            "status": "timeout",
                            "message": f"{len(pending)} person enrichment(s) not complete after {self.timeout:g}s",
                            "pending": pending,
                        }
                    )
                    return
                await asyncio.sleep(interval)
                interval = min(self.max_poll_interval, interval * 2)
        finally:
            await asyncio.to_thread(hook.close)


class CustomerOSPersonEnrichmentTrigger(CustomerOSPersonEnrichmentsTrigger):
    """Poll one person-enrichment ``resultUrl`` (see :class:`CustomerOSPersonEnrichmentsTrigger`).

    Emits ``{"status": "success", "result": <body>}`` (and the other events of the base class).
    """

    def __init__(self, *, conn_id: str, result_url: str, **kwargs: Any) -> None:
        super().__init__(conn_id=conn_id, result_urls=[result_url], **kwargs)
        self.result_url = result_url

    def serialize(self) -> tuple[str, dict[str, Any]]:
        path, kwargs = super().serialize()
        kwargs.pop("result_urls")
        return path, {**kwargs, "result_url": self.result_url}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async for event in super().run():
            payload = dict(event.payload)
            if payload.get("status") == "success":
                payload = {"status": "success", "result": payload["results"][self.result_url]}
            yield TriggerEvent(payload)
