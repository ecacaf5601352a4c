"""The shopper's current sale-page visit, as the reserve ticket holds it (the Django session does not)."""

from __future__ import annotations

from reservations import tickets


def visit_of(client, session_id: int) -> dict:
    """``{"id": TransactionID, "at": entered_at}`` of the visit the client's ticket holds for the sale."""
    ticket = tickets.read_ticket(session_id, client.cookies["sessionid"].value)
    assert ticket is not None, "the shopper has no reserve ticket for this sale (open its page first)"
    return {"id": ticket.visit_txn, "at": ticket.entered_at}
