"""What a shopper's browser collects before a reserve request goes through, written into a test
client's server-side session."""

from __future__ import annotations


def give_pass(client, session_id: int, *, now, admitted: bool = True) -> None:
    """What solving the CAPTCHA grants, written into the client's server-side session, and (unless
    ``admitted`` is False) the waiting room's admission pass that lets reserve requests through."""
    from flashsale.clock import as_timestamp
    from reservations.admission import pass_for_admission
    from reservations.shopper import ShopperSession

    store = client.session
    shopper = ShopperSession(store)
    shopper.grant_captcha_pass(session_id, now=as_timestamp(now))
    if admitted:
        admission = pass_for_admission(shopper.user_id, session_id, admitted_at=as_timestamp(now))
        shopper.store_admission_pass(session_id, admission)
    store.save()
