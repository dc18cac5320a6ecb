"""Contract tests of the CustomerOS sandbox's billing route (issue 22), driven with plain ``requests``."""

from __future__ import annotations

ORG = "00000000-0000-4000-8000-000000000007"


def test_organization_invoices_answer_the_invoices_response(cos):
    """customeros/customeros packages/server/customer-os-api/server/routes.go (registerInvoiceRoutes:
    ``GET /billing/v1/organizations/:id/invoices``), rest/billing/invoice.go (404 "Organization not
    found"), rest/billing/model.go (``InvoicesResponse``: ``status``, ``message``, ``invoices``)."""
    body = cos("GET", f"/billing/v1/organizations/{ORG}/invoices").json()
    assert body["status"] == "success" and body["invoices"]
    assert set(body["invoices"][0]) == {"id", "number", "dueDate", "invoiceStatus", "amount", "currency",
                                        "paymentLink", "publicUrl"}
    missing = cos("GET", "/billing/v1/organizations/00000000-0000-4000-8000-999999999999/invoices")
    assert missing.status_code == 404
    assert missing.json() == {"status": "error", "message": "Organization not found"}
