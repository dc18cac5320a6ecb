"""Land Octopus community posts in a SQL table: fetch (incremental, by watermark) -> upsert into the warehouse."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import Param, dag, get_current_context, task

from airflow_provider_gtm.examples import forms
from airflow_provider_gtm.operators.octopus import OctopusFetchOperator

#: The SQL connection the posts land in: any common.sql database (``make demo``: SQLite; the
#: distributed test: PostgreSQL), e.g. ``AIRFLOW_CONN_GTM_WAREHOUSE='{"conn_type": "sqlite", "host":
#: "/path/warehouse.db"}'`` (the sqlite provider reads the file from the host).
WAREHOUSE_CONN_ID = "gtm_warehouse"


@dag(
    dag_id="gtm_land_community_posts",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["gtm", "sample", "octopus", "sql"],
    # execution_timeout: no task runs forever, even against a list that never ends (issue #10).
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "execution_timeout": timedelta(hours=1)},
    render_template_as_native_obj=True,
    params={
        "since": Param(None, type=["null", "string"], format="date-time", title="Posts created after",
                       description="Leave empty to continue after the newest post the last run landed "
                                   "(the first run takes every post). A time here replays from it."),
        "max_posts": forms.integer_param(None, title="At most this many posts", low=1, optional=True,
                                         description="Empty: every post."),
        "table": Param("community_posts", type="string", pattern="^[A-Za-z_][A-Za-z0-9_]{0,62}$", title="Table",
                       description="Created when missing; one row per post, keyed by its id. 1 to 63 characters: "
                                   "letters, digits and _, not starting with a digit."),
    },
)
def gtm_land_community_posts() -> None:
    """
    ### Land community posts in a SQL table

    1. **fetch_posts** fetches the Octopus posts created since the newest one the last successful run
       fetched (the `createdAt` watermark, kept in an Airflow Variable), oldest first, to JSON Lines.
    2. **land_posts** upserts them into the table through the `gtm_warehouse` connection's common.sql
       hook (SQLite, PostgreSQL, ...): one row per post keyed by its `id` (the API spec's id field),
       with its `createdAt` as `watermark` and the whole post as JSON in `record`. Landing the same
       file again (a retry, a cleared run) leaves one row per post.

    From the table, a sync DAG sends what BI or a model changed back to an API with
    `sync="changed"` (see the README: fetch -> land -> sync).
    """
    fetch = OctopusFetchOperator(
        task_id="fetch_posts",
        feed="all_posts",
        origin_time="{{ params.since }}",
        direction="After",
        order="Asc",
        watermark_field="createdAt",
        since_last_watermark=True,
        limit="{{ params.max_posts }}",
    )

    @task
    def land_posts(fetched: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_gtm.examples.landing import land_fetched, table_key

        params = get_current_context()["params"]
        return land_fetched(fetched, conn_id=WAREHOUSE_CONN_ID, table=params["table"],
                            key=table_key("octopus", "all_posts"), watermark_field="createdAt")

    land_posts(fetch.output)


gtm_land_community_posts()
