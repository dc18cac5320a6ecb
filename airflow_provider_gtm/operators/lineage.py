"""Lineage and data-aware scheduling for the fetch and batch operators, written once for the four APIs.

- **OpenLineage**: :meth:`GtmLineageMixin.get_openlineage_facets_on_complete` (and ``..._on_failure``)
  return the API endpoint and the files a task read or wrote as datasets, with a schema facet
  inferred from the first records of the output, output statistics (records, bytes) and, for
  batches, the accepted/failed counts and the failures file as a second output. The OpenLineage
  imports happen inside those methods: without ``apache-airflow-providers-openlineage`` nothing
  here is imported and nothing is emitted. There is no ``..._on_start``: the endpoint's name needs
  the connection's host, which the listener's forked process must not fetch (see below), and the
  files are named only once the task has run.
- **Assets**: every :class:`~airflow.sdk.Asset` among a fetch task's ``outlets`` gets an asset event
  whose ``extra`` carries ``records``, ``uri`` and, when the records have a creation time,
  ``watermark`` (the newest one). ``<Operator>.output_asset(resource)`` builds the default Asset,
  ``x-gtm-<api>://<api host>/<resource>`` (Airflow leaves ``x-`` schemes as they are).

Each API module supplies only its naming: ``lineage_api`` (the dataset namespace scheme),
``lineage_endpoint()`` (the dataset name) and ``watermark_fields`` (where its records keep their
creation time).

How the result reaches this module without touching ``execute()``: Airflow calls a task's
``_pre_execute_hook`` with ``(context)`` right before ``execute()`` and ``_post_execute_hook`` with
``(context, result)`` right after it; the mixin's properties return hooks that read the
connection's host (before) and keep the result and fill the asset events (after), then call any
``pre_execute=`` / ``post_execute=`` the DAG author passed.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_gtm.compat import Asset, ObjectStoragePath, make_asset

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk.bases.operator import TaskPostExecuteHook, TaskPreExecuteHook

#: How many records of an output the schema facet looks at (the file is not read further for it).
SCHEMA_SAMPLE_RECORDS = 100
#: Asset URI scheme prefix; Airflow keeps ``x-`` schemes verbatim and reserves no handler for them.
ASSET_SCHEME_PREFIX = "x-gtm-"
#: Namespace of the run facet that carries the provider's own counts.
RUN_FACET = "gtm"

_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"), (dict, "object"),
)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    for kind, name in _JSON_TYPES:
        if isinstance(value, kind):
            return name
    return "string"


def infer_schema(records: Iterable[Any]) -> list[tuple[str, str]]:
    """Top-level fields of the records and their JSON types, in first-seen order.

    A field seen with several types is reported as ``a|b``; ``null`` only counts when a field is
    never anything else.
    """
    types: dict[str, list[str]] = {}
    for record in records:
        if not isinstance(record, Mapping):
            continue
        for key, value in record.items():
            seen = types.setdefault(str(key), [])
            kind = json_type(value)
            if kind not in seen:
                seen.append(kind)
    fields = []
    for name, seen in types.items():
        real = [kind for kind in seen if kind != "null"] or ["null"]
        fields.append((name, "|".join(real)))
    return fields


def head_records(uri: str, limit: int = SCHEMA_SAMPLE_RECORDS) -> list[Any]:
    """The first ``limit`` records of a JSON Lines file (unreadable lines are skipped)."""
    found: list[Any] = []
    path = ObjectStoragePath(uri)
    if not path.exists():
        return found
    with path.open("rb") as fh:
        for line in fh:
            if len(found) >= limit:
                break
            if line.strip():
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
    return found


def file_size(uri: str) -> int | None:
    try:
        return int(ObjectStoragePath(uri).stat().st_size)
    except (OSError, ValueError, AttributeError):
        return None


def count_lines(uri: str) -> int:
    """Non-empty lines of a file, streamed."""
    with ObjectStoragePath(uri).open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def newest(uri: str, fields: tuple[str, ...]) -> Any:
    """The largest value of the first of ``fields`` each record has (``None`` when none has one).

    Streams the file once (one line in memory). Numbers (epoch times) and strings (ISO times) are
    compared among their own kind; a file mixing both reports the numbers.
    """
    if not fields:
        return None
    best_number: float | None = None
    best_text: str | None = None
    path = ObjectStoragePath(uri)
    if not path.exists():
        return None
    with path.open("rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, Mapping):
                continue
            value = next((record[f] for f in fields if record.get(f) not in (None, "")), None)
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int | float):
                best_number = value if best_number is None else max(best_number, value)
            else:
                best_text = str(value) if best_text is None else max(best_text, str(value))
    return best_number if best_number is not None else best_text


def file_dataset_name(uri: str) -> tuple[str, str]:
    """OpenLineage naming for a file: ``file`` + absolute path, or ``<scheme>://<bucket>`` + key."""
    parsed = urllib.parse.urlsplit(str(uri))
    if parsed.scheme in ("", "file", "local"):
        return "file", parsed.path or str(uri)
    return f"{parsed.scheme}://{parsed.netloc}", parsed.path.lstrip("/")


def api_namespace(api: str, base_url: str) -> tuple[str, str]:
    """``<api>://<host[:port]>`` and the base URL's path prefix (the sandbox's ``/octy``, usually empty)."""
    parsed = urllib.parse.urlsplit(base_url)
    return f"{api}://{parsed.netloc or parsed.path}", parsed.path.strip("/") if parsed.netloc else ""


def default_asset(api: str, host: str, resource: str) -> Asset:
    """The default Asset for a fetch output: ``x-gtm-<api>://<API host>/<resource>``."""
    netloc = urllib.parse.urlsplit(host).netloc or host
    return make_asset(f"{ASSET_SCHEME_PREFIX}{api}://{netloc}/{resource.strip('/')}", f"gtm_{api}_{resource}")


def _run_facet(values: dict[str, Any]) -> Any:
    """A custom run facet holding the provider's counts (defined lazily: OpenLineage is optional)."""
    import attr
    from openlineage.client.facet_v2 import RunFacet

    global _GtmRunFacet
    if _GtmRunFacet is None:

        @attr.define
        class GtmRunFacet(RunFacet):  # type: ignore[misc]
            """What a GTM task counted: records/pages for a fetch, submitted/succeeded/failed for a batch."""

            records: int | None = attr.field(default=None)
            pages: int | None = attr.field(default=None)
            total: int | None = attr.field(default=None)
            submitted: int | None = attr.field(default=None)
            succeeded: int | None = attr.field(default=None)
            failed: int | None = attr.field(default=None)
            existing: int | None = attr.field(default=None)

        _GtmRunFacet = GtmRunFacet
    known = {k: v for k, v in values.items() if k in attr.fields_dict(_GtmRunFacet) and isinstance(v, int)}
    return _GtmRunFacet(**known)


_GtmRunFacet: Any = None


class GtmLineageMixin:
    """OpenLineage facets and asset-event metadata for :class:`GtmFetchOperator` / :class:`GtmBatchOperator`.

    Subclasses (the API modules) set ``lineage_api`` and implement :meth:`lineage_endpoint`;
    fetch operators may list ``watermark_fields``.
    """

    #: The API's short name: the scheme of the OpenLineage namespace and of the default Asset URI.
    lineage_api: ClassVar[str] = "gtm"
    #: Fields that hold a record's creation time, first found wins (for the asset event's watermark).
    watermark_fields: ClassVar[tuple[str, ...]] = ()

    # What the other bases provide (declared for type checkers only).
    if TYPE_CHECKING:
        task_id: str
        outlets: list[Any]

        def make_hook(self) -> Any: ...

    # -- naming (the API modules) -------------------------------------------------------------------

    def lineage_endpoint(self) -> str:
        """The endpoint read or written, as the dataset name (e.g. ``v1/retention/profiles``)."""
        return self.task_id

    @classmethod
    def default_host(cls) -> str:
        # Declared on the operator (like default_conn_id) so that naming an Asset in a DAG file
        # never imports the hook and its HTTP stack at parse time.
        declared = getattr(cls, "default_api_host", None)
        if declared:
            return str(declared)
        hook_class = getattr(cls, "hook_class", None)
        return str(getattr(hook_class, "default_host", "") or "localhost")

    @classmethod
    def output_asset(cls, resource: str, *, host: str | None = None) -> Asset:
        """The default Asset for this operator's output of ``resource``: put it in ``outlets=[...]``.

        ``x-gtm-<api>://<API host>/<resource>``; pass ``host`` to name another account or region.
        """
        return default_asset(cls.lineage_api, host or cls.default_host(), resource)

    # -- around execute(), without touching it -------------------------------------------------------
    #
    # Both hooks run in the task process itself. The OpenLineage listener calls the facet methods
    # below in a forked child (its default), where reaching Airflow's supervisor (a connection, an
    # XCom) would share the task's channel; so everything that needs the supervisor is read here
    # and the facet methods only read the operator and the files.

    @property
    def _pre_execute_hook(self) -> TaskPreExecuteHook | None:
        user_hook = self.__dict__.get("_gtm_user_pre_execute")

        def before_execute(context: Any) -> None:
            self.__dict__["_gtm_api_dataset"] = self._api_dataset_name()
            if user_hook is not None:
                user_hook(context)

        return before_execute

    @_pre_execute_hook.setter
    def _pre_execute_hook(self, value: TaskPreExecuteHook | None) -> None:
        self.__dict__["_gtm_user_pre_execute"] = value

    @property
    def _post_execute_hook(self) -> TaskPostExecuteHook | None:
        user_hook = self.__dict__.get("_gtm_user_post_execute")

        def after_execute(context: Any, result: Any) -> None:
            self._gtm_after_execute(context, result)
            if user_hook is not None:
                user_hook(context, result)

        return after_execute

    @_post_execute_hook.setter
    def _post_execute_hook(self, value: TaskPostExecuteHook | None) -> None:
        self.__dict__["_gtm_user_post_execute"] = value

    def _gtm_after_execute(self, context: Any, result: Any) -> None:
        self.__dict__["_gtm_result"] = result
        if isinstance(result, Mapping) and "uri" in result:
            self._gtm_fill_asset_events(context, result)

    def _gtm_fill_asset_events(self, context: Any, result: Mapping[str, Any]) -> None:
        assets = [outlet for outlet in (getattr(self, "outlets", None) or []) if isinstance(outlet, Asset)]
        if not assets:
            return
        extra: dict[str, Any] = {"records": result.get("records"), "uri": result.get("uri")}
        watermark = newest(str(result["uri"]), self.watermark_fields)
        if watermark is not None:
            extra["watermark"] = watermark
        events = context["outlet_events"]
        for asset in assets:
            events[asset].extra.update(extra)

    # -- OpenLineage ---------------------------------------------------------------------------------

    def _api_dataset_name(self) -> tuple[str, str]:
        """``(<api>://<host>, <prefix>/<endpoint>)`` from the connection's host (reads the connection)."""
        base = self.default_host()
        try:
            from airflow_provider_gtm.core.urls import normalize_base_url

            hook = self.make_hook()
            base = normalize_base_url(hook._host(), conn_id=hook.conn_id)
        except Exception:  # noqa: BLE001 - lineage must never fail a task; the public host is a fine name
            pass
        return self._api_dataset_name_at(base)

    def _api_dataset_name_at(self, base: str) -> tuple[str, str]:
        namespace, prefix = api_namespace(self.lineage_api, base)
        endpoint = self.lineage_endpoint().strip("/")
        return namespace, f"{prefix}/{endpoint}" if prefix else endpoint

    def _known_api_dataset_name(self) -> tuple[str, str]:
        """The name read before execute(); the API's public host when there was none (never the connection)."""
        known = self.__dict__.get("_gtm_api_dataset")
        return known if known is not None else self._api_dataset_name_at(self.default_host())

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """After a successful run: the endpoint and the files, with schema and statistics facets."""
        return self._lineage(self.__dict__.get("_gtm_result"))

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage:
        """After a failed run: the endpoint, and for a batch the failures file and how many it holds.

        A batch that failed on its failure policy has written every refusal to its failures file:
        that file is the output a person needs to find from the lineage graph.
        """
        result = self.__dict__.get("_gtm_result")
        if result is None and self._is_batch():
            result = self._failed_batch_result(task_instance)
        return self._lineage(result)

    def _failed_batch_result(self, task_instance: Any) -> dict[str, Any] | None:
        from airflow_provider_gtm.operators.output import default_uri

        uri = getattr(self, "failures_uri", None)
        if not uri and task_instance is not None:
            try:
                uri = default_uri({"ti": task_instance}, getattr(self, "output_base_uri", None), "failures.jsonl")
            except (AttributeError, TypeError):
                return None
        if not uri or not ObjectStoragePath(str(uri)).exists():
            return None
        return {"failures_uri": str(uri), "failed": count_lines(str(uri))}

    def _lineage(self, result: Any) -> OperatorLineage:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import InputDataset, OutputDataset

        if isinstance(result, Mapping) and "uri" in result:
            return self._fetch_lineage(result)
        if isinstance(result, Mapping) and "failures_uri" in result:
            return self._batch_lineage(result)
        namespace, name = self._known_api_dataset_name()
        if self._is_batch():
            return OperatorLineage(outputs=[OutputDataset(namespace=namespace, name=name)])
        return OperatorLineage(inputs=[InputDataset(namespace=namespace, name=name)])

    def _is_batch(self) -> bool:
        return hasattr(self, "send")

    def _file_output(self, uri: str, records: int | None) -> Any:
        from openlineage.client.event_v2 import OutputDataset
        from openlineage.client.facet_v2 import output_statistics_output_dataset, schema_dataset

        namespace, name = file_dataset_name(uri)
        fields = infer_schema(head_records(uri))
        facets: dict[str, Any] = {}
        if fields:
            facets["schema"] = schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in fields]
            )
        stats = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=records, size=file_size(uri), fileCount=1
        )
        return OutputDataset(namespace=namespace, name=name, facets=facets, outputFacets={"outputStatistics": stats})

    def _fetch_lineage(self, result: Mapping[str, Any]) -> OperatorLineage:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import InputDataset

        namespace, name = self._known_api_dataset_name()
        return OperatorLineage(
            inputs=[InputDataset(namespace=namespace, name=name)],
            outputs=[self._file_output(str(result["uri"]), result.get("records"))],
            run_facets={RUN_FACET: _run_facet(dict(result))},
        )

    def _batch_lineage(self, result: Mapping[str, Any]) -> OperatorLineage:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import InputDataset, OutputDataset
        from openlineage.client.facet_v2 import output_statistics_output_dataset

        namespace, name = self._known_api_dataset_name()
        inputs = []
        input_uri = getattr(self, "input_uri", None)
        if input_uri:
            in_namespace, in_name = file_dataset_name(str(input_uri))
            inputs.append(InputDataset(namespace=in_namespace, name=in_name))
        accepted = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=result.get("succeeded")
        )
        outputs = [OutputDataset(namespace=namespace, name=name,
                                 outputFacets={"outputStatistics": accepted} if "succeeded" in result else {})]
        if result.get("failures_uri"):
            outputs.append(self._file_output(str(result["failures_uri"]), result.get("failed")))
        return OperatorLineage(inputs=inputs, outputs=outputs, run_facets={RUN_FACET: _run_facet(dict(result))})
