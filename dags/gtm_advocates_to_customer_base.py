"""Advocates and leads into the customer base: Oktopost -> CustomerOS contacts and organizations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import Param, dag, get_current_context, task

from airflow_provider_gtm.compat import triggering_asset_events
from airflow_provider_gtm.examples import forms
from airflow_provider_gtm.examples.pools import OKTOPOST_POOL
from airflow_provider_gtm.operators.customeros import CustomerOSBatchOperator, CustomerOSLookupOperator
from airflow_provider_gtm.operators.oktopost import OktopostFetchOperator

#: Produced by ``gtm_fetch_oktopost_advocates``; every event it records starts a run of this DAG.
ADVOCATES = OktopostFetchOperator.output_asset("advocates")


@dag(
    dag_id="gtm_advocates_to_customer_base",
    schedule=ADVOCATES,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["gtm", "sample", "oktopost", "customeros"],
    # execution_timeout: no task runs forever, even against a list that never ends (issue #10).
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "execution_timeout": timedelta(hours=1)},
    render_template_as_native_obj=True,
    params={
        "source": Param("leads", type="string", enum=["leads", "advocates"], title="Oktopost source",
                        description="Oktopost leads, or the advocates of your boards."),
        "max_people": forms.integer_param(None, title="At most this many people", low=1, optional=True,
                                          description="Empty: everyone."),
        "enrich_people": Param(False, type="boolean", title="Enrich people",
                               description="Run CustomerOS person enrichment (the triggerer waits for the answers)."),
        "max_enrichments": forms.integer_param(5, title="People to enrich at most", low=0, high=500,
                                               description="Enrichment is slow and billed per person: the first N "
                                                           "people only."),
        "on_failures": forms.failure_policy_param("CustomerOS"),
        "max_failure_ratio": forms.ratio_param(),
        "extra_contacts": forms.customeros_contacts_param(),
        "dry_run": forms.dry_run_param(),
    },
)
def gtm_advocates_to_customer_base() -> None:
    """
    ### Advocates and leads into the customer base

    Runs when `gtm_fetch_oktopost_advocates` publishes new advocates (the Asset
    `x-gtm-oktopost://api.oktopost.com/advocates`), or when triggered with the form.

    1. **choose_source**: a run started by the asset event reads the advocates file the event names
       (**people_from_asset_event**: its extra's `uri`, `records` and `watermark`); a triggered run
       **fetch_people** streams Oktopost leads (or advocates) to JSON Lines (`_page`/`_count` paging,
       paced under Oktopost's 60/min and 120/5 s limits).
    2. **build_contacts** maps each person to a CustomerOS contact and each company e-mail domain to
       an organization.
    3. **create_contacts** sends the contacts in bulk; CustomerOS's per-record `details` go to the
       failures file. **create_organizations** creates the organizations; a 409 "already exists"
       returns the existing id and counts as success, so a re-run never duplicates.
    4. **enrich_people** (optional) submits every person enrichment, then defers: the triggerer
       polls the answers together until complete, with no worker slot held while CustomerOS works.
    5. **report** lists every failure with CustomerOS's reason.
    6. **check_run** runs only when a step failed and fails the run, so a run with refusals
       beyond the failure policy ends "failed" while the report still lists them.
    """
    # [START howto_operator_oktopost_fetch]
    fetch = OktopostFetchOperator(
        task_id="fetch_people",
        pool=OKTOPOST_POOL,  # shares the Oktopost key with the other sample DAGs
        deferrable=True,  # a key block is waited out in the triggerer, not through the retries
        resource="{{ params.source }}",
        limit="{{ params.max_people }}",
    )
    # [END howto_operator_oktopost_fetch]

    @task.branch
    def choose_source() -> str:
        events = triggering_asset_events(get_current_context())
        return "people_from_asset_event" if events.get(ADVOCATES) else "fetch_people"

    @task
    def people_from_asset_event() -> dict[str, Any]:
        """The newest advocates file the producer published (its asset event's extra)."""
        event = triggering_asset_events(get_current_context())[ADVOCATES][-1]
        return {"from_asset_event": True, **{k: event.extra[k] for k in ("uri", "records", "watermark")
                                               if k in event.extra}}

    @task(trigger_rule="none_failed_min_one_success")
    def build_contacts() -> dict[str, Any]:
        from airflow_provider_gtm.examples.transforms import people_to_contacts_and_orgs

        context = get_current_context()
        people = context["ti"].xcom_pull(task_ids="people_from_asset_event") or context["ti"].xcom_pull(
            task_ids="fetch_people"
        )
        return people_to_contacts_and_orgs(
            people["uri"], context, extra_contacts=context["params"].get("extra_contacts") or []
        )

    from_event = people_from_asset_event()
    built = build_contacts()
    choose_source() >> [fetch, from_event] >> built
    # [START howto_operator_customeros_batch]
    create_contacts = CustomerOSBatchOperator(
        task_id="create_contacts",
        operation="contacts.bulk_create",
        input_uri="{{ ti.xcom_pull(task_ids='build_contacts')['contacts_uri'] }}",
        on_failures="{{ params.on_failures }}",
        max_failure_ratio="{{ params.max_failure_ratio }}",
        dry_run="{{ params.dry_run }}",
    )
    create_organizations = CustomerOSBatchOperator(
        task_id="create_organizations",
        operation="organizations.create",
        input_uri="{{ ti.xcom_pull(task_ids='build_contacts')['organizations_uri'] }}",
        existing_is_success=True,
        on_failures="{{ params.on_failures }}",
        max_failure_ratio="{{ params.max_failure_ratio }}",
        dry_run="{{ params.dry_run }}",
    )
    # [END howto_operator_customeros_batch]

    @task
    def pick_people_to_enrich(contacts: dict[str, Any]) -> list[dict[str, Any]]:
        params = get_current_context()["params"]
        if not params["enrich_people"] or params.get("dry_run"):
            return []  # a dry run spends no enrichment credits either
        return [{"email": email} for email in contacts["emails"][: int(params["max_enrichments"])]]

    # [START howto_operator_customeros_lookup]
    enrich = CustomerOSLookupOperator(
        task_id="enrich_people",
        lookup="person_enrichment",
        inputs=pick_people_to_enrich(built),
        poll_timeout=300,
        # Submitted on the worker, then one trigger waits for all the answers: no worker slot held.
        deferrable=True,
    )
    # [END howto_operator_customeros_lookup]

    @task(trigger_rule="all_done")
    def report() -> dict[str, Any]:
        from airflow_provider_gtm.examples.transforms import run_report

        return run_report(
            "Advocates and leads into the customer base",
            ["fetch_people", "people_from_asset_event", "create_contacts", "create_organizations", "enrich_people"],
        )

    built >> [create_contacts, create_organizations]

    @task(trigger_rule="one_failed")
    def check_run() -> None:
        """Runs only when a step failed, so that the run ends "failed" although the report succeeded."""
        from airflow.providers.common.compat.sdk import AirflowFailException

        raise AirflowFailException("A step of this run failed; the report task lists every refusal and its reason.")

    [create_contacts, create_organizations, enrich] >> report()
    [create_contacts, create_organizations, enrich] >> check_run()


gtm_advocates_to_customer_base()
