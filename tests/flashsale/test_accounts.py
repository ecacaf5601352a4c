import re

import pytest
from captcha.models import CaptchaStore
from django.contrib.auth import SESSION_KEY
from django.urls import reverse


def solved_captcha(client) -> dict[str, str]:
    """The sign-up form's CAPTCHA fields, solved with the answer the store keeps (as a human would type it)."""
    page = client.get(reverse("signup"))
    hashkey = re.search(r'name="captcha_0" value="([0-9a-f]+)"', page.content.decode()).group(1)
    return {"captcha_0": hashkey, "captcha_1": CaptchaStore.objects.get(hashkey=hashkey).response}


@pytest.mark.django_db
def test_sign_up_logs_the_shopper_in(client, django_user_model):
    response = client.post(
        reverse("signup"),
        {
            "username": "ada",
            "email": "ada@example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
            **solved_captcha(client),
        },
    )
    assert response.status_code == 302
    user = django_user_model.objects.get(username="ada")
    assert client.session[SESSION_KEY] == str(user.pk)
    page = client.get(reverse("home"))
    assert b"ada" in page.content and b"Log out" in page.content


@pytest.mark.django_db
def test_sign_up_with_mismatched_passwords_shows_the_error(client, django_user_model):
    response = client.post(
        reverse("signup"), {"username": "bob", "password1": "a-long-pass-phrase", "password2": "different-phrase"}
    )
    assert response.status_code == 200
    assert b"The two password fields" in response.content
    assert not django_user_model.objects.filter(username="bob").exists()


@pytest.mark.django_db
def test_sign_up_without_the_captcha_creates_nobody(client, django_user_model):
    """Fresh accounts would bypass the per-user purchase limits: each costs a solved CAPTCHA."""
    fields = {"username": "bot-1", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"}
    missing = client.post(reverse("signup"), fields)
    wrong = client.post(reverse("signup"), {**fields, **solved_captcha(client), "captcha_1": "wrong"})
    assert missing.status_code == wrong.status_code == 200
    assert b"errorlist" in missing.content and b"Invalid CAPTCHA" in wrong.content
    assert not django_user_model.objects.filter(username="bot-1").exists()


def test_log_in_and_log_out(client, make_user):
    make_user("carol", password="another-long-phrase")
    response = client.post(reverse("login"), {"username": "carol", "password": "another-long-phrase"})
    assert response.status_code == 302
    assert SESSION_KEY in client.session
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    assert b"Log in" in client.get(reverse("home")).content


def test_wrong_password_is_refused(client, make_user):
    make_user("dave", password="right-long-phrase")
    response = client.post(reverse("login"), {"username": "dave", "password": "wrong"})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_logout_needs_post_with_csrf(make_user):
    from django.test import Client

    make_user("erin", password="erins-long-phrase")
    strict = Client(enforce_csrf_checks=True)
    assert strict.login(username="erin", password="erins-long-phrase")
    assert strict.post(reverse("logout")).status_code == 403
    assert SESSION_KEY in strict.session


def test_logged_in_page_view_runs_no_sql(client, make_user, django_assert_num_queries):
    user = make_user("frank")
    client.force_login(user)
    client.get(reverse("home"))  # warms the user cache
    with django_assert_num_queries(0):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"frank" in response.content


def test_password_change_invalidates_cached_user_sessions(client, make_user):
    user = make_user("gina")
    client.force_login(user)
    assert b"gina" in client.get(reverse("home")).content
    user.set_password("a-new-long-phrase")
    user.save()
    assert b"Log in" in client.get(reverse("home")).content


def test_a_password_change_ends_the_other_sessions_even_on_the_no_sql_path(make_user):
    """The reserve path reads the user id from the session without re-checking the password hash;
    that is safe because changing the password deletes the user's sessions."""
    from django.test import Client

    from flashsale.auth import session_user_id

    user = make_user("hana", password="first-long-phrase")
    attacker, owner = Client(), Client()
    assert attacker.login(username="hana", password="first-long-phrase")
    assert owner.login(username="hana", password="first-long-phrase")
    stolen_key = attacker.cookies["sessionid"].value
    assert session_user_id(_request_with(stolen_key)) == user.pk

    user.set_password("second-long-phrase")
    user.save()

    assert session_user_id(_request_with(stolen_key)) is None
    assert b"Log in" in attacker.get(reverse("home")).content


def _request_with(session_key: str):
    from importlib import import_module

    from django.conf import settings
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return request


def test_changing_ones_own_password_keeps_this_session(make_user, client):
    user = make_user("ivan", password="first-long-phrase", is_staff=True)
    client.force_login(user)
    response = client.post(
        reverse("admin:password_change"),
        {
            "old_password": "first-long-phrase",
            "new_password1": "x-second-phrase-9",
            "new_password2": "x-second-phrase-9",
        },
    )
    assert response.status_code == 302
    assert b"ivan" in client.get(reverse("home")).content  # still logged in, on a fresh session key
