"""A run report for DAGs that chain fetches and batch writes: counts per step and every failure reason."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_gtm.compat import ObjectStoragePath

log = logging.getLogger(__name__)


def _summaries(value: Any) -> list[Mapping[str, Any]]:
    """A step's XCom: one dict, or a list of dicts for a mapped task (``None`` when it never ran)."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return [v for v in value if isinstance(v, Mapping)]
    return []


def _failure_reasons(uri: str, reasons: Counter[str], examples: dict[str, list[Any]]) -> None:
    path = ObjectStoragePath(uri)
    if not path.exists():
        return
    with path.open("rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            failure = json.loads(line)
            message = str(failure.get("error_message"))
            reasons[message] += 1
            sample = examples.setdefault(message, [])
            if len(sample) < 5:
                sample.append(failure.get("identifier"))


#: The counts a step's XCom may carry: a fetch's, a batch write's (``unchanged``: left out by
#: ``sync="changed"``) and a dry run's plan.
COUNTS = ("records", "pages", "submitted", "succeeded", "failed", "existing", "unchanged", "would_create",
          "would_update", "would_delete", "invalid")


def build_report(title: str, steps: Mapping[str, Any], output_uri: str | None = None) -> dict[str, Any]:
    """Summarise each step's XCom (fetch ``records``/``pages``, batch ``submitted``/``succeeded``/``failed``).

    Reads every failures file to group failures by the API's message. Writes the report as JSON to
    ``output_uri`` when given, logs it, and returns it.
    """
    report: dict[str, Any] = {"title": title, "steps": {}}
    for name, value in steps.items():
        summaries = _summaries(value)
        if not summaries:
            report["steps"][name] = {"ran": False}
            continue
        step: dict[str, Any] = {"ran": True}
        if any(s.get("dry_run") for s in summaries):
            step["dry_run"] = True  # nothing was sent: the counts are the plan's
        for key in COUNTS:
            if any(key in s for s in summaries):
                step[key] = sum(int(s.get(key, 0) or 0) for s in summaries)
        uris = [s[k] for s in summaries for k in ("uri", "failures_uri", "plan_uri") if s.get(k)]
        step["files"] = uris
        reasons: Counter[str] = Counter()
        examples: dict[str, list[Any]] = {}
        for s in summaries:
            if s.get("failures_uri") and s.get("failed"):
                _failure_reasons(s["failures_uri"], reasons, examples)
        if reasons:
            step["failure_reasons"] = [
                {"error_message": m, "count": c, "examples": examples[m]} for m, c in reasons.most_common()
            ]
        report["steps"][name] = step
    log.info("%s", format_report(report))
    if output_uri:
        path = ObjectStoragePath(output_uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, default=str))
        report["uri"] = str(path)
    return report


def format_report(report: Mapping[str, Any]) -> str:
    """The report as a few human-readable lines."""
    lines = [f"== {report['title']} =="]
    for name, step in report["steps"].items():
        if not step.get("ran"):
            lines.append(f"  {name}: did not run")
            continue
        counts = ", ".join(f"{k} {step[k]}" for k in COUNTS if k in step)
        lines.append(f"  {name}: {'DRY RUN, nothing sent: ' if step.get('dry_run') else ''}{counts}")
        for reason in step.get("failure_reasons", []):
            ids = ", ".join(map(str, reason["examples"]))
            lines.append(f"      {reason['count']} x {reason['error_message']!r} (e.g. {ids})")
        for uri in step.get("files", []):
            lines.append(f"      file: {uri}")
    return "\n".join(lines)
