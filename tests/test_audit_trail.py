"""The audit trail is append-only for everyone but the database's owner: no page or admin
screen edits or deletes a history record, and analysts cannot reach the admin at all."""

import pytest
from django.apps import apps
from django.contrib import admin

from negotiations.models import Round

from .factories import RoundFactory

pytestmark = pytest.mark.django_db

HISTORIES = [
    model
    for model in apps.get_app_config("negotiations").get_models()
    if model.__name__.startswith("Historical")
]


def test_every_model_keeps_history():
    models = [m for m in apps.get_app_config("negotiations").get_models() if m not in HISTORIES]
    assert {f"Historical{m.__name__}" for m in models} == {h.__name__ for h in HISTORIES}


@pytest.mark.parametrize("history", HISTORIES, ids=lambda m: m.__name__)
def test_no_history_model_is_in_the_admin(history):
    assert not admin.site.is_registered(history)


@pytest.mark.parametrize("role", ["analyst", "editor"])
def test_no_role_holds_a_permission_on_history_records(users, role):
    user = users[role]
    for history in HISTORIES:
        name = history._meta.model_name
        for action in ("add", "change", "delete"):
            assert not user.has_perm(f"negotiations.{action}_{name}")


def test_an_analyst_cannot_reach_the_admin(client, users):
    client.force_login(users["analyst"])
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_deleting_a_round_adds_a_record_and_keeps_the_old_ones():
    round_ = RoundFactory(title="First title")
    round_.title = "Second title"
    round_.save()
    before = list(Round.history.filter(id=round_.pk).values_list("history_id", "title"))
    pk = round_.pk
    round_.delete()
    after = list(Round.history.filter(id=pk).order_by("history_date"))
    assert [(r.history_id, r.title) for r in after[:-1]] == sorted(before)
    assert after[-1].history_type == "-"
