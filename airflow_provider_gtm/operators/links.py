"""Extra links: buttons on a task instance that open what the task created in the vendor's app.

A link is computed from the task's XCom (the ids the API assigned), never from an API call. Airflow
3 calls :meth:`get_link` on the worker when the task ends and stores the URL as an XCom; the UI and
the REST API (``GET /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}/links``) read it from there.

Only Oktopost returns objects a person opens in a web app (campaigns, messages, posts). Its API
documentation gives the app's host (``app.oktopost.com``) but not the paths of those pages, so the
URL is a template, configurable with ``[gtm] oktopost_app_link`` (env
``AIRFLOW__GTM__OKTOPOST_APP_LINK``), with ``{kind}`` (``campaigns``, ``messages``, ``posts``, ...)
and ``{id}`` placeholders. The default, ``https://app.oktopost.com/{kind}/{id}``, is a guess: check
it against your account and set the option when your app shows another path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_gtm.compat import BaseOperatorLink

DEFAULT_OKTOPOST_APP_LINK = "https://app.oktopost.com/{kind}/{id}"


def _xcom_result(operator: Any, ti_key: Any) -> Any:
    """The task's return value: its XCom (pushed before links are computed)."""
    pull = getattr(ti_key, "xcom_pull", None)
    if callable(pull):  # on the worker, ti_key is the running task instance
        return pull(task_ids=ti_key.task_id, key="return_value")
    from airflow_provider_gtm.compat import BaseXCom

    return BaseXCom.get_value(ti_key=ti_key, key="return_value")


def oktopost_app_link(kind: str, object_id: str) -> str:
    from airflow_provider_gtm.config import get

    template = get("oktopost_app_link", DEFAULT_OKTOPOST_APP_LINK)
    return template.format(kind=kind, id=object_id)


class OktopostAppLink(BaseOperatorLink):
    """Opens the first object an ``OktopostCreateOperator`` created (campaign, message, post, ...) in Oktopost."""

    name = "Oktopost"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        result = _xcom_result(operator, ti_key)
        ids = result.get("ids") if isinstance(result, Mapping) else None
        if not ids:
            return ""
        return oktopost_app_link(str(getattr(operator, "kind", "") or ""), str(ids[0]))
