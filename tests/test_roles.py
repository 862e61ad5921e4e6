"""Who may do what: analysts log rounds, editors also curate and import (DESIGN.md)."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command

from negotiations.roles import ANALYSTS, EDITORS

pytestmark = pytest.mark.django_db

ANALYSTS_AND_EDITORS_CAN = [
    "negotiations.add_round",
    "negotiations.change_round",
    "negotiations.publish_round",
    "negotiations.add_outcome",
    "negotiations.change_outcome",
    "negotiations.delete_outcome",
    "negotiations.add_position",
    "negotiations.change_position",
    "negotiations.delete_position",
    "negotiations.add_statement",
    "negotiations.change_statement",
    "negotiations.delete_statement",
    "negotiations.add_delegation",
    "negotiations.change_delegation",
    "negotiations.delete_delegation",
]
ONLY_EDITORS_CAN = [
    "negotiations.delete_round",
    "negotiations.change_issue",
    "negotiations.change_party",
    "negotiations.change_person",
    "negotiations.import_negotiation",
]


def setup_roles() -> str:
    out = StringIO()
    call_command("setup_roles", stdout=out)
    return out.getvalue()


def group_permissions() -> dict[str, set[str]]:
    return {
        group.name: {permission.codename for permission in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions")
    }


def fresh(user: User) -> User:
    """The user as a new request would load it, without a cached set of permissions."""
    return User.objects.get(pk=user.pk)


def test_setup_roles_creates_the_analysts_and_editors_groups():
    assert not Group.objects.exists()
    output = setup_roles()
    assert set(Group.objects.values_list("name", flat=True)) == {ANALYSTS, EDITORS}
    permissions = group_permissions()
    assert f"{ANALYSTS}: {len(permissions[ANALYSTS])} permissions" in output
    assert f"{EDITORS}: {len(permissions[EDITORS])} permissions" in output


def test_setup_roles_can_run_again_without_changing_anything():
    setup_roles()
    first = group_permissions()
    setup_roles()
    assert group_permissions() == first
    assert Group.objects.count() == 2


def test_setup_roles_restores_permissions_changed_by_hand():
    setup_roles()
    expected = group_permissions()
    analysts = Group.objects.get(name=ANALYSTS)
    analysts.permissions.add(Permission.objects.get(codename="delete_round"))
    analysts.permissions.remove(Permission.objects.get(codename="publish_round"))
    setup_roles()
    assert group_permissions() == expected


def test_editors_can_do_everything_analysts_can():
    setup_roles()
    permissions = group_permissions()
    assert permissions[ANALYSTS] < permissions[EDITORS]


@pytest.mark.parametrize("permission", ANALYSTS_AND_EDITORS_CAN)
def test_analyst_can_log_and_publish_rounds(users, permission):
    assert fresh(users["analyst"]).has_perm(permission)


@pytest.mark.parametrize("permission", ONLY_EDITORS_CAN)
def test_analyst_cannot_delete_rounds_curate_or_import(users, permission):
    assert not fresh(users["analyst"]).has_perm(permission)


@pytest.mark.parametrize("permission", ANALYSTS_AND_EDITORS_CAN + ONLY_EDITORS_CAN)
def test_editor_can_do_what_analysts_can_and_curate_and_import(users, permission):
    assert fresh(users["editor"]).has_perm(permission)


@pytest.mark.parametrize("permission", ANALYSTS_AND_EDITORS_CAN + ONLY_EDITORS_CAN)
def test_user_without_a_role_can_do_none_of_it(users, permission):
    assert not fresh(users["outsider"]).has_perm(permission)
