"""Who may do what: the Analysts and Editors groups and their permissions (DESIGN.md)."""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from . import models

ANALYSTS = "Analysts"
EDITORS = "Editors"

# The parts of a round an analyst writes, and removes while editing the round.
ROUND_PARTS = [
    models.RoundHost,
    models.Delegation,
    models.DelegationMember,
    models.Outcome,
    models.Position,
    models.Statement,
    models.RoundCitation,
    models.OutcomeCitation,
    models.PositionCitation,
    models.StatementCitation,
]
CURATED = [models.Negotiation, models.Issue, models.Party, models.Person]


def _codenames(model, actions) -> list[tuple[type, str]]:
    return [(model, f"{action}_{model._meta.model_name}") for action in actions]


def role_permissions() -> dict[str, list[tuple[type, str]]]:
    analyst = [
        *_codenames(models.Round, ["add", "change", "view"]),
        (models.Round, "publish_round"),
        *_codenames(models.Source, ["add", "change", "view"]),
        *[
            p
            for model in ROUND_PARTS
            for p in _codenames(model, ["add", "change", "delete", "view"])
        ],
        *[p for model in CURATED for p in _codenames(model, ["view"])],
        (models.Person, "add_person"),  # a new speaker can be added while logging a round
    ]
    every_action = ["add", "change", "delete", "view"]
    editor = [
        *analyst,
        *_codenames(models.Round, ["delete"]),
        *_codenames(models.Source, ["delete"]),
        *[p for model in CURATED for p in _codenames(model, every_action)],
        (models.Negotiation, "import_negotiation"),
        (models.Round, "restore_round"),
    ]
    return {ANALYSTS: analyst, EDITORS: editor}


def setup_roles() -> dict[str, int]:
    """Create or update the groups so that they hold exactly their permissions."""
    counts = {}
    for name, wanted in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [
            Permission.objects.get(
                content_type=ContentType.objects.get_for_model(model), codename=codename
            )
            for model, codename in dict.fromkeys(wanted)
        ]
        group.permissions.set(permissions)
        counts[name] = len(permissions)
    return counts
