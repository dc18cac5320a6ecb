"""Octy operators: fetch any Octy list to JSON Lines, and batch create/update/delete."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_gtm.apis.octy import OCTY
from airflow_provider_gtm.operators._validation import check_choice
from airflow_provider_gtm.operators.base import GtmBatchOperator, GtmFetchOperator, LazyHookClass
from airflow_provider_gtm.operators.watermark import CatalogueWatermark

if TYPE_CHECKING:
    from airflow_provider_gtm.apis.model import Resource
    from airflow_provider_gtm.core.batching import BatchResult
    from airflow_provider_gtm.core.pagination import Page
    from airflow_provider_gtm.hooks.octy import OctyHook

OCTY_RESOURCES = tuple(OCTY.resources)
OCTY_OPERATIONS = (*OCTY.operations, *OCTY.upserts())
_ID_KEYS = ("profile_id", "event_id", "event_type_id", "item_id", "template_id", "segment_id")


class OctyFetchOperator(CatalogueWatermark, GtmFetchOperator["OctyHook"]):
    """Fetch every record of an Octy list (profiles, items, event types, segments, templates) to JSON Lines.

    :param resource: which list: ``profiles``, ``items``, ``event_types``, ``segments`` or ``templates``.
    :param filters: profile filters (``rfm`` ``"1-5"``, ``churn_prob`` ``low|mid|high|very-high``,
        ``segments`` list of segment tags); only for ``resource="profiles"``.

    Incremental: Octy's list routes take no time, id or order filter (octy-services-wasm@f514fe2
    ``*/api/routers/*.py``), so with ``watermark_field="created_at"`` (or ``updated_at``) and
    ``since_last_watermark=True`` a run reads the list whole and writes only the records past the
    last successful run's watermark (ids: the list's own, e.g. ``profile_id``).

    Example::

        OctyFetchOperator(task_id="profiles", resource="profiles", filters={"churn_prob": "high"})
    """

    template_fields: Sequence[str] = (*GtmFetchOperator.template_fields, "resource", "filters")
    template_fields_renderers = {**GtmFetchOperator.template_fields_renderers, "filters": "json"}
    hook_class = LazyHookClass["OctyHook"]("airflow_provider_gtm.hooks.octy.OctyHook")
    default_conn_id = OCTY.default_conn_id
    default_api_host = OCTY.default_host

    def __init__(self, *, resource: str, filters: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.id_field_from_catalogue = "id_field" not in kwargs
        super().__init__(**kwargs)
        check_choice(type(self).__name__, "resource", resource, OCTY_RESOURCES)
        if filters and resource != "profiles":
            raise ValueError(f"OctyFetchOperator: filters are only supported for resource='profiles', not {resource!r}")
        self.resource = resource
        self.filters = filters

    def describe(self) -> str:
        return f"Octy {self.resource}"

    lineage_api = OCTY.name
    watermark_fields = ("created_at",)

    def lineage_endpoint(self) -> str:
        spec = OCTY.resources.get(self.resource)
        return spec.path if spec else self.resource

    def catalogue_row(self) -> Resource | None:
        return OCTY.resources.get(self.resource)

    def pages(self, hook: OctyHook, start: Any, limit: int | None) -> Iterator[Page]:
        pages = hook.iter_pages(self.resource, filters=self.filters or None, start=int(start or 0), limit=limit)
        return iter(self.since_pages(pages))


class OctyBatchOperator(GtmBatchOperator["OctyHook"]):
    """Create, update or delete Octy records in batches of up to 500, reporting every ``failed_to_*`` entry.

    :param operation: ``<resource>.<action>``: ``profiles.create|update|delete``,
        ``items.create|update|delete``, ``event_types.create|delete``, ``templates.create|update|delete``
        or ``events.create``. Deletes take ids (strings) as records. ``items.upsert`` (with
        ``sync="changed"``) creates the items the sync state has never seen and updates the changed ones.

    Example::

        OctyBatchOperator(task_id="create_profiles", operation="profiles.create",
                          input_uri="{{ ti.xcom_pull('to_profiles')['uri'] }}", existing_is_success=True)
    """

    template_fields: Sequence[str] = (*GtmBatchOperator.template_fields, "operation")
    hook_class = LazyHookClass["OctyHook"]("airflow_provider_gtm.hooks.octy.OctyHook")
    default_conn_id = OCTY.default_conn_id
    default_api_host = OCTY.default_host
    max_batch_size = OCTY.batch_max
    sync_api = OCTY.name

    def __init__(self, *, operation: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_choice(type(self).__name__, "operation", operation, OCTY_OPERATIONS)
        self.operation = operation
        self.check_sync()

    def describe(self) -> str:
        return f"Octy {self.operation}"

    lineage_api = OCTY.name

    def lineage_endpoint(self) -> str:
        spec = OCTY.operations.get(self._written())
        return spec.path if spec else self.operation

    def send(self, hook: OctyHook, records: Iterable[Any]) -> Iterator[BatchResult]:
        if self.operation in OCTY.upserts():
            return self.send_routed(records, lambda operation, run: hook.iter_batches(
                operation, run, batch_size=self.batch_size))
        return hook.iter_batches(self.operation, records, batch_size=self.batch_size)

    def _written(self) -> str:
        """The spec row whose rules settle a lost answer (an upsert's: its create, which Octy refuses twice;
        its update is safe to send again)."""
        return OCTY.upserts().get(self.operation, (self.operation, ""))[0]

    #: Creates whose identifier Octy refuses to take twice ("already exists"), per operation (the spec's).
    unique_keys: ClassVar[dict[str, str]] = OCTY.unique_keys()

    def can_resolve_unknown(self, records: list[Any]) -> bool:
        spec = OCTY.operations.get(self._written())
        return spec is not None and spec.can_resolve(records)

    def resolve_unknown(
        self, hook: OctyHook, records: list[Any], started_at: str | None
    ) -> tuple[list[Any], list[int]] | None:
        """Profiles (``customer_id``) and items (``item_id``): Octy refuses a second record with the
        same identifier, so the records are sent again and an "already exists" answer for them is
        the lost try's own work (a success). Other operations cannot tell: ``None``.
        """
        if not self.can_resolve_unknown(records):
            return None
        return [], list(range(len(records)))

    def confirm_own_work(self, hook: OctyHook, records: list[Any], started_at: str | None) -> list[bool] | None:
        """Whether each profile or item Octy says "already exists" for is the one this task sent.

        Octy refuses a second record with the same ``customer_id``/``item_id`` whoever created the
        first: another system's record is not this task's work. ``GET /v1/retention/profiles?ids=``
        (and ``/items?ids=``; routers at octy-services-wasm@f514fe2) read it back, and it is this
        task's only when every field sent reads back equal. One missing or different: someone
        else's, reported "already exists" (a success only with ``existing_is_success``).
        """
        key = self.unique_keys.get(self._written())
        if key is None:
            return None
        resource = self.operation.partition(".")[0]
        wanted = [r.get(key) for r in records if isinstance(r, dict)]
        existing = {str(found.get(key)): found for found in hook.get_by_ids(resource, [str(w) for w in wanted])
                    if isinstance(found, dict)}
        return [isinstance(r, dict) and _same_fields(r, existing.get(str(r.get(key)))) for r in records]

    def validate_record(self, record: Any) -> str | None:
        """What makes a record unsendable (the hook's own check, run on every record before any write)."""
        from airflow_provider_gtm.hooks.octy import record_problem

        return record_problem(self.routed_operation(record), record)

    def assigned_id(self, accepted: Any) -> Any:
        if isinstance(accepted, dict):
            for key in _ID_KEYS:
                if accepted.get(key):
                    return accepted[key]
        return None


def _same_fields(sent: dict[str, Any], stored: dict[str, Any] | None) -> bool:
    """Every field sent reads back equal (numbers compared as numbers: ``100`` and ``100.0`` agree)."""
    if stored is None:
        return False
    for name, value in sent.items():
        if name not in stored:
            return False
        back = stored[name]
        same = (back == value if not (isinstance(value, (int, float)) and isinstance(back, (int, float)))
                else float(back) == float(value))
        if not same or isinstance(back, bool) != isinstance(value, bool):
            return False
    return True
