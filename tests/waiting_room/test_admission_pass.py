"""Admission passes are bound to one user and one session, expire, and cannot be forged."""

from __future__ import annotations

import pytest

from reservations.admission import check_admission, issue_admission_pass, pass_for_admission
from reservations.shopper import ADMISSION_PASSES_FIELD, ShopperSession

NOW = 1_800_000_000.0


def test_a_pass_admits_its_user_to_its_session_until_it_expires():
    admission_pass = issue_admission_pass(7, 3, expires_at=NOW + 60)
    assert check_admission(admission_pass, 7, 3, now=NOW)
    assert check_admission(admission_pass, 7, 3, now=NOW + 59)
    assert not check_admission(admission_pass, 7, 3, now=NOW + 60)


def test_a_pass_is_not_transferable_to_another_user_or_session():
    admission_pass = issue_admission_pass(7, 3, expires_at=NOW + 60)
    assert not check_admission(admission_pass, 8, 3, now=NOW)
    assert not check_admission(admission_pass, 7, 4, now=NOW)
    assert not check_admission(admission_pass, None, 3, now=NOW)


@pytest.mark.parametrize(
    "forge",
    [
        lambda p: p.replace(".7.", ".8.", 1),  # another user, same MAC
        lambda p: p.replace(".3.", ".4.", 1),  # another session, same MAC
        lambda p: ".".join([*p.split(".")[:3], str(int(p.split(".")[3]) + 3600), p.split(".")[4]]),  # longer life
        lambda p: p[:-2] + ("AA" if not p.endswith("AA") else "BB"),  # tampered MAC
        lambda p: p.rsplit(".", 1)[0] + ".",  # no MAC
        lambda p: "a0" + p[2:],  # unknown version
        lambda p: "",
        lambda p: "garbage",
    ],
)
def test_a_forged_pass_is_refused(forge):
    admission_pass = issue_admission_pass(7, 3, expires_at=NOW + 60)
    assert not check_admission(forge(admission_pass), 7, 3, now=NOW)
    assert not check_admission(forge(admission_pass), 8, 3, now=NOW)
    assert not check_admission(forge(admission_pass), 7, 4, now=NOW)


def test_a_pass_signed_with_another_secret_is_refused(settings):
    admission_pass = issue_admission_pass(7, 3, expires_at=NOW + 60)
    settings.SECRET_KEY = "another-secret-entirely-" * 3
    assert not check_admission(admission_pass, 7, 3, now=NOW)


def test_rotating_the_secret_keeps_recent_passes_valid(settings):
    old_secret = settings.SECRET_KEY
    admission_pass = issue_admission_pass(7, 3, expires_at=NOW + 60)
    settings.SECRET_KEY = "the-new-secret-after-rotation-" * 2
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    assert check_admission(admission_pass, 7, 3, now=NOW)


def test_passes_live_in_the_shoppers_session_one_per_sale(settings):
    settings.FLASHSALE_ADMISSION_PASS_SECONDS = 120
    request_session: dict = {}
    shopper = ShopperSession(request_session)
    shopper.store_admission_pass(3, pass_for_admission(7, 3, admitted_at=NOW))
    shopper.store_admission_pass(5, pass_for_admission(7, 5, admitted_at=NOW))
    assert set(request_session[ADMISSION_PASSES_FIELD]) == {"3", "5"}
    assert check_admission(shopper.admission_pass(3), 7, 3, now=NOW + 119)
    assert check_admission(shopper.admission_pass(5), 7, 5, now=NOW)
    assert not check_admission(shopper.admission_pass(3), 7, 3, now=NOW + 120)
    assert not check_admission(shopper.admission_pass(4), 7, 4, now=NOW)
    assert not check_admission(shopper.admission_pass(3), 8, 3, now=NOW)
    assert not check_admission(ShopperSession({}).admission_pass(3), 7, 3, now=NOW)


def test_the_same_admission_always_earns_the_same_pass():
    assert pass_for_admission(7, 3, admitted_at=NOW) == pass_for_admission(7, 3, admitted_at=NOW)
