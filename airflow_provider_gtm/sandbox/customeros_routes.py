"""CustomerOS's API-key routes of ``server/customer_routes.go`` in the sandbox: e-mail tracking,
mailstack, reveal and ``/me`` (issue 22), mixed into :class:`~airflow_provider_gtm.sandbox.customeros.
CustomerOSSandbox`.

Each handler follows its file in customeros/customeros ``packages/server/customer-os-api/``
(``handlers/outreach/outreach.go``, ``handlers/mailstack/{domain,mailbox,dns,model}.go``,
``handlers/reveal_setup/{provision,verify}_tracker.go``, ``handlers/me.go``): errors are the
``enum.ErrorResponse`` ``{requestId, status: "error", message}`` (``handlers/utils.go`` ``SendError``,
``enum/api_errors.go``), successes carry ``enum.BaseResponse`` (``requestId``, ``status``) except the
tracking answer (a bare ``gin.H``).

Paths: the route file's (``/outreach/v1/track/email``, ``/mailstack/v1/domains...``,
``/enrich/v1/person/organization``) and the swagger's (``/outreach/v1/email/tracking``, ``/domains...``,
``/enrich/v1/organization``) are both served; option ``paths_version`` 1 serves the
route file's only, 2 the swagger's only (a router without the route answers gin's plain-text
``404 page not found``), so the hooks' fallback can be exercised.

Where the vendor code depends on services the sandbox does not have (Namecheap, Cloudflare, OpenSRS, an
HTTP fetch of the site), the sandbox decides deterministically (docs/choices.md): supported TLDs are
:data:`SUPPORTED_TLDS`; a domain whose first label contains ``taken`` is unavailable (409),
``premium`` is premium (406); a registered domain gets two DNS records; a tracker is ``verified`` when
its host starts with ``verified.``; deleting a DNS record answers 500 (the handler reads a ``:dnsId``
the route does not declare).
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from airflow_provider_gtm.sandbox.framework import HttpError, Request, Response, Route, json_response

TENANT = "sandbox"
SUPPORTED_TLDS = ("com", "io", "ai", "co", "net", "org")
MAILBOX_USERNAME = re.compile(r"^[a-zA-Z0-9._-]+$")
TRACKING_HOST = "https://track.sandbox.customeros.invalid"
ROUTE_FILE, SWAGGER = 1, 2


class CustomerOSRouteFileApis:
    """Handlers and state of the e-mail tracking, mailstack, reveal and ``/me`` routes."""

    options: dict[str, int]
    ctx: Any  # the SandboxContext (CustomerOSSandbox)

    def _request_id(self) -> str:  # provided by CustomerOSSandbox
        raise NotImplementedError

    def enrich_organization(self, request: Request) -> Response:  # provided by CustomerOSSandbox
        raise NotImplementedError

    def _route_file_reset(self) -> None:
        self.mail_domains: dict[str, dict[str, Any]] = {}
        self.mailboxes: dict[str, dict[str, dict[str, Any]]] = {}
        self.dns_records: dict[str, list[dict[str, str]]] = {}
        self.trackers: dict[str, dict[str, Any]] = {}
        self._route_seq = 0

    def _route_file_state(self) -> dict[str, Any]:
        return {"mail_domains": {k: dict(v) for k, v in self.mail_domains.items()},
                "mailboxes": {d: sorted(m) for d, m in self.mailboxes.items()},
                "dns_records": {d: [dict(r) for r in rs] for d, rs in self.dns_records.items()},
                "trackers": {k: dict(v) for k, v in self.trackers.items()}}

    def route_file_routes(self) -> list[Route]:
        """Both path sets, each route checking ``paths_version`` when called."""
        def only(kind: int, handler: Any) -> Any:
            def served(request: Request) -> Response:
                version = self.options.get("paths_version", 0)
                if kind and version and version != kind:
                    return Response(status=404, body=b"404 page not found", content_type="text/plain")
                with self.ctx.lock:  # one writer at a time, as the other CustomerOS routes
                    return handler(request)
            return served

        mail = "/mailstack/v1/domains"
        pairs = [
            ("POST", "/outreach/v1/track/email", "/outreach/v1/email/tracking", self.email_tracking),
            ("POST", mail, "/domains", self.register_domain),
            ("GET", mail, "/domains", self.get_domains),
            ("POST", f"{mail}/configure", "/domains/configure", self.configure_domain),
            ("POST", f"{mail}/{{domain}}/mailboxes", "/domains/{domain}/mailboxes", self.create_mailbox),
            ("GET", f"{mail}/{{domain}}/mailboxes", "/domains/{domain}/mailboxes", self.get_mailboxes),
            # One copy of customer_routes.go (index id 66456577487) registers EnrichOrganization under
            # person/; the swagger (and the file's other copies) at /enrich/v1/organization.
            ("GET", "/enrich/v1/person/organization", "/enrich/v1/organization", self.enrich_organization),
        ]
        routes = []
        for method, route_file, swagger, handler in pairs:
            routes += [Route(method, route_file, only(ROUTE_FILE, handler)),
                       Route(method, swagger, only(SWAGGER, handler))]
        return routes + [Route(method, path, only(0, handler)) for method, path, handler in (
            ("GET", f"{mail}/recommendations", self.recommend_domains),
            ("GET", f"{mail}/{{domain}}/dns", self.get_dns),
            ("POST", f"{mail}/{{domain}}/dns", self.add_dns),
            ("DELETE", f"{mail}/{{domain}}/dns", self.delete_dns),
            ("POST", "/reveal/v1/trackers", self.provision_tracker),
            ("GET", "/reveal/v1/verify", self.verify_tracker),
            ("GET", "/me", self.me),
        )]

    # --- helpers ----------------------------------------------------------------------------------
    def _fail(self, status: int, message: str) -> Response:
        return json_response({"requestId": self._api_id(), "status": "error", "message": message}, status)

    def _ok(self, status: int = 200, **body: Any) -> Response:
        return json_response({"requestId": self._api_id(), "status": "success", **body}, status)

    def _api_id(self) -> str:
        # enum.BuildBaseResponse: "api" + a 16-character id.
        return "api_" + self._request_id()

    @staticmethod
    def _body(request: Request) -> dict[str, Any] | None:
        """gin's ShouldBindJSON into a struct: ``None`` when the body is not a JSON object."""
        try:
            body = request.json()
        except HttpError:
            return None
        return body if isinstance(body, dict) else None

    def _domain_record(self, domain: str) -> dict[str, Any]:
        created = 2024 + zlib.crc32(domain.encode()) % 2
        return {"domain": domain, "createdDate": f"{created}-09-14", "expiredDate": f"{created + 1}-09-14",
                "nameservers": [f"ns1.{domain}", f"ns2.{domain}"]}

    # --- outreach ---------------------------------------------------------------------------------
    def email_tracking(self, request: Request) -> Response:
        """handlers/outreach/outreach.go GenerateEmailTrackingUrls."""
        body = self._body(request)
        if body is None:
            return self._fail(400, "Invalid request body")
        domain = str(body.get("trackerDomain") or TRACKING_HOST)
        base = domain if "://" in domain else f"https://{domain}"
        self._route_seq += 1
        message_id = str(body.get("messageId") or f"{zlib.crc32(repr(body).encode()):08x}{self._route_seq:056d}")
        token = f"{zlib.crc32((message_id + str(body.get('recipientId'))).encode()):08x}"
        answer: dict[str, Any] = {"status": "success", "trackingId": message_id}
        if body.get("trackOpens"):
            answer["trackingPixel"] = f"{base}/p/{token}"
        links = [link for link in body.get("links") or [] if isinstance(link, str)]
        if links:
            answer["trackedLinks"] = [{"original": link, "tracked": f"{base}/r/{token}{i}" if body.get("trackClicks")
                                       else link} for i, link in enumerate(links)]
        if body.get("generateUnsubscribeLink") and body.get("unsubscribeLink"):
            answer["unsubscribeLink"] = f"{base}/u/{token}"
        return json_response(answer)

    # --- mailstack --------------------------------------------------------------------------------
    def _check_domain_body(self, request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        body = self._body(request)
        if body is None:
            return None, self._fail(400, "Invalid request format")
        if not body.get("domain"):
            return None, self._fail(400, "Missing required field: domain")
        if not body.get("website"):
            return None, self._fail(400, "Missing required field: website")
        return body, None

    def register_domain(self, request: Request) -> Response:
        """handlers/mailstack/domain.go RegisterNewDomain (then configureDomain): 201 ``domain``."""
        body, refusal = self._check_domain_body(request)
        if refusal or body is None:
            return refusal or self._fail(400, "Invalid request format")
        domain = str(body["domain"]).lower()
        labels = domain.split(".")
        if len(labels) < 2:  # strings.Split(domain, ".")[1] panics; gin's recovery answers 500
            return Response(status=500, body=b"", content_type="text/plain")
        if labels[1] not in SUPPORTED_TLDS:
            return self._fail(406, "Domain TLD not supported")
        if domain in self.mail_domains or "taken" in labels[0]:
            return self._fail(409, "Domain already registered")
        if "premium" in labels[0]:
            return self._fail(406, "Premium domain names are not supported")
        record = self._domain_record(domain)
        self.mail_domains[domain] = {**record, "website": body["website"]}
        self.mailboxes.setdefault(domain, {})
        self.dns_records[domain] = [
            {"id": f"dns_{zlib.crc32(domain.encode()):08x}", "type": "MX", "name": "", "content": f"mx.{domain}"},
            {"id": f"dns_{zlib.crc32(domain.encode()) + 1:08x}", "type": "TXT", "name": "",
             "content": "v=spf1 -all"}]
        return self._ok(201, domain=record)

    def configure_domain(self, request: Request) -> Response:
        """handlers/mailstack/domain.go ConfigureDomain: 404 when not the tenant's domain."""
        body, refusal = self._check_domain_body(request)
        if refusal or body is None:
            return refusal or self._fail(400, "Invalid request format")
        domain = str(body["domain"]).lower()
        if domain not in self.mail_domains:
            return self._fail(404, "Resource not found")
        self.mail_domains[domain]["website"] = body["website"]
        return self._ok(201, domain=self._domain_record(domain))

    def get_domains(self, request: Request) -> Response:
        return self._ok(domains=[self._domain_record(d) for d in sorted(self.mail_domains)])

    def recommend_domains(self, request: Request) -> Response:
        """handlers/mailstack/domain.go RecommendDomain: ``baseName`` required (present, even empty)."""
        if "baseName" not in request.query:
            return self._fail(400, "must provide baseName parameter")
        base = re.sub(r"[^a-z0-9-]", "", (request.arg("baseName") or "").lower()) or "mail"
        names = [f"{prefix}{base}.{tld}" for prefix in ("get", "try", "hello", "meet") for tld in SUPPORTED_TLDS]
        return self._ok(domains=names[:20])

    def create_mailbox(self, request: Request) -> Response:
        """handlers/mailstack/mailbox.go RegisterNewMailbox."""
        domain = request.path_params["domain"].lower()
        body = self._body(request)
        if body is None:
            return self._fail(400, "Invalid request format")
        username = str(body.get("username") or "").strip()
        if not username:
            return self._fail(400, "Missing parameter: username")
        password = str(body.get("password") or "").strip()
        if not MAILBOX_USERNAME.match(username):
            return self._fail(400, "username is invalid")
        if domain not in self.mail_domains:
            return self._fail(404, "Domain not found")
        if username.lower() in self.mailboxes[domain]:
            return self._fail(409, "Username already exists")
        forwarding = [str(a) for a in body.get("forwardingTo") or []] + [f"bcc@{TENANT}.customeros.ai"]
        email = f"{username}@{domain}"
        record: dict[str, Any] = {"email": email, "forwardingEnabled": True, "forwardingTo": forwarding,
                  "webmailEnabled": bool(body.get("webmailEnabled"))}
        self.mailboxes[domain][username.lower()] = record
        answer = dict(record)
        if not password:  # the generated password is answered once, never stored for reads
            answer["password"] = "s" + f"{zlib.crc32(email.encode()):011d}"[:11]
        return self._ok(mailbox=answer)

    def get_mailboxes(self, request: Request) -> Response:
        """handlers/mailstack/mailbox.go GetMailboxes: no ownership check; ``mailboxes`` omitted when empty."""
        found = list(self.mailboxes.get(request.path_params["domain"].lower(), {}).values())
        return self._ok(200, **({"mailboxes": found} if found else {}))

    def _owned(self, request: Request, message: str) -> tuple[str, Response | None]:
        domain = request.path_params["domain"].lower()
        return domain, (None if domain in self.mail_domains else self._fail(404, message))

    def get_dns(self, request: Request) -> Response:
        """handlers/mailstack/dns.go DNS: ``dnsRecords`` (null when none; ``name`` is never filled)."""
        domain, refusal = self._owned(request, "Resource not found")
        if refusal:
            return refusal
        records = [{**r, "name": ""} for r in self.dns_records.get(domain, [])]
        return self._ok(dnsRecords=records or None)

    def add_dns(self, request: Request) -> Response:
        """handlers/mailstack/dns.go AddDNSRecord: 201 with the record as sent."""
        domain, refusal = self._owned(request, "domain not found")
        if refusal:
            return refusal
        body = self._body(request)
        if body is None:
            return self._fail(400, "unable to parse request")
        record = {key: str(body.get(key) or "") for key in ("id", "type", "name", "content")}
        self._route_seq += 1
        self.dns_records.setdefault(domain, []).append({**record, "id": f"dns_{self._route_seq:08x}"})
        return self._ok(201, dnsRecord=record)

    def delete_dns(self, request: Request) -> Response:
        """handlers/mailstack/dns.go DeleteDNSRecord: the route declares no ``:dnsId``, so the id is empty
        and the delete fails: 500 "unable to delete dns record" (404 first when not the tenant's domain)."""
        _, refusal = self._owned(request, "domain not found")
        return refusal or self._fail(500, "unable to delete dns record")

    # --- reveal -----------------------------------------------------------------------------------
    @staticmethod
    def _clean_domain(domain: str) -> str:
        value = domain.removeprefix("https://").removeprefix("http://").removeprefix("www.").strip("/")
        return f"https://{value}"

    def provision_tracker(self, request: Request) -> Response:
        """handlers/reveal_setup/provision_tracker.go ProvisionTracker: 200 ``tracker`` with ``code``."""
        body = self._body(request)
        if body is None:
            return self._fail(400, "Could not parse request")
        if not body.get("domain"):
            return self._fail(400, "domain not provided")
        origin = self._clean_domain(str(body["domain"]))
        self._route_seq += 1
        record = {"id": f"{zlib.crc32(origin.encode()):08x}-{self._route_seq:04d}", "domain": origin,
                  "createdAt": "2026-01-01T00:00:00Z"}
        self.trackers.setdefault(origin, record)
        snippet = f'<script data-customeros async src="{TRACKING_HOST}/reveal.js"></script>'
        return self._ok(tracker={**record, "code": snippet})

    def verify_tracker(self, request: Request) -> Response:
        """handlers/reveal_setup/verify_tracker.go VerifyTracker: ``status`` verified|unverified."""
        domain = request.arg("domain") or ""
        if not domain:
            return self._fail(400, "must provide domain")
        origin = self._clean_domain(domain)
        record = self.trackers.get(origin)
        if record is None:
            return self._fail(404, "domain not found")
        status = "verified" if origin.removeprefix("https://").startswith("verified.") else "unverified"
        return self._ok(tracker={**record, "status": status})

    # --- id ---------------------------------------------------------------------------------------
    def me(self, request: Request) -> Response:
        """handlers/me.go AuthorizeMe: ``MeResponse`` (BaseResponse and ``tenant``)."""
        return self._ok(tenant=TENANT)
