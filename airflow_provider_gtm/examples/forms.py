"""Trigger-form Params for the sample DAGs, with the limits the tasks check, read from the API specs.

What Airflow 3.3's trigger form checks in the browser (airflow/ui, ``FlexibleForm``): only that a
required field (a ``type`` without ``"null"``) is filled and that a JSON field parses as its type;
those leave the Trigger button disabled with the reason under the field. Every other JSON-schema
keyword (``pattern``, ``enum``, ``minimum``/``maximum``, lengths, array ``items``) is checked by the
api-server when Trigger is pressed: the run is not created and the dialog shows
``Invalid input for param <name>: ...``. Two of the form's widgets change a value instead of
refusing it: the number input clamps to a top-level ``minimum``/``maximum`` when the field loses
focus (50 became 20), and the text input stops typing at a top-level ``maxLength``. So the limits
go in an ``allOf`` the widgets do not read and the server does: an out-of-range value is refused
by name, never silently changed. Each description says the rule in words, since the server's
refusal is jsonschema's wording.

Optional fields are typed ``[..., "null"]`` so the form does not star them as required.
"""

from __future__ import annotations

import json
import re
from typing import Any

from airflow.providers.common.compat.sdk import Param

from airflow_provider_gtm.apis.octopus import PAGE_SIZE_MAX as OCTOPUS_PAGE_SIZE_MAX
from airflow_provider_gtm.apis.octy import (
    IDENTIFIER_ILLEGAL_CHARACTERS,
    IDENTIFIER_MAX_LENGTH,
    PROFILE_REQUIRED_KEYS,
)
from airflow_provider_gtm.apis.oktopost import MESSAGE_NETWORKS, POST_STATUSES
from airflow_provider_gtm.operators._validation import FAILURE_POLICIES

#: An Octy event type: Octy's identifier rule, with no space.
OCTY_EVENT_TYPE_PATTERN = "^[^{}]{{1,{}}}$".format(
    re.escape("".join(IDENTIFIER_ILLEGAL_CHARACTERS)) + " ", IDENTIFIER_MAX_LENGTH)
_ILLEGAL_IN_WORDS = " ".join(IDENTIFIER_ILLEGAL_CHARACTERS)

#: Examples shown in the descriptions; tests/integration/test_form_examples.py sends each to the sandbox.
EXTRA_PROFILES_EXAMPLE: list[dict[str, Any]] = [
    {"customer_id": "c-1", "profile_data": {"nickname": "Ada"}, "platform_info": {"os": "web"},
     "has_charged": False},
]
EXTRA_CONTACTS_EXAMPLE: list[dict[str, Any]] = [
    {"email": "ada@example.com", "linkedinUrl": "https://linkedin.com/in/ada"},
]


def _limits(**keywords: Any) -> dict[str, Any]:
    """Limits the server checks and the form's widgets do not read (so nothing is clamped or cut)."""
    return {"allOf": [keywords]}


def _example(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "))


def integer_param(default: int | None, *, title: str, low: int, high: int | None = None, optional: bool = False,
                  description: str = "") -> Param:
    """A whole number from ``low`` (to ``high``); refused by name when out of range, never clamped."""
    rule = f"A whole number from {low} to {high}." if high is not None else f"A whole number, at least {low}."
    bounds = {"minimum": low, **({"maximum": high} if high is not None else {})}
    return Param(default, type=["integer", "null"] if optional else "integer", title=title,
                 description=f"{description} {rule}".strip(), **_limits(**bounds))


def ratio_param(default: float = 0.1) -> Param:
    return Param(default, type="number", title="Largest acceptable failure ratio",
                 description="With on_failures=ratio: refused / sent above this fails the task. "
                             "A number from 0 to 1 (0.1 = 10 %).",
                 **_limits(minimum=0, maximum=1))


def failure_policy_param(refuser: str) -> Param:
    return Param("ratio", type="string", enum=list(FAILURE_POLICIES), title=f"When {refuser} refuses records",
                 description="fail the task, only warn, or fail above max_failure_ratio.")


def dry_run_param() -> Param:
    """The trigger form's dry-run toggle, passed to every batch write of a sample DAG."""
    return Param(False, type="boolean", title="Dry run",
                 description="Check and plan every write, send nothing: each write task's XCom and plan.json say "
                             "what it would create, update or leave unchanged.")


def octy_event_type_param(default: str) -> Param:
    return Param(default, type="string", pattern=OCTY_EVENT_TYPE_PATTERN, title="Octy event type",
                 description=f"Custom event type; created first if missing. 1 to {IDENTIFIER_MAX_LENGTH} "
                             f"characters, no space and none of {_ILLEGAL_IN_WORDS} (Octy's rule).")


def octopus_page_size_param() -> Param:
    return integer_param(OCTOPUS_PAGE_SIZE_MAX, title="Octopus page size", low=1, high=OCTOPUS_PAGE_SIZE_MAX,
                         description="Posts per Octopus call.")


def records_param(*, title: str, what: str, example: list[dict[str, Any]], needs: str = "") -> Param:
    """An optional JSON array of objects (a JSON editor in the form; empty sends nothing).

    The objects' fields are not checked here: these records exist to be sent as they are, and a
    record the API refuses lands in the failure report with the API's reason, as in a real run.
    """
    return Param([], type=["array", "null"], items={"type": "object"}, title=title,
                 description=f"{what} to send alongside (e.g. to try validation): a JSON array of objects"
                             f"{needs}; paste a whole array, e.g. {_example(example)}")


def octy_profiles_param() -> Param:
    return records_param(title="Extra Octy profiles", what="Octy profiles", example=EXTRA_PROFILES_EXAMPLE,
                         needs=", each with " + ", ".join(PROFILE_REQUIRED_KEYS) + " (Octy refuses one without)")


def customeros_contacts_param() -> Param:
    return records_param(title="Extra contacts", what="CustomerOS contacts", example=EXTRA_CONTACTS_EXAMPLE)


def oktopost_network_param() -> Param:
    return Param("LinkedIn", type="string", enum=list(MESSAGE_NETWORKS), title="Network",
                 description="The social network the message and its posts are for.")


def oktopost_post_status_param() -> Param:
    return Param("pending", type="string", enum=list(POST_STATUSES), title="Post status",
                 description="pending = scheduled; draft = saved, not scheduled.")


#: The longest message text the sample DAG sends (the longest post LinkedIn takes).
MESSAGE_MAX_LENGTH = 3000


def oktopost_message_param(default: str, *, max_length: int = MESSAGE_MAX_LENGTH) -> Param:
    return Param(default, type="string", format="multiline", title="Message text",
                 description=f"The text of the message posted to each profile, 1 to {max_length:,} characters.",
                 **_limits(minLength=1, maxLength=max_length))


def oktopost_credential_ids_param() -> Param:
    # items type string: the form shows a text area, one id per line (blank lines are dropped by the DAG).
    return Param([], type=["array", "null"], items={"type": "string"}, title="Social profiles",
                 description="Oktopost credential ids, one per line (the ids of your account's social "
                             "profiles: Oktopost's credential list); empty: every valid profile of the network.")
