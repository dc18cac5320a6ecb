"""CustomerOS REST API v1 in the sandbox (``/customeros``), after section 2 of the API reference.

Auth: header ``X-CUSTOMER-OS-API-KEY`` = ``SANDBOX_CREDENTIALS["customeros"]["password"]``.
Missing → 401 ``{"errors":[{"message":"Api key is required"}]}``; wrong → 401
``{"errors":[{"message”":"Invalid api key"}]}`` (the middleware's curly-quote typo inside the JSON
key is kept, byte for byte, as UTF-8). Handler errors: ``{"status":"error","message":...}``.

Routes (paths after the prefix):

- ``GET /enrich/v1/person`` (``email`` or ``linkedinUrl``; else 400): 202 with ``isComplete: false``,
  ``pendingFields`` and a ``resultUrl`` on this sandbox (``http://<Host>/customeros/enrich/v1/person/
  results/<uuid>``); ``GET .../results/{id}`` answers 202 until it has been polled
  ``enrichment_polls`` times (default 2; 0 makes the first call answer 200 complete), then 200
  ``isComplete: true`` with ``data.emails`` (and ``data.phoneNumbers`` with
  ``includeMobileNumber=true``); unknown id 404 ``Record not found``; not a UUID 400. "Person not
  found" (200, ``status: warning``) for inputs containing ``notfound`` and for a deterministic
  subset of the rest: ``crc32("<seed>:<lower-cased input>") % 100 < not_found_percent`` (default 10).
- ``GET /enrich/v1/organization`` (``domain`` or ``linkedinUrl``; also ``/enrich/v1/person/organization``,
  where one copy of ``server/customer_routes.go`` registers it (``paths_version``, see
  :mod:`~airflow_provider_gtm.sandbox.customeros_routes`), and the 2024 misspelling
  ``/enrich/v1/organizaiton``): 200 ``{status, requestId, data}``; 200 ``warning`` when not found
  (same rule as persons).
- ``/flows/v1/...`` (flows, nodes, edges, agents, listeners, transitions, webhooks): see
  :mod:`~airflow_provider_gtm.sandbox.customeros_flows`.
- ``GET /verify/v1/email?address=``: 200 ``{status, requestId, email: {emailAddress, deliverable,
  isCatchAll, isRisky, provider, secureGatewayProvider, alternateEmail, risk: {...}, syntax: {...}}}``
  (the newer nested shape); ``GET /verify/v1/ip?address=``: 200 ``{status, requestId, ip: {...}}``.
- ``POST /verify/v1/email/bulk`` (multipart ``file`` CSV, ``emailColumn``, ``verifyCatchAll``): 200
  ``{message, jobId, resultUrl, estimatedCompletionTs}``; ``GET .../bulk/results/{jobId}`` is
  ``processing`` (``results: null``) until polled ``bulk_polls`` times (default 2), then
  ``completed`` with ``results.downloadUrl``; ``GET .../results/{jobId}/download`` → ``text/csv``, and
  before completion 202 ``{"status": "processing", "message"}`` (``rest/verify/verify_email.go``).
- ``POST /customerbase/v1/organizations`` (see Versions): 201; a taken website domain, customId or
  LinkedIn URL is "Organization already exists with given domain|custom id|linkedin url"; 400 for a
  bad body or no name/customId/website/linkedinUrl.
  ``GET /customerbase/v1/organizations/{id}`` (id or cosId) → 200 / 404 ``Organization not found``.
  Synthetic organizations ``00000000-0000-4000-8000-<12-digit index>`` / ``C-<index>`` with website
  ``https://org<index>.example.com`` exist for every index below ``ctx.records``.
- ``POST /customerbase/v1/contacts`` (JSON ``{email, linkedinUrl}``): 200 ``{contact, requestId,
  status}``; a multipart CSV goes the import way (201).
- ``POST /customerbase/v1/contacts/bulk`` (top-level JSON array) and ``POST .../contacts/import``
  (multipart CSV with headers ``email``, ``linkedin_url``): ``{status, requestId?, summary: {total,
  success, failed}, details}``; ``details`` is one ``{value, recordNumber, description}`` object when
  none or one record fails (none: the zero-valued entry, Go's omitempty never omits a struct) and a
  list when several fail.

Versions (``configure(customeros={...})``), each one the vendor's handler code at a point in its
history (customeros/customeros, ``packages/server/customer-os-api/rest/customerbase/``):

- ``bulk_version`` 2 (default, newest ``contact_bulk.go`` with ``rest/response/response_handler.go``):
  JSON path 200 with ``requestId`` for none or one failure; several failures 201 with the body written
  twice (HandleCreated, then c.JSON again). 1 (commit 2352973a72c9): 201 for none, 206
  ``partial_success`` for one, 201 ``partial_success`` for several. The CSV path answers 201.
- ``verify_version`` 1 (default, ``rest/verify/verify_email.go`` of September 2024): a results download
  before completion answers 202 ``{"status": "processing", "message"}``; 2 (the newer ``VerifyHandler``
  version of that file): 200 ``{"requestId", "status": "success", "message": "The bulk request is still
  being processed. Please try again later."}``.
- ``organization_version`` 1 (default, ``organization.go`` at ef492ebda, October 2024): 201 ``{status,
  message, id}``; 409 ``{status, message, id}`` with the existing id; a LinkedIn URL that cannot be
  added (here: not a linkedin.com URL) → status 206 and two documents, ``{status: partial_success,
  message: "Failed to add linkedin url", id, partialSuccess}`` then the 201 body; GET answers the
  organization flat. 2 (newest, response handler): 201 ``{requestId, status, organization: {id}}``;
  a duplicate → status line **500** ``{requestId, status: error, code: "Conflict", message}`` (its
  HandleError writes every error as 500); GET ``{organization, requestId, status}``.

No numeric rate limit is documented: ``default_rate_limit`` is None (configure one with
``rate_limits={"customeros": {"windows": [[calls, seconds]]}}``); the 429 body is
``{"status":"error","message":"Too many requests"}`` without ``Retry-After``.

``state()`` shape::

    {"organizations": {id: record}, "contacts": {contactId: record},
     "enrichments": {id: {"input": {...}, "polls": n, "complete": bool}},
     "bulk_jobs": {jobId: {"fileName", "totalEmails", "polls", "status"}}}

``configure`` options: ``enrichment_polls`` (int ≥ 0), ``bulk_polls`` (int ≥ 0),
``not_found_percent`` (0-100). ``reset()`` forgets writes and restores the option defaults.

Documented choices (where the reference is silent or in conflict):

- Bulk contacts status codes follow the code, not the swagger's 207 (no version of the code sends
  207). ``recordNumber`` is the 0-based array index on the JSON path and the 1-based data-row number on
  the CSV path (as in the code). Invalid = neither email nor linkedinUrl (``email or linkedinUrl is
  required``), or a malformed email (``invalid email format``). The CSV import path always answers
  201 (as in the code). Contacts are deduplicated by email (an existing email returns its contactId).
- Organization create: see Versions.
- Bulk email verification without ``emailColumn``: a one-column file uses that column; a file with
  several columns is refused with ``Multiple columns found, please provide 'emailColumn' parameter``.
  Downloading before completion → 202 processing (as the code).
- Email verification verdicts are deterministic from the address (syntax first; then a hash picks
  deliverable / undeliverable / unknown; ``catchall.example`` domains are catch-all and
  ``verifyCatchAll=false`` leaves them ``unknown``).
- ``requestId`` is 16 hex characters.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
import uuid
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_gtm.apis.customeros import CUSTOMEROS
from airflow_provider_gtm.sandbox.customeros_flows import CustomerOSFlowsApis
from airflow_provider_gtm.sandbox.customeros_routes import CustomerOSRouteFileApis
from airflow_provider_gtm.sandbox.framework import (
    HttpError,
    Request,
    Response,
    Route,
    SandboxApi,
    SandboxContext,
    json_response,
)

API_KEY_HEADER = "X-CUSTOMER-OS-API-KEY"
DEFAULT_OPTIONS: dict[str, int] = {"enrichment_polls": 2, "bulk_polls": 2, "not_found_percent": 10,
                                   "bulk_version": 2, "organization_version": 1, "verify_version": 1,
                                   "paths_version": 0}
# Which version of the vendor's handler code the sandbox reproduces (customeros/customeros,
# packages/server/customer-os-api/rest/...): see "Versions" in the module docstring.
VERSION_RANGE = {"bulk_version": (1, 2), "organization_version": (1, 2), "verify_version": (1, 2),
                 # 0: both the route file's and the swagger's paths, 1: the route file's, 2: the swagger's.
                 "paths_version": (0, 2)}
ZERO_BULK_DETAILS = {"value": "", "recordNumber": 0, "description": ""}
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
LINKEDIN_CONTACT_RE = re.compile(r"^(https?://)?([a-z]{2,3}\.)?linkedin\.com/in/[^/?#\s]+/?$", re.IGNORECASE)
SYNTH_ORG_ID = re.compile(r"^00000000-0000-4000-8000-(\d{12})$")
SYNTH_COS_ID = re.compile(r"^C-(\d{6,})$")
SYNTH_ORG_DOMAIN = re.compile(r"^org(\d+)\.example\.com$")
FIRST_NAMES = ("Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Dennis", "Radia")
LAST_NAMES = ("Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "Ritchie", "Perlman")
INDUSTRIES = ("Software", "Retail", "Finance", "Healthcare", "Manufacturing")


def _valid_email(value: Any) -> bool:
    return isinstance(value, str) and bool(EMAIL_RE.match(value)) and ".." not in value


def _domain_of(website: str) -> str:
    value = website.strip().lower()
    host = urlsplit(value if "://" in value else f"//{value}").hostname or ""
    return host[4:] if host.startswith("www.") else host


def _linkedin_key(url: str) -> str:
    value = url.strip().lower()
    split = urlsplit(value if "://" in value else f"//{value}")
    host = (split.hostname or "").removeprefix("www.")
    return f"{host}{split.path.rstrip('/')}"


class CustomerOSSandbox(CustomerOSRouteFileApis, CustomerOSFlowsApis, SandboxApi):
    """The CustomerOS REST API v1 (see the module docstring for behaviour and state shape)."""

    name = CUSTOMEROS.name  # the path prefix
    default_rate_limit = None

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        self.reset()

    # --- framework hooks --------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [
            Route("GET", "/enrich/v1/person", self.enrich_person),
            Route("GET", "/enrich/v1/person/results/{id}", self.enrich_person_results),
            Route("GET", "/enrich/v1/organizaiton", self.enrich_organization),
            Route("GET", "/verify/v1/email", self.verify_email),
            Route("GET", "/verify/v1/ip", self.verify_ip),
            Route("POST", "/verify/v1/email/bulk", self.bulk_upload),
            Route("GET", "/verify/v1/email/bulk/results/{id}", self.bulk_results),
            Route("GET", "/verify/v1/email/bulk/results/{id}/download", self.bulk_download),
            Route("POST", "/customerbase/v1/organizations", self.create_organization),
            Route("GET", "/customerbase/v1/organizations/{id}", self.get_organization),
            Route("GET", "/billing/v1/organizations/{id}/invoices", self.organization_invoices),
            Route("POST", "/customerbase/v1/contacts", self.create_contact),
            Route("POST", "/customerbase/v1/contacts/bulk", self.bulk_contacts),
            Route("POST", "/customerbase/v1/contacts/import", self.import_contacts),
            Route("PUT", "/customerbase/v1/organizations/{id}/links/{system}/primary", self.set_primary_link),
            *self.route_file_routes(),
            *self.flows_routes(),
        ]

    def authenticate(self, request: Request) -> Response | None:
        key = request.header(API_KEY_HEADER)
        if not key:
            return json_response({"errors": [{"message": "Api key is required"}]}, 401)
        if key != self.ctx.credentials["customeros"]["password"]:
            body = '{"errors":[{"message\u201d":"Invalid api key"}]}'.encode()
            return Response(status=401, body=body)
        return None

    def error(self, status: int, message: str, **extra: Any) -> Response:
        return json_response({"status": "error", "message": message, **extra}, status)

    def rate_limited(self, retry_after: float | None, blocked: bool) -> Response:
        return self.error(429, "Too many requests")

    def state(self) -> dict[str, Any]:
        with self.ctx.lock:
            return {
                "organizations": {k: dict(v) for k, v in self.organizations.items()},
                "contacts": {k: dict(v) for k, v in self.contacts.items()},
                "enrichments": {k: {"input": v["input"], "polls": v["polls"], "complete": v["complete"]}
                                for k, v in self.enrichments.items()},
                "bulk_jobs": {k: {"fileName": v["fileName"], "totalEmails": len(v["emails"]), "polls": v["polls"],
                                  "status": v["status"]} for k, v in self.jobs.items()},
                "primary_links": [dict(link) for link in self.primary_links],
                **self._route_file_state(),
                **self._flows_state(),
            }

    def reset(self) -> None:
        with self.ctx.lock:
            self.organizations: dict[str, dict[str, Any]] = {}
            self.org_keys: dict[str, str] = {}  # "domain:x" / "custom:x" / "linkedin:x" -> org id
            self.contacts: dict[str, dict[str, Any]] = {}
            self.contact_emails: dict[str, str] = {}
            self.enrichments: dict[str, dict[str, Any]] = {}
            self.jobs: dict[str, dict[str, Any]] = {}
            self.primary_links: list[dict[str, str]] = []  # every PUT .../links/{system}/primary, in order
            self._seq = 0
            self.options = dict(DEFAULT_OPTIONS)
            self._route_file_reset()
            self._flows_reset()

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - set(DEFAULT_OPTIONS)
        if unknown:
            raise ValueError(f"unknown customeros option(s) {sorted(unknown)}; allowed: {sorted(DEFAULT_OPTIONS)}")
        for key, value in options.items():
            number = int(value)
            low, high = VERSION_RANGE.get(key, (0, 100 if key == "not_found_percent" else number))
            if number < low or number > high:
                raise ValueError(f"customeros option {key} out of range: {value!r}")
            with self.ctx.lock:
                self.options[key] = number

    # --- helpers ----------------------------------------------------------------------------------
    def _uuid(self, kind: str) -> str:
        self._seq += 1
        return str(uuid.UUID(int=self.ctx.rng("uuid", kind, self._seq).getrandbits(128), version=4))

    def _request_id(self) -> str:
        self._seq += 1
        return f"{self.ctx.rng('request', self._seq).getrandbits(64):016x}"

    def _base(self, request: Request) -> str:
        host = request.header("Host") or "127.0.0.1"
        return f"http://{host}/{self.name}"

    def _not_found(self, value: str) -> bool:
        key = value.strip().lower()
        if "notfound" in key:
            return True
        return zlib.crc32(f"{self.ctx.seed}:{key}".encode()) % 100 < self.options["not_found_percent"]

    # --- enrichment -------------------------------------------------------------------------------
    def _person(self, email: str | None, linkedin: str | None, mobile: bool, complete: bool) -> dict[str, Any]:
        key = (email or linkedin or "").lower()
        rng = self.ctx.rng("person", key)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        public_id = f"{first}-{last}-{rng.randrange(1000, 9999)}".lower()
        company = f"Org {rng.randrange(0, 10000)}"
        data: dict[str, Any] = {
            "name": {"firstName": first, "lastName": last, "fullName": f"{first} {last}"},
            "jobs": [{"company": company, "companyLinkedin": f"https://linkedin.com/company/{company.lower()}",
                      "companyWebsite": f"https://{company.lower().replace(' ', '')}.example.com",
                      "isCurrent": True, "title": rng.choice(["CTO", "VP Sales", "Engineer", "Founder"]),
                      "duration": {"startMonth": rng.randint(1, 12), "startYear": rng.randint(2010, 2023)}}],
            "location": {"city": "Berlin", "country": "Germany", "region": "Berlin", "timezone": "CET"},
            "profilePic": f"https://img.example.com/{public_id}.jpg",
            "social": {"linkedin": {"url": linkedin or f"https://linkedin.com/in/{public_id}",
                                    "publicId": public_id, "followerCount": rng.randrange(0, 5000),
                                    "id": str(rng.randrange(10 ** 8, 10 ** 9))}},
        }
        if complete:
            address = email or f"{first}.{last}@{company.lower().replace(' ', '')}.example.com".lower()
            data["emails"] = [{"address": address, "deliverable": "true", "isRisky": False, "type": "work"}]
            if mobile:
                data["phoneNumbers"] = [{"number": f"+1415{rng.randrange(1000000, 9999999)}", "type": "mobile"}]
        return data

    def _enrichment_body(self, job: dict[str, Any], request: Request) -> dict[str, Any]:
        complete = job["complete"]
        body: dict[str, Any] = {"status": "success", "isComplete": complete,
                                "data": self._person(job["input"]["email"], job["input"]["linkedinUrl"],
                                                     job["input"]["includeMobileNumber"], complete)}
        if complete:
            body["message"] = "Enrichment completed"
        else:
            body["message"] = "Enrichment in progress"
            body["pendingFields"] = ["email"] + (["phone number"] if job["input"]["includeMobileNumber"] else [])
            body["resultUrl"] = f"{self._base(request)}/enrich/v1/person/results/{job['id']}"
        return body

    def enrich_person(self, request: Request) -> Response:
        email = request.arg("email") or None
        linkedin = request.arg("linkedinUrl") or None
        if not email and not linkedin:
            raise HttpError(400, "Missing required parameters linkedinUrl or email")
        if self._not_found(email or linkedin or ""):
            return json_response({"status": "warning", "message": "Person not found"})
        with self.ctx.lock:
            job: dict[str, Any] = {"id": self._uuid("enrichment"), "polls": 0, "input": {
                "email": email, "linkedinUrl": linkedin, "firstName": request.arg("firstName"),
                "lastName": request.arg("lastName"),
                "includeMobileNumber": request.arg("includeMobileNumber") == "true"}}
            job["complete"] = self.options["enrichment_polls"] == 0
            self.enrichments[job["id"]] = job
        return json_response(self._enrichment_body(job, request), 200 if job["complete"] else 202)

    def enrich_person_results(self, request: Request) -> Response:
        result_id = request.path_params["id"]
        try:
            uuid.UUID(result_id)
        except ValueError:
            raise HttpError(400, "Invalid result ID") from None
        with self.ctx.lock:
            job = self.enrichments.get(result_id)
            if job is None:
                raise HttpError(404, "Record not found")
            if not job["complete"]:
                job["polls"] += 1
                job["complete"] = job["polls"] >= self.options["enrichment_polls"]
            body = self._enrichment_body(job, request)
        return json_response(body, 200 if job["complete"] else 202)

    def _organization_data(self, domain: str) -> dict[str, Any]:
        rng = self.ctx.rng("enrich_org", domain)
        name = domain.split(".")[0].replace("-", " ").title()
        return {
            "name": name, "domain": domain, "website": f"https://{domain}",
            "description": f"{name} builds things.", "longDescription": f"{name} builds things, at scale.",
            "employees": rng.choice([10, 50, 200, 1000, 5000]), "foundedYear": rng.randint(1980, 2022),
            "public": rng.random() < 0.2, "industry": {"industry": rng.choice(INDUSTRIES)},
            "location": {"addressLine1": f"{rng.randint(1, 999)} Main St", "addressLine2": "", "city": "Austin",
                         "region": "Texas", "country": "United States", "countryCodeA2": "US",
                         "postalCode": "73301", "isHeadquarter": True},
            "logos": [f"https://img.example.com/{domain}/logo.png"],
            "icons": [f"https://img.example.com/{domain}/icon.png"],
            "socials": [f"https://linkedin.com/company/{domain.split('.')[0]}"],
        }

    def enrich_organization(self, request: Request) -> Response:
        domain = request.arg("domain") or None
        linkedin = request.arg("linkedinUrl") or None
        if not domain and not linkedin:
            raise HttpError(400, "Missing required parameters domain or linkedinUrl")
        if self._not_found(domain or linkedin or ""):
            return json_response({"status": "warning", "message": "Organization not found"})
        if domain:
            resolved = _domain_of(domain)
        else:
            slug = _linkedin_key(linkedin or "").rstrip("/").split("/")[-1] or "company"
            resolved = f"{slug}.example.com"
        with self.ctx.lock:
            request_id = self._request_id()
        return json_response({"status": "success", "requestId": request_id,
                              "data": self._organization_data(resolved)})

    # --- verification -----------------------------------------------------------------------------
    def _verify(self, address: str, verify_catch_all: bool) -> dict[str, Any]:
        valid = _valid_email(address)
        user, _, domain = address.partition("@")
        domain = domain.lower()
        mixed = zlib.crc32(f"{self.ctx.seed}:{address.lower()}".encode())
        catch_all = valid and domain.endswith("catchall.example")
        if not valid:
            deliverable = "false"
        elif catch_all:
            deliverable = "unknown" if not verify_catch_all else ("true" if mixed % 2 else "false")
        else:
            deliverable = ("true", "true", "true", "false", "unknown")[mixed % 5]
        free = domain in ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com")
        role = user.lower() in ("info", "admin", "sales", "support", "hello")
        return {
            "emailAddress": address, "deliverable": deliverable, "isCatchAll": catch_all,
            "isRisky": deliverable != "true" or role, "provider": "google" if mixed % 3 == 0 else "microsoft",
            "secureGatewayProvider": "", "alternateEmail": "",
            "risk": {"isFirewalled": False, "isFreeProvider": free, "isMailboxFull": deliverable == "false" and valid,
                     "isPrimaryDomain": True, "isRoleMailbox": role, "isSystemGenerated": False},
            "syntax": {"isValid": valid, "user": user if valid else "", "domain": domain if valid else ""},
        }

    def verify_email(self, request: Request) -> Response:
        address = request.arg("address")
        if not address:
            raise HttpError(400, "Missing required parameter address")
        verify_catch_all = (request.arg("verifyCatchAll") or "true").lower() != "false"
        with self.ctx.lock:
            request_id = self._request_id()
        return json_response({"status": "success", "requestId": request_id,
                              "email": self._verify(address, verify_catch_all)})

    def verify_ip(self, request: Request) -> Response:
        address = request.arg("address")
        if not address:
            raise HttpError(400, "Missing required parameter address")
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            raise HttpError(400, "Invalid IP address") from None
        rng = self.ctx.rng("ip", address)
        with self.ctx.lock:
            request_id = self._request_id()
        ip = {
            "ipAddress": address,
            "geolocation": {"country": "Germany", "countryIso": "DE", "city": "Frankfurt", "isEuropeanUnion": True},
            "network": {"asn": f"AS{rng.randint(1000, 65000)}", "name": "Example Networks", "domain": "example.net",
                        "route": f"{address}/{24 if parsed.version == 4 else 48}", "type": "business"},
            "organization": {"name": "Example GmbH", "domain": "example.de",
                             "linkedin": "https://linkedin.com/company/example"},
            "threats": {"isProxy": False, "isVpn": rng.random() < 0.1, "isTor": False,
                        "isDatacenter": rng.random() < 0.3, "isMobile": False, "isCloudRelay": False,
                        "isUnallocated": parsed.is_reserved},
            "time_zone": {"name": "Europe/Berlin", "abbr": "CET", "offset": "+01:00", "is_dst": False,
                          "current_time": "12:00:00"},
        }
        return json_response({"status": "success", "requestId": request_id, "ip": ip})

    def bulk_upload(self, request: Request) -> Response:
        if not request.content_type.lower().startswith("multipart/form-data"):
            raise HttpError(400, "No file provided")
        parts = request.multipart()
        if "file" not in parts:
            raise HttpError(400, "No file provided")
        filename, content = parts["file"]
        if not (filename or "").lower().endswith(".csv"):
            raise HttpError(400, "Only CSV files are accepted")
        column = parts.get("emailColumn", (None, b""))[1].decode("utf-8", "replace").strip() or None
        verify_catch_all = parts.get("verifyCatchAll", (None, b"true"))[1].decode().strip().lower() != "false"
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig", "replace"))))
        rows = [row for row in rows if any(cell.strip() for cell in row)]
        if not rows:
            raise HttpError(400, "No records found in the file")
        header = [cell.strip() for cell in rows[0]]
        if column is not None:
            if column not in header:
                raise HttpError(400, f"Column '{column}' not found")
            position = header.index(column)
        elif len(header) > 1:
            raise HttpError(400, "Multiple columns found, please provide 'emailColumn' parameter")
        else:
            position = 0
        data = rows[1:]
        if not data:
            raise HttpError(400, "No records found in the file")
        emails = [row[position].strip() if position < len(row) else "" for row in data]
        with self.ctx.lock:
            job_id = self._uuid("bulk")
            self.jobs[job_id] = {"id": job_id, "fileName": filename, "header": header, "rows": data,
                                 "emails": emails, "verifyCatchAll": verify_catch_all, "polls": 0,
                                 "status": "processing" if self.options["bulk_polls"] else "completed"}
        eta = int(self.ctx.clock.now()) + 5 * max(1, self.options["bulk_polls"])
        return json_response({"message": "File uploaded successfully", "jobId": job_id,
                              "resultUrl": f"{self._base(request)}/verify/v1/email/bulk/results/{job_id}",
                              "estimatedCompletionTs": eta})

    def bulk_results(self, request: Request) -> Response:
        job_id = request.path_params["id"]
        with self.ctx.lock:
            job = self.jobs.get(job_id)
            if job is None:
                raise HttpError(404, "Job not found")
            polls_needed = self.options["bulk_polls"]
            if job["status"] != "completed":
                job["polls"] += 1
                if job["polls"] >= polls_needed:
                    job["status"] = "completed"
            total = len(job["emails"])
            done = total if job["status"] == "completed" else total * job["polls"] // max(1, polls_needed)
            body: dict[str, Any] = {"jobId": job_id, "status": job["status"], "fileName": job["fileName"],
                                    "message": f"Completed {done} of {total} emails",
                                    "estimatedCompletionTs": int(self.ctx.clock.now())
                                    + 5 * max(0, polls_needed - job["polls"]),
                                    "results": None}
            if job["status"] == "completed":
                verdicts = [self._verify(e, job["verifyCatchAll"])["deliverable"] for e in job["emails"]]
                body["results"] = {"totalEmails": total, "deliverable": verdicts.count("true"),
                                   "undeliverable": verdicts.count("false"),
                                   "downloadUrl": f"{self._base(request)}/verify/v1/email/bulk/results/{job_id}"
                                                  "/download"}
        return json_response(body)

    def bulk_download(self, request: Request) -> Response:
        job_id = request.path_params["id"]
        with self.ctx.lock:
            job = self.jobs.get(job_id)
            if job is None:
                raise HttpError(404, "Job not found")
            if job["status"] != "completed":
                message = "The bulk request is still being processed. Please try again later."
                if self.options["verify_version"] == 2:
                    # Newer rest/verify/verify_email.go (VerifyHandler): responseHandler.HandleSuccess,
                    # so 200 {"requestId", "status": "success", "message"}: no CSV, and no error either.
                    return json_response({"requestId": self._request_id(), "status": "success",
                                          "message": message})
                # rest/verify/verify_email.go DownloadBulkEmailVerificationResults: 202, JSON, no CSV.
                return json_response({"status": "processing", "message": message}, 202)
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(job["header"] + ["deliverable", "isCatchAll", "isRisky", "provider"])
            for row, email in zip(job["rows"], job["emails"], strict=True):
                verdict = self._verify(email, job["verifyCatchAll"])
                writer.writerow(row + [verdict["deliverable"], str(verdict["isCatchAll"]).lower(),
                                       str(verdict["isRisky"]).lower(), verdict["provider"]])
        return Response(200, out.getvalue().encode(), content_type="text/csv")

    # --- organizations ----------------------------------------------------------------------------
    def _synthetic_org(self, index: int) -> dict[str, Any]:
        rng = self.ctx.rng("org", index)
        return {"id": f"00000000-0000-4000-8000-{index:012d}", "cosId": f"C-{index:06d}",
                "customId": f"synthetic-{index}", "name": f"Org {index}", "website": f"https://org{index}.example.com",
                "domains": [f"org{index}.example.com"], "leadSource": rng.choice(["web", "event", "partner"]),
                "relationship": rng.choice(["CUSTOMER", "PROSPECT"]), "stage": rng.choice(["LEAD", "TARGET"]),
                "icpFit": rng.random() < 0.5, "externalLinks": []}

    def _find_org(self, key: str) -> str | None:
        """The id of the organization holding ``key`` ("domain:x", "custom:x", "linkedin:x")."""
        if key in self.org_keys:
            return self.org_keys[key]
        kind, _, value = key.partition(":")
        match = None
        if kind == "domain":
            match = SYNTH_ORG_DOMAIN.match(value)
        elif kind == "custom":
            match = re.match(r"^synthetic-(\d+)$", value)
        if match and int(match.group(1)) < self.ctx.records:
            return str(self._synthetic_org(int(match.group(1)))["id"])
        return None

    def create_organization(self, request: Request) -> Response:
        try:
            body = request.json()
        except HttpError:
            raise HttpError(400, "Invalid request body") from None
        if not isinstance(body, dict):
            raise HttpError(400, "Invalid request body")
        fields = {k: body.get(k) for k in ("name", "customId", "website", "linkedinUrl", "leadSource",
                                           "relationship", "icpFit")}
        for key, value in fields.items():
            expected = bool if key == "icpFit" else str
            if value is not None and not isinstance(value, expected):
                raise HttpError(400, "Invalid request body")
        if not any((fields[k] or "").strip() for k in ("name", "customId", "website", "linkedinUrl")):
            raise HttpError(400, "Missing organization input fields")
        linkedin = (fields["linkedinUrl"] or "").strip()
        linkedin_ok = not linkedin or "linkedin.com/" in linkedin.lower()
        checks = []
        domain = _domain_of(fields["website"]) if fields["website"] else ""
        if domain:
            checks.append((f"domain:{domain}", "domain"))
        if fields["customId"]:
            checks.append((f"custom:{fields['customId']}", "custom id"))
        if linkedin and linkedin_ok:
            checks.append((f"linkedin:{_linkedin_key(linkedin)}", "linkedin url"))
        with self.ctx.lock:
            for key, label in checks:
                existing = self._find_org(key)
                if existing is not None:
                    message = f"Organization already exists with given {label}"
                    if self.options["organization_version"] == 2:
                        # response_handler.go HandleError (newest): status line 500, the real status as text.
                        return json_response({"requestId": self._request_id(), "status": "error",
                                              "code": "Conflict", "message": message}, 500)
                    raise HttpError(409, message, id=existing)  # October 2024 code: the existing id
            org_id = self._uuid("organization")
            self._seq += 1
            record = {"id": org_id, "cosId": f"C-N{self._seq:05d}", "customId": fields["customId"] or "",
                      "name": fields["name"] or "", "website": fields["website"] or "",
                      "domains": [domain] if domain else [], "leadSource": fields["leadSource"] or "",
                      "relationship": fields["relationship"] or "PROSPECT", "stage": "LEAD",
                      "icpFit": bool(fields["icpFit"]),
                      "externalLinks": [], "linkedinUrl": linkedin if linkedin_ok else ""}
            self.organizations[org_id] = record
            for key, _ in checks:
                self.org_keys[key] = org_id
            self.org_keys[f"cos:{record['cosId']}"] = org_id
            request_id = self._request_id()
        if self.options["organization_version"] == 2:
            # Newest code: HandleCreated with OrganizationResponse{Organization{ID}}; no 206 on create.
            return json_response({"requestId": request_id, "status": "success", "organization": {"id": org_id}},
                                 201)
        created = {"status": "success", "message": "Organization created successfully", "id": org_id}
        if not linkedin_ok:
            # October 2024 code: 206 partial_success, then (no return) the 201 body as well; the
            # status line stays 206 and the body holds two JSON documents.
            partial = {"status": "partial_success", "message": "Failed to add linkedin url", "id": org_id,
                       "partialSuccess": True}
            body = json.dumps(partial, separators=(",", ":")) + json.dumps(created, separators=(",", ":"))
            return Response(status=206, body=body.encode())
        return json_response(created, 201)

    def _organization(self, org_id: str) -> dict[str, Any]:
        """The organization by id or COS id (stored, or synthetic); 404 ``Organization not found``."""
        record = self.organizations.get(org_id) or self.organizations.get(self.org_keys.get(f"cos:{org_id}", ""))
        if record is None:
            match = SYNTH_ORG_ID.match(org_id) or SYNTH_COS_ID.match(org_id)
            if match and int(match.group(1)) < self.ctx.records:
                record = self._synthetic_org(int(match.group(1)))
        if record is None:
            raise HttpError(404, "Organization not found")
        return record

    #: SetPrimaryExternalSystemId's documented systems (rest/customerbase/organization.go swagger comment).
    PRIMARY_LINK_SYSTEMS = ("stripe", "hubspot", "close")

    def set_primary_link(self, request: Request) -> Response:
        """``PUT /customerbase/v1/organizations/{id}/links/{externalSystem}/primary`` (customeros/customeros
        rest/customerbase/organization.go SetPrimaryExternalSystemId): JSON ``{"externalId"}`` (else 400
        "Invalid request body"); 404 "Organization not found", then 404 "External system not found" for
        a system other than stripe, hubspot, close (lower-cased first); 200 with ``status, message,
        organizationId, externalSystem, primaryExternalId``. The link is stored as the primary one."""
        org_id = request.path_params["id"]
        system = request.path_params["system"].lower()
        try:
            body = request.json()
        except HttpError:
            raise HttpError(400, "Invalid request body") from None
        if not isinstance(body, dict) or not isinstance(body.get("externalId", ""), str):
            raise HttpError(400, "Invalid request body")
        external_id = body.get("externalId", "")
        with self.ctx.lock:
            record = self._organization(org_id)
            if system not in self.PRIMARY_LINK_SYSTEMS:
                raise HttpError(404, "External system not found")
            links = [dict(link, primary=False) if link.get("name") == system else link
                     for link in record.get("externalLinks") or []]
            links.append({"name": system, "id": external_id, "primary": True})
            if org_id in self.organizations:
                self.organizations[org_id]["externalLinks"] = links
            self.primary_links.append({"organizationId": org_id, "externalSystem": system, "externalId": external_id})
        return json_response({"status": "success", "message": "Primary external ID set successfully",
                              "organizationId": org_id, "externalSystem": system, "primaryExternalId": external_id})

    def organization_invoices(self, request: Request) -> Response:
        """``GET /billing/v1/organizations/{id}/invoices`` (customeros/customeros server/routes.go
        registerInvoiceRoutes; rest/billing/invoice.go: 404 ``Organization not found``; model.go
        ``InvoicesResponse``: ``status``, ``message``, ``invoices`` of ``InvoiceResponse``)."""
        with self.ctx.lock:
            record = self._organization(request.path_params["id"])
        rng = self.ctx.rng("customeros", "invoices", str(record.get("id")))
        invoices = [{"id": f"{record.get('id')}-inv-{i}", "number": f"INV-{i + 1:05d}",
                     "dueDate": f"2026-0{i + 1}-01T00:00:00Z", "invoiceStatus": ("PAID", "DUE")[i % 2],
                     "amount": float(rng.randrange(100, 5000)), "currency": "USD",
                     "paymentLink": f"https://pay.example.com/{record.get('id')}/{i}",
                     "publicUrl": f"https://invoices.example.com/{record.get('id')}/{i}.pdf"}
                    for i in range(rng.randrange(1, 4))]
        return json_response({"status": "success", "message": "Invoices retrieved successfully",
                              "invoices": invoices})

    def get_organization(self, request: Request) -> Response:
        org_id = request.path_params["id"]
        with self.ctx.lock:
            record = self._organization(org_id)
            request_id = self._request_id()
        if self.options["organization_version"] == 1:
            return json_response({"status": "success", **record})  # October 2024: flat OrganizationResponse
        return json_response({"organization": dict(record), "requestId": request_id, "status": "success"})

    # --- contacts ---------------------------------------------------------------------------------
    @staticmethod
    def _contact_problem(record: Any) -> tuple[str | None, str]:
        """(error description or None, the value to report)."""
        if not isinstance(record, dict):
            return "invalid contact record", ""
        email = record.get("email") or ""
        linkedin = record.get("linkedinUrl") or ""
        if not isinstance(email, str) or not isinstance(linkedin, str):
            return "invalid contact record", str(email or linkedin)
        if not email.strip() and not linkedin.strip():
            return "email or linkedinUrl is required", ""
        if email.strip() and not _valid_email(email.strip()):
            return "invalid email format", email.strip()
        # rest/customerbase/contact.go validateContactRecord: a bad LinkedIn URL is reported with
        # that URL as ``value`` (not the record's e-mail). Valid here: a linkedin.com/in/ profile URL.
        if linkedin.strip() and not LINKEDIN_CONTACT_RE.match(linkedin.strip()):
            return "invalid LinkedIn URL format", linkedin.strip()
        return None, (email or linkedin).strip()

    def _store_contact(self, email: str, linkedin: str) -> dict[str, Any]:
        email = email.strip()
        if email and email.lower() in self.contact_emails:
            return self.contacts[self.contact_emails[email.lower()]]
        contact_id = self._uuid("contact")
        record = {"contactId": contact_id, "email": email, "linkedinUrl": linkedin.strip()}
        self.contacts[contact_id] = record
        if email:
            self.contact_emails[email.lower()] = contact_id
        return record

    def create_contact(self, request: Request) -> Response:
        if request.content_type.lower().startswith("multipart/form-data"):
            return self.import_contacts(request)
        # rest/customerbase/contact.go (newest): a body it cannot bind, or one without email and
        # LinkedIn URL, gets no answer written at all (gin's bare 200); an invalid one goes through
        # HandleError, whose status line is 500 with code "Bad Request" and "<value> | <reason>".
        try:
            body = request.json()
        except HttpError:
            return Response(status=200, body=b"", content_type="text/plain")
        if not isinstance(body, dict) or not (str(body.get("email") or "").strip()
                                              or str(body.get("linkedinUrl") or "").strip()):
            return Response(status=200, body=b"", content_type="text/plain")
        problem, value = self._contact_problem(body)
        if problem:
            with self.ctx.lock:
                request_id = self._request_id()
            return json_response({"requestId": request_id, "status": "error", "code": "Bad Request",
                                  "message": f"{value} | {problem}"}, 500)
        with self.ctx.lock:
            record = self._store_contact(body.get("email") or "", body.get("linkedinUrl") or "")
            request_id = self._request_id()
        return json_response({"contact": dict(record), "requestId": request_id, "status": "success"})

    def _bulk_answer(self, results: list[tuple[Any, str | None, str, int]], csv_path: bool) -> Response:
        """``results``: (record, problem, value, recordNumber) per record."""
        failures = [{"value": value, "recordNumber": number, "description": problem}
                    for _, problem, value, number in results if problem]
        total = len(results)
        if total and len(failures) == total:
            raise HttpError(400, "No valid contacts found in request")
        with self.ctx.lock:
            for record, problem, _, _ in results:
                if not problem:
                    self._store_contact(record.get("email") or "", record.get("linkedinUrl") or "")
            request_id = self._request_id()
        summary = {"total": total, "success": total - len(failures), "failed": len(failures)}
        # Go's omitempty never omits a struct: with no failure `details` is the zero-valued entry.
        details: Any = failures if len(failures) > 1 else (failures[0] if failures else dict(ZERO_BULK_DETAILS))
        if self.options["bulk_version"] == 1:
            # contact_bulk.go, c.JSON era (commit 2352973a72c9): 201 all valid; JSON path 206
            # partial_success for exactly one failure, 201 partial_success for several; CSV path 201 success.
            one = len(failures) == 1 and not csv_path
            status_word = "success" if not failures or csv_path else "partial_success"
            body = {"status": status_word, "summary": summary, "details": details}
            return json_response(body, 206 if one else 201)
        # responseHandler era (newest): HandleSuccess (200) for none or one failure on the JSON path,
        # HandleCreated (201) then c.JSON(201) again for several: the body is written twice.
        envelope = {"requestId": request_id, "status": "success"}
        body = {**envelope, "summary": summary, "details": details}
        if csv_path:
            return json_response(body, 201)
        if len(failures) > 1:
            first = json.dumps(body, separators=(",", ":"))
            second = json.dumps({"summary": summary, "details": details}, separators=(",", ":"))
            return Response(status=201, body=(first + second).encode())
        return json_response(body, 200)

    def bulk_contacts(self, request: Request) -> Response:
        try:
            records = request.json()
        except HttpError:
            raise HttpError(400, "Invalid request body") from None
        if not isinstance(records, list):
            raise HttpError(400, "Invalid request body")
        if not records:
            raise HttpError(400, "No contacts provided")
        results = []
        for number, record in enumerate(records):
            problem, value = self._contact_problem(record)
            results.append((record, problem, value, number))
        return self._bulk_answer(results, csv_path=False)

    def import_contacts(self, request: Request) -> Response:
        if not request.content_type.lower().startswith("multipart/form-data"):
            raise HttpError(415, "Unsupported Content-Type")
        parts = request.multipart()
        if "file" not in parts:
            raise HttpError(400, "No file provided")
        filename, content = parts["file"]
        if not (filename or "").lower().endswith(".csv"):
            raise HttpError(400, "Only CSV files are accepted")
        reader = csv.reader(io.StringIO(content.decode("utf-8-sig", "replace")))
        header = next(reader, None)
        if header is None:
            raise HttpError(400, "Unable to read file")
        header = [cell.strip() for cell in header]
        if "email" not in header or "linkedin_url" not in header:
            raise HttpError(400, "Missing required headers: email, linkedin_url")
        email_at, linkedin_at = header.index("email"), header.index("linkedin_url")
        results: list[tuple[dict[str, str], Any, Any, int]] = []
        for row in reader:
            email = row[email_at].strip() if email_at < len(row) else ""
            linkedin = row[linkedin_at].strip() if linkedin_at < len(row) else ""
            if not email and not linkedin:
                continue
            record = {"email": email, "linkedinUrl": linkedin}
            problem, value = self._contact_problem(record)
            results.append((record, problem, value, len(results) + 1))
        if not results:
            raise HttpError(400, "No contacts provided")
        return self._bulk_answer(results, csv_path=True)
