"""The mails a shopper gets: reservation made, payment confirmed, refund made, "it is your turn".

None is sent on a shopper's request. Each is queued to Celery once the database has committed what
it tells (``transaction.on_commit``): the reservation mail by the drainer after its batch, the
receipt after the payment webhook's write, the refund mail after the compensation's. Sending is
idempotent: a ``SentMail`` row per (kind, subject) is written in the same transaction as the send,
so a task run twice (Celery retries, a drainer re-reading its batch) sends each mail once. A
reservation that is no longer held, or a shopper without an e-mail address, gets nothing.

Mail goes through Django's backend as ``EMAIL_URL`` configures it (the console in development).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from flashsale import clock
from flashsale.context_processors import SITE_NAME
from plans.models import SaleSession
from reservations.checkout import checkout_url
from reservations.models import SentMail, Transaction
from reservations.states import ReservationStatus

log = logging.getLogger(__name__)

Kind = SentMail.Kind


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def site_url(path: str) -> str:
    """An absolute link to a page of the site (mails are read outside it)."""
    return f"{settings.FLASHSALE_SITE_URL}{path}"


def local_time(when: datetime) -> str:
    """An instant in the site's time zone, named: '2026-11-30 10:15 (Europe/Paris)'."""
    return f"{timezone.localtime(when):%Y-%m-%d %H:%M} ({settings.TIME_ZONE})"


def deliver_once(kind: str, key: str, build: Callable[[], Mail | None]) -> bool:
    """Send the mail ``build`` makes unless one of this kind and key was sent; True if sent now.

    The record and the send share one transaction: a failed send leaves no record (the task's
    retry sends it), a second task finds the record and sends nothing.
    """
    if SentMail.objects.filter(kind=kind, key=key).exists():
        return False
    mail = build()
    if mail is None:
        return False
    try:
        with transaction.atomic():
            SentMail.objects.create(kind=kind, key=key, to=mail.to, sent_at=clock.now())
            EmailMessage(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [mail.to]).send()
    except IntegrityError:
        return False  # another run of the task sent it meanwhile
    log.info("mail %s %s sent to %s", kind, key, mail.to)
    return True


def _context(**values) -> dict:
    return {"site_name": SITE_NAME, "mine_url": site_url(reverse("reservations-mine")), **values}


def _transaction(txn_id: str) -> Transaction | None:
    return Transaction.objects.select_related("user", "item__product", "session").filter(txn_id=txn_id).first()


# --- the mails ---------------------------------------------------------------------------------


def reservation_mail(txn_id: str) -> Mail | None:
    """What was reserved, the link to pay and the deadline; nothing once the hold has ended."""
    txn = _transaction(txn_id)
    if txn is None or not txn.user.email or txn.status != ReservationStatus.RESERVED:
        return None
    if txn.expires_at <= clock.now():
        return None
    context = _context(
        txn=txn,
        product=txn.item.product.name,
        pay_url=checkout_url(txn.token) if txn.token else site_url(reverse("reservations-mine")),
        deadline=local_time(txn.expires_at),
    )
    return Mail(
        to=txn.user.email,
        subject=f"Reserved: {txn.item.product.name}. Pay by {local_time(txn.expires_at)}",
        body=render_to_string("mail/reservation_made.txt", context),
    )


def payment_mail(txn_id: str) -> Mail | None:
    """The receipt of a confirmed payment."""
    txn = _transaction(txn_id)
    if txn is None or not txn.user.email or txn.status != ReservationStatus.PAID:
        return None
    paid_at = local_time(txn.paid_at) if txn.paid_at else ""
    context = _context(txn=txn, product=txn.item.product.name, paid_at=paid_at)
    return Mail(
        to=txn.user.email,
        subject=f"Payment confirmed: {txn.item.product.name}",
        body=render_to_string("mail/payment_confirmed.txt", context),
    )


def refund_mail(txn_id: str, amount: str, currency: str) -> Mail | None:
    """The refund of a payment the shopper keeps no units for (or of a paid one): what went back, as refunded."""
    txn = _transaction(txn_id)
    if txn is None or not txn.user.email or txn.status != ReservationStatus.REFUNDED:
        return None
    context = _context(txn=txn, product=txn.item.product.name, amount=amount, currency=currency)
    return Mail(
        to=txn.user.email,
        subject=f"Refund made: {amount} {currency} for {txn.item.product.name}",
        body=render_to_string("mail/refund_made.txt", context),
    )


def turn_mail(session_id: int, user_id: int, admitted_at: float) -> Mail | None:
    """The waiting room let the shopper in: go and reserve before the turn ends."""
    user = get_user_model().objects.filter(pk=user_id).first()
    session = SaleSession.objects.filter(pk=session_id).first()
    if user is None or session is None or not user.email:
        return None
    until = datetime.fromtimestamp(admitted_at + settings.FLASHSALE_ADMISSION_PASS_SECONDS, tz=UTC)
    if until <= clock.now():
        return None
    context = _context(
        session=session,
        sale_url=site_url(reverse("reservations-sale", args=[session_id])),
        minutes=settings.FLASHSALE_ADMISSION_PASS_SECONDS // 60,
        until=local_time(until),
    )
    return Mail(
        to=user.email,
        subject=f"It is your turn in {session.name}",
        body=render_to_string("mail/your_turn.txt", context),
    )


def send_reservation_mails(txn_ids: Iterable[str]) -> int:
    return sum(deliver_once(Kind.RESERVED, txn_id, partial(reservation_mail, txn_id)) for txn_id in txn_ids)


def send_payment_mail(txn_id: str) -> bool:
    return deliver_once(Kind.PAID, txn_id, lambda: payment_mail(txn_id))


def send_refund_mail(txn_id: str, amount: str, currency: str) -> bool:
    return deliver_once(Kind.REFUNDED, txn_id, lambda: refund_mail(txn_id, amount, currency))


def send_turn_mails(session_id: int, turns: Iterable[tuple[int, float]]) -> int:
    return sum(
        deliver_once(Kind.TURN, f"{session_id}:{user}:{at!r}", partial(turn_mail, session_id, user, at))
        for user, at in turns
    )


# --- queueing, once the database has committed -------------------------------------------------


def _queue(task_name: str, *args) -> None:
    from reservations import tasks

    try:
        getattr(tasks, task_name).apply_async(args=args)
    except Exception:
        # This runs after the commit: nothing here may fail the caller (the drainer would exit, a
        # webhook answer 500). What the mail tells is committed and shown on "My reservations"; only
        # the mail is lost. Not only BrokerUnavailable: after a frozen broker, kombu's pooled channel
        # can be left without its connection and publish raises AttributeError (seen in the fault
        # suite: it killed the drainer).
        log.exception("could not queue %s%s", task_name, args)


def after_commit(task_name: str, *args) -> None:
    """Queue the task ``reservations.tasks.<task_name>`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _queue(task_name, *args))
