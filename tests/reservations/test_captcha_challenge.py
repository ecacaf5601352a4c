"""The CAPTCHA as a shopper meets it: readable, with audio, a new picture on demand, an expired challenge
said apart from a wrong answer, and answered in place on the sale page."""

from __future__ import annotations

import io
import re
import shutil
from datetime import timedelta

import pytest
from captcha.conf import settings as captcha_settings
from captcha.models import CaptchaStore
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from reservations.captcha_form import EXPIRED, WRONG


def _challenge(client, url: str) -> tuple[str, str]:
    """(hash key, page HTML) of the challenge ``url`` shows."""
    html = client.get(url).content.decode()
    return re.search(r'name="captcha_0" value="([0-9a-f]+)"', html).group(1), html


def _answer(client, url: str, key: str, answer: str):
    return client.post(url, {"captcha_0": key, "captcha_1": answer})


@pytest.fixture
def captcha_url(load_sale):
    sale = load_sale(quantities=[3])
    return reverse("reservations-captcha", args=[sale.id])


def test_an_answer_to_an_expired_challenge_says_so_and_brings_a_new_one(shopper, captcha_url):
    key, _ = _challenge(shopper, captcha_url)
    store = CaptchaStore.objects.get(hashkey=key)
    CaptchaStore.objects.filter(hashkey=key).update(expiration=timezone.now() - timedelta(seconds=1))

    response = _answer(shopper, captcha_url, key, store.response)

    html = response.content.decode()
    assert response.status_code == 400 and EXPIRED in html and WRONG not in html
    new_key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', html).group(1)
    assert new_key != key and CaptchaStore.objects.filter(hashkey=new_key, expiration__gt=timezone.now()).exists()


def test_a_wrong_answer_says_so_and_an_answer_cannot_be_used_twice(shopper, captcha_url):
    key, _ = _challenge(shopper, captcha_url)
    right = CaptchaStore.objects.get(hashkey=key).response
    wrong = _answer(shopper, captcha_url, key, "nope")
    assert wrong.status_code == 400 and WRONG in wrong.content.decode()
    # The challenge was spent by the wrong answer: the right one now reads as expired, not as a pass.
    again = _answer(shopper, captcha_url, key, right)
    assert again.status_code == 400 and EXPIRED in again.content.decode()


def _picture_size(client, key: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(client.get(reverse("captcha-image", kwargs={"key": key})).content)).size


def test_the_picture_is_big_enough_to_read_and_described(shopper, captcha_url, monkeypatch):
    key, html = _challenge(shopper, captcha_url)
    assert 'alt="captcha"' not in html and 'alt="A picture of the characters to type.' in html
    width, height = _picture_size(shopper, key)
    # The picture's width follows its characters (81-176 px: "IIII" to "WWWW"), so it is compared
    # with the same challenge drawn at the library's default size (22 px: about 80 x 29 pixels).
    # The page shows it 72 px high, with a 2x version for sharp screens.
    monkeypatch.setattr(captcha_settings, "CAPTCHA_FONT_SIZE", 22)  # the library reads its own module
    default_width, default_height = _picture_size(shopper, key)
    assert height >= 50 and height >= 1.5 * default_height, (height, default_height)
    assert width >= 1.5 * default_width, (width, default_width)
    assert f'srcset="{reverse("captcha-image-2x", kwargs={"key": key})} 2x"' in html
    # A new picture on demand, and before this one expires (the script reads when).
    assert "data-captcha-refresh" in html and f'data-captcha-expires-in="{5 * 60}"' in html


@pytest.mark.skipif(shutil.which("flite") is None, reason="no flite (apt-get install flite)")
def test_the_challenge_can_be_heard(shopper, captcha_url, settings, monkeypatch):
    monkeypatch.setattr("captcha.conf.settings.CAPTCHA_FLITE_PATH", shutil.which("flite"))
    key, html = _challenge(shopper, captcha_url)
    audio = reverse("captcha-audio", kwargs={"key": key})
    assert f'href="{audio}"' in html and ">Listen</a>" in html
    response = shopper.get(audio)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    assert body[:4] == b"RIFF" and len(body) > 10_000


def test_without_flite_no_audio_is_offered(shopper, captcha_url, monkeypatch):
    monkeypatch.setattr("captcha.conf.settings.CAPTCHA_FLITE_PATH", None)
    _, html = _challenge(shopper, captcha_url)
    assert "Listen" not in html and "captcha-audio" not in html


def test_the_sale_page_posts_the_form_and_stays_on_the_page(shopper, captcha_url):
    """The inline form: a wrong answer comes back as the form alone, a right one as where to go next."""
    fragment = captcha_url + "?fragment=1"
    key, html = _challenge(shopper, fragment)
    assert html.lstrip().startswith("{#") is False and "<form" in html and "<html" not in html

    wrong = _answer(shopper, fragment, key, "nope")
    assert wrong.status_code == 400 and "<html" not in wrong.content.decode()
    assert WRONG in wrong.content.decode()

    key, _ = _challenge(shopper, fragment)
    right = _answer(shopper, fragment, key, CaptchaStore.objects.get(hashkey=key).response)
    assert right.status_code == 200 and right["Content-Type"] == "application/json"
    # Where the 303 would have gone: the sale page (admitted at once, no rate set).
    assert right.json() == {"next": captcha_url.replace("captcha/", "")}
