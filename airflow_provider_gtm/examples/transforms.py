"""The transforms the sample DAGs chain between fetches and batch writes.

They live in the package (not in the DAG files) so that DAG files stay cheap to parse and the
transforms are unit-testable. Each one streams JSON Lines in and out through ``ObjectStoragePath``
URIs, so tasks can run on different workers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_gtm.compat import ObjectStoragePath, fromisoformat
from airflow_provider_gtm.core.batching import chunked
from airflow_provider_gtm.operators.inputs import read_json_lines
from airflow_provider_gtm.operators.output import default_uri
from airflow_provider_gtm.report import build_report

FREE_EMAIL_DOMAINS = frozenset(
    {"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "icloud.com",
     "aol.com", "proton.me", "protonmail.com", "gmx.com", "mail.com", "yandex.com"}
)


def _write_lines(uri: str, records: Iterable[Any]) -> int:
    path = ObjectStoragePath(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("wb") as fh:
        for record in records:
            fh.write((json.dumps(record, separators=(",", ":"), default=str) + "\n").encode())
            count += 1
    return count


def _get(record: Mapping[str, Any], *names: str) -> Any:
    """The first present value among ``names``, matching keys case-insensitively."""
    lowered = {str(k).lower(): v for k, v in record.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value not in (None, ""):
            return value
    return None


# -- Octopus -> Octy -------------------------------------------------------------------------

def octy_customer_id(author_id: Any) -> str:
    """An Octy ``customer_id`` for an Octopus author: 1-60 chars, none of ``, " ' .``."""
    return re.sub(r"[,\"'.\s]+", "-", f"octopus-{author_id}")[:60]


def post_author(post: Mapping[str, Any]) -> dict[str, Any] | None:
    author = post.get("createdBy")
    if not isinstance(author, Mapping):
        return None
    author_id = _get(author, "profileId", "profileID", "octopusId", "id")
    if author_id is None:
        return None
    return {"id": str(author_id), "nickname": _get(author, "nickname", "name") or ""}


def posts_to_profiles(posts_uri: str, context: Mapping[str, Any], *, extra: Iterable[Any] = ()) -> dict[str, Any]:
    """One Octy profile per distinct post author (plus ``extra`` profiles), written as JSON Lines."""
    seen: set[str] = set()

    def profiles() -> Iterator[Any]:
        for post in read_json_lines(posts_uri):
            author = post_author(post)
            if author is None or author["id"] in seen:
                continue
            seen.add(author["id"])
            yield {
                "customer_id": octy_customer_id(author["id"]),
                "profile_data": {"nickname": author["nickname"], "octopus_id": author["id"]},
                "platform_info": {"community": "octopus"},
                "has_charged": False,
            }
        yield from extra

    uri = default_uri(context, None, "profiles.jsonl")
    return {"uri": uri, "records": _write_lines(uri, profiles())}


def _profile_ids(created: Mapping[str, Any] | None, hook: Any) -> dict[str, str]:
    """customer_id -> Octy profile_id, from the create step's results (and a lookup for existing ones)."""
    mapping: dict[str, str] = {}
    existing: list[str] = []
    if created and created.get("results_uri") and ObjectStoragePath(created["results_uri"]).exists():
        for line in read_json_lines(created["results_uri"]):
            if line.get("existing"):
                record = line.get("record") or {}
                if isinstance(record, Mapping) and record.get("customer_id"):
                    existing.append(str(record["customer_id"]))
            elif line.get("customer_id") and line.get("profile_id"):
                mapping[str(line["customer_id"])] = str(line["profile_id"])
    if existing:
        for profile in hook.get_by_ids("profiles", existing):
            if profile.get("customer_id") and profile.get("profile_id"):
                mapping[str(profile["customer_id"])] = str(profile["profile_id"])
    return mapping


def _octy_time(created_at: Any) -> str | None:
    if isinstance(created_at, int | float) and created_at > 0:
        return datetime.fromtimestamp(created_at / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return None


def posts_to_event_chunks(
    posts_uri: str,
    created: Mapping[str, Any] | None,
    context: Mapping[str, Any],
    *,
    hook: Any,
    event_type: str,
    chunk_size: int = 1000,
) -> list[str]:
    """One Octy event per post, for its author's profile, in JSON Lines chunks (one mapped task each)."""
    profile_ids = _profile_ids(created, hook)

    def events() -> Iterator[dict[str, Any]]:
        for post in read_json_lines(posts_uri):
            author = post_author(post)
            if author is None:
                continue
            profile_id = profile_ids.get(octy_customer_id(author["id"]))
            if profile_id is None:
                continue  # the author's profile was refused: it is in create_profiles' failures
            content = post.get("content") if isinstance(post.get("content"), Mapping) else {}
            event = {
                "event_type": event_type,
                "profile_id": profile_id,
                "event_properties": {
                    "post_id": str(post.get("id", "")),
                    "topic_id": str(_get(post, "topicId", "topicID", "parentId") or ""),
                    "text_length": len(str(content.get("text") or "")),
                },
            }
            created_at = _octy_time(post.get("createdAt"))
            if created_at:
                event["created_at"] = created_at
            yield event

    uris = []
    for number, chunk in enumerate(chunked(events(), chunk_size)):
        uri = default_uri(context, None, f"events_{number:04d}.jsonl")
        _write_lines(uri, chunk)
        uris.append(uri)
    return uris


# -- Oktopost -> CustomerOS -----------------------------------------------------------------

def people_to_contacts_and_orgs(people_uri: str, context: Mapping[str, Any], *, extra_contacts: Iterable[Any] = ()
                                ) -> dict[str, Any]:
    """CustomerOS contacts (email, LinkedIn) and one organization per company e-mail domain."""
    domains: dict[str, dict[str, Any]] = {}
    emails: list[str] = []

    def contacts() -> Iterator[Any]:
        for person in read_json_lines(people_uri):
            if not isinstance(person, Mapping):
                continue
            email = _get(person, "email", "Email")
            linkedin = _get(person, "linkedinUrl", "LinkedinUrl", "linkedin")
            if not email and not linkedin:
                continue
            contact = {k: v for k, v in {"email": email, "linkedinUrl": linkedin}.items() if v}
            yield contact
            if email and "@" in str(email):
                emails.append(str(email))
                domain = str(email).rsplit("@", 1)[1].lower()
                if domain not in FREE_EMAIL_DOMAINS and domain not in domains:
                    company = _get(person, "company", "Company", "companyName", "CompanyName")
                    domains[domain] = {"name": company or domain, "website": domain}
        yield from extra_contacts

    contacts_uri = default_uri(context, None, "contacts.jsonl")
    written = _write_lines(contacts_uri, contacts())
    orgs_uri = default_uri(context, None, "organizations.jsonl")
    _write_lines(orgs_uri, domains.values())
    return {"contacts_uri": contacts_uri, "contacts": written, "organizations_uri": orgs_uri,
            "organizations": len(domains), "emails": emails}


# -- report -----------------------------------------------------------------------------------

def skip_after_dry_run(*steps: Mapping[str, Any] | None) -> None:
    """Skip a task that needs what an upstream write created, when that write was a dry run.

    A dry run creates nothing, so there are no ids to build the next write from: the chain's first
    write is planned, the writes that depend on it are skipped (and say so).
    """
    from airflow_provider_gtm.compat import AirflowSkipException

    if any(isinstance(step, Mapping) and step.get("dry_run") for step in steps):
        raise AirflowSkipException("Dry run: the upstream write sent nothing, so there is nothing to build on")


def run_report(title: str, task_ids: Iterable[str]) -> dict[str, Any]:
    """Build the run report from the XComs of ``task_ids`` and write it next to the run's outputs."""
    from airflow_provider_gtm.compat import get_current_context

    context = get_current_context()
    ti = context["ti"]
    steps = {task_id: ti.xcom_pull(task_ids=task_id) for task_id in task_ids}
    return build_report(title, steps, default_uri(context, None, "report.json"))


# -- Oktopost campaign --------------------------------------------------------------------------

def plan_campaign_posts(
    *,
    message_id: str,
    network: str,
    credential_ids: list[str],
    start_time: str | None,
    status: str,
    hook: Any,
    per_chunk: int = 20,
    now: datetime | None = None,
) -> list[list[dict[str, Any]]]:
    """One post per social profile (the ones given, else every valid profile of ``network``), in chunks."""
    if not credential_ids:
        credential_ids = [
            c["Id"]
            for c in hook.iter_records("credentials", params={"network": network})
            if str(c.get("Network", network)).lower() == network.lower()
            and str(c.get("Status", "valid")).lower() == "valid"
        ]
    if start_time:
        when = fromisoformat(str(start_time))
    else:
        when = (now or datetime.now(timezone.utc)).replace(microsecond=0) + timedelta(hours=1)
    epoch = int(when.timestamp())
    posts = [
        {"messageId": message_id, "credentialIds": [cid], "startDateTime": epoch, "status": status}
        for cid in credential_ids
    ]
    return list(chunked(posts, per_chunk))
