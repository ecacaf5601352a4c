"""The Redis key layout of the sale data: one function per key.

Every key of one session carries the hash tag ``{s:ID}``, so each Lua script touches one
cluster slot and sessions spread over Redis Cluster shards. Nothing else in the code base
formats these names.

Layout (``ID`` = SaleSession.pk, ``I`` = SaleItem.pk, ``U`` = user id, ``T`` = TransactionID):

- ``session(ID)``      hash   id, name, starts_at, ends_at (epoch seconds, float), state, loaded_at,
                              stock_version (bumped by every script or job that changes any item's
                              stock list, so the stock poll's snapshots are ordered; a hash
                              written afresh starts from the wall clock in microseconds, so a
                              rebuilt session's versions stay above the lost ones)
- ``items(ID)``        zset   item ids scored by display order
- ``item(ID, I)``      hash   display data: name, description, image_url, place, latitude, longitude,
                              sale_price, list_price, currency, per_user_limit, product_id; and a copy of the
                              session's starts_at, ends_at, state (written with the session hash, in one
                              transaction: the reserve script reads them with the item's own fields)
- ``geo(ID)``          geo    item ids at their product's location
- ``stock(ID, I)``     list   one element per unit still on sale ("<I>:<n>", unique per unit)
- ``counts(ID, I)``    hash   allocated, adjusted, held, paid, returned, rejected_sold_out,
                              rejected_limit, rejected_rate_limited, rejected_closed
- ``user(ID, U)``      hash   item id -> units the user holds or has paid in this session; ``rate`` =
                              "<window>:<attempts>", the user's fixed reserve rate window; ``t:<T>`` -> item id
                              for each of the user's reservations (their page; ``USER_TXN_FIELD``). Only digit
                              fields are items (``flashsale.store.replies.item_counts``, ``user_txn_ids``)
- ``txn(ID, T)``       hash   user, item, units (JSON list), quantity, amount, currency, status, expires_at,
                              placed (reserved_at|entered_at|latitude|longitude|kid, reservations/txns.py), paid_at;
                              ``txn`` (= T) only in hashes written before issue 15 or rebuilt from PostgreSQL
- ``user_txns(ID, U)`` set    TransactionIDs of the user's reservations, as releases before issue 15 wrote them
                              (now ``t:<T>`` fields of the user hash); still read, no longer written
- ``rate_window(ID, scope, W, who)`` string reserve attempts of one IP in window W (TTL = window); the
                              per-user window lives in the user hash (keys of scope ``user`` are no longer
                              written and expire with their window)
- ``ticket(ID, K)``    hash   what a reserve request needs from one browser session (K = a digest of its
                              session key): user, captcha_until, admitted_until, visit (the sale-page
                              visit's TransactionID), entered_at, lat, lon (reservations/tickets.py)
- ``holds(ID)``        zset   TransactionID -> expiry (epoch seconds) of unpaid holds
- ``stream(ID)``       stream reservation events for the drainer: ``reserved`` = T from the reserve script, ``type``,
                              ``txn`` and the txn hash from release and pay (reservations/drain.py)
- ``drain_lock(ID)``   string held (with a TTL) by the one drainer persisting this session's stream
- ``loaded(ID)``       hash   item id -> units loaded (makes loading idempotent); also the highest unit
                              number issued for the item, so units added later continue the numbering
- ``stamp(ID)``        string which database's session this is: the SaleSession row's creation instant
                              (written first by a load; another database's session with the same id differs)
- ``timeline(ID)``     hash   minute bucket (epoch // 60) -> reservations made in that minute (counted by
                              the drainer as it persists them, off the hot path)
- ``sessions_index()`` zset   session id -> starts_at for the home page (no hash tag: not used by Lua)
- ``waiting(ID)``      hash   waiting room state: rate (admissions/s, "0" = all at once), paused, last
                              (token-bucket instant), tokens, shuffled, opened_at, pre_version, seq,
                              sold_out, joined, admitted, dropped, released (see reservations/waiting_room.py)
- ``waiting_pre(ID)``  zset   user id -> arrival time, the pre-queue before the opening shuffle
- ``waiting_queue(ID)`` zset  user id -> queue position score (shuffled early arrivals first, then later ones)
- ``waiting_admitted(ID)`` zset user id -> admission instant (dropped once the admission pass has expired)
- ``waiting_seen(ID)`` zset   user id -> last poll of a waiting shopper (idle ones are dropped)
- ``waiting_turns(ID)`` list  "user:admission instant" of shoppers admitted while another shopper's visit
                              ran the queue: their "it is your turn" mail is due (reservations/mails.py)
- ``funnel(ID, step)`` HLL    distinct users who reached a step of the sale: visitors, verified (reservations/funnel.py)
- ``audit(ID)``        string JSON of the latest stock audit report (reservations/audit.py)
- ``audit_lock(ID)``   string held while an audit repair runs, so two repairs never both apply
- ``audit_alerts()``   zset   session id -> checked_at of sessions whose latest audit found drift (no hash tag)
- ``webhook_event(E)`` string a payment webhook event id already handled (TTL; replays are refused)
- ``payment_result(T)`` hash  state (paid, paid_after_expiry, amount_mismatch, cancelled, refunded, unknown)
                              and user of a payment the webhook handled (TTL; the shopper's return page reads it)
- ``payment_intent(T)`` string the provider's payment (Stripe PaymentIntent id) made for TransactionID T by
                              our pay page, or ``creating`` while one request makes it (TTL; never a second one)
- ``beat_heartbeat()`` string epoch seconds of beat's last heartbeat task (default Redis, TTL; readiness
                              reads its age, flashsale/readiness.py)

The reserve script learns the user and the TransactionID from a ticket, inside Redis, so it forms
``user`` and ``txn`` itself: ``reserve_prefixes(ID)``
gives it their names up to the id it appends (all in the session's slot). The stock poll's script
(``stock_levels.lua``) likewise gets ``stock(ID, "")`` and ``user(ID, "")`` and appends item and user ids.

``session_pattern(ID)`` is the SCAN pattern matching every key of a session (unloading, expiry).

``counts`` may also hold ``returning`` (units that left ``held``/``paid`` on their way back to the list
but are not pushed yet; absent = 0). An audit repair restores ``list + held + paid + returning ==
allocated + adjusted`` without changing either side's totals, so it writes no counter; it is
recorded as an Adjustment whose reason starts with "audit repair:" (excluded from ``adjusted``).
"""

from __future__ import annotations

PREFIX = "fs"


def tag(session_id: int) -> str:
    return f"{PREFIX}:{{s:{session_id}}}"


def session(session_id: int) -> str:
    return f"{tag(session_id)}:session"


def items(session_id: int) -> str:
    return f"{tag(session_id)}:items"


def item(session_id: int, item_id: int) -> str:
    return f"{tag(session_id)}:item:{item_id}"


def geo(session_id: int) -> str:
    return f"{tag(session_id)}:geo"


def stock(session_id: int, item_id: Id) -> str:
    return f"{tag(session_id)}:stock:{item_id}"


def counts(session_id: int, item_id: int) -> str:
    return f"{tag(session_id)}:counts:{item_id}"


Id = int | str  # an id, or "" for the prefix a script completes with the id (see reserve_prefixes)


def user(session_id: int, user_id: Id) -> str:
    return f"{tag(session_id)}:user:{user_id}"


def txn(session_id: int, txn_id: str) -> str:
    return f"{tag(session_id)}:txn:{txn_id}"


def user_txns(session_id: int, user_id: Id) -> str:
    return f"{tag(session_id)}:user_txns:{user_id}"


def rate_window(session_id: int, scope: str, who: str, window: int) -> str:
    """A fixed rate-limit window of reserve attempts; ``scope`` is ``user`` or ``ip``."""
    return f"{tag(session_id)}:rate:{scope}:{window}:{who}"


def ticket(session_id: int, ticket_id: str) -> str:
    return f"{tag(session_id)}:ticket:{ticket_id}"


def reserve_prefixes(session_id: int) -> tuple[str, str]:
    """``user`` and ``txn`` without their last part.

    Each is the key function's own result with an empty id, so the names cannot drift apart.
    """
    return user(session_id, ""), txn(session_id, "")


# A user hash field naming one of the user's reservations: "t:<TransactionID>" -> item id
# (reserve.lua writes it with the same prefix).
USER_TXN_FIELD = "t:"


def user_txn_field(txn_id: str) -> str:
    return f"{USER_TXN_FIELD}{txn_id}"


def holds(session_id: int) -> str:
    return f"{tag(session_id)}:holds"


def stream(session_id: int) -> str:
    return f"{tag(session_id)}:stream"


def drain_lock(session_id: int) -> str:
    return f"{tag(session_id)}:drain_lock"


def loaded(session_id: int) -> str:
    return f"{tag(session_id)}:loaded"


def stamp(session_id: int) -> str:
    return f"{tag(session_id)}:stamp"


def timeline(session_id: int) -> str:
    return f"{tag(session_id)}:timeline"


def session_pattern(session_id: int) -> str:
    # Braces are literal in Redis glob patterns, so the tag matches itself.
    return f"{tag(session_id)}:*"


def sessions_index() -> str:
    return f"{PREFIX}:sessions"


def waiting(session_id: int) -> str:
    return f"{tag(session_id)}:waiting"


def waiting_pre(session_id: int) -> str:
    return f"{tag(session_id)}:waiting:pre"


def waiting_queue(session_id: int) -> str:
    return f"{tag(session_id)}:waiting:queue"


def waiting_admitted(session_id: int) -> str:
    return f"{tag(session_id)}:waiting:admitted"


def waiting_seen(session_id: int) -> str:
    return f"{tag(session_id)}:waiting:seen"


def waiting_turns(session_id: int) -> str:
    return f"{tag(session_id)}:waiting:turns"


def funnel(session_id: int, step: str) -> str:
    return f"{tag(session_id)}:funnel:{step}"


def audit(session_id: int) -> str:
    return f"{tag(session_id)}:audit"


def audit_lock(session_id: int) -> str:
    return f"{tag(session_id)}:audit:lock"


def audit_alerts() -> str:
    return f"{PREFIX}:audit:alerts"


def webhook_event(event_id: str) -> str:
    return f"{PREFIX}:webhook:event:{event_id}"


def payment_result(txn_id: str) -> str:
    return f"{PREFIX}:payment:{txn_id}"


def payment_intent(txn_id: str) -> str:
    return f"{PREFIX}:payment:intent:{txn_id}"


def beat_heartbeat() -> str:
    return f"{PREFIX}:beat:heartbeat"
