"""Oktopost advocates to JSON Lines, published as an Asset that ``gtm_advocates_to_customer_base`` runs on."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import dag

from airflow_provider_gtm.examples import forms
from airflow_provider_gtm.examples.pools import OKTOPOST_POOL
from airflow_provider_gtm.operators.oktopost import OktopostFetchOperator

#: ``x-gtm-oktopost://api.oktopost.com/advocates``: the consumer DAG schedules on the same Asset.
ADVOCATES = OktopostFetchOperator.output_asset("advocates")


@dag(
    dag_id="gtm_fetch_oktopost_advocates",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["gtm", "sample", "oktopost", "producer"],
    # execution_timeout: no task runs forever, even against a list that never ends (issue #10).
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "execution_timeout": timedelta(hours=1)},
    render_template_as_native_obj=True,
    params={
        "max_people": forms.integer_param(None, title="At most this many advocates", low=1, optional=True,
                                          description="Empty: every advocate."),
    },
)
def gtm_fetch_oktopost_advocates() -> None:
    """
    ### Oktopost advocates, published as an Asset

    **fetch_advocates** streams every Oktopost advocate to JSON Lines (`_page`/`_count` paging, paced
    under Oktopost's limits) and declares its output as the Asset
    `x-gtm-oktopost://api.oktopost.com/advocates`. When it succeeds, Airflow records an asset event
    whose extra carries `uri` (the JSON Lines file) and `records` (plus `watermark`, the newest
    creation time, for lists whose records have one: Oktopost advocates have none), and the scheduler
    starts `gtm_advocates_to_customer_base`, which reads the file named by the event instead of
    fetching again.
    """
    # [START howto_operator_oktopost_fetch_asset]
    OktopostFetchOperator(
        task_id="fetch_advocates",
        pool=OKTOPOST_POOL,  # shares the Oktopost key with the other sample DAGs
        deferrable=True,  # a key block is waited out in the triggerer, not through the retries
        resource="advocates",
        limit="{{ params.max_people }}",
        outlets=[ADVOCATES],
    )
    # [END howto_operator_oktopost_fetch_asset]


gtm_fetch_oktopost_advocates()
