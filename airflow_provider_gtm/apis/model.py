"""The shape of an API spec: what an endpoint, a write and an API are, as frozen data (no I/O, no imports)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: How a write whose answer was lost can be settled: ``resend`` (the vendor refuses a second record
#: with the same ``unique_fields``, so sending it again answers "already exists" when the lost try
#: applied it), ``lookup`` (a list call finds what the lost try created) or ``None`` (a person decides).
Resolution = Literal["resend", "lookup"]

#: What a write does to the vendor's records (the suffix of an operation name ``<resource>.<write>``).
Write = Literal["create", "update", "delete"]

#: The unit of an incremental filter's value: Unix seconds (Oktopost ``after``) or milliseconds
#: (Octopus ``originTime``).
SinceUnit = Literal["epoch_seconds", "epoch_ms"]

#: What the docs say of a list whose API takes no time, id or order filter: an incremental fetch
#: reads it whole and keeps only the records past the watermark.
READ_WHOLE = "read whole, filtered after"


@dataclass(frozen=True)
class Resource:
    """A list (or lookup) endpoint.

    :param path: the path under the base URL (and :attr:`ApiSpec.path_prefix`).
    :param records_key: the answer field holding the records (``None``: not a fixed field).
    :param page_sizes: the page sizes the API takes (empty: any, or see ``page_size_max``).
    :param page_size_max: the largest page size (with 1 the smallest) when it is a range.
    :param parent_param: the query parameter naming the parent (Octopus feeds).
    :param paging: how the list pages (``cursor`` header, ``_page/_count``, ``pageCursor``...; docs).
    :param incremental: the filter an incremental fetch narrows the list with (docs; empty: none).
    :param hook_method: the hook method that reads it (docs; empty: ``iter_pages``).
    :param limits: the vendor's limits on the call's parameters, ``(("messages", 100), ...)``.
    :param since_param: the query parameter an incremental fetch sends its watermark in (empty: the
        API has none, so the list is read whole and filtered after), with :param since_field: the
        record field that parameter filters on and :param since_unit: the unit it takes.
    :param id_key: the record field that names a record (what a watermark remembers at its value).
    """

    path: str
    records_key: str | None = None
    method: str = "GET"
    page_sizes: tuple[int, ...] = ()
    page_size_max: int | None = None
    parent_param: str | None = None
    source: str = ""
    paging: str = ""
    incremental: str = ""
    hook_method: str = ""
    limits: tuple[tuple[str, int], ...] = ()
    since_param: str = ""
    since_field: str = ""
    since_unit: SinceUnit | None = None
    id_key: str = ""

    def limit(self, name: str) -> int:
        """The vendor's limit called ``name`` (:raises KeyError: when the row has none)."""
        return dict(self.limits)[name]

    @property
    def endpoint(self) -> tuple[str, str]:
        return self.method, self.path


@dataclass(frozen=True)
class Operation:
    """A write endpoint.

    :param body_key: the request body field holding the records (batch endpoints).
    :param accepted_key: / :param rejected_key: the answer fields listing the records taken / refused.
    :param identifier: the field of a record that names it (``None``: the record is the id itself).
    :param batch_max: the most records one task chunk may hold.
    :param safe_to_retry: whether the client may resend the call after a timeout or a 5xx.
    :param resolution: how a lost answer is settled (see :data:`Resolution`).
    :param unique_fields: for ``resend``: a record carrying any of these (non-empty) can be resolved.
    :param required: / :param optional: the record fields the vendor requires / also takes.
    :param response_key: the answer field holding the created object.
    :param result_only: the vendor confirms with ``Result: true`` and no object.
    :param dataset_path: the path naming the written dataset when it is not ``path`` (lineage).
    :param write: ``create``, ``update`` or ``delete`` (Oktopost: an ``{id}`` in ``path`` is the
        record's ``identifier`` field, and the rest of the record is the form).
    :param hook_method: the hook method that sends one record or chunk (docs).
    :param query: the record fields sent in the query string rather than the form (Oktopost's
        lead-activity delete and workflow-item note, whose SDK calls put them in the URL).
    :param key: the record field that names one vendor record across runs (change detection's
        state key, a landed table's primary key); empty where nothing does (Octy events: each is a
        new occurrence). ``source`` cites where the vendor makes it unique.
    """

    method: str
    path: str
    body_key: str | None = None
    accepted_key: str | None = None
    rejected_key: str | None = None
    identifier: str | None = None
    batch_max: int | None = None
    safe_to_retry: bool = False
    resolution: Resolution | None = None
    unique_fields: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    response_key: str | None = None
    result_only: bool = False
    dataset_path: str | None = None
    source: str = ""
    write: Write = "create"
    hook_method: str = ""
    query: tuple[str, ...] = ()
    key: str = ""

    @property
    def endpoint(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def dataset(self) -> str:
        return self.dataset_path or self.path

    def can_resolve(self, records: Iterable[Any]) -> bool:
        """Whether a lost answer for ``records`` can be settled without a person."""
        if self.resolution == "lookup":
            return True
        if self.resolution == "resend":
            return all(isinstance(r, Mapping) and any(r.get(k) for k in self.unique_fields) for r in records)
        return False


#: The port field, shown for every type for Airflow 3.3's Test button: the connection list's button sends
#: ``port: Number(<stored port>)``, so 0 for a connection saved without one, and the api-server refuses a
#: port that differs from the stored one unless the request carries the password again ("The host or
#: port to test differs from the stored connection"). A stored 0 passes that check; the hooks ignore
#: it (core/hook.py adds only a non-zero port to the Base URL).
PORT_FIELD_LABEL = "Port (0; Test button)"
PORT_FIELD_PLACEHOLDER = "0"


@dataclass(frozen=True)
class ApiSpec:
    """Everything the provider knows about one API that is not code.

    :param name: the short name (error messages, rate-limit keys, lineage scheme, sandbox prefix,
        the ``hooks``/``operators`` module name).
    :param hosts: the default base URL(s); the first is the default (Oktopost: ``us`` and ``eu``).
    :param field_labels: the connection fields the hook reads and how the UI calls them.
    :param ui_relabeling: provider-info labels where they differ from ``field_labels``.
    :param rate_windows: the vendor's limits the client paces under, ``((calls, seconds), ...)``.
    :param rate_block_seconds: how long the vendor blocks a key after a 429 (``None``: no block).
    :param paths: named paths (Octopus's overridable ``paths``, CustomerOS's endpoints).
    :param calls: the other endpoints a hook method reaches, one call each (reads of one object,
        lookups, account-wide actions): neither a paged list nor a per-record write.
    """

    name: str
    display_name: str
    conn_type: str
    default_conn_id: str
    conn_name_attr: str
    hook_class: str
    hosts: Mapping[str, str]
    field_labels: Mapping[str, str]
    hidden_fields: tuple[str, ...]
    placeholders: Mapping[str, str]
    external_doc_url: str
    rate_windows: tuple[tuple[int, int], ...]
    rate_limit_note: str
    ui_relabeling: Mapping[str, str] = field(default_factory=dict)
    rate_block_seconds: int | None = None
    path_prefix: str = ""
    resources: Mapping[str, Resource] = field(default_factory=dict)
    operations: Mapping[str, Operation] = field(default_factory=dict)
    paths: Mapping[str, str] = field(default_factory=dict)
    calls: Mapping[str, Resource] = field(default_factory=dict)
    source: str = ""
    #: The operators that reach ``resources`` (by ``fetch_argument=<name>``) and ``operations``
    #: (``operation=<name>``), named for the docs (class names in :attr:`operators_module`).
    fetch_operator: str = ""
    fetch_argument: str = "resource"
    batch_operator: str = ""

    @property
    def default_host(self) -> str:
        return next(iter(self.hosts.values()))

    @property
    def hook_module(self) -> str:
        return self.hook_class.rpartition(".")[0]

    @property
    def operators_module(self) -> str:
        return f"airflow_provider_gtm.operators.{self.name}"

    @property
    def batch_max(self) -> int:
        """The largest chunk an operator of this API accepts (the operations' ``batch_max``)."""
        return max((op.batch_max for op in self.operations.values() if op.batch_max), default=500)

    def relabeling(self) -> dict[str, str]:
        """The UI's ``relabeling`` (the hook's labels, with the UI's own wording where it differs)."""
        return {**self.field_labels, "port": PORT_FIELD_LABEL, **self.ui_relabeling}

    def ui_placeholders(self) -> dict[str, str]:
        """The UI's ``placeholders``: the spec's, and 0 in the port field (see ``PORT_FIELD_LABEL``)."""
        return {**self.placeholders, "port": PORT_FIELD_PLACEHOLDER}

    def upserts(self) -> dict[str, tuple[str, str]]:
        """``<resource>.upsert`` → its create and update, where both name a record by the same key."""
        found = {}
        for name, op in self.operations.items():
            resource, _, write = name.partition(".")
            update = self.operations.get(f"{resource}.update")
            if write == "create" and op.key and update is not None and update.key == op.key:
                found[f"{resource}.upsert"] = (name, f"{resource}.update")
        return found

    def unique_keys(self) -> dict[str, str]:
        """Operation → the one field whose duplicate the vendor refuses (single-field ``resend`` rules)."""
        return {name: op.unique_fields[0] for name, op in self.operations.items()
                if op.resolution == "resend" and len(op.unique_fields) == 1}
