"""Sign-in throttling (django-axes): five failed sign-ins for one username from one address
pause that pair for fifteen minutes, on the site's sign-in page and the admin's."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db

HOME = "10.0.0.1"
ELSEWHERE = "10.0.0.2"


@pytest.fixture
def anna(db):
    return User.objects.create_user("anna", password="right-password-1922", is_staff=True)


def sign_in(client, password, *, username="anna", address=HOME, path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, times, **where):
    for attempt in range(1, times + 1):
        response = sign_in(client, "wrong", **where)
        # The form again with its error; the fifth failure itself pauses sign-in.
        assert response.status_code == (429 if attempt == 5 else 200)


def test_four_failures_still_let_the_right_password_in(client, anna):
    fail(client, 4)
    response = sign_in(client, "right-password-1922")
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="anna").exists()  # reset on success


def test_the_fifth_failure_pauses_sign_in_even_with_the_right_password(client, anna):
    fail(client, 4)
    response = sign_in(client, "wrong")
    assert response.status_code == 429
    assert "Sign-in paused" in response.content.decode()
    response = sign_in(client, "right-password-1922")
    assert response.status_code == 429
    html = response.content.decode()
    assert "paused for 15 minutes" in html
    assert "_auth_user_id" not in client.session


def test_the_pause_is_for_that_username_from_that_address_only(client, anna):
    User.objects.create_user("ben", password="bens-password-1922")
    fail(client, 5)
    assert sign_in(client, "right-password-1922", address=ELSEWHERE).status_code == 302
    client.logout()
    assert sign_in(client, "bens-password-1922", username="ben").status_code == 302


def test_the_admin_sign_in_is_throttled_too(client, anna):
    fail(client, 5, path="/admin/login/?next=/admin/")
    response = sign_in(client, "right-password-1922", path="/admin/login/?next=/admin/")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_sign_in_opens_again_after_the_cool_off(client, anna):
    fail(client, 5)
    assert sign_in(client, "right-password-1922").status_code == 429
    attempt = AccessAttempt.objects.get(username="anna")
    attempt.attempt_time = attempt.attempt_time.replace(year=attempt.attempt_time.year - 1)
    attempt.save()
    assert sign_in(client, "right-password-1922").status_code == 302


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/?next=/admin/"])
def test_a_username_longer_than_any_account_is_a_form_error_and_records_no_attempt(
    client, anna, path
):
    response = sign_in(client, "wrong", username="ü" * 300, path=path)
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("next_", ["anna", "log/", "https://elsewhere.example/", "//evil"])
def test_after_sign_in_a_next_that_is_not_a_path_here_leads_to_the_default_page(
    client, anna, next_
):
    response = client.post(
        "/accounts/login/",
        {"username": "anna", "password": "right-password-1922", "next": next_},
        REMOTE_ADDR=HOME,
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_after_sign_in_a_path_here_is_followed(client, anna):
    response = client.post(
        "/accounts/login/",
        {"username": "anna", "password": "right-password-1922", "next": "/log/"},
        REMOTE_ADDR=HOME,
    )
    assert response["Location"] == "/log/"
