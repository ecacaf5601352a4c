"""The waiting room's admission as the shopper sees it: how long their turn lasts, and coming back after it lapsed."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from reservations.admission import check_admission
from reservations.shopper import ShopperSession
from reservations.waiting_room import enter_waiting_room, set_admission_rate
from tests.support.passes import give_pass


def _admit(shopper, sale, clock):
    """Pass the CAPTCHA and take the waiting room's way in, as the CAPTCHA view does."""
    give_pass(shopper, sale.id, now=clock.now(), admitted=False)
    response = shopper.get(reverse("reservations-waiting", args=[sale.id]))
    assert response.status_code == 303 and response["Location"] == reverse("reservations-sale", args=[sale.id])


def _pass_admits(shopper, sale, clock) -> bool:
    admission = ShopperSession(shopper.session).admission_pass(sale.id)
    return check_admission(admission, shopper.user.pk, sale.id, now=clock.now().timestamp())


def test_the_sale_page_says_how_long_the_turn_lasts_and_counts_it_down(shopper, load_sale, clock, settings):
    settings.FLASHSALE_ADMISSION_PASS_SECONDS = 300
    sale = load_sale(quantities=[5])
    _admit(shopper, sale, clock)
    clock.advance(seconds=61)

    html = shopper.get(reverse("reservations-sale", args=[sale.id])).content.decode()

    assert "Your turn to reserve lasts 5 minutes:" in html
    until = clock.now().timestamp() - 61 + 300
    assert f'data-pass-until="{until:f}"' in html
    assert f'data-countdown="{until:f}" data-reload="1">3 min 59 s</span> left' in html


def test_a_shopper_whose_turn_lapsed_comes_straight_back_when_nobody_queues(shopper, load_sale, clock, settings):
    """No admission rate: the next click leads through the waiting room straight back to the sale page."""
    settings.FLASHSALE_ADMISSION_PASS_SECONDS = 300
    sale = load_sale(quantities=[5], limit=2)
    _admit(shopper, sale, clock)
    clock.advance(seconds=301)
    assert not _pass_admits(shopper, sale, clock)
    reserve = reverse("reservations-reserve", args=[sale.id, sale.item.pk])
    waiting = reverse("reservations-waiting", args=[sale.id])

    shopper.get(reverse("reservations-sale", args=[sale.id]))
    click = shopper.post(reserve, {"quantity": "1"})
    assert (click.status_code, click["Location"]) == (303, waiting)
    back = shopper.get(waiting)
    # Admitted again on that very visit: no waiting page is shown.
    assert (back.status_code, back["Location"]) == (303, reverse("reservations-sale", args=[sale.id]))
    assert _pass_admits(shopper, sale, clock)
    assert "Your turn to reserve lasts 5 minutes" in shopper.get(back["Location"]).content.decode()
    assert shopper.post(reserve, {"quantity": "1"}).status_code == 303


def test_a_shopper_whose_turn_lapsed_queues_at_the_back_when_a_rate_is_set(shopper, load_sale, clock, settings):
    settings.FLASHSALE_ADMISSION_PASS_SECONDS = 300
    sale = load_sale(quantities=[5])
    _admit(shopper, sale, clock)
    set_admission_rate(sale.id, 0.5, now=clock.now().timestamp())
    clock.advance(seconds=301)
    now = clock.now().timestamp()
    for other in (9001, 9002):  # the bucket's tokens go to those in front
        enter_waiting_room(sale.id, other, now=now)

    waiting = shopper.get(reverse("reservations-waiting", args=[sale.id]))

    assert waiting.status_code == 200 and "You are in the queue." in waiting.content.decode()
    assert not _pass_admits(shopper, sale, clock)
    clock.advance(seconds=10)  # 0.5 a second: the two in front and then her
    status = shopper.get(reverse("reservations-waiting-status", args=[sale.id])).json()
    assert status["state"] == "admitted" and status["next_url"] == reverse("reservations-sale", args=[sale.id])
    assert _pass_admits(shopper, sale, clock)


def test_at_the_very_second_a_turn_lapses_the_waiting_room_never_hands_out_a_void_pass(
    shopper, load_sale, clock, settings
):
    """The pass expires at whole seconds (rounded down): the room's record of the admission must lapse with it."""
    settings.FLASHSALE_ADMISSION_PASS_SECONDS = 300
    sale = load_sale(quantities=[5])
    clock.advance(seconds=0.6)  # admitted at a fractional instant
    _admit(shopper, sale, clock)
    admitted_at = clock.now().timestamp()
    clock.set(clock.now().replace(microsecond=0) + timedelta(seconds=300))  # floor(admitted_at + 300)
    assert clock.now().timestamp() < admitted_at + 300 and not _pass_admits(shopper, sale, clock)

    back = shopper.get(reverse("reservations-waiting", args=[sale.id]))

    assert back.status_code == 303
    # A new admission, not the lapsed one: the pass it hands out admits now.
    assert _pass_admits(shopper, sale, clock)
