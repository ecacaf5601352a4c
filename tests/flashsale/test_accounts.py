import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse


@pytest.mark.django_db
def test_sign_up_logs_the_shopper_in(client, django_user_model):
    response = client.post(
        reverse("signup"),
        {
            "username": "ada",
            "email": "ada@example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
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
