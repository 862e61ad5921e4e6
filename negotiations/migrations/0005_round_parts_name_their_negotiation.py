"""Hosts and delegations carry their round's negotiation and whether it is published
(see models.InRound): filled in from the rounds, then required."""

import django.db.models.deletion
from django.db import migrations, models


def fill_in(apps, schema_editor):
    Round = apps.get_model("negotiations", "Round")
    for name in ("Delegation", "RoundHost"):
        model = apps.get_model("negotiations", name)
        of_round = Round.objects.filter(pk=models.OuterRef("round"))
        model.objects.update(
            negotiation=models.Subquery(of_round.values("negotiation")[:1]),
            published=models.Subquery(of_round.values("published")[:1]),
        )


def negotiation(null: bool):
    return models.ForeignKey(
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.CASCADE,
        related_name="+",
        to="negotiations.negotiation",
    )


def negotiation_in_history():
    return models.ForeignKey(
        blank=True,
        db_constraint=False,
        editable=False,
        null=True,
        on_delete=django.db.models.deletion.DO_NOTHING,
        related_name="+",
        to="negotiations.negotiation",
    )


def published():
    return models.BooleanField(default=False, editable=False)


class Migration(migrations.Migration):
    dependencies = [
        ("negotiations", "0004_web_links_only"),
    ]

    operations = [
        *(
            op
            for model in ("delegation", "roundhost")
            for op in (
                migrations.AddField(model_name=model, name="negotiation", field=negotiation(True)),
                migrations.AddField(model_name=model, name="published", field=published()),
                migrations.AddField(
                    model_name=f"historical{model}",
                    name="negotiation",
                    field=negotiation_in_history(),
                ),
                migrations.AddField(
                    model_name=f"historical{model}", name="published", field=published()
                ),
            )
        ),
        migrations.RunPython(fill_in, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(model_name="delegation", name="negotiation", field=negotiation(False)),
        migrations.AlterField(model_name="roundhost", name="negotiation", field=negotiation(False)),
        migrations.AddIndex(
            model_name="delegation",
            index=models.Index(
                fields=["negotiation", "published", "party"], name="delegation_taking_part"
            ),
        ),
        migrations.AddIndex(
            model_name="roundhost",
            index=models.Index(
                fields=["negotiation", "published", "party"], name="roundhost_taking_part"
            ),
        ),
    ]
