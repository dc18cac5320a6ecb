"""Deferrable polling for CustomerOS answers that come later (person enrichment).

The worker submits the enrichment request (it is not idempotent); this trigger only polls the
result with GET, so a triggerer restart that re-runs :meth:`run` repeats nothing harmful.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_gtm.core.errors import GtmError


class CustomerOSPersonEnrichmentTrigger(BaseTrigger):
    """Poll a person-enrichment ``resultUrl`` until it is complete or the time budget runs out.

    :param conn_id: the CustomerOS connection id.
    :param result_url: the ``resultUrl`` (or its id) from the 202 answer.
    :param timeout: seconds from ``started_at`` after which the trigger gives up.
    :param poll_interval: first wait between polls; doubles up to ``max_poll_interval``.
    :param started_at: epoch seconds when polling started (kept across triggerer restarts).

    Emits ``{"status": "success", "result": <body>}``, ``{"status": "timeout", ...}`` or
    ``{"status": "error", "message": ...}``.
    """

    def __init__(
        self,
        *,
        conn_id: str,
        result_url: str,
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        max_poll_interval: float = 30.0,
        started_at: float | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.result_url = result_url
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.started_at = started_at if started_at is not None else time.time()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "result_url": self.result_url,
                "timeout": self.timeout,
                "poll_interval": self.poll_interval,
                "max_poll_interval": self.max_poll_interval,
                "started_at": self.started_at,
            },
        )

    async def _hook(self) -> Any:
        from airflow.sdk import BaseHook

        from airflow_provider_gtm.hooks.customeros import CustomerOSHook

        hook = CustomerOSHook(self.conn_id)
        # A sync connection lookup inside the event loop fails on Airflow 3: fetch it async and hand it over.
        hook.__dict__["connection"] = await BaseHook.aget_connection(self.conn_id)
        return hook

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await self._hook()
        interval = self.poll_interval
        try:
            while True:
                try:
                    complete, body = await asyncio.to_thread(hook.get_person_enrichment_result, self.result_url)
                except GtmError as exc:
                    yield TriggerEvent({"status": "error", "message": str(exc)})
                    return
                if complete:
                    yield TriggerEvent({"status": "success", "result": body})
                    return
                if time.time() - self.started_at + interval > self.timeout:
                    yield TriggerEvent(
                        {
                            "status": "timeout",
                            "message": f"person enrichment {self.result_url!r} not complete after {self.timeout:g}s",
                        }
                    )
                    return
                await asyncio.sleep(interval)
                interval = min(self.max_poll_interval, interval * 2)
        finally:
            await asyncio.to_thread(hook.close)
