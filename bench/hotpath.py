"""The one place the bench knows the interfaces of the site's own code (reservations, plans).

Every other bench module calls these functions, so a change in the product's interfaces is
followed here. ``Unavailable`` says a piece the bench needs does not exist (yet): the figures that
depend on it are reported as null with the reason.
"""

from __future__ import annotations

import importlib

from django.urls import NoReverseMatch, Resolver404, resolve, reverse

# Passes outlive the whole run (the site's defaults are minutes).
PASS_SECONDS = 3 * 3600
# Where every bench shopper is (the sale page sorts items by distance from here): Paris.
SHOPPER_LATITUDE = 48.8566
SHOPPER_LONGITUDE = 2.3522


class Unavailable(Exception):
    """A product interface the bench needs is missing; ``reason`` goes into the report."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _import(module: str, name: str):
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise Unavailable(f"{module}.{name} is missing ({exc})") from exc


def load_session(session) -> None:
    _import("plans.loading", "load_session_into_redis")(session)


def unload_session(session_id: int) -> None:
    _import("plans.loading", "unload_session")(session_id)


def session_keys(session_id: int) -> list[str]:
    """The names of every Redis key of the loaded session."""
    return _import("plans.loading", "session_keys")(session_id)


def shopper_session_preparer():
    """A function filling a shopper's session as if they had opened the sale pages, passed the
    CAPTCHA and been admitted by the waiting room.

    ``prepare(store, user_id=..., session_key=..., sale_session_ids=..., latitude=..., longitude=...)``
    puts a CAPTCHA pass, an admission pass and a TransactionID for each sale session, and the
    shopper's location, into ``store`` (any mutable mapping holding the session's data, its auth
    keys already set: the ticket names the user from them). It returns
    the reserve tickets a visit of each sale page would have written, for ``store_tickets``.
    """
    from flashsale import clock

    ShopperSession = _import("reservations.shopper", "ShopperSession")
    issue_admission_pass = _import("reservations.admission", "issue_admission_pass")

    def prepare(
        store, *, user_id: int, session_key: str, sale_session_ids: list[int], latitude: float, longitude: float
    ) -> list[tuple]:
        now = clock.now_ts()
        shopper = ShopperSession(store)
        shopper.remember_location(latitude=latitude, longitude=longitude, name="Bench", source="device")
        written = []
        for session_id in sale_session_ids:
            shopper.grant_captcha_pass(session_id, now=now, seconds=PASS_SECONDS)
            shopper.store_admission_pass(
                session_id, issue_admission_pass(user_id, session_id, expires_at=now + PASS_SECONDS)
            )
            visit = _import("reservations.shopper", "new_visit")(now=now)
            written.append((session_id, session_key, shopper.ticket(session_id, now=now, visit=visit)))
        return written

    return prepare


def store_tickets(entries: list[tuple], *, client=None) -> None:
    """Write the reserve tickets ``prepare`` returned (nothing when the site has no tickets)."""
    if entries:
        _import("reservations.tickets", "store_tickets")(entries, client=client)


def new_ticket(user_id: int, *, now: float):
    """A reserve ticket of a fresh sale-page visit, its CAPTCHA passed (no admission pass)."""
    return _import("reservations.tickets", "Ticket")(
        user_id=user_id,
        captcha_until=now + PASS_SECONDS,
        admitted_until=0,
        visit_txn=str(_import("ulid", "ULID")()),
        entered_at=now,
        latitude=SHOPPER_LATITUDE,
        longitude=SHOPPER_LONGITUDE,
    )


def ticket_holder(session_key: str):
    """The shopper of a click on the site: named by their reserve ticket (no waiting room)."""
    return _import("reservations.holds", "TicketHolder")(session_key=session_key, require_admission=False)


def known_shopper(user_id: int, txn_id: str):
    """A shopper the caller names with their TransactionID (the session fallback, tools)."""
    return _import("reservations.holds", "KnownShopper")(
        user_id=user_id, txn_id=txn_id, latitude=SHOPPER_LATITUDE, longitude=SHOPPER_LONGITUDE
    )


def reserve_one(session_id: int, item_id: int, shopper, *, now: float, client=None):
    """One unit reserved through ``reservations.holds.reserve`` as the reserve view calls it: the
    rate limits are counted inside the same script."""
    return _import("reservations.holds", "reserve")(
        _import("reservations.holds", "ReserveRequest")(
            session_id=session_id,
            item_id=item_id,
            quantity=1,
            now=now,
            shopper=shopper,
            client_ip="127.0.0.1",
            rate_limits=_import("reservations.holds", "reserve_rate_limits")(),
        ),
        client=client,
    )


def _served(path: str) -> str:
    try:
        resolve(path)
    except Resolver404 as exc:
        raise Unavailable(f"no view answers {path} yet") from exc
    return path


def reserve_path(session_id: int, item_id: int) -> str:
    try:
        return reverse("reservations-reserve", kwargs={"session_id": session_id, "item_id": item_id})
    except NoReverseMatch:
        return _served(f"/sessions/{session_id}/items/{item_id}/reserve/")


def sale_page_path(session_id: int) -> str:
    try:
        return reverse("reservations-sale", kwargs={"session_id": session_id})
    except NoReverseMatch:
        return _served(f"/sessions/{session_id}/")


def stock_poll_path(session_id: int) -> str:
    try:
        return reverse("reservations-stock", kwargs={"session_id": session_id})
    except NoReverseMatch:
        return _served(f"/sessions/{session_id}/stock.json")


def reserve_form_body() -> str:
    return "quantity=1"


def reserve_chosen_path(session_id: int) -> str:
    """The sale page's one form: the pressed button names the item."""
    return reverse("reservations-reserve-chosen", kwargs={"session_id": session_id})


def reserve_chosen_body(item_id: int) -> str:
    return f"item={item_id}&q{item_id}=1"


# Placeholders the decision-engine run replaces with redis-benchmark's ``__rand_int__``.
ENGINE_USER_MARK = 987654321
ENGINE_TXN_MARK = "BENCHENGINETXNMARK"
RAND = "__rand_int__"


class _RecordingClient:
    """Passes every call to the real client and keeps the EVALSHA line the reserve function sent."""

    def __init__(self, client):
        self._client = client
        self.evalsha_calls: list[tuple] = []

    def evalsha(self, sha, numkeys, *args):
        self.evalsha_calls.append((sha, numkeys, *args))
        return self._client.evalsha(sha, numkeys, *args)

    def __getattr__(self, name):
        return getattr(self._client, name)


def engine_command(session_id: int, item_id: int, *, now: float) -> list[str]:
    """The reserve script's EVALSHA command line with the user and TransactionID randomised.

    It is taken from one real call of ``reserve_units`` (made for a marker user), so it follows
    the script's KEYS/ARGV layout whatever it becomes.
    """
    recorder = _RecordingClient(sale_redis())
    reserve_one(session_id, item_id, known_shopper(ENGINE_USER_MARK, ENGINE_TXN_MARK), now=now, client=recorder)
    if not recorder.evalsha_calls:
        raise Unavailable("reservations.holds.reserve did not call EVALSHA")
    sha, numkeys, *args = recorder.evalsha_calls[-1]
    line = ["EVALSHA", _text(sha), str(numkeys)]
    for arg in args:
        text = _text(arg).replace(ENGINE_TXN_MARK, "T" + RAND * 3).replace(str(ENGINE_USER_MARK), RAND)
        line.append(text)
    return line


def sale_redis():
    return _import("flashsale.store.client", "sale_redis")()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
