"""Community engagement into retention: Octopus posts -> Octy profiles and events -> failure report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import Param, dag, get_current_context, task

from airflow_provider_gtm.examples import forms
from airflow_provider_gtm.operators.octopus import OctopusFetchOperator
from airflow_provider_gtm.operators.octy import OctyBatchOperator

EVENTS_PER_CHUNK = 1000


@dag(
    dag_id="gtm_community_engagement_to_retention",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["gtm", "sample", "octopus", "octy"],
    # execution_timeout: no task runs forever, even against a list that never ends (issue #10).
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "execution_timeout": timedelta(hours=1)},
    render_template_as_native_obj=True,
    params={
        "since": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Posts created after",
            description="Leave empty to continue after the newest post of the last successful fetch "
                        "(the first run takes every post). A time here replays from it.",
        ),
        "page_size": forms.octopus_page_size_param(),
        "max_posts": forms.integer_param(None, title="At most this many posts", low=1, optional=True,
                                         description="Empty: every post."),
        "event_type": forms.octy_event_type_param("community_post"),
        "on_failures": forms.failure_policy_param("Octy"),
        "max_failure_ratio": forms.ratio_param(),
        "extra_profiles": forms.octy_profiles_param(),
        "dry_run": forms.dry_run_param(),
    },
)
def gtm_community_engagement_to_retention() -> None:
    """
    ### Community engagement into retention

    Every day, the posts written in the Octopus community since the last run become Octy data:

    1. **ensure_event_type** creates the custom Octy event type (an existing one is fine).
    2. **fetch_new_posts** streams Octopus's *all posts* feed into JSON Lines, continuing after the
       newest post (`createdAt`) the last successful fetch wrote: a watermark kept in the Airflow
       Variable `gtm_watermark__gtm_community_engagement_to_retention__fetch_new_posts`, so scheduled,
       manual and retried runs fetch every post exactly once whatever the schedule (a data interval
       has zero length on Airflow 3, so `data_interval_start` would lose the posts between runs).
       If a later step fails, clear that step in the same run: the posts stay in its file.
    3. **build_profiles** turns each distinct author into an Octy profile (`customer_id` = `octopus-<id>`).
    4. **create_profiles** sends them in batches of 500; authors that already exist count as success.
    5. **build_events** maps each post to an event of the custom type for its author's profile, in
       chunks, and **create_events** sends the chunks as mapped tasks.
    6. **report** names every `failed_to_*` record with Octy's reason.
    7. **check_run** runs only when a step failed and fails the run, so a run with refusals
       beyond the failure policy ends "failed" while the report still lists them.
    """
    # [START howto_operator_octy_batch]
    ensure_event_type = OctyBatchOperator(
        task_id="ensure_event_type",
        operation="event_types.create",
        records=[{"event_type": "{{ params.event_type }}", "event_properties": ["post_id", "topic_id", "text_length"]}],
        existing_is_success=True,
        dry_run="{{ params.dry_run }}",
    )
    # [END howto_operator_octy_batch]
    # [START howto_operator_octopus_fetch]
    fetch = OctopusFetchOperator(
        task_id="fetch_new_posts",
        feed="all_posts",
        origin_time="{{ params.since }}",
        direction="After",
        order="Asc",
        watermark_field="createdAt",
        since_last_watermark=True,
        page_size="{{ params.page_size }}",
        limit="{{ params.max_posts }}",
    )
    # [END howto_operator_octopus_fetch]

    @task
    def build_profiles(posts: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_gtm.examples.transforms import posts_to_profiles

        context = get_current_context()
        return posts_to_profiles(posts["uri"], context, extra=context["params"].get("extra_profiles") or [])

    profiles = build_profiles(fetch.output)
    # [START howto_operator_octy_batch_from_file]
    create_profiles = OctyBatchOperator(
        task_id="create_profiles",
        operation="profiles.create",
        input_uri="{{ ti.xcom_pull(task_ids='build_profiles')['uri'] }}",
        existing_is_success=True,
        on_failures="{{ params.on_failures }}",
        max_failure_ratio="{{ params.max_failure_ratio }}",
        dry_run="{{ params.dry_run }}",
    )
    # [END howto_operator_octy_batch_from_file]

    @task
    def build_events(posts: dict[str, Any], created: dict[str, Any]) -> list[str]:
        from airflow_provider_gtm.examples.transforms import posts_to_event_chunks, skip_after_dry_run
        from airflow_provider_gtm.hooks.octy import OctyHook

        skip_after_dry_run(created)  # events need the profile ids a dry run did not create

        context = get_current_context()
        return posts_to_event_chunks(
            posts["uri"], created, context, hook=OctyHook(), event_type=context["params"]["event_type"],
            chunk_size=EVENTS_PER_CHUNK,
        )

    event_chunks = build_events(fetch.output, create_profiles.output)
    create_events = OctyBatchOperator.partial(
        task_id="create_events",
        operation="events.create",
        on_failures="{{ params.on_failures }}",
        max_failure_ratio="{{ params.max_failure_ratio }}",
        dry_run="{{ params.dry_run }}",
    ).expand(input_uri=event_chunks)

    @task(trigger_rule="all_done")
    def report() -> dict[str, Any]:
        from airflow_provider_gtm.examples.transforms import run_report

        return run_report(
            "Community engagement into retention",
            ["ensure_event_type", "fetch_new_posts", "create_profiles", "create_events"],
        )

    profiles >> create_profiles
    [ensure_event_type, create_profiles] >> event_chunks

    @task(trigger_rule="one_failed")
    def check_run() -> None:
        """Runs only when a step failed, so that the run ends "failed" although the report succeeded."""
        from airflow.providers.common.compat.sdk import AirflowFailException

        raise AirflowFailException("A step of this run failed; the report task lists every refusal and its reason.")

    create_events >> report()
    [ensure_event_type, fetch, create_profiles, create_events] >> check_run()


gtm_community_engagement_to_retention()
