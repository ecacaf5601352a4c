"""The CAPTCHA a shopper solves once per sale: a picture big enough to read, audio, a new picture on demand.

django-simple-captcha keeps each challenge ``CAPTCHA_TIMEOUT`` minutes and answers "Invalid CAPTCHA"
for an expired one as for a wrong one. Here an answer to a challenge that has expired (or was
already used) says so, and every answer, right or wrong, brings a new picture. The sale page's
script asks for a new picture before the one shown expires (``expires_in``), so a page opened long
before the rush never offers a stale challenge. The audio challenge needs Debian's ``flite``
(``CAPTCHA_FLITE_PATH``, found on ``PATH`` by default); without it the audio is not offered.
"""

from __future__ import annotations

from typing import Any

from captcha.conf import settings as captcha_settings
from captcha.fields import CaptchaField, CaptchaTextInput
from captcha.models import CaptchaStore
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

EXPIRED = "That picture has expired. Here is a new one: type its characters."
WRONG = "Those characters do not match the picture. Here is a new one: try again."


class ChallengeWidget(CaptchaTextInput):
    """The picture (and its double-resolution version), the audio, the refresh link and the answer box."""

    template_name = "reservations/captcha_challenge.html"  # in the app: the form renderer reads apps' templates

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context.update(
            image_2x=reverse("captcha-image-2x", kwargs={"key": self._key})
            if captcha_settings.CAPTCHA_2X_IMAGE
            else "",
            refresh_url=self.refresh_url(),
            # Seconds until this challenge expires; the script asks for a new one a little before.
            expires_in=int(captcha_settings.CAPTCHA_TIMEOUT) * 60,
        )
        return context


class ExpiringCaptchaField(CaptchaField):
    """A CAPTCHA that tells an expired (or already used) challenge from a wrong answer."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("widget", ChallengeWidget())
        kwargs.setdefault("error_messages", {"invalid": WRONG})
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        key = value[0] if isinstance(value, list | tuple) and value else ""
        answer = (value[1] if isinstance(value, list | tuple) and len(value) > 1 else "") or ""
        passes_in_test_mode = captcha_settings.CAPTCHA_TEST_MODE and answer.strip().lower() == "passed"
        # Before the library's own check, which deletes expired challenges and would only say "invalid".
        if key and answer.strip() and not passes_in_test_mode and not _still_valid(key):
            raise ValidationError(EXPIRED, code="expired")
        return super().clean(value)


def _still_valid(key: str) -> bool:
    return CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now()).exists()


class CaptchaForm(forms.Form):
    captcha = ExpiringCaptchaField(label="Type the characters you see")
