"""Publish a campaign: from the trigger form, an Oktopost campaign, its message and scheduled posts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import Param, dag, get_current_context, task

from airflow_provider_gtm.examples import forms
from airflow_provider_gtm.examples.pools import OKTOPOST_POOL
from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator

POSTS_PER_TASK = 20


@dag(
    dag_id="gtm_publish_campaign",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["gtm", "sample", "oktopost"],
    # execution_timeout: no task runs forever, even against a list that never ends (issue #10).
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1), "execution_timeout": timedelta(hours=1)},
    params={
        "campaign_name": Param("Product launch", type="string", title="Campaign name",
                               description="The name of the Oktopost campaign created for this run, 1 to 200 "
                                           "characters.", allOf=[{"minLength": 1, "maxLength": 200}]),
        "campaign_url": Param(None, type=["null", "string"], title="Campaign link",
                              description="The URL the campaign promotes (optional)."),
        "network": forms.oktopost_network_param(),
        "message": forms.oktopost_message_param("We just launched something new."),
        "credential_ids": forms.oktopost_credential_ids_param(),
        "start_time": Param(None, type=["null", "string"], format="date-time", title="Publish at",
                            description="When the posts go out (UTC); empty: one hour from now."),
        "post_status": forms.oktopost_post_status_param(),
        "dry_run": forms.dry_run_param(),
    },
)
def gtm_publish_campaign() -> None:
    """
    ### Publish a campaign

    Fill in the trigger form and run:

    1. **create_campaign** creates the Oktopost campaign.
    2. **create_message** creates its message for the chosen network.
    3. **plan_posts** chooses the social profiles (the ones given, or every valid profile of the
       network) and plans one scheduled post per profile, split into chunks.
    4. **create_posts** creates the posts, one mapped task per chunk, paced under Oktopost's limits
       (60 calls per minute, 120 per 5 seconds) so the API key is never blocked. Every Oktopost task
       runs in the `gtm_oktopost` pool (one slot), so tasks waiting for the key's budget queue in
       Airflow instead of holding workers: create it once per installation (`make demo` does).
    5. **report** lists what was created and every refusal with Oktopost's reason.
    6. **check_run** runs only when a step failed and fails the run, so a run with refusals
       beyond the failure policy ends "failed" while the report still lists them.

    **Dry run** (the form's toggle): create_campaign checks its record and writes its plan, nothing
    is sent; the steps that need the campaign's id are skipped.
    """

    @task
    def campaign_record() -> list[dict[str, Any]]:
        params = get_current_context()["params"]
        record = {"name": params["campaign_name"]}
        if params.get("campaign_url"):
            record["url"] = params["campaign_url"]
        return [record]

    # deferrable: an Oktopost key block (15 minutes after a 429) is waited out in the triggerer,
    # holding no worker slot, instead of failing through the task's retries.
    # [START howto_operator_oktopost_create]
    create_campaign = OktopostCreateOperator(task_id="create_campaign", kind="campaigns", records=campaign_record(),
                                             pool=OKTOPOST_POOL, deferrable=True, dry_run="{{ params.dry_run }}")
    # [END howto_operator_oktopost_create]

    @task
    def message_record(campaign: dict[str, Any]) -> list[dict[str, Any]]:
        from airflow_provider_gtm.examples.transforms import skip_after_dry_run

        skip_after_dry_run(campaign)  # a dry run created no campaign to attach a message to
        params = get_current_context()["params"]
        return [{"campaignId": campaign["ids"][0], "network": params["network"], "message": params["message"]}]

    create_message = OktopostCreateOperator(
        task_id="create_message", kind="messages", records=message_record(create_campaign.output), pool=OKTOPOST_POOL,
        deferrable=True, dry_run="{{ params.dry_run }}",
    )

    @task(pool=OKTOPOST_POOL)
    def plan_posts(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
        from airflow_provider_gtm.examples.transforms import plan_campaign_posts
        from airflow_provider_gtm.hooks.oktopost import OktopostHook

        params = get_current_context()["params"]
        return plan_campaign_posts(
            message_id=message["ids"][0],
            network=params["network"],
            credential_ids=[i.strip() for i in params.get("credential_ids") or [] if i.strip()],
            start_time=params.get("start_time"),
            status=params["post_status"],
            hook=OktopostHook(),
            per_chunk=POSTS_PER_TASK,
        )

    create_posts = OktopostCreateOperator.partial(
        task_id="create_posts", kind="posts", pool=OKTOPOST_POOL, deferrable=True, dry_run="{{ params.dry_run }}"
    ).expand(
        records=plan_posts(create_message.output)
    )

    @task(trigger_rule="all_done")
    def report() -> dict[str, Any]:
        from airflow_provider_gtm.examples.transforms import run_report

        return run_report("Publish a campaign", ["create_campaign", "create_message", "create_posts"])

    @task(trigger_rule="one_failed")
    def check_run() -> None:
        """Runs only when a step failed, so that the run ends "failed" although the report succeeded."""
        from airflow.providers.common.compat.sdk import AirflowFailException

        raise AirflowFailException("A step of this run failed; the report task lists every refusal and its reason.")

    create_posts >> report()
    [create_campaign, create_message, create_posts] >> check_run()


gtm_publish_campaign()
