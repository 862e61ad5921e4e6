"""The admin, where editors curate everything, works for every model it shows."""

import datetime
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from negotiations import derived
from negotiations.models import Person, Round, Source
from tests.factories import IssueFactory, NegotiationFactory, OutcomeFactory, RoundFactory

pytestmark = pytest.mark.django_db


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def demo():
    call_command("load_demo", stdout=StringIO())


@pytest.fixture
def admin_client(client, users):
    client.force_login(users["admin"])
    return client


def registered_models():
    """Every model in the admin, so that a newly registered model is covered too; the
    sign-in records (django-axes) are read-only logs, checked below."""
    for model in admin.site._registry:
        if model._meta.app_label != "axes":
            yield pytest.param(model, id=model._meta.label)


def test_superuser_sees_failed_sign_ins_in_the_admin(admin_client):
    User.objects.create_user("olga-signs-in", password="olgas-password-1922")
    Client().post("/accounts/login/", {"username": "olga-signs-in", "password": "wrong"})
    page = admin_client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    assert "olga-signs-in" in page.content.decode()
    for log in ("accesslog", "accessfailurelog"):
        assert admin_client.get(f"/admin/axes/{log}/").status_code == 200


@pytest.mark.parametrize("model", list(registered_models()))
def test_superuser_can_open_every_admin_page_of_every_model(model, admin_client, demo):
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the demo data has no {model._meta.label}"

    for url in (admin_url(model, "changelist"), admin_url(model, "add")):
        assert admin_client.get(url).status_code == 200, url

    change = admin_client.get(admin_url(model, "change", obj.pk))
    assert change.status_code == 200
    assert change.context["original"] == obj

    history = admin_client.get(admin_url(model, "history", obj.pk))
    assert history.status_code == 200
    assert history.context["object"] == obj


@pytest.mark.parametrize(
    ("model", "query", "found"),
    [
        (Round, "Antalya", {"Foreign ministers in Antalya"}),
        (Person, "Medinskiy", {"Vladimir Medinsky"}),  # an alias; the name is “Medinsky”
        (
            Source,
            "Babel",
            {
                "The Ukrainian delegation handed over a draft agreement to Russia",
                "Negotiations between Ukraine and Russia have ended: what was agreed upon",
            },
        ),
    ],
)
def test_changelist_search_finds_the_matching_rows(model, query, found, admin_client, demo):
    response = admin_client.get(admin_url(model, "changelist"), {"q": query})
    assert response.status_code == 200
    assert {str(obj) for obj in response.context["cl"].result_list} == found
    assert model.objects.count() > len(found)


def test_round_change_page_shows_the_parts_of_the_round_as_inlines(admin_client, demo):
    round_ = Round.objects.get(title="Foreign ministers in Antalya")
    response = admin_client.get(admin_url(Round, "change", round_.pk))
    assert response.status_code == 200
    html = response.content.decode()
    parts = {
        "roundhost_set": round_.hosts.count(),
        "roundcitation_set": round_.sources.count(),
        "delegations": round_.delegations.count(),
        "outcomes": round_.outcomes.count(),
        "positions": round_.positions.count(),
        "statements": round_.statements.count(),
    }
    prefixes = [inline.formset.prefix for inline in response.context["inline_admin_formsets"]]
    assert prefixes == list(parts)
    for prefix, count in parts.items():
        assert count > 0, f"the demo round has no {prefix}"
        assert f'id="{prefix}-heading"' in html
        assert f'name="{prefix}-INITIAL_FORMS" value="{count}"' in html


def test_publish_action_publishes_selected_drafts_and_records_why(admin_client, users):
    negotiation = NegotiationFactory()
    first, second, untouched = RoundFactory.create_batch(
        3, negotiation=negotiation, published=False
    )
    already = RoundFactory(negotiation=negotiation, published=True)

    response = admin_client.post(
        admin_url(Round, "changelist"),
        {"action": "publish", ACTION_CHECKBOX_NAME: [first.pk, second.pk, already.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "2 round(s) published." in response.content.decode()
    for round_ in (first, second):
        round_.refresh_from_db()
        assert round_.published
        latest = round_.history.latest()
        assert latest.published
        assert latest.history_change_reason == "Published"
        assert latest.history_user == users["admin"]
    untouched.refresh_from_db()
    assert not untouched.published
    assert already.history.count() == 1, "a published round is left as it was"


def test_editor_can_open_the_round_changelist(client, users):
    client.force_login(users["editor"])
    response = client.get(admin_url(Round, "changelist"))
    assert response.status_code == 200


def test_analyst_without_staff_status_is_sent_to_the_admin_login(client, users):
    client.force_login(users["analyst"])
    url = admin_url(Round, "changelist")
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('admin:login')}?next={url}"


def test_round_changelist_queries_do_not_grow_with_the_number_of_rounds(
    admin_client, django_assert_max_num_queries
):
    negotiation = NegotiationFactory()
    RoundFactory.create_batch(10, negotiation=negotiation)
    url = admin_url(Round, "changelist")
    with CaptureQueriesContext(connection) as ten_rounds:
        assert admin_client.get(url).status_code == 200

    RoundFactory.create_batch(50, negotiation=negotiation)
    with django_assert_max_num_queries(len(ten_rounds)):
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 60


def change_form_data(page) -> dict:
    """What saving an admin change page unchanged would POST: the object's form, and each
    inline's management form and rows."""
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            value = field.value()
            if isinstance(value, list | tuple):
                data[field.html_name] = [str(v) for v in value]
            elif value is True:
                data[field.html_name] = "on"
            elif value is not None and value is not False:
                data[field.html_name] = str(value)
    return data


def test_saving_a_round_in_the_admin_works_out_each_issue_once(admin_client, monkeypatch):
    day = datetime.date(2022, 3, 1)
    round_ = RoundFactory(number=2, status="held", start_date=day, end_date=day)
    earlier = RoundFactory(
        negotiation=round_.negotiation, number=1, status="held", start_date=day, end_date=day
    )
    first, second = IssueFactory.create_batch(2, negotiation=round_.negotiation)
    OutcomeFactory(round=earlier, issue=first, status="raised")
    for issue in (first, second):
        OutcomeFactory(round=round_, issue=issue, status="raised")
    calls = []
    real = derived.refresh_moves
    monkeypatch.setattr(
        derived, "refresh_moves", lambda issues: (calls.append(set(issues)), real(issues))
    )
    url = admin_url(Round, "change", round_.pk)
    data = change_form_data(admin_client.get(url))
    rows = sorted(key for key in data if key.startswith("outcomes-") and key.endswith("-status"))
    assert len(rows) == 2
    for key in rows:
        data[key] = "agreed"

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert calls == [{first.pk, second.pk}], "one pass for both rows, not one per row"
    assert set(round_.outcomes.values_list("status", "move")) == {("agreed", 2), ("agreed", 1)}
